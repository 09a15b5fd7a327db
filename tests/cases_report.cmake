# The HTML performance report (--report): its content after a failing run,
# from the INI key and after SIGTERM; a bad path; the page in a real
# headless browser (label browser: needs chromium, skipped without it).
pd_script(mpi.report SCRIPT report.sh PASS "report ok"
  ARGS $<TARGET_FILE:pdask-mpi> ${CMAKE_CURRENT_BINARY_DIR}/flows
       ${PROJECT_BINARY_DIR}/examples)
pd_expect(bad.report_path LABEL mpi NP 2 RC 2
  ARGS --report /nonexistent/dir/run.html ${PROJECT_BINARY_DIR}/examples/count_to.so
  HAS "error: report file /nonexistent/dir/run.html: No such file or directory; give a path in a directory you can write"
  HASNOT "Beginning flow run")
add_test(NAME browser.report
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/report_browser.sh
                 $<TARGET_FILE:pdask-mpi> ${CMAKE_CURRENT_BINARY_DIR}/flows
                 ${PROJECT_BINARY_DIR}/bench/flows)
set_tests_properties(browser.report PROPERTIES LABELS browser TIMEOUT 180
                     PROCESSORS 2 SKIP_RETURN_CODE 77
                     PASS_REGULAR_EXPRESSION "browser report ok"
                     ENVIRONMENT "${PDASK_TEST_ENV};MPIEXEC_PREFLAGS=${MPIEXEC_PREFLAGS}")
