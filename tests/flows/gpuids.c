/* Which GPUs a run holds: pd_task_resource_ids and, under process
 * isolation, CUDA_VISIBLE_DEVICES. With tests/hw/gpus2.xml (two GPUs) and
 * two workers, each worker has one: rank 1 device 0, rank 2 device 1. */
#include <pdask.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int gpu(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    int ids[4], k = pd_task_resource_ids(ctx, "GPU", ids, 4);
    const char *cvd = getenv("CUDA_VISIBLE_DEVICES");
    char buf[96];

    (void)a, (void)n;
    usleep(100 * 1000);
    snprintf(buf, sizeof(buf), "rank %d holds GPU=%g ids=%d:%d "
             "CUDA_VISIBLE_DEVICES=%s", pd_task_rank(ctx),
             pd_task_resource(ctx, "GPU"), k, k ? ids[0] : -1,
             cvd ? cvd : "(unset)");
    pd_return_str(out, buf);
    return 0;
}
PD_TASK(gpu, .resources = "GPU=1", .isolation = "process");

static int gpuids(pd_flow *flow, const pd_params *params)
{
    pd_future *f[4];
    (void)params;

    for (int i = 0; i < 4; i++)
        f[i] = pd_submit(flow, gpu);
    for (int i = 0; i < 4; i++) {
        pd_value v;
        if (pd_result(f[i], &v) == 0)
            printf("%s\n", v.s);
    }
    return 0;
}
PD_FLOW(gpuids);
