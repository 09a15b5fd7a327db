/* A flow that sets its start-up timeout in code: PD_FLOW(.timeout_s)
 * must reach client_kwargs timeout (`pdask-mpi info` shows it). */
#include <pdask.h>

static int timeout_flow(pd_flow *flow, const pd_params *params)
{
    (void)flow, (void)params;
    return 0;
}
PD_FLOW(timeout_flow, .timeout_s = 42.5, .adapt_minimum = 2,
        .adapt_maximum = 2);
