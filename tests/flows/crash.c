/* A task run that crashes its worker: the run must say which task run. */
#include <pdask.h>
#include <signal.h>

static int crash(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)args, (void)nargs, (void)out;
    raise(SIGSEGV);
    return 0;
}
PD_TASK(crash);

static int crashflow(pd_flow *flow, const pd_params *params)
{
    (void)params;
    pd_wait(pd_submit(flow, crash));
    return 0;
}
PD_FLOW(crashflow);
