#!/usr/bin/python3
"""Adaptive scaling figures (issue 11), side by side:

1. backlog: a backlog appearing before a pool of zero workers, to the
   first run starting on a spawned worker (bench_backlog.so under a lone
   pdask-mpi, minimum 0), against a bare MPI_Comm_spawn of one process
   (spawn_one: the call, and the child's first message).
2. bursty: bursts of short runs with idle gaps (tests/flows/adapt_burst.so
   keep=0): adaptive (minimum 0, maximum M, a lone pdask-mpi) against a
   fixed pool at the maximum (mpirun -n M+1); makespan, scale events per
   burst, and how long after each burst the pool is back at the minimum.

    /usr/bin/python3 bench/adapt.py --build build [--runs 3]

Prints a markdown report; only what it measured.
"""
import argparse
import datetime
import os
import re
import statistics
import subprocess
import sys

STAMP = re.compile(r"^(\d\d):(\d\d):(\d\d\.\d+) \|")


def env():
    e = dict(os.environ)
    e.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
             OMPI_MCA_rmaps_base_oversubscribe="1")
    return e


def run(cmd, timeout=300):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=timeout, env=env())
    if p.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (p.returncode, " ".join(cmd),
                                          p.stdout[-2000:]))
    return p.stdout


def secs(line):
    m = STAMP.match(line)
    return int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3]) if m else None


def backlog(a):
    pd = os.path.join(a.build, "pdask-mpi")
    flow = os.path.join(a.build, "bench", "flows", "bench_backlog.so")
    bare = os.path.join(a.build, "bench", "spawn_one")
    rows = {"spawn": [], "first": [], "pd": [], "join": []}
    for _ in range(a.runs):
        out = run([bare])
        m = re.search(r"spawn_s=([\d.]+) first_msg_s=([\d.]+)", out)
        rows["spawn"].append(float(m[1]))
        rows["first"].append(float(m[2]))
        out = run([pd, "-t", "1", "--adapt-min", "0", "--adapt-max", "1",
                   flow, "n=4", "ms=200"])
        rows["pd"].append(float(re.search(
            r"backlog_to_first_run_s=([\d.]+)", out)[1]))
        rows["join"].append(float(re.search(
            r"MPI_Comm_spawn and join took ([\d.]+) s", out)[1]))
    return rows


def bursty(a):
    pd = os.path.join(a.build, "pdask-mpi")
    flow = os.path.join(a.build, "tests", "flows", "adapt_burst.so")
    args = [flow, "keep=0", "bursts=%d" % a.bursts, "runs=%d" % a.burst_runs,
            "run_ms=%d" % a.run_ms, "gap_ms=%d" % a.gap_ms]
    res = {"adaptive": [], "fixed": [], "grows": [], "shrinks": [],
           "back": []}
    for _ in range(a.runs):
        out = run(["mpirun", "-n", str(a.maximum + 1), pd, "-t", "1"] + args)
        res["fixed"].append(float(re.search(
            r"Finished in state Completed: .* in ([\d.]+) s", out)[1]))
        out = run([pd, "-t", "1", "--adapt-min", "0",
                   "--adapt-max", str(a.maximum), "--set",
                   "adapt_kwargs.target_duration=%g" % a.target] + args)
        res["adaptive"].append(float(re.search(
            r"Finished in state Completed: .* in ([\d.]+) s", out)[1]))
        grows = shrinks = 0
        done_at = None
        for line in out.splitlines():
            if "burst " in line and " done" in line:
                done_at = secs(line)
            m = re.search(r"Scaling from (\d+) to (\d+) workers", line)
            if not m:
                continue
            if int(m[2]) > int(m[1]):
                grows += 1
            else:
                shrinks += 1
                if int(m[2]) == 0 and done_at is not None:
                    res["back"].append(secs(line) - done_at)
        res["grows"].append(grows / a.bursts)
        res["shrinks"].append(shrinks / a.bursts)
    return res


def fmt(xs):
    return "%.3f (best %.3f)" % (statistics.median(xs), min(xs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--maximum", type=int, default=4)
    ap.add_argument("--bursts", type=int, default=3)
    ap.add_argument("--burst-runs", type=int, default=16)
    ap.add_argument("--run-ms", type=int, default=200)
    ap.add_argument("--gap-ms", type=int, default=5000)
    ap.add_argument("--target", type=float, default=0.5,
                    help="adapt_kwargs target_duration of the bursty run")
    a = ap.parse_args()
    b = backlog(a)
    r = bursty(a)
    print("# Adaptive scaling (bench/adapt.py), %s UTC, %d runs, medians"
          % (datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"), a.runs))
    print()
    print("| backlog to first run on a new worker | seconds |")
    print("| --- | --- |")
    print("| bare MPI_Comm_spawn of 1 process: the call | %s |" % fmt(b["spawn"]))
    print("| bare MPI_Comm_spawn of 1 process: to its first message | %s |" % fmt(b["first"]))
    print("| pdask-mpi: spawn and join (task table, hwloc) | %s |" % fmt(b["join"]))
    print("| pdask-mpi: backlog to the first run starting | %s |" % fmt(b["pd"]))
    print("| ratio pdask-mpi / bare spawn call (medians) | %.2f |"
          % (statistics.median(b["pd"]) / statistics.median(b["spawn"])))
    print()
    print("Bursty: %d bursts of %d runs of %d ms, %d ms gaps, maximum %d "
          "workers of 1 thread, target_duration %g s" % (
              a.bursts, a.burst_runs, a.run_ms, a.gap_ms, a.maximum,
              a.target))
    print()
    print("| | value |")
    print("| --- | --- |")
    print("| makespan, fixed pool at the maximum, s | %s |" % fmt(r["fixed"]))
    print("| makespan, adaptive 0..max, s | %s |" % fmt(r["adaptive"]))
    print("| adaptive / fixed (medians) | %.3f |"
          % (statistics.median(r["adaptive"]) / statistics.median(r["fixed"])))
    print("| grow events per burst | %s |" % fmt(r["grows"]))
    print("| shrink events per burst | %s |" % fmt(r["shrinks"]))
    if r["back"]:
        print("| burst done to pool back at 0, s (interval 1 s x wait_count 3) | %s |"
              % fmt(r["back"]))


if __name__ == "__main__":
    main()
