/* Adaptive scaling: from a backlog appearing (n runs of ms each submitted
 * to a pool of zero workers) to the first run starting on a spawned
 * worker. Each run returns the wall clock at its start. */
#include <pdask.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int stamp(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    double t = wall();
    (void)ctx, (void)nargs;
    usleep((useconds_t)(args[0].i * 1000));
    pd_return_real(out, t);
    return 0;
}
PD_TASK(stamp);

#define MAX_RUNS 1024

static int bench_backlog(pd_flow *flow, const pd_params *params)
{
    int64_t n = pd_param_int(params, "n", 16), ms = pd_param_int(params, "ms", 500);
    static pd_future *f[MAX_RUNS];
    double t0 = wall(), first = 1e300;
    pd_value v;

    for (int64_t i = 0; i < n && i < MAX_RUNS; i++)
        f[i] = pd_submit(flow, stamp, pd_int(ms));
    for (int64_t i = 0; i < n && i < MAX_RUNS; i++) {
        if (pd_result(f[i], &v) != 0)
            return 1;
        if (v.r < first)
            first = v.r;
    }
    printf("BENCH backlog_to_first_run_s=%.4f\n", first - t0);
    fflush(stdout);
    return 0;
}
PD_FLOW(bench_backlog);
