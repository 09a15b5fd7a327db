# Worker logs and task output at rank 0 (src/fwd.h, issue 14): pd_log
# lines and what tasks print reach rank 0's log once each, with their run
# name and rank, in order within each run; [client_kwargs] task_output =
# local leaves them on the workers. ctest runs mpiexec without a terminal.
set(F ${CMAKE_CURRENT_BINARY_DIR}/flows)
set(EX ${PROJECT_BINARY_DIR}/examples)

# tests/flows/output.c: talk-0..5 log, print and write to stderr three
# lines each on threads; proc_talk-0..1 the same in helper processes.
set(_out_checks "")
foreach(i RANGE 5)
  set(_order "")
  foreach(k RANGE 2)
    list(APPEND _out_checks
      MATCH "INFO    [|] talk-${i} on rank [12] [|] log ${i}[.]${k}\n"
      MATCH "OUTPUT  [|] talk-${i} on rank [12] [|] out ${i}[.]${k}\n"
      MATCH "OUTPUT  [|] talk-${i} on rank [12] [|] err ${i}[.]${k}\n"
      COUNT 1 "| log ${i}.${k}\n" COUNT 1 "| out ${i}.${k}\n"
      COUNT 1 "| err ${i}.${k}\n"
      NOMATCH "(^|\n)(out|err) ${i}[.]${k}\n")
    string(APPEND _order "log ${i}[.]${k}\n.*out ${i}[.]${k}\n.*err ${i}[.]${k}\n.*")
  endforeach()
  list(APPEND _out_checks MATCH "${_order}")
endforeach()
foreach(i RANGE 1)
  set(_order "")
  foreach(k RANGE 2)
    list(APPEND _out_checks
      MATCH "WARNING [|] proc_talk-${i} on rank [12] [|] plog ${i}[.]${k}\n"
      MATCH "OUTPUT  [|] proc_talk-${i} on rank [12] [|] pout ${i}[.]${k}\n"
      MATCH "OUTPUT  [|] proc_talk-${i} on rank [12] [|] perr ${i}[.]${k}\n"
      COUNT 1 "| pout ${i}.${k}\n" COUNT 1 "| perr ${i}.${k}\n"
      COUNT 1 "| plog ${i}.${k}\n")
    string(APPEND _order "plog ${i}[.]${k}\n.*pout ${i}[.]${k}\n.*perr ${i}[.]${k}\n.*")
  endforeach()
  list(APPEND _out_checks MATCH "${_order}pend ${i}\n")
endforeach()
pd_expect(output.forward LABEL mpi NP 3 MAX_SECONDS 30
  ARGS ${F}/output.so
  ${_out_checks}
  MATCH "OUTPUT  [|] odd-0 on rank [12] [|] long x+ .cut: line longer than 4096 bytes.\n"
        "OUTPUT  [|] odd-0 on rank [12] [|] no newline at the end\n"
        "OUTPUT  [|] rank [12] [|] direct\n"
        "Finished in state Completed: 9 of 9 task runs completed"
  HAS "| two\\nlines\n"
  HASNOT "a debug line"
  NOMATCH "OUTPUT  [|] odd-0 on rank [12] [|] x" "(^|\n)direct\n")
# The same with one executor thread per worker, and at debug level.
pd_expect(output.forward_debug LABEL mpi NP 3 MAX_SECONDS 30
  ARGS -t 1 --log-level debug ${F}/output.so runs=2
  MATCH "DEBUG   [|] odd-0 on rank [12] [|] a debug line\n"
        "OUTPUT  [|] talk-1 on rank [12] [|] out 1[.]2\n"
  COUNT 1 "| a debug line\n")
# count_to's `#n` lines, each once, with its run.
pd_expect(output.count_to LABEL example NP 4 MAX_SECONDS 20
  ARGS ${EX}/count_to.so highest_number=4
  MATCH "OUTPUT  [|] shout-0 on rank [1-3] [|] #0\n"
        "OUTPUT  [|] shout-3 on rank [1-3] [|] #3\n"
  COUNT 1 "#3\n" NOMATCH "(^|\n)#[0-3]\n")

# local: the lines stay on the workers (mpirun passes them on raw), pd_log
# lines are the worker's own.
pd_expect(output.local LABEL mpi NP 3 MAX_SECONDS 30
  ARGS --set client_kwargs.task_output=local ${F}/output.so runs=2
  MATCH "(^|\n)out 1[.]2\n" "(^|\n)pout 0[.]1\n"
        "INFO    [|] talk-1 [|] log 1[.]2\n"
        "Finished in state Completed: 5 of 5 task runs completed"
  NOMATCH "OUTPUT  [|]" "on rank [12] [|]")
pd_expect(output.bad_setting LABEL mpi NP 2 RC 2
  ARGS --set client_kwargs.task_output=loud ${F}/output.so
  MATCH "error: --set: task_output \"loud\" is not forward or local"
  NOMATCH "Beginning flow run")

# Flooded: 4 x 50000 lines, more than a worker holds unsent, all arrive,
# once, in order (tests/output_flood.sh).
pd_expect(output.flood LABEL mpi MAX_SECONDS 90 TIMEOUT 120
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/output_flood.sh
          $<TARGET_FILE:pdask-mpi> ${F}
  MATCH "flood ok: 200000 lines" NOMATCH "FAIL")

# A worker that crashes or exits: what the run wrote last still comes out
# once, from rank 0 if it got it, else from the dying worker
# ("last-0: ..."), never lost.
pd_expect(output.last_words LABEL mpi NP 2 RC 139 MAX_SECONDS 30
  ARGS ${F}/lastwords.so
  MATCH "(last-0: |last-0 on rank 1 [|] )last words of last-0\n"
        "(last-0: |last-0 on rank 1 [|] )unfinished line\n"
        "pdask-mpi: error: rank 1: task run last-0 crashed with SIGSEGV"
  COUNT 1 "last words of last-0" COUNT 1 "unfinished line")
pd_expect(output.last_words_exit LABEL mpi NP 2 RC 5 MAX_SECONDS 30
  ARGS ${F}/lastwords.so mode=exit
  MATCH "(last-0: |last-0 on rank 1 [|] )last words of last-0\n"
        "(last-0: |last-0 on rank 1 [|] )unfinished line\n"
        "pdask-mpi: error: rank 1: task run last-0 called exit[(]5[)]"
  COUNT 1 "last words of last-0" COUNT 1 "unfinished line")
