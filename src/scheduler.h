/* scheduler.h - rank 0's loop: takes the flow's requests, keeps the graph,
 * places ready task runs on workers (wtable.h) and sends them in batches,
 * reads what the workers report. */
#ifndef PD_SCHEDULER_H
#define PD_SCHEDULER_H

#include "adapt.h"
#include "comm.h"
#include "flow.h"
#include "resources.h"

/* Adaptive scaling (adapt.h): the policy's settings and how to start
 * workers. spawn starts n and joins them (task table agreed, threads
 * sized): *comm is their communicator, rank 0 this process, *inter the
 * intercommunicator it was merged from (to disconnect), and
 * threads[1..n] their executor threads. 0, or -1 with a message in err.
 * It blocks (MPI_Comm_spawn does). */
struct sched_grow {
    struct adapt_cfg cfg;
    double unknown_s;     /* a run of a task never timed yet */
    int (*spawn)(void *ctx, int n, MPI_Comm *comm, MPI_Comm *inter,
                 int *threads, struct res_tags *tags, char *err,
                 size_t errlen);
    void *ctx;
};

struct sched_opts {
    const int *threads;   /* executor threads of each rank of endpoint 0
                             (index 0, the scheduler, unused) */
    int nranks;           /* ranks on endpoint 0 */
    const struct res_tags *tags; /* resource tags of each rank, or NULL */
    int prefetch;         /* extra short task runs queued ahead per thread */
    double heartbeat_s;   /* a worker silent this long is lost (> 0) */
    struct report *report; /* status file and trace, or NULL */
    double progress_s;    /* progress every this often; 0: none */
    struct journal *journal; /* resume journal (journal.h), or NULL */
    const char *journal_path; /* its path, for the resume hint */
    double grace_s;       /* after SIGINT/SIGTERM, running runs get this
                             long to end (0: cancel at once) */
    const struct sched_grow *grow; /* adaptive scaling, or NULL */
    bool spawn_failed;    /* out: a spawn failed (see runtime.c) */
    bool lost;            /* out: a worker was lost; the caller must end
                             the job (MPI_Abort), as the lost rank may
                             never exit */
};

/* Run flow f to its end on the workers of c, then stop them. Returns the
 * process exit code: 0 all completed, 1 anything failed, 2 usage error,
 * PD_EXIT_LOST a worker was lost. */
#define PD_EXIT_LOST 3
/* Stopped before the job's end time (jobend.h): what was left could not
 * finish in time; the run resumes with --journal. */
#define PD_EXIT_WALLTIME 4

/* From a signal handler on rank 0: stop the flow run (SIGINT, SIGTERM).
 * The scheduler starts no new run, gives running ones grace_s to end (a
 * second signal ends that), cancels what has not ended, prints the
 * summary and exits the process with 128 + sig. Async-signal-safe. */
void sched_interrupt(int sig);
int sched_run(struct comm *c, struct pd_flow *f, struct sched_opts *o);

#endif
