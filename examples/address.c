/*
 * address.c - prefect-dask's "existing cluster" example in C:
 *
 *     @flow(task_runner=DaskTaskRunner(address="tcp://127.0.0.1:8786"))
 *     def count_to(highest_number): ...
 *
 * The flow names the cluster it runs on; start one first and this flow
 * runs in the process you start, its tasks on the cluster's workers:
 *
 *     mpirun -n 4 pdask-mpi serve --scheduler-file sched.json &
 *     pdask-mpi address.so highest_number=10
 *
 * --address URL or --scheduler-file FILE on the command line wins over
 * the flow's .address, as every setting does. The token is found in the
 * per-user file the cluster wrote ($XDG_RUNTIME_DIR/pdask/token or
 * ~/.pdask/token), or given with --token-file or PDASK_TOKEN.
 */
#include <pdask.h>
#include <stdio.h>

static int shout(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)nargs;
    pd_log(ctx, PD_INFO, "#%lld", (long long)args[0].i);
    pd_return_int(out, args[0].i * args[0].i);
    return 0;
}
PD_TASK(shout);

static int count_to(pd_flow *flow, const pd_params *params)
{
    int64_t highest = pd_param_int(params, "highest_number", 10), sum = 0;
    pd_future *f[64];

    if (highest > 64)
        highest = 64;
    for (int64_t n = 0; n < highest; n++)
        f[n] = pd_submit(flow, shout, pd_int(n));
    for (int64_t n = 0; n < highest; n++) {
        pd_value v;
        if (pd_result(f[n], &v) == 0)
            sum += v.i;
    }
    printf("sum of squares below %lld: %lld\n", (long long)highest,
           (long long)sum);
    return 0;
}
PD_FLOW(count_to, .address = "tcp://127.0.0.1:8786");
