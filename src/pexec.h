/* pexec.h - the process executor (see exec.h): one warm helper process
 * that runs one attempt at a time and never calls MPI.
 *
 * The helper is this same program, started with posix_spawn (never fork
 * after MPI_Init) as `EXE exec-helper FLOW.so PARENT_PID LOG_LEVEL`;
 * main() hands that to pexec_helper_main() before anything touches MPI.
 * It loads the flow with loader_open and then answers requests on fd 3
 * with replies on fd 4: frames of a u32 length then that many bytes. Its
 * stdout and stderr are the caller's, so task output and pd_log lines
 * appear as usual, at the caller's log level; or, with forward (argv[5]
 * "forward"), a pipe the caller reads while it waits for a reply.
 *
 * A helper that dies during an attempt gives PD_CRASHED ("crashed: killed
 * by signal 11 (SIGSEGV)", "crashed: exit(3) in the task"); one that runs
 * past the request's timeout_s is killed (SIGKILL, with whatever the task
 * started: the helper leads its own process group) and gives PD_FAILED
 * ("timed out after 2 s"). Either way the next attempt starts a fresh
 * helper. Children are always reaped: no zombies. A helper found dead
 * between attempts is replaced with a warning, and the attempt runs.
 *
 * Use an executor from one long-lived thread: the helper is killed
 * (PR_SET_PDEATHSIG) when the thread that started it exits, so it never
 * outlives a dead worker.
 */
#ifndef PD_PEXEC_H
#define PD_PEXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "exec.h"

/* argv[1] of a helper. */
#define PEXEC_SUBCOMMAND "exec-helper"

/* A request or reply frame is at most this long: every value is below
 * 2 GiB (PD_ETOOBIG), and bigger arguments fail before they are sent. */
#define PEXEC_FRAME_MAX (((size_t)1 << 31) + 65536)

struct pexec_opts {
    const char *exe;    /* the program to start; NULL: /proc/self/exe */
    const char *flow;   /* the flow .so the helper loads (copied) */
    double grace_s;     /* destroy waits this long for the helper to exit
                           before SIGKILL; <= 0: 2 s */
    bool forward;       /* the helper's stdout and stderr go through a
                           pipe the caller reads during each attempt, on
                           to the caller's fd 2 as frames of the run
                           (fwd.h); its pd_log lines are frames too */
};

/* A process executor. The helper starts at the first attempt (or at
 * pexec_start). Never NULL: out of memory aborts. */
struct executor *pexec_new(const struct pexec_opts *o);

/* Start the helper now if none runs and wait until it has loaded the flow
 * (no time limit: loading is the flow's own start-up): 0, or PD_ECRASHED
 * with the reason in err (spawn failed, or the helper could not load the
 * flow). The helper inherits the calling thread's CPU binding. */
int pexec_start(struct executor *ex, char *err, size_t errlen);

/* The helper's pid, or 0 when none runs. */
pid_t pexec_pid(const struct executor *ex);

/* The helper program: argv is { EXE, "exec-helper", FLOW.so, PARENT_PID,
 * LOG_LEVEL [, "forward"] } (the caller's enum pd_level, for pd_log in
 * tasks; "forward": pd_log writes frames, fwd.h).
 * Returns the exit code: 0 once the request pipe is closed, 2 on bad
 * usage or a broken pipe. */
int pexec_helper_main(int argc, char **argv);

#endif
