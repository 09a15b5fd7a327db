/*
 * wtable.h - the scheduler's worker table: worker id -> where to reach it
 * (endpoint and rank in comm), its threads, its state, and the runs it has
 * in flight; and the placement of a run on one of them. Ids are stable:
 * workers join and leave while a flow runs, and nothing is indexed by the
 * size of a communicator. No MPI here, so it is unit-tested.
 */
#ifndef PD_WTABLE_H
#define PD_WTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "resources.h"

enum wstate {
    W_JOINING,   /* starting: not given work yet */
    W_ACTIVE,    /* takes work */
    W_DRAINING,  /* takes no new work; leaves when its runs are done */
    W_GONE,      /* left; its id is never reused */
};

struct wentry {
    int ep;            /* comm endpoint (communicator) it is on */
    int rank;          /* its rank there */
    int threads;       /* executor threads */
    enum wstate state;
    int inflight;      /* runs sent and not reported back */
    uint32_t nsent;    /* runs sent so far (tickets), and reported */
    uint32_t nreported;
    uint32_t seq;      /* TAG_TASKS messages sent to it so far */
    double seen;       /* when it was last heard from (pd__now) */
    struct res_pool *res; /* its resource tags and holds, or NULL */
};

struct wtable {
    struct wentry *w;  /* by worker id */
    int n, cap;
    int cursor;        /* where the next tie-break starts */
};

void wtable_init(struct wtable *wt);
void wtable_destroy(struct wtable *wt);

/* A new worker, W_JOINING; returns its id. */
int wtable_add(struct wtable *wt, int ep, int rank, int threads);
void wtable_set_state(struct wtable *wt, int id, enum wstate s);
/* Give worker id its resource tags (none when tags is empty). */
void wtable_set_resources(struct wtable *wt, int id,
                          const struct res_set *tags);

/* The worker at (ep, rank): the live one, else the last one that left
 * from there; -1 when there never was one. */
int wtable_find(const struct wtable *wt, int ep, int rank);

/* Active workers. */
int wtable_active(const struct wtable *wt);

/* One input of a run to place: where it is made or held, and its size in
 * bytes when known (0 when it is not made yet). */
struct pick_input {
    int worker;
    bool done;         /* made already (else: queued or running there) */
    uint32_t ticket;   /* when not done: its worker's nsent after it */
    uint64_t bytes;
};

/* Count a run sent to worker w; returns its ticket. Reports count back
 * with wtable_reported. */
uint32_t wtable_sent(struct wtable *wt, int w);
void wtable_reported(struct wtable *wt, int w);

/* What placement knows of a run. */
struct pick {
    double run_s;      /* expected run time of its task, < 0 unknown */
    int prefetch;      /* extra short runs queued ahead per thread */
    const struct pick_input *in;
    int nin;
    double move_s;     /* latency of moving a result between workers */
    double move_bps;   /* and its bandwidth, bytes per second */
    const int *only;   /* ranks it may run on (nonly of them), or NULL */
    int nonly;
    bool allow_other;  /* only is a preference: others when they are full */
    const struct res_set *res; /* resources it holds while it runs, or NULL:
                                  only workers with them free take it */
    bool one_ep;       /* only workers on endpoint ep: its inputs are
                          there, and workers fetch within their own */
    int ep;
};

/* Whether a worker that is not gone could ever hold p->res, whatever its
 * runs hold now (true when p->res is NULL). */
bool wtable_could_hold(const struct wtable *wt, const struct pick *p);

/* Take p->res on worker w for a run (res_take), and give it back. */
void wtable_hold(struct wtable *wt, int w, const struct res_set *res,
                 struct res_hold *out);
void wtable_unhold(struct wtable *wt, int w, const struct res_hold *h);

/* True when an active worker is one the run may go to (p->only). */
bool wtable_any(const struct wtable *wt, const struct pick *p);

/* Runs worker w may have in flight for runs of this kind: its threads,
 * plus short runs queued ahead so it never idles between reports. */
int wtable_window(const struct wentry *w, const struct pick *p);

/* The active worker where the run can start soonest: each worker's queue
 * drains at its threads' pace, an input that is not there yet must first
 * be made and then moved. Among equals, the one holding the inputs, then
 * round robin. Only the ranks in p->only when given (those first, then
 * any, with allow_other). -1 when every eligible window is full;
 * WTABLE_WAIT when the run should wait for the worker making its input,
 * whose window is full, rather than go where it would only wait too. */
#define WTABLE_WAIT (-2)
int wtable_pick(struct wtable *wt, const struct pick *p);

#endif
