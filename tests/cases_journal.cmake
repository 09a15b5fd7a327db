# The resume journal and the grace period (issue 13, points 3 and 4).
# Included at the end of tests/CMakeLists.txt, after pd_script.

# Resume, --retry-failed, kill -9 of the job and resume, torn tail,
# refused journals.
pd_script(mpi.journal SCRIPT journal.sh PASS "journal ok" TIMEOUT 240
  ARGS $<TARGET_FILE:pdask-mpi> ${CMAKE_CURRENT_BINARY_DIR}/flows)
