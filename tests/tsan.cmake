# The tsan tier: flows under mpiexec through pdask-mpi-tsan, the runner
# built with -fsanitize=thread (PDASK_TSAN in the top CMakeLists.txt). Any
# report fails the test: TSAN exits the rank with 66 at the first one, and
# the output must not contain a report either. Open MPI's own reports are
# suppressed in tsan.supp, each with why; pdask-mpi's never are.
set(TSAN_ENV "TSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/tsan.supp halt_on_error=1 exitcode=66 second_deadlock_stack=1")
# gcc 12's TSAN cannot map its shadow memory with more than 28 bits of
# mmap randomisation ("unexpected memory mapping"): run without ASLR then.
set(_tsan_launcher "")
if(EXISTS /proc/sys/vm/mmap_rnd_bits)
  file(READ /proc/sys/vm/mmap_rnd_bits _bits)
  find_program(SETARCH setarch)
  if(_bits GREATER 28 AND SETARCH)
    set(_tsan_launcher ${SETARCH} ${CMAKE_SYSTEM_PROCESSOR} -R)
  endif()
endif()
set(PDASK_TSAN_LAUNCHER "${_tsan_launcher}" CACHE STRING
    "Words in front of mpiexec for the tsan tier, e.g. setarch;x86_64;-R")

# pd_tsan(NAME ...): pd_expect through pdask-mpi-tsan, label tsan.
function(pd_tsan name)
  pd_expect(tsan.${name} LABEL tsan RUNNER pdask-mpi-tsan TIMEOUT 120
            LAUNCHER ${PDASK_TSAN_LAUNCHER} ENV "${TSAN_ENV}"
            HASNOT "WARNING: ThreadSanitizer" ${ARGN})
endfunction()

pd_tsan(deps NP 4 ARGS ${F}/deps.so depth=40
  HAS "deps checks passed"
      "Finished in state Completed: 58 of 58 task runs completed, 0 did not")
pd_tsan(deps_big NP 4 ARGS ${F}/deps.so depth=5 big=3000000
  HAS "deps checks passed" "fetched big result: 3000000 bytes")
pd_tsan(fail NP 3 RC 1 ARGS ${F}/fail.so
  HAS "fail checks passed"
      "Finished in state Failed: 1 of 7 task runs completed, 6 did not")
pd_tsan(many_runs NP 3 ARGS ${PROJECT_BINARY_DIR}/bench/flows/bench_empty.so
  n=20000
  HAS "BENCH tasks=20000"
      "Finished in state Completed: 20000 of 20000 task runs completed")
pd_tsan(threads_4 NP 3 ARGS -t 4 ${F}/deps.so depth=200
  HAS "deps checks passed"
      "Finished in state Completed: 218 of 218 task runs completed")
pd_tsan(release NP 3 ARGS ${F}/release.so
  HAS "release checks passed"
      "Finished in state Completed: 5 of 5 task runs completed")
# R1 of the outside review (shared/review): pd_release on the flow thread
# and graph_add/finish on the scheduler read-modify-write the same
# pd_future.flags. race.c is the review's reproducer, run as it says:
# n=20000 on mpirun -n 3. Fails until R1 is fixed.
pd_tsan(race_r1 NP 3 ARGS ${F}/race.so n=20000
  HAS "race | Finished in state Completed: 20001 of 20001 task runs completed")
# Resources: holds across the flow thread, scheduler and executors, and the
# profile queues of runs that wait for them.
pd_tsan(resources NP 4 RC 1 ARGS -t 2 -c ${INI}/gpu_ranks.ini ${F}/resources.so
  HAS "resources checks passed")
pd_tsan(many_gpu_runs NP 3 ARGS --resources GPU=1
  ${PROJECT_BINARY_DIR}/bench/flows/bench_empty.so n=20000 resources=GPU=0.01
  HAS "BENCH tasks=20000"
      "Finished in state Completed: 20000 of 20000 task runs completed")
# Task output forwarded (fwd.h): stdio streams, frames and the pipe.
pd_tsan(output NP 3 ARGS ${F}/output.so
  MATCH "OUTPUT  [|] talk-5 on rank [12] [|] out 5[.]2\n"
        "OUTPUT  [|] proc_talk-1 on rank [12] [|] pend 1\n"
  HAS "Finished in state Completed: 9 of 9 task runs completed")
# Adaptive scaling: spawns, retirements and relays under TSAN.
pd_tsan(adapt NP 2 ARGS -c ${CMAKE_CURRENT_SOURCE_DIR}/ini/adapt_fast.ini
  ${PROJECT_BINARY_DIR}/tests/flows/adapt_burst.so bursts=2 runs=12 gap_ms=1200
  MATCH "Scaling from 1 to [2-4] workers" "Scaling from [2-4] to 1 workers"
  HAS "results after scaling: 0 of 26 wrong")
