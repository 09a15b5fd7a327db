/* scheduler.c - see scheduler.h. Runs on the thread that called MPI_Init. */
#include "scheduler.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "log.h"
#include "protocol.h"
#include "util.h"

/* A task run whose task has averaged longer than this is not queued ahead
 * beyond one per thread: better to wait for a free worker than to queue
 * behind a long run. */
#define LONG_TASK_S 2e-3
/* Short runs are queued ahead until about this much work waits on each
 * thread, so a worker never idles while its report and the next batch
 * cross; capped by MAX_AHEAD runs a thread. */
#define QUEUE_S 1e-3
#define MAX_AHEAD 512
/* Runs of a task that averages under this are flagged TASK_SHORT. */
#define SHORT_TASK_S 20e-6
#define MAX_SLEEP_S 50e-3

struct wslot {
    int inflight;   /* task runs sent and not reported back */
    int threads;
};

struct sched {
    struct comm *c;
    struct pd_flow *f;
    struct graph *g;
    struct wslot *w;      /* by rank; [0] is the scheduler itself */
    struct batch *out;    /* TAG_TASKS, then TAG_FREE, being built, by rank */
    struct batch *fetch;  /* TAG_FETCH being built, by rank */
    int prefetch;
    int cursor;           /* round-robin start for runs without inputs */
    double *avg_s;        /* mean run time by task index (< 0: unknown) */
    double recent_s;      /* mean run time of recent reports, any task */
    uint64_t fetches;     /* TAG_FETCH entries not answered yet */
    double t0;
};

static const char *run_name(const struct pd_future *t)
{
    static char buf[160];
    return graph_run_name(t, buf, sizeof(buf));
}

/* Report runs that ended badly since the last call. */
static void log_bad(struct sched *s)
{
    struct pd_future **runs;
    size_t n = graph_take_bad(s->g, &runs);

    for (size_t i = 0; i < n; i++) {
        struct pd_future *t = runs[i];
        enum pd_state st = atomic_load(&t->state);
        log_msg(st == PD_NOTREADY ? PD_WARNING : PD_ERROR, run_name(t),
                "Finished in state %s('%s')", pd_state_name(st),
                t->message ? t->message : "");
    }
}

static void on_done(struct sched *s, int src, struct rd *r)
{
    uint32_t n = proto_get_count(r);
    struct proto_done d;

    for (uint32_t i = 0; i < n; i++) {
        if (proto_get_done(r, &d) != 0) {
            log_msg(PD_ERROR, "pdask-mpi", "malformed report from rank %d "
                    "ignored", src);
            return;
        }
        struct pd_future *t = graph_get(s->g, d.id);
        if (!t || t->rank != src ||
            graph_state_final(atomic_load(&t->state))) {
            log_msg(PD_ERROR, "pdask-mpi", "rank %d reported task run %"
                    PRIu64 " that it was not running", src, d.id);
            continue;
        }
        s->w[src].inflight--;
        t->size = d.size;
        t->attempts = d.attempts;
        double took = d.runtime_us * 1e-6;
        if (t->def < (uint32_t)loader_ntasks()) {
            double *a = &s->avg_s[t->def];
            *a = *a < 0 ? took : pd__ema(*a, took);
        }
        s->recent_s = pd__ema(s->recent_s, took);
        if (log_enabled(PD_DEBUG) && d.state == PD_COMPLETED)
            log_msg(PD_DEBUG, run_name(t), "Finished in state Completed() "
                    "on rank %d in %.6f s", src, d.runtime_us * 1e-6);
        graph_end(s->g, t, (enum pd_state)d.state,
                  d.state == PD_COMPLETED && d.size <= PROTO_INLINE_MAX
                      ? d.inline_v : NULL,
                  d.message);
    }
}

static void on_data(struct sched *s, int src, struct rd *r)
{
    uint32_t n = proto_get_count(r);
    struct proto_data d;

    for (uint32_t i = 0; i < n; i++) {
        if (proto_get_data(r, &d) != 0)
            break;
        struct pd_future *t = graph_get(s->g, d.f.cookie);
        if (!t)
            continue;
        s->fetches--;
        if (d.err) {
            char buf[512];
            snprintf(buf, sizeof(buf), "result lost on rank %d: %s", src,
                     d.err);
            t->message = pd__xstrdup(buf);
            atomic_store_explicit(&t->fetch, FETCH_LOST,
                                  memory_order_release);
            continue;
        }
        if (log_enabled(PD_DEBUG))
            log_msg(PD_DEBUG, run_name(t), "Fetched result (%u bytes) from "
                    "rank %d for pd_result", d.len, src);
        atomic_store_explicit(&t->value, pd__xmemdup(d.packed, d.len),
                              memory_order_release);
        atomic_store_explicit(&t->fetch, FETCH_DONE, memory_order_release);
    }
}

static void want_fetch(struct sched *s, struct pd_future *t)
{
    struct proto_fetch fe = { t->id, t->id, 0 };

    if (atomic_load(&t->value)) {
        atomic_store(&t->fetch, FETCH_DONE);
        return;
    }
    if (t->rank < 0) {
        t->message = pd__xstrdup("result was freed: the flow called "
                                 "pd_release() on this future before");
        atomic_store_explicit(&t->fetch, FETCH_LOST, memory_order_release);
        return;
    }
    proto_put_fetch(batch_add(&s->fetch[t->rank]), &fe);
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
            graph_add(s->g, t);
            if (debug && !graph_state_final(atomic_load(&t->state)))
                log_msg(PD_DEBUG, run_name(t), "Pending (%s)",
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

/* Queue depth allowed for t on worker w. */
static int window(const struct sched *s, const struct pd_future *t, int w)
{
    double a = s->avg_s[t->def];
    int th = s->w[w].threads, ahead = s->prefetch;

    if (a > LONG_TASK_S)
        return 2 * th;
    if (a >= 0 && a * MAX_AHEAD < QUEUE_S)
        ahead = MAX_AHEAD;
    else if (a > 0 && QUEUE_S / a > ahead)
        ahead = (int)(QUEUE_S / a);
    return th + ahead * th;
}

/* The rank that made t's largest input, or -1. Small inputs count too: a
 * chain of small results then stays on one warm worker. */
static int input_home(struct sched *s, const struct pd_future *t)
{
    struct rd r = rd_init(t->args, t->argslen);
    const struct pd_future *best = NULL;
    uint64_t id = 0;
    int32_t rank;
    pd_value v;

    if (!(t->flags & RUN_HAS_DEPS))
        return -1;
    for (uint32_t i = 0; i < t->nargs; i++) {
        if (proto_get_value(&r, &v, &id, &rank) != 0)
            break;
        if ((int)v.kind != WIRE_FUTURE)
            continue;
        const struct pd_future *u = graph_get(s->g, id);
        if (u->rank > 0 && (!best || u->size > best->size))
            best = u;
    }
    return best ? best->rank : -1;
}

/* A worker for t, or -1 when all are full. Fill every worker up to its
 * threads before queueing ahead anywhere, so short flows spread out. */
static int pick_worker(struct sched *s, const struct pd_future *t)
{
    int n = s->c->size, home = input_home(s, t);

    if (home > 0 && s->w[home].inflight < window(s, t, home))
        return home;
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < n - 1; k++) {
            int w = 1 + (s->cursor + k) % (n - 1);
            int cap = pass == 0 ? s->w[w].threads : window(s, t, w);
            if (s->w[w].inflight < cap) {
                s->cursor = w % (n - 1);
                return w;
            }
        }
    }
    return -1;
}

/* Append t to the batch for rank w; dependencies become values (small
 * results kept on rank 0) or references to the worker holding them. */
static int encode(struct sched *s, struct pd_future *t, int w)
{
    double avg = s->avg_s[t->def];
    struct proto_task pt = { t->id, t->def, t->seq,
                             avg >= 0 && avg < SHORT_TASK_S ? TASK_SHORT : 0,
                             t->nargs, t->argslen, t->args };
    struct buf a = { 0 };
    struct rd r;
    pd_value v;
    uint64_t id = 0;
    int32_t rank;

    if (!(t->flags & RUN_HAS_DEPS)) {
        proto_put_task(batch_add(&s->out[w]), &pt);
        return 0;
    }
    r = rd_init(t->args, t->argslen);
    for (uint32_t i = 0; i < t->nargs; i++) {
        const uint8_t *start = r.p;
        proto_get_value(&r, &v, &id, &rank);
        if ((int)v.kind != WIRE_FUTURE) {
            buf_put(&a, start, (size_t)(r.p - start));
            continue;
        }
        struct pd_future *u = graph_get(s->g, id);
        uint8_t *val = atomic_load(&u->value);
        if (val) {
            buf_put(&a, val, u->size);
        } else if (u->rank > 0) {
            buf_u8(&a, WIRE_REF);
            buf_u64(&a, u->id);
            buf_u32(&a, (uint32_t)u->rank);
        } else {
            char msg[256];
            snprintf(msg, sizeof(msg), "input from %s is gone: the flow "
                     "released it with pd_release() before this task run "
                     "was submitted", run_name(u));
            buf_free(&a);
            graph_fail(s->g, t, msg);
            return -1;
        }
    }
    pt.args = a.data;
    pt.argslen = (uint32_t)a.len;
    proto_put_task(batch_add(&s->out[w]), &pt);
    buf_free(&a);
    return 0;
}

static int dispatch(struct sched *s)
{
    struct pd_future *t;
    int sent = 0, w;
    bool debug = log_enabled(PD_DEBUG);

    while ((t = graph_peek(s->g)) && (w = pick_worker(s, t)) > 0) {
        graph_pop(s->g);
        if (encode(s, t, w) != 0)
            continue;
        s->w[w].inflight++;
        t->rank = w;
        atomic_store_explicit(&t->state, PD_RUNNING, memory_order_relaxed);
        if (debug)
            log_msg(PD_DEBUG, run_name(t), "Running on rank %d", w);
        sent++;
    }
    for (w = 1; w < s->c->size; w++) {
        comm_send_batch(s->c, w, TAG_TASKS, &s->out[w]);
        comm_send_batch(s->c, w, TAG_FETCH, &s->fetch[w]);
    }
    return sent;
}

/* Tell workers which results nobody needs any more. */
static int send_frees(struct sched *s)
{
    uint64_t *pairs;
    size_t n = graph_take_free(s->g, &pairs);

    for (size_t i = 0; i < n; i++)
        buf_u64(batch_add(&s->out[pairs[2 * i]]), pairs[2 * i + 1]);
    for (int w = 1; w < s->c->size && n; w++)
        comm_send_batch(s->c, w, TAG_FREE, &s->out[w]);
    return n > 0;
}

static int poll_messages(struct sched *s)
{
    int src, tag, got = 0;
    uint8_t *data;
    size_t len;

    /* Bounded, so a flood of reports cannot starve dispatch. */
    while (got < 64 && comm_recv(s->c, &src, &tag, &data, &len)) {
        struct rd r = rd_init(data, len);
        if (tag == TAG_DONE)
            on_done(s, src, &r);
        else if (tag == TAG_DATA)
            on_data(s, src, &r);
        else
            log_msg(PD_ERROR, "pdask-mpi", "unexpected message tag %d from "
                    "rank %d ignored", tag, src);
        free(data);
        got++;
    }
    return got;
}

static void summary(struct sched *s, int code)
{
    struct graph *g = s->g;
    uint64_t total = atomic_load(&g->nruns), ok = g->ncompleted;
    const char *state = code == 0 ? "Completed" : "Failed";

    log_msg(code == 0 ? PD_INFO : PD_ERROR, s->f->name,
            "Finished in state %s: %" PRIu64 " of %" PRIu64
            " task runs completed, %" PRIu64 " did not, in %.3f s",
            state, ok, total, total - ok, pd__now() - s->t0);
}

/* Rounds until the flow has ended and nothing is left to do. */
static void loop(struct sched *s)
{
    struct pd_flow *f = s->f;

    for (;;) {
        /* Read flow_done first: once it is set, every request and report
         * the flow depends on has been handled by the rounds before. */
        bool done = atomic_load(&f->flow_done) && s->fetches == 0;
        int busy = take_requests(s);
        busy += poll_messages(s);
        busy += dispatch(s);
        busy += send_frees(s);
        busy += comm_progress(s->c);
        log_bad(s);
        if (busy) {
            flow_notify(f);
            comm_busy(s->c);
        } else if (done) {
            return;
        } else {
            comm_idle(s->c, s->recent_s, MAX_SLEEP_S);
        }
    }
}

/* The exit code of the ended flow run, with its last log lines. */
static int outcome(struct sched *s)
{
    struct pd_flow *f = s->f;
    int code;

    if (f->usage_error) {
        log_error("%s", f->params->st->error);
        return 2;
    }
    code = f->flow_rc != 0 || atomic_load(&f->g.nfailed) ? 1 : 0;
    if (f->flow_rc != 0)
        log_msg(PD_ERROR, f->name, "flow function returned %d", f->flow_rc);
    summary(s, code);
    return code;
}

int sched_run(struct comm *c, struct pd_flow *f, const struct sched_opts *o)
{
    struct sched s = { .c = c, .f = f, .g = &f->g, .prefetch = o->prefetch };
    pthread_t flow_thread;
    int code;

    s.w = pd__xcalloc((size_t)c->size, sizeof(*s.w));
    s.out = pd__xcalloc((size_t)c->size, sizeof(*s.out));
    s.fetch = pd__xcalloc((size_t)c->size, sizeof(*s.fetch));
    s.avg_s = pd__xcalloc((size_t)loader_ntasks() + 1, sizeof(double));
    for (int i = 0; i <= loader_ntasks(); i++)
        s.avg_s[i] = -1;
    for (int w = 1; w < c->size; w++)
        s.w[w].threads = o->threads[w] > 0 ? o->threads[w] : 1;
    s.t0 = pd__now();

    log_msg(PD_INFO, f->name, "Beginning flow run with %d workers",
            c->size - 1);
    if (pthread_create(&flow_thread, NULL, flow_thread_main, f) != 0) {
        log_error("cannot start the flow thread: out of threads or memory");
        code = 2;
    } else {
        loop(&s);
        pthread_join(flow_thread, NULL);
        code = outcome(&s);
    }

    /* Workers wait for this whatever happened: never leave them hanging. */
    for (int w = 1; w < c->size; w++) {
        struct buf b = { 0 };
        buf_u32(&b, 0);
        comm_send(c, w, TAG_STOP, &b);
    }
    comm_flush(c);
    for (int w = 0; w < c->size; w++) {
        buf_free(&s.out[w].b);
        buf_free(&s.fetch[w].b);
    }
    free(s.w);
    free(s.out);
    free(s.fetch);
    free(s.avg_s);
    return code;
}
