#!/usr/bin/env bash
# On a terminal (a pseudo-terminal from script(1)): a progress bar redrawn
# in place and erased before each log line, and gone at the end.
# usage: progress.sh PDASK_MPI EXAMPLES_DIR
set -u
pd=$1 ex=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
script -qec "$pd -n 2 --set client_kwargs.progress=0.2 $ex/count_to.so highest_number=24" \
    /dev/null >"$out" 2>&1
erase=$(printf '\r\033[K')
fail=0
grep -Eq "\[#+ *\] [0-9]+/24 task runs done" "$out" ||
    { echo "FAIL: no bar"; fail=1; }
grep -qF "${erase}" "$out" || { echo "FAIL: the bar is never erased"; fail=1; }
# The summary starts on a clean line: the bar was erased just before it,
# or a log line (the tasks' forwarded output) ended there.
perl -0ne 'exit !/(\r\e\[K|\n)[0-9:.]+ \| INFO    \| count_to \| Finished in state Completed: 24 of 24/' "$out" ||
    { echo "FAIL: the summary line does not start clean"; fail=1; }
[ "$fail" = 0 ] && echo "progress ok" || cat -v "$out"
exit "$fail"
