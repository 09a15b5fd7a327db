/* scheduler.c - see scheduler.h. Runs on the thread that called MPI_Init.
 *
 * A run is sent as soon as its upstream runs have been sent (graph.h): to
 * the worker where it can start soonest (wtable_pick), with references to
 * inputs that are still being made there or elsewhere. Workers start it
 * when its inputs appear, so a chain or a stencil does not wait for a
 * round trip through rank 0 between steps. */
#include "scheduler.h"

#include <assert.h>
#include <inttypes.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fwd.h"
#include "jobend.h"
#include "journal.h"
#include "loader.h"
#include "log.h"
#include "protocol.h"
#include "report.h"
#include "util.h"
#include "wtable.h"

#define MAX_SLEEP_S 50e-3
/* While runs are in flight a sleep must stay short: a worker's report
 * cannot wake this thread. */
#define BUSY_SLEEP_S 200e-6
/* Moving a result between workers, for placement: latency and bandwidth. */
#define MOVE_S 30e-6
#define MOVE_BPS 2e9
/* NotReady runs logged one by one at the default level; the rest at debug,
 * with a count at the end. */
#define NOTREADY_SHOWN 10
/* Between two growth checks when a backlog waits between intervals. */
#define QUICK_S 20e-3

/* What adaptive scaling tracks of a worker, by worker id. */
struct wextra {
    uint64_t held;        /* completed results it holds, not freed */
    uint64_t bytes;       /* and their bytes */
    double idle_since;    /* nothing in flight since (0: busy) */
    bool leaving;         /* retired: W_DRAINING until its results have
                             been fetched to rank 0, then stopped */
};

/* A spawned worker that holds results the flow still needs may retire
 * if they come to DRAIN_MAX bytes or less: rank 0 fetches them first
 * (Dask moves them to another worker; rank 0 keeps small results anyway).
 * One holding more stays. */
#define DRAIN_MAX ((uint64_t)64 << 20)

struct sched {
    struct comm *c;
    struct report *rep;   /* status file and trace, or NULL */
    struct journal *jnl;  /* resume journal, or NULL */
    struct pd_flow *f;
    struct graph *g;
    struct wtable wt;
    struct batch *tasks;  /* TAG_TASKS being built, by worker id */
    struct batch *frees;  /* TAG_FREE */
    struct batch *fetch;  /* TAG_FETCH (for pd_result) */
    int nbatch;           /* the three arrays' length */
    int prefetch;
    double *avg_s;        /* mean run time by task index (< 0: unknown) */
    double recent_s;      /* mean run time of recent reports, any task */
    uint64_t fetches;     /* TAG_FETCH entries not answered yet */
    uint64_t inflight;    /* runs sent, not reported */
    uint64_t notready;    /* NotReady runs so far */
    double heartbeat_s;
    double checked;       /* last heartbeat check */
    double progress_s;    /* between progress lines (batch log), or 0 */
    bool tty;             /* stderr is a terminal: a bar instead */
    double shown;         /* when progress was last shown */
    int lost;             /* the worker lost, or -1 */
    struct pick_input *in;
    size_t incap;
    struct pd_future **deferred; /* ready runs whose workers were full */
    size_t ndeferred, deferredcap;
    struct ready **rq;    /* by profile: ready runs waiting for resources
                             (NULL until a run of it had to wait) */
    uint16_t *rqlive;     /* profiles whose rq is not empty */
    int nrqlive;
    struct store holds;   /* run id -> struct res_hold, while it runs */
    double t0;
    double grace_s;       /* after a signal, running runs get this long */
    double stopping;      /* when the signal came (grace began), or 0 */
    double end_s;         /* the job's end (pd__now() clock), or 0 */
    const char *end_from; /* where end_s came from */
    const char *journal_path; /* for the resume hint, or NULL */
    uint64_t held;        /* ready runs not started: too close to end_s */
    bool walltime;        /* stopped for the job's end: cancel submits */
    struct wextra *wx;    /* by worker id, nbatch of them */
    /* Adaptive scaling: NULL grow is a fixed pool. */
    const struct sched_grow *grow;
    struct adapt ad;
    int *eplive;          /* live workers by endpoint */
    MPI_Comm *inter;      /* by endpoint: what it was merged from */
    int epcap;
    int *closing;         /* endpoints all retired: disconnect next tick */
    int nclosing;
    double next_tick;     /* the next periodic decision */
    double quick_tick;    /* no growth check before this in between */
    uint64_t nadded;      /* runs taken from the flow (ids below this) */
    uint64_t open_from;   /* every run below this id has ended */
    bool said_fail;       /* a failed spawn was reported */
    bool starved;         /* no worker and none could be spawned: every
                             run ends Cancelled */
};

/* The signal that interrupted the run, or 0, and how many came:
 * process-wide, as signals are. */
static volatile sig_atomic_t interrupted, nsignals;

void sched_interrupt(int sig)
{
    interrupted = sig;
    nsignals = nsignals + 1;
}

static const char *run_name(struct sched *s, const struct pd_future *t)
{
    static char buf[160];
    return graph_run_name(s->g, t, buf, sizeof(buf));
}

static struct peer peer_of(const struct sched *s, int w)
{
    struct peer p = { s->wt.w[w].ep, s->wt.w[w].rank };
    return p;
}

/* Report runs that ended badly since the last call. */
static void log_bad(struct sched *s)
{
    struct pd_future **runs;
    size_t n = graph_take_bad(s->g, &runs);

    for (size_t i = 0; i < n; i++) {
        struct pd_future *t = runs[i];
        enum pd_state st = atomic_load(&t->state);
        enum pd_level lv = PD_ERROR;
        if (st == PD_NOTREADY)
            lv = s->notready++ < NOTREADY_SHOWN ? PD_WARNING : PD_DEBUG;
        if (log_enabled(lv))
            log_msg(lv, run_name(s, t), "Finished in state %s('%s')",
                    pd_state_name(st), t->message ? t->message : "");
        /* Runs that never ran to a report: their status line is here. */
        if (s->rep && !t->attempts)
            report_run(s->rep, run_name(s, t), pd_state_name(st), -1, 0, 0,
                       0, 0, t->message);
    }
}

/* t's upstream runs lose the worker reference its dispatch took. */
static void unwref_inputs(struct sched *s, struct pd_future *t)
{
    struct up_iter it = graph_up_begin(t);
    struct pd_future *u;

    while ((u = graph_up_next(s->g, &it)))
        graph_unwref(s->g, u);
}

/* Run t has ended on worker w: what it held is free again. */
static void unhold(struct sched *s, const struct pd_future *t, int w)
{
    const struct store_entry *e = store_get(&s->holds, t->id);

    if (!e)
        return;
    wtable_unhold(&s->wt, w, (const struct res_hold *)e->data);
    store_drop(&s->holds, t->id);
}

static void on_done(struct sched *s, int w, struct rd *r)
{
    uint32_t n = proto_get_count(r);
    struct proto_done d;

    for (uint32_t i = 0; i < n; i++) {
        if (proto_get_done(r, &d) != 0) {
            log_msg(PD_ERROR, "pdask-mpi", "malformed report from rank %d "
                    "ignored", s->wt.w[w].rank);
            return;
        }
        struct pd_future *t = d.run == s->f->run ? graph_get(s->g, d.id)
                                                  : NULL;
        if (!t || t->worker != w || !(t->flags & RUN_SENT)) {
            log_msg(PD_ERROR, "pdask-mpi", "rank %d reported task run %"
                    PRIu64 " that it was not running", s->wt.w[w].rank,
                    d.id);
            continue;
        }
        t->flags &= ~RUN_SENT;
        wtable_reported(&s->wt, w);
        const struct profile *pr = flow_profile(s->f, t);
        if (pr && pr->res) {
            unhold(s, t, w);
            for (int k = 0; s->rep && k < pr->res->n; k++)
                report_hold(s->rep, pr->res->it[k].name,
                            (double)pr->res->it[k].amt / RES_ONE,
                            d.start_us, d.end_us);
        }
        if (!s->wt.w[w].inflight)
            s->wx[w].idle_since = pd__now();
        s->inflight--;
        unwref_inputs(s, t);
        double took = d.runtime_us * 1e-6;
        if (d.state == PD_COMPLETED || d.state == PD_FAILED) {
            double *a = &s->avg_s[t->def];
            *a = *a < 0 ? took : pd__ema(*a, took);
            s->recent_s = pd__ema(s->recent_s, took);
        }
        /* Ended already: an upstream run failed, and the graph knew
         * before this worker did. */
        if (graph_state_final(atomic_load(&t->state)))
            continue;
        t->size = d.size;
        t->attempts = d.attempts ? d.attempts : 1;
        if (s->rep)
            report_run(s->rep, run_name(s, t), pd_state_name(d.state),
                       s->wt.w[w].rank, d.thread, d.start_us, d.end_us,
                       d.attempts, d.message);
        if (log_enabled(PD_DEBUG) && d.state == PD_COMPLETED)
            log_msg(PD_DEBUG, run_name(s, t), "Finished in state Completed() "
                    "on rank %d in %.6f s", s->wt.w[w].rank, took);
        if (d.state == PD_COMPLETED) {
            s->wx[w].held++;
            s->wx[w].bytes += d.size;
        }
        graph_end(s->g, t, (enum pd_state)d.state, d.inline_v, d.message);
        journal_record(s->jnl, t);
    }
}

static void on_data(struct sched *s, int w, struct rd *r)
{
    uint32_t n = proto_get_count(r);
    struct proto_data d;

    for (uint32_t i = 0; i < n; i++) {
        if (proto_get_data(r, &d) != 0)
            break;
        struct pd_future *t = d.f.run == s->f->run
                                  ? graph_get(s->g, d.f.cookie) : NULL;
        if (!t)
            continue;
        s->fetches--;
        /* The second answer when a relay (below) and pd_result both
         * asked: the first one set the value. */
        if (atomic_load(&t->fetch) != FETCH_ASKED)
            continue;
        if (d.code != DATA_OK) {
            char buf[512];
            snprintf(buf, sizeof(buf), "result lost on rank %d: %s",
                     s->wt.w[w].rank, d.err ? d.err : "?");
            free(t->message);
            t->message = pd__xstrdup(buf);
            atomic_store(&t->fetch, FETCH_LOST);
            continue;
        }
        if (log_enabled(PD_DEBUG))
            log_msg(PD_DEBUG, run_name(s, t), "Fetched result (%" PRIu64
                    " bytes) from rank %d for pd_result", d.len,
                    s->wt.w[w].rank);
        atomic_store_explicit(&t->value, pd__xmemdup(d.packed, d.len),
                              memory_order_release);
        atomic_store(&t->fetch, FETCH_DONE);
        if (s->wx[w].leaving && t->worker == w)
            graph_value_here(s->g, t);
    }
}

static void want_fetch(struct sched *s, struct pd_future *t)
{
    if (atomic_load(&t->value)) {
        atomic_store(&t->fetch, FETCH_DONE);
        return;
    }
    if (t->worker < 0) {
        free(t->message);
        t->message = pd__xstrdup("result was freed: the flow called "
                                 "pd_release() on this future before");
        atomic_store(&t->fetch, FETCH_LOST);
        return;
    }
    struct proto_fetch fe = { s->f->run, t->id, s->wt.w[t->worker].seq,
                              t->id, 0 };
    proto_put_fetch(comm_batch_add(s->c, peer_of(s, t->worker), TAG_FETCH,
                                   &s->fetch[t->worker], 32), &fe);
    s->fetches++;
}

static int take_requests(struct sched *s)
{
    struct req *reqs;
    size_t n = flow_take_reqs(s->f, &reqs);
    bool debug = log_enabled(PD_DEBUG);

    for (size_t i = 0; i < n; i++) {
        struct pd_future *t = reqs[i].t;
        switch (reqs[i].kind) {
        case REQ_SUBMIT:
            if (!journal_replay(s->jnl, s->g, t))
                graph_add(s->g, t);
            if (t->id >= s->nadded)
                s->nadded = t->id + 1;
            if (s->lost >= 0 && !graph_state_final(atomic_load(&t->state)))
                graph_end(s->g, t, PD_CANCELLED, NULL, "cancelled: the flow "
                          "run is ending after a worker was lost");
            if (s->walltime && !graph_state_final(atomic_load(&t->state)))
                graph_end(s->g, t, PD_CANCELLED, NULL, "cancelled: the flow "
                          "run is ending before the job's end time");
            if (s->starved && !graph_state_final(atomic_load(&t->state)))
                graph_end(s->g, t, PD_CANCELLED, NULL, "cancelled: no "
                          "worker could be spawned");
            if (debug && !graph_state_final(atomic_load(&t->state)))
                log_msg(PD_DEBUG, run_name(s, t), "Pending (%s)",
                        t->npending ? "waiting for upstream runs"
                                    : "ready");
            break;
        case REQ_FETCH:
            want_fetch(s, t);
            break;
        case REQ_RELEASE:
            graph_unref(s->g, t);
            break;
        }
    }
    free(reqs);
    return n > 0;
}

/* Send the TAG_TASKS batch being built for worker w. */
static void send_tasks(struct sched *s, int w)
{
    if (!s->tasks[w].n)
        return;
    s->wt.w[w].seq++;
    comm_send_batch(s->c, peer_of(s, w), TAG_TASKS, &s->tasks[w]);
}

/* What placement needs to know of t: its task's run time, its inputs. */
static void describe(struct sched *s, const struct pd_future *t,
                     struct pick *pk)
{
    struct up_iter it = graph_up_begin(t);
    struct pd_future *u;
    size_t n = 0;

    while ((u = graph_up_next(s->g, &it))) {
        if (n == s->incap) {
            s->incap = s->incap ? s->incap * 2 : 16;
            s->in = pd__xrealloc(s->in, s->incap * sizeof(*s->in));
        }
        bool done = atomic_load(&u->state) == PD_COMPLETED;
        s->in[n].worker = atomic_load(&u->value) ? -1 : u->worker;
        s->in[n].done = done;
        s->in[n].ticket = u->ticket;
        s->in[n].bytes = done ? u->size : 0;
        n++;
    }
    const struct profile *pr = flow_profile(s->f, t);
    pk->only = pr ? pr->workers : NULL;
    pk->nonly = pr ? pr->nworkers : 0;
    pk->allow_other = pr && pr->allow_other;
    pk->res = pr ? pr->res : NULL;
    pk->run_s = s->avg_s[t->def];
    /* Adaptive: an untimed task counts as unknown_s, as in the target,
     * so its runs wait on rank 0 for the workers being spawned instead
     * of queueing ahead on the first one. */
    if (s->grow && pk->run_s < 0)
        pk->run_s = s->grow->unknown_s;
    pk->prefetch = s->prefetch;
    pk->in = s->in;
    pk->nin = (int)n;
    pk->move_s = MOVE_S;
    pk->move_bps = MOVE_BPS;
    pk->one_ep = false;
    pk->ep = 0;
}

/* With spawned workers (several endpoints): where t's inputs held by
 * workers are. 0 none (any worker), 1 all on one endpoint (pk->one_ep
 * set: workers fetch only within their own), 2 on several: they must
 * come through rank 0 first (relay). */
static int input_eps(struct sched *s, struct pick *pk)
{
    int ep = -1;

    for (int i = 0; i < pk->nin; i++) {
        if (pk->in[i].worker < 0)
            continue;
        int e = s->wt.w[pk->in[i].worker].ep;
        if (ep >= 0 && e != ep)
            return 2;
        ep = e;
    }
    if (ep < 0)
        return 0;
    pk->one_ep = true;
    pk->ep = ep;
    return 1;
}

/* Ask u's worker for u's result, for rank 0, unless someone has already:
 * shares pd_result's fetch state, so whoever asks first sends the one
 * TAG_FETCH that counts. True when this call asked. */
static bool ask_fetch(struct sched *s, struct pd_future *u)
{
    uint8_t none = FETCH_NONE;
    int h = u->worker;

    if (!atomic_compare_exchange_strong(&u->fetch, &none, FETCH_ASKED))
        return false;
    struct proto_fetch fe = { s->f->run, u->id,
                              s->wt.w[h].seq + (s->tasks[h].n > 0), u->id,
                              0 };
    proto_put_fetch(comm_batch_add(s->c, peer_of(s, h), TAG_FETCH,
                                   &s->fetch[h], 32), &fe);
    s->fetches++;
    return true;
}

/* Fetch t's worker-held inputs to rank 0, so that t can go anywhere with
 * them inline. -1 when an input was lost. */
static int relay_inputs(struct sched *s, struct pd_future *t)
{
    struct up_iter it = graph_up_begin(t);
    struct pd_future *u;

    while ((u = graph_up_next(s->g, &it))) {
        if (atomic_load(&u->value) || u->worker < 0)
            continue;
        if (atomic_load(&u->fetch) == FETCH_LOST)
            return -1;
        if (!ask_fetch(s, u))
            continue; /* asked already */
        if (log_enabled(PD_DEBUG)) {
            char up[160];
            snprintf(up, sizeof(up), "%s", run_name(s, u));
            log_msg(PD_DEBUG, run_name(s, t), "input %s is relayed through "
                    "rank 0: the inputs are held by workers of different "
                    "spawns", up);
        }
    }
    return 0;
}

/* Append t to the batch for worker w; dependencies become values (small
 * results kept on rank 0) or references to the worker making or holding
 * them. -1 when an input is gone (t has failed). */
static int encode(struct sched *s, struct pd_future *t, int w,
                  const struct res_hold *hold)
{
    const struct profile *pr = flow_profile(s->f, t);
    struct proto_task pt = { s->f->run, t->priority, pr ? pr->retries : -1,
                             t->id, t->def, t->seq, 0,
                             t->nargs, t->argslen, t->args, 0, NULL };
    struct buf a = { 0 };
    struct rd r;
    pd_value v;
    uint64_t id = 0;
    int32_t unused;

    if (pr && pr->isolation)
        pt.flags = pr->isolation == PROFILE_ISO_PROCESS ? TASK_PROCESS
                                                         : TASK_THREAD;
    /* With a journal, every result comes to rank 0 in the report: one
     * writer and one file, and a run is recorded only once its result is
     * here, so a record never names a result that died with a worker. */
    if (s->jnl)
        pt.flags |= TASK_INLINE;
    if (t->flags & RUN_HAS_DEPS) {
        r = rd_init(t->args, t->argslen);
        for (uint32_t i = 0; i < t->nargs; i++) {
            const uint8_t *start = r.p;
            proto_get_value(&r, &v, &id, &unused);
            if ((int)v.kind != WIRE_FUTURE) {
                buf_put(&a, start, (size_t)(r.p - start));
                continue;
            }
            struct pd_future *u = graph_get(s->g, id);
            uint8_t *val = atomic_load(&u->value);
            if (val) {
                buf_put(&a, val, u->size);
            } else if (u->worker >= 0) {
                /* Sent in the batch being built, or in one before. */
                int h = u->worker;
                struct proto_ref ref = {
                    u->id, (uint32_t)s->wt.w[h].rank,
                    s->wt.w[h].seq + (s->tasks[h].n > 0),
                };
                proto_put_ref(&a, &ref);
            } else {
                char msg[256];
                snprintf(msg, sizeof(msg), "input from %s is gone: its "
                         "result was freed", run_name(s, u));
                buf_free(&a);
                graph_fail(s->g, t, msg);
                return -1;
            }
        }
        pt.args = a.data;
        pt.argslen = (uint32_t)a.len;
    }
    struct buf hb = { 0 };
    if (hold) {
        const struct res_set *cap = &s->wt.w[w].res->cap;
        buf_u8(&hb, (uint8_t)hold->n);
        for (int i = 0; i < hold->n; i++) {
            buf_str(&hb, cap->it[hold->h[i].idx].name);
            buf_u64(&hb, (uint64_t)hold->h[i].amt);
            buf_u64(&hb, hold->h[i].units);
        }
        pt.flags |= TASK_HOLDS;
        pt.holds = hb.data;
        pt.holdslen = (uint32_t)hb.len;
    }
    if (s->tasks[w].n &&
        s->tasks[w].b.len + pt.argslen + pt.holdslen + 64 > PROTO_MAX_MSG)
        send_tasks(s, w);
    proto_put_task(comm_batch_add(s->c, peer_of(s, w), TAG_TASKS,
                                  &s->tasks[w], pt.argslen + pt.holdslen + 64),
                   &pt);
    buf_free(&a);
    buf_free(&hb);
    return 0;
}

/* "rank 1 GPU=1,CPU=2; rank 2 CPU=2": what the workers have. */
static void have(const struct sched *s, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int w = 0; w < s->wt.n && used + 1 < len; w++) {
        char tags[256] = "none";
        if (s->wt.w[w].state == W_GONE)
            continue;
        if (s->wt.w[w].res)
            res_format(&s->wt.w[w].res->cap, tags, sizeof(tags));
        used += (size_t)snprintf(buf + used, len - used, "%srank %d %s",
                                 used ? "; " : "", s->wt.w[w].rank, tags);
    }
}

/* Whether t must end now instead of waiting for a worker: its worker
 * list names none there is, or no worker could hold its resources. */
static bool unplaceable(struct sched *s, struct pd_future *t,
                        const struct pick *pk)
{
    char msg[1024], workers[700];

    if (pk->nonly && !pk->allow_other && !wtable_any(&s->wt, pk)) {
        snprintf(msg, sizeof(msg), "workers: none of the worker ranks it "
                 "may run on is in this cluster (workers are ranks 1 to "
                 "%d)", s->wt.n);
    } else if (pk->res && !wtable_could_hold(&s->wt, pk) &&
               wtable_active(&s->wt) > 0) {
        /* (With no worker at all, an adaptive pool at zero, it waits.) */
        have(s, workers, sizeof(workers));
        snprintf(msg, sizeof(msg), "resources %s: no worker has that much; "
                 "the workers have: %s. Give workers resources in the INI "
                 "file ([cluster_kwargs] resources, [worker N] or "
                 "[host NAME]) or ask for less",
                 flow_profile(s->f, t)->res_text, workers);
    } else {
        return false;
    }
    graph_fail(s->g, t, msg);
    return true;
}

/* Send t to worker w, holding its resources there. */
static bool send_run(struct sched *s, struct pd_future *t, int w,
                     const struct pick *pk, bool debug)
{
    struct res_hold hold, *hp = NULL;

    if (pk->res) {
        wtable_hold(&s->wt, w, pk->res, &hold);
        hp = &hold;
    }
    if (encode(s, t, w, hp) != 0) {
        if (hp)
            wtable_unhold(&s->wt, w, hp);
        return false;
    }
    if (hp)
        store_put(&s->holds, t->id, pd__xmemdup(hp, sizeof(*hp)),
                  sizeof(*hp));
    graph_dispatched(s->g, t, w);
    /* Each input's worker copy stays until t has been reported. */
    struct up_iter it = graph_up_begin(t);
    struct pd_future *u;
    while ((u = graph_up_next(s->g, &it)))
        u->wrefs++;
    t->ticket = wtable_sent(&s->wt, w);
    s->inflight++;
    if (debug)
        log_msg(PD_DEBUG, run_name(s, t), "Running on rank %d",
                s->wt.w[w].rank);
    return true;
}

/* Queue t with the runs of its profile that wait for resources. */
static void wait_for_resources(struct sched *s, struct pd_future *t)
{
    if (!s->rq)
        s->rq = pd__xcalloc(PROFILE_MAX, sizeof(*s->rq));
    if (!s->rq[t->profile]) {
        s->rq[t->profile] = pd__xmalloc(sizeof(struct ready));
        ready_init(s->rq[t->profile]);
    }
    if (!s->rq[t->profile]->count) {
        if (!s->rqlive)
            s->rqlive = pd__xcalloc(PROFILE_MAX, sizeof(*s->rqlive));
        s->rqlive[s->nrqlive++] = t->profile;
    }
    ready_push(s->rq[t->profile], t);
}

/* Runs that wait for resources: the best head among the profiles first
 * (priority, then submission order), each profile until its head does
 * not fit anywhere this round. */
static bool too_late(const struct sched *s, const struct pd_future *t);

static int dispatch_waiting(struct sched *s, bool debug)
{
    int sent = 0, nopen = s->stopping ? 0 : s->nrqlive, w;
    struct pick pk;

    while (nopen > 0) {
        int best = -1;
        struct pd_future *t, *bt = NULL;
        for (int i = 0; i < nopen; i++) {
            t = ready_peek(s->rq[s->rqlive[i]]);
            if (!bt || t->priority > bt->priority ||
                (t->priority == bt->priority && t->id < bt->id)) {
                bt = t;
                best = i;
            }
        }
        struct ready *q = s->rq[s->rqlive[best]];
        t = ready_pop(q);
        if (graph_state_final(atomic_load(&t->state))) {
            ; /* ended NotReady while it waited */
        } else {
            describe(s, t, &pk);
            if (!unplaceable(s, t, &pk)) {
                bool late = too_late(s, t);
                s->held += late;
                w = late ? -1 : wtable_pick(&s->wt, &pk);
                if (w < 0) {
                    /* Its head does not fit: the profile is done for this
                     * round (closed: swapped past the open ones). */
                    ready_push(q, t);
                    uint16_t p = s->rqlive[best];
                    s->rqlive[best] = s->rqlive[nopen - 1];
                    s->rqlive[nopen - 1] = p;
                    nopen--;
                    continue;
                }
                sent += send_run(s, t, w, &pk, debug);
            }
        }
        if (!q->count) {
            /* Empty: out of the live list (keeping closed ones after). */
            s->rqlive[best] = s->rqlive[nopen - 1];
            s->rqlive[nopen - 1] = s->rqlive[--s->nrqlive];
            nopen--;
        }
    }
    return sent;
}

/* Put t aside until the end of this round. */
static void defer(struct sched *s, struct pd_future *t)
{
    if (s->ndeferred == s->deferredcap) {
        s->deferredcap = s->deferredcap ? s->deferredcap * 2 : 16;
        s->deferred = pd__xrealloc(s->deferred, s->deferredcap *
                                                sizeof(*s->deferred));
    }
    s->deferred[s->ndeferred++] = t;
}

/* True when run t, by the mean time of its task's completed runs, would
 * not end before the job's end time. A task with no completed run yet
 * starts: nothing says it cannot finish. */
static bool too_late(const struct sched *s, const struct pd_future *t)
{
    double mean = s->avg_s[t->def];
    return s->end_s > 0 && mean >= 0 && pd__now() + mean > s->end_s;
}

static int dispatch(struct sched *s)
{
    struct pd_future *t;
    struct pick pk;
    int sent = 0, w;
    bool debug = log_enabled(PD_DEBUG);

    s->held = 0;
    while (!s->stopping && (t = graph_peek(s->g))) {
        if (graph_state_final(atomic_load(&t->state))) {
            graph_pop(s->g); /* ended NotReady while it waited here */
            continue;
        }
        if (too_late(s, t)) {
            graph_pop(s->g);
            defer(s, t);
            s->held++;
            continue;
        }
        describe(s, t, &pk);
        /* Inputs on two endpoints (spawned pools): they come through
         * rank 0 first. */
        if (s->c->neps > 1 && input_eps(s, &pk) == 2) {
            graph_pop(s->g);
            if (relay_inputs(s, t) != 0)
                graph_fail(s->g, t, "an input was lost with its worker");
            else
                defer(s, t);
            continue;
        }
        if (unplaceable(s, t, &pk)) {
            graph_pop(s->g);
            continue;
        }
        /* Behind runs of its profile that wait already, or it would
         * overtake them. */
        if (pk.res && s->rq && s->rq[t->profile] &&
            s->rq[t->profile]->count) {
            graph_pop(s->g);
            wait_for_resources(s, t);
            continue;
        }
        if ((w = wtable_pick(&s->wt, &pk)) < 0) {
            if (w == -1 && !pk.nonly && !pk.res && !pk.one_ep)
                break; /* every worker is full */
            graph_pop(s->g);
            if (pk.res) {
                wait_for_resources(s, t);
                continue;
            }
            /* Its workers are full (or it waits for its input's worker),
             * others may not be: look past it. */
            defer(s, t);
            continue;
        }
        graph_pop(s->g);
        sent += send_run(s, t, w, &pk, debug);
    }
    for (size_t i = 0; i < s->ndeferred; i++)
        ready_push(&s->g->ready, s->deferred[i]);
    s->ndeferred = 0;
    if (s->nrqlive)
        sent += dispatch_waiting(s, debug);
    for (w = 0; w < s->wt.n; w++) {
        send_tasks(s, w);
        comm_send_batch(s->c, peer_of(s, w), TAG_FETCH, &s->fetch[w]);
    }
    return sent;
}

/* Tell workers which results nobody needs any more. */
static int send_frees(struct sched *s)
{
    uint64_t *pairs;
    size_t n = graph_take_free(s->g, &pairs);

    for (size_t i = 0; i < n; i++) {
        int w = (int)pairs[2 * i];
        uint64_t size = graph_get(s->g, pairs[2 * i + 1])->size;
        s->wx[w].held -= s->wx[w].held > 0;
        s->wx[w].bytes -= s->wx[w].bytes >= size ? size : s->wx[w].bytes;
        proto_put_free(comm_batch_add(s->c, peer_of(s, w), TAG_FREE,
                                      &s->frees[w], 12),
                       s->f->run, pairs[2 * i + 1]);
    }
    for (int w = 0; w < s->wt.n && n; w++)
        comm_send_batch(s->c, peer_of(s, w), TAG_FREE, &s->frees[w]);
    return n > 0;
}

static int poll_messages(struct sched *s)
{
    int tag, got = 0;
    struct peer from;
    uint8_t *data;
    size_t len;

    /* Bounded, so a flood of reports cannot starve dispatch. */
    while (got < 64 && comm_recv(s->c, &from, &tag, &data, &len)) {
        struct rd r = rd_init(data, len);
        int w = wtable_find(&s->wt, from.ep, from.rank);
        if (w >= 0)
            s->wt.w[w].seen = pd__now();
        if (w >= 0 && s->wt.w[w].state == W_GONE)
            ; /* sent before it was lost: its runs have ended already */
        else if (w < 0)
            log_msg(PD_ERROR, "pdask-mpi", "message tag %d from unknown "
                    "rank %d (endpoint %d) ignored", tag, from.rank,
                    from.ep);
        else if (tag == TAG_BEAT)
            ;
        else if (tag == TAG_DONE)
            on_done(s, w, &r);
        else if (tag == TAG_DATA)
            on_data(s, w, &r);
        else if (tag == TAG_LOG)
            fwd_print(&r, s->wt.w[w].rank);
        else
            log_msg(PD_ERROR, "pdask-mpi", "unexpected message tag %d from "
                    "rank %d ignored", tag, from.rank);
        free(data);
        got++;
    }
    return got;
}

/* The last line of a run that stopped early: how to resume it. */
static void resume_hint(struct sched *s)
{
    if (s->journal_path)
        log_msg(PD_ERROR, s->f->name, "To resume: run the same command "
                "with --journal %s (its completed task runs are not run "
                "again)", s->journal_path);
    else
        log_msg(PD_ERROR, s->f->name, "To resume without running completed "
                "task runs again next time, give --journal FILE");
}

/* "; N from the journal" for the summary line, or "". */
static const char *journal_note(struct sched *s)
{
    static char buf[64];

    if (!s->jnl)
        return "";
    snprintf(buf, sizeof(buf), "; %" PRIu64 " from the journal",
             journal_replayed(s->jnl));
    return buf;
}

static void summary(struct sched *s, int code)
{
    struct graph *g = s->g;
    uint64_t total = atomic_load(&g->nruns), ok = g->ncompleted;
    const char *state = code == 0 ? "Completed"
                        : code == PD_EXIT_LOST ? "Crashed"
                        : code == PD_EXIT_WALLTIME ? "Cancelled" : "Failed";

    if (s->notready > NOTREADY_SHOWN)
        log_msg(PD_WARNING, s->f->name, "%" PRIu64 " more task runs ended "
                "NotReady (each is logged at --log-level debug)",
                s->notready - NOTREADY_SHOWN);
    log_msg(code == 0 ? PD_INFO : PD_ERROR, s->f->name,
            "Finished in state %s: %" PRIu64 " of %" PRIu64
            " task runs completed, %" PRIu64 " did not, in %.3f s%s",
            state, ok, total, total - ok, pd__now() - s->t0,
            journal_note(s));
    if (code == PD_EXIT_WALLTIME)
        resume_hint(s);
}

/* Worker w fell silent: its runs crashed with it, and since results it
 * held are gone and runs elsewhere may wait for them, the flow run ends:
 * every other run is cancelled. */
static void lose(struct sched *s, int w, double silent)
{
    char msg[256];
    uint64_t n = atomic_load(&s->g->nruns), crashed = 0;
    int rank = s->wt.w[w].rank;

    log_error("rank %d stopped responding: nothing heard from it for %.1f s "
              "(client_kwargs heartbeat %g s); it died or is stopped. "
              "Ending the flow run: its task runs are Crashed, the others "
              "Cancelled", rank, silent, s->heartbeat_s);
    wtable_set_state(&s->wt, w, W_GONE);
    s->lost = w;
    snprintf(msg, sizeof(msg), "crashed: worker rank %d stopped responding "
             "while it had this run", rank);
    for (uint64_t i = 0; i < n; i++) {
        struct pd_future *t = graph_get(s->g, i);
        if (t->worker == w && atomic_load(&t->fetch) == FETCH_ASKED) {
            free(t->message);
            t->message = pd__xstrdup("result lost with its worker");
            atomic_store(&t->fetch, FETCH_LOST);
            s->fetches--;
        }
        if (!(t->flags & RUN_SENT) || t->worker != w)
            continue;
        t->flags &= ~RUN_SENT;
        s->inflight--;
        if (!graph_state_final(atomic_load(&t->state))) {
            graph_end(s->g, t, PD_CRASHED, NULL, msg);
            crashed++;
        }
    }
    snprintf(msg, sizeof(msg), "cancelled: the flow run ended because "
             "worker rank %d was lost", rank);
    graph_end_all(s->g, PD_CANCELLED, msg);
    log_msg(PD_ERROR, s->f->name, "%" PRIu64 " task runs crashed with rank "
            "%d", crashed, rank);
    log_bad(s);
    flow_notify(s->f);
}

/* After SIGINT or SIGTERM (and the grace period): cancel what has not
 * ended, say so in the summary, and exit 128 + the signal without waiting
 * for the flow function or the workers (mpirun is ending them). */
static void stop_interrupted(struct sched *s)
{
    int sig = interrupted;
    const char *name = sig == SIGINT ? "SIGINT" : "SIGTERM";
    char msg[128];
    struct graph *g = s->g;

    snprintf(msg, sizeof(msg), "cancelled: the flow run was interrupted by "
             "%s", name);
    uint64_t n = graph_end_all(g, PD_CANCELLED, msg);
    log_msg(PD_ERROR, s->f->name, "Interrupted by %s: %" PRIu64 " task runs "
            "cancelled", name, n);
    log_msg(PD_ERROR, s->f->name, "Finished in state Cancelled: %" PRIu64
            " of %" PRIu64 " task runs completed, %" PRIu64 " did not, in "
            "%.3f s%s; exit code %d", g->ncompleted, atomic_load(&g->nruns),
            atomic_load(&g->nruns) - g->ncompleted, pd__now() - s->t0,
            journal_note(s), 128 + sig);
    journal_close(s->jnl);
    resume_hint(s);
    if (s->rep)
        report_close(s->rep, 128 + sig);
    fflush(NULL);
    _exit(128 + sig);
}

/* Under mpirun, a signal to mpirun reaches every rank, and mpirun kills
 * them odls_base_sigkill_timeout seconds later (1 by default): end the
 * grace period before that, so the summary and the journal are written. */
static void cap_grace(struct sched *s)
{
    const char *kill = getenv("OMPI_MCA_odls_base_sigkill_timeout");
    double limit = (kill ? atof(kill) : 1.0) - 0.5;

    if (!getenv("OMPI_COMM_WORLD_SIZE") || s->grace_s <= limit)
        return;
    if (limit < 0)
        limit = 0;
    log_msg(PD_WARNING, s->f->name, "grace_period cut from %g s to %g s: "
            "mpirun kills every rank %s s after it is signalled (give "
            "mpirun --mca odls_base_sigkill_timeout N for more)",
            s->grace_s, limit, kill ? kill : "1");
    s->grace_s = limit;
}

/* SIGINT or SIGTERM came: start no run, give running ones the grace
 * period, then stop (stop_interrupted). A second signal, or no grace
 * period, stops at once. Call before any MPI call of a round: with no
 * grace, peers may be dying. */
static void check_interrupt(struct sched *s)
{
    if (!interrupted)
        return;
    if (!s->stopping) {
        s->stopping = pd__now();
        cap_grace(s);
        if (s->grace_s > 0 && s->inflight && nsignals < 2)
            log_msg(PD_WARNING, s->f->name, "%s: starting no new task "
                    "runs; the %" PRIu64 " sent to workers (running or queued "
                    "there) get up to %g s to end (grace_period; signal "
                    "again to stop now)",
                    interrupted == SIGINT ? "SIGINT" : "SIGTERM",
                    s->inflight, s->grace_s);
    }
    if (!s->inflight || nsignals > 1 || s->lost >= 0 ||
        pd__now() - s->stopping >= s->grace_s)
        stop_interrupted(s);
}

/* The job ends soon: no ready run can finish before it, and none is
 * running. Cancel what has not ended; the flow thread wakes up with
 * them and returns, and the run ends with PD_EXIT_WALLTIME. */
static void stop_walltime(struct sched *s)
{
    char msg[256];

    snprintf(msg, sizeof(msg), "cancelled: it would not end before the "
             "job's end time (%s)", s->end_from);
    uint64_t n = graph_end_all(s->g, PD_CANCELLED, msg);
    log_msg(PD_ERROR, s->f->name, "The job ends in %.0f s (%s): no task "
            "run left can finish before then (by the mean time of its "
            "task's completed runs); %" PRIu64 " task runs cancelled",
            s->end_s - pd__now(), s->end_from, n);
    s->walltime = true;
    flow_notify(s->f);
}

/* The progress line or bar: runs done of submitted, running, failed,
 * rate, elapsed, estimated time left. On a terminal a bar redrawn four
 * times a second; in a batch log a line every progress_s. */
static void show_progress(struct sched *s, bool last)
{
    struct graph *g = s->g;
    double now = pd__now(), el = now - s->t0;
    uint64_t total = atomic_load(&g->nruns), done = atomic_load(&g->nended);
    uint64_t failed = atomic_load(&g->nfailed);
    double rate = el > 0 ? (double)done / el : 0;
    char line[256], eta[32] = "?";

    if (!s->progress_s ||
        (!last && now - s->shown < (s->tty ? 0.25 : s->progress_s)))
        return;
    s->shown = now;
    if (s->tty && last) {
        log_bar(NULL);
        return;
    }
    if (rate > 0 && total >= done)
        snprintf(eta, sizeof(eta), "%.0f s", (double)(total - done) / rate);
    snprintf(line, sizeof(line), "%" PRIu64 "/%" PRIu64 " task runs done, "
             "%" PRIu64 " running, %" PRIu64 " failed, %.0f/s, %.0f s "
             "elapsed, %s left", done, total, s->inflight, failed, rate, el,
             eta);
    if (s->tty) {
        char bar[300];
        int w = total ? (int)(20 * done / total) : 0;
        snprintf(bar, sizeof(bar), "[%.*s%.*s] %s", w,
                 "####################", 20 - w, "                    ",
                 line);
        log_bar(bar);
    } else if (!last) {
        log_msg(PD_INFO, s->f->name, "Progress: %s", line);
    }
}

/* Lose any active worker not heard from within the heartbeat. */
static void check_heartbeats(struct sched *s)
{
    double now = pd__now();

    if (now - s->checked < s->heartbeat_s / 8 || s->lost >= 0)
        return;
    s->checked = now;
    for (int w = 0; w < s->wt.n; w++) {
        if (s->wt.w[w].state == W_ACTIVE &&
            now - s->wt.w[w].seen > s->heartbeat_s) {
            lose(s, w, now - s->wt.w[w].seen);
            return;
        }
    }
}

/* ---- adaptive scaling: the policy is adapt.c's, the mechanism here ---- */

/* Room in the per-worker arrays for every worker id in the table. */
static void grow_tables(struct sched *s)
{
    int n = s->wt.n, old = s->nbatch;

    if (n <= old)
        return;
    s->tasks = pd__xrealloc(s->tasks, ((size_t)n + 1) * sizeof(*s->tasks));
    s->frees = pd__xrealloc(s->frees, ((size_t)n + 1) * sizeof(*s->frees));
    s->fetch = pd__xrealloc(s->fetch, ((size_t)n + 1) * sizeof(*s->fetch));
    s->wx = pd__xrealloc(s->wx, ((size_t)n + 1) * sizeof(*s->wx));
    memset(s->tasks + old, 0, (size_t)(n + 1 - old) * sizeof(*s->tasks));
    memset(s->frees + old, 0, (size_t)(n + 1 - old) * sizeof(*s->frees));
    memset(s->fetch + old, 0, (size_t)(n + 1 - old) * sizeof(*s->fetch));
    memset(s->wx + old, 0, (size_t)(n + 1 - old) * sizeof(*s->wx));
    s->nbatch = n;
}

/* Rank 0 listened to nobody for took seconds (a blocking spawn): that
 * silence is not the workers'. */
static void deaf(struct sched *s, double took)
{
    for (int w = 0; w < s->wt.n; w++)
        s->wt.w[w].seen += took;
}

/* The pool as the policy sees it, and the work waiting: runs queued or
 * running (every upstream sent), each at its task's mean run time, the
 * default for a task never timed. */
static void measure(struct sched *s, struct adapt_in *in,
                    struct adapt_worker *aw, double now)
{
    long threads = 0;

    memset(in, 0, sizeof(*in));
    in->now = now;
    in->w = aw;
    for (uint64_t i = s->open_from; i < s->nadded; i++) {
        struct pd_future *t = graph_get(s->g, i);
        if (graph_state_final(atomic_load(&t->state))) {
            if (i == s->open_from)
                s->open_from++;
            continue;
        }
        if (t->npending)
            continue;
        double a = s->avg_s[t->def];
        in->work_s += a >= 0 ? a : s->grow->unknown_s;
        in->runnable++;
    }
    for (int w = 0; w < s->wt.n; w++) {
        const struct wentry *e = &s->wt.w[w];
        struct wextra *x = &s->wx[w];
        if (e->state != W_ACTIVE && e->state != W_JOINING)
            continue;
        if (e->inflight)
            x->idle_since = 0;
        else if (!x->idle_since)
            x->idle_since = now;
        struct adapt_worker a = {
            w, e->inflight == 0,
            e->ep == 0 || (x->held > 0 && x->bytes > DRAIN_MAX), x->bytes,
            x->idle_since ? now - x->idle_since : 0,
        };
        aw[in->nw++] = a;
        threads += e->threads;
    }
    in->threads = in->nw ? (int)(threads / in->nw) : 1;
}

/* No worker, and none could be spawned: waiting would hang, so the runs
 * end Cancelled (the flow run Failed) and later submits too. */
static void starve(struct sched *s)
{
    uint64_t n = graph_end_all(s->g, PD_CANCELLED, "cancelled: no worker "
                               "could be spawned (see the warning above)");
    log_msg(PD_ERROR, s->f->name, "No worker to run on and none could be "
            "spawned: %" PRIu64 " task runs cancelled; start with workers "
            "(mpirun -n N, adapt_kwargs minimum) or fix spawning", n);
    s->starved = true;
    log_bad(s);
    flow_notify(s->f);
}

/* Start out->grow more workers, now; on failure go on with the pool. */
static void scale_up(struct sched *s, const struct adapt_in *in,
                     const struct adapt_out *out)
{
    int n = out->grow, *th = pd__xcalloc((size_t)n + 1, sizeof(int)), ep;
    struct res_tags *tags = pd__xcalloc((size_t)n + 1, sizeof(*tags));
    double t0 = pd__now(), took;
    MPI_Comm nc = MPI_COMM_NULL, inter = MPI_COMM_NULL;
    char err[1024] = "";

    if (s->grow->spawn(s->grow->ctx, n, &nc, &inter, th, tags, err,
                       sizeof(err)) != 0) {
        double wait = adapt_failed(&s->ad, pd__now());
        log_msg(s->said_fail ? PD_DEBUG : PD_WARNING, "pdask-mpi",
                "Cannot scale from %d to %d workers: %s. Going on with %d "
                "workers; trying again in %g s, then less and less often",
                in->nw, in->nw + n, err, in->nw, wait);
        s->said_fail = true;
        deaf(s, pd__now() - t0);
        free(th);
        free(tags);
        if (in->nw == 0 && wtable_active(&s->wt) == 0)
            starve(s);
        return;
    }
    took = pd__now() - t0;
    adapt_succeeded(&s->ad);
    ep = comm_add(s->c, nc);
    if (ep >= s->epcap) {
        s->epcap = ep * 2 + 2;
        s->eplive = pd__xrealloc(s->eplive, (size_t)s->epcap * sizeof(int));
        s->inter = pd__xrealloc(s->inter, (size_t)s->epcap *
                                          sizeof(*s->inter));
    }
    s->eplive[ep] = n;
    s->inter[ep] = inter;
    for (int r = 1; r <= n; r++) {
        int w = wtable_add(&s->wt, ep, r, th[r]);
        wtable_set_resources(&s->wt, w, &tags[r].set);
        s->wt.w[w].seen = pd__now();
        wtable_set_state(&s->wt, w, W_ACTIVE); /* joined: tasks agreed */
    }
    grow_tables(s);
    deaf(s, took);
    free(th);
    free(tags);
    char msg[400];
    snprintf(msg, sizeof(msg), "Scaling from %d to %d workers: %.1f s of "
             "work in %ld queued or running task runs, for a "
             "target_duration of %g s (MPI_Comm_spawn and join took %.3f "
             "s)", in->nw, in->nw + n, in->work_s, in->runnable,
             s->grow->cfg.target_s, took);
    log_msg(PD_INFO, "pdask-mpi", "%s", msg);
    report_event(s->rep, msg);
}

/* Stop worker w; its endpoint is disconnected at the next tick once
 * none of its workers is left. */
static void stop_worker(struct sched *s, int w)
{
    int ep = s->wt.w[w].ep;
    struct buf b = { 0 };

    buf_u32(&b, 0);
    comm_send(s->c, peer_of(s, w), TAG_STOP, &b);
    wtable_set_state(&s->wt, w, W_GONE);
    s->wx[w].leaving = false;
    if (--s->eplive[ep] == 0) {
        s->closing = pd__xrealloc(s->closing, ((size_t)s->nclosing + 1) *
                                              sizeof(int));
        s->closing[s->nclosing++] = ep;
    }
}

/* Retire w, which holds results the flow still needs: it takes no new
 * work, and rank 0 fetches each of them (sharing pd_result's fetch state:
 * one asked for already is not asked again); as each arrives, w's copy is
 * freed (graph_value_here), and once w holds none it stops (leave). */
static void drain_worker(struct sched *s, int w)
{
    uint64_t n = atomic_load(&s->g->nruns), asked = 0;

    wtable_set_state(&s->wt, w, W_DRAINING);
    s->wx[w].leaving = true;
    for (uint64_t i = 0; i < n; i++) {
        struct pd_future *t = graph_get(s->g, i);
        if (t->worker != w || atomic_load(&t->state) != PD_COMPLETED)
            continue;
        if (atomic_load(&t->value))
            graph_value_here(s->g, t); /* here already (a pd_result) */
        else
            asked += ask_fetch(s, t); /* or asked already: its answer
                                         frees the copy */
    }
    comm_send_batch(s->c, peer_of(s, w), TAG_FETCH, &s->fetch[w]);
    log_msg(PD_DEBUG, "pdask-mpi", "rank %d retires: fetching %" PRIu64
            " of its %" PRIu64 " results (%" PRIu64 " bytes) to rank 0 "
            "first", s->wt.w[w].rank, asked, s->wx[w].held, s->wx[w].bytes);
}

/* Stop the leaving workers whose results have all come to rank 0 (and
 * been freed there) and that have nothing in flight. */
static void leave(struct sched *s)
{
    for (int w = 0; w < s->wt.n; w++) {
        if (!s->wx[w].leaving || s->wx[w].held || s->wt.w[w].inflight)
            continue;
        log_msg(PD_DEBUG, "pdask-mpi", "rank %d's results are on rank 0: "
                "it stops", s->wt.w[w].rank);
        stop_worker(s, w);
    }
}

/* Stop the workers the policy retires; those holding results the flow
 * still needs move them to rank 0 first (drain_worker). */
static void retire(struct sched *s, const struct adapt_in *in,
                   const struct adapt_out *out)
{
    double idle = 1e300;
    int ndrain = 0;

    for (int k = 0; k < out->nretire; k++) {
        int w = out->retire[k];
        double since = s->wx[w].idle_since;

        if (since && in->now - since < idle)
            idle = in->now - since;
        if (s->wx[w].held) {
            drain_worker(s, w);
            ndrain++;
        } else {
            stop_worker(s, w);
        }
    }
    char msg[480], moved[80] = "";
    if (ndrain)
        snprintf(moved, sizeof(moved), "; %d of them moving the results the "
                 "flow holds to rank 0 first", ndrain);
    snprintf(msg, sizeof(msg), "Scaling from %d to %d workers: %d idle for "
             "%.1f s or more (%d decisions in a row, %g s apart), %.1f s of "
             "work in %ld queued or running task runs%s", in->nw,
             in->nw - out->nretire, out->nretire, idle,
             s->grow->cfg.wait_count, s->grow->cfg.interval_s, in->work_s,
             in->runnable, moved);
    log_msg(PD_INFO, "pdask-mpi", "%s", msg);
    report_event(s->rep, msg);
}

/* Disconnect the endpoints whose workers all retired (they have had an
 * interval to stop, so this hardly blocks). */
static void close_eps(struct sched *s)
{
    for (int i = 0; i < s->nclosing; i++) {
        double took = comm_disconnect(s->c, s->closing[i],
                                      &s->inter[s->closing[i]]);
        if (log_enabled(PD_DEBUG))
            log_msg(PD_DEBUG, "pdask-mpi", "disconnected the workers of "
                    "spawn %d in %.3f s", s->closing[i], took);
    }
    s->nclosing = 0;
}

/* Every interval, and between intervals while ready runs wait unplaced
 * (growth only), ask the policy and act. True when the pool changed. */
static int adapt_tick(struct sched *s)
{
    double now = pd__now();
    bool periodic = now >= s->next_tick;
    struct adapt_in in;
    struct adapt_out out;

    if (!s->grow || s->lost >= 0 || s->starved)
        return 0;
    /* In between, only a backlog the pool may still grow for counts
     * (measure() walks the open runs: not at every round). */
    if (!periodic && (now < s->quick_tick || !graph_peek(s->g) ||
                      now < s->ad.retry_at ||
                      wtable_active(&s->wt) >= s->grow->cfg.maximum))
        return 0;
    s->quick_tick = now + QUICK_S;
    if (periodic) {
        s->next_tick = now + s->grow->cfg.interval_s;
        close_eps(s);
        leave(s); /* disconnected at the next tick */
    }
    struct adapt_worker *aw = pd__xcalloc((size_t)s->wt.n + 1, sizeof(*aw));
    measure(s, &in, aw, now);
    adapt_step(&s->ad, &in, periodic, &out);
    if (out.grow > 0)
        scale_up(s, &in, &out);
    else if (out.nretire > 0)
        retire(s, &in, &out);
    free(aw);
    return out.grow > 0 || out.nretire > 0;
}

/* The job's worker ranks over the maximum take no work (they are never
 * stopped: mpirun owns them). */
static void adapt_start(struct sched *s)
{
    int n = 0, over = 0;

    adapt_init(&s->ad, &s->grow->cfg);
    s->epcap = 4;
    s->eplive = pd__xcalloc((size_t)s->epcap, sizeof(int));
    s->inter = pd__xcalloc((size_t)s->epcap, sizeof(*s->inter));
    for (int w = 0; w < s->wt.n; w++) {
        if (++n > s->grow->cfg.maximum) {
            wtable_set_state(&s->wt, w, W_DRAINING);
            over++;
        }
    }
    if (over)
        log_msg(PD_INFO, "pdask-mpi", "adapt_kwargs maximum is %d: %d of "
                "the job's %d worker ranks take no work", s->grow->cfg.maximum,
                over, n);
}

/* Rounds until the flow has ended and nothing is left to do. */
static void loop(struct sched *s)
{
    struct pd_flow *f = s->f;

    for (;;) {
        /* Read flow_done first: once it is set, every request and report
         * the flow depends on has been handled by the rounds before. */
        bool done = atomic_load(&f->flow_done) && s->fetches == 0;
        check_interrupt(s); /* before any MPI call: peers may be dying */
        int busy = take_requests(s);
        busy += poll_messages(s);
        busy += dispatch(s);
        busy += send_frees(s);
        busy += comm_progress(s->c);
        busy += adapt_tick(s);
        check_heartbeats(s);
        if (s->held && !s->inflight && !s->walltime && !s->stopping)
            stop_walltime(s);
        show_progress(s, false);
        log_bad(s);
        journal_tick(s->jnl, false);
        if (busy) {
            flow_notify(f);
            comm_busy(s->c);
        } else if (done) {
            return;
        } else {
            comm_idle(s->c, s->recent_s,
                      s->inflight || s->fetches ? BUSY_SLEEP_S
                                                : MAX_SLEEP_S);
        }
    }
}

/* The exit code of the ended flow run, with its last log lines. */
static int outcome(struct sched *s)
{
    struct pd_flow *f = s->f;
    int code;

    if (f->usage_error) {
        log_error("%s", f->usage[0] ? f->usage : f->params->st->error);
        return 2;
    }
    code = f->flow_rc != 0 || atomic_load(&f->g.nfailed) ? 1 : 0;
    if (s->lost >= 0)
        code = PD_EXIT_LOST;
    else if (s->walltime)
        code = PD_EXIT_WALLTIME;
    if (f->flow_rc != 0)
        log_msg(PD_ERROR, f->name, "flow function returned %d", f->flow_rc);
    summary(s, code);
    return code;
}

/* Runs still sent to workers when the flow ended (its function returned
 * early on an error after pd_wait_all): wait for their reports, so no
 * worker is stopped in the middle of one. */
static void drain(struct sched *s)
{
    while (s->inflight && s->lost < 0) {
        check_interrupt(s); /* before any MPI call, as in loop() */
        int busy = poll_messages(s) + comm_progress(s->c);
        check_heartbeats(s);
        if (busy)
            comm_busy(s->c);
        else
            comm_idle(s->c, s->recent_s, BUSY_SLEEP_S);
    }
}

static void sched_init(struct sched *s, struct comm *c, struct pd_flow *f,
                       const struct sched_opts *o)
{
    double now = pd__now();

    int ntasks = f->mod ? f->mod->ntasks : 0;

    memset(s, 0, sizeof(*s));
    s->c = c;
    s->f = f;
    s->g = &f->g;
    s->prefetch = o->prefetch;
    s->rep = o->report;
    s->jnl = o->journal;
    s->journal_path = o->journal_path;
    s->grace_s = o->grace_s;
    double end = jobend_read(&s->end_from);
    if (end > 0) {
        s->end_s = now + (end - (double)time(NULL));
        log_msg(PD_INFO, f->name, "The job ends in %.0f s (%s): task runs "
                "that would not finish by then are not started",
                s->end_s - now, s->end_from);
    }
    s->progress_s = o->progress_s;
    s->tty = isatty(STDERR_FILENO);
    s->shown = pd__now();
    s->heartbeat_s = o->heartbeat_s > 0 ? o->heartbeat_s : 1e9;
    s->lost = -1;
    store_init(&s->holds, true);
    wtable_init(&s->wt);
    for (int r = 1; r < o->nranks; r++) {
        int w = wtable_add(&s->wt, 0, r, o->threads[r]);
        wtable_set_state(&s->wt, w, W_ACTIVE);
        if (o->tags)
            wtable_set_resources(&s->wt, w, &o->tags[r].set);
        s->wt.w[w].seen = now;
    }
    s->nbatch = s->wt.n;
    s->tasks = pd__xcalloc((size_t)s->nbatch + 1, sizeof(*s->tasks));
    s->frees = pd__xcalloc((size_t)s->nbatch + 1, sizeof(*s->frees));
    s->fetch = pd__xcalloc((size_t)s->nbatch + 1, sizeof(*s->fetch));
    s->wx = pd__xcalloc((size_t)s->nbatch + 1, sizeof(*s->wx));
    s->avg_s = pd__xcalloc((size_t)ntasks + 1, sizeof(double));
    for (int i = 0; i <= ntasks; i++)
        s->avg_s[i] = -1;
    s->t0 = pd__now();
    s->grow = o->grow;
    if (s->grow)
        adapt_start(s);
}

static void sched_destroy(struct sched *s)
{
    for (int w = 0; w < s->nbatch; w++) {
        buf_free(&s->tasks[w].b);
        buf_free(&s->frees[w].b);
        buf_free(&s->fetch[w].b);
    }
    free(s->tasks);
    free(s->frees);
    free(s->fetch);
    free(s->avg_s);
    free(s->in);
    free(s->deferred);
    for (int p = 0; s->rq && p < PROFILE_MAX; p++) {
        if (s->rq[p])
            ready_destroy(s->rq[p]);
        free(s->rq[p]);
    }
    free(s->rq);
    free(s->rqlive);
    store_destroy(&s->holds);
    free(s->wx);
    free(s->eplive);
    free(s->inter);
    free(s->closing);
    if (s->grow)
        adapt_destroy(&s->ad);
    wtable_destroy(&s->wt);
}

int sched_run(struct comm *c, struct pd_flow *f, struct sched_opts *o)
{
    struct sched s;
    pthread_t flow_thread;
    int code;

    sched_init(&s, c, f, o);
    log_msg(PD_INFO, f->name, "Beginning flow run with %d workers",
            wtable_active(&s.wt));
    if (pthread_create(&flow_thread, NULL, flow_thread_main, f) != 0) {
        log_error("cannot start the flow thread: out of threads or memory");
        code = 2;
    } else {
        loop(&s);
        pthread_join(flow_thread, NULL);
        if (s.lost < 0)
            drain(&s);
        code = outcome(&s);
    }
    o->lost = s.lost >= 0;
    o->spawn_failed = s.said_fail;
    show_progress(&s, true);

    /* Workers wait for this whatever happened: never leave them hanging. */
    for (int w = 0; w < s.wt.n; w++) {
        struct buf b = { 0 };
        if (s.wt.w[w].state == W_GONE)
            continue;
        buf_u32(&b, 0);
        comm_send(c, peer_of(&s, w), TAG_STOP, &b);
    }
    /* After a loss, sends to the lost rank never complete. */
    comm_flush(c, s.lost >= 0 ? 1.0 : 1e9);
    /* Spawned workers disconnect as they exit: so does rank 0. */
    for (int ep = 1; s.lost < 0 && ep < c->neps; ep++)
        comm_disconnect(c, ep, &s.inter[ep]);
    sched_destroy(&s);
    return code;
}
