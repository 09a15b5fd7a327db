/* Annotations, the twin of dask.annotate: priority order among runs ready
 * together (one worker thread), nesting, worker restrictions, retries and
 * isolation from an annotation, task defaults, bad values. Run with
 * mpirun -n 4 -t 1 (three single-thread workers). */
#include <pdask.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static atomic_int order; /* per worker process */

/* Returns the order in which it ran on its worker. */
static int ranked(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)ctx, (void)a, (void)n;
    pd_return_int(out, atomic_fetch_add(&order, 1));
    return 0;
}
PD_TASK(ranked);

static int urgent(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    return ranked(ctx, a, n, out);
}
PD_TASK(urgent, .priority = 8, .workers = "1");

static int blocker(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)ctx, (void)a, (void)n, (void)out;
    usleep(400 * 1000);
    atomic_store(&order, 0);
    return 0;
}
PD_TASK(blocker);

static int where(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)a, (void)n;
    pd_return_int(out, pd_task_rank(ctx));
    return 0;
}
PD_TASK(where);

static int fails(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)a, (void)n, (void)out;
    return pd_fail(ctx, "attempt %d fails", pd_task_attempt(ctx));
}
PD_TASK(fails);

static int crashes(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)ctx, (void)a, (void)n, (void)out;
    raise(SIGSEGV);
    return 0;
}
PD_TASK(crashes);

static int bad;

static int64_t value(pd_future *f)
{
    pd_value v = { .kind = PD_NIL };
    if (pd_result(f, &v) != 0 || v.kind != PD_INT) {
        printf("MISMATCH %s did not complete: %s\n", pd_future_name(f),
               pd_message(f) ? pd_message(f) : "");
        bad++;
        return -1;
    }
    return v.i;
}

static void expect_int(const char *what, int64_t got, int64_t want)
{
    if (got != want) {
        printf("MISMATCH %s: %lld, want %lld\n", what, (long long)got,
               (long long)want);
        bad++;
    }
}

static int annotate(pd_flow *flow, const pd_params *params)
{
    pd_future *f[8];
    (void)params;

    /* Priority: all on worker rank 1, queued behind a blocker. */
    PD_ANNOTATE(flow, .workers = "1") {
        pd_submit(flow, blocker);
        usleep(100 * 1000);
        f[0] = pd_submit(flow, ranked);                 /* 0 */
        PD_ANNOTATE(flow, .priority = 5) {
            f[1] = pd_submit(flow, ranked);             /* 5 */
            PD_ANNOTATE(flow, .priority = 9)
                f[2] = pd_submit(flow, ranked);         /* 9: inner wins */
            f[3] = pd_submit(flow, ranked);             /* 5: restored */
        }
        PD_ANNOTATE(flow, .priority = -1)
            f[4] = pd_submit(flow, ranked);             /* -1 */
        f[5] = pd_submit(flow, urgent);                 /* 8: task default */
        f[6] = pd_submit(flow, ranked);                 /* 0 */
    }
    int want[7] = { 4, 2, 0, 3, 6, 1, 5 };
    for (int i = 0; i < 7; i++) {
        char what[32];
        snprintf(what, sizeof(what), "order of run %d", i);
        expect_int(what, value(f[i]), want[i]);
    }

    /* Worker restriction, and a preference that may go elsewhere. */
    PD_ANNOTATE(flow, .workers = "2") {
        for (int i = 0; i < 6; i++)
            f[i] = pd_submit(flow, where);
    }
    for (int i = 0; i < 6; i++)
        expect_int("rank of a run restricted to 2", value(f[i]), 2);
    PD_ANNOTATE(flow, .workers = "3", .allow_other_workers = 1)
        f[7] = pd_submit(flow, where);
    value(f[7]);

    /* An absent worker fails its runs at once (a list that does not
     * parse stops the flow: tests/flows/badannotate.c). */
    PD_ANNOTATE(flow, .workers = "9")
        f[1] = pd_submit(flow, where);
    expect_int("absent workers", pd_wait(f[1]), PD_EFAILED);

    /* Retries and isolation from annotations. */
    PD_ANNOTATE(flow, .retries = 2)
        f[2] = pd_submit(flow, fails);
    expect_int("retried run", pd_wait(f[2]), PD_EFAILED);
    if (!pd_message(f[2]) || strcmp(pd_message(f[2]), "attempt 3 fails"))
        bad++, printf("MISMATCH retries: %s\n", pd_message(f[2]));
    PD_ANNOTATE(flow, .isolation = "process")
        f[3] = pd_submit(flow, crashes);
    expect_int("isolated crash", pd_wait(f[3]), PD_ECRASHED);
    expect_int("after the crash", value(pd_submit(flow, where)) > 0, 1);

    if (!bad)
        printf("annotate checks passed\n");
    /* Leaving a block with return leaves it pushed: the runner says so. */
    PD_ANNOTATE(flow, .priority = 1)
        return bad;
    return bad;
}
PD_FLOW(annotate);
