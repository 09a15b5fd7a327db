/*
 * graph.h - rank 0's task graph of one flow run: task run records (which
 * are the futures), dependencies, the ready queue, and who still needs each
 * result. No MPI and no threads here: the flow thread only creates records
 * (graph_new) and reads their atomics; everything else is the scheduler
 * thread's.
 *
 * A run is ready to dispatch once every upstream run has been dispatched
 * (not completed): the scheduler sends it ahead to a worker, which starts
 * it when its inputs appear there. Only a completed or failed upstream
 * changes anything after that.
 */
#ifndef PD_GRAPH_H
#define PD_GRAPH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pdask.h"
#include "protocol.h"
#include "ready.h"

struct module;

/* pd_future.flags: set by the flow thread before the submit is published
 * (push to the scheduler), the scheduler's alone after that. */
enum {
    RUN_HAS_DEPS = 1 << 0,  /* args hold WIRE_FUTURE references */
    RUN_BAD = 1 << 1,       /* failed at submit: never dispatched */
    RUN_LINKED = 1 << 2,    /* holds a reference on each upstream */
    RUN_SENT = 1 << 3,      /* dispatched; its worker has not reported */
};

/* pd_future.fflags: the flow thread's alone. */
enum {
    FLOW_HOLDS = 1 << 0,    /* the flow may still ask for the result */
};

#define PD_FUTURE_MAGIC 0x70644675u /* "pdFu": a record of a live graph */

/* A task run; pd_future is this record. */
struct pd_future {
    uint64_t id;              /* submission order, 0-based */
    uint32_t magic;           /* PD_FUTURE_MAGIC */
    uint32_t def;             /* the module's task index */
    uint32_t seq;             /* per-task run number: shout-<seq> */
    int32_t priority;         /* higher runs first */
    _Atomic uint8_t state;    /* enum pd_state; release-stored when it ends */
    uint8_t flags;            /* RUN_* */
    uint8_t fflags;           /* FLOW_* */
    uint8_t attempts;         /* tries the worker made */
    _Atomic uint8_t fetch;    /* enum fetch_state (flow.h) for pd_result */
    uint16_t profile;         /* annotations (flow.h), 0 for none */
    int32_t worker;           /* worker running it or holding its result */
    uint32_t npending;        /* upstream runs not dispatched yet */
    uint32_t refs;            /* flow hold + unended dependents: the worker
                                 copy of a big result is freed at 0 */
    uint32_t wrefs;           /* dispatched runs that fetch it from its
                                 worker: a small result's copy there is
                                 freed at 0 */
    uint32_t ticket;          /* its worker's count of runs sent, when it
                                 was sent: how many are ahead of it */
    uint32_t ndown;           /* downstream runs linked to this one; the
                                 array's room is the next power of two */
    struct pd_future **down;
    uint32_t nargs, argslen;
    uint8_t *args;            /* packed at submit (protocol.h) */
    uint64_t size;            /* packed size of the result */
    _Atomic(uint8_t *) value; /* packed result once on rank 0, or NULL */
    char *message;            /* why it did not complete, or NULL */
};

struct graph {
    struct chunk **chunks;      /* fixed table of record chunks */
    _Atomic uint64_t nruns;     /* records made (flow thread writes) */
    const struct module *mod;   /* task names; NULL in tests */
    uint32_t *seqs;             /* next run number per task index */
    int nseqs;
    struct ready ready;         /* runs whose upstreams are all dispatched */
    struct pd_future **stack;   /* scratch for NotReady propagation */
    size_t nstack, stackcap;
    uint64_t *tofree;           /* worker, id pairs: see graph_take_free */
    size_t nfree, freecap;
    struct pd_future **bad;     /* runs ended not Completed, to report */
    size_t nbad, badcap;
    _Atomic uint64_t nended;    /* runs in a final state */
    uint64_t ncompleted;
    _Atomic uint64_t nfailed;   /* ended in any other state */
    _Atomic int first_err;      /* PD_E* of the first run that did not
                                   complete, 0 while all did */
};

void graph_init(struct graph *g, const struct module *mod);
void graph_destroy(struct graph *g);

/* Flow thread: a new record with the next id, state Pending; NULL past
 * GRAPH_MAX_RUNS. */
#define GRAPH_MAX_RUNS (1ull << 30)
struct pd_future *graph_new(struct graph *g, uint32_t def);
struct pd_future *graph_get(struct graph *g, uint64_t id);

/* The graph a live record belongs to, or NULL for anything that is not
 * one (a zeroed or foreign pointer). */
struct graph *graph_of(const struct pd_future *t);

/* Scheduler: take a new record in. Links it to its upstream runs and queues
 * it when they have all been dispatched; ends it NotReady when one did not
 * complete. */
void graph_add(struct graph *g, struct pd_future *t);

/* The best ready run, or NULL; peek leaves it queued. */
struct pd_future *graph_peek(struct graph *g);
struct pd_future *graph_pop(struct graph *g);

/* The scheduler sent t to worker w: its dependents may now be sent too. */
void graph_dispatched(struct graph *g, struct pd_future *t, int w);

/* A run ended on a worker. Completed results are recorded, inputs lose a
 * reference, and when it did not complete its downstream runs end
 * NotReady. value is the packed result when it travelled inline (copied),
 * msg the failure text. */
void graph_end(struct graph *g, struct pd_future *t, enum pd_state state,
               const void *value, const char *msg);

/* End every run not ended yet in state s with msg (the run is being
 * stopped); returns how many. */
uint64_t graph_end_all(struct graph *g, enum pd_state s, const char *msg);

/* Fail a run that never reached a worker (bad arguments, unknown task). */
void graph_fail(struct graph *g, struct pd_future *t, const char *msg);

/* Drop one reference on t's worker-held result (flow release, fetch done),
 * or one of its worker references (wref: a dispatched dependent ended). */
void graph_unref(struct graph *g, struct pd_future *t);
void graph_unwref(struct graph *g, struct pd_future *t);

/* t's result has been fetched to rank 0 from a worker that is leaving:
 * its copy there goes once no dispatched run fetches it (wrefs). */
void graph_value_here(struct graph *g, struct pd_future *t);

/* Results no one needs: pairs (worker, id) appended since the last take. */
size_t graph_take_free(struct graph *g, uint64_t **pairs);

/* Runs that ended in a state other than Completed since the last take;
 * the array stays the graph's. */
size_t graph_take_bad(struct graph *g, struct pd_future ***runs);

/* Iterate over the upstream runs named in a run's packed args:
 * for (it = graph_up_begin(t); (u = graph_up_next(g, &it));) */
struct up_iter {
    struct rd r;
    uint32_t left;
};
struct up_iter graph_up_begin(const struct pd_future *t);
struct pd_future *graph_up_next(struct graph *g, struct up_iter *it);

/* True for Completed, Failed, NotReady, Crashed, Cancelled. */
static inline bool graph_state_final(enum pd_state s)
{
    return s >= PD_COMPLETED;
}

/* PD_E* for a final state (0 for Completed). */
int graph_state_err(enum pd_state s);

/* "shout-3" into buf. */
const char *graph_run_name(const struct graph *g, const struct pd_future *t,
                           char *buf, size_t n);

#endif
