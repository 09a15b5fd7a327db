/* A flow function that returns non-zero fails the run (exit 1) even when
 * its task runs completed. */
#include <pdask.h>

static int fine(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)args, (void)nargs, (void)out;
    return 0;
}
PD_TASK(fine);

static int flowfail(pd_flow *flow, const pd_params *params)
{
    pd_submit(flow, fine);
    return (int)pd_param_int(params, "rc", 4);
}
PD_FLOW(flowfail);
