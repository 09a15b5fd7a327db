#!/usr/bin/env bash
# The resume journal (--journal): a run again with the same journal runs
# nothing it recorded; --retry-failed runs the failure again; kill -9 of
# the whole job mid-run, then a resume: no recorded run runs again, and the
# flow gets the same results; a torn WAL tail is recovered; another flow,
# another build, other parameters, a garbage file and a damaged file are
# refused with a message and exit 2.
# Each task run of flows/journal.so appends a line to $side: the lines
# count how many runs ran.
# usage: journal.sh PDASK_MPI FLOWS_DIR
set -u
pd=$1 flows=$2
dir=$(mktemp -d) fail=0
trap 'rm -rf "$dir"' EXIT
side=$dir/side
mpi() { mpirun ${MPIEXEC_PREFLAGS:-} -n 3 "$@"; }
lines() { [ -f "$side" ] && wc -l <"$side" || echo 0; }
FAIL() { echo "FAIL $*"; fail=1; }
expect() { # what, file, pattern
    grep -Eq "$3" "$2" || { FAIL "$1: no line matching: $3"; cat "$2"; }
}
result() { grep -o "journal flow result: .*" "$1"; }
total=$((2 + 2 + 2 * 29)) # work(0) twice, flaky, after, 29 work + widen

# 1. A first run: everything runs, flaky fails, after is NotReady.
mpi "$pd" --journal "$dir/a.pdj" "$flows/journal.so" out="$side" n=30 \
    >"$dir/1" 2>&1
rc=$?
[ "$rc" = 1 ] || FAIL "first run: exit $rc, want 1"
expect first "$dir/1" "Finished in state Failed: 60 of 62 task runs completed, 2 did not, in [0-9.]+ s; 0 from the journal"
[ "$(lines)" = $((total - 1)) ] || FAIL "first run: $(lines) runs ran, want $((total - 1))"
want=$(result "$dir/1")

# 2. Again: nothing runs; flaky ends Failed from the journal, with its
# message; the same results.
before=$(lines)
mpi "$pd" --journal "$dir/a.pdj" "$flows/journal.so" out="$side" n=30 \
    >"$dir/2" 2>&1
rc=$?
[ "$rc" = 1 ] || FAIL "second run: exit $rc, want 1"
[ "$(lines)" = "$before" ] || FAIL "second run ran $(($(lines) - before)) task runs again"
expect second "$dir/2" "flaky-0 \| Finished in state Failed\('not fixed yet'\)"
expect second "$dir/2" "; 61 from the journal"
[ "$(result "$dir/2")" = "$want" ] || FAIL "second run: $(result "$dir/2"), want $want"

# 3. --retry-failed, once it is fixed: flaky and after run, nothing else.
touch "$side.fixed"
before=$(lines)
mpi "$pd" --journal "$dir/a.pdj" --retry-failed "$flows/journal.so" \
    out="$side" n=30 >"$dir/3" 2>&1
rc=$?
[ "$rc" = 0 ] || FAIL "retry-failed: exit $rc, want 0"
[ "$(lines)" = $((before + 2)) ] || FAIL "retry-failed ran $(($(lines) - before)) task runs, want 2 (flaky, after)"
expect retry "$dir/3" "Finished in state Completed: 62 of 62 task runs completed, 0 did not, in [0-9.]+ s; 60 from the journal"
expect retry "$dir/3" "journal flow result: 32 results.* flaky Completed"
want=$(result "$dir/3")

# 4. Refused: another flow, another build of the .so, other parameters.
mpi "$pd" --journal "$dir/a.pdj" "$flows/fail.so" >"$dir/4" 2>&1
rc=$?
[ "$rc" = 2 ] || FAIL "another flow: exit $rc, want 2"
expect "another flow" "$dir/4" "journal .*a.pdj: it belongs to flow 'journal', not 'fail'"
cp "$flows/journal.so" "$dir/rebuilt.so" && printf 'x' >>"$dir/rebuilt.so"
mpi "$pd" --journal "$dir/a.pdj" "$dir/rebuilt.so" out="$side" n=30 \
    >"$dir/5" 2>&1
rc=$?
[ "$rc" = 2 ] || FAIL "another build: exit $rc, want 2"
expect "another build" "$dir/5" "it was written by another build of .*rebuilt.so"
mpi "$pd" --journal "$dir/a.pdj" "$flows/journal.so" out="$side" n=31 \
    >"$dir/6" 2>&1
rc=$?
[ "$rc" = 2 ] || FAIL "other parameters: exit $rc, want 2"
expect "other parameters" "$dir/6" "it was written with other parameters"

# 5. Not a journal: garbage, an empty SQLite database of another program,
# and a journal whose file was cut short.
head -c 8192 /dev/urandom >"$dir/garbage.pdj"
mpi "$pd" --journal "$dir/garbage.pdj" "$flows/journal.so" out="$side" \
    n=30 >"$dir/7" 2>&1
rc=$?
[ "$rc" = 2 ] || FAIL "garbage: exit $rc, want 2"
expect garbage "$dir/7" "journal .*garbage.pdj: not a pdask-mpi journal \(not an SQLite database\)"
cp "$dir/a.pdj" "$dir/cut.pdj" && truncate -s 5000 "$dir/cut.pdj"
mpi "$pd" --journal "$dir/cut.pdj" "$flows/journal.so" out="$side" n=30 \
    >"$dir/8" 2>&1
rc=$?
[ "$rc" = 2 ] || FAIL "cut short: exit $rc, want 2"
expect "cut short" "$dir/8" "journal .*cut.pdj: (the file is damaged|not a pdask-mpi journal)"
grep -q "AddressSanitizer\|Segmentation\|core dumped" "$dir/7" "$dir/8" &&
    FAIL "a bad journal crashed the runner"

# 6. kill -9 of the whole job (mpirun's process group) mid-run, then the
# same command again.
rm -f "$side" "$side.fixed"
setsid mpirun ${MPIEXEC_PREFLAGS:-} -n 3 "$pd" --journal "$dir/k.pdj" \
    "$flows/journal.so" out="$side" n=30 sleep_ms=100 >"$dir/9" 2>&1 &
pid=$!
for _ in $(seq 300); do
    [ "$(lines)" -ge 20 ] && break
    sleep 0.05
done
# mpirun and its ranks at once, as a node failure or the batch system's
# kill would: Open MPI starts the ranks in process groups of their own.
ranks=$(pgrep -f -- "--journal $dir/k.pdj")
kill -9 -- -"$pid" $ranks
wait "$pid" 2>/dev/null
sleep 0.5
killed=$(lines)
[ "$killed" -ge 20 ] && [ "$killed" -lt $((total - 1)) ] ||
    FAIL "kill -9: $killed runs had run when it was killed; want 20 to $((total - 2))"
# A torn tail: a copy of the journal whose log is cut in the middle of a
# frame must open, with fewer runs in it.
if [ -f "$dir/k.pdj-wal" ]; then
    cp "$dir/k.pdj" "$dir/torn.pdj"
    cp "$dir/k.pdj-wal" "$dir/torn.pdj-wal"
    truncate -s $(($(stat -c %s "$dir/torn.pdj-wal") - 1000)) "$dir/torn.pdj-wal"
fi
mpi "$pd" --journal "$dir/k.pdj" "$flows/journal.so" out="$side" n=30 \
    sleep_ms=100 >"$dir/10" 2>&1
rc=$?
[ "$rc" = 1 ] || FAIL "resume: exit $rc, want 1 (flaky fails)"
from=$(grep -o "; [0-9]* from the journal" "$dir/10" | grep -o "[0-9]*")
ran=$(($(lines) - killed))
echo "killed after $killed task runs; the resume took ${from:-?} from the journal and ran $ran"
[ -n "$from" ] && [ "$from" -gt 0 ] || FAIL "resume: nothing came from the journal"
# Every run that is not NotReady (after) ends once: from the journal, or
# run now. No recorded run ran again.
[ -n "$from" ] && [ $((from + ran)) = $((total - 1)) ] ||
    FAIL "resume: $from from the journal + $ran run != $((total - 1))"
# Same results as the uninterrupted run (flaky failed here, so after's
# result is missing: compare against a clean run of the same state).
rm -f "$side"
mpi "$pd" "$flows/journal.so" out="$side" n=30 >"$dir/11" 2>&1
[ "$(result "$dir/10")" = "$(result "$dir/11")" ] ||
    FAIL "resume: $(result "$dir/10"), a clean run gives $(result "$dir/11")"
if [ -f "$dir/torn.pdj" ]; then
    rm -f "$side"
    mpi "$pd" --journal "$dir/torn.pdj" "$flows/journal.so" out="$side" \
        n=30 sleep_ms=100 >"$dir/12" 2>&1
    rc=$?
    [ "$rc" = 1 ] || { FAIL "torn tail: exit $rc, want 1"; cat "$dir/12"; }
    [ "$(result "$dir/12")" = "$(result "$dir/11")" ] ||
        FAIL "torn tail: $(result "$dir/12"), want $(result "$dir/11")"
    echo "torn tail: $(grep -o "[0-9]* from the journal" "$dir/12")"
fi
[ "$fail" = 0 ] && echo "journal ok"
exit "$fail"
