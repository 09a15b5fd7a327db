/*
 * count_to - the prefect-dask README example, in C.
 *
 *     mpirun -n 8 pdask-mpi count_to.so highest_number=10
 *
 * Ten task runs that each sleep half a second and print their number run
 * at once on the workers, so the numbers come out of order and the flow
 * takes about a second instead of five.
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

static int count_to(pd_flow *flow, const pd_params *params)
{
    int64_t highest = pd_param_int(params, "highest_number", 10);

    for (int64_t n = 0; n < highest; n++)
        pd_submit(flow, shout, pd_int(n));
    return 0; /* the flow waits for every submitted task before it ends */
}
PD_FLOW(count_to);
