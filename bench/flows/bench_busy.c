/* Efficiency: n task runs of ms milliseconds each, busy (spinning on the
 * clock) or sleeping. */
#include <pdask.h>
#include <string.h>

#include "bench.h"

static int work(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    double s = args[0].r, end = bench_now() + s;
    (void)ctx, (void)nargs, (void)out;
    if (args[1].i) {
        while (bench_now() < end)
            ;
    } else {
        struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };
        nanosleep(&ts, NULL);
    }
    return 0;
}
PD_TASK(work);

static int bench_busy(pd_flow *flow, const pd_params *params)
{
    int64_t n = pd_param_int(params, "n", 2000);
    double ms = pd_param_real(params, "ms", 1.0);
    int busy = strcmp(pd_param_str(params, "mode", "busy"), "busy") == 0;
    double t0 = bench_now();

    for (int64_t i = 0; i < n; i++)
        pd_submit(flow, work, pd_real(ms / 1000), pd_int(busy));
    int rc = pd_wait_all(flow);
    printf("BENCH tasks=%lld seconds=%.6f\n", (long long)n, bench_now() - t0);
    fflush(stdout);
    return rc;
}
PD_FLOW(bench_busy);
