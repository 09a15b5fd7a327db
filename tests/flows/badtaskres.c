/* A task default that does not parse: refused when the .so is loaded. */
#include <pdask.h>

static int noop(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)ctx, (void)a, (void)n, (void)out;
    return 0;
}
PD_TASK(noop, .resources = "GPU=-2");

static int badtaskres(pd_flow *flow, const pd_params *params)
{
    (void)params;
    pd_submit(flow, noop);
    return 0;
}
PD_FLOW(badtaskres);
