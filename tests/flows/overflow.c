/* A task that overflows its stack: the crash report names the run (the
 * handler runs on an alternate signal stack). */
#include <pdask.h>

static int depth(volatile char *prev, long n)
{
    volatile char frame[4096];
    frame[0] = prev ? prev[0] + 1 : 0;
    return n > 0 ? depth(frame, n + 1) + frame[0] : 0;
}

static int recurse(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)ctx, (void)a, (void)n;
    pd_return_int(out, depth(0, 1));
    return 0;
}
PD_TASK(recurse);

static int overflow(pd_flow *flow, const pd_params *params)
{
    (void)params;
    pd_wait(pd_submit(flow, recurse));
    return 0;
}
PD_FLOW(overflow);
