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
  HAS "deps checks passed" "fetched big result: 65536 bytes"
      "inc-40 | Pending (waiting for upstream runs)"
      "Finished in state Completed: 58 of 58 task runs completed, 0 did not"
  MATCH "make_big-0 [|] Fetched result [(]65541 bytes[)] from rank [1-3] for pd_result"
        "rank [1-3]: freed 1 results; [0-9]+ results [(][0-9]+ bytes[)] held"
        "greet-0 on rank [1-3] [|] greeting from rank [1-3]\n"
        "inc-40 [|] Running on rank [1-3]\n"
        "inc-40 [|] Finished in state Completed[(][)] on rank [1-3] in "
  NOMATCH "CHECK ")
pd_expect(mpi.deps_two_ranks LABEL mpi NP 2 ARGS ${F}/deps.so depth=5
  MATCH "deps checks passed")
# A 3 MB result goes from the worker's store without a copy (comm_send_lent)
# to rank 0 and to the consumers on the other workers; pd_release then
# frees it there, after those sends.
pd_expect(mpi.deps_big LABEL mpi NP 4 ARGS --log-level debug ${F}/deps.so
  depth=5 big=3000000
  HAS "deps checks passed" "fetched big result: 3000000 bytes"
  MATCH "make_big-0 [|] Fetched result [(]300000[0-9] bytes[)] from rank [1-3] for pd_result"
        "rank [1-3]: sending a result of 300000[0-9] bytes to rank 0 from its store"
        "rank [1-3]: freed 1 results; [0-9]+ results [(][0-9]+ bytes[)] held"
  NOMATCH "CHECK ")
pd_expect(mpi.fail LABEL mpi NP 3 RC 1 ARGS ${F}/fail.so
  HAS "fail checks passed"
      "boom-0 | Finished in state Failed('boom 7')"
      "after-0 | Finished in state NotReady('upstream task run boom-0 did not complete (Failed)')"
      "after-1 | Finished in state NotReady('upstream task run after-0 did not complete (NotReady)')"
      "after-2 | Finished in state NotReady('upstream task run boom-0 did not complete (Failed)')"
      "ret3-0 | Finished in state Failed('task returned 3')"
      "flaky-0 | attempt 1 failed: attempt 1: not yet; retry 1/2 in 0.05 s"
      "flaky-0 | attempt 2 failed: attempt 2: not yet; retry 2/2 in 0.05 s"
      "Finished in state Failed: 1 of 7 task runs completed, 6 did not"
      "ERROR   | boom-0 | Finished in state Failed("
      "WARNING | after-0 | Finished in state NotReady("
  MATCH "not-a-task-0 [|] cannot submit: pd_submit: the function at 0x[0-9a-f]+ is not a task: declare it with PD_TASK[(]fn[)]"
  HASNOT "flaky-0 | attempt 3 failed" "CHECK ")
pd_expect(mpi.flow_returns_nonzero LABEL mpi RC 1 ARGS ${F}/flowfail.so
  MATCH "flow function returned 4" "Finished in state Failed: 1 of 1")
pd_expect(mpi.two_flows_choose LABEL mpi ARGS --flow second ${F}/twoflows.so
  HAS "second | running second"
      "second | Finished in state Completed: 0 of 0 task runs completed"
  HASNOT "running first")

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
pd_expect(bad.param_twice LABEL mpi RC 2
  ARGS ${EX}/count_to.so highest_number=1 highest_number=2
  HAS "pdask-mpi: error: parameter 'highest_number' is given twice; give each parameter once"
  HASNOT "Beginning flow run")
pd_expect(bad.param_unread LABEL mpi ARGS ${EX}/count_to.so highest_numbr=3
  MATCH "parameter 'highest_numbr' was given but the flow never read it")
pd_expect(bad.option LABEL mpi RC 2 ARGS --threads-per-worker -1 ${EX}/count_to.so
  MATCH "error: --threads-per-worker: threads_per_worker = -1 is below its minimum 0")

# --- the command itself, without MPI ---
pd_expect(cli.help LABEL unit NOMPI ARGS --help MATCH "usage: mpirun -n N pdask-mpi")
pd_expect(cli.version LABEL unit NOMPI ARGS --version MATCH "pdask-mpi 0[.]1[.]0 [(]Open MPI")
pd_expect(cli.check LABEL unit NOMPI ARGS check ${F}/fail.so
  MATCH "fail.so: 1 flow, 4 tasks" "task flaky retries=2 retry_delay_s=0.05")
pd_expect(cli.check_missing LABEL unit NOMPI RC 2 ARGS check ${F}/nope.so
  MATCH "No such file")
pd_expect(cli.no_args LABEL unit NOMPI RC 2 ARGS
  MATCH "error: no flow given")

# --- settings: INI files, PD_FLOW, command line; `info` ---
set(INI ${CMAKE_CURRENT_SOURCE_DIR}/ini)
pd_expect(config.info_defaults LABEL mpi NP 3 ARGS info
  MATCH "config file: none"
        "cluster_kwargs.threads_per_worker +=  *0 +[(]default[)]"
        "MPI world: 3 ranks: 1 scheduler [+] 2 workers"
        "rank 1 on [^:]+: worker, 4 threads on cores 0-3"
        "rank 2 on [^:]+: worker, 4 threads on cores 4-7"
        "topology of [^:]+: 1 packages, 8 cores, 8 PUs, 1 NUMA nodes, 0 GPUs")
pd_expect(config.info_sizing_5 LABEL mpi NP 5 ARGS info
  MATCH "rank 4 on [^:]+: worker, 2 threads on cores 6-7")
pd_expect(config.info_sizing_8 LABEL mpi NP 8 ARGS info
  MATCH "rank 7 on [^:]+: worker, 1 thread on core 6\n")
pd_expect(config.info_ini LABEL mpi NP 3 ARGS info -c ${INI}/good.ini
  MATCH "config file: .*good.ini"
        "rank 2 on [^:]+: worker, 3 threads on cores 3-5"
        "cluster_kwargs.threads_per_worker += 3 +[(].*good.ini:6[)]"
        "cluster_kwargs.resources += GPU=1,process=1 +[(].*good.ini:7[)]"
        "client_kwargs.timeout += 30 +[(].*good.ini:10[)]"
        "rank 2 on [^:]+: worker, 3 threads")
pd_expect(config.precedence_flow LABEL mpi NP 3
  ARGS info -c ${INI}/good.ini ${F}/settings.so
  MATCH "threads_per_worker += 2 +[(]PD_FLOW[(]settings[)][)]"
        "rank 2 on [^:]+: worker, 2 threads")
pd_expect(config.precedence_cli LABEL mpi NP 3
  ARGS info -c ${INI}/good.ini -t 1 --set client_kwargs.timeout=5 ${F}/settings.so
  MATCH "threads_per_worker += 1 +[(]--threads-per-worker[)]"
        "client_kwargs.timeout += 5 +[(]--set[)]"
        "rank 2 on [^:]+: worker, 1 thread on core 1\n")
pd_expect(config.env_file LABEL mpi NP 2 ARGS info
  ENV PDASK_CONFIG=${INI}/good.ini
  MATCH "config file: .*good.ini" "good.ini:6")
pd_expect(config.run_with_ini LABEL mpi NP 3
  ARGS -c ${INI}/good.ini ${EX}/count_to.so highest_number=4
  MATCH "Finished in state Completed: 4 of 4")
foreach(case
    "bad_key|bad_key.ini:3: unknown key \"n_wrokers\" in [[]cluster_kwargs[]]; see ini/pdask.ini"
    "bad_section|bad_section.ini:3: unknown section [[]cluster_kwarg[]]"
    "bad_number|bad_number.ini:2: n_workers = \"four\" is not a whole number"
    "negative|negative.ini:3: n_workers = -2 is below its minimum 0"
    "bad_resources|bad_resources.ini:2: resources \"GPU=lots\": the amount of GPU is not a non-negative number"
    "address_conflict|address_conflict.ini:2: address is set [(]tcp://127.0.0.1:8786[)], so cluster_kwargs.n_workers [(].*address_conflict.ini:4[)] cannot be"
    "not_ini|not_ini.ini:2: not an INI line"
    "adapt_bad|adapt_bad.ini:2: adapt_kwargs minimum 5 is above maximum 2"
    "long_line|long_line.ini:2: line is 301 characters long, over the limit of 198")
  string(REPLACE "|" ";" case "${case}")
  list(GET case 0 name)
  list(GET case 1 re)
  pd_expect(config.${name} LABEL mpi NP 2 RC 2
    ARGS -c ${INI}/${name}.ini ${EX}/count_to.so
    MATCH "pdask-mpi: error: .*${re}" NOMATCH "Beginning flow run")
endforeach()
pd_expect(config.missing_file LABEL mpi NP 2 RC 2 ARGS -c ${INI}/nope.ini ${EX}/count_to.so
  MATCH "error: .*nope.ini: No such file or directory; give an existing INI file")

# --- temporary clusters by MPI_Comm_spawn ---
pd_expect(spawn.mpirun_one LABEL mpi NP 1 ARGS ${EX}/count_to.so highest_number=6
  MATCH "Creating a temporary cluster: spawning 4 workers"
        "Beginning flow run with 4 workers" "Finished in state Completed: 6 of 6")
pd_expect(spawn.singleton LABEL mpi NOMPI ARGS -n 3 ${F}/deps.so depth=10
  MATCH "spawning 3 workers" "deps checks passed"
        "Finished in state Completed: 28 of 28")
pd_expect(spawn.flow_settings LABEL mpi NP 1 ARGS ${F}/settings.so
  MATCH "spawning 3 workers" "Finished in state Completed: 1 of 1")
pd_expect(spawn.failure_exit_code LABEL mpi NP 1 RC 1 ARGS -n 2 ${F}/fail.so
  MATCH "fail checks passed" "Finished in state Failed")
pd_expect(spawn.class_mpi_alone LABEL mpi NP 1 RC 2
  ARGS --cluster-class mpi ${EX}/count_to.so
  MATCH "error: cluster_class mpi [(]--cluster-class[)] runs on the ranks of the job, and there is only one")
pd_expect(spawn.class_spawn_under_mpirun LABEL mpi NP 3 RC 2
  ARGS --cluster-class spawn ${EX}/count_to.so
  MATCH "error: cluster_class spawn [(]--cluster-class[)] starts its own workers")

# Every sample INI in ini/ parses.
file(GLOB _samples CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/ini/*.ini)
foreach(ini ${_samples})
  get_filename_component(name ${ini} NAME_WE)
  pd_expect(config.sample_${name} LABEL mpi NP 2 ARGS info -c ${ini}
    MATCH "config file: .*${name}.ini" NOMATCH "error")
endforeach()
pd_expect(config.adapt_runs LABEL mpi NP 2 ARGS -c ${PROJECT_SOURCE_DIR}/ini/adaptive.ini
  --cluster-class mpi ${EX}/count_to.so highest_number=2
  MATCH "Finished in state Completed: 2 of 2"
  NOMATCH "not available")
set(PLUGIN ${PROJECT_BINARY_DIR}/examples/plugins/hosts_spawn.so)
pd_expect(spawn.plugin LABEL mpi NP 1 ARGS --cluster-class ${PLUGIN}:pd_cluster
  -n 2 ${F}/deps.so depth=5
  MATCH "Creating a cluster with .*hosts_spawn.so:pd_cluster: 2 workers"
        "Beginning flow run with 2 workers" "deps checks passed")
pd_expect(spawn.plugin_no_symbol LABEL mpi NP 1 RC 2
  ARGS --cluster-class ${PLUGIN}:nope ${EX}/count_to.so
  MATCH "error: cluster_class .*hosts_spawn.so:nope: .*has no symbol 'nope'")
pd_expect(spawn.plugin_missing LABEL mpi NP 1 RC 2
  ARGS --cluster-class ${PROJECT_BINARY_DIR}/nope.so:x ${EX}/count_to.so
  MATCH "error: cluster_class .*nope.so:x: cannot load the plugin")
pd_expect(bad.startup_timeout LABEL mpi NP 3 RC 2 MAX_SECONDS 15
  ARGS --timeout 1 ${F}/slowload.so
  MATCH "error: rank 0: start-up did not finish within 1 s [(]client_kwargs timeout, --timeout[)]: a rank did not join")
pd_expect(config.run_name LABEL mpi NP 2 ARGS --set client_kwargs.name=nightly-42
  ${EX}/count_to.so highest_number=1
  HAS "nightly-42 | Beginning flow run with 1 workers"
      "nightly-42 | Finished in state Completed: 1 of 1 task runs completed")
pd_expect(bad.task_crashes LABEL mpi NP 3 RC 139 ARGS ${F}/crash.so
  MATCH "pdask-mpi: error: rank [12]: task run crash-0 crashed with SIGSEGV [(]segmentation fault[)]")

# --- load: many runs, several executor threads (correctness, not timed) ---
pd_expect(mpi.many_runs LABEL mpi NP 3
  ARGS ${PROJECT_BINARY_DIR}/bench/flows/bench_empty.so n=200000
  MATCH "BENCH tasks=200000" "Finished in state Completed: 200000 of 200000")
pd_expect(mpi.threads_4 LABEL mpi NP 3 ARGS -t 4 ${F}/deps.so depth=200
  MATCH "deps checks passed" "Finished in state Completed: 218 of 218")
pd_expect(mpi.chain_short_runs LABEL mpi NP 4
  ARGS ${PROJECT_BINARY_DIR}/bench/flows/bench_chain.so n=5000
  MATCH "BENCH hops=5000" "Finished in state Completed: 5000 of 5000")

# --- bugs planted by tests/mutation that no test caught before ---
# worker.c: retries (one too many), retry_delay_s (read as ms), timeout_s
# (ignored), and the retry warning's reason.
pd_expect(mpi.attempts LABEL mpi NP 3 RC 1 ARGS ${F}/attempts.so
  HAS "attempts checks passed"
      "patient-0 ended after at least 1 s"
      "always-0 | attempt 3 failed: no luck on try 3; retry 3/3 in 0 s"
      "always-0 | Finished in state Failed('no luck on try 4')"
      "patient-0 | attempt 2 failed: still no luck; retry 2/2 in 0.5 s"
      "patient-0 | Finished in state Failed('still no luck')"
      "sleepy-0 | Finished in state Failed('timed out"
      "Finished in state Failed: 0 of 3 task runs completed, 3 did not"
  MATCH "always-0 on rank [12] [|] try #4\n"
  COUNT 4 "always-0 on rank " 3 "patient-0 on rank "
        3 "always-0 | attempt " 2 "patient-0 | attempt "
  HASNOT "try #5" "CHECK ")
# graph.c: a run submitted after its upstream ended NotReady does not run.
pd_expect(mpi.notready_after LABEL mpi NP 3 RC 1 ARGS ${F}/notready.so
  HAS "notready checks passed"
      "witness-1 | Finished in state NotReady('upstream task run witness-0 did not complete (NotReady)')"
      "witness-2 | Finished in state NotReady('upstream task run witness-1 did not complete (NotReady)')"
      "Finished in state Failed: 0 of 4 task runs completed, 4 did not"
  HASNOT "witness ran" "CHECK ")
# cluster.c: more worker ranks than cores still gives each one thread.
pd_expect(config.info_more_ranks_than_cores LABEL mpi NP 5 ARGS info
  ENV "HWLOC_SYNTHETIC=pack:1 core:2 pu:1"
  HAS "MPI world: 5 ranks: 1 scheduler + 4 workers"
  MATCH "rank 1 on [^:]+: worker, 1 thread on core 0\n"
        "rank 2 on [^:]+: worker, 1 thread on core 1\n"
        "rank 3 on [^:]+: worker, 1 thread on core 0\n"
        "rank 4 on [^:]+: worker, 1 thread on core 1\n"
  COUNT 4 ": worker, 1 thread on core ")
# scheduler.c: every worker rank gets work, the last one too.
pd_expect(mpi.spread LABEL mpi NP 4 ARGS ${F}/spread.so workers=3 runs=24
  HAS "spread checks passed"
      "task runs ran on 3 distinct worker ranks: 1 2 3\n"
      "Finished in state Completed: 24 of 24 task runs completed, 0 did not"
  HASNOT "CHECK ")
# cluster.c: a temporary cluster of n workers has n worker ranks.
pd_expect(spawn.spread LABEL mpi NOMPI ARGS -n 3 ${F}/spread.so workers=3
  HAS "Creating a temporary cluster: spawning 3 workers"
      "Beginning flow run with 3 workers"
      "task runs ran on 3 distinct worker ranks: 1 2 3\n"
      "spread checks passed"
      "Finished in state Completed: 24 of 24 task runs completed, 0 did not"
  HASNOT "CHECK ")
# graph.c: a result released while its dependents wait stays until they end.
pd_expect(mpi.release_while_waiting LABEL mpi NP 3 ARGS --log-level debug
  ${F}/release.so
  HAS "release checks passed"
      "Finished in state Completed: 5 of 5 task runs completed, 0 did not"
  MATCH "rank 1: holds 0 results [(]0 bytes[)] at exit"
        "rank 2: holds 0 results [(]0 bytes[)] at exit"
  COUNT 5 "Finished in state Completed() on rank"
  HASNOT "CHECK " "is gone")
# worker.c: results small enough to travel inline live on rank 0: workers
# free their copies once no run fetches them, and hold none at exit.
pd_expect(mpi.worker_holds_nothing LABEL mpi NP 3 ARGS --log-level debug
  ${EX}/count_to.so highest_number=20
  HAS "Finished in state Completed: 20 of 20 task runs completed"
  MATCH "rank 1: holds 0 results [(]0 bytes[)] at exit"
        "rank 2: holds 0 results [(]0 bytes[)] at exit")

include(${CMAKE_CURRENT_LIST_DIR}/cases_output.cmake)
