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
#define MAX_CHUNKS (1u << 18) /* 2^30 task runs a flow */

enum { RUN_LINKED = 1 << 3 }; /* holds a reference on each upstream */

void graph_init(struct graph *g, int ntasks)
{
    memset(g, 0, sizeof(*g));
    g->chunks = pd__xcalloc(MAX_CHUNKS, sizeof(*g->chunks));
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

    if (c >= MAX_CHUNKS) {
        fprintf(stderr, "pdask-mpi: fatal: more than %u task runs in one "
                "flow\n", MAX_CHUNKS * CHUNK);
        abort();
    }
    if (!g->chunks[c])
        g->chunks[c] = pd__xmalloc(sizeof(struct pd_future) * CHUNK);
    t = &g->chunks[c][id & (CHUNK - 1)];
    memset(t, 0, sizeof(*t));
    t->id = id;
    t->def = def;
    t->seq = def < (uint32_t)g->nseqs ? g->seqs[def]++ : g->seqs[g->nseqs]++;
    t->rank = -1;
    t->refs = 1;
    t->flags = RUN_FLOW_HOLDS;
    atomic_store_explicit(&g->nruns, id + 1, memory_order_release);
    return t;
}

struct pd_future *graph_get(struct graph *g, uint64_t id)
{
    if (id >= atomic_load_explicit(&g->nruns, memory_order_acquire))
        return NULL;
    return &g->chunks[id >> CHUNK_BITS][id & (CHUNK - 1)];
}

const char *graph_run_name(const struct pd_future *t, char *buf, size_t n)
{
    if (t->def < (uint32_t)loader_ntasks())
        snprintf(buf, n, "%s-%u", loader_task((int)t->def)->name, t->seq);
    else
        snprintf(buf, n, "not-a-task-%u", t->seq);
    return buf;
}

struct pd_future *graph_peek(struct graph *g)
{
    return ready_peek(&g->ready);
}

struct pd_future *graph_pop(struct graph *g)
{
    return ready_pop(&g->ready);
}

static void queue(struct graph *g, struct pd_future *t)
{
    ready_push(&g->ready, t);
}

/* ---- references on results ---- */

static void push_free(struct graph *g, struct pd_future *t)
{
    if (g->nfree + 2 > g->freecap) {
        g->freecap = g->freecap ? g->freecap * 2 : 256;
        g->tofree = pd__xrealloc(g->tofree, g->freecap * sizeof(uint64_t));
    }
    g->tofree[g->nfree++] = (uint64_t)t->rank;
    g->tofree[g->nfree++] = t->id;
    t->rank = -1;
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
    if (--t->refs == 0 && atomic_load(&t->state) == PD_COMPLETED &&
        t->size > PROTO_INLINE_MAX && t->rank >= 0)
        push_free(g, t);
}

/* Iterates over the upstream runs named in a run's packed args. */
struct up_iter {
    struct rd r;
    uint32_t left;
};

static struct up_iter up_begin(const struct pd_future *t)
{
    struct up_iter it = { rd_init(t->args, t->argslen),
                          (t->flags & RUN_HAS_DEPS) ? t->nargs : 0 };
    return it;
}

static struct pd_future *up_next(struct graph *g, struct up_iter *it)
{
    pd_value v;
    uint64_t id = 0;
    int32_t rank;

    while (it->left > 0) {
        it->left--;
        if (proto_get_value(&it->r, &v, &id, &rank) != 0)
            break;
        if ((int)v.kind == WIRE_FUTURE)
            return graph_get(g, id);
    }
    it->left = 0;
    return NULL;
}

/* Mark t final; the caller has set value or message. */
static void finish(struct graph *g, struct pd_future *t, enum pd_state s)
{
    if (s == PD_COMPLETED) {
        g->ncompleted++;
    } else {
        atomic_fetch_add(&g->nfailed, 1);
        if (g->nbad == g->badcap) {
            g->badcap = g->badcap ? g->badcap * 2 : 64;
            g->bad = pd__xrealloc(g->bad, g->badcap * sizeof(*g->bad));
        }
        g->bad[g->nbad++] = t;
    }
    if (t->flags & RUN_LINKED) {
        struct up_iter it = up_begin(t);
        struct pd_future *u;
        while ((u = up_next(g, &it)))
            graph_unref(g, u);
        t->flags &= ~RUN_LINKED;
    }
    atomic_store_explicit(&t->state, s, memory_order_release);
    atomic_fetch_add_explicit(&g->nended, 1, memory_order_release);
}

/* End d NotReady because upstream run u did not complete. */
static void not_ready(struct graph *g, struct pd_future *d,
                      const struct pd_future *u)
{
    char name[128], buf[256];

    snprintf(buf, sizeof(buf), "upstream task run %s did not complete (%s)",
             graph_run_name(u, name, sizeof(name)),
             pd_state_name(atomic_load(&u->state)));
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
        free(t->down);
        t->down = NULL;
        t->ndown = t->downcap = 0;
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
    struct up_iter it = up_begin(t);
    struct pd_future *u;

    while ((u = up_next(g, &it))) {
        enum pd_state s = atomic_load(&u->state);
        if (graph_state_final(s) && s != PD_COMPLETED)
            return u;
    }
    return NULL;
}

void graph_add(struct graph *g, struct pd_future *t)
{
    struct up_iter it = up_begin(t);
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
    while ((u = up_next(g, &it))) {
        u->refs++;
        if (graph_state_final(atomic_load(&u->state)))
            continue;
        if (u->ndown == u->downcap) {
            u->downcap = u->downcap ? u->downcap * 2 : 2;
            u->down = pd__xrealloc(u->down, u->downcap * sizeof(*u->down));
        }
        u->down[u->ndown++] = t;
        t->npending++;
    }
    if (t->flags & RUN_HAS_DEPS)
        t->flags |= RUN_LINKED;
    if (t->npending == 0)
        queue(g, t);
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
    finish(g, t, PD_COMPLETED);
    for (uint32_t i = 0; i < t->ndown; i++) {
        struct pd_future *d = t->down[i];
        if (!graph_state_final(atomic_load(&d->state)) &&
            --d->npending == 0)
            queue(g, d);
    }
    free(t->down);
    t->down = NULL;
    t->ndown = t->downcap = 0;
    if (t->refs == 0 && t->size > PROTO_INLINE_MAX && t->rank >= 0)
        push_free(g, t);
}
