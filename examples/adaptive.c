/*
 * adaptive - the prefect-dask README's adaptive scaling example, in C:
 *
 *     DaskTaskRunner(cluster_class=..., adapt_kwargs={"minimum": 1,
 *                                                    "maximum": 10})
 *
 * becomes PD_FLOW(..., .adapt_minimum = 1, .adapt_maximum = 10), or
 * [adapt_kwargs] in an INI file, or --adapt-min/--adapt-max:
 *
 *     pdask-mpi adaptive.so highest_number=40
 *     mpirun -n 2 pdask-mpi adaptive.so
 *
 * The pool starts at the minimum. While more work waits than it can end
 * within target_duration (5 s), the scheduler spawns workers with
 * MPI_Comm_spawn, up to the maximum; workers left idle for wait_count
 * intervals (3 x 1 s) are retired. Each scale event is one log line.
 */
#include <pdask.h>
#include <stdio.h>
#include <unistd.h>

static int shout(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx;
    (void)nargs;
    (void)out;
    usleep(500 * 1000);
    printf("#%lld\n", (long long)args[0].i);
    return 0;
}
PD_TASK(shout);

static int adaptive(pd_flow *flow, const pd_params *params)
{
    int64_t highest = pd_param_int(params, "highest_number", 40);

    for (int64_t n = 0; n < highest; n++)
        pd_submit(flow, shout, pd_int(n));
    return 0;
}
PD_FLOW(adaptive, .adapt_minimum = 1, .adapt_maximum = 10);
