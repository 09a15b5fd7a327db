/* A small flow for the HTML report's tests: a few task names with
 * different durations, runs that succeed on a retry, one that fails for
 * good (its message has HTML in it) and a run that is NotReady because of
 * it. 30 Completed, 1 Failed, 1 NotReady; the flow reads note=... so a
 * parameter with markup reaches the report too. */
#include <pdask.h>
#include <unistd.h>

static int prepare(pd_ctx *ctx, const pd_value *args, int nargs,
                   pd_value *out)
{
    (void)ctx, (void)args, (void)nargs;
    usleep(20 * 1000);
    pd_return_int(out, 1);
    return 0;
}
PD_TASK(prepare);

static int crunch(pd_ctx *ctx, const pd_value *args, int nargs,
                  pd_value *out)
{
    (void)ctx, (void)nargs;
    usleep((useconds_t)(5 + args[0].i % 6 * 5) * 1000);
    pd_return_int(out, args[0].i);
    return 0;
}
PD_TASK(crunch);

/* Fails its first attempt, completes on the retry. */
static int flaky(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)args, (void)nargs, (void)out;
    usleep(10 * 1000);
    if (pd_task_attempt(ctx) == 1)
        return pd_fail(ctx, "first try fails");
    return 0;
}
PD_TASK(flaky, .retries = 1);

static int broken(pd_ctx *ctx, const pd_value *args, int nargs,
                  pd_value *out)
{
    (void)args, (void)nargs, (void)out;
    usleep(5 * 1000);
    return pd_fail(ctx, "broken </script><b>for good</b> & \"quoted\"");
}
PD_TASK(broken, .retries = 1);

static int after(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)args, (void)nargs, (void)out;
    return 0;
}
PD_TASK(after);

static int report(pd_flow *flow, const pd_params *params)
{
    pd_flow_log(flow, PD_INFO, "note: %s", pd_param_str(params, "note", ""));
    for (int i = 0; i < 4; i++)
        pd_submit(flow, prepare);
    for (int i = 0; i < 24; i++)
        pd_submit(flow, crunch, pd_int(i));
    for (int i = 0; i < 2; i++)
        pd_submit(flow, flaky);
    pd_submit(flow, after, pd_dep(pd_submit(flow, broken)));
    return 0;
}
PD_FLOW(report);
