/* exec.h - the executor interface: where one attempt of a task run runs.
 *
 * Two implementations:
 *   thread   exec_thread(): calls taskrun_attempt() on the calling thread.
 *            A crash takes the process down; a timeout is only noticed
 *            after the task returns.
 *   process  pexec_new() (pexec.h): a warm helper process that never calls
 *            MPI runs the attempt. A crash gives PD_CRASHED, a timeout
 *            kills the helper; either way a fresh helper takes the next
 *            attempt.
 *
 * An executor serves one thread at a time: give each executor thread its
 * own. Retries stay with the caller: an executor runs one attempt.
 *
 *     struct exec_req req = { .run = { .def = def, .name = "shout-3",
 *                                      .rank = 1, .attempt = 1,
 *                                      .args = args, .nargs = n,
 *                                      .timeout_s = def->timeout_s } };
 *     struct taskrun_out out = { 0 };
 *     int rc = exec_attempt(ex, &req, &out);   (0: out.result holds it)
 *     ...
 *     taskrun_out_free(&out);
 *     exec_destroy(ex);
 */
#ifndef PD_EXEC_H
#define PD_EXEC_H

#include <stddef.h>

#include "taskrun.h"

/* One attempt to run. Everything is borrowed for the call. */
struct exec_req {
    struct taskrun_req run;     /* def, name, rank, attempt, unpacked args
                                   (the thread executor's input) and the
                                   timeout: enforced by the process
                                   executor, checked after by threads */
    const void *packed;         /* the same args, packed one after another
                                   with proto_put_value (the process
                                   executor's input), or NULL: it packs
                                   run.args itself */
    size_t packed_len;
};

struct executor;

struct executor_ops {
    /* Run one attempt of req into out (reused as taskrun_attempt() does).
     * Returns 0 if it Completed, PD_EFAILED if it Failed (the task failed
     * or timed out), PD_ECRASHED if it Crashed (the helper died or could
     * not start); out->message says why. */
    int (*attempt)(struct executor *ex, const struct exec_req *req,
                   struct taskrun_out *out);
    /* Stop and free the executor (waits for a helper to exit). */
    void (*destroy)(struct executor *ex);
};

/* Embedded first in each implementation's struct. */
struct executor {
    const struct executor_ops *ops;
};

static inline int exec_attempt(struct executor *ex,
                               const struct exec_req *req,
                               struct taskrun_out *out)
{
    return ex->ops->attempt(ex, req, out);
}

/* ex may be NULL. */
static inline void exec_destroy(struct executor *ex)
{
    if (ex)
        ex->ops->destroy(ex);
}

/* The thread executor: stateless, shared, never NULL; destroy is a no-op. */
struct executor *exec_thread(void);

#endif
