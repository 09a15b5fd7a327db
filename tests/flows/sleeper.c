/* sleeper.c - n task runs of ms milliseconds each, all at once; each
 * returns its number, which the flow checks. For the served cluster's
 * tests (fairness between clients, a client killed mid-run). tag=T
 * names the flow in its output; say=1 makes each run print "nap I" as it
 * starts; prio=P submits them all with priority P. */
#include <pdask.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int nap(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx;
    (void)nargs;
    if (args[2].i)
        printf("nap %lld\n", (long long)args[0].i);
    if (args[1].i > 0)
        usleep((useconds_t)(args[1].i * 1000));
    pd_return_int(out, args[0].i);
    return 0;
}
PD_TASK(nap);

static int sleeper(pd_flow *flow, const pd_params *params)
{
    int64_t n = pd_param_int(params, "n", 10);
    int64_t ms = pd_param_int(params, "ms", 10);
    int64_t say = pd_param_int(params, "say", 0);
    int prio = (int)pd_param_int(params, "prio", 0);
    const char *tag = pd_param_str(params, "tag", "sleeper");
    pd_future **f = calloc((size_t)n, sizeof(*f));
    int64_t sum = 0, want = 0;

    PD_ANNOTATE(flow, .priority = prio) {
        for (int64_t i = 0; i < n; i++)
            f[i] = pd_submit(flow, nap, pd_int(i), pd_int(ms), pd_int(say));
    }
    for (int64_t i = 0; i < n; i++) {
        pd_value v;
        want += i;
        if (pd_result(f[i], &v) == 0)
            sum += v.i;
    }
    printf("%s: sum %lld of %lld\n", tag, (long long)sum, (long long)want);
    free(f);
    return sum == want ? 0 : 1;
}
PD_FLOW(sleeper);
