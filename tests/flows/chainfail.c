/* A chain of n runs whose head fails: the other n-1 end NotReady, and the
 * log shows the first few and a count, not n-1 warnings. */
#include <pdask.h>

static int link(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)n;
    if (a[0].kind == PD_INT && a[0].i < 0)
        return pd_fail(ctx, "head fails");
    pd_return_int(out, 1);
    return 0;
}
PD_TASK(link);

static int chainfail(pd_flow *flow, const pd_params *params)
{
    long n = (long)pd_param_int(params, "n", 1000);
    pd_future *f = pd_submit(flow, link, pd_int(-1));
    for (long i = 1; i < n; i++)
        f = pd_submit(flow, link, pd_dep(f));
    return 0;
}
PD_FLOW(chainfail);
