/* prefect-dask's priority example in C: with dask.annotate(priority=...).
 *
 *     mpirun -n 2 pdask-mpi -t 1 priority.so
 *
 * One worker thread, a busy run first: of the runs that then wait
 * together, the high-priority one goes first. */
#include <pdask.h>
#include <stdio.h>
#include <unistd.h>

static int show(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)nargs, (void)out;
    if (args[0].i == 0)
        usleep(300 * 1000); /* keeps the worker busy while the others wait */
    else
        printf("show %lld\n", (long long)args[0].i);
    return 0;
}
PD_TASK(show);

static int priority(pd_flow *flow, const pd_params *params)
{
    (void)params;
    pd_submit(flow, show, pd_int(0));
    usleep(100 * 1000);
    PD_ANNOTATE(flow, .priority = -10) {
        pd_submit(flow, show, pd_int(1)); /* low priority task */
    }
    PD_ANNOTATE(flow, .priority = 10) {
        pd_submit(flow, show, pd_int(2)); /* high priority task */
    }
    return 0;
}
PD_FLOW(priority);
