/* A run is sent to a worker as soon as its upstream run has been sent, not
 * when the upstream completes: slow-0 runs for slow_ms (default 500), and
 * its dependent add-0 is on its way while slow-0 still runs. The test
 * checks the order of the scheduler's debug lines ("add-0 | Running on
 * rank" before "slow-0 | Finished in state Completed()"). */
#include <pdask.h>
#include <unistd.h>

static int slow(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)nargs;
    usleep((useconds_t)args[0].i * 1000);
    pd_return_int(out, 41);
    return 0;
}
PD_TASK(slow);

static int add(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)nargs;
    pd_return_int(out, args[0].i + 1);
    return 0;
}
PD_TASK(add);

static int mut_pipeline(pd_flow *flow, const pd_params *params)
{
    long slow_ms = pd_param_int(params, "slow_ms", 500);
    pd_future *s = pd_submit(flow, slow, pd_int(slow_ms));
    pd_future *a = pd_submit(flow, add, pd_dep(s));
    pd_value v = { .kind = PD_NIL };
    int bad = pd_result(a, &v) != 0 || v.kind != PD_INT || v.i != 42;

    if (bad)
        pd_flow_log(flow, PD_ERROR, "CHECK add-0 did not give 42");
    pd_flow_log(flow, PD_INFO, "pipeline checks %s",
                bad ? "FAILED" : "passed");
    return bad;
}
PD_FLOW(mut_pipeline);
