#!/bin/bash
# spawn_default.sh PDASK_MPI EXAMPLES_DIR - the temporary cluster out of the
# box: pdask-mpi alone, no -n, no mpirun and no oversubscription allowed in
# the environment, runs count_to on this machine and on 1, 2 and 4 cores
# (HWLOC_SYNTHETIC: both pdask-mpi's sizing and Open MPI's slot count read
# it); more workers than cores fails with the clear message and exit 2.
set -uo pipefail
EXE=$1 EX=$2
unset OMPI_MCA_rmaps_base_oversubscribe HWLOC_SYNTHETIC
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fails=0

# run NAME WANT_RC REGEX... -- ARGS...: run pdask-mpi, check exit code and
# that the output matches every REGEX.
run() {
    local name=$1 want=$2 out rc res=()
    shift 2
    while [ "$1" != -- ]; do res+=("$1"); shift; done
    shift
    out=$(timeout 60 "$EXE" "$@" 2>&1)
    rc=$?
    echo "== $name: pdask-mpi $* (exit $rc)"
    echo "$out" | grep -v '^#'
    if [ "$rc" != "$want" ]; then
        echo "FAIL $name: exit code $rc, expected $want"
        fails=$((fails + 1))
    fi
    for re in "${res[@]}"; do
        if ! grep -Eq -- "$re" <<<"$out"; then
            echo "FAIL $name: output does not match: $re"
            fails=$((fails + 1))
        fi
    done
}

done4="Finished in state Completed: 4 of 4"
run machine 0 "spawning [0-9]+ workers" "$done4" -- \
    "$EX/count_to.so" highest_number=4
for c in 1 2 4; do
    HWLOC_SYNTHETIC="pack:1 core:$c pu:1" run "cores_$c" 0 \
        "spawning $c workers" "Beginning flow run with $c workers" "$done4" \
        -- "$EX/count_to.so" highest_number=4
done
# An explicit size above the cores is not oversubscribed silently.
too=$(( $(nproc) + 1 ))
run machine_too_many 2 "error: cannot spawn $too workers .*: [0-9]+ cores fit [0-9]+ workers beside the scheduler; ask for fewer [(]n_workers, -n[)], set OMPI_MCA_rmaps_base_oversubscribe=1" \
    -- -n "$too" "$EX/count_to.so" highest_number=4
HWLOC_SYNTHETIC="pack:1 core:2 pu:1" run cores_2_n16 2 \
    "error: cannot spawn 16 workers .*: 2 cores fit 2 workers beside the scheduler" \
    -- -n 16 "$EX/count_to.so" highest_number=4

[ "$fails" = 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "spawn default ok"
