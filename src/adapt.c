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
    free(a->count);
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

/* Room for worker ids up to id in a->count, new ones at 0. */
static void reserve(struct adapt *a, int id)
{
    if (id < a->countcap)
        return;
    int cap = a->countcap ? a->countcap : 8;
    while (cap <= id)
        cap *= 2;
    a->count = pd__xrealloc(a->count, (size_t)cap * sizeof(*a->count));
    memset(a->count + a->countcap, 0,
           (size_t)(cap - a->countcap) * sizeof(*a->count));
    a->countcap = cap;
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

/* Propose up to n idle workers that may go; those proposed wait_count
 * times in a row go into out->retire. Everyone else starts over. */
static void propose(struct adapt *a, const struct adapt_in *in, int n,
                    struct adapt_out *out)
{
    struct adapt_worker *c = pd__xcalloc((size_t)in->nw + 1, sizeof(*c));
    int nc = 0;

    for (int i = 0; i < in->nw; i++) {
        reserve(a, in->w[i].id);
        if (in->w[i].idle && !in->w[i].keep)
            c[nc++] = in->w[i];
    }
    qsort(c, (size_t)nc, sizeof(*c), by_cost);
    if (nc > n)
        nc = n;
    if (a->retirecap < nc) {
        a->retirecap = nc;
        a->retire = pd__xrealloc(a->retire, (size_t)nc * sizeof(int));
    }
    /* Proposed now: count up; the others lose their count. */
    for (int i = 0; i < in->nw; i++) {
        bool chosen = false;
        for (int k = 0; k < nc && !chosen; k++)
            chosen = c[k].id == in->w[i].id;
        if (!chosen)
            a->count[in->w[i].id] = 0;
    }
    for (int k = 0; k < nc; k++) {
        if (++a->count[c[k].id] >= a->cfg.wait_count) {
            a->count[c[k].id] = 0;
            a->retire[out->nretire++] = c[k].id;
        }
    }
    out->retire = a->retire;
    free(c);
}

static void forget(struct adapt *a)
{
    if (a->count)
        memset(a->count, 0, (size_t)a->countcap * sizeof(*a->count));
}

void adapt_step(struct adapt *a, const struct adapt_in *in, bool periodic,
                struct adapt_out *out)
{
    memset(out, 0, sizeof(*out));
    out->target = adapt_target(&a->cfg, in);
    if (out->target > in->nw) {
        forget(a);
        if (in->now >= a->retry_at)
            out->grow = out->target - in->nw;
    } else if (out->target < in->nw && periodic) {
        propose(a, in, in->nw - out->target, out);
    } else if (periodic) {
        forget(a);
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
