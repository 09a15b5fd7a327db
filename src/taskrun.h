/* taskrun.h - one attempt of one task run: call the task function with its
 * context (pd_return_*, pd_fail, pd_log, pd_task_*) and pack what it gave.
 * No MPI and no worker: executor threads and process helpers both call it. */
#ifndef PD_TASKRUN_H
#define PD_TASKRUN_H

#include "pdask.h"
#include "protocol.h"

/* What to run. Everything is borrowed for the duration of the call. */
struct taskrun_req {
    const struct pd_task_def *def;
    const char *name;           /* the run's name, "shout-3" */
    int rank;                   /* what pd_task_rank() says */
    int attempt;                /* what pd_task_attempt() says: 1, 2, ... */
    const pd_value *args;       /* resolved: no PD_FUTURE, no wire refs */
    int nargs;
    double timeout_s;           /* > 0: a completed attempt that took
                                   longer ends Failed (checked after) */
    const uint8_t *holds;       /* resources held (proto_task's holds), */
    size_t holdslen;            /* or NULL */
    int gpu_first, gpu_found;   /* this worker's GPUs from hwloc: unit k
                                   below gpu_found is device gpu_first + k */
};

/* The device ids of the GPUs req holds, "0,1" ("" for none): for
 * CUDA_VISIBLE_DEVICES. */
void taskrun_gpu_list(const struct taskrun_req *req, char *buf, size_t len);

/* What one attempt gave. Zero it before first use; it can be reused. */
struct taskrun_out {
    enum pd_state state;        /* PD_COMPLETED, PD_FAILED or PD_CRASHED */
    struct buf result;          /* packed result (proto_put_value) when
                                   Completed; empty otherwise */
    char *message;              /* malloc'd reason when not Completed */
    double runtime_s;           /* time spent in the task function */
};

/* Run one attempt of req into out: out's old message is freed and its
 * result emptied first (the buffer is kept for reuse). Returns 0 when the
 * attempt Completed, PD_EFAILED otherwise. */
int taskrun_attempt(const struct taskrun_req *req, struct taskrun_out *out);

/* Set out->state to state and out->message to a copy of the printf-style
 * message, replacing the old one; the result is emptied. */
void taskrun_set(struct taskrun_out *out, enum pd_state state,
                 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Free what out holds and zero it; out may be NULL. */
void taskrun_out_free(struct taskrun_out *out);

#endif
