/* Latency: a chain of n dependent task runs, each adding one to the
 * previous result. */
#include <pdask.h>

#include "bench.h"

static int inc(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx;
    pd_return_int(out, nargs ? args[0].i + 1 : 0);
    return 0;
}
PD_TASK(inc);

static int bench_chain(pd_flow *flow, const pd_params *params)
{
    int64_t n = pd_param_int(params, "n", 2000);
    double t0 = bench_now();
    pd_future *f = pd_submit(flow, inc);
    pd_value v;

    for (int64_t i = 1; i < n; i++)
        f = pd_submit(flow, inc, pd_dep(f));
    if (pd_result(f, &v) != 0 || v.i != n - 1)
        return 1;
    printf("BENCH hops=%lld seconds=%.6f\n", (long long)n, bench_now() - t0);
    fflush(stdout);
    return 0;
}
PD_FLOW(bench_chain);
