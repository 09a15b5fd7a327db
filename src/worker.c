/* worker.c - see worker.h.
 *
 * The comm thread unpacks task runs, resolves their inputs (local store, or
 * fetched from the rank holding them), queues them for the executors (or
 * runs a lone short one itself), and batches what ends into one TAG_DONE
 * per round. Executors sleep on a condition variable when there is nothing
 * to run. */
#include "worker.h"

#include <assert.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"
#include "log.h"
#include "protocol.h"
#include "store.h"
#include "taskrun.h"
#include "topology.h"
#include "util.h"

#define MAX_SLEEP_S 50e-3

/* A received TAG_TASKS buffer, shared by the runs it carries. */
struct msgbuf {
    int refs;
    uint8_t *data;
};

/* Memory a run owns: fetched inputs. */
struct blob {
    struct blob *next;
    uint8_t data[];
};

struct wtask {
    struct wtask *next;
    uint64_t id;
    uint32_t def;           /* local task index */
    uint32_t seq;
    struct msgbuf *msg;
    struct blob *owned;
    int nwait;              /* inputs still being fetched */
    uint8_t state;          /* outcome */
    uint8_t attempts;
    uint32_t runtime_us;
    struct buf result;      /* packed result */
    char *message;
    int nargs;
    pd_value args[];
};

struct queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct wtask *head, *tail;
    int sleepers;
    bool stopping;
};

struct worker {
    struct comm *c;
    const struct worker_opts *o;
    struct queue ready;     /* comm -> executors */
    struct queue done;      /* executors -> comm */
    struct wtask *local;    /* ended on the comm thread: failed before
                               running, or short runs made there */
    struct store store;
    struct batch *data;     /* TAG_DATA replies being built, by rank */
    struct batch *fetch;    /* TAG_FETCH requests being built, by rank */
    int next_core;          /* binding cursor for executors */
    double recent_s;        /* mean run time of recent runs */
    int nthreads;           /* executors running */
    pthread_mutex_t bind_mu;
};

/* ---------------------------------------------------------------- queues */

static void queue_init(struct queue *q)
{
    memset(q, 0, sizeof(*q));
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
}

static void queue_destroy(struct queue *q)
{
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
}

/* Append the list head..tail; true if the queue was empty before. */
static bool queue_push(struct queue *q, struct wtask *head,
                       struct wtask *tail, int n)
{
    bool was_empty;

    pthread_mutex_lock(&q->mu);
    was_empty = q->head == NULL;
    if (q->tail)
        q->tail->next = head;
    else
        q->head = head;
    q->tail = tail;
    if (q->sleepers)
        n > 1 ? pthread_cond_broadcast(&q->cv) : pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return was_empty;
}

/* Executors: the next run, waiting for one; NULL when stopping. */
static struct wtask *queue_pop_wait(struct queue *q)
{
    struct wtask *t;

    pthread_mutex_lock(&q->mu);
    while (!q->head && !q->stopping) {
        q->sleepers++;
        pthread_cond_wait(&q->cv, &q->mu);
        q->sleepers--;
    }
    t = q->head;
    if (t) {
        q->head = t->next;
        if (!q->head)
            q->tail = NULL;
        t->next = NULL;
    }
    pthread_mutex_unlock(&q->mu);
    return t;
}

/* Comm thread: take the whole list. */
static struct wtask *queue_take_all(struct queue *q)
{
    struct wtask *t;

    pthread_mutex_lock(&q->mu);
    t = q->head;
    q->head = q->tail = NULL;
    pthread_mutex_unlock(&q->mu);
    return t;
}

/* ------------------------------------------------------------ executors */

/* The task run each executor thread is in, for the crash report. */
static __thread const char *running_name;
static int crash_rank;

/* A task run that crashes takes its worker down (process isolation comes
 * later); say which run it was before the default action ends the rank.
 * Only async-signal-safe calls here. */
static void on_crash(int sig)
{
    char msg[512];
    const char *what = sig == SIGSEGV ? "SIGSEGV (segmentation fault)"
                       : sig == SIGBUS ? "SIGBUS (bus error)"
                       : sig == SIGFPE ? "SIGFPE (arithmetic error)"
                       : sig == SIGILL ? "SIGILL (illegal instruction)"
                                       : "SIGABRT (abort)";
    const char *name = running_name ? running_name : "(none: the runtime)";
    size_t n = 0;
    const char *parts[] = { "pdask-mpi: error: rank ", NULL, ": task run ",
                            name, " crashed with ", what,
                            "; the run is lost with this worker: fix the "
                            "task (run it under gdb or valgrind)\n" };
    char num[16];
    int r = crash_rank, k = (int)sizeof(num);

    num[--k] = '\0';
    do {
        num[--k] = (char)('0' + r % 10);
        r /= 10;
    } while (r && k > 0);
    parts[1] = num + k;
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
        for (const char *p = parts[i]; *p && n < sizeof(msg); p++)
            msg[n++] = *p;
    if (write(STDERR_FILENO, msg, n) < 0) {
        /* nothing more can be done */
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void catch_crashes(int rank)
{
    static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
    struct sigaction sa;

    crash_rank = rank;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
        sigaction(sigs[i], &sa, NULL);
}

static void run_task(struct worker *wk, struct wtask *t)
{
    const struct pd_task_def *def = loader_task((int)t->def);
    char name[128];
    struct taskrun_req req = {
        .def = def, .name = name, .rank = wk->c->rank, .args = t->args,
        .nargs = t->nargs, .timeout_s = def->timeout_s,
    };
    struct taskrun_out out = { 0 };

    snprintf(name, sizeof(name), "%s-%u", def->name, t->seq);
    running_name = name;
    for (req.attempt = 1;; req.attempt++) {
        if (taskrun_attempt(&req, &out) == 0 || req.attempt > def->retries)
            break;
        log_msg(PD_WARNING, name, "attempt %d failed: %s; retry %d/%d "
                "in %g s", req.attempt, out.message, req.attempt,
                def->retries, def->retry_delay_s);
        pd__sleep(def->retry_delay_s);
    }
    t->state = (uint8_t)out.state;
    t->attempts = (uint8_t)(req.attempt > 255 ? 255 : req.attempt);
    t->runtime_us = out.runtime_s * 1e6 > UINT32_MAX
                        ? UINT32_MAX : (uint32_t)(out.runtime_s * 1e6);
    free(t->message);
    t->message = out.message;
    t->result = out.result;
    running_name = NULL;
}

static void *executor_main(void *arg)
{
    struct worker *wk = arg;
    struct wtask *t;

    if (wk->o->topo) {
        pthread_mutex_lock(&wk->bind_mu);
        int core = wk->o->bind_first + wk->next_core++;
        pthread_mutex_unlock(&wk->bind_mu);
        topo_bind_thread(wk->o->topo, core);
    }
    while ((t = queue_pop_wait(&wk->ready))) {
        run_task(wk, t);
        if (queue_push(&wk->done, t, t, 1))
            comm_kick(wk->c);
    }
    return NULL;
}

/* ------------------------------------------------------------ comm side */

static void free_task(struct wtask *t)
{
    while (t->owned) {
        struct blob *b = t->owned;
        t->owned = b->next;
        free(b);
    }
    if (t->msg && --t->msg->refs == 0) {
        free(t->msg->data);
        free(t->msg);
    }
    buf_free(&t->result);
    free(t->message);
    free(t);
}

/* Queue t, ended on the comm thread, for the next report. */
static void ended_local(struct worker *wk, struct wtask *t)
{
    t->next = wk->local;
    wk->local = t;
}

/* Run t on the comm thread itself: a lone short run, or no executors. */
static void run_here(struct worker *wk, struct wtask *t)
{
    run_task(wk, t);
    ended_local(wk, t);
}

/* End t on the comm thread without running it. */
static void fail_local(struct worker *wk, struct wtask *t, const char *msg)
{
    if (!t->message)
        t->message = pd__xstrdup(msg);
    t->state = PD_FAILED;
    ended_local(wk, t);
}

static void ask_fetch(struct worker *wk, int rank, uint64_t id,
                      struct wtask *t, int slot)
{
    struct proto_fetch fe = { id, (uint64_t)(uintptr_t)t, (uint32_t)slot };

    proto_put_fetch(batch_add(&wk->fetch[rank]), &fe);
    t->nwait++;
}

/* Fill t->args from the packed args; inputs on other ranks are asked for.
 * On a bad input t->message is set (and fetches already asked still come
 * back to on_data, which ends the run). */
static void resolve_args(struct worker *wk, struct wtask *t,
                         const struct proto_task *pt)
{
    struct rd r = rd_init(pt->args, pt->argslen);
    char msg[256];

    for (int i = 0; i < t->nargs; i++) {
        uint64_t id = 0;
        int32_t rank = -1;
        if (proto_get_value(&r, &t->args[i], &id, &rank) != 0) {
            t->message = pd__xstrdup("malformed arguments from the "
                                     "scheduler");
            return;
        }
        if ((int)t->args[i].kind != WIRE_REF)
            continue;
        if (rank != wk->c->rank) {
            ask_fetch(wk, rank, id, t, i);
            continue;
        }
        const struct store_entry *e = store_get(&wk->store, id);
        struct rd vr = e ? rd_init(e->data, e->len) : rd_init(NULL, 0);
        if (!e || proto_get_value(&vr, &t->args[i], &id, &rank) != 0) {
            snprintf(msg, sizeof(msg), "input %d (task run id %" PRIu64
                     ") is not on rank %d where it was made", i + 1, id,
                     wk->c->rank);
            t->message = pd__xstrdup(msg);
            return;
        }
    }
}

static void on_tasks(struct worker *wk, uint8_t *data, size_t len)
{
    struct rd r = rd_init(data, len);
    uint32_t n = proto_get_count(&r);
    struct msgbuf *mb = pd__xmalloc(sizeof(*mb));
    struct wtask *head = NULL, *tail = NULL;
    int nready = 0;

    mb->refs = 1;
    mb->data = data;
    for (uint32_t i = 0; i < n; i++) {
        struct proto_task pt;
        if (proto_get_task(&r, &pt) != 0 || pt.def >= (uint32_t)wk->o->ndefs) {
            log_msg(PD_ERROR, "pdask-mpi", "rank %d: malformed task batch "
                    "from the scheduler", wk->c->rank);
            break;
        }
        struct wtask *t = pd__xcalloc(1, sizeof(*t) +
                                             pt.nargs * sizeof(pd_value));
        t->id = pt.id;
        t->def = (uint32_t)wk->o->def_of[pt.def];
        t->seq = pt.seq;
        t->nargs = (int)pt.nargs;
        t->msg = mb;
        mb->refs++;
        resolve_args(wk, t, &pt);
        if (t->nwait)
            continue;  /* on_data goes on when the inputs arrive */
        if (t->message) {
            fail_local(wk, t, t->message);
            continue;
        }
        /* A lone short run (a chain's next link) costs less here than the
         * wake-up of an executor; not one whose retries would sleep. */
        if ((n == 1 && (pt.flags & TASK_SHORT) &&
             loader_task((int)t->def)->retries == 0) || !wk->nthreads) {
            run_here(wk, t);
            continue;
        }
        if (tail)
            tail->next = t;
        else
            head = t;
        tail = t;
        nready++;
    }
    if (head)
        queue_push(&wk->ready, head, tail, nready);
    if (--mb->refs == 0) {
        free(mb->data);
        free(mb);
    }
}

/* Answer a TAG_FETCH from src with what the store holds. */
static void on_fetch(struct worker *wk, int src, struct rd *r)
{
    uint32_t n = proto_get_count(r);
    struct proto_data d;

    for (uint32_t i = 0; i < n; i++) {
        if (proto_get_fetch(r, &d.f) != 0)
            break;
        const struct store_entry *e = store_get(&wk->store, d.f.id);
        d.packed = e ? e->data : NULL;
        d.len = e ? (uint32_t)e->len : 0;
        d.err = e ? NULL : "not in this rank's store (freed or never made)";
        proto_put_data(batch_add(&wk->data[src]), &d);
    }
}

/* A fetched input arrived: keep a copy in its run, queue the run when it
 * has all its inputs. */
static void on_data(struct worker *wk, int src, struct rd *r)
{
    uint32_t n = proto_get_count(r);
    struct proto_data d;

    for (uint32_t i = 0; i < n; i++) {
        if (proto_get_data(r, &d) != 0)
            break;
        struct wtask *t = (struct wtask *)(uintptr_t)d.f.cookie;
        t->nwait--;
        if (d.err) {
            char msg[512];
            snprintf(msg, sizeof(msg), "input %u could not be fetched from "
                     "rank %d: %s", d.f.slot + 1, src, d.err);
            free(t->message);
            t->message = pd__xstrdup(msg);
        } else {
            struct blob *b = pd__xmalloc(sizeof(*b) + d.len);
            uint64_t id;
            int32_t rank;
            memcpy(b->data, d.packed, d.len);
            b->next = t->owned;
            t->owned = b;
            struct rd vr = rd_init(b->data, d.len);
            proto_get_value(&vr, &t->args[d.f.slot], &id, &rank);
        }
        if (t->nwait > 0)
            continue;
        if (t->message) {
            fail_local(wk, t, t->message);
        } else if (!wk->nthreads) {
            run_here(wk, t);
        } else {
            queue_push(&wk->ready, t, t, 1);
        }
    }
}

static void on_free(struct worker *wk, struct rd *r)
{
    uint32_t n = proto_get_count(r), freed = 0;
    for (uint32_t i = 0; i < n && !r->bad; i++)
        freed += store_drop(&wk->store, rd_u64(r)) == 0;
    if (log_enabled(PD_DEBUG))
        log_msg(PD_DEBUG, "pdask-mpi", "rank %d: freed %u results; %zu "
                "results (%zu bytes) held", wk->c->rank, freed,
                wk->store.count, wk->store.bytes);
}

/* Report ended runs to the scheduler in one TAG_DONE; keep big results. */
static int drain_done(struct worker *wk)
{
    struct wtask *t = queue_take_all(&wk->done), *next;
    struct buf b = { 0 };
    uint32_t n = 0;

    if (wk->local) {
        struct wtask *last = wk->local;
        while (last->next)
            last = last->next;
        last->next = t;
        t = wk->local;
        wk->local = NULL;
    }
    if (!t)
        return 0;
    proto_begin(&b);
    for (; t; t = next) {
        struct proto_done d = {
            .id = t->id, .state = t->state, .attempts = t->attempts,
            .runtime_us = t->runtime_us, .message = t->message,
        };
        next = t->next;
        if (t->state == PD_COMPLETED) {
            d.size = t->result.len;
            d.inline_v = t->result.data;
            if (d.size > PROTO_INLINE_MAX) {
                store_put(&wk->store, t->id, t->result.data, t->result.len);
                t->result.data = NULL;
                t->result.len = t->result.cap = 0;
            }
        }
        proto_put_done(&b, &d);
        wk->recent_s = pd__ema(wk->recent_s, t->runtime_us * 1e-6);
        n++;
        free_task(t);
    }
    proto_set_count(&b, n);
    comm_send(wk->c, 0, TAG_DONE, &b);
    return 1;
}

/* Send the TAG_DATA and TAG_FETCH messages built this round. */
static void flush_batches(struct worker *wk)
{
    for (int r = 0; r < wk->c->size; r++) {
        comm_send_batch(wk->c, r, TAG_DATA, &wk->data[r]);
        comm_send_batch(wk->c, r, TAG_FETCH, &wk->fetch[r]);
    }
}

/* Handle one message; false when it says stop. */
static bool handle(struct worker *wk, int src, int tag, uint8_t *data,
                   size_t len)
{
    struct rd r = rd_init(data, len);

    switch (tag) {
    case TAG_TASKS:
        on_tasks(wk, data, len);  /* takes data */
        return true;
    case TAG_FETCH:
        on_fetch(wk, src, &r);
        break;
    case TAG_DATA:
        on_data(wk, src, &r);
        break;
    case TAG_FREE:
        on_free(wk, &r);
        break;
    case TAG_STOP:
        free(data);
        return false;
    default:
        log_msg(PD_ERROR, "pdask-mpi", "rank %d: unexpected message tag %d "
                "from rank %d ignored", wk->c->rank, tag, src);
    }
    free(data);
    return true;
}

int worker_run(struct comm *c, const struct worker_opts *o)
{
    struct worker wk = { .c = c, .o = o };
    pthread_t *th = pd__xcalloc((size_t)o->threads, sizeof(*th));
    bool running = true;

    catch_crashes(c->rank);
    queue_init(&wk.ready);
    queue_init(&wk.done);
    store_init(&wk.store);
    pthread_mutex_init(&wk.bind_mu, NULL);
    wk.data = pd__xcalloc((size_t)c->size, sizeof(*wk.data));
    wk.fetch = pd__xcalloc((size_t)c->size, sizeof(*wk.fetch));
    for (int i = 0; i < o->threads; i++) {
        if (pthread_create(&th[i], NULL, executor_main, &wk) != 0)
            break;
        wk.nthreads++;
    }
    if (wk.nthreads < o->threads)
        log_msg(PD_WARNING, "pdask-mpi", "rank %d: started %d of %d executor "
                "threads (out of threads or memory)%s", c->rank, wk.nthreads,
                o->threads, wk.nthreads ? "" : "; running tasks on the comm "
                "thread");

    while (running) {
        int src, tag, got = 0, busy;
        uint8_t *data;
        size_t len;

        while (running && got < 64 &&
               comm_recv(c, &src, &tag, &data, &len)) {
            running = handle(&wk, src, tag, data, len);
            got++;
        }
        busy = got + drain_done(&wk);
        flush_batches(&wk);
        busy += comm_progress(c);
        if (busy)
            comm_busy(c);
        else if (running)
            comm_idle(c, wk.recent_s, MAX_SLEEP_S);
    }

    pthread_mutex_lock(&wk.ready.mu);
    wk.ready.stopping = true;
    pthread_cond_broadcast(&wk.ready.cv);
    pthread_mutex_unlock(&wk.ready.mu);
    for (int i = 0; i < wk.nthreads; i++)
        pthread_join(th[i], NULL);
    comm_flush(c);

    for (int r = 0; r < c->size; r++) {
        buf_free(&wk.data[r].b);
        buf_free(&wk.fetch[r].b);
    }
    free(wk.data);
    free(wk.fetch);
    free(th);
    store_destroy(&wk.store);
    queue_destroy(&wk.ready);
    queue_destroy(&wk.done);
    pthread_mutex_destroy(&wk.bind_mu);
    return 0;
}
