#!/usr/bin/python3
"""Dask distributed peer for bench/run.py.

  /usr/bin/python3 bench/peer_dask.py MODE [key=value ...]

Runs a LocalCluster(n_workers=W, threads_per_worker=1, processes=True) and a
Client in this process, then:

  throughput n=N      client.map(noop, range(N), pure=False), wait all
  chain n=N           f = client.submit(inc, f, pure=False) N times (the
                      scheduler resolves each dependency), then f.result()
  busy n=N ms=MS      client.map of N tasks spinning MS ms on perf_counter
  sleep n=N ms=MS     client.map of N tasks sleeping MS ms
  idle secs=S         start, run a few tasks, print READY, sleep S seconds
  workers=W           number of worker processes (default 2)
  runs=R              repeat the measurement R times on the same cluster

Prints one line per run: "BENCH tasks=N seconds=S" (chain: "BENCH hops=N
seconds=S"). The timed part excludes cluster start-up and a warm-up.
"""

import os
import sys
import time
import warnings

# Dask and its dependencies print deprecation warnings on import; they are
# noise here. The environment variable also covers the worker processes.
warnings.filterwarnings("ignore")
os.environ.setdefault("PYTHONWARNINGS", "ignore")

from peer_common import busy, inc, measure, noop, parse, sleepy


def run(client, o):
    from distributed import wait

    nworkers = o["workers"]
    client.wait_for_workers(nworkers)
    # Warm-up: every worker has run a task before timing starts.
    wait(client.map(noop, range(4 * nworkers), pure=False))
    held = []

    def one_run(mode, n):
        if mode == "throughput":
            futs = client.map(noop, range(n), pure=False)
            wait(futs)
        elif mode == "chain":
            f = 0
            for _ in range(n):
                f = client.submit(inc, f, pure=False)
            x = f.result()
            if x != n:
                raise SystemExit("peer_dask: chain gave %d" % x)
            futs = [f]
        else:
            fn = busy if mode == "busy" else sleepy
            futs = client.map(fn, [o["ms"]] * n, range(n), pure=False)
            wait(futs)
        held[:] = futs

    def between():
        # Let the scheduler forget this run before the next one starts
        # (after the last run, closing the cluster is much faster than
        # releasing every future one by one).
        del held[:]
        time.sleep(0.5)

    measure(o, nworkers, one_run, between)


def main():
    import logging

    o = parse(sys.argv[1:], "peer_dask", workers=2)
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=o["workers"], threads_per_worker=1,
                      processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster:
        with Client(cluster) as client:
            run(client, o)


if __name__ == "__main__":
    main()
