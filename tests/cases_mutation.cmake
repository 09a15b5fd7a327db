# Cases added for planted bugs that survived the mutation check
# (tests/mutation/README.md). See pd_expect in CMakeLists.txt.

# worker.c / runtime.c: an idle worker keeps beating, so with a 1 s
# heartbeat it is not taken for lost while the flow pauses 3 s.
pd_expect(mut.idle_worker_beats LABEL mpi NP 3 MIN_SECONDS 3
  ARGS --set client_kwargs.heartbeat=1 ${F}/mut_idle.so
  HAS "idle checks passed"
      "Finished in state Completed: 4 of 4 task runs completed, 0 did not"
  HASNOT "stopped responding" "CHECK ")
