/* The other of two flow modules that both declare a task named "work". */
#include <pdask.h>

static int work(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)ctx, (void)a, (void)n;
    pd_return_str(out, "b");
    return 0;
}
PD_TASK(work);

static int flow_b(pd_flow *flow, const pd_params *params)
{
    (void)params;
    return pd_wait(pd_submit(flow, work));
}
PD_FLOW(flow_b);
