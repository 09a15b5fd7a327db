#!/usr/bin/env bash
# The HTML report's resource holds and scale events: an adaptive pool that
# starts empty runs the resources example (one GPU=1 run, three process=1
# runs); the report's data has one scale event and both holds, and, where
# chromium is installed, the page renders them.
# usage: report_events.sh PDASK_MPI EXAMPLES_DIR
set -u
pd=$1 ex=$2
dir=$(mktemp -d) fail=0
trap 'rm -rf "$dir"' EXIT
mpirun ${MPIEXEC_PREFLAGS:-} -n 1 "$pd" --adapt-max 2 --report "$dir/r.html" \
    "$ex/resources.so" >"$dir/out" 2>&1 || { cat "$dir/out"; echo "run failed"; fail=1; }
grep -q '"events_seen":1,"events":\[\[[0-9.]*,"Scaling from 0 to 1 workers: ' "$dir/r.html" ||
    { echo "no scale event in the report"; fail=1; }
grep -Eq '"holds":\[\{"name":"GPU","runs":1,"amount_s":0\.[0-9]+,"most":1\},\{"name":"process","runs":3,"amount_s":0\.[0-9]+,"most":1\}\]' "$dir/r.html" ||
    { echo "holds missing or wrong in the report"; fail=1; }
if command -v chromium >/dev/null; then
    timeout 60 chromium --headless --no-sandbox --disable-gpu --dump-dom \
        "file://$dir/r.html" 2>/dev/null >"$dir/dom"
    grep -q 'data-render="ok"' "$dir/dom" || { echo "page did not render"; fail=1; }
    grep -q '<td>GPU</td><td class="n">1</td>' "$dir/dom" ||
        { echo "holds table not drawn"; fail=1; }
    grep -q '<td>Scaling from 0 to 1 workers' "$dir/dom" ||
        { echo "events table not drawn"; fail=1; }
fi
[ $fail = 0 ] && echo "report events ok"
exit $fail
