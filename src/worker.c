/* worker.c - see worker.h.
 *
 * The comm thread unpacks task runs and resolves their inputs: from the
 * local store, from a run still being made here (the run waits for it),
 * or fetched from the worker making or holding it (which answers when it
 * has it). Runs with all their inputs go to the executors; what ends is
 * reported to the scheduler in one TAG_DONE per round. Every result stays
 * here until the scheduler frees it. Executors sleep on a condition
 * variable when there is nothing to run; user code never runs on the comm
 * thread, so a task that blocks holds up nobody but itself. */
#define _DEFAULT_SOURCE /* on_exit */
#define _XOPEN_SOURCE 700 /* sigaltstack */
#include "worker.h"

#include <assert.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flow.h"
#include "fwd.h"
#include "tcplink.h"
#include "loader.h"
#include "log.h"
#include "protocol.h"
#include "report.h"
#include "store.h"
#include "exec.h"
#include "pexec.h"
#include "taskrun.h"
#include "topology.h"
#include "util.h"

/* An idle worker still answers fetches for results it holds: its sleep
 * is the latency of those. */
#define MAX_SLEEP_S 10e-3
/* Sleep caps while runs are here (their reports kick this thread awake)
 * and while a run waits for a fetched input (nothing kicks). */
#define BUSY_SLEEP_S 200e-6
#define FETCH_SLEEP_S 30e-6
/* Runs shorter than SHORT_S on average make an idle executor yield-spin
 * SPIN_S before it sleeps. */
#define SHORT_S 50e-6
#define SPIN_S 30e-6

/* A received TAG_TASKS buffer, shared by the runs it carries. */
struct msgbuf {
    int refs;
    uint8_t *data;
};

/* A received message whose bytes runs borrow: fetched inputs are used
 * where they arrived, not copied. */
struct blob {
    struct blob *next;
    struct msgbuf *mb;
};

/* A run here that waits for another run's result (input slot). */
struct waiter {
    struct waiter *next;
    struct wtask *t;
    int slot;
};

/* A fetch from another worker that waits for a result being made here,
 * or for a TAG_TASKS message not received yet. */
struct parked {
    struct parked *next;
    struct peer from;
    struct proto_fetch f;
};

/* The tasks of one flow run: in a job, the one module every rank loaded;
 * in a served cluster, the module its client's TAG_LOAD named (two
 * clients may use tasks of one name from different modules). Kept until
 * exit once made: executors hold pointers to it. */
struct wflow {
    uint32_t run;
    struct module *mod;
    int *def_of;            /* the client's task index -> local index */
    int ndefs;
    uint32_t tasks_seq;     /* its TAG_TASKS messages received */
    _Atomic bool dropped;   /* its client left: runs not started are
                               Cancelled, results not kept */
    uint32_t live;          /* its runs here, not yet reported */
    uint8_t hash[LINK_HASH];
    struct wflow *next;
};

struct wtask {
    struct wtask *next;
    struct wflow *fl;       /* its flow run's tasks */
    int32_t priority;       /* higher first in the ready queue */
    int32_t retries;        /* -1: the task's own */
    uint32_t flags;         /* TASK_* */
    uint32_t run;
    uint64_t id;
    uint32_t def;           /* local task index */
    uint32_t seq;
    struct msgbuf *msg;
    struct blob *owned;
    int nwait;              /* inputs not here yet */
    uint32_t slot;          /* in the fetch table while fetching, + 1 */
    uint8_t state;          /* outcome */
    uint8_t attempts;
    uint16_t thread;        /* executor that ran it */
    uint64_t start_us, end_us; /* wall clock around its attempts */
    uint32_t runtime_us;
    struct buf result;      /* packed result */
    char *message;
    struct waiter *waiters; /* comm thread: runs here waiting for this */
    struct parked *parked;  /* comm thread: fetches waiting for this */
    const uint8_t *holds;   /* resources it holds, in msg (proto_task) */
    uint32_t holdslen;
    int nargs;
    pd_value args[];
};

struct queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct wtask *head, *tail;
    int sleepers;
    bool stopping;
    _Atomic unsigned pushes;  /* bumped by every push: spinners watch it */
};

/* A thread task with a timeout, while it runs: the comm thread warns once
 * when it runs past the limit (a thread cannot be stopped safely). */
struct overrun {
    char name[128];
    double start, limit;    /* limit 0: the slot is free */
    bool warned;
};

struct worker {
    struct comm *c;
    const struct worker_opts *o;
    struct queue ready;     /* comm -> executors */
    struct queue done;      /* executors -> comm */
    struct wtask *local;    /* ended on the comm thread without running */
    struct store results;   /* store_key(run, id) -> packed result */
    struct store failed;    /* store_key(run, id) -> why it did not
                               complete, for late fetches */
    struct store here;      /* store_key(run, id) -> wtask, received and
                               not yet reported */
    struct wtask **fetching; /* runs waiting for fetched inputs, by slot */
    uint32_t *gen;          /* slot generations: a cookie is slot, gen */
    uint32_t nslots, *freeslots, nfree;
    struct parked *early;   /* fetches naming a TAG_TASKS not yet here */
    struct wflow job;       /* a job's flow run (o->mod), any run id */
    struct wflow *flows;    /* a served cluster's, newest first */
    struct wflow *retired;  /* dropped ones whose runs are still here;
                               unloaded after the last (unload) */
    struct batch *data;     /* TAG_DATA replies being built, by rank */
    struct batch *fetch;    /* TAG_FETCH requests being built, by rank */
    int npeers;             /* ranks of endpoint 0 */
    uint64_t nrun;          /* runs received, not reported */
    uint64_t nfetch;        /* inputs asked for, not arrived */
    int next_core;          /* binding cursor for executors */
    double recent_s;        /* mean run time of recent runs */
    _Atomic bool short_runs; /* recent_s < SHORT_S: executors spin */
    double told;            /* when rank 0 last heard from this one */
    int nthreads;           /* executors running */
    struct overrun *overruns; /* by executor, under bind_mu */
    double overrun_check;   /* when the comm thread last looked */
    pthread_mutex_t bind_mu;
    struct fwd fwd;         /* task output to rank 0, when on */
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
    if (head == tail && q->tail && (head->fl != q->tail->fl ||
                                    head->priority > q->tail->priority)) {
        /* Before the first run of its flow run with lower priority: ties
         * keep their order. Priorities order one flow's runs, never two
         * flows' (a served cluster): between flows the queue stays in
         * arrival order, and each client's window on the worker is
         * bounded, so no flow waits behind another's whole backlog. */
        struct wtask **p = &q->head;
        while (*p && ((*p)->fl != head->fl ||
                      (*p)->priority >= head->priority))
            p = &(*p)->next;
        head->next = *p;
        *p = head;
        if (!head->next)
            q->tail = head;
    } else if (q->tail) {
        q->tail->next = head;
        q->tail = tail;
    } else {
        q->head = head;
        q->tail = tail;
    }
    atomic_fetch_add_explicit(&q->pushes, 1, memory_order_relaxed);
    if (q->sleepers)
        n > 1 ? pthread_cond_broadcast(&q->cv) : pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return was_empty;
}

/* Executors: the next run, waiting for one; NULL when stopping. When
 * runs are short, first yield-spin up to spin_s for one: the next link of
 * a chain is due within microseconds, sooner than a wake-up. */
static struct wtask *queue_pop_wait(struct queue *q, double spin_s)
{
    struct wtask *t;

    pthread_mutex_lock(&q->mu);
    if (!q->head && !q->stopping && spin_s > 0) {
        unsigned seen = atomic_load_explicit(&q->pushes,
                                             memory_order_relaxed);
        double end = pd__now() + spin_s;
        pthread_mutex_unlock(&q->mu);
        while (atomic_load_explicit(&q->pushes, memory_order_relaxed) ==
                   seen && pd__now() < end)
            sched_yield();
        pthread_mutex_lock(&q->mu);
    }
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
/* Where crash reports go: stderr, or the saved one while fd 2 is the
 * pipe of forwarded output (fwd.h), which nobody reads once we die. */
static int crash_fd = STDERR_FILENO;
/* That pipe's read end (or -1): what tasks wrote last goes out first. */
static int crash_pipe = -1;

/* A task run that crashes takes its worker down (unless it runs in its own
 * process); say which run it was before the default action ends the rank.
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
    if (crash_pipe >= 0) {
        fwd_flush_partial();
        fwd_dump(crash_pipe, crash_fd);
    }
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
        for (const char *p = parts[i]; *p && n < sizeof(msg); p++)
            msg[n++] = *p;
    if (write(crash_fd, msg, n) < 0) {
        /* nothing more can be done */
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* A task that calls exit() ends its worker with that code (Open MPI then
 * ends the job): name the run first. Runs in the exiting thread, so
 * running_name is the task's when a task called it. */
static void on_task_exit(int status, void *arg)
{
    (void)arg;
    if (!running_name)
        return;
    if (crash_pipe >= 0) {
        fflush(stdout);
        fflush(stderr);
        fwd_flush_partial();
        fwd_dump(crash_pipe, crash_fd);
    }
    dprintf(crash_fd, "pdask-mpi: error: rank %d: task run %s called "
            "exit(%d), which ends its worker and the job; return an error "
            "from the task instead, or give it .isolation = \"process\"\n",
            crash_rank, running_name, status);
}

static void catch_crashes(int rank)
{
    static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
    struct sigaction sa;

    crash_rank = rank;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_crash;
    /* On the thread's alternate stack: a stack overflow is named too. */
    sa.sa_flags = SA_RESETHAND | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
        sigaction(sigs[i], &sa, NULL);
    on_exit(on_task_exit, NULL);
}

/* This executor thread's process executor, made on first use. */
static __thread struct executor *proc_exec;
static __thread uint64_t proc_mod; /* the serial of the module it loaded */
/* This executor thread's overrun slot, and its number. */
static __thread struct overrun *my_overrun;
static __thread int my_index;

static void overrun_set(struct worker *wk, const char *name, double limit)
{
    if (!my_overrun)
        return;
    pthread_mutex_lock(&wk->bind_mu);
    snprintf(my_overrun->name, sizeof(my_overrun->name), "%s", name);
    my_overrun->start = pd__now();
    my_overrun->limit = limit;
    my_overrun->warned = false;
    pthread_mutex_unlock(&wk->bind_mu);
}

/* Comm thread, a few times a second: warn about thread tasks past their
 * timeout_s. */
static void warn_overruns(struct worker *wk)
{
    double now = pd__now();

    if (now - wk->overrun_check < 0.1 || !wk->overruns)
        return;
    wk->overrun_check = now;
    pthread_mutex_lock(&wk->bind_mu);
    for (int i = 0; i < wk->o->threads; i++) {
        struct overrun *o = &wk->overruns[i];
        if (o->limit <= 0 || o->warned || now - o->start <= o->limit)
            continue;
        o->warned = true;
        log_msg(PD_WARNING, o->name, "has run %.1f s, past its timeout_s of "
                "%g s; a task on a thread cannot be stopped safely, so it "
                "goes on: give the task .isolation = \"process\" to have it "
                "stopped at the limit", now - o->start, o->limit);
    }
    pthread_mutex_unlock(&wk->bind_mu);
}

/* Where runs of def go on this thread: a helper process when the task or
 * the cluster asks for isolation, else this thread. */
static struct executor *executor_for(struct worker *wk,
                                     const struct module *mod,
                                     const struct pd_task_def *def,
                                     uint32_t flags)
{
    const char *iso = flags & TASK_PROCESS  ? "process"
                      : flags & TASK_THREAD ? "thread"
                      : def->isolation      ? def->isolation
                                            : wk->o->isolation;

    if (!iso || strcmp(iso, "process") != 0)
        return exec_thread();
    if (proc_exec && proc_mod != mod->serial) { /* another module */
        exec_destroy(proc_exec);
        proc_exec = NULL;
    }
    if (!proc_exec) {
        struct pexec_opts po = { NULL, mod->path, 0, wk->fwd.on };
        proc_exec = pexec_new(&po);
        proc_mod = mod->serial;
    }
    return proc_exec;
}

/* A line about run `name`: in a served cluster it goes with the run's
 * forwarded output, so its client sees it (a job's workers share
 * mpirun's output with rank 0, so there it goes to stderr). */
static void run_log(struct worker *wk, enum pd_level lv, const char *name,
                    const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (!wk->o->mod && fwd_framing())
        fwd_vlog(lv, name, fmt, ap);
    else
        log_vmsg(lv, name, fmt, ap);
    va_end(ap);
}

/* Run t with its retries; a Crashed attempt (its helper died) is retried
 * like a Failed one. */
static void run_task(struct worker *wk, struct wtask *t)
{
    const struct pd_task_def *def = t->fl->mod->tasks[t->def];
    struct executor *ex = executor_for(wk, t->fl->mod, def, t->flags);
    int retries = t->retries >= 0 ? t->retries : def->retries;
    char name[128];
    struct exec_req req = { .run = {
        .def = def, .name = name, .rank = wk->c->rank, .args = t->args,
        .nargs = t->nargs, .timeout_s = def->timeout_s,
        .holds = t->holds, .holdslen = t->holdslen,
        .gpu_first = wk->o->gpu_first, .gpu_found = wk->o->gpu_found,
    } };
    struct taskrun_out out = { 0 };

    /* In a served cluster the flow run id goes first ("3/shout-4"): the
     * relay sends the run's output to its client by it, and strips it. */
    if (wk->o->mod)
        snprintf(name, sizeof(name), "%s-%u", def->name, t->seq);
    else
        snprintf(name, sizeof(name), "%u/%s-%u", t->run, def->name, t->seq);
    running_name = name;
    flow_in_task = name;
    if (def->timeout_s > 0 && ex == exec_thread())
        overrun_set(wk, name, def->timeout_s);
    t->thread = (uint16_t)my_index;
    fwd_set_run(name);
    t->start_us = report_now_us();
    for (req.run.attempt = 1;; req.run.attempt++) {
        if (exec_attempt(ex, &req, &out) == 0 || req.run.attempt > retries)
            break;
        run_log(wk, PD_WARNING, name, "attempt %d failed: %s; retry %d/%d "
                "in %g s", req.run.attempt, out.message, req.run.attempt,
                retries, def->retry_delay_s);
        pd__sleep(def->retry_delay_s);
    }
    t->end_us = report_now_us();
    /* Its output before its report. */
    fwd_flush_stdio();
    fwd_set_run(NULL);
    t->state = (uint8_t)out.state;
    t->attempts = (uint8_t)(req.run.attempt > 255 ? 255 : req.run.attempt);
    t->runtime_us = out.runtime_s * 1e6 > UINT32_MAX
                        ? UINT32_MAX : (uint32_t)(out.runtime_s * 1e6);
    free(t->message);
    t->message = out.message;
    t->result = out.result;
    running_name = NULL;
    flow_in_task = NULL;
    if (def->timeout_s > 0 && ex == exec_thread())
        overrun_set(wk, name, 0);
}

/* This thread's stack for the crash handler (sigaltstack is per thread);
 * freed by the caller. NULL when it cannot be had. */
static void *alt_stack(void)
{
    stack_t ss = { .ss_size = 64 * 1024 };

    ss.ss_sp = malloc(ss.ss_size);
    if (ss.ss_sp && sigaltstack(&ss, NULL) != 0) {
        free(ss.ss_sp);
        return NULL;
    }
    return ss.ss_sp;
}

static void alt_stack_free(void *p)
{
    stack_t ss = { .ss_flags = SS_DISABLE };

    if (!p)
        return;
    sigaltstack(&ss, NULL);
    free(p);
}

static void *executor_main(void *arg)
{
    struct worker *wk = arg;
    struct wtask *t;
    void *stack = alt_stack();

    pthread_mutex_lock(&wk->bind_mu);
    int index = wk->next_core++;
    my_overrun = &wk->overruns[index];
    my_index = index;
    pthread_mutex_unlock(&wk->bind_mu);
    if (wk->o->topo)
        topo_bind_thread(wk->o->topo, wk->o->bind_first + index);
    while ((t = queue_pop_wait(&wk->ready, atomic_load_explicit(
                &wk->short_runs, memory_order_relaxed) ? SPIN_S : 0))) {
        if (atomic_load(&t->fl->dropped)) {
            t->state = PD_CANCELLED;
            t->message = pd__xstrdup("cancelled: its client disconnected");
        } else {
            run_task(wk, t);
        }
        if (queue_push(&wk->done, t, t, 1))
            comm_kick(wk->c);
    }
    exec_destroy(proc_exec);
    proc_exec = NULL;
    alt_stack_free(stack);
    return NULL;
}

/* ------------------------------------------------------------ comm side */

static struct peer rank_peer(int rank)
{
    struct peer p = { 0, rank };
    return p;
}

static void msgbuf_drop(struct msgbuf *mb)
{
    if (--mb->refs == 0) {
        free(mb->data);
        free(mb);
    }
}

static void free_task(struct wtask *t)
{
    while (t->owned) {
        struct blob *b = t->owned;
        t->owned = b->next;
        msgbuf_drop(b->mb);
        free(b);
    }
    if (t->msg)
        msgbuf_drop(t->msg);
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

/* Hand t, whose inputs are all here, on: to the executors, or to the next
 * report if it cannot run. */
static void start(struct worker *wk, struct wtask *t)
{
    if (t->state == PD_NOTREADY || t->message) {
        if (t->state != PD_NOTREADY)
            t->state = PD_FAILED;
        ended_local(wk, t);
    } else if (!wk->nthreads) {
        run_task(wk, t); /* no executor could be started */
        ended_local(wk, t);
    } else {
        queue_push(&wk->ready, t, t, 1);
    }
}

/* Set t's outcome to "did not run" with msg, unless it has one already. */
static void spoil(struct wtask *t, uint8_t state, const char *msg)
{
    if (t->message)
        return;
    t->state = state;
    t->message = pd__xstrdup(msg);
}

/* A slot in the fetch table for t; the cookie names slot and generation,
 * so a duplicate or stale reply finds nothing instead of freed memory. */
static uint64_t fetch_cookie(struct worker *wk, struct wtask *t)
{
    uint32_t s;

    if (!t->slot) {
        if (wk->nfree) {
            s = wk->freeslots[--wk->nfree];
        } else {
            s = wk->nslots++;
            wk->fetching = pd__xrealloc(wk->fetching,
                                        wk->nslots * sizeof(*wk->fetching));
            wk->gen = pd__xrealloc(wk->gen, wk->nslots * sizeof(*wk->gen));
            wk->freeslots = pd__xrealloc(wk->freeslots,
                                         wk->nslots * sizeof(uint32_t));
            wk->gen[s] = 0;
        }
        wk->fetching[s] = t;
        t->slot = s + 1;
    }
    return (uint64_t)wk->gen[t->slot - 1] << 32 | (t->slot - 1);
}

/* The run a cookie names, or NULL when its fetches are over. */
static struct wtask *fetch_owner(struct worker *wk, uint64_t cookie)
{
    uint32_t s = (uint32_t)cookie, g = (uint32_t)(cookie >> 32);

    if (s >= wk->nslots || wk->gen[s] != g || !wk->fetching[s])
        return NULL;
    return wk->fetching[s];
}

static void fetch_done(struct worker *wk, struct wtask *t)
{
    uint32_t s = t->slot - 1;

    wk->fetching[s] = NULL;
    wk->gen[s]++;
    wk->freeslots[wk->nfree++] = s;
    t->slot = 0;
}

/* Decode a packed input into t's slot; false when it does not parse. */
static bool set_input(struct wtask *t, int slot, const uint8_t *p, size_t n)
{
    struct rd vr = rd_init(p, n);
    uint64_t id;
    int32_t w;

    return proto_get_value(&vr, &t->args[slot], &id, &w) == 0;
}

/* An input of t arrived or will not: t goes on when it has them all. */
static void input_done(struct worker *wk, struct wtask *t)
{
    if (--t->nwait > 0)
        return;
    if (t->slot)
        fetch_done(wk, t);
    start(wk, t);
}

static void ask_fetch(struct worker *wk, const struct proto_ref *ref,
                      struct wtask *t, int slot)
{
    struct proto_fetch fe = { t->run, ref->id, ref->seq,
                              fetch_cookie(wk, t), (uint32_t)slot };

    proto_put_fetch(comm_batch_add(wk->c, rank_peer((int)ref->worker),
                                   TAG_FETCH, &wk->fetch[ref->worker], 32),
                    &fe);
    t->nwait++;
    wk->nfetch++;
}

/* Input slot of t is run ref->id of this worker: here already, still
 * being made (t waits for it), or ended without a result. */
static void local_input(struct worker *wk, struct wtask *t, int slot,
                        const struct proto_ref *ref)
{
    uint64_t key = store_key(t->run, ref->id);
    const struct store_entry *e = store_get(&wk->results, key);
    struct wtask *u;
    char msg[256];

    if (e) {
        if (!set_input(t, slot, e->data, e->len))
            spoil(t, PD_FAILED, "malformed input in this rank's store");
        return;
    }
    if ((e = store_get(&wk->failed, key))) {
        spoil(t, PD_NOTREADY, (const char *)e->data);
        return;
    }
    u = (e = store_get(&wk->here, key)) ? (struct wtask *)(void *)e->data
                                         : NULL;
    if (u) {
        struct waiter *w = pd__xmalloc(sizeof(*w));
        w->t = t;
        w->slot = slot;
        w->next = u->waiters;
        u->waiters = w;
        t->nwait++;
        return;
    }
    snprintf(msg, sizeof(msg), "input %d (task run id %" PRIu64 ") is not "
             "on rank %d where it was made", slot + 1, ref->id,
             wk->c->rank);
    spoil(t, PD_FAILED, msg);
}

/* Fill t->args from the packed args; inputs on other ranks are asked for,
 * inputs still being made here are waited for. */
static void resolve_args(struct worker *wk, struct wtask *t,
                         const struct proto_task *pt)
{
    struct rd r = rd_init(pt->args, pt->argslen);

    for (int i = 0; i < t->nargs; i++) {
        struct proto_ref ref = { 0 };
        if (proto_get_value_ref(&r, &t->args[i], &ref) != 0) {
            spoil(t, PD_FAILED, "malformed arguments from the scheduler");
            return;
        }
        if ((int)t->args[i].kind != WIRE_REF)
            continue;
        if ((int)ref.worker == wk->c->rank)
            local_input(wk, t, i, &ref);
        else if ((int)ref.worker > 0 && (int)ref.worker < wk->npeers)
            ask_fetch(wk, &ref, t, i);
        else
            spoil(t, PD_FAILED, "input on an unknown rank");
    }
}

static void on_fetch(struct worker *wk, struct peer from,
                     const struct proto_fetch *f);
static void reply(struct worker *wk, struct peer to,
                  const struct proto_data *d);

/* Fetches that came before the TAG_TASKS they name: try them again. */
static void retry_early(struct worker *wk)
{
    struct parked *p = wk->early, *next;

    wk->early = NULL;
    for (; p; p = next) {
        next = p->next;
        on_fetch(wk, p->from, &p->f);
        free(p);
    }
}

/* ------------------------------------------------------------ flow runs */

/* The tasks of flow run `run`, or NULL when its client left. */
static struct wflow *wflow_of(struct worker *wk, uint32_t run)
{
    if (wk->o->mod)
        return &wk->job;
    for (struct wflow *fl = wk->flows; fl; fl = fl->next)
        if (fl->run == run)
            return fl;
    return NULL;
}

/* TAG_LOAD (served cluster): load the client's .so by path, if it is the
 * same build (content hash), and map its task table to this one's. The
 * answer, TAG_LOADED, says why not. */
static void on_load(struct worker *wk, struct peer from, struct rd *r)
{
    uint32_t run = rd_u32(r), n;
    const char *path = rd_str(r);
    const uint8_t *theirs = rd_take(r, LINK_HASH);
    uint8_t mine[LINK_HASH] = { 0 };
    char msg[1200] = "", err[1024], hm[2 * LINK_HASH + 1],
                     ht[2 * LINK_HASH + 1];
    struct wflow *fl = NULL;
    struct module *mod = NULL;
    struct buf b = { 0 };

    n = rd_u32(r);
    if (r->bad || !path || n > (size_t)(r->end - r->p)) {
        snprintf(msg, sizeof(msg), "malformed TAG_LOAD");
    } else if (link_hash_file(path, mine, err, sizeof(err)) != 0) {
        snprintf(msg, sizeof(msg), "cannot read the flow here: %s (workers "
                 "load the client's .so by its path: put it on a file "
                 "system every node sees)", err);
    } else if (memcmp(mine, theirs, LINK_HASH) != 0) {
        link_hex(mine, 8, hm);
        link_hex(theirs, 8, ht);
        snprintf(msg, sizeof(msg), "%s is another build here (content hash "
                 "%s..., the client's %s...): workers load the client's .so "
                 "by its path; give each build its own path, or wait until "
                 "the file is the same everywhere", path, hm, ht);
    } else {
        struct wflow *lists[] = { wk->flows, wk->retired };
        for (int k = 0; k < 2; k++) {
            for (fl = lists[k]; fl && !msg[0]; fl = fl->next) {
                if (strcmp(fl->mod->path, path) != 0 ||
                    memcmp(fl->hash, mine, LINK_HASH) == 0)
                    continue;
                link_hex(fl->hash, 8, hm);
                snprintf(msg, sizeof(msg), "another build of %s (content "
                         "hash %s...) is loaded in this worker already, and "
                         "a file cannot be loaded twice: give the new build "
                         "its own path", path, hm);
            }
        }
        if (!msg[0] && loader_open(path, &mod, err, sizeof(err)) != 0)
            snprintf(msg, sizeof(msg), "%s", err);
    }
    if (!msg[0]) {
        fl = pd__xcalloc(1, sizeof(*fl));
        fl->run = run;
        fl->mod = mod;
        fl->ndefs = (int)n;
        fl->def_of = pd__xcalloc(n + 1, sizeof(int));
        memcpy(fl->hash, mine, LINK_HASH);
        for (uint32_t i = 0; i < n && !msg[0]; i++) {
            const char *name = rd_str(r);
            fl->def_of[i] = name ? loader_task_by_name(mod, name) : -1;
            if (fl->def_of[i] < 0)
                snprintf(msg, sizeof(msg), "task %s of the client's %s is "
                         "not in that file here", name ? name : "?", path);
        }
        if (msg[0]) {
            loader_close(mod);
            free(fl->def_of);
            free(fl);
        } else {
            fl->next = wk->flows;
            wk->flows = fl;
        }
    }
    buf_u32(&b, run);
    buf_u8(&b, !msg[0]);
    buf_put(&b, mine, LINK_HASH);
    buf_str(&b, msg);
    comm_send(wk->c, from, TAG_LOADED, &b);
}

/* Drop a result from this rank's store; bytes a send still reads are
 * freed when it completes (comm_free_lent). */
static int drop_result(struct worker *wk, uint64_t key)
{
    uint8_t *data = store_take(&wk->results, key);

    if (!data)
        return -1;
    comm_free_lent(wk->c, data);
    return 0;
}

/* A dropped flow run's last run here was reported: unload its module, so
 * a long-lived cluster does not keep every client's .so, and a rebuild at
 * the same path can be loaded once no client of the old build is left. */
static void unload(struct worker *wk, struct wflow *fl)
{
    for (struct wflow **l = &wk->retired; *l; l = &(*l)->next)
        if (*l == fl) {
            *l = fl->next;
            break;
        }
    log_msg(PD_DEBUG, "pdask-mpi", "rank %d: flow run %u's last run ended; "
            "%s unloaded", wk->c->rank, fl->run, fl->mod->path);
    loader_close(fl->mod);
    free(fl->def_of);
    free(fl);
}

/* TAG_DROP: the client of a flow run left. Runs not started end
 * Cancelled (executors check), results are freed, fetches parked for its
 * messages are answered. */
static void on_drop(struct worker *wk, struct rd *r)
{
    uint32_t run = rd_u32(r);
    struct wflow *fl = wflow_of(wk, run);
    struct parked **pp = &wk->early;
    size_t freed = 0;

    if (!fl || fl == &wk->job || r->bad)
        return;
    atomic_store(&fl->dropped, true);
    /* Out of the lookups: a long-lived cluster serves many clients. */
    for (struct wflow **l = &wk->flows; *l; l = &(*l)->next)
        if (*l == fl) {
            *l = fl->next;
            break;
        }
    fl->next = wk->retired;
    wk->retired = fl;
    struct store *stores[] = { &wk->results, &wk->failed };
    for (int k = 0; k < 2; k++) {
        struct store *s = stores[k];
        uint64_t *ids = pd__xmalloc((s->count + 1) * sizeof(*ids));
        size_t n = 0;
        /* Keys first: a drop may move entries. */
        for (size_t i = 0; i < s->cap; i++)
            if (s->slots[i].data && (uint32_t)(s->slots[i].id >> 32) == run)
                ids[n++] = s->slots[i].id;
        for (size_t i = 0; i < n; i++)
            freed += (s == &wk->results ? drop_result(wk, ids[i])
                                        : store_drop(s, ids[i])) == 0;
        free(ids);
    }
    while (*pp) {
        struct parked *p = *pp;
        if (p->f.run != run) {
            pp = &p->next;
            continue;
        }
        struct proto_data d = { .f = p->f, .code = DATA_MISSING,
                                .err = "its client left" };
        *pp = p->next;
        reply(wk, p->from, &d);
        free(p);
    }
    log_msg(PD_DEBUG, "pdask-mpi", "rank %d: flow run %u dropped, %zu "
            "results freed", wk->c->rank, run, freed);
    if (!fl->live)
        unload(wk, fl);
}

static void on_tasks(struct worker *wk, uint8_t *data, size_t len)
{
    struct rd r = rd_init(data, len);
    uint32_t n = proto_get_count(&r);
    struct msgbuf *mb = pd__xmalloc(sizeof(*mb));

    mb->refs = 1;
    mb->data = data;
    for (uint32_t i = 0; i < n; i++) {
        struct proto_task pt;
        struct wflow *fl = NULL;
        if (proto_get_task(&r, &pt) == 0 && !(fl = wflow_of(wk, pt.run))) {
            log_msg(PD_DEBUG, "pdask-mpi", "rank %d: runs of flow run %u, "
                    "whose client left, ignored", wk->c->rank, pt.run);
            break;
        }
        /* One message holds one flow run's runs: count it once. */
        if (fl && i == 0)
            fl->tasks_seq++;
        if (!fl || pt.def >= (uint32_t)fl->ndefs) {
            log_msg(PD_ERROR, "pdask-mpi", "rank %d: malformed task batch "
                    "from the scheduler (%u of %u runs read)", wk->c->rank,
                    i, n);
            break;
        }
        struct wtask *t = pd__xcalloc(1, sizeof(*t) +
                                             pt.nargs * sizeof(pd_value));
        t->run = pt.run;
        t->fl = fl;
        fl->live++;
        t->priority = pt.priority;
        t->retries = pt.retries;
        t->flags = pt.flags;
        t->id = pt.id;
        t->def = (uint32_t)fl->def_of[pt.def];
        t->seq = pt.seq;
        t->nargs = (int)pt.nargs;
        t->holds = pt.holds;
        t->holdslen = pt.holdslen;
        t->msg = mb;
        mb->refs++;
        wk->nrun++;
        store_put(&wk->here, store_key(t->run, t->id), (uint8_t *)(void *)t,
                  0);
        /* Counted as one input until every argument has been looked at. */
        t->nwait = 1;
        resolve_args(wk, t, &pt);
        input_done(wk, t);
    }
    msgbuf_drop(mb);
    if (wk->early)
        retry_early(wk);
}

static void reply(struct worker *wk, struct peer to,
                  const struct proto_data *d)
{
    proto_put_data(comm_batch_add(wk->c, to, TAG_DATA, &wk->data[to.rank],
                                  d->len + 64), d);
}

/* A result of LEND_MIN bytes or more in this rank's store goes in a
 * TAG_DATA of its own, sent from the store (comm_send_lent) rather than
 * copied into the batch: moving 64 MiB took 13.4 ms with the copy, 8.6
 * without. Its bytes must then outlive the send: drop_result leaves them
 * to comm_free_lent. */
#define LEND_MIN (256u << 10)

static void reply_stored(struct worker *wk, struct peer to,
                         const struct proto_data *d)
{
    struct buf b = { 0 };

    if (d->code != DATA_OK || d->len < LEND_MIN) {
        reply(wk, to, d);
        return;
    }
    if (log_enabled(PD_DEBUG))
        log_msg(PD_DEBUG, "pdask-mpi", "rank %d: sending a result of %zu "
                "bytes to rank %d from its store", wk->c->rank, d->len,
                to.rank);
    proto_begin(&b);
    proto_put_data_head(&b, d);
    proto_set_count(&b, 1);
    comm_send_lent(wk->c, to, TAG_DATA, &b, d->packed, d->len);
}

static void park(struct parked **list, struct peer from,
                 const struct proto_fetch *f)
{
    struct parked *p = pd__xmalloc(sizeof(*p));
    p->from = from;
    p->f = *f;
    p->next = *list;
    *list = p;
}

/* Answer a fetch with what is here, or park it until it is. */
static void on_fetch(struct worker *wk, struct peer from,
                     const struct proto_fetch *f)
{
    uint64_t key = store_key(f->run, f->id);
    const struct store_entry *e = store_get(&wk->results, key);
    struct proto_data d = { .f = *f };

    if (e) {
        d.packed = e->data;
        d.len = e->len;
        reply_stored(wk, from, &d);
        return;
    } else if ((e = store_get(&wk->failed, key))) {
        d.code = DATA_NOTREADY;
        d.err = (const char *)e->data;
    } else if ((e = store_get(&wk->here, key))) {
        park(&((struct wtask *)(void *)e->data)->parked, from, f);
        return;
    } else if (wflow_of(wk, f->run) &&
               f->seq > wflow_of(wk, f->run)->tasks_seq) {
        park(&wk->early, from, f);
        return;
    } else {
        d.code = DATA_MISSING;
        d.err = "not in this rank's store (freed or never made)";
    }
    reply(wk, from, &d);
}

static void on_fetches(struct worker *wk, struct peer from, struct rd *r)
{
    uint32_t n = proto_get_count(r);
    struct proto_fetch f;

    for (uint32_t i = 0; i < n && proto_get_fetch(r, &f) == 0; i++)
        on_fetch(wk, from, &f);
}

/* Fetched inputs arrived: their runs borrow them from the message (which
 * this takes), and start when they have them all. */
static void on_data(struct worker *wk, struct peer from, uint8_t *data,
                    size_t len)
{
    struct rd rr = rd_init(data, len), *r = &rr;
    uint32_t n = proto_get_count(r);
    struct msgbuf *mb = pd__xmalloc(sizeof(*mb));
    struct proto_data d;
    char msg[512];

    mb->refs = 1;
    mb->data = data;
    for (uint32_t i = 0; i < n; i++) {
        if (proto_get_data(r, &d) != 0)
            break;
        struct wtask *t = fetch_owner(wk, d.f.cookie);
        if (!t || d.f.slot >= (uint32_t)t->nargs) {
            log_msg(PD_DEBUG, "pdask-mpi", "rank %d: a reply from rank %d "
                    "for no waiting run ignored", wk->c->rank, from.rank);
            continue;
        }
        wk->nfetch--;
        if (d.code == DATA_NOTREADY) {
            spoil(t, PD_NOTREADY, d.err ? d.err : "upstream failed");
        } else if (d.code != DATA_OK) {
            snprintf(msg, sizeof(msg), "input %u could not be fetched from "
                     "rank %d: %s", d.f.slot + 1, from.rank,
                     d.err ? d.err : "?");
            spoil(t, PD_FAILED, msg);
        } else {
            struct blob *b = pd__xmalloc(sizeof(*b));
            b->mb = mb;
            mb->refs++;
            b->next = t->owned;
            t->owned = b;
            if (!set_input(t, (int)d.f.slot, d.packed, d.len))
                spoil(t, PD_FAILED, "malformed input from another rank");
        }
        input_done(wk, t);
    }
    msgbuf_drop(mb);
}

static void on_free(struct worker *wk, struct rd *r)
{
    uint32_t n = proto_get_count(r), freed = 0, run;
    uint64_t id;

    for (uint32_t i = 0; i < n && proto_get_free(r, &run, &id) == 0; i++)
        freed += drop_result(wk, store_key(run, id)) == 0;
    if (log_enabled(PD_DEBUG))
        log_msg(PD_DEBUG, "pdask-mpi", "rank %d: freed %u results; %zu "
                "results (%zu bytes) held", wk->c->rank, freed,
                wk->results.count, wk->results.bytes);
}

/* t ended here: keep its result, and hand it (or why there is none) to
 * the runs and fetches waiting for it. */
static void settle(struct worker *wk, struct wtask *t, char *name,
                   size_t namelen)
{
    uint64_t key = store_key(t->run, t->id);
    struct proto_data d = { .code = DATA_OK };
    const char *why = NULL;

    store_drop(&wk->here, key);
    if (t->state == PD_COMPLETED) {
        d.packed = t->result.data;
        d.len = t->result.len;
    } else {
        /* Kept for fetches that come later, from runs sent before the
         * scheduler heard of this one. */
        const struct pd_task_def *def = t->fl->mod->tasks[t->def];
        snprintf(name, namelen, "upstream task run %s-%u did not complete "
                 "(%s)", def->name, t->seq, pd_state_name(t->state));
        why = name;
        store_put(&wk->failed, key, (uint8_t *)pd__xstrdup(why),
                  strlen(why) + 1);
        d.code = DATA_NOTREADY;
        d.err = why;
    }
    while (t->waiters) {
        struct waiter *w = t->waiters;
        t->waiters = w->next;
        if (why)
            spoil(w->t, PD_NOTREADY, why);
        else if (!set_input(w->t, w->slot, d.packed, d.len))
            spoil(w->t, PD_FAILED, "malformed input");
        input_done(wk, w->t);
        free(w);
    }
    while (t->parked) {
        struct parked *p = t->parked;
        t->parked = p->next;
        d.f = p->f;
        reply(wk, p->from, &d);
        free(p);
    }
}

/* Report ended runs to the scheduler in one TAG_DONE; keep their results
 * until the scheduler frees them. */
static int drain_done(struct worker *wk)
{
    struct wtask *t = queue_take_all(&wk->done), *next;
    struct buf b = { 0 };
    uint32_t n = 0;
    char why[256];

    proto_begin(&b);
    /* Runs that settle here may end others here: loop until none did. */
    while (t || wk->local) {
        if (!t) {
            t = wk->local;
            wk->local = NULL;
        }
        for (; t; t = next) {
            struct proto_done d = {
                .run = t->run, .id = t->id, .state = t->state,
                .attempts = t->attempts, .thread = t->thread,
                .start_us = t->start_us, .end_us = t->end_us,
                .runtime_us = t->runtime_us, .message = t->message,
            };
            next = t->next;
            settle(wk, t, why, sizeof(why));
            if (t->state == PD_COMPLETED) {
                d.size = t->result.len;
                d.inline_v = t->result.data;
                if (t->flags & TASK_INLINE)
                    d.flags = DONE_INLINE;
            }
            size_t more = 64 + (d.message ? strlen(d.message) : 0) +
                          (proto_done_inline(&d) ? d.size : 0);
            if (n && b.len + more > PROTO_MAX_MSG) {
                proto_set_count(&b, n);
                comm_send(wk->c, rank_peer(0), TAG_DONE, &b);
                proto_begin(&b);
                n = 0;
            }
            proto_put_done(&b, &d);
            if (t->state == PD_COMPLETED && !atomic_load(&t->fl->dropped)) {
                store_put(&wk->results, store_key(t->run, t->id),
                          t->result.data, t->result.len);
                t->result.data = NULL;
                t->result.len = t->result.cap = 0;
            }
            wk->recent_s = pd__ema(wk->recent_s, t->runtime_us * 1e-6);
            atomic_store_explicit(&wk->short_runs, wk->recent_s < SHORT_S,
                                  memory_order_relaxed);
            wk->nrun--;
            n++;
            struct wflow *fl = t->fl;
            free_task(t);
            if (--fl->live == 0 && atomic_load(&fl->dropped))
                unload(wk, fl);
        }
    }
    if (!n) {
        buf_free(&b);
        return 0;
    }
    proto_set_count(&b, n);
    comm_send(wk->c, rank_peer(0), TAG_DONE, &b);
    wk->told = pd__now();
    return 1;
}

/* Read what tasks wrote and send it on. False while lines wait to be
 * sent: ended runs are not reported then either, so rank 0 has a run's
 * lines before its end. */
static bool forward_output(struct worker *wk)
{
    if (!wk->fwd.on)
        return true;
    fwd_read(&wk->fwd);
    return fwd_send(&wk->fwd, wk->c, rank_peer(0));
}

/* A heartbeat when rank 0 has heard nothing from here for a while. */
static void beat(struct worker *wk)
{
    struct buf b = { 0 };
    double now = pd__now();

    if (now - wk->told < wk->o->beat_s)
        return;
    wk->told = now;
    buf_u32(&b, 0);
    comm_send(wk->c, rank_peer(0), TAG_BEAT, &b);
}

/* Send the TAG_DATA and TAG_FETCH messages built this round. */
static void flush_batches(struct worker *wk)
{
    for (int r = 0; r < wk->npeers; r++) {
        comm_send_batch(wk->c, rank_peer(r), TAG_DATA, &wk->data[r]);
        comm_send_batch(wk->c, rank_peer(r), TAG_FETCH, &wk->fetch[r]);
    }
}

/* Handle one message; false when it says stop. */
static bool handle(struct worker *wk, struct peer from, int tag,
                   uint8_t *data, size_t len)
{
    struct rd r = rd_init(data, len);

    switch (tag) {
    case TAG_TASKS:
        on_tasks(wk, data, len);  /* takes data */
        return true;
    case TAG_FETCH:
        on_fetches(wk, from, &r);
        break;
    case TAG_DATA:
        on_data(wk, from, data, len);  /* takes data */
        return true;
    case TAG_FREE:
        on_free(wk, &r);
        break;
    case TAG_LOAD:
        on_load(wk, from, &r);
        break;
    case TAG_DROP:
        on_drop(wk, &r);
        break;
    case TAG_STOP:
        free(data);
        return false;
    default:
        log_msg(PD_ERROR, "pdask-mpi", "rank %d: unexpected message tag %d "
                "from rank %d ignored", wk->c->rank, tag, from.rank);
    }
    free(data);
    return true;
}

static void worker_init(struct worker *wk, struct comm *c,
                        const struct worker_opts *o)
{
    memset(wk, 0, sizeof(*wk));
    wk->c = c;
    wk->o = o;
    wk->npeers = o->npeers;
    wk->job.mod = (struct module *)o->mod;
    wk->job.def_of = (int *)o->def_of;
    wk->job.ndefs = o->ndefs;
    queue_init(&wk->ready);
    queue_init(&wk->done);
    store_init(&wk->results, true);
    store_init(&wk->failed, true);
    store_init(&wk->here, false);
    pthread_mutex_init(&wk->bind_mu, NULL);
    wk->data = pd__xcalloc((size_t)wk->npeers, sizeof(*wk->data));
    wk->fetch = pd__xcalloc((size_t)wk->npeers, sizeof(*wk->fetch));
    wk->overruns = pd__xcalloc((size_t)o->threads + 1,
                               sizeof(*wk->overruns));
}

static void worker_destroy(struct worker *wk)
{
    if (log_enabled(PD_DEBUG))
        log_msg(PD_DEBUG, "pdask-mpi", "rank %d: holds %zu results (%zu "
                "bytes) at exit", wk->c->rank, wk->results.count,
                wk->results.bytes);
    for (int r = 0; r < wk->npeers; r++) {
        buf_free(&wk->data[r].b);
        buf_free(&wk->fetch[r].b);
    }
    while (wk->early) {
        struct parked *p = wk->early;
        wk->early = p->next;
        free(p);
    }
    while (wk->flows || wk->retired) {
        struct wflow **l = wk->flows ? &wk->flows : &wk->retired;
        struct wflow *fl = *l;
        *l = fl->next;
        loader_close(fl->mod);
        free(fl->def_of);
        free(fl);
    }
    free(wk->data);
    free(wk->fetch);
    free(wk->overruns);
    free(wk->fetching);
    free(wk->gen);
    free(wk->freeslots);
    store_destroy(&wk->results);
    store_destroy(&wk->failed);
    store_destroy(&wk->here);
    queue_destroy(&wk->ready);
    queue_destroy(&wk->done);
    pthread_mutex_destroy(&wk->bind_mu);
}

/* How long the comm thread may sleep now. */
static double sleep_cap(const struct worker *wk)
{
    if (wk->nfetch)
        return FETCH_SLEEP_S;
    if (wk->nrun)
        return BUSY_SLEEP_S;
    return wk->o->beat_s / 4 < MAX_SLEEP_S ? wk->o->beat_s / 4 : MAX_SLEEP_S;
}

int worker_run(struct comm *c, const struct worker_opts *o)
{
    struct worker wk;
    pthread_t *th = pd__xcalloc((size_t)o->threads, sizeof(*th));
    void *stack = alt_stack();
    bool running = true;

    catch_crashes(c->rank);
    worker_init(&wk, c, o);
    wk.told = pd__now();
    if (o->forward) {
        int rc = fwd_start(&wk.fwd);
        if (rc)
            log_msg(PD_WARNING, "pdask-mpi", "rank %d: task output stays "
                    "on this rank: cannot make its pipe (%s)", c->rank,
                    strerror(-rc));
        else
            crash_fd = wk.fwd.err_fd, crash_pipe = wk.fwd.rd;
    }
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
    if (!wk.nthreads) { /* the comm thread must never wait on the pipe */
        crash_fd = STDERR_FILENO, crash_pipe = -1;
        fwd_stop(&wk.fwd);
    }

    while (running) {
        int tag, got = 0, busy;
        struct peer from;
        uint8_t *data;
        size_t len;

        while (running && got < 64 &&
               comm_recv(c, &from, &tag, &data, &len)) {
            running = handle(&wk, from, tag, data, len);
            got++;
        }
        busy = got;
        if (forward_output(&wk))
            busy += drain_done(&wk);
        flush_batches(&wk);
        beat(&wk);
        warn_overruns(&wk);
        busy += comm_progress(c);
        if (busy)
            comm_busy(c);
        else if (running)
            comm_idle(c, wk.recent_s, sleep_cap(&wk));
    }

    pthread_mutex_lock(&wk.ready.mu);
    wk.ready.stopping = true;
    pthread_cond_broadcast(&wk.ready.cv);
    pthread_mutex_unlock(&wk.ready.mu);
    for (int i = 0; i < wk.nthreads; i++)
        pthread_join(th[i], NULL);
    crash_fd = STDERR_FILENO, crash_pipe = -1;
    fwd_stop(&wk.fwd);
    comm_flush(c, 1e9);
    free(th);
    worker_destroy(&wk);
    alt_stack_free(stack);
    return 0;
}
