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
pd_expect(config.gpu_negative LABEL mpi NP 2 RC 2 ARGS info --resources GPU=-1
  MATCH "error: --resources: resources \"GPU=-1\": the amount of GPU is not a non-negative number")
pd_expect(config.local_beats_env LABEL mpi NP 2 ARGS info
  ENV PDASK_CONFIG=${INI}/good.ini
  MATCH "config file: pdask.ini"
        "cluster_kwargs.prefetch += 5 +[(]pdask.ini:3[)]"
  NOMATCH "good.ini")
set_tests_properties(config.local_beats_env PROPERTIES
                     WORKING_DIRECTORY ${INI}/local)

# --- the INI file: only a regular file of sane size, read as text ---
if(NOT EXISTS ${CMAKE_CURRENT_BINARY_DIR}/fifo.ini)
  execute_process(COMMAND mkfifo ${CMAKE_CURRENT_BINARY_DIR}/fifo.ini)
endif()
foreach(case
    "fifo|${CMAKE_CURRENT_BINARY_DIR}/fifo.ini|fifo.ini: is a FIFO, not an INI file"
    "dir|${INI}|ini: is a directory, not an INI file"
    "dev_zero|/dev/zero|/dev/zero: is a character device, not an INI file"
    "nul_byte|${INI}/nul_byte.ini|nul_byte.ini:2: NUL byte at column 14: a settings file is plain text")
  string(REPLACE "|" ";" case "${case}")
  list(GET case 0 name)
  list(GET case 1 file)
  list(GET case 2 re)
  pd_expect(config.file_${name} LABEL mpi NP 2 RC 2 MAX_SECONDS 15
    TIMEOUT 30 ARGS -c ${file} ${EX}/count_to.so
    MATCH "pdask-mpi: error: .*${re}" NOMATCH "Beginning flow run")
endforeach()
# A lone [ in a pattern upsets CMake's lists: match it with a dot.
pd_expect(config.file_unclosed LABEL mpi NP 2 RC 2 ARGS -c ${INI}/unclosed.ini
  ${EX}/count_to.so
  MATCH "error: .*unclosed.ini:2: section header ..cluster_kwargs. is not closed: write .name."
  NOMATCH "unknown section")
pd_expect(config.file_no_section LABEL mpi NP 2 RC 2
  ARGS -c ${INI}/no_section.ini ${EX}/count_to.so
  MATCH "error: .*no_section.ini:1: key \"n_workers\" comes before any [[]section[]]")
pd_expect(config.duplicate_key LABEL mpi NP 2 ARGS info -c ${INI}/dup_key.ini
  MATCH "WARNING [|] pdask-mpi [|] .*dup_key.ini:7: n_workers set again [(]first at line 3[)]; using line 7"
        "cluster_kwargs.n_workers += 3 +[(].*dup_key.ini:7[)]"
  NOMATCH "set again.*set again")

# --- the command line (getopt_long) ---
pd_expect(cli.misplaced_short LABEL unit NOMPI RC 2 ARGS ${EX}/count_to.so -n 4
  MATCH "pdask-mpi: error: option -n must come before FLOW.so"
  NOMATCH "not key=value")
pd_expect(cli.misplaced_long LABEL unit NOMPI RC 2
  ARGS ${EX}/count_to.so highest_number=2 --threads-per-worker 2
  MATCH "error: option --threads-per-worker must come before FLOW.so"
  NOMATCH "not key=value")
pd_expect(cli.misplaced_check LABEL unit NOMPI RC 2
  ARGS check ${F}/fail.so --flow=x
  MATCH "error: option --flow must come before FLOW.so")
pd_expect(cli.unknown_option LABEL unit NOMPI RC 2 ARGS --bogus=1 ${EX}/count_to.so
  MATCH "error: unknown option --bogus; see pdask-mpi --help")
pd_expect(cli.missing_value LABEL unit NOMPI RC 2 ARGS check -c
  MATCH "error: option -c needs a value")
pd_expect(cli.forms LABEL mpi NP 2
  ARGS info -n4 -t2 --prefetch=7 --set=client_kwargs.timeout=9 -- ${F}/settings.so
  MATCH "n_workers += 4 +[(]--n-workers[)]"
        "threads_per_worker += 2 +[(]--threads-per-worker[)]"
        "prefetch += 7 +[(]--prefetch[)]" "timeout += 9 +[(]--set[)]")
pd_expect(cli.run_forms LABEL mpi NP 3
  ARGS run --threads-per-worker=1 -- ${EX}/count_to.so highest_number=2
  MATCH "Finished in state Completed: 2 of 2")

# --- cluster plugins that are not: a message and exit 2, never a crash ---
foreach(case
    "function|libc.so.6:printf|it is a function, not a const struct pd_cluster_ops"
    "int|${F}/badplugin.so:plugin_int|it is a 4-byte object, not a struct pd_cluster_ops"
    "data_start|${F}/badplugin.so:plugin_data_start|its start, scale or close does not point to a function of the plugin")
  string(REPLACE "|" ";" case "${case}")
  list(GET case 0 name)
  list(GET case 1 spec)
  list(GET case 2 re)
  pd_expect(spawn.plugin_${name} LABEL mpi NP 1 RC 2
    ARGS --cluster-class ${spec} ${EX}/count_to.so
    MATCH "error: cluster_class .*: '[a-z_]+' is not a pd_cluster_ops of ABI [0-9]+ with a start function: ${re}"
    NOMATCH "Segmentation|Signal|signal")
endforeach()

# --- a topology from the environment that hwloc cannot read ---
pd_expect(config.hwloc_bad_synthetic LABEL unit NOMPI RC 2 ARGS info
  ENV "HWLOC_SYNTHETIC=pack:1 garbage:x"
  MATCH "error: HWLOC_SYNTHETIC=\"pack:1 garbage:x\": hwloc cannot read this synthetic topology"
  NOMATCH "topology of")
pd_expect(config.hwloc_missing_xml LABEL unit NOMPI RC 2 ARGS info
  ENV HWLOC_SYNTHETIC= HWLOC_XMLFILE=${INI}/nope.xml
  MATCH "error: HWLOC_XMLFILE=.*nope.xml: No such file or directory"
  NOMATCH "topology of")
pd_expect(config.hwloc_garbage_xml LABEL unit NOMPI RC 2 ARGS info
  ENV HWLOC_SYNTHETIC= HWLOC_XMLFILE=${INI}/good.ini
  MATCH "error: HWLOC_XMLFILE=.*good.ini: hwloc cannot read this XML topology"
  NOMATCH "topology of")

# --- key=@FILE: a parameter value from a file ---
pd_expect(cli.param_from_file LABEL mpi NP 2
  ARGS ${EX}/count_to.so highest_number=@${INI}/param_3.txt
  MATCH "Finished in state Completed: 3 of 3")
pd_expect(cli.param_file_missing LABEL mpi NP 2 RC 2
  ARGS ${EX}/count_to.so highest_number=@${INI}/nope.txt
  MATCH "error: parameter highest_number=@.*nope.txt: cannot read the value from .*: No such file or directory"
  NOMATCH "Beginning flow run")
