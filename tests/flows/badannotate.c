/* A resources annotation that does not parse: exit 2, one message naming
 * the flow and the annotation, nothing after it submitted. */
#include <pdask.h>
#include <stdio.h>

static int noop(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)ctx, (void)a, (void)n, (void)out;
    return 0;
}
PD_TASK(noop);

static int badannotate(pd_flow *flow, const pd_params *params)
{
    const char *res = pd_param_str(params, "resources", "GPU=lots");
    const char *workers = pd_param_str(params, "workers", NULL);

    PD_ANNOTATE(flow, .resources = res, .workers = workers)
        pd_submit(flow, noop);
    printf("NOT REACHED\n");
    return 0;
}
PD_FLOW(badannotate);
