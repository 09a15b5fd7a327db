/* Process isolation: tasks that crash, exit or overrun their timeout in
 * their own helper process end Crashed or Failed with the reason, are
 * retried, and the worker and the rest of the flow go on. */
#include <pdask.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int segv(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)ctx, (void)a, (void)n, (void)out;
    raise(SIGSEGV);
    return 0;
}
PD_TASK(segv, .isolation = "process");

static int aborts(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)ctx, (void)a, (void)n, (void)out;
    abort();
}
PD_TASK(aborts, .isolation = "process");

static int exits(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)ctx, (void)a, (void)n, (void)out;
    exit(3);
}
PD_TASK(exits, .isolation = "process");

static int killed(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)ctx, (void)a, (void)n, (void)out;
    raise(SIGKILL);
    return 0;
}
PD_TASK(killed, .isolation = "process");

/* Crashes on its first attempt, completes on its second. */
static int crash_once(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)a, (void)n;
    if (pd_task_attempt(ctx) == 1)
        raise(SIGSEGV);
    pd_return_int(out, 40 + pd_task_attempt(ctx));
    return 0;
}
PD_TASK(crash_once, .isolation = "process", .retries = 1);

static int naps(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)ctx, (void)a, (void)n, (void)out;
    sleep(30);
    return 0;
}
PD_TASK(naps, .isolation = "process", .timeout_s = 0.5);

static int spins(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)ctx, (void)a, (void)n, (void)out;
    for (volatile unsigned long i = 0;; i++)
        ;
    return 0;
}
PD_TASK(spins, .isolation = "process", .timeout_s = 0.5);

static int add(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)ctx, (void)n;
    pd_return_int(out, a[0].i + 1);
    return 0;
}
PD_TASK(add, .isolation = "process");

static int bad = 0;

static void expect(pd_future *f, int rc, const char *has)
{
    int got = pd_wait(f);
    const char *m = pd_message(f);

    if (got != rc || (has && (!m || !strstr(m, has)))) {
        printf("MISMATCH %s: rc %d (want %d), message '%s' (want '%s')\n",
               pd_future_name(f), got, rc, m ? m : "", has ? has : "");
        bad++;
    }
}

static int isolate(pd_flow *flow, const pd_params *params)
{
    (void)params;
    pd_future *s = pd_submit(flow, segv);
    pd_future *ab = pd_submit(flow, aborts);
    pd_future *ex = pd_submit(flow, exits);
    pd_future *k = pd_submit(flow, killed);
    pd_future *once = pd_submit(flow, crash_once);
    pd_future *nap = pd_submit(flow, naps);
    pd_future *spin = pd_submit(flow, spins);
    pd_future *after = pd_submit(flow, add, pd_dep(s));
    pd_future *ok = pd_submit(flow, add, pd_int(1));
    pd_future *ok2 = pd_submit(flow, add, pd_dep(ok));
    pd_value v;

    expect(s, PD_ECRASHED, "signal 11 (SIGSEGV)");
    expect(ab, PD_ECRASHED, "SIGABRT");
    expect(ex, PD_ECRASHED, "exit(3)");
    expect(k, PD_ECRASHED, "signal 9 (SIGKILL)");
    expect(nap, PD_EFAILED, "timed out after 0.5 s");
    expect(spin, PD_EFAILED, "timed out after 0.5 s");
    expect(after, PD_ENOTREADY, "upstream task run segv-0");
    if (pd_result(once, &v) != 0 || v.i != 42) {
        printf("MISMATCH crash_once: %s\n", pd_message(once));
        bad++;
    }
    if (pd_result(ok2, &v) != 0 || v.i != 3) {
        printf("MISMATCH add chain\n");
        bad++;
    }
    if (!bad)
        printf("isolate checks passed\n");
    return bad;
}
PD_FLOW(isolate);
