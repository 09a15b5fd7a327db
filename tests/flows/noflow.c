/* A .so with a task and no PD_FLOW: pdask-mpi must say so, exit 2. */
#include <pdask.h>

static int lonely(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)args, (void)nargs, (void)out;
    return 0;
}
PD_TASK(lonely);
