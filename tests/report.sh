#!/usr/bin/env bash
# --report: the HTML report after a failing run (sections, task names,
# counts by state, retries, escaped markup, nothing fetched from the
# network), from the INI key and with --report winning over it, and after
# SIGTERM to mpirun mid-run.
# usage: report.sh PDASK_MPI FLOWS_DIR EXAMPLES_DIR
set -u
pd=$1 flows=$2 ex=$3
dir=$(mktemp -d) fail=0
trap 'rm -rf "$dir"' EXIT
py=/usr/bin/python3
run() { mpirun ${MPIEXEC_PREFLAGS:-} -n 3 "$pd" "$@"; }

run --report "$dir/run.html" --set 'client_kwargs.name=<i>nightly</i>' \
    "$flows/report.so" 'note=</script><img src=x onerror=alert(1)>' \
    >"$dir/out" 2>&1
rc=$?
[ "$rc" = 1 ] || { echo "FAIL: exit code $rc, want 1"; cat "$dir/out"; fail=1; }
"$py" - "$dir/run.html" <<'PY' || fail=1
import json, re, sys
path = sys.argv[1]
page = open(path, encoding="utf-8").read()
assert page.startswith("<!DOCTYPE html>"), page[:40]
for h in ("Summary", "Task stream", "Durations by task",
          "Worker utilisation", "Scheduler overhead"):
    assert "<h2>%s</h2>" % h in page, h
low = page.lower()
assert "http://" not in low and "https://" not in low, "a network reference"
assert low.count("<script") == 2 and low.count("</script") == 2, \
    "markup from the run got into the page as markup"
m = re.search(r'<script id="pd-data" type="application/json">(.*?)</script>',
              page, re.S)
d = json.loads(m.group(1))
assert d["flow"] == "<i>nightly</i>", d["flow"]
assert d["exit_code"] == 1, d["exit_code"]
assert d["states"] == {"Completed": 30, "Failed": 1, "NotReady": 1,
                       "Crashed": 0, "Cancelled": 0}, d["states"]
assert d["nruns"] == 32 and d["nran"] == 31, (d["nruns"], d["nran"])
assert d["threads"] == [4, 4], d["threads"]
tasks = {t["name"]: t for t in d["tasks"]}
assert set(tasks) == {"prepare", "crunch", "flaky", "broken", "after"}, tasks
assert tasks["crunch"]["runs"] == 24 and tasks["crunch"]["dur"]["n"] == 24
c = tasks["crunch"]["dur"]
assert 0.004 < c["p50"] <= c["p95"] <= c["max"] < 1, c
assert abs(c["mean"] * 24 - c["total"]) < 1e-3, c
assert tasks["prepare"]["dur"]["p50"] >= 0.019, tasks["prepare"]
assert tasks["flaky"]["retried"] == 2 and tasks["flaky"]["bad"] == 0
assert tasks["broken"]["bad"] == 1 and tasks["broken"]["retried"] == 1
assert tasks["after"]["bad"] == 1 and tasks["after"]["dur"]["n"] == 0
assert len(d["bars"]) == 31, len(d["bars"])
bad = [b for b in d["bars"] if b[5] != 2]
assert len(bad) == 1 and bad[0][7] == "broken-0" and bad[0][6] == 2, bad
assert bad[0][8] == 'broken </script><b>for good</b> & "quoted"', bad[0][8]
assert ["note", "</script><img src=x onerror=alert(1)>"] in d["params"]
sett = {s[0]: s for s in d["settings"]}
assert sett["client_kwargs.performance_report_path"][1:] == [path, "--report"]
assert sum(d["util"]["busy_s"]) > 0.5, d["util"]
assert d["overhead"]["lag"]["n"] == 31 and d["overhead"]["gap"]["n"] > 0
print("report content ok")
PY

# From the INI file; --report wins over it.
printf '[client_kwargs]\nperformance_report_path = %s\n' "$dir/ini.html" \
    >"$dir/pdask.ini"
run -c "$dir/pdask.ini" "$ex/count_to.so" highest_number=2 >"$dir/out" 2>&1
"$py" - "$dir/ini.html" "$dir/pdask.ini" <<'PY' || fail=1
import json, re, sys
page = open(sys.argv[1]).read()
d = json.loads(re.search(r'application/json">(.*?)</script>', page, re.S)[1])
s = {x[0]: x for x in d["settings"]}["client_kwargs.performance_report_path"]
assert s[1:] == [sys.argv[1], sys.argv[2] + ":2"], s
assert d["states"]["Completed"] == 2 and d["exit_code"] == 0, d["states"]
print("report from the INI file ok")
PY
rm -f "$dir/ini.html"
run -c "$dir/pdask.ini" --report "$dir/cli.html" "$ex/count_to.so" \
    highest_number=1 >"$dir/out" 2>&1
[ -s "$dir/cli.html" ] && [ ! -e "$dir/ini.html" ] ||
    { echo "FAIL: --report did not win over the INI file"; fail=1; }

# SIGTERM to mpirun mid-run: the report of what ran, exit code 143.
mpirun ${MPIEXEC_PREFLAGS:-} -n 3 "$pd" --report "$dir/term.html" \
    "$ex/count_to.so" highest_number=40 >"$dir/out" 2>&1 &
pid=$!
for _ in $(seq 200); do
    grep -q "Beginning flow run" "$dir/out" && break
    sleep 0.1
done
sleep 0.8
kill -TERM "$pid"
wait "$pid"
"$py" - "$dir/term.html" <<'PY' || fail=1
import json, re, sys
page = open(sys.argv[1]).read()
d = json.loads(re.search(r'application/json">(.*?)</script>', page, re.S)[1])
assert d["exit_code"] == 143, d["exit_code"]
# Runs that had ended by then (0.5 s each: none ends before 0.5 s).
assert d["states"]["Completed"] < 40 and d["nruns"] == d["states"]["Completed"], d["states"]
print("report after SIGTERM ok")
PY
[ "$fail" = 0 ] && echo "report ok"
exit "$fail"
