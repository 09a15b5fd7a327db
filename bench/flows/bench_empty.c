/* Throughput: n empty task runs, submitted at once, then waited for;
 * resources=GPU=0.01 runs them all holding that (bench/resources.py). */
#include <pdask.h>

#include "bench.h"

static int empty(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)args, (void)nargs, (void)out;
    return 0;
}
PD_TASK(empty);

static int bench_empty(pd_flow *flow, const pd_params *params)
{
    int64_t n = pd_param_int(params, "n", 10000);
    const char *res = pd_param_str(params, "resources", NULL);
    double t0 = bench_now(), t1;

    if (res)
        pd_annotate_push(flow, &(struct pd_annotations){ .resources = res });
    for (int64_t i = 0; i < n; i++)
        pd_submit(flow, empty);
    if (res)
        pd_annotate_pop(flow);
    t1 = bench_now();
    int rc = pd_wait_all(flow);
    printf("BENCH tasks=%lld seconds=%.6f submit_seconds=%.6f rss_kb=%ld\n",
           (long long)n, bench_now() - t0, t1 - t0, bench_rss_kb());
    fflush(stdout);
    return rc;
}
PD_FLOW(bench_empty);
