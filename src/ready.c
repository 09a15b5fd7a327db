/* ready.c - see ready.h. */
#include "ready.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "util.h"

void ready_init(struct ready *q)
{
    memset(q, 0, sizeof(*q));
}

static void level_free(struct ready_level *l)
{
    free(l->fifo);
    free(l->heap);
}

void ready_destroy(struct ready *q)
{
    for (int i = 0; i < q->nlv; i++)
        level_free(&q->lv[i]);
    free(q->lv);
    memset(q, 0, sizeof(*q));
}

/* The level for priority p, made if missing (levels stay sorted). */
static struct ready_level *level(struct ready *q, int32_t p)
{
    int lo = 0, hi = q->nlv;

    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (q->lv[mid].priority == p)
            return &q->lv[mid];
        if (q->lv[mid].priority > p)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (q->nlv == q->lvcap) {
        q->lvcap = q->lvcap ? q->lvcap * 2 : 4;
        q->lv = pd__xrealloc(q->lv, (size_t)q->lvcap * sizeof(*q->lv));
    }
    memmove(&q->lv[lo + 1], &q->lv[lo], (size_t)(q->nlv - lo) *
                                            sizeof(*q->lv));
    q->nlv++;
    memset(&q->lv[lo], 0, sizeof(q->lv[lo]));
    q->lv[lo].priority = p;
    return &q->lv[lo];
}

static void fifo_push(struct ready_level *l, struct pd_future *t)
{
    if (!l->fifo || l->tail - l->head == l->mask + 1) {
        size_t cap = l->fifo ? 2 * (l->mask + 1) : 256, n = l->tail - l->head;
        struct pd_future **f = pd__xmalloc(cap * sizeof(*f));
        for (size_t i = 0; i < n; i++)
            f[i] = l->fifo[(l->head + i) & l->mask];
        free(l->fifo);
        l->fifo = f;
        l->head = 0;
        l->tail = n;
        l->mask = cap - 1;
    }
    l->fifo[l->tail++ & l->mask] = t;
}

static void heap_push(struct ready_level *l, struct pd_future *t)
{
    size_t i;

    if (l->nheap == l->heapcap) {
        l->heapcap = l->heapcap ? l->heapcap * 2 : 64;
        l->heap = pd__xrealloc(l->heap, l->heapcap * sizeof(*l->heap));
    }
    i = l->nheap++;
    while (i > 0 && t->id < l->heap[(i - 1) / 2]->id) {
        l->heap[i] = l->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    l->heap[i] = t;
}

static struct pd_future *heap_pop(struct ready_level *l)
{
    struct pd_future *top = l->heap[0], *last = l->heap[--l->nheap];
    size_t i = 0, n = l->nheap;

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && l->heap[c + 1]->id < l->heap[c]->id)
            c++;
        if (l->heap[c]->id >= last->id)
            break;
        l->heap[i] = l->heap[c];
        i = c;
    }
    if (n)
        l->heap[i] = last;
    return top;
}

void ready_push(struct ready *q, struct pd_future *t)
{
    struct ready_level *l = level(q, t->priority);
    bool in_order = l->tail == l->head ||
                    l->fifo[(l->tail - 1) & l->mask]->id < t->id;

    if (in_order)
        fifo_push(l, t);
    else
        heap_push(l, t);
    q->count++;
}

/* True when the level's FIFO head comes before its heap top. */
static bool fifo_first(const struct ready_level *l)
{
    if (l->tail == l->head)
        return false;
    return !l->nheap || l->fifo[l->head & l->mask]->id < l->heap[0]->id;
}

struct pd_future *ready_peek(const struct ready *q)
{
    const struct ready_level *l;

    if (!q->nlv)
        return NULL;
    l = &q->lv[0];
    return fifo_first(l) ? l->fifo[l->head & l->mask] : l->heap[0];
}

struct pd_future *ready_pop(struct ready *q)
{
    struct ready_level *l;
    struct pd_future *t;

    if (!q->nlv)
        return NULL;
    l = &q->lv[0];
    t = fifo_first(l) ? l->fifo[l->head++ & l->mask] : heap_pop(l);
    q->count--;
    if (l->tail == l->head && !l->nheap) {
        level_free(l);
        q->nlv--;
        memmove(&q->lv[0], &q->lv[1], (size_t)q->nlv * sizeof(*q->lv));
    }
    return t;
}
