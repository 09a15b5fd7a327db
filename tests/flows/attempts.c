/* Retries, the delay between attempts, and timeout_s: each attempt logs
 * one "try #N" line, so the test can count them; the flow measures the
 * delayed task's wall time itself (mpirun's start-up would hide a missing
 * delay from a timer around the whole command). */
#include <pdask.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Always fails: with retries = 3 it must run exactly 4 times. */
static int always(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)args, (void)nargs, (void)out;
    pd_log(ctx, PD_INFO, "try #%d", pd_task_attempt(ctx));
    return pd_fail(ctx, "no luck on try %d", pd_task_attempt(ctx));
}
PD_TASK(always, .retries = 3);

/* Always fails, 0.5 s between its 3 attempts: at least 1 s in all. */
static int patient(pd_ctx *ctx, const pd_value *args, int nargs,
                   pd_value *out)
{
    (void)args, (void)nargs, (void)out;
    pd_log(ctx, PD_INFO, "try #%d", pd_task_attempt(ctx));
    return pd_fail(ctx, "still no luck");
}
PD_TASK(patient, .retries = 2, .retry_delay_s = 0.5);

/* Runs 0.5 s, over its timeout of 0.2 s. */
static int sleepy(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)args, (void)nargs;
    usleep(500 * 1000);
    pd_return_int(out, 1);
    return 0;
}
PD_TASK(sleepy, .timeout_s = 0.2);

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int bad;

static void expect(pd_flow *flow, pd_future *f, int rc, const char *msg)
{
    int got = pd_wait(f);
    const char *m = pd_message(f);
    if (got != rc || !m || !strstr(m, msg)) {
        pd_flow_log(flow, PD_ERROR, "CHECK %s: rc %d want %d, message '%s' "
                    "want '%s'", pd_future_name(f), got, rc, m ? m : "",
                    msg);
        bad = 1;
    }
}

static int attempts(pd_flow *flow, const pd_params *params)
{
    (void)params;
    double t0 = now();
    pd_future *p = pd_submit(flow, patient);
    pd_future *a = pd_submit(flow, always);
    pd_future *s = pd_submit(flow, sleepy);

    expect(flow, a, PD_EFAILED, "no luck on try 4");
    expect(flow, s, PD_EFAILED, "timed out");
    expect(flow, p, PD_EFAILED, "still no luck");
    double took = now() - t0;
    if (took < 1.0) {
        pd_flow_log(flow, PD_ERROR, "CHECK patient-0 ended after %.3f s, "
                    "under its 2 delays of 0.5 s", took);
        bad = 1;
    }
    pd_flow_log(flow, PD_INFO, "patient-0 ended after %s 1 s",
                took < 1.0 ? "less than" : "at least");
    pd_flow_log(flow, PD_INFO, "attempts checks %s", bad ? "FAILED" : "passed");
    return 0;
}
PD_FLOW(attempts);
