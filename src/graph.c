/* graph.c - see graph.h. */
#include "graph.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "protocol.h"
#include "ready.h"
#include "util.h"

#define CHUNK_BITS 12
#define CHUNK (1u << CHUNK_BITS)
#define MAX_CHUNKS (GRAPH_MAX_RUNS / CHUNK)

/* Records come in chunks that know their graph, so a future leads back to
 * its flow run without a pointer in every record. */
struct chunk {
    struct graph *g;
    struct pd_future runs[CHUNK];
};

void graph_init(struct graph *g, const struct module *mod)
{
    int ntasks = mod ? mod->ntasks : 1;

    memset(g, 0, sizeof(*g));
    g->chunks = pd__xcalloc(MAX_CHUNKS, sizeof(*g->chunks));
    g->mod = mod;
    ready_init(&g->ready);
    g->nseqs = ntasks;
    g->seqs = pd__xcalloc((size_t)ntasks + 1, sizeof(*g->seqs));
}

void graph_destroy(struct graph *g)
{
    uint64_t n = atomic_load(&g->nruns);
    for (uint64_t i = 0; i < n; i++) {
        struct pd_future *t = graph_get(g, i);
        free(t->down);
        free(t->args);
        free(atomic_load(&t->value));
        free(t->message);
        t->magic = 0;
    }
    for (uint64_t c = 0; c < (n + CHUNK - 1) / CHUNK; c++)
        free(g->chunks[c]);
    free(g->chunks);
    free(g->seqs);
    ready_destroy(&g->ready);
    free(g->stack);
    free(g->tofree);
    free(g->bad);
    memset(g, 0, sizeof(*g));
}

struct pd_future *graph_new(struct graph *g, uint32_t def)
{
    uint64_t id = atomic_load_explicit(&g->nruns, memory_order_relaxed);
    uint64_t c = id >> CHUNK_BITS;
    struct pd_future *t;

    if (c >= MAX_CHUNKS)
        return NULL;
    if (!g->chunks[c]) {
        g->chunks[c] = pd__xmalloc(sizeof(struct chunk));
        g->chunks[c]->g = g;
    }
    t = &g->chunks[c]->runs[id & (CHUNK - 1)];
    memset(t, 0, sizeof(*t));
    t->id = id;
    t->magic = PD_FUTURE_MAGIC;
    t->def = def;
    t->seq = def < (uint32_t)g->nseqs ? g->seqs[def]++ : g->seqs[g->nseqs]++;
    t->worker = -1;
    t->refs = 1;
    t->fflags = FLOW_HOLDS;
    atomic_store_explicit(&g->nruns, id + 1, memory_order_release);
    return t;
}

struct pd_future *graph_get(struct graph *g, uint64_t id)
{
    if (id >= atomic_load_explicit(&g->nruns, memory_order_acquire))
        return NULL;
    return &g->chunks[id >> CHUNK_BITS]->runs[id & (CHUNK - 1)];
}

struct graph *graph_of(const struct pd_future *t)
{
    const struct chunk *c;

    if (!t || t->magic != PD_FUTURE_MAGIC)
        return NULL;
    c = (const struct chunk *)((const char *)(t - (t->id & (CHUNK - 1))) -
                               offsetof(struct chunk, runs));
    return c->g;
}

const char *graph_run_name(const struct graph *g, const struct pd_future *t,
                           char *buf, size_t n)
{
    if (g->mod && t->def < (uint32_t)g->mod->ntasks)
        snprintf(buf, n, "%s-%u", g->mod->tasks[t->def]->name, t->seq);
    else if (!g->mod && t->def != UINT32_MAX)
        snprintf(buf, n, "task%u-%u", t->def, t->seq);
    else
        snprintf(buf, n, "not-a-task-%u", t->seq);
    return buf;
}

int graph_state_err(enum pd_state s)
{
    switch (s) {
    case PD_COMPLETED:
        return 0;
    case PD_NOTREADY:
        return PD_ENOTREADY;
    case PD_CRASHED:
        return PD_ECRASHED;
    case PD_CANCELLED:
        return PD_ECANCELLED;
    default:
        return PD_EFAILED;
    }
}

struct pd_future *graph_peek(struct graph *g)
{
    return ready_peek(&g->ready);
}

struct pd_future *graph_pop(struct graph *g)
{
    return ready_pop(&g->ready);
}

/* ---- references on results ---- */

/* Tell t's worker to free its copy once nobody can ask for it: rank 0
 * holds small results itself (and any result a journal brought), so only
 * runs still fetching them count. */
static void maybe_free(struct graph *g, struct pd_future *t)
{
    if (t->worker < 0 || t->wrefs ||
        atomic_load(&t->state) != PD_COMPLETED ||
        (t->size > PROTO_INLINE_MAX && !atomic_load(&t->value) && t->refs))
        return;
    if (g->nfree + 2 > g->freecap) {
        g->freecap = g->freecap ? g->freecap * 2 : 256;
        g->tofree = pd__xrealloc(g->tofree, g->freecap * sizeof(uint64_t));
    }
    g->tofree[g->nfree++] = (uint64_t)t->worker;
    g->tofree[g->nfree++] = t->id;
    t->worker = -1;
}

void graph_value_here(struct graph *g, struct pd_future *t)
{
    maybe_free(g, t);
}

size_t graph_take_free(struct graph *g, uint64_t **pairs)
{
    size_t n = g->nfree / 2;
    *pairs = g->tofree;
    g->nfree = 0;
    return n;
}

size_t graph_take_bad(struct graph *g, struct pd_future ***runs)
{
    size_t n = g->nbad;
    *runs = g->bad;
    g->nbad = 0;
    return n;
}

void graph_unref(struct graph *g, struct pd_future *t)
{
    assert(t->refs > 0);
    t->refs--;
    maybe_free(g, t);
}

void graph_unwref(struct graph *g, struct pd_future *t)
{
    assert(t->wrefs > 0);
    t->wrefs--;
    maybe_free(g, t);
}

struct up_iter graph_up_begin(const struct pd_future *t)
{
    struct up_iter it = { rd_init(t->args, t->argslen),
                          (t->flags & RUN_HAS_DEPS) ? t->nargs : 0 };
    return it;
}

struct pd_future *graph_up_next(struct graph *g, struct up_iter *it)
{
    pd_value v;
    uint64_t id = 0;
    int32_t w;

    while (it->left > 0) {
        it->left--;
        if (proto_get_value(&it->r, &v, &id, &w) != 0)
            break;
        if ((int)v.kind == WIRE_FUTURE)
            return graph_get(g, id);
    }
    it->left = 0;
    return NULL;
}

static void drop_down(struct pd_future *t)
{
    free(t->down);
    t->down = NULL;
    t->ndown = 0;
}

/* Mark t final; the caller has set value or message. */
static void finish(struct graph *g, struct pd_future *t, enum pd_state s)
{
    if (s == PD_COMPLETED) {
        g->ncompleted++;
    } else {
        int none = 0;
        atomic_compare_exchange_strong(&g->first_err, &none,
                                       graph_state_err(s));
        atomic_fetch_add(&g->nfailed, 1);
        if (g->nbad == g->badcap) {
            g->badcap = g->badcap ? g->badcap * 2 : 64;
            g->bad = pd__xrealloc(g->bad, g->badcap * sizeof(*g->bad));
        }
        g->bad[g->nbad++] = t;
    }
    /* seq_cst: the flow thread's wake-up depends on it (flow.c). */
    atomic_store(&t->state, s);
    atomic_fetch_add(&g->nended, 1);
    if (t->flags & RUN_LINKED) {
        struct up_iter it = graph_up_begin(t);
        struct pd_future *u;
        t->flags &= ~RUN_LINKED;
        while ((u = graph_up_next(g, &it)))
            graph_unref(g, u);
    }
}

/* End d NotReady because upstream run u did not complete. */
static void not_ready(struct graph *g, struct pd_future *d,
                      const struct pd_future *u)
{
    char name[128], buf[256];

    snprintf(buf, sizeof(buf), "upstream task run %s did not complete (%s)",
             graph_run_name(g, u, name, sizeof(name)),
             pd_state_name(atomic_load(&u->state)));
    free(d->message);
    d->message = pd__xstrdup(buf);
    finish(g, d, PD_NOTREADY);
}

/* End every unended run downstream of failed run t as NotReady. */
static void propagate_notready(struct graph *g, struct pd_future *t)
{
    g->nstack = 0;
    for (;;) {
        for (uint32_t i = 0; i < t->ndown; i++) {
            struct pd_future *d = t->down[i];
            if (graph_state_final(atomic_load(&d->state)))
                continue;
            not_ready(g, d, t);
            if (g->nstack == g->stackcap) {
                g->stackcap = g->stackcap ? g->stackcap * 2 : 64;
                g->stack = pd__xrealloc(g->stack,
                                        g->stackcap * sizeof(*g->stack));
            }
            g->stack[g->nstack++] = d;
        }
        drop_down(t);
        if (!g->nstack)
            break;
        t = g->stack[--g->nstack];
    }
}

/* End t in a bad final state with msg, and everything downstream. */
static void end_bad(struct graph *g, struct pd_future *t, enum pd_state s,
                    const char *msg)
{
    assert(!graph_state_final(atomic_load(&t->state)));
    free(t->message);
    t->message = pd__xstrdup(msg);
    finish(g, t, s);
    propagate_notready(g, t);
}

void graph_fail(struct graph *g, struct pd_future *t, const char *msg)
{
    end_bad(g, t, PD_FAILED, msg);
}

/* The first upstream of t that ended without completing, or NULL. */
static struct pd_future *bad_upstream(struct graph *g, struct pd_future *t)
{
    struct up_iter it = graph_up_begin(t);
    struct pd_future *u;

    while ((u = graph_up_next(g, &it))) {
        enum pd_state s = atomic_load(&u->state);
        if (graph_state_final(s) && s != PD_COMPLETED)
            return u;
    }
    return NULL;
}

void graph_add(struct graph *g, struct pd_future *t)
{
    struct up_iter it = graph_up_begin(t);
    struct pd_future *u;

    if (t->flags & RUN_BAD) {
        finish(g, t, PD_FAILED);
        return;
    }
    u = bad_upstream(g, t);
    if (u) {
        not_ready(g, t, u);
        return;
    }
    while ((u = graph_up_next(g, &it))) {
        enum pd_state s = atomic_load(&u->state);
        u->refs++;
        if (graph_state_final(s))
            continue;
        /* Linked while it can still fail; pending while not sent. */
        /* Full at 0 and at every power of two from 2: double. */
        if (u->ndown < 2 ? u->ndown == 0 : !(u->ndown & (u->ndown - 1)))
            u->down = pd__xrealloc(u->down, (u->ndown ? 2 * u->ndown : 2) *
                                                sizeof(*u->down));
        u->down[u->ndown++] = t;
        t->npending += s == PD_PENDING;
    }
    if (t->flags & RUN_HAS_DEPS)
        t->flags |= RUN_LINKED;
    if (t->npending == 0)
        ready_push(&g->ready, t);
}

void graph_dispatched(struct graph *g, struct pd_future *t, int w)
{
    assert(atomic_load(&t->state) == PD_PENDING);
    t->worker = w;
    t->flags |= RUN_SENT;
    atomic_store_explicit(&t->state, PD_RUNNING, memory_order_relaxed);
    for (uint32_t i = 0; i < t->ndown; i++) {
        struct pd_future *d = t->down[i];
        if (!graph_state_final(atomic_load(&d->state)) &&
            --d->npending == 0)
            ready_push(&g->ready, d);
    }
}

void graph_end(struct graph *g, struct pd_future *t, enum pd_state state,
               const void *value, const char *msg)
{
    assert(!graph_state_final(atomic_load(&t->state)));
    if (state != PD_COMPLETED) {
        end_bad(g, t, state, msg ? msg : "failed");
        return;
    }
    if (value)
        atomic_store(&t->value, pd__xmemdup(value, t->size));
    drop_down(t);
    finish(g, t, PD_COMPLETED);
    maybe_free(g, t);
}

uint64_t graph_end_all(struct graph *g, enum pd_state s, const char *msg)
{
    uint64_t n = atomic_load(&g->nruns), ended = 0;

    for (uint64_t i = 0; i < n; i++) {
        struct pd_future *t = graph_get(g, i);
        if (graph_state_final(atomic_load(&t->state)))
            continue;
        free(t->message);
        t->message = pd__xstrdup(msg);
        drop_down(t);
        finish(g, t, s);
        ended++;
    }
    return ended;
}
