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
