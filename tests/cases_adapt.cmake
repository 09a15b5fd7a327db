# Adaptive scaling (issue 11): settings, growth by MPI_Comm_spawn,
# retirement, the maximum, bursts, results of retired workers, a zero
# pool, and the fallback when spawning fails.

# Bad adaptive settings: one message with file:line, exit 2.
foreach(case
    "adapt_interval|adapt_interval.ini:3: interval = 0 must be above 0 seconds"
    "adapt_target|adapt_target.ini:3: target_duration = -5 must be above 0 seconds"
    "adapt_wait|adapt_wait.ini:4: wait_count = 0 is below its minimum 1")
  string(REPLACE "|" ";" case "${case}")
  list(GET case 0 name)
  list(GET case 1 re)
  pd_expect(config.${name} LABEL mpi NP 2 RC 2
    ARGS -c ${INI}/${name}.ini ${EX}/count_to.so
    MATCH "pdask-mpi: error: .*${re}" NOMATCH "Beginning flow run")
endforeach()
pd_expect(config.adapt_min_over_max_cli LABEL mpi NP 1 RC 2
  ARGS --adapt-min 3 --adapt-max 2 ${EX}/count_to.so
  MATCH "error: --adapt-min: adapt_kwargs minimum 3 is above maximum 2")

# info shows the adaptive settings and what they mean.
pd_expect(adapt.info LABEL mpi NP 2
  ARGS info --adapt-min 1 --adapt-max 6
  MATCH "adapt_kwargs.interval +\\= 1 +[(]default[)]"
        "adapt_kwargs.target_duration +\\= 5 "
        "adapt_kwargs.wait_count +\\= 3 "
        "adapt_kwargs.unknown_duration +\\= 0.5 "
        "adaptive: between 1 and 6 workers")
pd_expect(adapt.info_alone LABEL mpi NOMPI ARGS info --adapt-max 3
  MATCH "MPI world: 1 rank: a run starts with no worker and spawns them as work comes")

set(BURST ${PROJECT_BINARY_DIR}/tests/flows/adapt_burst.so)
set(FAST -c ${INI}/adapt_fast.ini)

# The README example: mpirun -n 1, the pool grows from nothing.
pd_expect(example.adaptive LABEL example NP 1 MAX_SECONDS 30
  ARGS -t 1 ${EX}/adaptive.so highest_number=40
  MATCH "Beginning flow run with 0 workers"
        "Scaling from 0 to [1-9][0-9]* workers: [0-9.]+ s of work in [0-9]+ queued"
        "Finished in state Completed: 40 of 40")

# A lone pdask-mpi with minimum 0 starts with no worker and grows when
# the first run arrives.
pd_expect(adapt.zero_start LABEL mpi NOMPI
  ARGS ${FAST} ${EX}/count_to.so highest_number=4
  MATCH "Adaptive cluster: starting with no worker"
        "Beginning flow run with 0 workers"
        "Scaling from 0 to [1-4] workers"
        "Finished in state Completed: 4 of 4")

# A backlog on one job rank: the pool grows at once to the maximum (16
# runs x 0.2 s = 3.2 s of work, 0.5 s target), the job rank counts.
pd_expect(adapt.grow_backlog LABEL mpi NP 2
  ARGS ${FAST} ${BURST} bursts=1 runs=16 gap_ms=0
  MATCH "Beginning flow run with 1 workers"
        "Scaling from 1 to 4 workers: [0-9.]+ s of work in 1[0-9] queued or running"
        "results after scaling: 0 of 18 wrong"
  NOMATCH "to [5-9] workers")

# The maximum: never more than 2, however large the backlog.
pd_expect(adapt.maximum LABEL mpi NOMPI
  ARGS ${FAST} --adapt-max 2 ${BURST} bursts=1 runs=24 run_ms=100 gap_ms=0
  MATCH "Scaling from [01] to 2 workers"
        "results after scaling: 0 of 26 wrong"
  NOMATCH "to [3-9] workers")

# Idle workers retire (in one step at the end of a burst), down to the
# minimum of 0: the worker holding the 64-byte result the flow still
# holds first has it fetched to rank 0, then stops; every result made on
# retired workers is still there after, and a run that takes inputs from
# both sides (the held one now from rank 0) sees them.
pd_expect(adapt.retire_idle LABEL mpi NOMPI
  ARGS ${FAST} --log-level debug ${BURST} bursts=2 runs=16 gap_ms=1500
  MATCH "Scaling from [2-4] to 0 workers: [2-4] idle for [0-9.]+ s or more [(]3 decisions in a row, 0.2 s apart[)].*; 1 of them moving the results the flow holds to rank 0 first"
        "rank [1-4] retires: fetching 1 of its 1 results [(][0-9]+ bytes[)] to rank 0 first"
        "rank [1-4]'s results are on rank 0: it stops"
        "results after scaling: 0 of 34 wrong"
        "Finished in state Completed: 34 of 34")

# A held result over 64 MiB is not moved: its worker stays (the pool
# shrinks to 1, not 0), and the result is still there at the end.
pd_expect(adapt.keep_big LABEL mpi NOMPI
  ARGS ${FAST} ${BURST} bursts=1 runs=8 gap_ms=1500 keep_bytes=70000000
  MATCH "Scaling from [2-4] to 1 workers: [1-3] idle for [0-9.]+ s or more"
        "results after scaling: 0 of 10 wrong"
  NOMATCH "to 0 workers" "moving the results")

# Bursts closer than wait_count x interval: one grow, no shrink between
# them (wait_count 8 = 1.6 s here, gaps 0.4 s).
pd_expect(adapt.no_flapping LABEL mpi NP 2
  ARGS ${FAST} --set adapt_kwargs.wait_count=8 ${BURST} bursts=4 runs=12
       gap_ms=400
  COUNT 1 "Scaling from"
  MATCH "Scaling from 1 to 4 workers" "results after scaling: 0 of 50 wrong")

# Job ranks over the maximum take no work and are never stopped.
pd_expect(adapt.job_ranks_over_max LABEL mpi NP 4
  ARGS --adapt-max 2 ${EX}/count_to.so highest_number=4
  MATCH "adapt_kwargs maximum is 2: 1 of the job's 3 worker ranks take no work"
        "Finished in state Completed: 4 of 4"
  NOMATCH "Scaling from")

# Spawning fails (a host outside the allocation): the run goes on with
# its job rank, says so once though it retries, and ends (Open MPI's
# mpirun would wait for the failed job: rank 0 ends it with MPI_Abort,
# so mpirun exits 1).
pd_expect(adapt.spawn_fails LABEL mpi NP 2 RC 1
  ENV PDASK_SPAWN_HOSTS=no-such-host.invalid
  ARGS ${FAST} ${BURST} bursts=3 runs=8 gap_ms=1200
  COUNT 1 "Cannot scale from"
  MATCH "Cannot scale from 1 to [2-4] workers: cannot spawn .* Going on with 1 workers; trying again in 1 s"
        "results after scaling: 0 of 26 wrong"
        "Finished in state Completed: 26 of 26"
        "Ending the job with MPI_Abort [(]exit code 0[)]")

# No worker at all and none can be spawned: the runs end Cancelled at
# once, no hang.
pd_expect(adapt.starved LABEL mpi NP 1 RC 1 MAX_SECONDS 20
  ENV PDASK_SPAWN_HOSTS=no-such-host.invalid
  ARGS ${FAST} ${EX}/count_to.so highest_number=3
  MATCH "No worker to run on and none could be spawned"
        "Finished in state Failed")

# Through a cluster plugin: start() makes the first worker, scale() the
# others (examples/plugins/hosts_spawn.c).
pd_expect(adapt.plugin LABEL mpi NP 1
  ARGS ${FAST} --cluster-class ${PROJECT_BINARY_DIR}/examples/plugins/hosts_spawn.so:pd_cluster
       -n 1 --adapt-max 3 ${BURST} bursts=1 runs=12 gap_ms=0
  MATCH "Creating a cluster with .*hosts_spawn.so:pd_cluster: 1 workers"
        "Scaling from 1 to 3 workers"
        "results after scaling: 0 of 14 wrong")

# Inputs held by a job rank and by a spawned worker (which cannot fetch
# from each other): they come through rank 0, and the run sees both.
pd_expect(adapt.relay LABEL mpi NP 2
  ARGS -t 1 --adapt-max 3 --set adapt_kwargs.target_duration=0.5
       --log-level debug ${F}/adapt_relay.so
  MATCH "Scaling from 1 to [23] workers"
        "pair-0 [|] input big-[0-9]+ is relayed through rank 0"
        "relay checks passed")
