#!/usr/bin/python3
"""Task Bench dependency patterns: pdask-mpi, raw MPI and Dask, METG(50%).

    /usr/bin/python3 bench/taskbench.py --build build [--quick]

For each pattern of bench/tb_graph.h (trivial, no_comm, stencil_1d, fft,
tree, nearest, all_to_all by default) runs the same graph of `width`
points x `steps` steps with the same C kernel on

  pdask-mpi  mpirun -n 3 pdask-mpi -t 1 bench_graph.so (scheduler + 2
             single-thread workers)
  MPI        mpirun -n 2 tb_mpi graph (static placement, Isend/Irecv)
  Dask       peer_dask_graph.py (LocalCluster, 2 processes x 1 thread)

sweeping the task duration from 10 ms down to 10 us. Efficiency is useful
work / (wall x cores): kernel iterations per second over the peak, the
best rate the raw MPI runs (and the calibration) reached, as Task Bench
does. METG(50%) is the smallest task duration at which a system still
reaches 50 % efficiency. Also times moving a 64 MiB result between two
pdask-mpi workers against MPI_Send of 64 MiB.

Prints markdown on stdout and writes the "Dependency graphs (Task Bench
patterns)" section of bench/RESULTS.md, leaving the rest of the file as it
is (--quick writes nothing unless --out is given). Every subprocess has a
timeout; a system that fails gets "failed: ..." in its cells and the run
goes on. See bench/README.md.
"""

import argparse
import datetime
import math
import os
import re
import shlex
import signal
import subprocess
import sys
import time

# Shared with run.py, which sits beside this file.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import kill_group, log  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SECTION = "## Dependency graphs (Task Bench patterns)"
CORES = 2

PDASK, MPI, DASK = "pdask", "mpi", "dask"
SYSTEMS = (PDASK, MPI, DASK)
LABEL = {PDASK: "pdask-mpi", MPI: "MPI", DASK: "Dask"}
DEFAULT_PATTERNS = ("trivial", "no_comm", "stencil_1d", "fft", "tree",
                    "nearest", "all_to_all")
# Durations the summary table reports efficiency at (seconds).
REPORTED = (1e-3, 1e-4, 1e-5)


# --------------------------------------------------------------------------
# Subprocesses


def last_line(text):
    """Last line that is not an Open MPI banner rule, shortened."""
    lines = [ln.strip() for ln in (text or "").splitlines()
             if ln.strip() and not set(ln.strip()) <= set("-=")]
    return lines[-1][:120] if lines else ""


def run_cmd(cmd, env, timeout):
    """Run cmd in its own session, killing the group on timeout. Returns
    (BENCH lines as dicts, failure reason or None). Lines printed before a
    timeout or failure are kept."""
    t0 = time.perf_counter()
    try:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                             env=env, text=True, start_new_session=True)
    except OSError as e:
        return [], "cannot start %s: %s" % (cmd[0], e.strerror)
    reason = None
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(p)
        out, err = p.communicate()
        reason = "timeout after %.0f s" % (time.perf_counter() - t0)
    except BaseException:
        kill_group(p)
        raise
    if reason is None and p.returncode != 0:
        tail = last_line(err) or last_line(out)
        reason = "exit %d%s" % (p.returncode, (": " + tail) if tail else "")
    return parse_bench(out), reason


def parse_bench(out):
    found = []
    for line in (out or "").splitlines():
        if not line.startswith("BENCH "):
            continue
        d = {}
        for tok in line.split()[1:]:
            k, eq, v = tok.partition("=")
            if eq:
                try:
                    d[k] = float(v)
                except ValueError:
                    d[k] = v
        if d.get("seconds", 0) > 0:
            found.append(d)
    return found


# --------------------------------------------------------------------------
# Figures

def fmt_dur(s):
    """A task duration: 10 ms, 316 us, 10 us."""
    if s >= 1e-3:
        return "%.3g ms" % (s * 1e3)
    return "%.3g µs" % (s * 1e6)


def fmt_eff(e):
    return "%.0f%%" % (e * 100) if e >= 0.095 else "%.1f%%" % (e * 100)


def metg(curve):
    """METG(50%) from [(duration, efficiency)]: the smallest duration whose
    efficiency is at least 50 %, interpolated (log duration, linear
    efficiency) towards the next shorter duration, which is below 50 %.
    Noise from other processes only lowers efficiency, so a stray low
    point at a longer duration does not hide a good shorter one.
    Returns (text, seconds or None)."""
    pts = sorted(curve, reverse=True)
    good = [k for k, (_, e) in enumerate(pts) if e >= 0.5]
    if not pts:
        return "no data", None
    if not good:
        return "> %s" % fmt_dur(pts[0][0]), None
    k = good[-1]
    # Longer tasks that fell below 50 %: noise, or a curve that is not
    # monotonic (the reader should know either way).
    low = sum(1 for _, e in pts[:k] if e < 0.5)
    flag = " (%d of %d longer below 50%%)" % (low, k) if low else ""
    if k == len(pts) - 1:
        return "≤ %s%s" % (fmt_dur(pts[k][0]), flag), pts[k][0]
    (d_hi, e_hi), (d_lo, e_lo) = pts[k], pts[k + 1]
    f = (e_hi - 0.5) / (e_hi - e_lo)
    d = math.exp(math.log(d_hi) + f * (math.log(d_lo) - math.log(d_hi)))
    return fmt_dur(d) + flag, d


class Runner:
    def __init__(self, a):
        self.a = a
        build = os.path.abspath(a.build)
        self.pdask = os.path.join(build, "pdask-mpi")
        self.tb_mpi = os.path.join(build, "bench", "tb_mpi")
        self.kernel = os.path.join(build, "bench", "tb_kernel.so")
        self.flows = os.path.join(build, "bench", "flows")
        self.env = dict(os.environ)
        self.env.update({"OMPI_ALLOW_RUN_AS_ROOT": "1",
                         "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                         "PYTHONWARNINGS": "ignore",
                         # No __pycache__ in the source tree.
                         "PYTHONDONTWRITEBYTECODE": "1",
                         "TB_KERNEL_LIB": self.kernel})
        self.reps = a.reps or (2 if a.quick else 3)
        self.t_start = time.perf_counter()
        # (pattern, system) -> {duration: [samples]} or failure text.
        self.samples = {}
        self.fail = {}
        self.notes = []
        self.calib_src = "raw MPI"

    def mpirun(self, n, prog):
        return ([self.a.mpirun, "-n", str(n), "--oversubscribe"]
                + shlex.split(self.a.mpirun_args) + prog)

    def timeout(self, s):
        return s * self.a.timeout_scale

    def missing(self, *paths):
        gone = [os.path.basename(p) for p in paths if not os.path.exists(p)]
        return ("missing: " + ", ".join(gone)) if gone else None

    def progress(self, what):
        log("[%6.1fs] %s" % (time.perf_counter() - self.t_start, what))

    # ---- calibration

    def calibrate(self):
        """Kernel iterations per second of the 2 MPI ranks together, best
        of 12 runs of 2 x 10 tasks of about 2 ms: on a busy machine the
        best run is the one least disturbed."""
        bad = self.missing(self.tb_mpi)
        if bad:
            return None, bad
        iters = 1500000
        got, why = run_cmd(self.mpirun(2, [
            self.tb_mpi, "graph", "pattern=trivial", "width=%d" % CORES,
            "steps=10", "iters=%d" % iters, "reps=12"]), self.env,
            self.timeout(120))
        rates = [s["tasks"] * s["iters"] / s["seconds"] for s in got]
        if not rates:
            return None, "failed: calibration: " + (why or "no BENCH line")
        return max(rates), None

    def calibrate_here(self):
        """Fallback without tb_mpi: the kernel through ctypes in this
        process, one core, times the cores."""
        import ctypes
        try:
            lib = ctypes.CDLL(self.kernel)
        except OSError:
            return None
        lib.tb_kernel_run.restype = ctypes.c_double
        lib.tb_kernel_run.argtypes = (ctypes.c_long, ctypes.c_double)
        best = 0.0
        for _ in range(5):
            t0 = time.perf_counter()
            lib.tb_kernel_run(5000000, 1.0)
            best = max(best, 5000000 / (time.perf_counter() - t0))
        return best * CORES

    # ---- the sweep

    def steps(self, system, d):
        """Steps for task duration d: about target seconds of ideal wall,
        within the system's bounds."""
        a = self.a
        target = 0.1 if a.quick else 0.3
        cap = a.dask_max_steps if system == DASK else a.max_steps
        if a.quick:
            cap = max(10, cap * 2 // 5)
        ideal = target * CORES / (a.width * d)
        return int(min(cap, max(10, round(ideal))))

    def points(self, system):
        """[(duration, iters, steps)] of the sweep for one system."""
        return [(d, max(1, round(d * self.per_core)), self.steps(system, d))
                for d in self.durations]

    def record(self, pattern, system, d, got):
        for s in got:
            s["duration"] = d
        self.samples.setdefault((pattern, system), {}).setdefault(
            d, []).extend(got)

    def run_pattern(self, pattern):
        a = self.a
        common = ["pattern=%s" % pattern, "width=%d" % a.width,
                  "radix=%d" % a.radix]
        for system in self.systems:
            key = (pattern, system)
            if system == DASK:
                self.run_dask(pattern, common)
                continue
            if system == PDASK:
                flow = os.path.join(self.flows, "bench_graph.so")
                bad = self.missing(self.pdask, flow)
                base = self.mpirun(3, [self.pdask, "-t", "1", flow])
            else:
                bad = self.missing(self.tb_mpi)
                base = self.mpirun(2, [self.tb_mpi, "graph"])
            if bad:
                self.fail[key] = bad
                continue
            for d, iters, steps in self.points(system):
                cmd = base + common + ["steps=%d" % steps,
                                       "iters=%d" % iters,
                                       "reps=%d" % self.reps]
                # Ideal time is small; allow start-up and a slow runner.
                limit = 30 + self.reps * steps * a.width * (d + 5e-3)
                got, why = run_cmd(cmd, self.env, self.timeout(limit))
                self.record(pattern, system, d, got)
                if why or len(got) < self.reps:
                    self.fail[key] = "failed at %s: %s" % (
                        fmt_dur(d), why or "printed %d of %d BENCH lines"
                        % (len(got), self.reps))
                    break
            self.progress("%-10s %-11s %s" % (LABEL[system], pattern,
                                              self.fail.get(key, "ok")))

    def run_dask(self, pattern, common):
        key = (pattern, DASK)
        script = os.path.join(HERE, "peer_dask_graph.py")
        bad = self.missing(self.kernel)
        if bad:
            self.fail[key] = bad
            return
        pts = self.points(DASK)
        runs = ",".join("%d:%d" % (iters, steps) for _, iters, steps in pts)
        # Dask runs roughly 500 tasks/s here; allow 20 ms per task.
        limit = 90 + sum(self.reps * (steps * self.a.width * 0.02 + 0.3 + d)
                         for d, _, steps in pts)
        got, why = run_cmd([self.a.python, script] + common + [
            "runs=" + runs, "reps=%d" % self.reps], self.env,
            self.timeout(limit))
        by_iters = {iters: d for d, iters, _ in pts}
        for s in got:
            self.record(pattern, DASK, by_iters.get(int(s["iters"]), 0), [s])
        if why or len(got) < self.reps * len(pts):
            self.fail[key] = "failed: " + (why or "printed %d of %d BENCH "
                                           "lines" % (len(got),
                                                      self.reps * len(pts)))
        self.progress("%-10s %-11s %s" % ("Dask", pattern,
                                          self.fail.get(key, "ok")))

    # ---- 64 MiB move

    def move(self):
        a = self.a
        n = a.move_bytes
        reps = 2 if a.quick else 4
        flow = os.path.join(self.flows, "bench_move.so")
        res = {}
        bad = self.missing(self.pdask, flow)
        if bad:
            res[PDASK] = bad
        else:
            got, why = run_cmd(self.mpirun(3, [
                self.pdask, "-t", "1", flow, "bytes=%d" % n,
                "reps=%d" % reps]), self.env, self.timeout(120))
            moved = [s for s in got if s.get("moved", 0) > 0]
            if moved:
                best = min(moved, key=lambda s: s["seconds"] /
                           s["moved"])
                best["base_min"] = min(s.get("base", 0) for s in got)
                res[PDASK] = (best["moved"] / best["seconds"], best)
            else:
                res[PDASK] = "failed: " + (why or (
                    "no result moved (producers and consumer on one "
                    "worker)" if got else "no BENCH line"))
        bad = self.missing(self.tb_mpi)
        if bad:
            res[MPI] = bad
        else:
            got, why = run_cmd(self.mpirun(2, [
                self.tb_mpi, "bw", "bytes=%d" % n, "reps=%d" % (reps + 3)]),
                self.env, self.timeout(60))
            if got:
                best = min(got, key=lambda s: s["seconds"])
                res[MPI] = (best["bytes"] / best["seconds"], best)
            else:
                res[MPI] = "failed: " + (why or "no BENCH line")
        self.progress("64 MiB move: %s" % res)
        return res

    # ---- everything

    def run(self):
        a = self.a
        self.systems = [s for s in SYSTEMS if s in a.systems.split(",")]
        self.patterns = a.patterns.split(",")
        self.load = os.getloadavg()[0]
        if a.durations:
            self.durations = sorted((float(x) * 1e-6 for x in
                                     a.durations.split(",")), reverse=True)
        else:
            # 10 ms down to 10 us: quarter decades, or half with --quick.
            k = 2 if a.quick else 1
            self.durations = [1e-2 * 10 ** (-j / 4) for j in range(0, 13, k)]
        self.progress("calibrating the kernel (tb_mpi, 2 ranks)")
        rate, why = self.calibrate()
        if rate is None:
            log(why)
            rate = self.calibrate_here()
            if rate is None:
                self.calib = None
                self.calib_fail = why + "; no %s either" % self.kernel
                return
            self.notes.append("Calibration by tb_mpi %s; the kernel was "
                              "timed on one core in taskbench.py instead."
                              % why)
            self.calib_src = "one core in taskbench.py, x %d" % CORES
        self.calib = rate
        self.per_core = rate / CORES
        self.progress("kernel: %.4g iterations/s on %d cores" % (rate, CORES))
        for p in self.patterns:
            self.run_pattern(p)
        self.moves = self.move() if a.move else None

    # ---- report

    def peak(self):
        """Task Bench's reference: the best rate the raw MPI runs (and the
        calibration) reached, in kernel iterations per second."""
        best = self.calib
        for (_, system), by_d in self.samples.items():
            if system == MPI:
                for got in by_d.values():
                    for s in got:
                        best = max(best, s["tasks"] * s["iters"] /
                                   s["seconds"])
        return best

    def curve(self, pattern, system, peak):
        """[(duration, best efficiency over repetitions)]."""
        by_d = self.samples.get((pattern, system), {})
        return sorted(((d, max(s["tasks"] * s["iters"] / s["seconds"] / peak
                               for s in got))
                       for d, got in by_d.items() if got and d > 0),
                      reverse=True)

    def checks(self, pattern):
        """Systems whose checksum differs from another's on the same
        graph (same steps and iterations give the same checksum)."""
        seen, bad = {}, set()
        for system in self.systems:
            for got in self.samples.get((pattern, system), {}).values():
                for s in got:
                    seen.setdefault(int(s["steps"]), {}).setdefault(
                        s.get("check"), set()).add(system)
        for by_check in seen.values():
            if len(by_check) > 1:
                for systems in by_check.values():
                    bad |= systems
        return bad

    def cell_eff(self, curve, d, pattern, system):
        for dd, e in curve:
            if abs(dd - d) / d < 1e-6:
                return fmt_eff(e)
        fail = self.fail.get((pattern, system))
        if fail:
            return fail if len(fail) < 60 else fail[:57] + "..."
        return "–"

    def report(self, cmdline):
        a = self.a
        lines = [SECTION, ""]
        mode = ("**quick run (`--quick`)**: 7 durations, shorter runs"
                if a.quick else "full run")
        lines += [
            "Generated by `bench/taskbench.py` (see bench/README.md), %s." %
            mode,
            "",
            "- date: %s" % datetime.datetime.now(datetime.timezone.utc)
            .strftime("%Y-%m-%d %H:%M UTC"),
            "- command: `%s`" % cmdline,
            "- total run time: %.0f s" % (time.perf_counter() -
                                          self.t_start),
            "- load average (1 min) before the run: %.2f%s" % (
                self.load, " (busy machine: figures are noisy)"
                if self.load > 0.5 else ""),
            "- git commit: %s" % git_commit(),
        ]
        if self.calib is None:
            lines += ["", "No figures: %s" % self.calib_fail, ""]
            return "\n".join(lines) + "\n"
        peak = self.peak()
        lines += [
            "- kernel: %.4g iterations/s on %d cores (calibration: %s);"
            " reference peak %.4g iterations/s (best raw MPI run or"
            " calibration)" % (self.calib, CORES, self.calib_src, peak),
            "- calibration / peak: %.2f%s" % (
                self.calib / peak, "" if self.calib > 0.9 * peak else
                " (the calibration ran slowed down: at the peak rate the"
                " tasks were that fraction of their nominal duration)"),
            "- graph: width %d, radix %d; task durations %s down to %s "
            "(%d points); best of %d repetition(s) per point" % (
                a.width, a.radix, fmt_dur(self.durations[0]),
                fmt_dur(self.durations[-1]), len(self.durations),
                self.reps),
            "",
            "| pattern | METG(50%) pdask-mpi | METG MPI | METG Dask | "
            "1 ms: pdask / MPI / Dask | 100 µs: pdask / MPI / Dask | "
            "10 µs: pdask / MPI / Dask |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        curves = {}
        for p in self.patterns:
            row = [p]
            for system in SYSTEMS:
                c = curves[(p, system)] = self.curve(p, system, peak)
                if system not in self.systems:
                    row.append("not run")
                elif c:
                    row.append(metg(c)[0] + (" (partial)" if (p, system)
                                             in self.fail else ""))
                else:
                    row.append(self.fail.get((p, system), "no data"))
            for d in REPORTED:
                row.append(" / ".join(
                    self.cell_eff(curves[(p, s)], d, p, s)
                    if s in self.systems else "not run" for s in SYSTEMS))
            bad = self.checks(p)
            if bad:
                row[0] += " (checksum differs: %s)" % ", ".join(
                    LABEL[s] for s in sorted(bad))
            lines.append("| " + " | ".join(row) + " |")
        if self.moves:
            lines += ["", self.move_line(), ""]
        lines += ["", "Efficiency by task duration (best repetition):", "",
                  "| pattern | system | " + " | ".join(
                      fmt_dur(d) for d in self.durations) + " |",
                  "|---|---|" + "---:|" * len(self.durations)]
        for p in self.patterns:
            for system in self.systems:
                c = dict(curves[(p, system)])
                effs = [fmt_eff(c[d]) if d in c else "–"
                        for d in self.durations]
                lines.append("| %s | %s | %s |" % (p, LABEL[system],
                                                   " | ".join(effs)))
        for (p, system), why in sorted(self.fail.items()):
            self.notes.append("%s, %s: %s" % (p, LABEL[system], why))
        lines += ["", "Notes:", ""] + ["- " + n for n in self.notes] \
            + NOTES + [""]
        return "\n".join(lines) + "\n"

    def move_line(self):
        pd, mpi = self.moves.get(PDASK), self.moves.get(MPI)
        size = "%g MiB" % (self.a.move_bytes / 2 ** 20)

        def txt(r, what):
            if isinstance(r, str):
                return "%s %s" % (what, r)
            return "%s %.3g GB/s (%.1f ms)" % (what, r[0] / 1e9,
                                                r[1]["seconds"] * 1e3)
        line = "**%s result moved between two workers**: %s; %s" % (
            size, txt(pd, "pdask-mpi"), txt(mpi, "MPI_Send/Recv"))
        if not isinstance(pd, str):
            line += " (pdask-mpi with 16-byte results instead: %.2f ms)" % (
                pd[1]["base_min"] * 1e3)
        if not isinstance(pd, str) and not isinstance(mpi, str):
            line += "; pdask-mpi / MPI bandwidth = %.3g" % (pd[0] / mpi[0])
        return line + "."


NOTES = [
    "- Each pattern is a grid of `width` points x `steps` time steps; point"
    " (t, i) depends on a pattern-defined set of points of step t-1"
    " (bench/tb_graph.h has the definitions). Every task runs the same C"
    " kernel (dependent multiply-adds) for the iterations that take the"
    " given duration on one core, and returns an integer mixed from its"
    " inputs; the three systems' checksums of the last step are compared.",
    "- pdask-mpi: `mpirun -n 3 pdask-mpi -t 1 bench_graph.so` (scheduler +"
    " 2 single-thread workers), one task per point with pd_dep() on its"
    " inputs. MPI: `mpirun -n 2 tb_mpi graph`, point i on rank i % 2,"
    " MPI_Isend/MPI_Irecv of each output to the ranks that need it."
    " Dask: LocalCluster(2 worker processes x 1 thread), client.submit with"
    " the upstream futures as arguments; the kernel is the same C code"
    " through ctypes. Dask runs fewer steps (about 1 s per run instead of"
    " minutes); start-up is outside every timed section.",
    "- Efficiency = useful work / (wall x 2 cores) = kernel iterations per"
    " second / reference peak, where the peak is the best rate of any raw"
    " MPI run (Task Bench's method). The task duration is iterations /"
    " (peak / 2). METG(50%) is the smallest task duration at which the"
    " system still reaches 50 % efficiency, interpolated towards the next"
    " shorter duration (log scale); \"(N of M longer below 50%)\" says"
    " that N of the M longer durations fell below 50 % (noise, or a curve"
    " that is not monotonic: see the second table). Task Bench's METG, the"
    " task granularity wall x cores / tasks at that point, is twice it.",
    "- 64 MiB move: pdask-mpi runs two producers of 64 MiB pd_bytes results"
    " (one on each worker) and then a consumer of both; the time is from"
    " submitting the consumer (producers done) to its result, the"
    " bandwidth 64 MiB over that (the best repetition). The same with"
    " 16-byte results (best repetition) shows the scheduling part. MPI: one"
    " MPI_Send/MPI_Recv of 64 MiB between 2 ranks and a 1-byte reply.",
]


def git_commit():
    try:
        return subprocess.run(["git", "-C", REPO, "rev-parse", "--short",
                               "HEAD"], capture_output=True, text=True,
                              timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def update_results(path, section):
    """Replace our section of path (up to the next '## ' heading) or
    append it; the rest of the file stays as it is."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = "# pdask-mpi benchmark results\n"
    start = text.find(SECTION)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        m = re.compile(r"^## ", re.M).search(text, start + len(SECTION))
        end = m.start() if m else len(text)
        text = text[:start] + section + ("\n" + text[end:] if m else "")
    with open(path, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(
        description="Task Bench patterns: pdask-mpi vs raw MPI vs Dask.")
    ap.add_argument("--build", default="build", help="CMake build directory")
    ap.add_argument("--quick", action="store_true",
                    help="7 durations, 2 repetitions, short runs; writes no "
                    "file unless --out is given")
    ap.add_argument("--patterns", default=",".join(DEFAULT_PATTERNS),
                    help="comma-separated patterns (also "
                    "stencil_1d_periodic, dom, spread)")
    ap.add_argument("--systems", default=",".join(SYSTEMS),
                    help="subset of pdask,mpi,dask")
    ap.add_argument("--width", type=int, default=CORES,
                    help="points per step (default 2, one per core)")
    ap.add_argument("--radix", type=int, default=3,
                    help="radix of nearest and spread (default 3)")
    ap.add_argument("--durations", default="",
                    help="task durations in µs, comma-separated (default "
                    "10 ms to 10 µs)")
    ap.add_argument("--reps", type=int, default=0,
                    help="repetitions per point (default 3, quick 2)")
    ap.add_argument("--max-steps", type=int, default=5000,
                    help="steps cap for pdask-mpi and MPI (default 5000)")
    ap.add_argument("--dask-max-steps", type=int, default=60,
                    help="steps cap for Dask (default 60)")
    ap.add_argument("--move-bytes", type=int, default=64 << 20)
    ap.add_argument("--no-move", dest="move", action="store_false",
                    help="skip the 64 MiB transfer")
    ap.add_argument("--out", default=None,
                    help="RESULTS file to update (default bench/RESULTS.md)")
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument("--python", default="/usr/bin/python3",
                    help="interpreter for the Dask peer")
    ap.add_argument("--mpirun", default="mpirun")
    ap.add_argument("--mpirun-args", default="",
                    help="extra arguments for every mpirun")
    ap.add_argument("--timeout-scale", type=float, default=1.0)
    a = ap.parse_args()
    unknown = set(a.systems.split(",")) - set(SYSTEMS)
    if unknown or a.width < 1 or a.radix < 1:
        ap.error("bad --systems, --width or --radix")

    r = Runner(a)
    r.run()
    cmdline = " ".join(shlex.quote(x) for x in
                       ["/usr/bin/python3", "bench/taskbench.py"]
                       + sys.argv[1:])
    section = r.report(cmdline)
    print(section)
    if a.no_write or (a.quick and a.out is None):
        return 0
    out = a.out or os.path.join(HERE, "RESULTS.md")
    update_results(out, section)
    log("wrote %s" % out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
