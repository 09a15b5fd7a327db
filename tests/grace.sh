#!/usr/bin/env bash
# The grace period and the job's end time (issue 13, point 4):
# - SIGINT to a temporary cluster: no new run starts, the runs sent to
#   workers end (their side effect is there), the rest is Cancelled, exit
#   130, the last line says how to resume; a second signal stops at once;
#   a short grace period cancels what is still running;
# - SIGTERM to rank 0 of an mpirun job: the same, 143;
# - a job end time (PDASK_JOB_END_TIME, as SLURM's would be read): no run
#   starts that would not end before it, exit 4, and a resume with the
#   journal runs only what was left.
# No rank is left behind. Each task run of flows/journal.so appends a line
# to $side.
# usage: grace.sh PDASK_MPI FLOWS_DIR
set -u
pd=$1 flows=$2
dir=$(mktemp -d) fail=0
trap 'rm -rf "$dir"' EXIT
side=$dir/side
lines() { [ -f "$side" ] && wc -l <"$side" || echo 0; }
FAIL() { echo "FAIL $*"; fail=1; }
expect() { # what, file, pattern
    grep -Eq "$3" "$2" || { FAIL "$1: no line matching: $3"; cat "$2"; }
}
started() { # wait until a run of work has ended (at most 30 s)
    for _ in $(seq 300); do
        [ "$(grep -c "^work" "$side" 2>/dev/null)" -ge 1 ] && return 0
        sleep 0.1
    done
    return 1
}
completed() { grep -Eo "Finished in state Cancelled: [0-9]+ of" "$1" |
              grep -Eo "[0-9]+"; }
# Runs that ran and completed: flaky fails.
ran_ok() { grep -vc "^flaky" "$side"; }
# One thread a worker and nothing queued ahead: two runs at a time.
opts="-t 1 --prefetch 0"
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }

# 1. SIGINT to a temporary cluster, grace 20 s, 1.5 s runs: the runs sent
# end, nothing else starts.
"$pd" -n 2 $opts --grace-period 20 --journal "$dir/a.pdj" "$flows/journal.so" \
    out="$side" n=30 sleep_ms=1500 >"$dir/1" 2>&1 &
pid=$!
started || FAIL "temporary cluster: no run ended"
kill -INT "$pid"
t0=$(now)
wait "$pid"
rc=$? t=$(secs "$t0" "$(now)")
[ "$rc" = 130 ] || FAIL "grace: exit $rc, want 130"
expect grace "$dir/1" "SIGINT: starting no new task runs; the [0-9]+ sent to workers \(running or queued there\) get up to 20 s to end"
expect grace "$dir/1" "Finished in state Cancelled: [0-9]+ of 62 task runs completed, [0-9]+ did not, in [0-9.]+ s; 0 from the journal; exit code 130"
[ "$(tail -n 1 "$dir/1" | grep -c "To resume: run the same command with --journal $dir/a.pdj")" = 1 ] ||
    FAIL "grace: the last line is not the resume hint: $(tail -n 1 "$dir/1")"
# Every run that completed has its line, and no other run ran: the runs
# in flight ended instead of being cut.
[ "$(completed "$dir/1")" = "$(ran_ok)" ] ||
    FAIL "grace: $(completed "$dir/1") completed, $(ran_ok) ran"
[ "$(echo "$t < 19" | bc)" = 1 ] || FAIL "grace: took $t s after the signal"
echo "grace: $(completed "$dir/1") runs completed, $t s after SIGINT"

# 2. A second SIGINT stops at once; a short grace period cancels runs
# still running (5 s runs).
rm -f "$side"
"$pd" -n 2 $opts --grace-period 30 "$flows/journal.so" out="$side" n=30 \
    sleep_ms=5000 >"$dir/2" 2>&1 &
pid=$!
started
kill -INT "$pid"
sleep 0.5
t0=$(now)
kill -INT "$pid"
wait "$pid"
rc=$? t=$(secs "$t0" "$(now)")
[ "$rc" = 130 ] || FAIL "second signal: exit $rc, want 130"
[ "$(echo "$t < 3" | bc)" = 1 ] || FAIL "second signal: took $t s"
rm -f "$side"
"$pd" -n 2 $opts --grace-period 0.5 "$flows/journal.so" out="$side" n=30 \
    sleep_ms=5000 >"$dir/3" 2>&1 &
pid=$!
started
t0=$(now)
kill -INT "$pid"
wait "$pid"
rc=$? t=$(secs "$t0" "$(now)")
[ "$rc" = 130 ] || FAIL "short grace: exit $rc, want 130"
[ "$(echo "$t < 3" | bc)" = 1 ] || FAIL "short grace: took $t s"
expect "short grace" "$dir/3" "Interrupted by SIGINT: [0-9]+ task runs cancelled"

# 3. SIGTERM to rank 0 of an mpirun job (as a job script that traps
# SLURM's --signal=B:TERM would send it), with mpirun's kill delay
# above the grace period: the runs sent end.
rm -f "$side"
mpirun ${MPIEXEC_PREFLAGS:-} --mca odls_base_sigkill_timeout 30 -n 3 \
    "$pd" $opts --grace-period 20 "$flows/journal.so" out="$side" n=30 \
    sleep_ms=1500 >"$dir/4" 2>&1 &
pid=$!
started || FAIL "mpirun: no run ended"
r0=
for p in $(pgrep -f -- "$flows/journal.so out=$side"); do
    tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null |
        grep -qx "OMPI_COMM_WORLD_RANK=0" && r0=$p
done
[ -n "$r0" ] && kill -TERM "$r0"
wait "$pid"
expect mpirun "$dir/4" "SIGTERM: starting no new task runs; .* get up to 20 s"
expect mpirun "$dir/4" "Finished in state Cancelled: [0-9]+ of 62 task runs completed.*exit code 143"
[ "$(completed "$dir/4")" = "$(ran_ok)" ] ||
    FAIL "mpirun: $(completed "$dir/4") completed, $(ran_ok) ran"
echo "mpirun: $(completed "$dir/4") runs completed"

# 4. The job's end time: 1 s runs, 5 s left. Runs that would end after it
# do not start; exit 4; resume with the journal.
rm -f "$side"
end=$(($(date +%s) + 5))
PDASK_JOB_END_TIME=$end mpirun ${MPIEXEC_PREFLAGS:-} -x PDASK_JOB_END_TIME \
    -n 3 "$pd" $opts --journal "$dir/w.pdj" "$flows/journal.so" \
    out="$side" n=30 sleep_ms=1000 >"$dir/5" 2>&1
rc=$?
[ "$rc" = 4 ] || FAIL "walltime: exit $rc, want 4"
# The flow run ended before the end time (mpirun's own exit may take a
# moment more).
[ "$(date +%s)" -le $((end + 2)) ] || FAIL "walltime: ran past the end time"
expect walltime "$dir/5" "The job ends in [0-9]+ s \(PDASK_JOB_END_TIME\): task runs that would not finish by then are not started"
expect walltime "$dir/5" "no task run left can finish before then .*; [0-9]+ task runs cancelled"
expect walltime "$dir/5" "Finished in state Cancelled: [0-9]+ of 62 task runs completed"
grep -v "^ \|^--\|^$\|^Primary\|^a non-zero\|^mpirun detected\|^the job to be\|^ *Process\|^ *Exit" \
    "$dir/5" | tail -n 1 | grep -q "To resume: run the same command with --journal $dir/w.pdj" ||
    FAIL "walltime: the last line is not the resume hint"
done=$(lines)
mpi_out=$dir/6
mpirun ${MPIEXEC_PREFLAGS:-} -n 3 "$pd" --journal "$dir/w.pdj" \
    "$flows/journal.so" out="$side" n=30 sleep_ms=1000 >"$mpi_out" 2>&1
rc=$?
[ "$rc" = 1 ] || FAIL "walltime resume: exit $rc, want 1 (flaky fails)"
from=$(grep -o "; [0-9]* from the journal" "$mpi_out" | grep -o "[0-9]*")
ran=$(($(lines) - done))
[ -n "$from" ] && [ $((from + ran)) = 61 ] ||
    FAIL "walltime resume: ${from:-?} from the journal + $ran run != 61"
echo "walltime: $done runs before the end time; the resume took ${from:-?} from the journal and ran $ran"

sleep 1
if pgrep -f -- "$flows/journal.so out=$side" >/dev/null; then
    FAIL "processes left behind:"
    pgrep -af -- "$flows/journal.so out=$side"
fi
[ "$fail" = 0 ] && echo "grace ok"
exit "$fail"
