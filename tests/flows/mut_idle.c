/* Workers stay idle for a while between two rounds of task runs: the flow
 * function sleeps pause_ms (default 3000) on the flow thread in between.
 * Run it with a short client_kwargs heartbeat: idle workers must keep
 * beating, so none is taken for lost while it waits for work. */
#include <pdask.h>
#include <unistd.h>

static int one(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)nargs;
    pd_return_int(out, args[0].i + 1);
    return 0;
}
PD_TASK(one);

static int mut_idle(pd_flow *flow, const pd_params *params)
{
    long pause_ms = pd_param_int(params, "pause_ms", 3000);
    pd_future *f[4];
    int bad = 0;

    for (int i = 0; i < 2; i++)
        f[i] = pd_submit(flow, one, pd_int(i));
    bad |= pd_wait_all(flow) != 0;
    usleep((useconds_t)pause_ms * 1000);
    for (int i = 2; i < 4; i++)
        f[i] = pd_submit(flow, one, pd_int(i));
    bad |= pd_wait_all(flow) != 0;
    for (int i = 0; i < 4; i++) {
        pd_value v = { .kind = PD_NIL };
        if (pd_result(f[i], &v) != 0 || v.kind != PD_INT || v.i != i + 1) {
            pd_flow_log(flow, PD_ERROR, "CHECK %s: no result %d",
                        pd_future_name(f[i]), i + 1);
            bad = 1;
        }
    }
    pd_flow_log(flow, PD_INFO, "idle checks %s", bad ? "FAILED" : "passed");
    return bad;
}
PD_FLOW(mut_idle);
