"""Shared by the Python peers of bench/run.py: the task bodies, the
MODE key=value command line, and the one output line per measurement."""

import time

MODES = ("throughput", "chain", "busy", "sleep", "idle")


def noop(_):
    return None


def inc(x):
    return x + 1


def busy(ms, *_):
    """Spin ms milliseconds on the clock: CPU work, not sleep."""
    end = time.perf_counter() + ms * 1e-3
    while time.perf_counter() < end:
        pass
    return None


def sleepy(ms, *_):
    time.sleep(ms * 1e-3)
    return None


def parse(argv, prog, **extra):
    """MODE [key=value ...] into a dict; extra adds keys with defaults."""
    opts = {"mode": None, "n": 10000, "ms": 1.0, "runs": 1, "secs": 8.0}
    opts.update(extra)
    for a in argv:
        if "=" in a:
            k, v = a.split("=", 1)
            if k not in opts or k == "mode":
                raise SystemExit("%s: unknown option %s" % (prog, a))
            opts[k] = type(opts[k])(v)
        elif opts["mode"] is None:
            opts["mode"] = a
        else:
            raise SystemExit("%s: unexpected argument %s" % (prog, a))
    if opts["mode"] not in MODES:
        raise SystemExit("%s: MODE must be one of %s" % (prog, ", ".join(MODES)))
    return opts


def emit(line):
    print(line, flush=True)


def measure(o, nworkers, one_run, between=None):
    """Time one_run(mode, n) o["runs"] times, one BENCH line each, calling
    between() between runs; in idle mode print READY and sleep instead."""
    mode, n = o["mode"], o["n"]
    if mode == "idle":
        emit("READY workers=%d" % nworkers)
        time.sleep(o["secs"])
        return
    for run_no in range(o["runs"]):
        t0 = time.perf_counter()
        one_run(mode, n)
        dt = time.perf_counter() - t0
        what = "hops" if mode == "chain" else "tasks"
        emit("BENCH %s=%d seconds=%.6f workers=%d" % (what, n, dt, nworkers))
        if between and run_no + 1 < o["runs"]:
            between()
