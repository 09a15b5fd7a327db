# A served cluster (issue 12): pdask-mpi serve and its clients. Each case
# starts its own cluster on a free loopback port, with HOME in a
# temporary directory (the per-user token), and ends every process it
# started. SERIAL: the fairness case times flows.
foreach(case basic token stale build garbage killed shutdown encrypted
             address crash names intruder journal)
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

# --- bad command lines and addresses: one message, exit 2, no hang ---
set(_ex ${PROJECT_BINARY_DIR}/examples)
pd_expect(serve.shutdown_no_serve LABEL unit NOMPI RC 2
  ARGS --shutdown ${_ex}/count_to.so
  MATCH "error: --shutdown belongs to serve: pdask-mpi serve --shutdown")
pd_expect(serve.flow_given LABEL unit NOMPI RC 2
  ARGS serve ${_ex}/count_to.so
  MATCH "error: serve takes no FLOW.so [(]'.*count_to.so'[)]: clients bring their own")
pd_expect(serve.shutdown_which LABEL unit NOMPI RC 2 ARGS serve --shutdown
  MATCH "error: serve --shutdown: which cluster[?] give --scheduler-file")
pd_expect(serve.alone LABEL mpi NP 1 RC 2 ARGS serve
  MATCH "error: pdask-mpi serve runs on the ranks of a job: mpirun -n N")
pd_expect(serve.bad_listen LABEL mpi NP 2 RC 2 MAX_SECONDS 30
  ARGS serve --listen http://x:1
  MATCH "error: address 'http://x:1': write tcp://HOST:PORT")
pd_expect(serve.no_file LABEL unit NOMPI RC 2
  ARGS --scheduler-file /nonexistent/sched.json ${_ex}/count_to.so
  MATCH "error: scheduler file /nonexistent/sched.json: No such file or directory; is pdask-mpi serve running")
pd_expect(serve.unreachable LABEL unit NOMPI RC 2 MAX_SECONDS 20
  ARGS --address tcp://127.0.0.1:1 ${_ex}/count_to.so
  MATCH "error: cannot connect to the cluster at tcp://127.0.0.1:1: Connection refused; is pdask-mpi serve running there[?]")
pd_expect(serve.bad_address LABEL unit NOMPI RC 2
  ARGS --address 127.0.0.1:8786 ${_ex}/count_to.so
  MATCH "error: address '127.0.0.1:8786': write tcp://HOST:PORT")

# The tsan tier: a served cluster and two clients, all ThreadSanitizer
# builds (tsan.cmake's options; any report fails).
if(TARGET pdask-mpi-tsan)
  add_test(NAME tsan.serve
           COMMAND ${PDASK_TSAN_LAUNCHER} bash ${CMAKE_CURRENT_SOURCE_DIR}/serve.sh
                   tsan $<TARGET_FILE:pdask-mpi-tsan>
                   ${CMAKE_CURRENT_BINARY_DIR}/flows ${PROJECT_BINARY_DIR}/examples)
  set_tests_properties(tsan.serve PROPERTIES LABELS tsan TIMEOUT 300
                       PASS_REGULAR_EXPRESSION "serve tsan ok"
                       ENVIRONMENT "${PDASK_TEST_ENV};${TSAN_ENV};MPIEXEC_PREFLAGS=${MPIEXEC_PREFLAGS}")
endif()
pd_expect(serve.sized_client LABEL unit NOMPI RC 2
  ARGS --scheduler-file /nonexistent/sched.json -n 4 ${_ex}/count_to.so
  MATCH "error: --n-workers: scheduler_file is set [(]/nonexistent/sched.json[)], so this cluster setting cannot be: a served cluster is sized where it was started")
pd_expect(serve.adaptive LABEL mpi NP 2 RC 2 MAX_SECONDS 30
  ARGS serve --adapt-max 4
  MATCH "error: adapt_kwargs [(]--adapt-max[)]: a served cluster keeps the job's workers")
