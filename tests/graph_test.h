/* graph_test.h - what the graph and placement unit tests share: a task
 * that does nothing and a submit without the flow thread. */
#ifndef PD_GRAPH_TEST_H
#define PD_GRAPH_TEST_H

#include "graph.h"
#include "protocol.h"

static int noop(pd_ctx *c, const pd_value *a, int n, pd_value *o)
{
    (void)c, (void)a, (void)n, (void)o;
    return 0;
}
static const struct pd_task_def noop_def = { .fn = noop, .name = "noop" };

/* A run of noop depending on the given upstream runs, added to g. */
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

#endif
