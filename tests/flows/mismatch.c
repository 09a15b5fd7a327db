/* Stands for ranks that loaded different builds of a flow: the task
 * registers itself on rank 0 only, so workers cannot find it by name. */
#include <pdask.h>
#include <stdlib.h>
#include <string.h>

static int only_on_zero(pd_ctx *ctx, const pd_value *args, int nargs,
                        pd_value *out)
{
    (void)ctx, (void)args, (void)nargs, (void)out;
    return 0;
}
static const struct pd_task_def def = { .fn = only_on_zero,
                                        .name = "only_on_zero" };

__attribute__((constructor)) static void register_on_zero(void)
{
    const char *r = getenv("OMPI_COMM_WORLD_RANK");
    if (r && strcmp(r, "0") == 0)
        pd__register_task(&def, PD_ABI_VERSION);
}

static int mismatch(pd_flow *flow, const pd_params *params)
{
    (void)params;
    pd_submit(flow, only_on_zero);
    return 0;
}
PD_FLOW(mismatch);
