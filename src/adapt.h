/*
 * adapt.h - the adaptive scaling policy, Dask's Adaptive in C: from the
 * work waiting and the pool's workers, how many workers to add and which
 * to retire. Pure policy: no MPI, no clock of its own, so it is
 * unit-tested; the scheduler measures, calls adapt_step every interval,
 * and spawns or retires (scheduler.c).
 *
 * Like distributed's adaptive.py: the target is the expected duration of
 * queued and running work divided by target_duration, capped by the runs
 * that could run now, within [minimum, maximum]. Growth is at once;
 * workers are retired only once the pool has been over the target for
 * wait_count decisions in a row (Dask counts per worker; a count for the
 * pool retires the idle ones together, one event at the end of a burst
 * instead of one a worker), idle ones holding the fewest result bytes
 * first. A spawn that fails is retried after a growing back-off.
 */
#ifndef PD_ADAPT_H
#define PD_ADAPT_H

#include <stdbool.h>
#include <stdint.h>

struct adapt_cfg {
    int minimum, maximum;   /* workers in the pool */
    double interval_s;      /* between decisions */
    double target_s;        /* the pool should finish its work in this */
    int wait_count;         /* proposals in a row before a retirement */
};

/* A worker as the policy sees it. */
struct adapt_worker {
    int id;                 /* the scheduler's worker id */
    bool idle;              /* nothing in flight (retired only once idle
                               for an interval or more) */
    bool keep;              /* never retired: a job rank, or it holds
                               results a future or a run still needs */
    uint64_t bytes;         /* result bytes it holds */
    double idle_s;          /* how long it has been idle */
};

/* What the scheduler measured. */
struct adapt_in {
    double now;
    double work_s;          /* expected thread-seconds of queued and
                               running runs (unknown tasks at the default) */
    long runnable;          /* runs queued or running */
    int threads;            /* threads of a new worker (>= 1) */
    const struct adapt_worker *w;  /* the pool: active and joining */
    int nw;
};

struct adapt_out {
    int target;             /* workers wanted */
    int grow;               /* workers to add now (0 while backing off) */
    int nretire;            /* workers to retire now, in retire[] */
    int *retire;            /* ids; owned by struct adapt */
};

struct adapt {
    struct adapt_cfg cfg;
    int streak;             /* decisions in a row with the pool over the
                               target */
    int *retire;
    int retirecap;
    int failures;           /* spawns failed in a row */
    double retry_at;        /* no growth before this after a failure */
};

void adapt_init(struct adapt *a, const struct adapt_cfg *cfg);
void adapt_destroy(struct adapt *a);

/* Workers the work asks for, within [minimum, maximum]. */
int adapt_target(const struct adapt_cfg *cfg, const struct adapt_in *in);

/* One decision. periodic: an interval has passed, so the series of
 * decisions to shrink counts; otherwise (work waits between intervals)
 * only growth is considered and the series stays. */
void adapt_step(struct adapt *a, const struct adapt_in *in, bool periodic,
                struct adapt_out *out);

/* A spawn failed at now: no growth for a back-off that doubles with each
 * failure in a row, from interval to 64 intervals (at least 1 s). Returns
 * the back-off. A spawn that works ends the series. */
double adapt_failed(struct adapt *a, double now);
void adapt_succeeded(struct adapt *a);

#endif
