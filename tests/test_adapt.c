/* The adaptive policy without MPI: Dask's target from queued work, growth
 * at once, retirement only after wait_count proposals in a row (fewest
 * result bytes first, never a kept worker, never below the minimum), no
 * flapping on bursts, and the back-off after failed spawns. */
#include <stdlib.h>

#include "adapt.h"
#include "check.h"

static const struct adapt_cfg CFG = { .minimum = 1, .maximum = 8,
                                      .interval_s = 1, .target_s = 5,
                                      .wait_count = 3 };

static void target(void)
{
    struct adapt_in in = { .threads = 1 };

    CHECK_EQ(adapt_target(&CFG, &in), 1);          /* nothing: minimum */
    in.work_s = 12;
    in.runnable = 100;
    CHECK_EQ(adapt_target(&CFG, &in), 3);          /* ceil(12 / 5) */
    in.runnable = 2;
    CHECK_EQ(adapt_target(&CFG, &in), 2);          /* capped by runs */
    in.work_s = 1000;
    in.runnable = 1000;
    CHECK_EQ(adapt_target(&CFG, &in), 8);          /* the maximum */
    in.threads = 4;
    in.work_s = 40;
    CHECK_EQ(adapt_target(&CFG, &in), 2);          /* 40 / (5 x 4) */

    struct adapt_cfg zero = CFG;
    zero.minimum = 0;
    in.threads = 1;
    in.work_s = 0.5;                               /* one unknown run */
    in.runnable = 1;
    CHECK_EQ(adapt_target(&zero, &in), 1);         /* a zero pool grows */
    in.runnable = 0;
    in.work_s = 0;
    CHECK_EQ(adapt_target(&zero, &in), 0);
}

/* n workers, ids 0..n-1, all idle, with the given result bytes. */
static void pool(struct adapt_worker *w, int n, const uint64_t *bytes)
{
    for (int i = 0; i < n; i++) {
        struct adapt_worker x = { .id = i, .idle = true,
                                  .bytes = bytes ? bytes[i] : 0,
                                  .idle_s = 1 };
        w[i] = x;
    }
}

static void grow_then_retire(void)
{
    struct adapt a;
    struct adapt_out out;
    struct adapt_worker w[8];
    uint64_t bytes[4] = { 300, 10, 0, 20 };
    struct adapt_in in = { .threads = 1, .w = w };

    adapt_init(&a, &CFG);
    /* A backlog of 20 s on one worker: grow by 3 at once, even between
     * intervals. */
    pool(w, 1, NULL);
    w[0].idle = false;
    in.nw = 1;
    in.work_s = 20;
    in.runnable = 40;
    adapt_step(&a, &in, false, &out);
    CHECK_EQ(out.target, 4);
    CHECK_EQ(out.grow, 3);
    CHECK_EQ(out.nretire, 0);

    /* Idle: retirement needs three proposals in a row; the worker with
     * the fewest bytes goes first, and worker 0 (kept: a job rank) and
     * the minimum stay. */
    pool(w, 4, bytes);
    w[0].keep = true;
    in.nw = 4;
    in.work_s = 0;
    in.runnable = 0;
    adapt_step(&a, &in, true, &out);
    CHECK_EQ(out.target, 1);
    CHECK_EQ(out.nretire, 0);
    adapt_step(&a, &in, false, &out);   /* between intervals: no count */
    CHECK_EQ(out.nretire, 0);
    adapt_step(&a, &in, true, &out);
    CHECK_EQ(out.nretire, 0);
    adapt_step(&a, &in, true, &out);
    CHECK_EQ(out.nretire, 3);
    CHECK_EQ(out.retire[0], 2);         /* 0 bytes */
    CHECK_EQ(out.retire[1], 1);         /* 10 */
    CHECK_EQ(out.retire[2], 3);         /* 20 */
    adapt_destroy(&a);
}

/* Bursts shorter than wait_count intervals apart: one grow, no shrink. */
static void no_flapping(void)
{
    struct adapt a;
    struct adapt_out out;
    struct adapt_worker w[8];
    struct adapt_in in = { .threads = 1, .w = w };
    int grows = 0, retires = 0, n = 1;

    adapt_init(&a, &CFG);
    for (int t = 0; t < 30; t++) {
        bool burst = t % 3 == 0;        /* work 1 s of every 3 */
        pool(w, n, NULL);
        w[0].keep = true;
        in.nw = n;
        in.now = t;
        in.work_s = burst ? 40 : 0;
        in.runnable = burst ? 40 : 0;
        for (int i = 0; i < n; i++)
            w[i].idle = !burst;
        adapt_step(&a, &in, true, &out);
        grows += out.grow > 0;
        retires += out.nretire > 0;
        n += out.grow - out.nretire;
    }
    CHECK_EQ(grows, 1);
    CHECK_EQ(retires, 0);
    CHECK_EQ(n, 8);
    adapt_destroy(&a);
}

/* The series counts decisions with the pool over the target: work that
 * brings the target back up ends it; a worker busy when the series is
 * complete goes at the first decision it is idle. */
static void series(void)
{
    struct adapt a;
    struct adapt_out out;
    struct adapt_worker w[2];
    struct adapt_in in = { .threads = 1, .w = w, .nw = 2 };

    adapt_init(&a, &CFG);
    pool(w, 2, NULL);
    w[0].keep = true;
    adapt_step(&a, &in, true, &out);
    adapt_step(&a, &in, true, &out);
    in.work_s = 10;                     /* target 2: the series ends */
    in.runnable = 2;
    adapt_step(&a, &in, true, &out);
    CHECK_EQ(out.target, 2);
    CHECK_EQ(out.nretire, 0);
    in.work_s = 0;
    in.runnable = 0;
    adapt_step(&a, &in, true, &out);
    adapt_step(&a, &in, true, &out);
    w[1].idle = false;                  /* complete, but w1 is busy */
    adapt_step(&a, &in, true, &out);
    CHECK_EQ(out.nretire, 0);
    w[1].idle = true;
    adapt_step(&a, &in, true, &out);
    CHECK_EQ(out.nretire, 1);
    CHECK_EQ(out.retire[0], 1);
    adapt_step(&a, &in, true, &out);    /* a new series starts */
    CHECK_EQ(out.nretire, 0);
    adapt_destroy(&a);
}

/* A worker idle for less than an interval is not retired yet. */
static void just_idle(void)
{
    struct adapt a;
    struct adapt_out out;
    struct adapt_worker w[2];
    struct adapt_in in = { .threads = 1, .w = w, .nw = 2 };

    adapt_init(&a, &CFG);
    pool(w, 2, NULL);
    w[0].keep = true;
    w[1].idle_s = 0.5;
    for (int i = 0; i < 5; i++) {
        adapt_step(&a, &in, true, &out);
        CHECK_EQ(out.nretire, 0);
    }
    w[1].idle_s = 1.5;
    adapt_step(&a, &in, true, &out);
    CHECK_EQ(out.nretire, 1);
    adapt_destroy(&a);
}

static void backoff(void)
{
    struct adapt a;
    struct adapt_out out;
    struct adapt_in in = { .threads = 1, .work_s = 100, .runnable = 100 };

    adapt_init(&a, &CFG);
    CHECK(adapt_failed(&a, 10) == 1);
    in.now = 10.5;
    adapt_step(&a, &in, true, &out);
    CHECK_EQ(out.grow, 0);              /* backing off */
    CHECK_EQ(out.target, 8);
    in.now = 11;
    adapt_step(&a, &in, true, &out);
    CHECK_EQ(out.grow, 8);
    CHECK(adapt_failed(&a, 11) == 2);
    CHECK(adapt_failed(&a, 13) == 4);
    for (int i = 0; i < 10; i++)
        adapt_failed(&a, 20);
    CHECK(adapt_failed(&a, 20) == 64);  /* capped */
    adapt_succeeded(&a);
    in.now = 20;
    adapt_step(&a, &in, true, &out);
    CHECK_EQ(out.grow, 8);
    adapt_destroy(&a);
}

int main(void)
{
    target();
    grow_then_retire();
    no_flapping();
    series();
    just_idle();
    backoff();
    return 0;
}
