/*
 * graph.h - rank 0's task graph: task run records (which are the futures),
 * dependencies, the ready heap, and who still needs each result. No MPI and
 * no threads here: the flow thread only creates records (graph_new) and reads
 * their atomics; everything else is the scheduler thread's.
 */
#ifndef PD_GRAPH_H
#define PD_GRAPH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pdask.h"
#include "ready.h"

enum {
    RUN_HAS_DEPS = 1 << 0,  /* args hold WIRE_FUTURE references */
    RUN_FLOW_HOLDS = 1 << 1, /* the flow may still ask for the result */
    RUN_BAD = 1 << 2,       /* failed at submit: never dispatched */
};

/* A task run; pd_future is this record. */
struct pd_future {
    uint64_t id;              /* submission order, 0-based */
    uint32_t def;             /* loader task index */
    uint32_t seq;             /* per-task run number: shout-<seq> */
    int32_t priority;         /* higher runs first */
    _Atomic uint8_t state;    /* enum pd_state; release-stored when it ends */
    uint8_t flags;            /* RUN_* */
    uint8_t attempts;         /* tries the worker made */
    _Atomic uint8_t fetch;    /* enum fetch_state (flow.h) for pd_result */
    int32_t rank;             /* worker running it or holding its result */
    uint32_t npending;        /* upstream runs not ended yet */
    uint32_t refs;            /* flow hold + unended dependents: the worker
                                 copy of the result is freed at 0 */
    uint32_t ndown, downcap;  /* downstream runs waiting on this one */
    struct pd_future **down;
    uint32_t nargs, argslen;
    uint8_t *args;            /* packed at submit (protocol.h) */
    uint64_t size;            /* packed size of the result */
    _Atomic(uint8_t *) value; /* packed result once on rank 0, or NULL */
    char *message;            /* why it did not complete, or NULL */
};

struct graph {
    struct pd_future **chunks;  /* fixed table of record chunks */
    _Atomic uint64_t nruns;     /* records made (flow thread writes) */
    uint32_t *seqs;             /* next run number per task index */
    int nseqs;
    struct ready ready;         /* runs whose inputs are all there */
    struct pd_future **stack;   /* scratch for NotReady propagation */
    size_t nstack, stackcap;
    uint64_t *tofree;           /* rank, id pairs: see graph_take_free */
    size_t nfree, freecap;
    struct pd_future **bad;     /* runs ended not Completed, to report */
    size_t nbad, badcap;
    _Atomic uint64_t nended;    /* runs in a final state */
    uint64_t ncompleted;
    _Atomic uint64_t nfailed;   /* ended in any other state */
};

void graph_init(struct graph *g, int ntasks);
void graph_destroy(struct graph *g);

/* Flow thread: a new record with the next id, state Pending. */
struct pd_future *graph_new(struct graph *g, uint32_t def);
struct pd_future *graph_get(struct graph *g, uint64_t id);

/* Scheduler: take a new record in. Links it to its upstream runs and queues
 * it when they have all completed; ends it NotReady when one did not. */
void graph_add(struct graph *g, struct pd_future *t);

/* The best ready run, or NULL; peek leaves it queued. */
struct pd_future *graph_peek(struct graph *g);
struct pd_future *graph_pop(struct graph *g);

/* A run ended on a worker. Completed results are recorded, downstream runs
 * become ready or NotReady, inputs lose a reference. value is the packed
 * result when it travelled inline (copied), msg the failure text. */
void graph_end(struct graph *g, struct pd_future *t, enum pd_state state,
               const void *value, const char *msg);

/* Fail a run that never reached a worker (bad arguments, unknown task). */
void graph_fail(struct graph *g, struct pd_future *t, const char *msg);

/* Drop one reference on t's worker-held result (flow release, fetch done). */
void graph_unref(struct graph *g, struct pd_future *t);

/* Results no one needs: pairs (rank, id) appended since the last take. */
size_t graph_take_free(struct graph *g, uint64_t **pairs);

/* Runs that ended in a state other than Completed since the last take;
 * the array stays the graph's. */
size_t graph_take_bad(struct graph *g, struct pd_future ***runs);

/* True for Completed, Failed, NotReady, Crashed, Cancelled. */
static inline bool graph_state_final(enum pd_state s)
{
    return s >= PD_COMPLETED;
}

/* "shout-3" into buf. */
const char *graph_run_name(const struct pd_future *t, char *buf, size_t n);

#endif
