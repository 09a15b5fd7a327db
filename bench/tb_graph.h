/*
 * tb_graph.h - the task graphs of bench/taskbench.py, after the dependency
 * patterns of Task Bench (Slaughter et al., SC20), and their kernel.
 *
 * A graph is `width` points by `steps` time steps. Point (t, i) depends on
 * a pattern-defined set of points of step t - 1 (step 0 depends on none):
 *
 *   trivial              none
 *   no_comm              i
 *   stencil_1d           i-1, i, i+1 (those inside 0..width-1)
 *   stencil_1d_periodic  i-1, i, i+1 modulo width
 *   dom                  i-1, i
 *   tree                 i/2; step t has min(2^t, width) points, so the
 *                        graph fans out from one point to the full width
 *   fft                  butterfly: i and i xor 2^k, k = (t-1) mod
 *                        ceil(log2(width)) (the partner when inside)
 *   nearest              the `radix` points i-(radix-1)/2 .. i+radix/2
 *                        inside 0..width-1
 *   spread               i + j*ceil(width/radix) modulo width, j < radix
 *   all_to_all           every point
 *
 * Every point computes tb_point(): an integer that mixes its inputs (so a
 * dependency carries data and the three implementations can compare a
 * checksum), after tb_kernel() runs `iters` dependent floating-point
 * steps (the compute-bound kernel). bench/tb_common.py mirrors this file
 * for Dask; keep the two in step.
 */
#ifndef TB_GRAPH_H
#define TB_GRAPH_H

#include <stdint.h>
#include <string.h>

enum tb_pattern {
    TB_TRIVIAL,
    TB_NO_COMM,
    TB_STENCIL_1D,
    TB_STENCIL_1D_PERIODIC,
    TB_DOM,
    TB_TREE,
    TB_FFT,
    TB_NEAREST,
    TB_SPREAD,
    TB_ALL_TO_ALL,
    TB_NPATTERNS
};

static const char *const tb_pattern_names[TB_NPATTERNS] = {
    "trivial", "no_comm", "stencil_1d", "stencil_1d_periodic", "dom",
    "tree", "fft", "nearest", "spread", "all_to_all",
};

struct tb_graph {
    enum tb_pattern pattern;
    long width, steps, radix;
};

/* Checksums are kept below this prime, so sums of width inputs fit. */
#define TB_MOD 1000000007LL

/* The pattern named s, or -1. */
static inline int tb_pattern_parse(const char *s)
{
    for (int p = 0; p < TB_NPATTERNS; p++)
        if (strcmp(s, tb_pattern_names[p]) == 0)
            return p;
    return -1;
}

/* Points that exist at step t: all of them, except early steps of tree. */
static inline long tb_width_at(const struct tb_graph *g, long t)
{
    if (g->pattern == TB_TREE && t < 62 && (1L << t) < g->width)
        return 1L << t;
    return g->width;
}

/* ceil(log2(w)), at least 1: the number of distinct fft stages. */
static inline long tb_log2(long w)
{
    long k = 1;
    while ((1L << k) < w)
        k++;
    return k;
}

/* Add j to the sorted, duplicate-free list dep[0..n-1]; returns new n. */
static inline int tb_add(long *dep, int n, long j)
{
    int at = n;
    for (int k = 0; k < n; k++) {
        if (dep[k] == j)
            return n;
        if (dep[k] > j && at == n)
            at = k;
    }
    memmove(dep + at + 1, dep + at, (size_t)(n - at) * sizeof *dep);
    dep[at] = j;
    return n + 1;
}

/*
 * The points of step t - 1 that (t, i) depends on, in increasing order,
 * into dep (room for g->width entries); returns how many.
 */
static inline int tb_deps(const struct tb_graph *g, long t, long i, long *dep)
{
    long w = g->width, r = g->radix, n = 0;

    if (t == 0 || i >= tb_width_at(g, t))
        return 0;
    switch (g->pattern) {
    case TB_TRIVIAL:
        break;
    case TB_NO_COMM:
        dep[n++] = i;
        break;
    case TB_STENCIL_1D:
    case TB_DOM:
        for (long j = i - 1; j <= i + (g->pattern == TB_DOM ? 0 : 1); j++)
            if (j >= 0 && j < w)
                dep[n++] = j;
        break;
    case TB_STENCIL_1D_PERIODIC:
        for (long d = -1; d <= 1; d++)
            n = tb_add(dep, (int)n, ((i + d) % w + w) % w);
        break;
    case TB_TREE:
        dep[n++] = i / 2;
        break;
    case TB_FFT: {
        long partner = i ^ (1L << ((t - 1) % tb_log2(w)));
        n = tb_add(dep, (int)n, i);
        if (partner < w)
            n = tb_add(dep, (int)n, partner);
        break;
    }
    case TB_NEAREST:
        for (long j = i - (r - 1) / 2; j <= i + r / 2; j++)
            if (j >= 0 && j < w)
                dep[n++] = j;
        break;
    case TB_SPREAD: {
        long gap = (w + r - 1) / r;
        for (long j = 0; j < r && j < w; j++)
            n = tb_add(dep, (int)n, (i + j * gap) % w);
        break;
    }
    case TB_ALL_TO_ALL:
        for (long j = 0; j < w; j++)
            dep[n++] = j;
        break;
    default:
        break;
    }
    return (int)n;
}

/* The compute-bound kernel: iters dependent multiply-adds, which the
 * compiler can neither vectorise nor shorten. */
static inline double tb_kernel(long iters, double x)
{
    for (long k = 0; k < iters; k++)
        x = x * 0.999999 + 0.000001;
    return x;
}

/* One point: mix the inputs (values of the deps, in dep order) with the
 * point's place, run the kernel, and keep its result alive. */
static inline int64_t tb_point(const struct tb_graph *g, long t, long i,
                               const int64_t *in, int nin, long iters)
{
    int64_t sum = 0, v;

    for (int k = 0; k < nin; k++)
        sum += in[k];
    v = (31 * (sum % TB_MOD) + t * g->width + i + 1) % TB_MOD;
    /* The kernel's result stays positive; testing it keeps the loop. */
    if (tb_kernel(iters, 1.0 + (double)v * 1e-9) < 0.0)
        v++;
    return v;
}

#endif
