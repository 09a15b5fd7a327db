/* Idle cost: the flow submits nothing and sleeps; every rank waits. */
#include <pdask.h>

#include "bench.h"

static int bench_idle(pd_flow *flow, const pd_params *params)
{
    double secs = pd_param_real(params, "secs", 8.0);
    struct timespec ts = { (time_t)secs,
                           (long)((secs - (time_t)secs) * 1e9) };
    (void)flow;
    nanosleep(&ts, NULL);
    printf("BENCH idle_seconds=%g\n", secs);
    fflush(stdout);
    return 0;
}
PD_FLOW(bench_idle);
