/* pd_release() of a future right after submitting its dependents, while
 * it still runs: the dependents must still get its result (the worker
 * frees it only once they have ended), and then it is freed. */
#include <pdask.h>
#include <stdlib.h>
#include <unistd.h>

#define SIZE 1000

static int make(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    unsigned char b[SIZE];
    (void)ctx, (void)args, (void)nargs;
    usleep(300 * 1000);
    for (int i = 0; i < SIZE; i++)
        b[i] = (unsigned char)(i * 13);
    pd_return_bytes(out, b, SIZE);
    return 0;
}
PD_TASK(make);

static int sum(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    const unsigned char *b = args[0].b;
    int64_t s = args[1].i;
    (void)nargs;
    if (args[0].kind != PD_BYTES || args[0].len != SIZE)
        return pd_fail(ctx, "got kind %d len %zu", (int)args[0].kind,
                       args[0].len);
    for (int i = 0; i < SIZE; i++)
        s += b[i];
    pd_return_int(out, s);
    return 0;
}
PD_TASK(sum);

static int release(pd_flow *flow, const pd_params *params)
{
    pd_future *big, *d[4];
    int64_t want = 0;
    int bad = 0;
    pd_value v = { .kind = PD_NIL };

    (void)params;
    for (int i = 0; i < SIZE; i++)
        want += (unsigned char)(i * 13);
    big = pd_submit(flow, make);
    for (int i = 0; i < 4; i++)
        d[i] = pd_submit(flow, sum, pd_dep(big), pd_int(i));
    pd_release(big);
    for (int i = 0; i < 4; i++) {
        int rc = pd_result(d[i], &v);
        if (rc || v.kind != PD_INT || v.i != want + i) {
            pd_flow_log(flow, PD_ERROR, "CHECK %s: rc %d (%s), value %lld, "
                        "want %lld", pd_future_name(d[i]), rc,
                        pd_message(d[i]) ? pd_message(d[i]) : "",
                        (long long)v.i, (long long)(want + i));
            bad = 1;
        }
    }
    pd_flow_log(flow, PD_INFO, "release checks %s", bad ? "FAILED" : "passed");
    return bad;
}
PD_FLOW(release);
