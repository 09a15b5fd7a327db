"""Task Bench graphs for the Dask peer: bench/tb_graph.h in Python.

The patterns and the point function must match tb_graph.h exactly (the
runs compare checksums); the kernel itself is the C one, loaded with
ctypes from tb_kernel.so (path in $TB_KERNEL_LIB), so Dask runs the same
machine code as tb_mpi and the bench_graph flow.
"""

import ctypes
import os

PATTERNS = ("trivial", "no_comm", "stencil_1d", "stencil_1d_periodic", "dom",
            "tree", "fft", "nearest", "spread", "all_to_all")
MOD = 1000000007


def log2(w):
    """ceil(log2(w)), at least 1."""
    k = 1
    while (1 << k) < w:
        k += 1
    return k


def width_at(pattern, width, t):
    if pattern == "tree" and (1 << min(t, 62)) < width:
        return 1 << t
    return width


def deps(pattern, width, radix, t, i):
    """Sorted points of step t - 1 that (t, i) depends on."""
    w, r = width, radix
    if t == 0 or i >= width_at(pattern, w, t) or pattern == "trivial":
        return []
    if pattern == "no_comm":
        return [i]
    if pattern == "stencil_1d":
        return [j for j in (i - 1, i, i + 1) if 0 <= j < w]
    if pattern == "dom":
        return [j for j in (i - 1, i) if 0 <= j < w]
    if pattern == "stencil_1d_periodic":
        return sorted({(i + d) % w for d in (-1, 0, 1)})
    if pattern == "tree":
        return [i // 2]
    if pattern == "fft":
        partner = i ^ (1 << ((t - 1) % log2(w)))
        return sorted({i, partner} if partner < w else {i})
    if pattern == "nearest":
        return [j for j in range(i - (r - 1) // 2, i + r // 2 + 1)
                if 0 <= j < w]
    if pattern == "spread":
        gap = (w + r - 1) // r
        return sorted({(i + j * gap) % w for j in range(min(r, w))})
    if pattern == "all_to_all":
        return list(range(w))
    raise ValueError("unknown pattern %s" % pattern)


_lib = None


def kernel(iters, x):
    global _lib
    if _lib is None:
        lib = ctypes.CDLL(os.environ["TB_KERNEL_LIB"])
        lib.tb_kernel_run.restype = ctypes.c_double
        lib.tb_kernel_run.argtypes = (ctypes.c_long, ctypes.c_double)
        _lib = lib
    return _lib.tb_kernel_run(iters, x)


def point(width, t, i, iters, *inputs):
    """tb_point(): mix the inputs with the point's place, run the kernel."""
    v = (31 * (sum(inputs) % MOD) + t * width + i + 1) % MOD
    if kernel(iters, 1.0 + v * 1e-9) < 0.0:
        v += 1
    return v
