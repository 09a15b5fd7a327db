#!/bin/bash
# hosts.sh PDASK_MPI FLOWS_DIR EXAMPLES_DIR - runs pdask-mpi across 3 hosts
# (network namespaces from shared/netns, TCP between them): per-node
# sizing, results that cross hosts, a temporary cluster spawned onto
# other hosts, and adaptive growth onto them. Prints "N passed, M failed"; exit 1 if any failed, 77
# (skipped) without root or without ../shared/netns beside the project.
set -uo pipefail
PD=$1 FLOWS=$2 EX=$3
NETNS=${NETNS_DIR:-$(cd "$(dirname "$0")/../../shared/netns" 2>/dev/null && pwd)}
export NETNS_PREFIX=pdh NETNS_SUBNET=10.77.31
ST=$(mktemp -d /tmp/pdask-hosts.XXXXXX)
pass=0 fail=0
ok()  { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
cleanup() { bash "$NETNS/stop-hosts.sh" "$ST" >/dev/null 2>&1; rm -rf "$ST"; }
trap cleanup EXIT

if [ ! -f "$NETNS/start-hosts.sh" ] || [ "$(id -u)" != 0 ]; then
    echo "skipped: needs root and ../shared/netns beside the project (or NETNS_DIR)"
    exit 77
fi
bash "$NETNS/start-hosts.sh" 3 "$ST" >/dev/null || { echo "start-hosts failed"; echo "0 passed, 1 failed"; exit 1; }
MR=$ST/mpirun-hosts
SYN="pack:1 core:4 pu:1"
run() { timeout 120 "$MR" -x HWLOC_SYNTHETIC="$SYN" "$@" 2>&1; }
# expect NAME REGEX...: pass when $out matches every REGEX.
expect() {
    local name=$1 re
    shift
    for re in "$@"; do
        if ! echo "$out" | grep -q "$re"; then
            bad "$name: no line matches '$re'"; echo "$out" | tail -20
            return
        fi
    done
    ok "$name"
}

# 1. Per-node sizing: 6 ranks by node over 3 hosts; rank 0 (scheduler) and
# worker 3 share pdh1, so worker 3 gets all 4 cores; the other hosts have
# two workers each, 2 threads apiece.
out=$(run -n 6 --map-by node "$PD" info)
echo "$out" | grep -E "rank|world"
expect "hwloc sizing per node" "rank 3 on pdh1: worker, 4 threads" \
    "rank 1 on pdh2: worker, 2 threads" "rank 5 on pdh3: worker, 2 threads"

# 2. A flow whose task runs land on every host and whose big result, made
# on one host, is read on the others and on rank 0.
out=$(run -n 4 --map-by node "$PD" "$FLOWS/hosts.so" n=24)
echo "$out" | grep -E "hosts|Finished"
expect "results cross hosts" "hosts checks passed" "ran on hosts .*pdh2" \
    "ran on hosts .*pdh3" "Finished in state Completed"

# 3. A temporary cluster: pdask-mpi alone (on pdh1, the first host of the
# hostfile) spawns its workers onto pdh2 and pdh3 with the hosts_spawn
# cluster-manager plugin.
out=$(PDASK_HOSTS=pdh2,pdh3 run -x PDASK_HOSTS -n 1 "$PD" \
      --cluster-class "$EX/plugins/hosts_spawn.so:pd_cluster" -n 2 \
      "$FLOWS/hosts.so" n=8)
echo "$out" | grep -E "Creating|hosts|Finished"
expect "temporary cluster spawned onto other hosts" \
    "Beginning flow run with 2 workers" "ran on hosts ,pdh[23],pdh[23]," \
    "hosts checks passed"

# 4. Adaptive scaling through the plugin: one worker from start() on pdh2,
# then scale() spawns two more onto pdh2 and pdh3 for the backlog; the
# flow's big result crosses between the spawns (through rank 0).
out=$(PDASK_HOSTS=pdh2,pdh3 run -x PDASK_HOSTS -n 1 "$PD" \
      --cluster-class "$EX/plugins/hosts_spawn.so:pd_cluster" -n 1 -t 1 \
      --adapt-max 3 --set adapt_kwargs.target_duration=0.5 \
      "$FLOWS/hosts.so" n=24)
echo "$out" | grep -E "Creating|Scaling|hosts|Finished"
expect "adaptive growth onto other hosts through the plugin" \
    "Scaling from 1 to 3 workers" "hosts checks passed" \
    "Finished in state Completed"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
