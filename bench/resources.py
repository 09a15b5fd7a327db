#!/usr/bin/python3
"""What binding resources costs: empty tasks that all hold GPU=0.01 beside
the same tasks without resources, on pdask-mpi and on Dask, as ratios.

  /usr/bin/python3 bench/resources.py --build build-rel [--runs 5] [--write]

pdask-mpi: `mpirun -n 3 pdask-mpi --resources GPU=1 bench_empty.so n=N
[resources=GPU=0.01]` (two workers with one GPU each, so at most 200 runs
hold a share at once). Dask: a LocalCluster of two single-thread worker
processes with resources={'GPU': 1}, client.map(noop, ..., resources=
{'GPU': 0.01}) against a plain client.map. mpi4py.futures has no
resources. Launches alternate (plain, annotated) so that load drifts hit
both alike; each figure is the median.

--write puts the table in bench/RESULTS.md under "## Resources" (run.py
keeps that section when it rewrites the file).
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def pdask_rate(build, n, annotated, env):
    cmd = ["mpirun", "--oversubscribe", "-n", "3",
           os.path.join(build, "pdask-mpi"), "--resources", "GPU=1",
           "--no-progress",
           os.path.join(build, "bench", "flows", "bench_empty.so"),
           "n=%d" % n]
    if annotated:
        cmd.append("resources=GPU=0.01")
    p = subprocess.run(cmd, env=env, capture_output=True, text=True,
                       timeout=300)
    m = re.search(r"BENCH tasks=(\d+) seconds=([0-9.]+)", p.stdout)
    if p.returncode or not m:
        raise SystemExit("pdask-mpi failed (%d): %s" %
                         (p.returncode, (p.stdout + p.stderr)[-500:]))
    return int(m.group(1)) / float(m.group(2))


DASK_PEER = r"""
import sys, time, warnings
warnings.filterwarnings("ignore")
from distributed import Client, LocalCluster, wait
def noop(_):
    return None
n, runs = int(sys.argv[1]), int(sys.argv[2])
if __name__ == "__main__":
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      resources={"GPU": 1}, dashboard_address=None) as cl, \
            Client(cl) as c:
        wait(c.map(noop, range(8), pure=False))
        for _ in range(runs):
            for res in (None, {"GPU": 0.01}):
                t0 = time.perf_counter()
                wait(c.map(noop, range(n), pure=False, resources=res))
                print("DASK %s %.6f" % ("gpu" if res else "plain",
                                        n / (time.perf_counter() - t0)),
                      flush=True)
"""


def dask_rates(n, runs):
    p = subprocess.run(["/usr/bin/python3", "-c", DASK_PEER, str(n),
                        str(runs)], capture_output=True, text=True,
                       timeout=900)
    rates = {"plain": [], "gpu": []}
    for kind, rate in re.findall(r"DASK (\w+) ([0-9.]+)", p.stdout):
        rates[kind].append(float(rate))
    if not rates["plain"] or not rates["gpu"]:
        raise SystemExit("dask peer failed: " + (p.stdout + p.stderr)[-800:])
    return rates


def fmt(x):
    return "%.3gM" % (x / 1e6) if x >= 1e6 else "%.3gk" % (x / 1e3)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-rel")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--dask-n", type=int, default=2000)
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args()
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    plain, gpu = [], []
    pdask_rate(a.build, a.n, False, env)  # warm-up
    for _ in range(a.runs):
        plain.append(pdask_rate(a.build, a.n, False, env))
        gpu.append(pdask_rate(a.build, a.n, True, env))
    d = dask_rates(a.dask_n, a.runs)
    mp, mg = statistics.median(plain), statistics.median(gpu)
    dp, dg = statistics.median(d["plain"]), statistics.median(d["gpu"])
    load = os.getloadavg()[0]
    table = """## Resources

Empty tasks that each hold `GPU=0.01` (workers have `GPU=1`) beside the
same tasks without resources; medians of %d alternating launches, from
`/usr/bin/python3 bench/resources.py --build %s` (%s UTC, load %.2f).
mpi4py.futures has no resources; the raw MPI bound is in the throughput
rows above.

| system | tasks | plain (tasks/s) | GPU=0.01 (tasks/s) | ratio |
|---|---:|---:|---:|---:|
| pdask-mpi (1 scheduler + 2 workers) | %d | %s | %s | %.2f |
| Dask LocalCluster (2 workers x 1 thread) | %d | %s | %s | %.2f |
""" % (a.runs, a.build, time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
       load, a.n, fmt(mp), fmt(mg), mg / mp, a.dask_n, fmt(dp), fmt(dg),
       dg / dp)
    print(table)
    if a.write:
        path = os.path.join(HERE, "RESULTS.md")
        old = open(path).read()
        start = old.find("\n## Resources")
        if start < 0:
            new = old.rstrip("\n") + "\n\n" + table
        else:
            end = old.find("\n## ", start + 1)
            new = old[:start + 1] + table + (old[end:] if end >= 0 else "")
        with open(path, "w") as f:
            f.write(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
