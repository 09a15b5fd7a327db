# Settings and the command line: bounds, precedence, bad files, parsing
# (see pd_expect in CMakeLists.txt). In patterns, [|] is a literal bar.
set(F ${CMAKE_CURRENT_BINARY_DIR}/flows)
set(EX ${PROJECT_BINARY_DIR}/examples)
set(INI ${CMAKE_CURRENT_SOURCE_DIR}/ini)

# --- every count and time has a maximum ---
pd_expect(config.max_workers LABEL mpi NP 2 RC 2
  ARGS info -n 4294967295
  MATCH "error: --n-workers: n_workers = 4294967295 is above its maximum 4096; give 0 to 4096"
  NOMATCH "MPI world")
pd_expect(config.max_workers_wrap LABEL mpi NP 2 RC 2
  ARGS info --n-workers 4294967296
  MATCH "n_workers = 4294967296 is above its maximum 4096")
pd_expect(config.max_timeout LABEL mpi NP 2 RC 2 MAX_SECONDS 20
  ARGS --timeout 1e19 ${EX}/count_to.so
  MATCH "error: --timeout: timeout = 1e19 is above its maximum 1000000 seconds"
  NOMATCH "start-up did not finish")
pd_expect(config.zero_timeout LABEL mpi NP 2 RC 2
  ARGS info --set client_kwargs.timeout=0
  MATCH "error: --set: timeout = 0 must be above 0 seconds")

# --- PD_FLOW settings, adapt bounds, resources, which file applies ---
pd_expect(config.flow_timeout LABEL mpi NP 2 ARGS info ${F}/timeout_flow.so
  MATCH "client_kwargs.timeout += 42.5 +[(]PD_FLOW[(]timeout_flow[)][)]"
        "adapt_kwargs.minimum += 2 +[(]PD_FLOW[(]timeout_flow[)][)]")
pd_expect(config.adapt_equal LABEL mpi NP 2
  ARGS info --adapt-min 3 --adapt-max 3
  MATCH "adapt_kwargs.minimum += 3 +[(]--adapt-min[)]"
        "adapt_kwargs.maximum += 3 +[(]--adapt-max[)]"
  NOMATCH "error")
pd_expect(config.gpu_zero LABEL mpi NP 2 RC 2 ARGS info --resources GPU=0
  MATCH "error: --resources: resources \"GPU=0\": amount of GPU is not a positive number")
pd_expect(config.local_beats_env LABEL mpi NP 2 ARGS info
  ENV PDASK_CONFIG=${INI}/good.ini
  MATCH "config file: pdask.ini"
        "cluster_kwargs.prefetch += 5 +[(]pdask.ini:3[)]"
  NOMATCH "good.ini")
set_tests_properties(config.local_beats_env PROPERTIES
                     WORKING_DIRECTORY ${INI}/local)
