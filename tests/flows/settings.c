/* A flow that sets task runner settings in code: PD_FLOW ranks between the
 * INI file and the command line. */
#include <pdask.h>

static int one(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)args, (void)nargs;
    pd_return_int(out, 1);
    return 0;
}
PD_TASK(one);

static int settings(pd_flow *flow, const pd_params *params)
{
    (void)params;
    pd_submit(flow, one);
    return 0;
}
PD_FLOW(settings, .threads_per_worker = 2, .n_workers = 3);
