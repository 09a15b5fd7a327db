/* Moving a big result between workers: two producers of `bytes` bytes
 * each (they go to different workers: the scheduler fills every worker's
 * threads first), then one consumer that needs both, so at least one
 * result moves worker to worker.
 *
 * bytes=B (default 64 MiB) reps=N; prints per repetition:
 *   BENCH moved=M seconds=S base=S0 producers=R1,R2 consumer=R
 * where S runs from submitting the consumer (both producers done) to
 * having its small result, M is the bytes that changed worker, and S0 is
 * the same for producers of 16 bytes: the scheduling part of S. */
#include <pdask.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static int produce(pd_ctx *ctx, const pd_value *args, int nargs,
                   pd_value *out)
{
    size_t n = (size_t)args[0].i;
    int64_t rank = pd_task_rank(ctx);
    char *buf = malloc(n);

    (void)nargs;
    if (buf == NULL || n < sizeof rank)
        return pd_fail(ctx, "cannot make %zu bytes", n);
    memset(buf, 0x5a, n);
    memcpy(buf, &rank, sizeof rank);      /* who made it */
    pd_return_bytes(out, buf, n);
    free(buf);
    return 0;
}
PD_TASK(produce);

/* Returns the ranks: its own, then each input's producer. Reads only the
 * ends of the inputs, so the time is the move, not a scan. */
static int consume(pd_ctx *ctx, const pd_value *args, int nargs,
                   pd_value *out)
{
    int64_t ranks[3] = { pd_task_rank(ctx), 0, 0 };

    for (int k = 0; k < nargs && k < 2; k++) {
        const char *b = args[k].b;
        if (args[k].kind != PD_BYTES || args[k].len < sizeof ranks[0]
            || b[args[k].len - 1] != 0x5a)
            return pd_fail(ctx, "input %d is not a producer's result", k);
        memcpy(&ranks[k + 1], b, sizeof ranks[0]);
    }
    pd_return_bytes(out, ranks, sizeof ranks);
    return 0;
}
PD_TASK(consume);

/* Producers of n bytes each, then a consumer of both: the seconds from
 * submitting the consumer to its result, and the ranks (consumer, then
 * producers) in ranks[3]; -1 on failure. */
static double once(pd_flow *flow, int64_t n, int64_t ranks[3])
{
    pd_future *a = pd_submit(flow, produce, pd_int(n));
    pd_future *b = pd_submit(flow, produce, pd_int(n));
    pd_value v;

    if (pd_wait(a) != 0 || pd_wait(b) != 0)
        return -1.0;
    double t0 = bench_now();
    pd_future *c = pd_submit(flow, consume, pd_dep(a), pd_dep(b));
    if (pd_result(c, &v) != 0 || v.len != 3 * sizeof ranks[0])
        return -1.0;
    double t1 = bench_now();
    memcpy(ranks, v.b, 3 * sizeof ranks[0]);
    pd_release(a);
    pd_release(b);
    pd_release(c);
    return t1 - t0;
}

static int bench_move(pd_flow *flow, const pd_params *params)
{
    int64_t bytes = pd_param_int(params, "bytes", 64 << 20);
    int64_t reps = pd_param_int(params, "reps", 3);

    for (int64_t r = 0; r < reps; r++) {
        int64_t ranks[3], small[3];
        double base = once(flow, 16, small);
        double s = once(flow, bytes, ranks);

        if (base < 0 || s < 0)
            return 1;
        int moved = (ranks[1] != ranks[0]) + (ranks[2] != ranks[0]);
        printf("BENCH moved=%lld seconds=%.6f base=%.6f producers=%lld,%lld "
               "consumer=%lld\n", (long long)(moved * bytes), s, base,
               (long long)ranks[1], (long long)ranks[2],
               (long long)ranks[0]);
        fflush(stdout);
    }
    return 0;
}
PD_FLOW(bench_move);
