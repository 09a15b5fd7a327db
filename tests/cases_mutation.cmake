# Cases added for planted bugs that survived the mutation check
# (tests/mutation/README.md). See pd_expect in CMakeLists.txt.

# worker.c / runtime.c: an idle worker keeps beating, so with a 1 s
# heartbeat it is not taken for lost while the flow pauses 3 s.
pd_expect(mut.idle_worker_beats LABEL mpi NP 3 MIN_SECONDS 3
  ARGS --set client_kwargs.heartbeat=1 ${F}/mut_idle.so
  HAS "idle checks passed"
      "Finished in state Completed: 4 of 4 task runs completed, 0 did not"
  HASNOT "stopped responding" "CHECK ")

# graph.c: a run is dispatched once its upstream runs have been dispatched,
# so a chain does not wait for a round trip through rank 0 at each step.
pd_expect(mut.dispatch_before_upstream_ends LABEL mpi NP 3
  ARGS --log-level debug ${F}/mut_pipeline.so
  HAS "pipeline checks passed"
      "Finished in state Completed: 2 of 2 task runs completed, 0 did not"
  MATCH "add-0 [|] Running on rank [12].*slow-0 [|] Finished in state Completed[(][)]"
  HASNOT "CHECK ")

# main.c: `check` of a .so without a flow lists it and exits 2.
pd_expect(cli.check_no_flow LABEL unit NOMPI RC 2 ARGS check ${F}/noflow.so
  MATCH "noflow.so: 0 flows, [0-9]+ tasks?\n"
        "pdask-mpi: error: .*noflow.so declares no flow: add PD_FLOW[(]fn[)]")

# wtable.c: placement sends a run where its input is made; a chain with
# nothing else running never moves between the two workers.
pd_expect(mut.chain_stays_home LABEL mpi NP 3 ARGS ${F}/mut_chain.so hops=20
  HAS "chain of 20 hops moved 0 times"
      "Finished in state Completed: 20 of 20 task runs completed, 0 did not"
  HASNOT "CHECK ")

# runtime.c: a cluster plugin is asked for the threads_per_worker given on
# the command line, not the node fill (4 x 2 on the 8 synthetic cores).
target_link_libraries(tflow_mut_plugin PRIVATE MPI::MPI_C)
pd_expect(spawn.plugin_threads LABEL mpi NP 1
  ARGS --cluster-class ${F}/mut_plugin.so:pd_cluster -t 1
       ${EX}/count_to.so highest_number=4
  HAS "mut_plugin: asked for 4 workers x 1 threads"
      "Finished in state Completed: 4 of 4 task runs completed, 0 did not")
