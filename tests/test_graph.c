/* The task graph without MPI: dependencies, NotReady propagation, ready
 * order, and when results on workers are freed. */
#include <stdatomic.h>
#include <stdlib.h>

#include "check.h"
#include "graph.h"
#include "loader.h"
#include "protocol.h"

static int noop(pd_ctx *c, const pd_value *a, int n, pd_value *o)
{
    (void)c, (void)a, (void)n, (void)o;
    return 0;
}
static const struct pd_task_def noop_def = { .fn = noop, .name = "noop" };

/* A run of noop depending on the given upstream runs. */
static struct pd_future *submit(struct graph *g, int ndeps,
                                struct pd_future **deps)
{
    struct pd_future *t = graph_new(g, 0);
    struct buf b = { 0 };

    for (int i = 0; i < ndeps; i++) {
        pd_value v = pd_dep(deps[i]);
        proto_put_value(&b, &v, deps[i]->id);
        t->flags |= RUN_HAS_DEPS;
    }
    t->args = b.data;
    t->argslen = (uint32_t)b.len;
    t->nargs = (uint32_t)ndeps;
    graph_add(g, t);
    return t;
}

static enum pd_state state(struct pd_future *t)
{
    return (enum pd_state)atomic_load(&t->state);
}

/* Pretend a worker ran t on rank with a result of size bytes. */
static void complete(struct graph *g, struct pd_future *t, int rank,
                     uint64_t size)
{
    uint8_t v[9] = { PD_INT, 5 };
    CHECK(graph_pop(g) == t);
    t->rank = rank;
    t->size = size;
    graph_end(g, t, PD_COMPLETED, size <= PROTO_INLINE_MAX ? v : NULL, NULL);
}

static void chain(void)
{
    struct graph g;
    graph_init(&g, 1);
    struct pd_future *a = submit(&g, 0, NULL);
    struct pd_future *b = submit(&g, 1, &a);
    struct pd_future *c = submit(&g, 1, &b);

    CHECK(graph_peek(&g) == a);
    CHECK_EQ(g.ready.count, 1);
    complete(&g, a, 1, 9);
    CHECK_EQ(state(a), PD_COMPLETED);
    CHECK(atomic_load(&a->value) != NULL); /* small: kept on rank 0 */
    CHECK(graph_peek(&g) == b);
    complete(&g, b, 1, 9);
    complete(&g, c, 2, 9);
    CHECK(graph_peek(&g) == NULL);
    CHECK_EQ(atomic_load(&g.nended), 3);
    CHECK_EQ(g.ncompleted, 3);
    CHECK_STR(pd_future_name(c), "noop-2");
    graph_destroy(&g);
}

static void failure(void)
{
    struct graph g;
    struct pd_future **bad;
    graph_init(&g, 1);
    struct pd_future *x = submit(&g, 0, NULL);
    struct pd_future *ok = submit(&g, 0, NULL);
    struct pd_future *y = submit(&g, 1, &x);
    struct pd_future *pair[2] = { ok, y };
    struct pd_future *z = submit(&g, 2, pair);

    CHECK(graph_pop(&g) == x);
    x->rank = 1;
    graph_end(&g, x, PD_FAILED, NULL, "boom");
    CHECK_EQ(state(x), PD_FAILED);
    CHECK_STR(x->message, "boom");
    CHECK_EQ(state(y), PD_NOTREADY);
    CHECK_STR(y->message, "upstream task run noop-0 did not complete "
                          "(Failed)");
    CHECK_EQ(state(z), PD_NOTREADY);
    CHECK_STR(z->message, "upstream task run noop-2 did not complete "
                          "(NotReady)");
    CHECK_EQ(graph_take_bad(&g, &bad), 3);
    CHECK(bad[0] == x && bad[1] == y && bad[2] == z);
    /* ok still runs; z's reference on it was dropped when z ended. */
    CHECK_EQ(ok->refs, 1);
    complete(&g, ok, 2, 9);
    /* A run submitted after its upstream failed never queues. */
    struct pd_future *late = submit(&g, 1, &x);
    CHECK_EQ(state(late), PD_NOTREADY);
    CHECK(graph_peek(&g) == NULL);
    CHECK_EQ(atomic_load(&g.nfailed), 4);
    graph_destroy(&g);
}

static void priority(void)
{
    struct graph g;
    int prio[] = { 0, 5, 5, -1, 7, 0 };
    int order[] = { 4, 1, 2, 0, 5, 3 };
    struct pd_future *t[6];

    graph_init(&g, 1);
    for (int i = 0; i < 6; i++) {
        t[i] = graph_new(&g, 0);
        t[i]->priority = prio[i];
        graph_add(&g, t[i]);
    }
    for (int i = 0; i < 6; i++)
        CHECK(graph_pop(&g) == t[order[i]]);
    CHECK(graph_pop(&g) == NULL);
    graph_destroy(&g);
}

static void frees(void)
{
    struct graph g;
    uint64_t *pairs;
    graph_init(&g, 1);
    struct pd_future *big = submit(&g, 0, NULL);
    struct pd_future *use = submit(&g, 1, &big);

    complete(&g, big, 3, 1000);
    CHECK_EQ(big->refs, 2); /* the flow's hold and use's */
    complete(&g, use, 3, 9);
    CHECK_EQ(big->refs, 1);
    CHECK_EQ(graph_take_free(&g, &pairs), 0);
    graph_unref(&g, big); /* pd_release */
    CHECK_EQ(graph_take_free(&g, &pairs), 1);
    CHECK_EQ(pairs[0], 3);
    CHECK_EQ(pairs[1], big->id);
    CHECK_EQ(big->rank, -1);

    /* Released before it ended: freed as soon as it is reported. */
    struct pd_future *early = submit(&g, 0, NULL);
    graph_unref(&g, early);
    complete(&g, early, 2, 500);
    CHECK_EQ(graph_take_free(&g, &pairs), 1);
    CHECK_EQ(pairs[0], 2);
    /* Small results live on rank 0 and are never freed on a worker. */
    struct pd_future *small = submit(&g, 0, NULL);
    complete(&g, small, 2, 9);
    graph_unref(&g, small);
    CHECK_EQ(graph_take_free(&g, &pairs), 0);
    graph_destroy(&g);
}

static void many(void)
{
    struct graph g;
    graph_init(&g, 1);
    /* More runs than one chunk of records, a fan-in over all of them. */
    enum { N = 10000 };
    struct pd_future **t = malloc(N * sizeof(*t));
    for (int i = 0; i < N; i++)
        t[i] = submit(&g, 0, NULL);
    struct pd_future *sum = submit(&g, N, t);
    CHECK_EQ(sum->npending, N);
    for (int i = 0; i < N; i++)
        complete(&g, t[i], 1 + i % 3, 9);
    complete(&g, sum, 1, 9);
    CHECK_EQ(g.ncompleted, N + 1);
    CHECK(graph_get(&g, N) == sum);
    CHECK(graph_get(&g, N + 1) == NULL);
    free(t);
    graph_destroy(&g);
}

int main(void)
{
    pd__register_task(&noop_def, PD_ABI_VERSION);
    chain();
    failure();
    priority();
    frees();
    many();
    return 0;
}
