/* samename.c - a task named nap, like sleeper.c's, that returns 1000 + i
 * instead of i: two clients of one served cluster, one with each file,
 * must each get their own task's results. */
#include <pdask.h>
#include <stdio.h>
#include <unistd.h>

static int nap(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx;
    (void)nargs;
    usleep((useconds_t)(args[1].i * 1000));
    pd_return_int(out, 1000 + args[0].i);
    return 0;
}
PD_TASK(nap);

static int samename(pd_flow *flow, const pd_params *params)
{
    int64_t n = pd_param_int(params, "n", 50), sum = 0, want = 0;
    pd_future *f[1000];

    if (n > 1000)
        n = 1000;
    for (int64_t i = 0; i < n; i++)
        f[i] = pd_submit(flow, nap, pd_int(i), pd_int(5));
    for (int64_t i = 0; i < n; i++) {
        pd_value v;
        want += 1000 + i;
        if (pd_result(f[i], &v) == 0)
            sum += v.i;
    }
    printf("samename: sum %lld of %lld\n", (long long)sum, (long long)want);
    return sum == want ? 0 : 1;
}
PD_FLOW(samename);
