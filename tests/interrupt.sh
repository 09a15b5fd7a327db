#!/usr/bin/env bash
# SIGINT to a temporary cluster and SIGTERM to mpirun, mid-run: rank 0
# cancels what has not ended, prints a summary that says so, and exits
# 128 + the signal; no process is left behind.
# usage: interrupt.sh PDASK_MPI EXAMPLES_DIR
set -u
pd=$1 ex=$2
out=$(mktemp) fail=0
trap 'rm -f "$out"' EXIT

# Wait until the flow run has begun (at most 20 s).
begun() {
    for _ in $(seq 200); do
        grep -q "Beginning flow run" "$out" && return 0
        sleep 0.1
    done
    return 1
}

check() { # what, pattern
    if ! grep -Eq "$2" "$out"; then
        echo "FAIL $1: no line matching: $2"
        cat "$out"
        fail=1
    fi
}

# Ctrl-C on a temporary cluster: the runner itself exits 130.
"$pd" -n 2 "$ex/count_to.so" highest_number=40 >"$out" 2>&1 &
pid=$!
begun || { echo "FAIL: the temporary cluster did not start"; cat "$out"; exit 1; }
sleep 0.7
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" = 130 ] || { echo "FAIL temporary: exit code $rc, want 130"; fail=1; }
check temporary "count_to \| Interrupted by SIGINT: [0-9]+ task runs cancelled"
check temporary "Finished in state Cancelled: [0-9]+ of 40 task runs completed, [0-9]+ did not, in [0-9.]+ s; exit code 130"

# SIGTERM to mpirun (as scancel sends): rank 0 still says what happened.
mpirun ${MPIEXEC_PREFLAGS:-} -n 3 "$pd" "$ex/count_to.so" highest_number=40 \
    >"$out" 2>&1 &
pid=$!
begun || { echo "FAIL: mpirun did not start the run"; cat "$out"; exit 1; }
sleep 0.7
kill -TERM "$pid"
wait "$pid"
check mpirun "count_to \| Interrupted by SIGTERM"
check mpirun "Finished in state Cancelled: [0-9]+ of 40 task runs completed.*exit code 143"

sleep 1
if pgrep -f "$pd .*count_to.so highest_number=40" >/dev/null; then
    echo "FAIL: processes left behind:"
    pgrep -af "$pd .*count_to.so highest_number=40"
    fail=1
fi
[ "$fail" = 0 ] && echo "interrupt ok"
exit "$fail"
