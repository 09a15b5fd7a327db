#!/bin/bash
# slurm_serve.sh PDASK_MPI FLOWS_DIR EXAMPLES_DIR - jobscripts/pdask-serve.sbatch
# under a private single-node SLURM (../shared/slurm): a served cluster as
# one job, a flow run against it from another job by its scheduler file,
# then scancel stops it cleanly (the file removed). Prints "N passed, M
# failed"; 77 (skipped) without root, ../shared/slurm, or a SLURM that
# starts.
set -uo pipefail
PD=$1 FLOWS=$2 EX=$3
HERE=$(cd "$(dirname "$0")" && pwd)
SLURM=${SLURM_DIR:-$(cd "$HERE/../../shared/slurm" 2>/dev/null && pwd)}
JOB=$HERE/../jobscripts/pdask-serve.sbatch
ST=$(mktemp -d /tmp/pdask-slurm-serve.XXXXXX)
pass=0 fail=0
ok()  { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

if [ ! -f "$SLURM/start-local-slurm.sh" ] || [ "$(id -u)" != 0 ]; then
    echo "skipped: needs root and ../shared/slurm beside the project (or SLURM_DIR)"
    exit 77
fi
cleanup() {
    [ -n "${jid:-}" ] && scancel "$jid" 2>/dev/null
    bash "$SLURM/stop-local-slurm.sh" "$ST" >/dev/null 2>&1
    rm -rf "$ST"
}
trap cleanup EXIT
if ! bash "$SLURM/start-local-slurm.sh" "$ST" >"$ST.log" 2>&1; then
    tail -5 "$ST.log"
    echo "skipped: the local SLURM did not start"
    exit 77
fi
source "$ST/env.sh"
cd "$ST"
export HOME=$ST/home
mkdir -p "$HOME"
sf=$ST/shared/sched.json

jid=$(PDASK_MPI=$PD PDASK_LISTEN=tcp://0.0.0.0:0 \
      PDASK_MPIRUN_ARGS=--oversubscribe \
      sbatch --parsable --ntasks=3 --output="$ST/serve.out" --export=ALL \
      "$JOB" "$sf")
jid=${jid%%;*}
for _ in $(seq 600); do [ -s "$sf" ] && break; sleep 0.1; done
if [ -s "$sf" ] && [ "$(stat -c %a "$sf")" = 600 ]; then
    ok "the served job wrote its scheduler file (0600)"
else
    bad "no scheduler file from the served job"; cat serve.out
fi

# A flow run from another job, by the scheduler file.
LOCAL_SLURM_WAIT_TIMEOUT=120 bash "$SLURM/sbatch-wait.sh" --ntasks=1 \
    --output="$ST/client.out" --export=ALL \
    --wrap "$PD --scheduler-file $sf $EX/count_to.so highest_number=6" \
    2>/dev/null
rc=$?
if [ $rc = 0 ] && grep -q "Finished in state Completed: 6 of 6" client.out; then
    ok "a flow from another job ran on the served cluster"
else
    bad "client job (exit $rc)"; tail -5 client.out; tail -5 serve.out
fi

# scancel --batch --signal=TERM: SIGTERM to the job's mpirun only, which
# passes it to the ranks: a clean stop.
scancel --signal=TERM --batch "$jid"
for _ in $(seq 300); do [ -e "$sf" ] || break; sleep 0.1; done
if [ ! -e "$sf" ] && grep -q "Shutting down the cluster" serve.out; then
    ok "scancel stops the served cluster and removes its file"
else
    bad "scancel"; tail -5 serve.out
fi
scancel "$jid" 2>/dev/null
jid=

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
