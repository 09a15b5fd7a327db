/* A chain stays where its input is made: hop-k takes hop-(k-1)'s result
 * and returns the rank it ran on. With nothing else running, placement
 * sends every hop after the first to the worker that holds its input, so
 * the chain never moves. Logs "chain of N hops moved M times". */
#include <pdask.h>

static int hop(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)args, (void)nargs;
    pd_return_int(out, pd_task_rank(ctx));
    return 0;
}
PD_TASK(hop);

static int mut_chain(pd_flow *flow, const pd_params *params)
{
    long n = pd_param_int(params, "hops", 20);
    pd_future *f[256];
    long moved = 0, prev = -1;
    int bad = 0;

    if (n < 2 || n > 256)
        return 1;
    f[0] = pd_submit(flow, hop, pd_int(0));
    for (long i = 1; i < n; i++)
        f[i] = pd_submit(flow, hop, pd_dep(f[i - 1]));
    for (long i = 0; i < n; i++) {
        pd_value v = { .kind = PD_NIL };
        if (pd_result(f[i], &v) != 0 || v.kind != PD_INT) {
            pd_flow_log(flow, PD_ERROR, "CHECK %s: no result",
                        pd_future_name(f[i]));
            bad = 1;
            continue;
        }
        moved += prev >= 0 && v.i != prev;
        prev = v.i;
    }
    pd_flow_log(flow, PD_INFO, "chain of %ld hops moved %ld times", n, moved);
    return bad;
}
PD_FLOW(mut_chain);
