/* Where task runs land: each returns its host name; the flow logs the
 * distinct hosts and checks a big result made on one host is read on
 * others. */
#include <pdask.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define BIG 100000

static int where(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    char host[256];
    (void)ctx, (void)args, (void)nargs;
    usleep(20000); /* long enough for every worker to get some */
    gethostname(host, sizeof(host));
    pd_return_str(out, host);
    return 0;
}
PD_TASK(where);

static int big(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    static char b[BIG];
    (void)ctx, (void)args, (void)nargs;
    memset(b, 'x', sizeof(b));
    pd_return_bytes(out, b, sizeof(b));
    return 0;
}
PD_TASK(big);

static int size_of(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)nargs;
    pd_return_int(out, (int64_t)args[0].len);
    return 0;
}
PD_TASK(size_of);

static int hosts(pd_flow *flow, const pd_params *params)
{
    int64_t n = pd_param_int(params, "n", 16);
    char seen[1024] = "";
    pd_future *f[64], *b, *s[16];
    pd_value v;
    int bad = 0;

    if (n > 64)
        n = 64;
    for (int64_t i = 0; i < n; i++)
        f[i] = pd_submit(flow, where);
    b = pd_submit(flow, big);
    for (int i = 0; i < 16; i++)
        s[i] = pd_submit(flow, size_of, pd_dep(b));
    for (int64_t i = 0; i < n; i++) {
        if (pd_result(f[i], &v) != 0) {
            bad = 1;
            continue;
        }
        char key[300];
        snprintf(key, sizeof(key), ",%s,", v.s);
        if (!strstr(seen, key) && strlen(seen) + strlen(key) < sizeof(seen))
            snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s%s,",
                     seen[0] ? "" : ",", v.s);
    }
    for (int i = 0; i < 16; i++)
        if (pd_result(s[i], &v) != 0 || v.i != BIG)
            bad = 1;
    pd_flow_log(flow, PD_INFO, "ran on hosts %s", seen);
    pd_flow_log(flow, PD_INFO, "hosts checks %s", bad ? "FAILED" : "passed");
    return bad;
}
PD_FLOW(hosts);
