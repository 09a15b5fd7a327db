/* wtable.c - see wtable.h. */
#include "wtable.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* A task that has averaged longer than this is not queued ahead beyond
 * one per thread: better to wait for a free worker than to queue behind
 * a long run. */
#define LONG_TASK_S 2e-3
/* Short runs are queued ahead until about this much work waits on each
 * thread, so a worker never idles while its report and the next batch
 * cross; capped by MAX_AHEAD runs a thread. */
#define QUEUE_S 1e-3
#define MAX_AHEAD 512
/* What a run of an unknown task is taken to cost, for placement only. */
#define UNKNOWN_RUN_S 1e-3

void wtable_init(struct wtable *wt)
{
    memset(wt, 0, sizeof(*wt));
}

void wtable_destroy(struct wtable *wt)
{
    for (int i = 0; i < wt->n; i++)
        free(wt->w[i].res);
    free(wt->w);
    memset(wt, 0, sizeof(*wt));
}

int wtable_add(struct wtable *wt, int ep, int rank, int threads)
{
    if (wt->n == wt->cap) {
        wt->cap = wt->cap ? wt->cap * 2 : 8;
        wt->w = pd__xrealloc(wt->w, (size_t)wt->cap * sizeof(*wt->w));
    }
    memset(&wt->w[wt->n], 0, sizeof(wt->w[0]));
    wt->w[wt->n].ep = ep;
    wt->w[wt->n].rank = rank;
    wt->w[wt->n].threads = threads > 0 ? threads : 1;
    wt->w[wt->n].state = W_JOINING;
    return wt->n++;
}

void wtable_set_state(struct wtable *wt, int id, enum wstate s)
{
    if (id >= 0 && id < wt->n)
        wt->w[id].state = s;
}

void wtable_set_resources(struct wtable *wt, int id,
                          const struct res_set *tags)
{
    if (id < 0 || id >= wt->n)
        return;
    free(wt->w[id].res);
    wt->w[id].res = NULL;
    if (tags && tags->n) {
        wt->w[id].res = pd__xmalloc(sizeof(*wt->w[id].res));
        res_pool_init(wt->w[id].res, tags);
    }
}

bool wtable_could_hold(const struct wtable *wt, const struct pick *p)
{
    if (!p->res)
        return true;
    for (int i = 0; i < wt->n; i++)
        if (wt->w[i].state != W_GONE && wt->w[i].res &&
            res_could_fit(wt->w[i].res, p->res))
            return true;
    return false;
}

void wtable_hold(struct wtable *wt, int w, const struct res_set *res,
                 struct res_hold *out)
{
    res_take(wt->w[w].res, res, out);
}

void wtable_unhold(struct wtable *wt, int w, const struct res_hold *h)
{
    if (w >= 0 && w < wt->n && wt->w[w].res)
        res_give(wt->w[w].res, h);
}

int wtable_find(const struct wtable *wt, int ep, int rank)
{
    int gone = -1;

    for (int i = 0; i < wt->n; i++) {
        if (wt->w[i].ep != ep || wt->w[i].rank != rank)
            continue;
        if (wt->w[i].state != W_GONE)
            return i;
        gone = i;
    }
    return gone;
}

int wtable_active(const struct wtable *wt)
{
    int n = 0;
    for (int i = 0; i < wt->n; i++)
        n += wt->w[i].state == W_ACTIVE;
    return n;
}

int wtable_window(const struct wentry *w, const struct pick *p)
{
    double a = p->run_s;
    int th = w->threads;
    long ahead = p->prefetch;

    if (a > LONG_TASK_S)
        return 2 * th;
    if (a >= 0 && a * MAX_AHEAD < QUEUE_S)
        ahead = MAX_AHEAD;
    else if (a > 0 && QUEUE_S / a > ahead)
        ahead = (long)(QUEUE_S / a);
    if (ahead > MAX_AHEAD)
        ahead = MAX_AHEAD;
    return th + (int)ahead * th;
}

uint32_t wtable_sent(struct wtable *wt, int w)
{
    wt->w[w].inflight++;
    return ++wt->w[w].nsent;
}

void wtable_reported(struct wtable *wt, int w)
{
    wt->w[w].inflight--;
    wt->w[w].nreported++;
}

/* Seconds until worker w has worked off what it has in flight. */
static double drain_s(const struct wentry *w, double run_s)
{
    return (double)w->inflight / w->threads * run_s;
}

/* When the run could start on worker id. */
static double start_s(const struct wtable *wt, int id, const struct pick *p,
                      double run_s)
{
    double t = drain_s(&wt->w[id], run_s);

    for (int i = 0; i < p->nin; i++) {
        const struct pick_input *in = &p->in[i];
        double ready = 0;
        if (!in->done && in->worker >= 0 && in->worker < wt->n) {
            /* Runs sent there before it, itself included, not reported:
             * assume they end in the order they were sent. */
            const struct wentry *h = &wt->w[in->worker];
            int32_t ahead = (int32_t)(in->ticket - h->nreported);
            ready = ahead > 0 ? (double)ahead / h->threads * run_s : 0;
        }
        if (in->worker != id)
            ready += p->move_s + (double)in->bytes / p->move_bps;
        if (ready > t)
            t = ready;
    }
    return t;
}

/* The worker holding the most input bytes (the first on a tie), or -1. */
static int home(const struct pick *p)
{
    int best = -1;
    uint64_t most = 0;

    for (int i = 0; i < p->nin; i++) {
        if (p->in[i].worker >= 0 && (best < 0 || p->in[i].bytes > most)) {
            best = p->in[i].worker;
            most = p->in[i].bytes;
        }
    }
    return best;
}

/* Whether worker c (start at cs) beats worker b (start at bs): sooner by
 * more than a small fraction of a run; on a tie the inputs' home h, then
 * fewer runs in flight per thread. */
static bool better(const struct wtable *wt, int c, double cs, int b,
                   double bs, int h, double run_s)
{
    double eps = 1e-3 * run_s;
    const struct wentry *wc = &wt->w[c], *wb = &wt->w[b];

    if (cs < bs - eps)
        return true;
    if (cs > bs + eps || b == h)
        return false;
    if (c == h)
        return true;
    return (long)wc->inflight * wb->threads < (long)wb->inflight * wc->threads;
}

/* Whether worker w has the run's resources free now. */
static bool has_room(const struct wentry *w, const struct pick *p)
{
    return !p->res || (w->res && res_fits(w->res, p->res));
}

/* Whether worker w's rank is in p->only (or there is no such list). */
static bool allowed(const struct wentry *w, const struct pick *p)
{
    for (int i = 0; i < p->nonly; i++)
        if (p->only[i] == w->rank)
            return true;
    return p->nonly == 0;
}

bool wtable_any(const struct wtable *wt, const struct pick *p)
{
    for (int i = 0; i < wt->n; i++)
        if (wt->w[i].state == W_ACTIVE && allowed(&wt->w[i], p))
            return true;
    return false;
}

static int pick(struct wtable *wt, const struct pick *p, bool restrict_)
{
    double run_s = p->run_s > 0 ? p->run_s : UNKNOWN_RUN_S;
    double best_s = 0;
    int best = -1, h = home(p), n = wt->n;

    for (int k = 0; k < n; k++) {
        int id = (wt->cursor + k) % n;
        const struct wentry *w = &wt->w[id];
        double s;

        if (p->one_ep && w->ep != p->ep)
            continue;
        if (w->state != W_ACTIVE || w->inflight >= wtable_window(w, p) ||
            (restrict_ && !allowed(w, p)) || !has_room(w, p))
            continue;
        s = start_s(wt, id, p, run_s);
        if (best < 0 || better(wt, id, s, best, best_s, h, run_s)) {
            best = id;
            best_s = s;
        }
    }
    if (best >= 0)
        wt->cursor = (best + 1) % n;
    return best;
}

/* Whether the run should wait for its inputs' worker h, whose window is
 * full: an input is still being made there, and no other worker is idle
 * (one that is would gain a run; the others would only interleave chains
 * and move inputs at every link). */
static bool wait_for_home(const struct wtable *wt, const struct pick *p,
                          int h)
{
    bool making = false;

    if (h < 0 || h >= wt->n || wt->w[h].state != W_ACTIVE ||
        wt->w[h].inflight < wtable_window(&wt->w[h], p) ||
        (p->res && !(wt->w[h].res && res_could_fit(wt->w[h].res, p->res))))
        return false;
    for (int i = 0; i < p->nin; i++)
        making |= p->in[i].worker == h && !p->in[i].done;
    if (!making)
        return false;
    for (int i = 0; i < wt->n; i++)
        if (i != h && wt->w[i].state == W_ACTIVE && wt->w[i].inflight == 0 &&
            (!p->nonly || allowed(&wt->w[i], p)) &&
            (!p->one_ep || wt->w[i].ep == p->ep))
            return false;
    return true;
}

int wtable_pick(struct wtable *wt, const struct pick *p)
{
    int w;

    if (wait_for_home(wt, p, home(p)))
        return WTABLE_WAIT;
    w = pick(wt, p, p->nonly > 0);

    if (w < 0 && p->nonly > 0 && p->allow_other)
        w = pick(wt, p, false);
    return w;
}
