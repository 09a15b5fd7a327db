/* The ready queue: priority first, then id, whatever order runs arrive in,
 * checked against sorting. */
#include <stdlib.h>

#include "check.h"
#include "graph.h"
#include "ready.h"

#define N 20000

static int cmp(const void *a, const void *b)
{
    const struct pd_future *x = *(struct pd_future *const *)a,
                           *y = *(struct pd_future *const *)b;
    if (x->priority != y->priority)
        return x->priority > y->priority ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

int main(void)
{
    static struct pd_future runs[N];
    static struct pd_future *sorted[N];
    struct ready q;
    unsigned seed = 7;
    size_t popped = 0, pushed = 0;

    for (int i = 0; i < N; i++) {
        runs[i].id = (uint64_t)i;
        seed = seed * 1103515245u + 12345u;
        /* Mostly in order, some late arrivals, a few priority levels. */
        runs[i].priority = (seed >> 8) % 10 == 0 ? (int32_t)((seed >> 12) % 4) - 1
                                                 : 0;
    }
    ready_init(&q);
    CHECK(ready_peek(&q) == NULL);
    /* Push in id order with every 7th run held back and pushed later. */
    for (int i = 0; i < N; i++) {
        if (i % 7 == 3)
            continue;
        ready_push(&q, &runs[i]);
        pushed++;
    }
    for (int i = 3; i < N; i += 7) {
        ready_push(&q, &runs[i]);
        pushed++;
    }
    CHECK_EQ(q.count, pushed);
    for (int i = 0; i < N; i++)
        sorted[i] = &runs[i];
    qsort(sorted, N, sizeof(*sorted), cmp);
    while (ready_peek(&q)) {
        struct pd_future *p = ready_peek(&q);
        CHECK(ready_pop(&q) == p);
        CHECK_EQ(p->id, sorted[popped]->id);
        popped++;
    }
    CHECK_EQ(popped, N);
    CHECK(ready_pop(&q) == NULL);

    /* Interleaved pushes and pops keep the order of what is queued. */
    runs[5].priority = runs[10].priority = runs[20].priority = 0;
    runs[30].priority = 100;
    ready_push(&q, &runs[10]);
    ready_push(&q, &runs[5]);
    ready_push(&q, &runs[20]);
    ready_push(&q, &runs[30]);
    CHECK(ready_pop(&q) == &runs[30]);
    CHECK(ready_pop(&q) == &runs[5]);
    ready_push(&q, &runs[7]);
    CHECK(ready_pop(&q) == &runs[7]);
    CHECK(ready_pop(&q) == &runs[10]);
    CHECK(ready_pop(&q) == &runs[20]);
    CHECK(ready_pop(&q) == NULL);
    ready_destroy(&q);
    return 0;
}
