/* A thread task that spins past its timeout_s: it cannot be stopped, but
 * its worker warns when the limit passes, and the run ends Failed. */
#include <pdask.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int spin(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    double end = now() + 1.0;
    (void)ctx, (void)a, (void)n, (void)out;
    while (now() < end)
        ;
    return 0;
}
PD_TASK(spin, .timeout_s = 0.3);

static int overrun(pd_flow *flow, const pd_params *params)
{
    (void)params;
    return pd_wait(pd_submit(flow, spin)) == PD_EFAILED ? 0 : 1;
}
PD_FLOW(overrun);
