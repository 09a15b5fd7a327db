#!/usr/bin/python3
"""A served cluster against a job with the same workers (issue 12).

    /usr/bin/python3 bench/serve.py --build BUILD [--runs 3]

BUILD is a Release build without sanitizers (cmake -DCMAKE_BUILD_TYPE=
Release). Every figure is the median of --runs runs, 1 relay or scheduler
+ 2 workers (mpirun -n 3 --oversubscribe):

- empty: 10^6 empty task runs, tasks/s: `mpirun -n 3 pdask-mpi
  bench_empty.so` against `pdask-mpi --scheduler-file F bench_empty.so`
  on a served cluster (target: served >= 50% of the job).
- chain: 2000 dependent runs, us per hop, beside the round trip of a
  16-byte TCP ping-pong on loopback (target: served <= job + 2 RTT).
- two: a small flow (20 runs sleeping 10 ms) alone on the served
  cluster, then beside a big one (100,000 runs of 1 ms), makespan in s
  (target: beside <= 2x alone).

Prints a markdown table; writes it to --out if given.
"""

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1",
           OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def bench_seconds(out):
    m = re.search(r"BENCH \S+ seconds=([0-9.]+)", out)
    if not m:
        m = re.search(r"BENCH tasks=\d+ seconds=([0-9.]+)", out)
    if not m:
        raise RuntimeError("no BENCH line in:\n" + out[-2000:])
    return float(m.group(1))


def run(cmd, env, timeout=600):
    p = subprocess.run(cmd, env=env, capture_output=True, text=True,
                       timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d\n%s" % (" ".join(cmd), p.returncode,
                                               p.stderr[-2000:]))
    return p.stdout + p.stderr


class Cluster:
    """A served cluster of 1 relay + 2 workers on a free loopback port."""

    def __init__(self, pd, mpirun):
        self.dir = tempfile.mkdtemp(prefix="pdask-serve-bench-")
        self.sf = os.path.join(self.dir, "sched.json")
        self.env = dict(ENV, HOME=self.dir)
        self.env.pop("XDG_RUNTIME_DIR", None)
        self.pd = pd
        self.log = open(os.path.join(self.dir, "serve.log"), "w")
        self.proc = subprocess.Popen(
            [mpirun, "--oversubscribe", "-n", "3", pd, "serve",
             "--scheduler-file", self.sf, "--listen", "tcp://127.0.0.1:0"],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(300):
            if os.path.exists(self.sf):
                return
            time.sleep(0.1)
        self.close()
        raise RuntimeError("serve did not start")

    def client(self, flow, args, timeout=600):
        return run([self.pd, "--no-progress", "--scheduler-file", self.sf,
                    flow] + args, self.env, timeout)

    def popen(self, flow, args):
        return subprocess.Popen(
            [self.pd, "--no-progress", "--scheduler-file", self.sf, flow] +
            args, env=self.env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)

    def close(self):
        subprocess.run([self.pd, "serve", "--shutdown", "--scheduler-file",
                        self.sf], env=self.env, capture_output=True,
                       timeout=60)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def tcp_rtt_us(n=20000):
    """Median-free mean round trip of a 16-byte ping-pong on loopback."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def echo():
        c, _ = srv.accept()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            b = c.recv(16)
            if not b:
                break
            c.sendall(b)
        c.close()

    t = threading.Thread(target=echo)
    t.start()
    s = socket.create_connection(srv.getsockname())
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    msg = b"x" * 16
    for _ in range(1000):
        s.sendall(msg)
        s.recv(16)
    t0 = time.perf_counter()
    for _ in range(n):
        s.sendall(msg)
        got = 0
        while got < 16:
            got += len(s.recv(16 - got))
    dt = time.perf_counter() - t0
    s.close()
    t.join()
    srv.close()
    return dt / n * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--mpirun", default="mpirun")
    ap.add_argument("--out")
    a = ap.parse_args()
    pd = os.path.join(a.build, "pdask-mpi")
    fl = os.path.join(a.build, "bench", "flows")
    empty = os.path.join(fl, "bench_empty.so")
    chain = os.path.join(fl, "bench_chain.so")
    busy = os.path.join(fl, "bench_busy.so")
    job = [a.mpirun, "--oversubscribe", "-n", "3", pd, "--no-progress"]
    med = statistics.median
    rows = []

    n = 1000000
    log("empty: job")
    job_empty = med([n / bench_seconds(run(job + [empty, "n=%d" % n], ENV))
                     for _ in range(a.runs)])
    log("chain: job")
    job_chain = med([bench_seconds(run(job + [chain, "n=2000"], ENV)) / 2000
                     * 1e6 for _ in range(a.runs)])
    rtt = tcp_rtt_us()
    c = Cluster(pd, a.mpirun)
    try:
        log("empty: served")
        c.client(empty, ["n=1000"])  # warm-up: the workers load the .so
        srv_empty = med([n / bench_seconds(c.client(empty, ["n=%d" % n]))
                         for _ in range(a.runs)])
        log("chain: served")
        srv_chain = med([bench_seconds(c.client(chain, ["n=2000"])) / 2000
                         * 1e6 for _ in range(a.runs)])
        log("two clients")
        small = ["n=20", "ms=10", "mode=sleep"]
        alone = med([bench_seconds(c.client(busy, small))
                     for _ in range(a.runs)])
        beside = []
        for _ in range(a.runs):
            big = c.popen(busy, ["n=100000", "ms=1", "mode=busy"])
            time.sleep(2.0)
            if big.poll() is not None:
                raise RuntimeError("the big flow ended early")
            beside.append(bench_seconds(c.client(busy, small)))
            big.terminate()
            big.communicate(timeout=60)
        beside = med(beside)
    finally:
        c.close()

    rows.append(("empty task runs, tasks/s (10^6)", "%.0f" % job_empty,
                 "%.0f" % srv_empty, "%.0f%% of the job (target >= 50%%)"
                 % (100 * srv_empty / job_empty)))
    rows.append(("chain hop, us (2000 hops)", "%.1f" % job_chain,
                 "%.1f" % srv_chain,
                 "+%.1f us; loopback TCP round trip %.1f us (target <= "
                 "job + 2 RTT = %.1f)" % (srv_chain - job_chain, rtt,
                                          job_chain + 2 * rtt)))
    rows.append(("small flow (20 x 10 ms sleep) makespan, s", "alone %.3f"
                 % alone, "beside 10^5 x 1 ms: %.3f" % beside,
                 "%.2fx (target <= 2x)" % (beside / alone)))
    out = ["| figure | in-job (`mpirun -n 3`) | served client | |",
           "| --- | --- | --- | --- |"]
    out += ["| %s | %s | %s | %s |" % r for r in rows]
    text = "\n".join(out) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
