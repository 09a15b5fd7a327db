/* Resume from a journal: every task run appends one line to the file
 * `out` (its side effect), so a test counts how many runs ran. n runs of
 * work, each feeding a big (100-byte) result to a run of widen; work(0)
 * twice (the same run twice in one flow); flaky fails unless the file
 * OUT.fixed exists, and after depends on it. The flow prints a checksum of
 * every result it gets. */
#include <pdask.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* One write, so concurrent lines never mix (O_APPEND). */
static void mark(const char *out, const char *what, long long i)
{
    char line[64];
    int fd = open(out, O_WRONLY | O_APPEND | O_CREAT, 0644);
    int n = snprintf(line, sizeof(line), "%s %lld\n", what, i);

    if (fd >= 0) {
        if (write(fd, line, (size_t)n) != n)
            perror(out);
        close(fd);
    }
}

static void nap(long long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static int work(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)nargs;
    nap(args[2].i);
    mark(args[1].s, "work", args[0].i);
    pd_return_int(out, args[0].i * args[0].i);
    return 0;
}
PD_TASK(work);

static int widen(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    unsigned char b[100];

    (void)ctx, (void)nargs;
    for (int k = 0; k < 100; k++)
        b[k] = (unsigned char)(args[0].i + k);
    mark(args[1].s, "widen", args[0].i);
    pd_return_bytes(out, b, sizeof(b));
    return 0;
}
PD_TASK(widen);

static int flaky(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    char fixed[4096];
    struct stat st;

    (void)nargs;
    mark(args[0].s, "flaky", 0);
    snprintf(fixed, sizeof(fixed), "%s.fixed", args[0].s);
    if (stat(fixed, &st) != 0)
        return pd_fail(ctx, "not fixed yet");
    pd_return_int(out, 7);
    return 0;
}
PD_TASK(flaky);

static int after(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)nargs;
    mark(args[1].s, "after", args[0].i);
    pd_return_int(out, args[0].i + 1);
    return 0;
}
PD_TASK(after);

static int journal(pd_flow *flow, const pd_params *params)
{
    const char *out = pd_param_str(params, "out", "journal.out");
    long n = pd_param_int(params, "n", 20);
    long ms = pd_param_int(params, "sleep_ms", 0);
    unsigned long long sum = 0;
    pd_future *w[2], *f, *a;
    pd_value v;
    int got = 0;

    w[0] = pd_submit(flow, work, pd_int(0), pd_str(out), pd_int(ms));
    w[1] = pd_submit(flow, work, pd_int(0), pd_str(out), pd_int(ms));
    f = pd_submit(flow, flaky, pd_str(out));
    a = pd_submit(flow, after, pd_dep(f), pd_str(out));
    pd_future **wide = calloc((size_t)n, sizeof(*wide));
    for (long i = 1; i < n; i++) {
        pd_future *x = pd_submit(flow, work, pd_int(i), pd_str(out),
                                 pd_int(ms));
        wide[i] = pd_submit(flow, widen, pd_dep(x), pd_str(out));
    }
    for (int k = 0; k < 2; k++)
        if (pd_result(w[k], &v) == 0)
            sum += (unsigned long long)v.i, got++;
    for (long i = 1; i < n; i++) {
        if (pd_result(wide[i], &v) != 0 || v.len != 100)
            continue;
        for (int k = 0; k < 100; k++)
            sum = sum * 31 + ((const unsigned char *)v.b)[k];
        got++;
    }
    if (pd_result(a, &v) == 0)
        sum += (unsigned long long)v.i, got++;
    pd_flow_log(flow, PD_INFO, "journal flow result: %d results, checksum "
                "%llu, flaky %s", got, sum, pd_state_name(pd_state(f)));
    free(wide);
    return 0;
}
PD_FLOW(journal);
