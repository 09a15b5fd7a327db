/*
 * ready.h - the ready queue of rank 0: higher priority first, then lower id
 * (submission order). Runs that become ready in id order, the usual case,
 * go through a FIFO per priority in O(1); the others through a heap, so
 * nothing is linear in the number of queued runs.
 */
#ifndef PD_READY_H
#define PD_READY_H

#include <stddef.h>
#include <stdint.h>

struct pd_future;

struct ready_level {
    int32_t priority;
    struct pd_future **fifo;  /* ring of runs in increasing id order */
    size_t head, tail, mask;  /* tail - head runs; capacity mask + 1 */
    struct pd_future **heap;  /* runs that arrived out of id order */
    size_t nheap, heapcap;
};

struct ready {
    struct ready_level *lv;   /* non-empty levels, highest priority first */
    int nlv, lvcap;
    size_t count;
};

void ready_init(struct ready *q);
void ready_destroy(struct ready *q);
void ready_push(struct ready *q, struct pd_future *t);
/* The best run, or NULL; peek leaves it queued. */
struct pd_future *ready_peek(const struct ready *q);
struct pd_future *ready_pop(struct ready *q);

#endif
