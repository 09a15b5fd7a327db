/* Start-up: one task run and its result. */
#include <pdask.h>

#include "bench.h"

static int one(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)args, (void)nargs;
    pd_return_int(out, 1);
    return 0;
}
PD_TASK(one);

static int bench_one(pd_flow *flow, const pd_params *params)
{
    pd_value v;
    (void)params;
    if (pd_result(pd_submit(flow, one), &v) != 0 || v.i != 1)
        return 1;
    printf("BENCH tasks=1\n");
    fflush(stdout);
    return 0;
}
PD_FLOW(bench_one);
