/* Failed, NotReady, retries, and a function that is not a task. */
#include <pdask.h>
#include <string.h>

static int boom(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)nargs, (void)out;
    return pd_fail(ctx, "boom %lld", (long long)args[0].i);
}
PD_TASK(boom);

static int ret3(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)args, (void)nargs, (void)out;
    return 3;
}
PD_TASK(ret3);

static int after(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)args, (void)nargs, (void)out;
    return 0;
}
PD_TASK(after);

/* Fails on its first two attempts. */
static int flaky(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)args, (void)nargs;
    if (pd_task_attempt(ctx) < 3)
        return pd_fail(ctx, "attempt %d: not yet", pd_task_attempt(ctx));
    pd_return_int(out, pd_task_attempt(ctx));
    return 0;
}
PD_TASK(flaky, .retries = 2, .retry_delay_s = 0.05);

static int not_a_task(pd_ctx *ctx, const pd_value *args, int nargs,
                      pd_value *out)
{
    (void)ctx, (void)args, (void)nargs, (void)out;
    return 0;
}

static int bad;

static void expect(pd_flow *flow, pd_future *f, int rc, const char *msg)
{
    int got = pd_wait(f);
    const char *m = pd_message(f);
    if (got != rc || (msg && (!m || !strstr(m, msg)))) {
        pd_flow_log(flow, PD_ERROR, "CHECK %s: rc %d want %d, message '%s' "
                    "want '%s'", pd_future_name(f), got, rc, m ? m : "",
                    msg ? msg : "");
        bad = 1;
    }
}

static int fail(pd_flow *flow, const pd_params *params)
{
    (void)params;
    pd_future *b = pd_submit(flow, boom, pd_int(7));
    pd_future *a = pd_submit(flow, after, pd_dep(b));
    pd_future *aa = pd_submit(flow, after, pd_dep(a));
    pd_future *r = pd_submit(flow, ret3);
    pd_future *fl = pd_submit(flow, flaky);
    pd_future *n = pd_submit(flow, not_a_task);
    pd_value v;

    expect(flow, b, PD_EFAILED, "boom 7");
    expect(flow, a, PD_ENOTREADY, "upstream task run boom-0 did not "
                                  "complete (Failed)");
    expect(flow, aa, PD_ENOTREADY, "upstream task run after-0");
    expect(flow, r, PD_EFAILED, "task returned 3");
    expect(flow, fl, 0, NULL);
    expect(flow, n, PD_EFAILED, "is not a task: declare it with PD_TASK");
    if (pd_result(fl, &v) != 0 || v.i != 3) {
        pd_flow_log(flow, PD_ERROR, "CHECK flaky ran %lld times", (long long)v.i);
        bad = 1;
    }
    if (pd_state(a) != PD_NOTREADY || strcmp(pd_state_name(pd_state(a)),
                                             "NotReady") != 0)
        bad = 1;
    /* Submitting after a failure: NotReady at once. */
    expect(flow, pd_submit(flow, after, pd_dep(b)), PD_ENOTREADY, "boom-0");
    pd_flow_log(flow, PD_INFO, "fail checks %s", bad ? "FAILED" : "passed");
    return 0;
}
PD_FLOW(fail);
