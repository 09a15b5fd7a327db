/* worker.h - a worker rank: its comm thread (this one, the MPI caller) and
 * executor threads that run task functions. */
#ifndef PD_WORKER_H
#define PD_WORKER_H

#include <stdbool.h>

#include "comm.h"

struct module;
struct topology;

struct worker_opts {
    int threads;                /* executor threads */
    const struct module *mod;   /* the flow's tasks here */
    const int *def_of;          /* scheduler's task index -> local index */
    int ndefs;
    int npeers;                 /* ranks of endpoint 0 */
    struct topology *topo;      /* for binding executors, or NULL */
    int bind_first;             /* first core (logical index) to bind to */
    double beat_s;              /* tell the scheduler it is alive when it
                                   sent nothing for this long (> 0) */
    const char *isolation;      /* "thread" or "process": where runs of
                                   tasks that do not say go */
    int gpu_first, gpu_found;   /* its GPUs from hwloc (taskrun_req) */
    bool forward;               /* task output and pd_log lines go to
                                   rank 0 (fwd.h); else they stay here */
};

/* Serve the scheduler until it says stop; returns 0. */
int worker_run(struct comm *c, const struct worker_opts *o);

#endif
