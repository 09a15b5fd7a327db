#!/usr/bin/env bash
# Resource tags from hwloc, [cluster_kwargs], [host NAME] and [worker N],
# as `pdask-mpi info` shows them with their sources; the host section
# uses this machine's name, so it is written here.
# usage: resources.sh PDASK_MPI FLOWS_DIR HW_DIR
set -u
pd=$1 hw=$3
dir=$(mktemp -d) fail=0
trap 'rm -rf "$dir"' EXIT
host=$(hostname)
cat >"$dir/tags.ini" <<INI
[cluster_kwargs]
resources = DISK=100
[host $host]
resources = FPGA=2
[worker 2]
resources = GPU=0,scratch=1
INI
HWLOC_SYNTHETIC= HWLOC_XMLFILE=$hw/gpus2.xml mpirun ${MPIEXEC_PREFLAGS:-} -n 3 "$pd" info \
    -c "$dir/tags.ini" >"$dir/out" 2>&1 || { echo "info failed"; fail=1; }
cat "$dir/out"
want1="    resources: CPU=2 (hwloc), MEM=8e+09 (hwloc), GPU=1 (hwloc), DISK=100 ($dir/tags.ini:2), FPGA=2 ($dir/tags.ini:4)"
want2="    resources: CPU=2 (hwloc), MEM=8e+09 (hwloc), FPGA=2 ($dir/tags.ini:4), DISK=100 ($dir/tags.ini:2), scratch=1 ($dir/tags.ini:6)"
grep -A1 "^  rank 1 on" "$dir/out" | grep -qxF -- "$want1" ||
    { echo "rank 1 tags: want: $want1"; fail=1; }
grep -A1 "^  rank 2 on" "$dir/out" | grep -qxF -- "$want2" ||
    { echo "rank 2 tags: want: $want2"; fail=1; }
grep -q "2 GPUs" "$dir/out" || { echo "topology: want 2 GPUs"; fail=1; }
[ $fail = 0 ] && echo "resources ok"
exit $fail
