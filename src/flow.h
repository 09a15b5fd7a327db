/*
 * flow.h - a flow run on rank 0: the state the flow thread (pd_submit,
 * pd_wait, ...) and the scheduler thread share.
 *
 * Locking: mu guards reqs and the condition variable. The graph belongs to
 * the scheduler thread, except that the flow thread creates records
 * (graph_new) and reads their atomic state and value. The scheduler
 * publishes a final state with a release store, then wakes the flow thread
 * if it sleeps (flow_waiting).
 */
#ifndef PD_FLOW_H
#define PD_FLOW_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "graph.h"
#include "store.h"
#include "params.h"
#include "resources.h"
#include "pdask.h"

struct comm;
struct module;

enum req_kind {
    REQ_SUBMIT,  /* a new task run */
    REQ_FETCH,   /* bring a result to rank 0 for pd_result */
    REQ_RELEASE, /* the flow let go of a future */
};

struct req {
    enum req_kind kind;
    struct pd_future *t;
};

enum fetch_state { FETCH_NONE, FETCH_ASKED, FETCH_DONE, FETCH_LOST };

/* What the flow thread sleeps until; the scheduler wakes it only then. */
enum wait_kind { WAIT_FINAL, WAIT_FETCH, WAIT_ALL };

#define PD_FLOW_MAGIC 0x70644666u /* "pdFf" */

/* What annotations and task defaults ask of a run, beside its priority:
 * made by the flow thread, never changed after, read by the scheduler
 * once a run that names it is published. */
struct profile {
    int retries;            /* -1: the task's own */
    uint8_t isolation;      /* PROFILE_ISO_* */
    bool allow_other;       /* workers is a preference */
    int nworkers;           /* ranks that may run it; 0: any */
    int *workers;
    struct res_set *res;    /* resources it holds while it runs, or NULL */
    char *res_text;         /* as the flow wrote them, for messages */
};
enum { PROFILE_ISO_TASK, PROFILE_ISO_THREAD, PROFILE_ISO_PROCESS };
#define PROFILE_MAX 4096    /* distinct profiles a flow run may use */

/* One flow run: created by the runner, owned by it, handed to the flow
 * function. Everything the run's API calls need hangs off it. */
struct pd_flow {
    uint32_t magic;             /* PD_FLOW_MAGIC while alive */
    uint32_t run;               /* flow run id: results on workers are keyed
                                   by (run, task run id) */
    struct graph g;
    const struct module *mod;   /* the tasks it may submit */
    const struct pd_flow_def *def;
    const char *name;           /* the flow run's name in the logs */
    const pd_params *params;
    struct comm *comm;          /* to wake the scheduler */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct req *reqs;           /* flow -> scheduler, under mu */
    size_t nreq, reqcap;
    _Atomic bool flow_waiting;  /* the flow thread sleeps on cv until: */
    _Atomic int wait_kind;      /* enum wait_kind */
    struct pd_future *_Atomic wait_run; /* for WAIT_FINAL and WAIT_FETCH */
    _Atomic uint64_t wait_all;  /* for WAIT_ALL: runs that must end */
    _Atomic bool flow_done;     /* the flow function returned (and waited) */
    int flow_rc;                /* what it returned */
    bool usage_error;           /* stopped by a bad parameter or annotation */
    char usage[512];            /* the annotation's message, or "" */
    uint64_t nsubmitted;        /* flow thread only */
    struct pd_annotations *anns; /* flow thread only: the annotation in
                                   force at each nesting level, merged */
    int nanns, anncap;
    uint64_t anngen;            /* flow thread only: bumped by push, pop */
    struct {                    /* flow thread only: the last submit's */
        uint64_t gen;
        int def, profile;
        int32_t priority;
        bool ok;
    } last;
    struct profile **profiles;  /* PROFILE_MAX slots; [0] unused */
    _Atomic int nprofiles;
    struct store names;         /* flow thread only: run id -> the name
                                   pd_future_name gave, kept for the flow */
};

/* name: the run's name for the logs, or NULL for the flow's name. */
void flow_init(struct pd_flow *f, uint32_t run, const struct module *mod,
               const struct pd_flow_def *def, const char *name,
               const pd_params *params, struct comm *c);
void flow_destroy(struct pd_flow *f);

/* The flow thread's body: runs the flow function, then waits for all its
 * task runs; sets flow_done and wakes the scheduler. */
void *flow_thread_main(void *flow);

/* Scheduler: swap out the pending requests (caller frees the array). */
size_t flow_take_reqs(struct pd_flow *f, struct req **out);

/* Scheduler: wake the flow thread if what it waits for has happened. */
void flow_notify(struct pd_flow *f);

/* The profile of run t, or NULL for plain runs. */
static inline const struct profile *flow_profile(const struct pd_flow *f,
                                                 const struct pd_future *t)
{
    return t->profile ? f->profiles[t->profile] : NULL;
}

/* Parse a worker list "1,3,5-7" into ranks (malloc'd); 0, or PD_EINVAL
 * with a message in err. */
int flow_parse_workers(const char *s, int **out, int *n, char *err,
                       size_t errlen);

/* The flow run a live future belongs to, or NULL. */
struct pd_flow *flow_of(const struct pd_future *t);

/* The task run an executor thread is in, or NULL: set by the worker around
 * each call, so API calls that only a flow may make can say why not. */
extern __thread const char *flow_in_task;

#endif
