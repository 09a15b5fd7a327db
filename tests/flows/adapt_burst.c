/*
 * adapt_burst - bursts of sleeping runs with idle gaps, for adaptive
 * scaling. bursts x runs runs of run_ms each, a gap_ms pause after each
 * burst. Before the first burst, `keep` makes a result of keep_bytes
 * bytes (default 64) whose future the flow holds (its worker retires
 * only once it has been fetched to rank 0, or stays if it is too big for
 * that); every burst's results are checked with pd_result after the last
 * gap, when the workers that made them may have been retired; then a run
 * that takes the held result and one from the first burst as inputs must
 * see both. keep=0 leaves the held result out (for bench/).
 */
#include <pdask.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int nap(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx;
    (void)nargs;
    usleep((useconds_t)(args[1].i * 1000));
    pd_return_int(out, args[0].i * 2);
    return 0;
}
PD_TASK(nap);

static int keep(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    size_t n = (size_t)args[1].i;
    char *b = malloc(n);

    (void)ctx;
    (void)nargs;
    if (!b)
        return 1;
    memset(b, (int)args[0].i, n);
    pd_return_bytes(out, b, n);
    free(b);
    return 0;
}
PD_TASK(keep);

/* The held bytes' first byte plus the int. */
static int join(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx;
    (void)nargs;
    pd_return_int(out, (int64_t)((const unsigned char *)args[0].b)[0] +
                       args[1].i);
    return 0;
}
PD_TASK(join);

#define MAX_RUNS 4096

static int adapt_burst(pd_flow *flow, const pd_params *params)
{
    int64_t bursts = pd_param_int(params, "bursts", 2);
    int64_t runs = pd_param_int(params, "runs", 16);
    int64_t run_ms = pd_param_int(params, "run_ms", 200);
    int64_t gap_ms = pd_param_int(params, "gap_ms", 1500);
    bool hold = pd_param_int(params, "keep", 1) != 0;
    int64_t keep_bytes = pd_param_int(params, "keep_bytes", 64);
    static pd_future *f[MAX_RUNS];
    pd_future *held = hold ? pd_submit(flow, keep, pd_int(7),
                                       pd_int(keep_bytes))
                           : NULL;
    int64_t n = 0, bad = 0;
    pd_value v;

    if (held && pd_wait(held) != 0)
        return 1;
    for (int64_t b = 0; b < bursts; b++) {
        for (int64_t i = 0; i < runs && n < MAX_RUNS; i++, n++)
            f[n] = pd_submit(flow, nap, pd_int(n), pd_int(run_ms));
        pd_wait_all(flow);
        pd_flow_log(flow, PD_INFO, "burst %lld done", (long long)b + 1);
        usleep((useconds_t)(gap_ms * 1000));
    }
    for (int64_t i = 0; i < n; i++)
        if (pd_result(f[i], &v) != 0 || v.i != 2 * i)
            bad++;
    if (held) {
        if (pd_result(held, &v) != 0 || v.len != (size_t)keep_bytes ||
            ((const unsigned char *)v.b)[0] != 7)
            bad++;
        pd_future *j = pd_submit(flow, join, pd_dep(held), pd_dep(f[n - 1]));
        if (pd_result(j, &v) != 0 || v.i != 7 + 2 * (n - 1))
            bad++;
    }
    pd_flow_log(flow, PD_INFO, "results after scaling: %lld of %lld wrong",
                (long long)bad, (long long)n + (held ? 2 : 0));
    return bad != 0;
}
PD_FLOW(adapt_burst);
