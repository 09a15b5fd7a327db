/* Task Bench graphs (bench/tb_graph.h): one task run per point, with a
 * pd_dep() on each point of the previous step it depends on; the result
 * (an int, or `bytes` bytes that start with it) is the data that moves.
 *
 * pattern=P width=W steps=S iters=I radix=R bytes=B reps=N
 * prints per repetition: BENCH tasks=N seconds=S iters=I check=C ... */
#include <pdask.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "tb_graph.h"

/* Fixed arguments of a point, before its inputs. */
enum { A_PATTERN, A_WIDTH, A_RADIX, A_T, A_I, A_ITERS, A_BYTES, A_DEPS };

static int point(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    struct tb_graph g = { (enum tb_pattern)args[A_PATTERN].i,
                          args[A_WIDTH].i, 0, args[A_RADIX].i };
    int64_t in[nargs > A_DEPS ? nargs - A_DEPS : 1];
    size_t bytes = (size_t)args[A_BYTES].i;

    for (int k = A_DEPS; k < nargs; k++) {
        if (args[k].kind == PD_INT)
            in[k - A_DEPS] = args[k].i;
        else if (args[k].kind == PD_BYTES && args[k].len >= sizeof in[0])
            memcpy(&in[k - A_DEPS], args[k].b, sizeof in[0]);
        else
            return pd_fail(ctx, "input %d is not a point's result", k);
    }
    int64_t v = tb_point(&g, args[A_T].i, args[A_I].i, in, nargs - A_DEPS,
                         args[A_ITERS].i);
    if (bytes <= sizeof v) {
        pd_return_int(out, v);
        return 0;
    }
    char *buf = calloc(1, bytes);
    if (buf == NULL)
        return pd_fail(ctx, "out of memory for %zu bytes", bytes);
    memcpy(buf, &v, sizeof v);
    pd_return_bytes(out, buf, bytes);
    free(buf);
    return 0;
}
PD_TASK(point);

static int64_t value_of(const pd_value *v)
{
    int64_t x = 0;
    if (v->kind == PD_INT)
        return v->i;
    if (v->kind == PD_BYTES && v->len >= sizeof x)
        memcpy(&x, v->b, sizeof x);
    return x;
}

/* One run of the graph; 0 and the checksum of the last step, or 1. */
static int run(pd_flow *flow, const struct tb_graph *g, const pd_value *fix,
               pd_future **prev, pd_future **cur, int64_t *check)
{
    long w = g->width, dep[w];
    pd_value a[A_DEPS + w];

    memcpy(a, fix, A_DEPS * sizeof a[0]);
    for (long t = 0; t < g->steps; t++) {
        long wt = tb_width_at(g, t);
        a[A_T] = pd_int(t);
        for (long i = 0; i < wt; i++) {
            int n = tb_deps(g, t, i, dep);
            a[A_I] = pd_int(i);
            for (int k = 0; k < n; k++)
                a[A_DEPS + k] = pd_dep(prev[dep[k]]);
            cur[i] = pd_submitv(flow, point, A_DEPS + n, a);
        }
        /* The flow never reads earlier steps: let the workers free them
         * once their dependents ran. */
        for (long j = 0; t > 0 && j < tb_width_at(g, t - 1); j++)
            pd_release(prev[j]);
        pd_future **tmp = prev;
        prev = cur;
        cur = tmp;
    }
    if (pd_wait_all(flow) != 0)
        return 1;
    *check = 0;
    for (long i = 0; i < tb_width_at(g, g->steps - 1); i++) {
        pd_value v;
        if (pd_result(prev[i], &v) != 0)
            return 1;
        *check = (*check + value_of(&v)) % TB_MOD;
        pd_release(prev[i]);
    }
    return 0;
}

static int bench_graph(pd_flow *flow, const pd_params *params)
{
    const char *name = pd_param_str(params, "pattern", "stencil_1d");
    int p = tb_pattern_parse(name);
    struct tb_graph g = { (enum tb_pattern)p,
                          pd_param_int(params, "width", 2),
                          pd_param_int(params, "steps", 100),
                          pd_param_int(params, "radix", 3) };
    int64_t iters = pd_param_int(params, "iters", 1000);
    int64_t bytes = pd_param_int(params, "bytes", 0);
    int64_t reps = pd_param_int(params, "reps", 1);
    long tasks = 0;

    if (p < 0 || g.width < 1 || g.steps < 1 || g.radix < 1 || iters < 0
        || bytes < 0 || reps < 1) {
        pd_flow_log(flow, PD_ERROR, "bad parameters: pattern=%s (one of "
                    "trivial, no_comm, stencil_1d, stencil_1d_periodic, "
                    "dom, tree, fft, nearest, spread, all_to_all), width, "
                    "steps, radix, reps >= 1, iters, bytes >= 0", name);
        return 1;
    }
    pd_future **prev = calloc((size_t)g.width, sizeof *prev);
    pd_future **cur = calloc((size_t)g.width, sizeof *cur);
    if (prev == NULL || cur == NULL)
        return 1;
    pd_value fix[A_DEPS] = { pd_int(p), pd_int(g.width), pd_int(g.radix),
                             pd_int(0), pd_int(0), pd_int(iters),
                             pd_int(bytes) };
    for (long t = 0; t < g.steps; t++)
        tasks += tb_width_at(&g, t);

    int rc = 0;
    for (int64_t r = 0; r < reps && rc == 0; r++) {
        int64_t check = 0;
        double t0 = bench_now();
        rc = run(flow, &g, fix, prev, cur, &check);
        double t1 = bench_now();
        if (rc == 0)
            printf("BENCH tasks=%ld seconds=%.6f iters=%lld check=%lld "
                   "pattern=%s width=%ld steps=%ld\n", tasks, t1 - t0,
                   (long long)iters, (long long)check, name, g.width,
                   g.steps);
        fflush(stdout);
    }
    free(prev);
    free(cur);
    return rc;
}
PD_FLOW(bench_graph);
