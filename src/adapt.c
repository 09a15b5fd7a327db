/* adapt.c - see adapt.h. */
#include "adapt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The longest back-off after failed spawns, in intervals. */
#define MAX_BACKOFF 64

void adapt_init(struct adapt *a, const struct adapt_cfg *cfg)
{
    memset(a, 0, sizeof(*a));
    a->cfg = *cfg;
    if (a->cfg.wait_count < 1)
        a->cfg.wait_count = 1;
}

void adapt_destroy(struct adapt *a)
{
    free(a->retire);
    memset(a, 0, sizeof(*a));
}

int adapt_target(const struct adapt_cfg *cfg, const struct adapt_in *in)
{
    int th = in->threads > 0 ? in->threads : 1;
    double want = 0;

    if (in->runnable > 0) {
        want = ceil(in->work_s / (cfg->target_s * th));
        /* No more workers than runs to give them, and at least one. */
        double cap = ceil((double)in->runnable / th);
        if (want > cap)
            want = cap;
        if (want < 1)
            want = 1;
    }
    if (want > cfg->maximum)
        want = cfg->maximum;
    if (want < cfg->minimum)
        want = cfg->minimum;
    return (int)want;
}

/* Retire first: fewest result bytes, then idle longest, then lowest id. */
static int by_cost(const void *x, const void *y)
{
    const struct adapt_worker *a = x, *b = y;

    if (a->bytes != b->bytes)
        return a->bytes < b->bytes ? -1 : 1;
    if (a->idle_s != b->idle_s)
        return a->idle_s > b->idle_s ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

/* The pool has been over the target for wait_count decisions in a row:
 * retire up to n idle workers that may go, fewest result bytes first, all
 * in this one event. */
static void propose(struct adapt *a, const struct adapt_in *in, int n,
                    struct adapt_out *out)
{
    struct adapt_worker *c = pd__xcalloc((size_t)in->nw + 1, sizeof(*c));
    int nc = 0;

    if (++a->streak < a->cfg.wait_count)
        goto out_free;
    for (int i = 0; i < in->nw; i++)
        if (in->w[i].idle && !in->w[i].keep &&
            in->w[i].idle_s >= a->cfg.interval_s)
            c[nc++] = in->w[i];
    qsort(c, (size_t)nc, sizeof(*c), by_cost);
    if (nc > n)
        nc = n;
    if (a->retirecap < nc) {
        a->retirecap = nc;
        a->retire = pd__xrealloc(a->retire, (size_t)nc * sizeof(int));
    }
    for (int k = 0; k < nc; k++)
        a->retire[out->nretire++] = c[k].id;
    out->retire = a->retire;
    /* Those still busy wait for a new series, so that a pool shrinks in
     * one step at the end of a burst, not one worker a decision. */
    if (nc)
        a->streak = 0;
out_free:
    free(c);
}

void adapt_step(struct adapt *a, const struct adapt_in *in, bool periodic,
                struct adapt_out *out)
{
    memset(out, 0, sizeof(*out));
    out->target = adapt_target(&a->cfg, in);
    if (out->target > in->nw) {
        a->streak = 0;
        if (in->now >= a->retry_at)
            out->grow = out->target - in->nw;
    } else if (out->target < in->nw && periodic) {
        propose(a, in, in->nw - out->target, out);
    } else if (periodic) {
        a->streak = 0;
    }
}

double adapt_failed(struct adapt *a, double now)
{
    double base = a->cfg.interval_s > 1 ? a->cfg.interval_s : 1;
    int k = a->failures < 6 ? a->failures : 6;
    double wait = base * (double)(1 << k);

    if (wait > base * MAX_BACKOFF)
        wait = base * MAX_BACKOFF;
    a->failures++;
    a->retry_at = now + wait;
    return wait;
}

void adapt_succeeded(struct adapt *a)
{
    a->failures = 0;
    a->retry_at = 0;
}
