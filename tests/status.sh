#!/usr/bin/env bash
# --status and --trace: after a failing run, one complete line per task
# run (runs that never ran included) and a trace that parses, with one "X"
# event per run that ran, on its rank's pid, never overlapping on a thread;
# after kill -9 of the job mid-run, every line written is whole.
# usage: status.sh PDASK_MPI FLOWS_DIR EXAMPLES_DIR
set -u
pd=$1 flows=$2 ex=$3
dir=$(mktemp -d) fail=0
trap 'rm -rf "$dir"' EXIT
py=/usr/bin/python3

mpirun ${MPIEXEC_PREFLAGS:-} -n 3 "$pd" --status "$dir/run.tsv" \
    --trace "$dir/run.json" "$flows/fail.so" >"$dir/out" 2>&1
"$py" - "$dir/run.tsv" "$dir/run.json" <<'PY' || fail=1
import json, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
assert rows[0] == ["run", "state", "rank", "thread", "start", "end",
                   "attempts", "message"], rows[0]
rows = rows[1:]
assert len(rows) == 7, "want 7 runs, got %d: %r" % (len(rows), rows)
assert all(len(r) == 8 for r in rows), rows
by = {r[0]: r for r in rows}
assert by["boom-0"][1:3] == ["Failed", by["boom-0"][2]] and \
    by["boom-0"][2] in ("1", "2") and by["boom-0"][7] == "boom 7", by["boom-0"]
assert by["flaky-0"][1] == "Completed" and by["flaky-0"][6] == "3", by["flaky-0"]
assert by["after-0"][1:7] == ["NotReady", "-", "-", "-", "-", "0"], by["after-0"]
ran = [r for r in rows if r[2] != "-"]
ev = json.load(open(sys.argv[2]))["traceEvents"]
assert len(ev) == len(ran), (len(ev), len(ran))
tracks = {}
for e in ev:
    assert e["ph"] == "X" and e["pid"] in (1, 2) and 0 <= e["tid"] < 8, e
    assert e["args"]["run"] in by and e["name"] == e["args"]["run"].rsplit("-", 1)[0], e
    tracks.setdefault((e["pid"], e["tid"]), []).append((e["ts"], e["ts"] + e["dur"]))
for spans in tracks.values():
    spans.sort()
    for a, b in zip(spans, spans[1:]):
        assert a[1] <= b[0], "overlap on one thread: %r %r" % (a, b)
print("status and trace ok")
PY

# kill -9 of the whole job mid-run: the lines there are whole.
mpirun ${MPIEXEC_PREFLAGS:-} -n 3 "$pd" --status "$dir/killed.tsv" \
    "$ex/count_to.so" highest_number=40 >"$dir/out2" 2>&1 &
pid=$!
for _ in $(seq 200); do
    [ "$(wc -l <"$dir/killed.tsv" 2>/dev/null || echo 0)" -ge 3 ] && break
    sleep 0.05
done
kill -9 "$pid"
wait "$pid" 2>/dev/null
pkill -9 -f "$pd --status $dir/killed.tsv" 2>/dev/null
"$py" - "$dir/killed.tsv" <<'PY' || fail=1
import sys
data = open(sys.argv[1]).read()
assert data.endswith("\n"), "a torn last line: %r" % data[-80:]
rows = [l.split("\t") for l in data.splitlines()[1:]]
assert 2 <= len(rows) < 40, len(rows)
assert all(len(r) == 8 and r[1] == "Completed" for r in rows), rows
print("killed job: %d whole lines" % len(rows))
PY
[ "$fail" = 0 ] && echo "status ok"
exit "$fail"
