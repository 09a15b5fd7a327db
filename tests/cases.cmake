# The mpi and example tiers: flows run through pdask-mpi, checked by exit
# code and output (see pd_expect in CMakeLists.txt).
set(F ${CMAKE_CURRENT_BINARY_DIR}/flows)
set(EX ${PROJECT_BINARY_DIR}/examples)

# --- the examples ---
pd_expect(example.count_to LABEL example NP 8 MAX_SECONDS 20
  ARGS ${EX}/count_to.so highest_number=10
  MATCH "#0" "#9" "Beginning flow run with 7 workers"
        "Finished in state Completed: 10 of 10 task runs completed, 0 did not, in [01][.][0-9]+ s"
  NOMATCH "#0.#1.#2.#3.#4.#5.#6.#7.#8.#9")

# --- results, dependencies, states ---
pd_expect(mpi.deps LABEL mpi NP 4 ARGS --log-level debug ${F}/deps.so depth=40
  MATCH "deps checks passed" "Fetched result [(]65541 bytes[)] from rank"
        "fetched big result: 65536 bytes" "freed 1 results"
        "greet-0 | greeting from rank [1-3]"
        "inc-40 | Finished in state Completed[(][)] on rank"
        "Finished in state Completed: 58 of 58 task runs")
pd_expect(mpi.deps_two_ranks LABEL mpi NP 2 ARGS ${F}/deps.so depth=5
  MATCH "deps checks passed")
pd_expect(mpi.fail LABEL mpi NP 3 RC 1 ARGS ${F}/fail.so
  MATCH "fail checks passed"
        "boom-0 | Finished in state Failed[(]'boom 7'[)]"
        "after-0 | Finished in state NotReady[(]'upstream task run boom-0 did not complete [(]Failed[)]'[)]"
        "ret3-0 | Finished in state Failed[(]'task returned 3'[)]"
        "flaky-0 | attempt 1 failed: attempt 1: not yet; retry 1/2"
        "not-a-task-0 | cannot submit: pd_submit: .* is not a task"
        "Finished in state Failed: 1 of 7 task runs completed, 6 did not")
pd_expect(mpi.flow_returns_nonzero LABEL mpi RC 1 ARGS ${F}/flowfail.so
  MATCH "flow function returned 4" "Finished in state Failed: 1 of 1")
pd_expect(mpi.two_flows_choose LABEL mpi ARGS --flow second ${F}/twoflows.so
  MATCH "second | running second")

# --- bad input: one clear message, exit 2, no hang ---
pd_expect(bad.missing_so LABEL mpi RC 2 ARGS ${F}/no-such-flow.so
  MATCH "pdask-mpi: error: .*no-such-flow.so: No such file or directory")
pd_expect(bad.not_elf LABEL mpi RC 2
  ARGS ${CMAKE_CURRENT_SOURCE_DIR}/expect.cmake
  MATCH "error: .*expect.cmake: not a shared object [(]no ELF header[)]; build the flow with cc -shared -fPIC")
pd_expect(bad.no_flow LABEL mpi RC 2 ARGS ${F}/noflow.so
  MATCH "error: .*noflow.so declares no flow: add PD_FLOW[(]fn[)]")
pd_expect(bad.two_flows LABEL mpi RC 2 ARGS ${F}/twoflows.so
  MATCH "declares 2 flows: choose one with --flow NAME")
pd_expect(bad.unknown_flow LABEL mpi RC 2 ARGS --flow third ${F}/twoflows.so
  MATCH "has no flow named 'third'")
pd_expect(bad.task_missing_on_worker LABEL mpi RC 2 ARGS ${F}/mismatch.so
  MATCH "error: rank 1 [(]host [^)]+[)]: task 'only_on_zero' is declared in .*mismatch.so on rank 0 but not here: every rank must load the same flow file")
pd_expect(bad.param_not_key_value LABEL mpi RC 2
  ARGS ${EX}/count_to.so highest_number
  MATCH "error: parameter 'highest_number' is not key=value")
pd_expect(bad.param_not_int LABEL mpi RC 2
  ARGS ${EX}/count_to.so highest_number=ten
  MATCH "error: parameter highest_number=ten: not an integer; pass e.g. highest_number=10"
  NOMATCH "Finished in state")
pd_expect(bad.param_unread LABEL mpi ARGS ${EX}/count_to.so highest_numbr=3
  MATCH "parameter 'highest_numbr' was given but the flow never read it")
pd_expect(bad.one_rank LABEL mpi NP 1 RC 2 ARGS ${EX}/count_to.so
  MATCH "needs at least 2 ranks")
pd_expect(bad.option LABEL mpi RC 2 ARGS --threads-per-worker 0 ${EX}/count_to.so
  MATCH "error: --threads-per-worker 0: give a whole number of threads")

# --- the command itself, without MPI ---
pd_expect(cli.help LABEL unit NOMPI ARGS --help MATCH "usage: mpirun -n N pdask-mpi")
pd_expect(cli.version LABEL unit NOMPI ARGS --version MATCH "pdask-mpi 0[.]1[.]0 [(]Open MPI")
pd_expect(cli.check LABEL unit NOMPI ARGS check ${F}/fail.so
  MATCH "fail.so: 1 flow, 4 tasks" "task flaky retries=2 retry_delay_s=0.05")
pd_expect(cli.check_missing LABEL unit NOMPI RC 2 ARGS check ${F}/nope.so
  MATCH "No such file")
pd_expect(cli.no_args LABEL unit NOMPI RC 2 ARGS
  MATCH "error: no flow given")
