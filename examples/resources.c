/* prefect-dask's resources example in C: with dask.annotate(resources=...)
 * on a cluster of one worker that has GPU=1 and process=1.
 *
 *     mpirun -n 2 pdask-mpi resources.so
 *
 * show(0) holds the GPU; show(1..3) each hold the worker's one "process",
 * so they run one after another although the worker has several threads.
 * Workers also get CPU, MEM and GPU from hwloc, and tags from the INI
 * file ([worker N], [host NAME]): `pdask-mpi info` lists them. */
#include <pdask.h>
#include <stdio.h>
#include <unistd.h>

static int show(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)nargs, (void)out;
    printf("show %lld start (holds GPU=%g process=%g)\n",
           (long long)args[0].i, pd_task_resource(ctx, "GPU"),
           pd_task_resource(ctx, "process"));
    usleep(200 * 1000);
    printf("show %lld end\n", (long long)args[0].i);
    return 0;
}
PD_TASK(show);

static int resources(pd_flow *flow, const pd_params *params)
{
    (void)params;
    PD_ANNOTATE(flow, .resources = "GPU=1") {
        pd_submit(flow, show, pd_int(0)); /* requires 1 GPU on a worker */
    }
    pd_wait_all(flow);
    PD_ANNOTATE(flow, .resources = "process=1") {
        /* Each requires the worker's 1 process: they run sequentially. */
        pd_submit(flow, show, pd_int(1));
        pd_submit(flow, show, pd_int(2));
        pd_submit(flow, show, pd_int(3));
    }
    return 0;
}
PD_FLOW(resources, .n_workers = 1, .resources = "GPU=1,process=1");
