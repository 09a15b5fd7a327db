#!/bin/bash
# output_flood.sh PDASK_MPI FLOWS_DIR - four runs print 50000 lines each
# (about 5 MiB a worker, more than FWD_BACKLOG holds unsent): rank 0's log
# must have every line once, with its run's name, in order within each run.
# Prints "flood ok: N lines" when it does.
set -uo pipefail
PD=$1 FLOWS=$2
OUT=$(mktemp /tmp/pdask-flood.XXXXXX)
trap 'rm -f "$OUT"' EXIT
N=50000
mpirun -n 3 ${MPIEXEC_PREFLAGS:-} "$PD" "$FLOWS/output.so" runs=4 flood=$N \
    >"$OUT" 2>&1 || { echo "FAIL: exit $?"; tail -5 "$OUT"; exit 1; }
bad=0
for i in 0 1 2 3; do
    # The numbers of run i's flood lines, as rank 0 printed them.
    got=$(grep -E "^[0-9:.]+ \| OUTPUT  \| talk-$i on rank [12] \| flood $i\." "$OUT" |
          sed -E "s/.*flood $i\.([0-9]+) .*/\1/" | tr '\n' ' ')
    want=$(seq 0 $((N - 1)) | tr '\n' ' ')
    if [ "$got" != "$want" ]; then
        echo "FAIL: talk-$i: $(echo "$got" | wc -w) of $N lines, or out of order"
        bad=1
    fi
done
if grep -qE "^flood " "$OUT"; then
    echo "FAIL: raw lines (printed on a worker too)"
    bad=1
fi
grep -q "Finished in state Completed: 7 of 7 task runs completed" "$OUT" ||
    { echo "FAIL: no summary"; bad=1; }
[ $bad = 0 ] && echo "flood ok: $(grep -c "| flood " "$OUT") lines"
exit $bad
