# The core: isolation, lost workers, API misuse (see pd_expect in
# CMakeLists.txt; F and EX come from cases.cmake).

# --- process isolation: a crash is one run's crash ---
pd_expect(mpi.isolate LABEL mpi NP 3 RC 1 MAX_SECONDS 30 ARGS ${F}/isolate.so
  MATCH "isolate checks passed"
        "segv-0 [|] Finished in state Crashed[(]'crashed: killed by signal 11 [(]SIGSEGV[)]'[)]"
        "exits-0 [|] Finished in state Crashed[(]'crashed: exit[(]3[)] in the task'[)]"
        "crash_once-0 [|] attempt 1 failed: crashed: killed by signal 11 [(]SIGSEGV[)]. retry 1/1"
        "naps-0 [|] Finished in state Failed[(]'timed out after 0.5 s'[)]"
        "Finished in state Failed: 3 of 10 task runs completed, 7 did not")
pd_expect(mpi.isolation_setting LABEL mpi NP 3 RC 1
  ARGS --set cluster_kwargs.isolation=process ${F}/crash.so
  MATCH "crash-0 [|] Finished in state Crashed[(]'crashed: killed by signal 11 [(]SIGSEGV[)]'[)]"
        "Finished in state Failed: 0 of 1 task runs completed, 1 did not")
pd_expect(bad.isolation_setting LABEL mpi NP 2 RC 2
  ARGS --set cluster_kwargs.isolation=fork ${EX}/count_to.so
  MATCH "error: --set: isolation \"fork\" is not thread or process"
  NOMATCH "Beginning flow run")
pd_expect(bad.task_isolation LABEL mpi NP 2 RC 2 ARGS ${F}/badiso.so
  MATCH "error: .*badiso.so: task 't' has .isolation = \"proces\": write \"thread\" or \"process\""
  NOMATCH "Beginning flow run")

# --- a worker that dies or freezes ends the run, named, exit code 3 ---
pd_expect(spawn.worker_crashes LABEL mpi NOMPI RC 3 MAX_SECONDS 30
  ARGS -n 2 --set client_kwargs.heartbeat=1 ${F}/dies.so mode=segv
  MATCH "task run work-3 crashed with SIGSEGV"
        "error: rank [12] stopped responding: nothing heard from it for [0-9.]+ s [(]client_kwargs heartbeat 1 s[)]"
        "Finished in state Crashed[(]'crashed: worker rank [12] stopped responding while it had this run'[)]"
        "dies [|] Finished in state Crashed: [0-9] of 8 task runs completed")
pd_expect(spawn.worker_exits LABEL mpi NOMPI RC 3 MAX_SECONDS 30
  ARGS -n 2 --set client_kwargs.heartbeat=1 ${F}/dies.so mode=exit
  MATCH "error: rank [12] stopped responding"
        "dies [|] Finished in state Crashed: [0-9] of 8 task runs completed")
pd_expect(mpi.worker_frozen LABEL mpi NP 4 RC 3 MAX_SECONDS 30
  ARGS --set client_kwargs.heartbeat=1 ${F}/dies.so mode=stop
  MATCH "error: rank [123] stopped responding: nothing heard from it"
        "Finished in state Crashed[(]'crashed: worker rank [123] stopped responding while it had this run'[)]"
        "dies [|] Finished in state Crashed: [0-9] of 8 task runs completed")

# --- API misuse: PD_EINVAL or a Failed future, with a message ---
pd_expect(mpi.misuse LABEL mpi NP 3 RC 1 ARGS ${F}/misuse.so big=1
  MATCH "misuse checks passed"
        "error: pd_submit[(][)]: NULL is not a flow run"
        "error: pd_wait_all[(][)]: NULL is not a flow run"
        "nested-0 [|] pd_submit[(][)] called from inside a task: tasks cannot submit or wait for task runs [(]nested submission is not supported yet[)]"
        "cannot submit: argument 1: the flow released one-0 with pd_release[(][)]"
        "cannot submit: arguments take 1258291210 bytes in all, over the limit of 1073741568"
  NOMATCH "MISMATCH")

# --- exit() in a thread task names the run (the job ends with it) ---
pd_expect(mpi.task_exits LABEL mpi NP 3 RC 3 MAX_SECONDS 30 ARGS ${F}/dies.so mode=exit
  MATCH "pdask-mpi: error: rank [12]: task run work-3 called exit[(]3[)], which ends its worker and the job")

# --- a thread task past its timeout_s: a warning when the limit passes ---
pd_expect(mpi.thread_overrun LABEL mpi NP 2 RC 1 ARGS ${F}/overrun.so
  MATCH "spin-0 [|] has run 0[.][3-9] s, past its timeout_s of 0.3 s. a task on a thread cannot be stopped safely"
        "spin-0 [|] Finished in state Failed[(]'timed out: ran 1[.][0-9]+ s, over its timeout_s of 0.3 s'[)]")

# --- a stack overflow in a task is named ---
pd_expect(bad.task_stack_overflow LABEL mpi NP 2 RC 139 ARGS ${F}/overflow.so
  MATCH "pdask-mpi: error: rank 1: task run recurse-0 crashed with SIGSEGV")

# --- one failure at the head of a long chain: a count, not n warnings ---
pd_expect(mpi.notready_count LABEL mpi NP 3 RC 1 ARGS ${F}/chainfail.so n=2000
  MATCH "link-0 [|] Finished in state Failed[(]'head fails'[)]"
        "link-10 [|] Finished in state NotReady"
        "chainfail [|] 1989 more task runs ended NotReady [(]each is logged at --log-level debug[)]"
        "Finished in state Failed: 0 of 2000 task runs completed, 2000 did not"
  NOMATCH "link-11 [|] Finished in state NotReady")

# --- annotations: priority, nesting, workers, retries, isolation ---
pd_expect(mpi.annotate LABEL mpi NP 4 RC 1 ARGS -t 1 ${F}/annotate.so
  HAS "annotate checks passed"
      "Finished in state Failed('workers: none of the worker ranks it may run on is in this cluster (workers are ranks 1 to 3)')"
      "fails-0 | attempt 2 failed: attempt 2 fails; retry 2/2 in 0 s"
      "Finished in state Crashed('crashed: killed by signal 11 (SIGSEGV)')"
      "annotate | 1 annotation was still in force when the flow function returned"
  HASNOT "MISMATCH")
pd_expect(example.priority LABEL example NP 2 ARGS -t 1 ${EX}/priority.so
  MATCH "[|] show 2\n[^\n]*[|] show 1\n"
  HAS "Finished in state Completed: 3 of 3 task runs completed")
pd_expect(bad.status_path LABEL mpi NP 2 RC 2
  ARGS --status /nonexistent/dir/run.tsv ${EX}/count_to.so
  HAS "error: status file /nonexistent/dir/run.tsv: No such file or directory; give a path in a directory you can write"
  HASNOT "Beginning flow run")

# --- progress: a line every client_kwargs progress seconds in a batch log ---
pd_expect(mpi.progress_lines LABEL mpi NP 3
  ARGS --set client_kwargs.progress=0.2 ${EX}/count_to.so highest_number=8
  MATCH "count_to [|] Progress: [0-9]/8 task runs done, [0-9] running, 0 failed, [0-9]+/s, [0-9]+ s elapsed, ([0-9]+ s|[?]) left"
  HAS "Finished in state Completed: 8 of 8 task runs completed")
pd_expect(mpi.no_progress LABEL mpi NP 3
  ARGS --set client_kwargs.progress=0.2 --no-progress ${EX}/count_to.so highest_number=8
  HASNOT "Progress:"
  HAS "Finished in state Completed: 8 of 8 task runs completed")
