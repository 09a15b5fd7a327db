#!/usr/bin/python3
"""Run the pdask-mpi performance comparison and write bench/RESULTS.md.

    /usr/bin/python3 bench/run.py --build build

runs pdask-mpi, plain-MPI bounds (bench/raw_mpi, bench/hello), mpi4py.futures
(MPIPoolExecutor and MPICommExecutor) and Dask distributed one after the
other on this machine, prints a markdown table with ratios and writes it,
with the machine, versions, date and command, to bench/RESULTS.md.
See bench/README.md for what each row measures.

Every subprocess has a timeout; a system that fails, times out or is not
built gets "failed: ..." or "missing: ..." in its cell and the run goes on.
"""

import argparse
import datetime
import os
import platform
import re
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# System keys, in table column order.
PDASK, RAW, POOL, COMM, DASK = "pdask", "raw", "pool", "comm", "dask"
ALL_SYSTEMS = (PDASK, RAW, POOL, COMM, DASK)

# Idle CPU: seconds to wait once all processes are up, and sample length.
IDLE_SETTLE, IDLE_WINDOW = 2.0, 5.0


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Subprocesses

class Proc:
    """Outcome of one subprocess."""

    def __init__(self, rc, out, err, wall, timed_out):
        self.rc, self.out, self.err = rc, out, err
        self.wall, self.timed_out = wall, timed_out

    def reason(self):
        """Short failure reason, or None when it ran fine."""
        if self.timed_out:
            return "timeout after %.0f s" % self.wall
        if self.rc != 0:
            tail = last_line(self.err) or last_line(self.out)
            return "exit %d%s" % (self.rc, (": " + tail) if tail else "")
        return None


def last_line(text):
    """Last meaningful line of text: Open MPI's help banners (blocks between
    lines of dashes) are skipped unless nothing else is there."""
    plain, banner, inside = [], [], False
    for ln in (text or "").splitlines():
        ln = ln.strip()
        if len(ln) > 10 and set(ln) <= set("-="):
            inside = not inside
            continue
        if ln:
            (banner if inside else plain).append(ln)
    if plain:
        return plain[-1][:160]
    # A banner's first lines say what went wrong.
    return " ".join(banner[:2])[:160]


def kill_group(p):
    """Stop a child we started, with everything it spawned (own session)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            return
        try:
            p.wait(timeout=3)
            return
        except subprocess.TimeoutExpired:
            pass


def run_cmd(cmd, env, timeout):
    """Run cmd in its own session; kill the whole group on timeout."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, env=env, text=True,
                         start_new_session=True)
    timed_out = False
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        kill_group(p)
        out, err = p.communicate()
    except BaseException:
        kill_group(p)
        raise
    wall = time.perf_counter() - t0
    return Proc(p.returncode, out, err, wall, timed_out)


def parse_bench(out):
    """All 'BENCH key=value ...' lines of out, as dicts of floats."""
    found = []
    for line in (out or "").splitlines():
        if not line.startswith("BENCH "):
            continue
        d = {}
        for tok in line.split()[1:]:
            if "=" in tok:
                k, v = tok.split("=", 1)
                try:
                    d[k] = float(v)
                except ValueError:
                    d[k] = v
        # A zero time would make rates infinite: such a line does not count.
        if isinstance(d.get("seconds"), float) and d["seconds"] > 0:
            found.append(d)
    return found


# --------------------------------------------------------------------------
# Results

class Result:
    """Samples of one system on one benchmark, or why there are none."""

    def __init__(self, status="ok", reason="", samples=None):
        self.status = status          # ok, failed, missing, skipped, n/a
        self.reason = reason          # failure text, also with partial runs
        self.samples = samples or []  # dicts parsed from BENCH lines
        self.wanted = 0

    @classmethod
    def fail(cls, reason, samples=None):
        return cls("failed", reason, samples)

    def ok(self):
        return bool(self.samples)


class Metric:
    """How a row turns samples into a figure, and which way is better."""

    def __init__(self, fn, fmt, higher_better):
        self.fn, self.fmt, self.higher_better = fn, fmt, higher_better

    def values(self, res):
        return [self.fn(s) for s in res.samples]

    def median(self, res):
        return statistics.median(self.values(res))

    def best(self, res):
        v = self.values(res)
        return max(v) if self.higher_better else min(v)

    def cell(self, res):
        if res is None:
            return "not run"
        if not res.ok():
            if res.status == "ok":
                return "failed: no BENCH line"
            return "%s: %s" % (res.status, res.reason) if res.reason \
                else res.status
        txt = "%s (best %s)" % (self.fmt(self.median(res)),
                                self.fmt(self.best(res)))
        if res.reason:
            txt += " [%d of %d runs; then %s]" % (len(res.samples),
                                                  res.wanted, res.reason)
        return txt

    def ratio(self, pd, peer):
        """>1 means pdask-mpi is better; None when either is missing."""
        if pd is None or peer is None or not pd.ok() or not peer.ok():
            return None
        a, b = self.median(pd), self.median(peer)
        if self.higher_better:
            return a / b if b else None
        return b / a if a else None


def fmt_rate(x):
    for div, suf in ((1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return "%.3g%s" % (x / div, suf)
    return "%.3g" % x


def fmt_us(x):
    return "%.3g" % x if x < 1000 else "%.0f" % x


def fmt_pct(x):
    return "%.1f%%" % x


def fmt_s(x):
    return "%.3f s" % x


def fmt_ratio(r):
    if r is None:
        return ""
    return ("%.3g" % r) if r < 100 else ("%.0f" % r)


def tasks_per_s(s):
    return s["tasks"] / s["seconds"]


def us_per_hop(s):
    return s["seconds"] / s["hops"] * 1e6


def wall_s(s):
    return s["seconds"]


def cpu_pct(s):
    return s["cpu_pct"]


def efficiency(ms, workers):
    """(total work / workers) / wall, in percent."""
    return lambda s: s["tasks"] * ms * 1e-3 / workers / s["seconds"] * 100.0


# --------------------------------------------------------------------------
# Idle CPU sampling from /proc

def proc_table():
    """pid -> (ppid, comm, utime+stime in ticks) for every process."""
    table = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        # comm may contain spaces and parentheses: split at the last ')'.
        lp, rp = stat.find("("), stat.rfind(")")
        comm = stat[lp + 1:rp]
        rest = stat[rp + 2:].split()
        # rest[0] is field 3 (state); utime and stime are fields 14 and 15.
        table[int(d)] = (int(rest[1]), comm, int(rest[11]) + int(rest[12]))
    return table


def tree_ticks(root, select):
    """{pid: ticks} of root's descendants (and root) that select() accepts."""
    table = proc_table()
    children = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in table and select(pid == root, table[pid][1]):
            out[pid] = table[pid][2]
        todo.extend(children.get(pid, []))
    return out


def window_pct(before, after, seconds):
    """CPU of processes alive in both samples, in % of one core."""
    hz = os.sysconf("SC_CLK_TCK")
    ticks = sum(after[p] - before[p] for p in after if p in before)
    return ticks / hz / seconds * 100.0


def measure_idle(cmd, env, select, nproc, windows, settle, window, timeout,
                 ready_marker=None):
    """Launch cmd; once its nproc selected processes exist (and, with
    ready_marker, it printed that line) wait settle s, then take `windows`
    consecutive CPU samples of `window` s. Returns Result."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, env=env, text=True,
                         start_new_session=True)
    out_lines, err_lines = [], []
    ready = threading.Event()

    def pump(stream, sink, watch):
        for line in stream:
            sink.append(line)
            if watch and line.startswith(ready_marker):
                ready.set()

    threads = [threading.Thread(target=pump, daemon=True,
                                args=(p.stdout, out_lines,
                                      ready_marker is not None)),
               threading.Thread(target=pump, daemon=True,
                                args=(p.stderr, err_lines, False))]
    for t in threads:
        t.start()
    samples, reason = [], ""
    try:
        deadline = t0 + timeout
        # Wait (sleeping, not spinning) until the processes are all up.
        while True:
            if p.poll() is not None:
                reason = "exited before idle window"
                break
            if time.perf_counter() > deadline:
                reason = "timeout waiting for start"
                break
            up = len(tree_ticks(p.pid, select)) >= nproc
            if up and (ready_marker is None or ready.is_set()):
                break
            time.sleep(0.1)
        if not reason:
            time.sleep(settle)
            before, t_before = tree_ticks(p.pid, select), time.perf_counter()
            for _ in range(windows):
                time.sleep(window)
                after, t_after = tree_ticks(p.pid, select), time.perf_counter()
                alive = sum(1 for q in after if q in before)
                if alive < nproc:
                    reason = "only %d of %d processes in window" % (alive,
                                                                   nproc)
                    break
                # Divide by the measured length, not the nominal one.
                dt = t_after - t_before
                samples.append({"cpu_pct": window_pct(before, after, dt),
                                "seconds": dt})
                before, t_before = after, t_after
        if reason:
            kill_group(p)
        try:
            p.wait(timeout=max(1.0, deadline - time.perf_counter()))
        except subprocess.TimeoutExpired:
            kill_group(p)
            reason = reason or "timeout after %.0f s" % timeout
    except BaseException:
        kill_group(p)
        raise
    for t in threads:
        t.join(timeout=5)
    proc = Proc(p.returncode, "".join(out_lines), "".join(err_lines),
                time.perf_counter() - t0, False)
    if not reason:
        reason = proc.reason() or ""
    if reason and not samples:
        tail = last_line(proc.err)
        if tail and tail not in reason:
            reason += " (" + tail + ")"
        return Result.fail(reason)
    res = Result(samples=samples)
    res.reason = reason
    res.wanted = windows
    return res


# --------------------------------------------------------------------------
# The runner

class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.runs = args.runs if args.runs else (1 if args.quick else 3)
        self.systems = set(args.systems.split(","))
        self.only = set(args.only.split(",")) if args.only else None
        build = os.path.abspath(args.build)
        self.build = build
        self.pdask = os.path.abspath(args.pdask or
                                     os.path.join(build, "pdask-mpi"))
        self.bench_bin = os.path.abspath(args.bench_bin or
                                         os.path.join(build, "bench"))
        self.flows = os.path.abspath(args.flows or
                                     os.path.join(build, "bench", "flows"))
        self.py = args.python
        self.env = dict(os.environ)
        self.env.update({"OMPI_ALLOW_RUN_AS_ROOT": "1",
                         "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                         "PYTHONWARNINGS": "ignore"})
        self.results = {}   # (row key, system) -> Result
        self.t_start = time.perf_counter()

    # ---- helpers

    def n(self, full):
        """Problem size: full, or a tenth of it with --quick."""
        return max(1, full // 10) if self.quick else full

    def want(self, row, system):
        return system in self.systems and (self.only is None
                                           or row in self.only)

    def mpirun(self, nranks, prog):
        return ([self.args.mpirun, "-n", str(nranks), "--oversubscribe"]
                + shlex.split(self.args.mpirun_args) + prog)

    def tscale(self, seconds):
        return seconds * self.args.timeout_scale

    def missing(self, *paths):
        gone = [p for p in paths if not os.path.exists(p)]
        if gone:
            return Result("missing", ", ".join(os.path.basename(g)
                                               for g in gone))
        return None

    def flow(self, name):
        return os.path.join(self.flows, name + ".so")

    def record(self, row, system, res):
        self.results[(row, system)] = res
        el = time.perf_counter() - self.t_start
        if res.ok():
            key = "cpu_pct" if "cpu_pct" in res.samples[0] else "seconds"
            secs = [s[key] for s in res.samples]
            log("[%6.1fs]   %-6s %-14s %d run(s), %s min %.4g median "
                "%.4g%s" % (el, system, row, len(secs), key, min(secs),
                            statistics.median(secs),
                            ("  (" + res.reason + ")") if res.reason else ""))
        else:
            log("[%6.1fs]   %-6s %-14s %s: %s" % (el, system, row, res.status,
                                                  res.reason))

    def launches(self, cmd, runs, timeout, expect=1, timed=False):
        """Launch cmd `runs` times, each expected to print `expect` BENCH
        lines. timed=True records the wall time of each launch instead.
        Stops at the first failure and keeps what it has."""
        res = Result()
        res.wanted = runs * expect
        for _ in range(runs):
            p = run_cmd(cmd, self.env, timeout)
            got = parse_bench(p.out)
            if timed:
                got = [] if p.reason() else [{"seconds": p.wall}]
            res.samples.extend(got[:expect])
            reason = p.reason()
            if not reason and len(got) < expect:
                reason = "printed %d of %d BENCH lines" % (len(got), expect)
            if reason:
                res.reason = reason
                if not res.samples:
                    res.status = "failed"
                break
        if res.ok() and len(res.samples) >= res.wanted:
            res.reason = ""
        return res

    # ---- per-system launchers

    def run_pdask(self, row, flow, fargs, timeout, timed=False, runs=None,
                  opts=(), fresh=None):
        """opts: pdask-mpi options before FLOW.so; fresh: a journal file
        removed before each launch."""
        if not self.want(row, PDASK):
            return
        path = self.flow(flow)
        res = self.missing(self.pdask, path)
        if res is None:
            cmd = self.mpirun(3, [self.pdask] + list(opts) + [path] + fargs)
            if fresh:
                cmd = ["bash", "-c", 'rm -f "$0" "$0-wal" "$0-shm"; exec "$@"',
                       fresh] + cmd
            if timed:
                # Untimed first launch: page cache and linker warm-up.
                run_cmd(cmd, self.env, self.tscale(timeout))
            res = self.launches(cmd, runs or self.runs, self.tscale(timeout),
                                timed=timed)
        self.record(row, PDASK, res)

    def run_raw(self, row, args, timeout, system=RAW, prog="raw_mpi",
                timed=False):
        if not self.want(row, RAW):
            return
        exe = os.path.join(self.bench_bin, prog)
        res = self.missing(exe)
        if res is None:
            if timed:
                run_cmd(self.mpirun(3, [exe] + args), self.env,
                        self.tscale(timeout))
            res = self.launches(self.mpirun(3, [exe] + args), self.runs,
                                self.tscale(timeout), timed=timed)
        self.record(row, system, res)

    def run_mpi4py(self, row, system, args, per_run_timeout, runs=None):
        if not self.want(row, system):
            return
        runs = runs or self.runs
        script = os.path.join(HERE, "peer_mpi4py.py")
        if system == POOL:
            prog = [self.py, "-m", "mpi4py.futures", script]
        else:
            prog = [self.py, script, "--comm"]
        cmd = self.mpirun(3, prog + args + ["runs=%d" % runs])
        res = self.launches(cmd, 1, self.tscale(30 + runs * per_run_timeout),
                            expect=runs)
        self.record(row, system, res)

    def run_dask(self, row, args, per_run_timeout, runs=None):
        if not self.want(row, DASK):
            return
        runs = runs or self.runs
        cmd = [self.py, os.path.join(HERE, "peer_dask.py")] + args + \
            ["runs=%d" % runs]
        res = self.launches(cmd, 1, self.tscale(60 + runs * per_run_timeout),
                            expect=runs)
        self.record(row, DASK, res)

    # ---- benchmarks

    def throughput(self, row, full_n, pdask_timeout, peer_runs=None):
        n = self.n(full_n)
        log("== throughput, %d empty tasks" % n)
        self.run_pdask(row, "bench_empty", ["n=%d" % n], pdask_timeout)
        self.run_raw(row, ["throughput", "n=%d" % n, "k=1"], 60)
        self.run_raw(row, ["throughput", "n=%d" % n, "k=8"], 60,
                     system=RAW + "8")
        # mpi4py runs ~5k tasks/s here, Dask ~500 tasks/s.
        for system in (POOL, COMM):
            self.run_mpi4py(row, system, ["throughput", "n=%d" % n],
                            30 + n / 500, runs=peer_runs)
        self.run_dask(row, ["throughput", "n=%d" % n], min(600, 60 + n / 150),
                      runs=peer_runs)

    def chain(self):
        row = "chain"
        n = self.n(2000)
        log("== chain of %d dependent tasks" % n)
        self.run_pdask(row, "bench_chain", ["n=%d" % n], 60)
        self.run_raw(row, ["pingpong", "n=%d" % self.n(100000)], 60)
        for system in (POOL, COMM):
            self.run_mpi4py(row, system, ["chain", "n=%d" % n], 60)
        self.run_dask(row, ["chain", "n=%d" % n], 120)

    def work(self, row, mode, n, ms):
        log("== %d tasks of %g ms %s" % (n, ms, mode))
        self.run_pdask(row, "bench_busy", ["n=%d" % n, "ms=%g" % ms,
                                           "mode=%s" % mode], 60)
        self.run_raw(row, [mode, "n=%d" % n, "ms=%g" % ms], 60)
        for system in (POOL, COMM):
            self.run_mpi4py(row, system, [mode, "n=%d" % n, "ms=%g" % ms], 60)
        self.run_dask(row, [mode, "n=%d" % n, "ms=%g" % ms], 120)

    def scale(self):
        n = self.n(1000000)
        log("== scale: pdask-mpi with %d empty tasks" % n)
        self.run_pdask("scale", "bench_empty", ["n=%d" % n], 600)

    def startup(self):
        row = "startup"
        log("== start-up: one-task flow vs MPI hello")
        self.run_pdask(row, "bench_one", [], 60, timed=True)
        self.run_raw(row, [], 60, prog="hello", timed=True)

    def idle(self):
        row = "idle"
        settle, window = IDLE_SETTLE, IDLE_WINDOW
        secs = 8
        log("== idle CPU, 8 processes")
        if self.want(row, PDASK):
            res = self.missing(self.pdask, self.flow("bench_idle"))
            if res is None:
                # One launch per run: the flow sleeps secs, we sample from
                # 2 s after all 8 ranks exist for one 5 s window.
                res = Result()
                res.wanted = self.runs
                for _ in range(self.runs):
                    r = measure_idle(
                        self.mpirun(8, [self.pdask, self.flow("bench_idle"),
                                        "secs=%d" % secs]),
                        self.env, lambda root, comm: comm == "pdask-mpi", 8,
                        1, settle, window, self.tscale(secs + 60))
                    res.samples.extend(r.samples)
                    if not r.ok():
                        res.status, res.reason = r.status, r.reason
                        break
                if res.ok():
                    res.status = "ok"
                    if len(res.samples) >= res.wanted:
                        res.reason = ""
            self.record(row, PDASK, res)
        # Peers start slowly: one launch each, R consecutive 5 s windows
        # once the peer has printed READY.
        peer_secs = settle + self.runs * window + 3
        if self.want(row, POOL):
            cmd = self.mpirun(8, [self.py, "-m", "mpi4py.futures",
                                  os.path.join(HERE, "peer_mpi4py.py"),
                                  "idle", "secs=%g" % peer_secs])
            res = measure_idle(cmd, self.env,
                               lambda root, comm: comm.startswith("python"),
                               8, self.runs, settle, window,
                               self.tscale(peer_secs + 90), "READY")
            self.record(row, POOL, res)
        if self.want(row, DASK):
            cmd = [self.py, os.path.join(HERE, "peer_dask.py"), "idle",
                   "workers=7", "secs=%g" % peer_secs]
            # The client process (which hosts the scheduler) and all its
            # nanny and worker processes.
            res = measure_idle(cmd, self.env, lambda root, comm: True, 8,
                               self.runs, settle, window,
                               self.tscale(peer_secs + 120), "READY")
            self.record(row, DASK, res)

    def journal(self):
        """The resume journal: empty-task rate and 1 ms efficiency with it
        on (a new journal each launch), and the resume of a flow whose
        runs all completed (the same journal again: every run from it)."""
        jdir = os.path.join(self.build, "bench", "journal")
        os.makedirs(jdir, exist_ok=True)
        j = os.path.join(jdir, "run.pdj")
        n = self.n(10000)
        log("== journal on: %d empty tasks, %d x 1 ms busy tasks"
            % (n, self.n(2000)))
        self.run_pdask("tp4", "bench_empty", ["n=%d" % n], 60)
        self.run_pdask("jtp4", "bench_empty", ["n=%d" % n], 60,
                       opts=["--journal", j], fresh=j)
        self.run_pdask("busy", "bench_busy", ["n=%d" % self.n(2000),
                                              "ms=1", "mode=busy"], 60)
        self.run_pdask("jbusy", "bench_busy", ["n=%d" % self.n(2000),
                                               "ms=1", "mode=busy"], 60,
                       opts=["--journal", j], fresh=j)
        n5 = self.n(100000)
        log("== journal: resume of %d completed runs" % n5)
        if self.want("jresume", PDASK):
            for f in (j, j + "-wal"):
                if os.path.exists(f):
                    os.unlink(f)
            # Fill the journal once (untimed), then time launches that take
            # every run from it: the whole mpirun, start-up included.
            run_cmd(self.mpirun(3, [self.pdask, "--journal", j,
                                    self.flow("bench_empty"), "n=%d" % n5]),
                    self.env, self.tscale(300))
        self.run_pdask("jresume", "bench_empty", ["n=%d" % n5], 120,
                       opts=["--journal", j])
        self.run_pdask("jresume_wall", "bench_empty", ["n=%d" % n5], 120,
                       opts=["--journal", j], timed=True)

    def run_all(self):
        self.startup()
        self.throughput("tp4", 10000, 60)
        self.chain()
        self.work("busy", "busy", self.n(2000), 1.0)
        self.work("sleep", "sleep", self.n(200), 10.0)
        self.throughput("tp5", 100000, 120, peer_runs=self.args.big_runs)
        self.scale()
        self.idle()
        self.journal()

    # ---- report

    def table(self):
        R = self.results
        n4, n5, n6 = self.n(10000), self.n(100000), self.n(1000000)
        nb, ns = self.n(2000), self.n(200)
        tp = Metric(tasks_per_s, fmt_rate, True)
        rows = []

        def get(row, system):
            return R.get((row, system))

        def mpi4py_best(row, metric):
            """The better of the two mpi4py executors (for the ratio)."""
            cands = [r for r in (get(row, POOL), get(row, COMM))
                     if r is not None and r.ok()]
            if not cands:
                return None
            return (max if metric.higher_better else min)(
                cands, key=metric.median)

        def add(label, row, metric, raw_cell=None, raw_ratio=None):
            pd = get(row, PDASK)
            raw = get(row, RAW)
            cells = [label, metric.cell(pd),
                     raw_cell if raw_cell is not None else metric.cell(raw),
                     metric.cell(get(row, POOL)),
                     metric.cell(get(row, COMM)),
                     metric.cell(get(row, DASK))]
            ratios = [raw_ratio if raw_ratio is not None
                      else fmt_ratio(metric.ratio(pd, raw)),
                      fmt_ratio(metric.ratio(pd, mpi4py_best(row, metric))),
                      fmt_ratio(metric.ratio(pd, get(row, DASK)))]
            rows.append(cells + ratios)

        for row, n in (("tp4", n4), ("tp5", n5)):
            r1, r8 = get(row, RAW), get(row, RAW + "8")
            raw_cell = "K=1: %s; K=8: %s" % (tp.cell(r1), tp.cell(r8))
            if r1 is None and r8 is None:
                raw_cell = "not run"
            q1 = fmt_ratio(tp.ratio(get(row, PDASK), r1))
            q8 = fmt_ratio(tp.ratio(get(row, PDASK), r8))
            raw_ratio = "K=1: %s; K=8: %s" % (q1, q8) if q1 or q8 else ""
            label = "throughput, %s empty tasks (tasks/s)" % fmt_rate(n)
            big = self.args.big_runs
            if row == "tp5" and big != self.runs:
                label += " [mpi4py, Dask: %d run%s]" % (big,
                                                       "s" if big > 1 else "")
            add(label, row, tp, raw_cell, raw_ratio)

        add("chain of %d dependent tasks (µs per hop; raw: ping-pong "
            "round trip)" % self.n(2000), "chain",
            Metric(us_per_hop, fmt_us, False))
        add("%d × 1 ms busy tasks, efficiency (work/2 cores/wall)" % nb,
            "busy", Metric(efficiency(1.0, 2), fmt_pct, True))
        add("%d × 10 ms sleeping tasks, efficiency (work/2 workers/wall)"
            % ns, "sleep", Metric(efficiency(10.0, 2), fmt_pct, True))

        # Scale: pdask-mpi only; peers are skipped (mpi4py would take
        # minutes, Dask tens of minutes, at 10^6).
        sc, s4 = get("scale", PDASK), get("tp4", PDASK)
        skip = "skipped"
        rows.append(["scale: throughput, %s empty tasks (tasks/s)"
                     % fmt_rate(n6), tp.cell(sc), skip, skip, skip, skip,
                     "", "", ""])
        ratio_txt, rss_txt = "", ""
        if sc is not None and s4 is not None:
            if sc.ok() and s4.ok():
                ratio_txt = fmt_ratio(tp.median(sc) / tp.median(s4))
                rss6 = [s["rss_kb"] for s in sc.samples if "rss_kb" in s]
                rss4 = [s["rss_kb"] for s in s4.samples if "rss_kb" in s]
                if rss6 and rss4:
                    per = ((statistics.median(rss6) - statistics.median(rss4))
                           * 1024.0 / (n6 - n4))
                    rss_txt = "%.1f" % per
                else:
                    rss_txt = "failed: no rss_kb on BENCH line"
            else:
                ratio_txt = rss_txt = tp.cell(sc if not sc.ok() else s4)
        elif sc is None and s4 is None:
            ratio_txt = rss_txt = "not run"
        rows.append(["scale: throughput at %s ÷ at %s" % (fmt_rate(n6),
                                                          fmt_rate(n4)),
                     ratio_txt, skip, skip, skip, skip, "", "", ""])
        rows.append(["scale: rank-0 peak RSS growth, %s → %s tasks "
                     "(bytes/task)" % (fmt_rate(n4), fmt_rate(n6)),
                     rss_txt, skip, skip, skip, skip, "", "", ""])

        # The resume journal: pdask-mpi only.
        busy = Metric(efficiency(1.0, 2), fmt_pct, True)
        jt, t4 = get("jtp4", PDASK), get("tp4", PDASK)
        jb, jr = get("jbusy", PDASK), get("jresume", PDASK)
        jw = get("jresume_wall", PDASK)
        if any(r is not None for r in (jt, jb, jr, jw)):
            na = ["n/a"] * 4
            on_off = ""
            if jt is not None and t4 is not None and jt.ok() and t4.ok():
                on_off = "on ÷ off: %s" % fmt_pct(100.0 * tp.median(jt)
                                                  / tp.median(t4))
            rows.append(["journal on: throughput, %s empty tasks (tasks/s)"
                         % fmt_rate(n4), tp.cell(jt)] + na +
                        [on_off, "", ""])
            rows.append(["journal on: %d × 1 ms busy tasks, efficiency"
                         % nb, busy.cell(jb)] + na + ["", "", ""])
            rows.append(["journal: resume of %s completed runs, flow time "
                         "(s)" % fmt_rate(n5),
                         Metric(wall_s, fmt_s, False).cell(jr)] + na +
                        ["", "", ""])
            rows.append(["journal: resume of %s completed runs, whole "
                         "`mpirun -n 3` (s)" % fmt_rate(n5),
                         Metric(wall_s, fmt_s, False).cell(jw)] + na +
                        ["", "", ""])

        wall = Metric(wall_s, fmt_s, False)
        for sys_ in (POOL, COMM, DASK):
            R.setdefault(("startup", sys_), Result("n/a"))
        pd, hello = get("startup", PDASK), get("startup", RAW)
        st_ratio = fmt_ratio(wall.ratio(pd, hello))
        if st_ratio:
            st_ratio += " (%+.3f s)" % (wall.median(pd) - wall.median(hello))
        add("start-up: `mpirun -n 3` one-task flow (raw: MPI hello), wall",
            "startup", wall, raw_ratio=st_ratio)

        cpu = Metric(cpu_pct, fmt_pct, False)
        R.setdefault(("idle", RAW), Result("n/a"))
        R.setdefault(("idle", COMM), Result("n/a", "see Pool"))
        add("idle: 8 processes, CPU over 5 s (% of one core)", "idle", cpu,
            raw_ratio="")
        # Idle pdask-mpi may use less than one clock tick in the window:
        # then the ratio is only bounded, by one tick.
        pd = get("idle", PDASK)
        if pd is not None and pd.ok() and cpu.median(pd) == 0.0:
            tick = 100.0 / os.sysconf("SC_CLK_TCK") / IDLE_WINDOW
            for col, peer in ((7, mpi4py_best("idle", cpu)),
                              (8, get("idle", DASK))):
                if peer is not None and peer.ok():
                    rows[-1][col] = "> %s" % fmt_ratio(cpu.median(peer)
                                                       / tick)
        return rows

    def markdown(self):
        head = ["benchmark", "pdask-mpi", "raw MPI", "mpi4py Pool",
                "mpi4py Comm", "Dask", "pdask/raw", "pdask/mpi4py",
                "pdask/Dask"]
        rows = self.table()
        lines = ["| " + " | ".join(head) + " |",
                 "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
        for r in rows:
            lines.append("| " + " | ".join(c.replace("|", "/") for c in r)
                         + " |")
        return "\n".join(lines)


# --------------------------------------------------------------------------
# Machine and versions

def first_line(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (p.stdout or p.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def load_average():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0


def machine_info(b):
    model = "unknown"
    cores = set()
    try:
        with open("/proc/cpuinfo") as f:
            phys = core = None
            for line in f:
                k, _, v = line.partition(":")
                k, v = k.strip(), v.strip()
                if k == "model name" and model == "unknown":
                    model = v
                elif k == "physical id":
                    phys = v
                elif k == "core id":
                    core = v
                elif not k and core is not None:
                    cores.add((phys, core))
                    phys = core = None
            if core is not None:
                cores.add((phys, core))
    except OSError:
        pass
    mem = "unknown"
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = "%.1f GiB" % (kb / 1024 / 1024)
    except (OSError, ValueError, IndexError):
        pass
    py_versions = first_line(
        [b.py, "-c", "import importlib.metadata as m, sys; "
         "print(m.version('distributed'), m.version('mpi4py'), "
         "sys.version.split()[0])"]).split()
    while len(py_versions) < 3:
        py_versions.append("unknown")
    build_type = "unknown"
    try:
        with open(os.path.join(b.build, "CMakeCache.txt")) as f:
            m = re.search(r"^CMAKE_BUILD_TYPE:\w+=(.*)$", f.read(), re.M)
            if m:
                build_type = m.group(1) or "(none)"
    except OSError:
        pass
    commit = first_line(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
    if not re.fullmatch(r"[0-9a-f]{4,40}", commit):
        commit = "none"
    return [
        ("CPU", model),
        ("cores", "%d logical CPUs, %d physical cores"
         % (os.cpu_count() or 0, len(cores) or 0)),
        ("memory", mem),
        ("kernel", platform.release()),
        ("Open MPI", first_line([b.args.mpirun, "--version"])),
        ("Python (peers)", "%s %s" % (b.py, py_versions[2])),
        ("distributed", py_versions[0]),
        ("mpi4py", py_versions[1]),
        ("gcc", first_line(["gcc", "--version"])),
        ("build", "%s (CMAKE_BUILD_TYPE: %s)" % (b.build, build_type)),
        ("git commit", commit),
    ]


NOTES = """\
Notes:

- Each cell: median of the runs, with the best run in parentheses
  (shortest time). Runs per figure: {runs}{dask_note}.
- Ratios use medians and are oriented so that **> 1 means pdask-mpi is
  better** (for rates and efficiency: pdask/peer; for times, latency and
  idle CPU: peer/pdask). pdask/mpi4py compares with the better of the two
  mpi4py executors.
- MPI runs use `mpirun -n 3 --oversubscribe` (1 scheduler/master + 2
  workers) on {ncpu} CPUs; Dask uses LocalCluster(n_workers=2,
  threads_per_worker=1, processes=True) with the scheduler in the client
  process. Open MPI turns on yield-when-idle when oversubscribed.
- Raw MPI throughput: rank 0 keeps K 16-byte tasks in flight per worker
  (K=1 and K=8). Raw chain: ping-pong round trip between ranks 0 and 1.
  Raw busy/sleep: the same master/worker loop with 1 ms spin / 10 ms sleep
  per task.
- mpi4py throughput uses `executor.map(noop, range(N))` (chunksize 1);
  mpi4py chain submits task i+1 after `f.result()` of task i; Dask chain
  submits all N with `client.submit(inc, prev_future, pure=False)` and
  waits for the last.
- Scale rows: pdask-mpi only; peers skipped (at 10^6 tasks mpi4py would
  take minutes and Dask about half an hour here). RSS growth is
  (peak RSS of rank 0 at {n6} − at {n4}) / ({n6} − {n4}).
- Start-up: wall time of the whole `mpirun` command, after one untimed
  launch; the ratio cell also gives the difference pdask-mpi − hello.
- Idle: utime+stime from /proc of every `pdask-mpi` process (8 ranks, flow
  sleeping) over 5 s starting 2 s after all ranks exist, one launch per
  run; mpirun itself is not counted. mpi4py: the 8 python ranks under
  `-m mpi4py.futures` (master sleeping, 7 workers idle), Dask: client and
  scheduler process plus 7 workers and their nannies; for these peers the
  windows are consecutive 5 s windows of one launch, starting 2 s after
  the peer printed READY. MPICommExecutor idles like the Pool (same worker
  loop) and is not measured.
"""


def main():
    ap = argparse.ArgumentParser(
        description="pdask-mpi performance comparison (bench/README.md)")
    ap.add_argument("--build", default="build",
                    help="CMake build directory (default: build)")
    ap.add_argument("--pdask", help="pdask-mpi binary "
                    "(default: BUILD/pdask-mpi)")
    ap.add_argument("--bench-bin", help="directory with raw_mpi and hello "
                    "(default: BUILD/bench)")
    ap.add_argument("--flows", help="directory with the bench_*.so flows "
                    "(default: BUILD/bench/flows)")
    ap.add_argument("--runs", type=int, default=0,
                    help="runs per figure (default 3, 1 with --quick)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: N/10 and 1 run; writes no RESULTS.md "
                    "unless --out is given")
    ap.add_argument("--big-runs", type=int, default=1,
                    help="runs of mpi4py and Dask at 10^5 tasks (default 1: "
                    "a Dask run takes ~4 min here)")
    ap.add_argument("--systems", default=",".join(ALL_SYSTEMS),
                    help="comma list of pdask,raw,pool,comm,dask")
    ap.add_argument("--only", help="comma list of rows (journal rows: "
                    "jtp4,jbusy,jresume,jresume_wall): startup,tp4,chain,"
                    "busy,sleep,tp5,scale,idle")
    ap.add_argument("--out", help="where to write the report "
                    "(default: bench/RESULTS.md)")
    ap.add_argument("--no-write", action="store_true",
                    help="print only, write no file")
    ap.add_argument("--python", default="/usr/bin/python3",
                    help="interpreter with mpi4py and distributed")
    ap.add_argument("--mpirun", default="mpirun")
    ap.add_argument("--mpirun-args", default="",
                    help="extra mpirun arguments for every MPI launch")
    ap.add_argument("--timeout-scale", type=float, default=1.0,
                    help="multiply every timeout by this")
    args = ap.parse_args()
    if args.runs < 0 or args.big_runs < 1:
        ap.error("runs must be positive")
    unknown = set(args.systems.split(",")) - set(ALL_SYSTEMS)
    if unknown:
        ap.error("unknown systems: " + ",".join(sorted(unknown)))
    b = Bench(args)
    args.big_runs = min(args.big_runs, b.runs)

    command = " ".join(shlex.quote(a) for a in [b.py] + sys.argv)
    load = load_average()
    if load > 0.5:
        log("warning: load average %.2f before the run: other work on this "
            "machine will disturb the figures" % load)
    started = datetime.datetime.now(datetime.timezone.utc)
    log("pdask-mpi bench: %d run(s) per figure%s" % (
        b.runs, ", quick (N/10)" if args.quick else ""))
    try:
        b.run_all()
    except KeyboardInterrupt:
        log("interrupted: reporting what was measured")
    total = time.perf_counter() - b.t_start

    table = b.markdown()
    info = machine_info(b)
    dask_note = ""
    if args.big_runs != b.runs:
        dask_note = (", except mpi4py and Dask at 10^5 tasks: %d (a Dask "
                     "run takes about 4 minutes here, mpi4py 20 s; the 10^4 "
                     "row has the same per-task cost; --big-runs)"
                     % args.big_runs)
    notes = NOTES.format(runs=b.runs, dask_note=dask_note,
                         ncpu=os.cpu_count(), n6=b.n(1000000), n4=b.n(10000))
    report = "\n".join(
        ["# pdask-mpi benchmark results", "",
         "Generated by `bench/run.py` (see bench/README.md).%s" % (
             " **Quick smoke run (N/10): not for comparison.**"
             if args.quick else ""), "",
         "- date: %s" % started.strftime("%Y-%m-%d %H:%M UTC"),
         "- command: `%s`" % command,
         "- total run time: %.0f s" % total,
         "- load average (1 min) before the run: %.2f%s" % (
             load, " (other work was running: figures are disturbed)"
             if load > 0.5 else "")]
        + ["- %s: %s" % kv for kv in info]
        + ["", table, "", notes])
    print(report)
    out = args.out or (None if args.quick or args.no_write
                       else os.path.join(HERE, "RESULTS.md"))
    if out and not args.no_write:
        kept = kept_sections(out)  # before "w" empties the file
        with open(out, "w") as f:
            f.write(report + kept)
        log("wrote %s (total %.0f s)" % (out, total))
    else:
        log("total %.0f s" % total)
    return 0


# Sections of RESULTS.md that other programs write (exec_cost, taskbench.py)
# and this one keeps: everything from the first of these headings on.
KEPT_HEADINGS = ("## Executors", "## Dependency graphs", "## Resources")


def kept_sections(path):
    """The sections of the old report that run.py does not write."""
    try:
        with open(path) as f:
            old = f.read()
    except OSError:
        return ""
    starts = [old.find("\n" + h) for h in KEPT_HEADINGS]
    starts = [i for i in starts if i >= 0]
    return "\n" + old[min(starts) + 1:] if starts else ""


if __name__ == "__main__":
    sys.exit(main())
