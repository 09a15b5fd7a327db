/* The task graph without MPI: dependencies, NotReady propagation, ready
 * order, and when results on workers are freed. */
#include <stdatomic.h>
#include <stdlib.h>

#include "check.h"
#include "graph_test.h"
#include "graph.h"
#include "loader.h"
#include "protocol.h"

static enum pd_state state(struct pd_future *t)
{
    return (enum pd_state)atomic_load(&t->state);
}

/* The scheduler sends t, the next ready run, to worker w. */
static void send(struct graph *g, struct pd_future *t, int w)
{
    CHECK(graph_pop(g) == t);
    graph_dispatched(g, t, w);
}

/* Its worker reports t completed with a result of size bytes. */
static void end(struct graph *g, struct pd_future *t, uint64_t size)
{
    uint8_t v[9] = { PD_INT, 5 };
    t->size = size;
    t->flags &= ~RUN_SENT;
    graph_end(g, t, PD_COMPLETED, size <= PROTO_INLINE_MAX ? v : NULL, NULL);
}

/* Send, then complete. */
static void complete(struct graph *g, struct pd_future *t, int w,
                     uint64_t size)
{
    send(g, t, w);
    end(g, t, size);
}

static struct module *mod;

static void chain(void)
{
    struct graph g;
    graph_init(&g, mod);
    struct pd_future *a = submit(&g, 0, NULL);
    struct pd_future *b = submit(&g, 1, &a);
    struct pd_future *c = submit(&g, 1, &b);

    CHECK(graph_peek(&g) == a);
    CHECK_EQ(g.ready.count, 1);
    /* Sent runs let their dependents be sent ahead, before they end. */
    send(&g, a, 1);
    CHECK_EQ(state(a), PD_RUNNING);
    CHECK(graph_peek(&g) == b);
    send(&g, b, 1);
    CHECK(graph_peek(&g) == c);
    end(&g, a, 9);
    CHECK_EQ(state(a), PD_COMPLETED);
    CHECK(atomic_load(&a->value) != NULL); /* small: kept on rank 0 */
    end(&g, b, 9);
    complete(&g, c, 2, 9);
    CHECK(graph_peek(&g) == NULL);
    CHECK_EQ(atomic_load(&g.nended), 3);
    CHECK_EQ(g.ncompleted, 3);
    CHECK_EQ(atomic_load(&g.first_err), 0);
    char name[64];
    CHECK_STR(graph_run_name(&g, c, name, sizeof(name)), "noop-2");
    CHECK(graph_of(c) == &g);
    graph_destroy(&g);
}

static void failure(void)
{
    struct graph g;
    struct pd_future **bad;
    graph_init(&g, mod);
    struct pd_future *x = submit(&g, 0, NULL);
    struct pd_future *ok = submit(&g, 0, NULL);
    struct pd_future *y = submit(&g, 1, &x);
    struct pd_future *pair[2] = { ok, y };
    struct pd_future *z = submit(&g, 2, pair);

    send(&g, x, 1);
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
    CHECK_EQ(atomic_load(&g.first_err), PD_EFAILED);
    /* ok still runs; z's reference on it was dropped when z ended. */
    CHECK_EQ(ok->refs, 1);
    complete(&g, ok, 2, 9);
    /* y was queued when x was sent; it ended NotReady there, and the
     * scheduler skips it. */
    CHECK(graph_pop(&g) == y);
    /* A run submitted after its upstream failed, or after an upstream
     * that ended NotReady, never queues. */
    struct pd_future *late = submit(&g, 1, &x);
    CHECK_EQ(state(late), PD_NOTREADY);
    struct pd_future *later = submit(&g, 1, &y);
    CHECK_EQ(state(later), PD_NOTREADY);
    CHECK_STR(later->message, "upstream task run noop-2 did not complete "
                              "(NotReady)");
    CHECK(graph_peek(&g) == NULL);
    CHECK_EQ(atomic_load(&g.nfailed), 5);
    graph_destroy(&g);
}

static void priority(void)
{
    struct graph g;
    int prio[] = { 0, 5, 5, -1, 7, 0 };
    int order[] = { 4, 1, 2, 0, 5, 3 };
    struct pd_future *t[6];

    graph_init(&g, mod);
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
    graph_init(&g, mod);
    struct pd_future *big = submit(&g, 0, NULL);
    struct pd_future *use = submit(&g, 1, &big);

    complete(&g, big, 3, 1000);
    CHECK_EQ(big->refs, 2); /* the flow's hold and use's */
    complete(&g, use, 3, 1000);
    CHECK_EQ(big->refs, 1);
    CHECK_EQ(graph_take_free(&g, &pairs), 0);
    graph_unref(&g, big); /* pd_release */
    CHECK_EQ(graph_take_free(&g, &pairs), 1);
    CHECK_EQ(pairs[0], 3);
    CHECK_EQ(pairs[1], big->id);
    CHECK_EQ(big->worker, -1);

    /* Released before it ended: freed as soon as it is reported. */
    struct pd_future *early = submit(&g, 0, NULL);
    graph_unref(&g, early);
    complete(&g, early, 2, 500);
    CHECK_EQ(graph_take_free(&g, &pairs), 1);
    CHECK_EQ(pairs[0], 2);
    /* A small result lives on rank 0: its worker copy goes at once... */
    struct pd_future *small = submit(&g, 0, NULL);
    complete(&g, small, 2, 9);
    CHECK_EQ(graph_take_free(&g, &pairs), 1);
    CHECK_EQ(pairs[1], small->id);
    /* ...unless a run sent ahead still fetches it from there. */
    struct pd_future *s2 = submit(&g, 0, NULL);
    send(&g, s2, 1);
    s2->wrefs++;
    end(&g, s2, 9);
    CHECK_EQ(graph_take_free(&g, &pairs), 0);
    graph_unwref(&g, s2);
    CHECK_EQ(graph_take_free(&g, &pairs), 1);
    CHECK_EQ(pairs[0], 1);
    graph_destroy(&g);
}

static void many(void)
{
    struct graph g;
    graph_init(&g, mod);
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
    CHECK(graph_of(t[N - 1]) == &g); /* in a later chunk */
    /* A fan-out: the downstream array grows 2, 4, 8. */
    struct pd_future *root = submit(&g, 0, NULL), *leaf[5];
    for (int i = 0; i < 5; i++)
        leaf[i] = submit(&g, 1, &root);
    CHECK_EQ(root->ndown, 5);
    send(&g, root, 2);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(leaf[i]->npending, 0);
    end(&g, root, 9);
    for (int i = 0; i < 5; i++)
        complete(&g, leaf[i], 2, 9);
    CHECK_EQ(g.ncompleted, N + 7);
    free(t);
    graph_destroy(&g);
}

/* Zeroed and foreign memory is not a future. */
static void not_futures(void)
{
    struct pd_future zero = { 0 };
    uint64_t junk[16] = { 1, 2, 3 };

    CHECK(graph_of(NULL) == NULL);
    CHECK(graph_of(&zero) == NULL);
    CHECK(graph_of((struct pd_future *)(void *)junk) == NULL);
}

int main(void)
{
    mod = loader_new_module("test");
    loader_add_task(mod, &noop_def);
    chain();
    failure();
    priority();
    frees();
    many();
    not_futures();
    loader_close(mod);
    return 0;
}
