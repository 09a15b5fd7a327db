#!/bin/bash
# slurm.sh PDASK_MPI FLOWS_DIR EXAMPLES_DIR - submits jobscripts/pdask-mpi.sbatch
# to a private single-node SLURM (../shared/slurm) and checks the jobs' exit
# codes and output: a flow that completes (0), one with failed task runs
# (1), a bad parameter (2), task logs and output with their run names, a job whose end time comes first (4), and adaptive scaling into free slots. Prints "N passed, M failed"; 77 (skipped)
# without root, ../shared/slurm, or a SLURM that starts.
set -uo pipefail
PD=$1 FLOWS=$2 EX=$3
HERE=$(cd "$(dirname "$0")" && pwd)
SLURM=${SLURM_DIR:-$(cd "$HERE/../../shared/slurm" 2>/dev/null && pwd)}
JOB=$HERE/../jobscripts/pdask-mpi.sbatch
ST=$(mktemp -d /tmp/pdask-slurm.XXXXXX)
pass=0 fail=0
ok()  { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

if [ ! -f "$SLURM/start-local-slurm.sh" ] || [ "$(id -u)" != 0 ]; then
    echo "skipped: needs root and ../shared/slurm beside the project (or SLURM_DIR)"
    exit 77
fi
cleanup() { bash "$SLURM/stop-local-slurm.sh" "$ST" >/dev/null 2>&1; rm -rf "$ST"; }
trap cleanup EXIT
if ! bash "$SLURM/start-local-slurm.sh" "$ST" >"$ST.log" 2>&1; then
    tail -5 "$ST.log"
    echo "skipped: the local SLURM did not start"
    exit 77
fi
source "$ST/env.sh"
cd "$ST"

# submit NAME TASKS ARGS...: runs the job script, leaves its output in NAME.out
submit() {
    local name=$1 n=$2
    shift 2
    PDASK_MPI=$PD LOCAL_SLURM_WAIT_TIMEOUT=120 \
        bash "$SLURM/sbatch-wait.sh" --ntasks="$n" --output="$ST/$name.out" \
        --export=ALL "$JOB" "$@" 2>/dev/null
}

submit ok 4 "$EX/count_to.so" highest_number=6; rc=$?
if [ $rc = 0 ] && grep -q "Beginning flow run with 3 workers" ok.out &&
   grep -q "Finished in state Completed: 6 of 6" ok.out; then
    ok "count_to on 4 SLURM tasks"
else
    bad "count_to on 4 SLURM tasks (job exit $rc)"; tail -5 ok.out
fi

submit failed 3 "$FLOWS/fail.so"; rc=$?
if [ $rc = 1 ] && grep -q "fail checks passed" failed.out; then
    ok "failed task runs give job exit code 1"
else
    bad "failed task runs (job exit $rc, want 1)"; tail -5 failed.out
fi

submit usage 2 "$EX/count_to.so" highest_number=ten; rc=$?
if [ $rc = 2 ] && grep -q "parameter highest_number=ten: not an integer" usage.out; then
    ok "a bad parameter gives job exit code 2"
else
    bad "bad parameter (job exit $rc, want 2)"; tail -5 usage.out
fi

# Worker logs and task output (src/fwd.h) in the job's output file, with
# their run names and ranks.
submit logs 3 "$FLOWS/output.so" runs=2; rc=$?
if [ $rc = 0 ] && grep -Eq "INFO +\| talk-1 on rank [12] \| log 1\.2$" logs.out &&
   grep -Eq "OUTPUT +\| talk-0 on rank [12] \| out 0\.1$" logs.out &&
   grep -Eq "OUTPUT +\| proc_talk-1 on rank [12] \| pout 1\.2$" logs.out &&
   [ "$(grep -c "| log 1\.2$" logs.out)" = 1 ]; then
    ok "task logs and output reach the job's output file with run names"
else
    bad "task logs and output in the job's output file (job exit $rc)"; tail -5 logs.out
fi

# The job's end time: a 1-minute job of 10 s runs (two at a time). Rank 0
# reads the end time from SLURM and starts no run that would end after
# it: the job ends by itself with exit 4 and the resume hint, before
# SLURM's limit.
PDASK_MPI=$PD LOCAL_SLURM_WAIT_TIMEOUT=180 \
    bash "$SLURM/sbatch-wait.sh" --ntasks=3 --time=1 \
    --output="$ST/walltime.out" --export=ALL "$JOB" -t 1 --prefetch 0 \
    --journal "$ST/w.pdj" "$FLOWS/journal.so" out="$ST/side" n=12 \
    sleep_ms=10000 2>/dev/null; rc=$?
if [ $rc = 4 ] &&
   grep -Eq "The job ends in [0-9]+ s \((SLURM_JOB_END_TIME|squeue)\)" walltime.out &&
   grep -q "no task run left can finish before then" walltime.out &&
   grep -q "To resume: run the same command with --journal $ST/w.pdj" walltime.out; then
    ok "the job's end time: exit 4 before SLURM's limit, with the resume hint"
else
    bad "the job's end time (job exit $rc, want 4)"; tail -8 walltime.out
fi

# Adaptive scaling inside the allocation: 2 of its 4 slots for the job,
# the scheduler spawns workers into the 2 free ones.
PDASK_MPIRUN_ARGS="-n 2" submit adapt 4 -t 1 --adapt-max 3 \
    --set adapt_kwargs.target_duration=0.5 \
    "$FLOWS/adapt_burst.so" bursts=1 runs=12 gap_ms=0; rc=$?
if [ $rc = 0 ] && grep -q "Scaling from 1 to 3 workers" adapt.out &&
   grep -q "results after scaling: 0 of 14 wrong" adapt.out; then
    ok "adaptive scaling spawns into the allocation's free slots"
else
    bad "adaptive scaling under SLURM (job exit $rc)"; tail -5 adapt.out
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
