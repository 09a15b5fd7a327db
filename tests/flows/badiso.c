/* A task whose .isolation is misspelled: refused at load, exit 2. */
#include <pdask.h>

static int t(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)ctx, (void)a, (void)n, (void)out;
    return 0;
}
PD_TASK(t, .isolation = "proces");

static int badiso(pd_flow *flow, const pd_params *params)
{
    (void)params;
    pd_submit(flow, t);
    return 0;
}
PD_FLOW(badiso);
