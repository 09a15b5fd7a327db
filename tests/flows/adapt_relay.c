/*
 * adapt_relay - a run whose two inputs are held by workers of different
 * spawns (a job rank and a spawned worker cannot fetch from each other):
 * they must come through rank 0. Under mpirun -n 2 with adaptive scaling:
 * `a` is made on the job rank (the only worker then); a backlog of naps
 * makes the pool grow, and while the job rank is full `b` is made on a
 * spawned worker; then pair(a, b) needs both.
 */
#include <pdask.h>
#include <string.h>
#include <unistd.h>

static int big(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    char b[100];

    (void)ctx;
    (void)nargs;
    memset(b, (int)args[0].i, sizeof(b));
    pd_return_bytes(out, b, sizeof(b));
    return 0;
}
PD_TASK(big);

static int nap(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx;
    (void)nargs;
    (void)out;
    usleep((useconds_t)(args[0].i * 1000));
    return 0;
}
PD_TASK(nap);

static int pair(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx;
    (void)nargs;
    pd_return_int(out, ((const unsigned char *)args[0].b)[99] * 1000 +
                       ((const unsigned char *)args[1].b)[99]);
    return 0;
}
PD_TASK(pair);

static int adapt_relay(pd_flow *flow, const pd_params *params)
{
    pd_future *a = pd_submit(flow, big, pd_int(3)), *b, *p;
    pd_value v;

    (void)params;
    if (pd_wait(a) != 0)
        return 1;
    for (int i = 0; i < 8; i++)
        pd_submit(flow, nap, pd_int(600));
    b = pd_submit(flow, big, pd_int(5));
    p = pd_submit(flow, pair, pd_dep(a), pd_dep(b));
    if (pd_result(p, &v) != 0 || v.i != 3005) {
        pd_flow_log(flow, PD_ERROR, "pair: %s", pd_message(p) ? pd_message(p) : "wrong value");
        return 1;
    }
    pd_flow_log(flow, PD_INFO, "relay checks passed");
    return 0;
}
PD_FLOW(adapt_relay);
