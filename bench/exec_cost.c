/* exec_cost - the per-task cost of the thread and process executors, one
 * program, no MPI:
 *
 *     exec_cost FLOW.so [n=10000] [task=empty] [starts=20]
 *
 * Runs task (no arguments) n times through each executor after a warm-up
 * of n/10, and times `starts` helper start-ups (spawn + loading FLOW.so).
 * The helper is this program, started as `exec_cost exec-helper ...`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "loader.h"
#include "pexec.h"
#include "util.h"

/* Seconds for n attempts of req on ex; exits on a failed attempt. */
static double time_runs(struct executor *ex, const struct exec_req *req,
                        long n)
{
    struct taskrun_out out = { 0 };
    double t0 = pd__now();

    for (long i = 0; i < n; i++) {
        if (exec_attempt(ex, req, &out) != 0) {
            fprintf(stderr, "exec_cost: %s: %s\n", req->run.name,
                    out.message);
            exit(1);
        }
    }
    t0 = pd__now() - t0;
    taskrun_out_free(&out);
    return t0;
}

static void report(const char *what, long n, double s)
{
    printf("EXEC %-7s runs=%ld seconds=%.6f us_per_task=%.3f "
           "tasks_per_s=%.0f\n", what, n, s, s / (double)n * 1e6,
           (double)n / s);
}

/* The value of key=value in argv[2..], or def. */
static const char *arg(int argc, char **argv, const char *key,
                       const char *def)
{
    size_t k = strlen(key);

    for (int i = 2; i < argc; i++)
        if (strncmp(argv[i], key, k) == 0 && argv[i][k] == '=')
            return argv[i] + k + 1;
    return def;
}

int main(int argc, char **argv)
{
    char err[1024];

    if (argc > 1 && strcmp(argv[1], PEXEC_SUBCOMMAND) == 0)
        return pexec_helper_main(argc, argv);
    if (argc < 2) {
        fprintf(stderr, "usage: %s FLOW.so [n=N] [task=NAME] [starts=S]\n",
                argv[0]);
        return 2;
    }
    long n = atol(arg(argc, argv, "n", "10000"));
    long starts = atol(arg(argc, argv, "starts", "20"));
    const char *task = arg(argc, argv, "task", "empty");
    struct module *mod = NULL;
    int idx;

    if (loader_open(argv[1], &mod, err, sizeof(err)) != 0 ||
        (idx = loader_task_by_name(mod, task)) < 0 || n < 1 || starts < 0) {
        fprintf(stderr, "exec_cost: %s\n",
                err[0] ? err : "no such task, or bad n or starts");
        return 2;
    }
    struct exec_req req = {
        .run = { .def = mod->tasks[idx], .name = task, .rank = 1,
                 .attempt = 1 },
    };
    struct pexec_opts po = { .flow = argv[1] };
    struct executor *px = pexec_new(&po);

    time_runs(exec_thread(), &req, n / 10 + 1);
    double thread_s = time_runs(exec_thread(), &req, n);
    time_runs(px, &req, n / 10 + 1);
    double process_s = time_runs(px, &req, n);
    exec_destroy(px);

    double start_s = 0;
    for (long i = 0; i < starts; i++) {
        px = pexec_new(&po);
        double t0 = pd__now();
        if (pexec_start(px, err, sizeof(err)) != 0) {
            fprintf(stderr, "exec_cost: %s\n", err);
            return 1;
        }
        start_s += pd__now() - t0;
        exec_destroy(px);
    }

    report("thread", n, thread_s);
    report("process", n, process_s);
    printf("EXEC ratio process/thread per task=%.1f\n", process_s / thread_s);
    if (starts)
        printf("EXEC helper start (spawn + load) ms=%.3f over %ld starts\n",
               start_s / (double)starts * 1e3, starts);
    return 0;
}
