/* Two flows in one .so: --flow chooses. */
#include <pdask.h>

static int first(pd_flow *flow, const pd_params *params)
{
    (void)params;
    pd_flow_log(flow, PD_INFO, "running first");
    return 0;
}
PD_FLOW(first);

static int second(pd_flow *flow, const pd_params *params)
{
    (void)params;
    pd_flow_log(flow, PD_INFO, "running second");
    return 0;
}
PD_FLOW(second, .description = "the other one");
