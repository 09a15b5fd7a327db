#!/usr/bin/python3
"""Dask distributed peer of bench/taskbench.py: Task Bench graphs.

  /usr/bin/python3 bench/peer_dask_graph.py pattern=P runs=I:S,I:S,...
      [width=W] [radix=R] [reps=N] [workers=2] [kernel=PATH]

Starts LocalCluster(n_workers=W, threads_per_worker=1, processes=True) and
a Client in this process (as bench/peer_dask.py does), warms every worker
up, then for each ITERS:STEPS of runs builds the graph of bench/tb_graph.h
with client.submit(point, ..., *upstream_futures, pure=False), waits for
every task and gathers the last step. One line per repetition:

  BENCH tasks=N seconds=S iters=I check=C pattern=P width=W steps=S
"""

import os
import sys
import time
import warnings

# Dask and its dependencies print deprecation warnings on import; they are
# noise here. The environment variable also covers the worker processes.
warnings.filterwarnings("ignore")
os.environ.setdefault("PYTHONWARNINGS", "ignore")

import tb_common


def parse(argv):
    o = {"pattern": None, "runs": "", "width": 2, "radix": 3, "reps": 1,
         "workers": 2, "kernel": os.environ.get("TB_KERNEL_LIB", "")}
    for a in argv:
        k, eq, v = a.partition("=")
        if not eq or k not in o:
            raise SystemExit("peer_dask_graph: unknown argument %s" % a)
        o[k] = type(o[k])(v) if o[k] is not None else v
    if o["pattern"] not in tb_common.PATTERNS:
        raise SystemExit("peer_dask_graph: pattern must be one of %s"
                         % ", ".join(tb_common.PATTERNS))
    try:
        o["runs"] = [tuple(int(x) for x in r.split(":"))
                     for r in o["runs"].split(",") if r]
    except ValueError:
        raise SystemExit("peer_dask_graph: runs=ITERS:STEPS,...")
    if not o["runs"] or not os.path.exists(o["kernel"]):
        raise SystemExit("peer_dask_graph: need runs= and kernel=PATH "
                         "(tb_kernel.so)")
    return o


def one_graph(client, o, iters, steps):
    """Submit the whole graph, wait for it; (tasks, checksum)."""
    from distributed import wait

    pat, w, r = o["pattern"], o["width"], o["radix"]
    everything, prev = [], []
    for t in range(steps):
        cur = []
        for i in range(tb_common.width_at(pat, w, t)):
            ups = [prev[j] for j in tb_common.deps(pat, w, r, t, i)]
            cur.append(client.submit(tb_common.point, w, t, i, iters, *ups,
                                     pure=False))
        # Hold every future: Dask forgets a task nobody refers to.
        everything.extend(cur)
        prev = cur
    wait(everything)
    check = sum(client.gather(prev)) % tb_common.MOD
    return len(everything), check


def main():
    import logging

    o = parse(sys.argv[1:])
    # Inherited by the worker processes, which load the kernel from it.
    os.environ["TB_KERNEL_LIB"] = os.path.abspath(o["kernel"])
    from distributed import Client, LocalCluster, wait

    with LocalCluster(n_workers=o["workers"], threads_per_worker=1,
                      processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster:
        with Client(cluster) as client:
            client.wait_for_workers(o["workers"])
            # Warm-up: every worker has imported tb_common and the kernel.
            wait([client.submit(tb_common.point, 1, 0, k, 10, pure=False)
                  for k in range(4 * o["workers"])])
            for iters, steps in o["runs"]:
                for _ in range(o["reps"]):
                    t0 = time.perf_counter()
                    tasks, check = one_graph(client, o, iters, steps)
                    dt = time.perf_counter() - t0
                    print("BENCH tasks=%d seconds=%.6f iters=%d check=%d "
                          "pattern=%s width=%d steps=%d" %
                          (tasks, dt, iters, check, o["pattern"], o["width"],
                           steps), flush=True)
                    # Let the scheduler forget this run first.
                    time.sleep(0.2)


if __name__ == "__main__":
    main()
