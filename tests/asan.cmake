# The asan tier: flows under mpiexec through pdask-mpi-asan, the runner
# built with -fsanitize=address,undefined (when PDASK_SANITIZE has address).
# LeakSanitizer runs at each rank's exit; Open MPI's own allocations kept
# until exit are suppressed in lsan.supp (by library, never a pdask-mpi
# frame). Components stay loaded (mca_base_component_disable_dlclose) so
# their frames have names; full stacks (fast_unwind_on_malloc=0) so a
# suppression sees every frame. `ctest -L asan`.
set(ASAN_ENV
    "ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:abort_on_error=0"
    "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/lsan.supp:print_suppressions=0"
    "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1"
    "OMPI_MCA_mca_base_component_disable_dlclose=1")

# pd_asan(NAME ...): pd_expect through pdask-mpi-asan, label asan.
function(pd_asan name)
  pd_expect(asan.${name} LABEL asan RUNNER pdask-mpi-asan TIMEOUT 180
            ENV ${ASAN_ENV}
            HASNOT "ERROR: LeakSanitizer" "ERROR: AddressSanitizer"
                   "runtime error:" ${ARGN})
endfunction()

pd_asan(deps NP 4 ARGS ${F}/deps.so depth=40
  HAS "deps checks passed"
      "Finished in state Completed: 58 of 58 task runs completed, 0 did not")
pd_asan(deps_big NP 4 ARGS ${F}/deps.so depth=5 big=3000000
  HAS "deps checks passed" "fetched big result: 3000000 bytes")
pd_asan(fail NP 3 RC 1 ARGS ${F}/fail.so
  HAS "fail checks passed"
      "Finished in state Failed: 1 of 7 task runs completed, 6 did not")
pd_asan(many_runs NP 3 ARGS ${PROJECT_BINARY_DIR}/bench/flows/bench_empty.so
  n=5000
  HAS "Finished in state Completed: 5000 of 5000 task runs completed")
pd_asan(big_results NP 3 RC 1 ARGS ${F}/journal.so n=10
  HAS "journal flow result: 11 results")
# The proof that the suppressions hide no leak of ours: a task that leaks
# 4242 bytes is reported, with the pdask-mpi frames that ran it.
pd_expect(asan.leak_is_reported LABEL asan RUNNER pdask-mpi-asan TIMEOUT 180
  RC 1 ENV ${ASAN_ENV} ARGS ${F}/leak.so
  MATCH "ERROR: LeakSanitizer: detected memory leaks"
        "Direct leak of 4242 byte[(]s[)] in 1 object[(]s[)]"
        "in run_task [^\n]*src/worker.c"
        "SUMMARY: AddressSanitizer: 4242 byte[(]s[)] leaked in 1 allocation")
