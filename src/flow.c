/* flow.c - the flow thread's side of the API: pd_submit, pd_wait,
 * pd_result and friends. Requests go to the scheduler through f->reqs. */
#define _GNU_SOURCE /* dladdr */
#include "flow.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "loader.h"
#include "log.h"
#include "protocol.h"
#include "util.h"

static const char *const state_names[] = {
    "Pending", "Running", "Completed", "Failed", "NotReady", "Crashed",
    "Cancelled",
};

PD_API const char *pd_state_name(enum pd_state s)
{
    return (unsigned)s < ARRAY_SIZE(state_names) ? state_names[s] : "Unknown";
}

PD_API const char *pd_strerror(int err)
{
    switch (err) {
#define PD__STRERROR_GEN(name, code, msg) case PD_##name: return msg;
        PD_ERR_MAP(PD__STRERROR_GEN)
#undef PD__STRERROR_GEN
    case 0:
        return "success";
    }
    return "unknown error";
}

PD_API pd_value pd_str(const char *s)
{
    pd_value v = { .kind = PD_STR, .s = s ? s : "" };
    v.len = strlen(v.s);
    return v;
}

__thread const char *flow_in_task;

/* The flow thread's own run, for the parameter-error callback alone (it
 * takes no argument); futures find their flow through their graph. */
static __thread struct pd_flow *self;

/* A bad parameter stops the flow function where it stands. */
static void on_param_error(void)
{
    self->usage_error = true;
    pthread_exit(NULL);
}

void flow_init(struct pd_flow *f, uint32_t run, const struct module *mod,
               const struct pd_flow_def *def, const char *name,
               const pd_params *params, struct comm *c)
{
    memset(f, 0, sizeof(*f));
    f->magic = PD_FLOW_MAGIC;
    f->run = run;
    f->mod = mod;
    graph_init(&f->g, mod);
    f->def = def;
    f->name = name && *name ? name : def->name;
    f->params = params;
    f->comm = c;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    store_init(&f->names, true);
    f->profiles = pd__xcalloc(PROFILE_MAX, sizeof(*f->profiles));
    atomic_store(&f->nprofiles, 1);
}

void flow_destroy(struct pd_flow *f)
{
    graph_destroy(&f->g);
    store_destroy(&f->names);
    for (int i = 1; i < atomic_load(&f->nprofiles); i++) {
        free(f->profiles[i]->workers);
        free(f->profiles[i]->res);
        free(f->profiles[i]->res_text);
        free(f->profiles[i]);
    }
    free(f->profiles);
    free(f->anns);
    free(f->reqs);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    f->magic = 0;
}

struct pd_flow *flow_of(const struct pd_future *t)
{
    struct graph *g = graph_of(t);
    return g ? container_of(g, struct pd_flow, g) : NULL;
}

/* A flow handle the API may use, or NULL after logging why not. */
static struct pd_flow *check_flow(pd_flow *f, const char *fn)
{
    if (flow_in_task) {
        log_msg(PD_ERROR, flow_in_task, "%s() called from inside a task: "
                "tasks cannot submit or wait for task runs (nested "
                "submission is not supported yet); return a value and let "
                "the flow submit the next task", fn);
        return NULL;
    }
    if (!f || f->magic != PD_FLOW_MAGIC) {
        log_error("%s(): %s is not a flow run: pass the pd_flow * that the "
                  "flow function received", fn, f ? "the pointer" : "NULL");
        return NULL;
    }
    return f;
}

static void push_req(struct pd_flow *f, enum req_kind kind,
                     struct pd_future *t)
{
    bool first;

    pthread_mutex_lock(&f->mu);
    if (f->nreq == f->reqcap) {
        f->reqcap = f->reqcap ? f->reqcap * 2 : 1024;
        f->reqs = pd__xrealloc(f->reqs, f->reqcap * sizeof(*f->reqs));
    }
    f->reqs[f->nreq].kind = kind;
    f->reqs[f->nreq].t = t;
    first = f->nreq++ == 0;
    pthread_mutex_unlock(&f->mu);
    /* Only the first request of a batch needs to wake the scheduler: it
     * takes them all at once. */
    if (first && f->comm)
        comm_kick(f->comm);
}

size_t flow_take_reqs(struct pd_flow *f, struct req **out)
{
    size_t n;

    pthread_mutex_lock(&f->mu);
    n = f->nreq;
    *out = f->reqs;
    f->reqs = NULL;
    f->nreq = f->reqcap = 0;
    pthread_mutex_unlock(&f->mu);
    return n;
}

/* The loads here and the scheduler's stores that end a wait (state,
 * fetch, nended) are all seq_cst, and so are both sides' accesses to
 * flow_waiting: the flow thread stores the flag then reads the states, the
 * scheduler stores a state then reads the flag, and one of them sees the
 * other's store (Dekker, without fences ThreadSanitizer cannot follow). */
static bool is_final(const struct pd_future *t)
{
    return graph_state_final(atomic_load(&t->state));
}

static bool is_fetched(const struct pd_future *t)
{
    return atomic_load(&t->fetch) >= FETCH_DONE;
}

/* Whether what the flow thread waits for has happened. */
static bool wait_over(struct pd_flow *f)
{
    switch (atomic_load(&f->wait_kind)) {
    case WAIT_FINAL:
        return is_final(atomic_load(&f->wait_run));
    case WAIT_FETCH:
        return is_fetched(atomic_load(&f->wait_run));
    default:
        return atomic_load(&f->g.nended) >= atomic_load(&f->wait_all);
    }
}

void flow_notify(struct pd_flow *f)
{
    /* seq_cst, after the state stores: see is_final. */
    if (!atomic_load(&f->flow_waiting) || !wait_over(f))
        return;
    pthread_mutex_lock(&f->mu);
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* Block the flow thread until the wait described by kind, t, n is over. */
static void wait_for(struct pd_flow *f, enum wait_kind kind,
                     struct pd_future *t, uint64_t n)
{
    atomic_store(&f->wait_kind, kind);
    atomic_store(&f->wait_run, t);
    atomic_store(&f->wait_all, n);
    if (wait_over(f))
        return;
    pthread_mutex_lock(&f->mu);
    atomic_store(&f->flow_waiting, true); /* seq_cst: see is_final */
    while (!wait_over(f))
        pthread_cond_wait(&f->cv, &f->mu);
    atomic_store(&f->flow_waiting, false);
    pthread_mutex_unlock(&f->mu);
}

/* Describe fn for a message: its symbol name when dladdr finds one. */
static const char *fn_name(pd_task_fn *fn, char *buf, size_t n)
{
    Dl_info info;
    void *p;

    memcpy(&p, &fn, sizeof(p));
    if (dladdr(p, &info) && info.dli_sname && info.dli_saddr == p)
        snprintf(buf, n, "%s()", info.dli_sname);
    else
        snprintf(buf, n, "the function at %p", p);
    return buf;
}

/* Pack the args into t; a message in err and false when one is bad. */
static bool pack_args(struct pd_flow *f, struct pd_future *t, int nargs,
                      const pd_value *args, char *err, size_t errlen)
{
    struct buf b = { 0 };
    bool ok = true;

    for (int i = 0; i < nargs && ok; i++) {
        const pd_value *v = &args[i];
        uint64_t up = 0;
        int rc;

        if (v->kind == PD_FUTURE) {
            if (flow_of(v->f) != f) {
                snprintf(err, errlen, "argument %d is not a future of this "
                         "flow: pass pd_dep(f) with f from pd_submit", i + 1);
                ok = false;
                break;
            }
            if (!(v->f->fflags & FLOW_HOLDS)) {
                snprintf(err, errlen, "argument %d: the flow released %s "
                         "with pd_release(); release a future only after "
                         "the runs that depend on it are submitted", i + 1,
                         pd_future_name(v->f));
                ok = false;
                break;
            }
            up = v->f->id;
            t->flags |= RUN_HAS_DEPS;
        }
        rc = proto_put_value(&b, v, up);
        if (rc) {
            snprintf(err, errlen, "argument %d: %s (kind %d)", i + 1,
                     pd_strerror(rc), (int)v->kind);
            ok = false;
        }
    }
    if (ok && b.len > PROTO_MAX_MSG - 256) {
        snprintf(err, errlen, "arguments take %zu bytes in all, over the "
                 "limit of %zu: pass a path to the data instead", b.len,
                 (size_t)PROTO_MAX_MSG - 256);
        ok = false;
    }
    if (ok && b.len) {
        t->args = pd__xmemdup(b.data, b.len);
        t->argslen = (uint32_t)b.len;
        t->nargs = (uint32_t)nargs;
    }
    buf_free(&b);
    return ok;
}

/* ---- annotations ---- */

/* A bad annotation is a usage error, as a bad parameter is: one message
 * naming it, exit 2, nothing more submitted. */
static void check_annotation(struct pd_flow *f, const struct pd_annotations *a)
{
    char err[400] = "";
    struct res_set set;
    int *ranks = NULL, n;

    if (a->isolation && strcmp(a->isolation, "thread") &&
        strcmp(a->isolation, "process"))
        snprintf(err, sizeof(err), "isolation = \"%s\": write \"thread\" "
                 "or \"process\"", a->isolation);
    else if (a->workers)
        flow_parse_workers(a->workers, &ranks, &n, err, sizeof(err));
    if (!err[0] && a->resources)
        res_parse(a->resources, RES_REQUEST, &set, err, sizeof(err));
    free(ranks);
    if (!err[0])
        return;
    snprintf(f->usage, sizeof(f->usage), "flow %s: PD_ANNOTATE (or "
             "pd_annotate_push) %s: fix the annotation", f->name, err);
    if (self == f) {
        f->usage_error = true;
        pthread_exit(NULL);
    }
}

PD_API void pd_annotate_push(pd_flow *f, const struct pd_annotations *a)
{
    struct pd_annotations in = { 0 }, *top;

    if (!(f = check_flow(f, "pd_annotate_push")))
        return;
    if (f->nanns == f->anncap) {
        f->anncap = f->anncap ? f->anncap * 2 : 8;
        f->anns = pd__xrealloc(f->anns, sizeof(*f->anns) * f->anncap);
    }
    top = &f->anns[f->nanns];
    *top = f->nanns ? f->anns[f->nanns - 1] : in;
    if (!a)
        a = &in;
    /* Set fields win; unset ones keep the outer value. */
    if (a->priority)
        top->priority = a->priority;
    if (a->retries)
        top->retries = a->retries;
    if (a->isolation)
        top->isolation = a->isolation;
    if (a->workers) {
        top->workers = a->workers;
        top->allow_other_workers = a->allow_other_workers;
    }
    if (a->resources)
        top->resources = a->resources;
    f->nanns++;
    f->anngen++;
    check_annotation(f, a);
}

PD_API void pd_annotate_pop(pd_flow *f)
{
    if (!(f = check_flow(f, "pd_annotate_pop")))
        return;
    if (f->nanns == 0) {
        log_msg(PD_WARNING, f->name, "pd_annotate_pop() without a "
                "pd_annotate_push(): ignored");
        return;
    }
    f->nanns--;
    f->anngen++;
}

int flow_parse_workers(const char *s, int **out, int *n, char *err,
                         size_t errlen)
{
    const char *p = s;
    int cap = 0;

    *out = NULL;
    *n = 0;
    while (*p) {
        char *end;
        long lo = strtol(p, &end, 10), hi;
        if (end == p || lo < 1 || lo > 1 << 20)
            goto bad;
        hi = lo;
        if (*end == '-') {
            p = end + 1;
            hi = strtol(p, &end, 10);
            if (end == p || hi < lo || hi > 1 << 20)
                goto bad;
        }
        for (long r = lo; r <= hi; r++) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 4;
                *out = pd__xrealloc(*out, sizeof(**out) * (size_t)cap);
            }
            (*out)[(*n)++] = (int)r;
        }
        if (*end == ',' && end[1])
            end++;
        else if (*end)
            goto bad;
        p = end;
    }
    if (*n)
        return 0;
bad:
    free(*out);
    *out = NULL;
    *n = 0;
    snprintf(err, errlen, "workers = \"%s\": write worker ranks (1 and "
             "up) like \"1,3\" or \"2-4\"", s);
    return PD_EINVAL;
}

static bool profile_equal(const struct profile *a, const struct profile *b)
{
    return a->retries == b->retries && a->isolation == b->isolation &&
           a->allow_other == b->allow_other && a->nworkers == b->nworkers &&
           (!a->nworkers || memcmp(a->workers, b->workers,
                                   sizeof(int) * (size_t)a->nworkers) == 0) &&
           !a->res == !b->res &&
           (!a->res || strcmp(a->res_text, b->res_text) == 0);
}

/* The profile of a run of def under the annotations in force, and its
 * priority: 0 (no profile) or an id; -1 with a message in err. */
static int run_profile(struct pd_flow *f, const struct pd_task_def *def,
                       int32_t *priority, char *err, size_t errlen)
{
    const struct pd_annotations *a = f->nanns ? &f->anns[f->nanns - 1]
                                              : NULL;
    struct profile p = { .retries = -1 };
    const char *iso = a && a->isolation ? a->isolation : NULL;
    const char *workers = a && a->workers ? a->workers : def->workers;
    const char *res = a && a->resources ? a->resources : def->resources;
    struct res_set set;
    int n;

    *priority = a && a->priority ? a->priority : def->priority;
    if (a && a->retries)
        p.retries = a->retries < 0 ? 0 : a->retries;
    if (iso && strcmp(iso, "thread") && strcmp(iso, "process")) {
        snprintf(err, errlen, "isolation = \"%s\": write \"thread\" or "
                 "\"process\"", iso);
        return -1;
    }
    if (iso)
        p.isolation = strcmp(iso, "process") == 0 ? PROFILE_ISO_PROCESS
                                                  : PROFILE_ISO_THREAD;
    if (workers) {
        if (flow_parse_workers(workers, &p.workers, &p.nworkers, err,
                          errlen) != 0)
            return -1;
        p.allow_other = a && a->workers ? a->allow_other_workers
                                        : def->allow_other_workers;
    }
    if (res && *res) {
        if (res_parse(res, RES_REQUEST, &set, err, errlen) != 0) {
            free(p.workers);
            return -1;
        }
        p.res = pd__xmemdup(&set, sizeof(set));
        p.res_text = pd__xstrdup(res);
    }
    if (p.retries < 0 && !p.isolation && !p.nworkers && !p.res)
        return 0;
    n = atomic_load(&f->nprofiles);
    for (int i = 1; i < n; i++) {
        if (profile_equal(f->profiles[i], &p)) {
            free(p.workers);
            free(p.res);
            free(p.res_text);
            return i;
        }
    }
    if (n == PROFILE_MAX) {
        free(p.workers);
        free(p.res);
        free(p.res_text);
        snprintf(err, errlen, "more than %d different annotations in one "
                 "flow run", PROFILE_MAX - 1);
        return -1;
    }
    f->profiles[n] = pd__xmemdup(&p, sizeof(p));
    atomic_store(&f->nprofiles, n + 1);
    return n;
}

/* What pd_submit gives when it has no flow to make a future in: Failed,
 * with the reason. */
static struct pd_future invalid_future = {
    .state = PD_FAILED,
    .message = (char *)"pd_submit was called without a valid flow run",
};
static struct pd_future nested_future = {
    .state = PD_FAILED,
    .message = (char *)"pd_submit was called from inside a task: nested "
                       "submission is not supported yet",
};

static bool is_static(const struct pd_future *t)
{
    return t == &invalid_future || t == &nested_future;
}

PD_API pd_future *pd_submitv(pd_flow *f, pd_task_fn *fn, int nargs,
                             const pd_value *args)
{
    int def;
    struct pd_future *t;
    char err[256], name[128];

    if (!(f = check_flow(f, "pd_submit")))
        return flow_in_task ? &nested_future : &invalid_future;
    def = loader_task_index(f->mod, fn);
    t = graph_new(&f->g, def < 0 ? UINT32_MAX : (uint32_t)def);
    if (!t) {
        log_msg(PD_ERROR, f->name, "pd_submit: more than %llu task runs in "
                "one flow run: split the work into several flow runs",
                (unsigned long long)GRAPH_MAX_RUNS);
        return &invalid_future;
    }
    f->nsubmitted++;
    if (def < 0) {
        snprintf(err, sizeof(err), "pd_submit: %s is not a task: declare it "
                 "with PD_TASK(fn) in the flow's .so",
                 fn_name(fn, name, sizeof(name)));
        t->flags |= RUN_BAD;
        t->message = pd__xstrdup(err);
    } else if (nargs < 0 || (nargs > 0 && !args) ||
               !pack_args(f, t, nargs, args, err, sizeof(err))) {
        if (nargs < 0 || (nargs > 0 && !args))
            snprintf(err, sizeof(err), "pd_submitv: nargs is %d with args "
                     "%s", nargs, args ? "given" : "NULL");
        t->flags |= RUN_BAD;
        t->message = pd__xstrdup(err);
    } else {
        int p;
        /* The same task under the same annotations as the last submit:
         * the same profile, without parsing its strings again. */
        if (f->last.gen == f->anngen && f->last.def == def && f->last.ok) {
            p = f->last.profile;
            t->priority = f->last.priority;
        } else {
            p = run_profile(f, f->mod->tasks[def], &t->priority, err,
                            sizeof(err));
            f->last.gen = f->anngen;
            f->last.def = def;
            f->last.ok = p >= 0;
            f->last.profile = p;
            f->last.priority = t->priority;
        }
        if (p < 0) {
            t->flags |= RUN_BAD;
            t->message = pd__xstrdup(err);
        } else {
            t->profile = (uint16_t)p;
        }
    }
    if (t->flags & RUN_BAD)
        log_msg(PD_ERROR, graph_run_name(&f->g, t, name, sizeof(name)),
                "cannot submit: %s", t->message);
    push_req(f, REQ_SUBMIT, t);
    return t;
}

PD_API pd_future *pd__submit(pd_flow *f, pd_task_fn *fn, const pd_value *args)
{
    int n = 0;
    while (args && args[n].kind != PD__KIND_END)
        n++;
    return pd_submitv(f, fn, n, args);
}

PD_API int pd_wait(pd_future *t)
{
    struct pd_flow *f = flow_of(t);

    if (!f)
        return is_static(t) ? PD_EFAILED : PD_EINVAL;
    if (!check_flow(f, "pd_wait"))
        return PD_EINVAL;
    wait_for(f, WAIT_FINAL, t, 0);
    return graph_state_err(atomic_load(&t->state));
}

PD_API int pd_result(pd_future *t, pd_value *out)
{
    int rc = pd_wait(t);
    struct rd r;
    uint64_t id;
    int32_t w;

    if (rc)
        return rc;
    if (!atomic_load_explicit(&t->value, memory_order_acquire)) {
        struct pd_flow *f = flow_of(t);
        if (atomic_load(&t->fetch) == FETCH_NONE) {
            atomic_store(&t->fetch, FETCH_ASKED);
            push_req(f, REQ_FETCH, t);
        }
        wait_for(f, WAIT_FETCH, t, 0);
        if (atomic_load(&t->fetch) == FETCH_LOST)
            return PD_ELOST;
    }
    r = rd_init(atomic_load(&t->value), t->size);
    if (out && proto_get_value(&r, out, &id, &w) != 0)
        return PD_ELOST;
    return 0;
}

PD_API enum pd_state pd_state(const pd_future *t)
{
    if (is_static(t))
        return PD_FAILED;
    return flow_of(t) ? (enum pd_state)atomic_load(&t->state) : PD_PENDING;
}

PD_API const char *pd_message(const pd_future *t)
{
    if (is_static(t))
        return t->message;
    return flow_of(t) && (is_final(t) || is_fetched(t)) ? t->message : NULL;
}

PD_API const char *pd_future_name(const pd_future *t)
{
    struct pd_flow *f = flow_of(t);
    char buf[160];

    if (!f)
        return is_static(t) ? "invalid" : "(not a future)";
    /* Made once, on the flow thread; freed with the flow. */
    const struct store_entry *e = store_get(&f->names, t->id);
    if (e)
        return (const char *)e->data;
    graph_run_name(&f->g, t, buf, sizeof(buf));
    store_put(&f->names, t->id, (uint8_t *)pd__xstrdup(buf),
              strlen(buf) + 1);
    return (const char *)store_get(&f->names, t->id)->data;
}

PD_API void pd_release(pd_future *t)
{
    struct pd_flow *f = flow_of(t);

    if (!f || !(t->fflags & FLOW_HOLDS))
        return;
    t->fflags &= ~FLOW_HOLDS;
    push_req(f, REQ_RELEASE, t);
}

PD_API int pd_wait_all(pd_flow *f)
{
    if (!(f = check_flow(f, "pd_wait_all")))
        return PD_EINVAL;
    wait_for(f, WAIT_ALL, NULL, f->nsubmitted);
    return atomic_load(&f->g.first_err);
}

PD_API void pd_flow_log(pd_flow *f, enum pd_level level, const char *fmt,
                        ...)
{
    va_list ap;

    if (!fmt || !(f = check_flow(f, "pd_flow_log")))
        return;
    va_start(ap, fmt);
    log_vmsg(level, f->name, fmt, ap);
    va_end(ap);
}

/* Runs the flow, waits for its task runs, then tells the scheduler. A bad
 * parameter ends the thread early through on_param_error(). */
static void flow_finish(void *arg)
{
    struct pd_flow *f = arg;
    pd_wait_all(f);
    atomic_store(&f->flow_done, true);
    if (f->comm)
        comm_kick(f->comm);
}

void *flow_thread_main(void *arg)
{
    struct pd_flow *f = arg;

    self = f;
    f->params->st->on_error = on_param_error;
    pthread_cleanup_push(flow_finish, f);
    f->flow_rc = f->def->fn(f, f->params);
    if (f->nanns)
        log_msg(PD_WARNING, f->name, "%d annotation%s still in force when "
                "the flow function returned (a return or goto out of a "
                "PD_ANNOTATE block?): dropped", f->nanns,
                f->nanns == 1 ? " was" : "s were");
    f->nanns = 0;
    pthread_cleanup_pop(1);
    return NULL;
}
