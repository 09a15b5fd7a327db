#!/bin/bash
# hosts.sh PDASK_MPI FLOWS_DIR EXAMPLES_DIR - runs pdask-mpi across 3 hosts
# (network namespaces from shared/netns, TCP between them): per-node
# sizing, results that cross hosts, and a temporary cluster spawned onto
# other hosts. Prints "N passed, M failed"; exit 1 if any failed, 77
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

# 1. Per-node sizing: 6 ranks by node over 3 hosts; rank 0 (scheduler) and
# worker 3 share pdh1, so worker 3 gets all 4 cores; the other hosts have
# two workers each, 2 threads apiece.
out=$(run -n 6 --map-by node "$PD" info)
echo "$out" | grep -E "rank|world"
if echo "$out" | grep -q "rank 3 on pdh1: worker, 4 threads" &&
   echo "$out" | grep -q "rank 1 on pdh2: worker, 2 threads" &&
   echo "$out" | grep -q "rank 5 on pdh3: worker, 2 threads"; then
    ok "hwloc sizing per node"
else
    bad "hwloc sizing per node"
fi

# 2. A flow whose task runs land on every host and whose big result, made
# on one host, is read on the others and on rank 0.
out=$(run -n 4 --map-by node "$PD" "$FLOWS/hosts.so" n=24)
echo "$out" | grep -E "hosts|Finished"
if echo "$out" | grep -q "hosts checks passed" &&
   echo "$out" | grep -q "ran on hosts .*pdh2" &&
   echo "$out" | grep -q "ran on hosts .*pdh3" &&
   echo "$out" | grep -q "Finished in state Completed"; then
    ok "results cross hosts"
else
    bad "results cross hosts"; echo "$out" | tail -20
fi

# 3. A temporary cluster: pdask-mpi alone (on pdh1, the first host of the
# hostfile) spawns its workers onto pdh2 and pdh3 with the hosts_spawn
# cluster-manager plugin.
out=$(PDASK_HOSTS=pdh2,pdh3 run -x PDASK_HOSTS -n 1 "$PD" \
      --cluster-class "$EX/plugins/hosts_spawn.so:pd_cluster" -n 2 \
      "$FLOWS/hosts.so" n=8)
echo "$out" | grep -E "Creating|hosts|Finished"
if echo "$out" | grep -q "Beginning flow run with 2 workers" &&
   echo "$out" | grep -q "ran on hosts ,pdh[23],pdh[23]," &&
   echo "$out" | grep -q "hosts checks passed"; then
    ok "temporary cluster spawned onto other hosts"
else
    bad "temporary cluster spawned onto other hosts"; echo "$out" | tail -20
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
