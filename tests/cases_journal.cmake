# The resume journal and the grace period (issue 13, points 3 and 4).
# Included at the end of tests/CMakeLists.txt, after pd_script.

# The journal without MPI: keys, records, retry, refusals.
pd_unit(journal)

# Resume, --retry-failed, kill -9 of the job and resume, torn tail,
# refused journals.
pd_script(mpi.journal SCRIPT journal.sh PASS "journal ok" TIMEOUT 240
  ARGS $<TARGET_FILE:pdask-mpi> ${CMAKE_CURRENT_BINARY_DIR}/flows)
# SIGINT/SIGTERM with a grace period (temporary cluster and mpirun), a
# second signal, and the job's end time (PDASK_JOB_END_TIME) then resume.
pd_script(mpi.grace SCRIPT grace.sh PASS "grace ok" SERIAL TIMEOUT 240
  ARGS $<TARGET_FILE:pdask-mpi> ${CMAKE_CURRENT_BINARY_DIR}/flows)

# Bad settings of both: one message, exit 2, before any work.
set(F ${CMAKE_CURRENT_BINARY_DIR}/flows)
pd_expect(config.grace_negative LABEL mpi NP 2 RC 2
  ARGS --grace-period -1 ${F}/journal.so
  MATCH "error: --grace-period: grace_period = -1 must be above 0 seconds"
  NOMATCH "Beginning flow run")
pd_expect(config.retry_failed_range LABEL mpi NP 2 RC 2
  ARGS --set task_runner.retry_failed=2 ${F}/journal.so
  MATCH "retry_failed = 2 is above its maximum 1; give 0 to 1"
  NOMATCH "Beginning flow run")
pd_expect(journal.directory LABEL mpi NP 2 RC 2
  ARGS --journal ${CMAKE_CURRENT_BINARY_DIR} ${F}/journal.so
  MATCH "error: journal .*: cannot use it [(]SQLite: .*[)]; check the path"
  NOMATCH "Beginning flow run")

# The journal's writer thread under ThreadSanitizer: a run that records,
# then one that takes everything from the journal (a new journal each
# time the test runs).
if(PDASK_TSAN)
  set(_j ${CMAKE_CURRENT_BINARY_DIR}/tsan-journal.pdj)
  set(_run ${PDASK_TSAN_LAUNCHER} ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG}
      3 ${MPIEXEC_PREFLAGS} $<TARGET_FILE:pdask-mpi-tsan> --journal ${_j}
      ${F}/journal.so n=200 out=${_j}.out)
  list(JOIN _run " " _run)
  add_test(NAME tsan.journal
           COMMAND bash -c "rm -f ${_j} ${_j}-wal ${_j}.out; ${_run}; ${_run}")
  set_tests_properties(tsan.journal PROPERTIES LABELS tsan TIMEOUT 180
    ENVIRONMENT "${PDASK_TEST_ENV};${TSAN_ENV}"
    PASS_REGULAR_EXPRESSION "; 401 from the journal"
    FAIL_REGULAR_EXPRESSION "WARNING: ThreadSanitizer")
endif()
