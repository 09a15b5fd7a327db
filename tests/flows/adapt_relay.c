/*
 * adapt_relay - a run whose two inputs are held by workers of different
 * spawns (a job rank and a spawned worker cannot fetch from each other):
 * they must come through rank 0. Under mpirun -n 2 with adaptive scaling:
 * `a` is made on the job rank (the only worker then); a backlog of naps
 * makes the pool grow, and `b` is made again until a process other than
 * a's made it (placement alone does not say when a spawned worker takes
 * it; each big run leaves its maker's pid in a file, so the results stay
 * on their workers); then pair(a, b) needs both.
 */
#include <pdask.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int big(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    char b[100];

    FILE *f;

    (void)ctx;
    (void)nargs;
    memset(b, (int)args[0].i, sizeof(b));
    pd_return_bytes(out, b, sizeof(b));
    if ((f = fopen(args[1].s, "w"))) { /* who made it */
        fprintf(f, "%ld\n", (long)getpid());
        fclose(f);
    }
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

/* The pid that made the big run whose file is path, or -1. */
static long maker(const char *path)
{
    FILE *f = fopen(path, "r");
    long pid = -1;

    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = -1;
        fclose(f);
        remove(path);
    }
    return pid;
}

static int adapt_relay(pd_flow *flow, const pd_params *params)
{
    char pa[256], pb[256];
    pd_future *a, *b = NULL, *p;
    pd_value v;
    long who;

    (void)params;
    snprintf(pa, sizeof(pa), "/tmp/adapt_relay.%ld.a", (long)getpid());
    snprintf(pb, sizeof(pb), "/tmp/adapt_relay.%ld.b", (long)getpid());
    a = pd_submit(flow, big, pd_int(3), pd_str(pa));
    if (pd_wait(a) != 0)
        return 1;
    who = maker(pa);
    for (int i = 0; i < 8; i++)
        pd_submit(flow, nap, pd_int(600));
    for (int tries = 0; tries < 300; tries++) {
        b = pd_submit(flow, big, pd_int(5), pd_str(pb));
        if (pd_wait(b) != 0)
            return 1;
        if (maker(pb) != who)
            break; /* made by a spawned worker */
        usleep(20 * 1000);
    }
    p = pd_submit(flow, pair, pd_dep(a), pd_dep(b));
    if (pd_result(p, &v) != 0 || v.i != 3005) {
        pd_flow_log(flow, PD_ERROR, "pair: %s", pd_message(p) ? pd_message(p) : "wrong value");
        return 1;
    }
    pd_flow_log(flow, PD_INFO, "relay checks passed");
    return 0;
}
PD_FLOW(adapt_relay);
