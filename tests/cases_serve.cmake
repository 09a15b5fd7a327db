# A served cluster (issue 12): pdask-mpi serve and its clients. Each case
# starts its own cluster on a free loopback port, with HOME in a
# temporary directory (the per-user token), and ends every process it
# started. SERIAL: the fairness case times flows.
foreach(case basic token stale build garbage killed shutdown encrypted
             address)
  pd_script(serve.${case} SCRIPT serve.sh PASS "serve ${case} ok" TIMEOUT 240
    ARGS ${case} $<TARGET_FILE:pdask-mpi> ${CMAKE_CURRENT_BINARY_DIR}/flows
         ${PROJECT_BINARY_DIR}/examples)
endforeach()
pd_script(serve.fair SCRIPT serve.sh PASS "serve fair ok" TIMEOUT 240 SERIAL
  ARGS fair $<TARGET_FILE:pdask-mpi> ${CMAKE_CURRENT_BINARY_DIR}/flows
       ${PROJECT_BINARY_DIR}/examples)
# The served cluster as a SLURM job, a flow from another job (root only).
add_test(NAME slurm.serve
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/slurm_serve.sh
                 $<TARGET_FILE:pdask-mpi> ${CMAKE_CURRENT_BINARY_DIR}/flows
                 ${PROJECT_BINARY_DIR}/examples)
set_tests_properties(slurm.serve PROPERTIES LABELS slurm TIMEOUT 400
                     RUN_SERIAL TRUE SKIP_RETURN_CODE 77)
