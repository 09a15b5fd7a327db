/* A run submitted after its upstream has already ended NotReady (not only
 * Failed) must not run: it ends NotReady at once, naming that upstream. */
#include <pdask.h>
#include <string.h>

static int boom(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)args, (void)nargs, (void)out;
    return pd_fail(ctx, "boom");
}
PD_TASK(boom);

/* Logs when it runs: it never should here. */
static int witness(pd_ctx *ctx, const pd_value *args, int nargs,
                   pd_value *out)
{
    (void)args, (void)nargs;
    pd_log(ctx, PD_WARNING, "witness ran");
    pd_return_int(out, 1);
    return 0;
}
PD_TASK(witness);

static int bad;

static void expect(pd_flow *flow, pd_future *f, enum pd_state st,
                   const char *msg)
{
    pd_wait(f);
    const char *m = pd_message(f);
    if (pd_state(f) != st || !m || strcmp(m, msg) != 0) {
        pd_flow_log(flow, PD_ERROR, "CHECK %s: state %s want %s, message "
                    "'%s' want '%s'", pd_future_name(f),
                    pd_state_name(pd_state(f)), pd_state_name(st),
                    m ? m : "", msg);
        bad = 1;
    }
}

static int notready(pd_flow *flow, const pd_params *params)
{
    (void)params;
    pd_future *b = pd_submit(flow, boom);
    pd_future *w0 = pd_submit(flow, witness, pd_dep(b));

    expect(flow, w0, PD_NOTREADY, "upstream task run boom-0 did not "
                                  "complete (Failed)");
    /* w0 has ended NotReady; only now submit on top of it. */
    pd_future *w1 = pd_submit(flow, witness, pd_dep(w0));
    expect(flow, w1, PD_NOTREADY, "upstream task run witness-0 did not "
                                  "complete (NotReady)");
    pd_future *w2 = pd_submit(flow, witness, pd_int(1), pd_dep(w1));
    expect(flow, w2, PD_NOTREADY, "upstream task run witness-1 did not "
                                  "complete (NotReady)");
    pd_flow_log(flow, PD_INFO, "notready checks %s", bad ? "FAILED" : "passed");
    return 0;
}
PD_FLOW(notready);
