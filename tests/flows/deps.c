/* Futures as arguments: chains, fan-in, strings and bytes, results that
 * stay on their worker until pd_result (big=BYTES, 64 KiB by default: a
 * megabyte or more is sent from the worker's store), and pd_release. Each check that
 * fails is logged; the flow returns 1 if any did. */
#include <pdask.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static int inc(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx;
    pd_return_int(out, nargs ? args[0].i + 1 : 0);
    return 0;
}
PD_TASK(inc);

static int square(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)nargs;
    pd_return_int(out, args[0].i * args[0].i);
    return 0;
}
PD_TASK(square);

static int sum(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    int64_t s = 0;
    for (int i = 0; i < nargs; i++) {
        if (args[i].kind != PD_INT)
            return pd_fail(ctx, "argument %d is not an int", i);
        s += args[i].i;
    }
    pd_return_int(out, s);
    return 0;
}
PD_TASK(sum);

static int greet(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    char buf[256];
    (void)nargs;
    snprintf(buf, sizeof(buf), "%s, %s! (%g)", args[0].s, args[1].s,
             args[2].r);
    pd_log(ctx, PD_INFO, "greeting from rank %d", pd_task_rank(ctx));
    pd_return_str(out, buf);
    return 0;
}
PD_TASK(greet);

/* A result too big to travel with the report (args[0] bytes): it stays
 * on its worker. */
static int make_big(pd_ctx *ctx, const pd_value *args, int nargs,
                    pd_value *out)
{
    size_t n = (size_t)args[0].i;
    unsigned char *b = malloc(n);
    (void)nargs;
    if (!b)
        return pd_fail(ctx, "out of memory");
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(i * 7);
    pd_return_bytes(out, b, n);
    free(b);
    return 0;
}
PD_TASK(make_big);

static int checksum(pd_ctx *ctx, const pd_value *args, int nargs,
                    pd_value *out)
{
    const unsigned char *b = args[0].b;
    int64_t s = 0;
    (void)nargs;
    if (args[0].kind != PD_BYTES || args[0].len != (size_t)args[1].i)
        return pd_fail(ctx, "got kind %d len %zu", (int)args[0].kind,
                       args[0].len);
    for (size_t i = 0; i < args[0].len; i++)
        s += b[i];
    pd_return_int(out, s);
    return 0;
}
PD_TASK(checksum);

static int bad;

static void expect_int(pd_flow *flow, const char *what, pd_future *f,
                       int64_t want)
{
    pd_value v;
    int rc = pd_result(f, &v);
    if (rc || v.kind != PD_INT || v.i != want) {
        pd_flow_log(flow, PD_ERROR, "CHECK %s: rc %d (%s) kind %d value %lld, "
                    "want %lld", what, rc, pd_message(f) ? pd_message(f) : "",
                    (int)v.kind, (long long)v.i, (long long)want);
        bad = 1;
    }
}

static int deps(pd_flow *flow, const pd_params *params)
{
    int64_t depth = pd_param_int(params, "depth", 50);
    int64_t nbig = pd_param_int(params, "big", 64 * 1024);
    pd_future *f = pd_submit(flow, inc), *sq[10], *big, *sums[4];
    pd_value v;

    for (int64_t i = 0; i < depth; i++)
        f = pd_submit(flow, inc, pd_dep(f));
    expect_int(flow, "chain", f, depth);

    for (int i = 0; i < 10; i++)
        sq[i] = pd_submit(flow, square, pd_int(i));
    expect_int(flow, "fan-in",
               pd_submit(flow, sum, pd_dep(sq[0]), pd_dep(sq[1]),
                         pd_dep(sq[2]), pd_dep(sq[3]), pd_dep(sq[4]),
                         pd_dep(sq[5]), pd_dep(sq[6]), pd_dep(sq[7]),
                         pd_dep(sq[8]), pd_dep(sq[9])),
               285);

    pd_future *g = pd_submit(flow, greet, pd_str("Hello"), pd_str("world"),
                             pd_real(0.5));
    if (pd_result(g, &v) || v.kind != PD_STR ||
        strcmp(v.s, "Hello, world! (0.5)") != 0) {
        pd_flow_log(flow, PD_ERROR, "CHECK greet: %s", v.s ? v.s : "?");
        bad = 1;
    }

    /* Several consumers of one big result, on whichever workers. */
    big = pd_submit(flow, make_big, pd_int(nbig));
    int64_t want = 0;
    for (int64_t i = 0; i < nbig; i++)
        want += (unsigned char)(i * 7);
    for (int i = 0; i < 4; i++)
        sums[i] = pd_submit(flow, checksum, pd_dep(big), pd_int(nbig));
    for (int i = 0; i < 4; i++)
        expect_int(flow, "checksum", sums[i], want);
    if (pd_result(big, &v) || v.kind != PD_BYTES ||
        v.len != (size_t)nbig ||
        ((const unsigned char *)v.b)[nbig - 1] !=
            (unsigned char)((nbig - 1) * 7)) {
        pd_flow_log(flow, PD_ERROR, "CHECK big result");
        bad = 1;
    }
    pd_flow_log(flow, PD_INFO, "fetched big result: %zu bytes", v.len);
    /* Nobody needs it now: the worker frees it. */
    pd_release(big);
    pd_release(big);
    pd_wait_all(flow);
    pd_flow_log(flow, PD_INFO, "deps checks %s", bad ? "FAILED" : "passed");
    return bad;
}
PD_FLOW(deps);
