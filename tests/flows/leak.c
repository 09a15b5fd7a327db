/* A flow whose task leaks on purpose, for the asan tier: LeakSanitizer
 * must report it (the suppressions in lsan.supp cover Open MPI only), with
 * pdask-mpi's frames that called the task in its stack. */
#include <pdask.h>
#include <stdlib.h>
#include <string.h>

static void *volatile sink;

static int leaky(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    char *p = malloc(4242);

    (void)ctx, (void)args, (void)nargs;
    memset(p, 1, 4242);
    sink = p;
    sink = NULL; /* the last pointer to it is gone */
    pd_return_int(out, p[7]);
    return 0;
}
PD_TASK(leaky);

static int leak(pd_flow *flow, const pd_params *params)
{
    (void)params;
    return pd_wait(pd_submit(flow, leaky));
}
PD_FLOW(leak);
