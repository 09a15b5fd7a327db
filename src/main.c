/* main.c - the pdask-mpi command: run | info | check | exec-helper,
 * --help, --version; the run itself is runtime.c's. Exit codes: 0 flow
 * Completed, 1 flow Failed, 2 usage, configuration or load error, 3 a
 * worker was lost, 4 stopped before the job's end time, 128 + signal when
 * interrupted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "loader.h"
#include "log.h"
#include "pexec.h"
#include "runtime.h"
#include "topology.h"

#define EXIT_USAGE 2

/* `pdask-mpi check`: list the flows and tasks of a .so, without MPI. */
static int check(const struct options *o)
{
    struct module *m;
    char err[1024];
    int code = 0;

    if (loader_open(o->path, &m, err, sizeof(err)) != 0) {
        log_error("%s", err);
        return EXIT_USAGE;
    }
    printf("%s: %d flow%s, %d task%s\n", o->path, m->nflows,
           m->nflows == 1 ? "" : "s", m->ntasks, m->ntasks == 1 ? "" : "s");
    for (int i = 0; i < m->nflows; i++)
        printf("flow %s%s%s\n", m->flows[i]->name,
               m->flows[i]->description ? ": " : "",
               m->flows[i]->description ? m->flows[i]->description : "");
    for (int i = 0; i < m->ntasks; i++) {
        const struct pd_task_def *d = m->tasks[i];
        printf("task %s retries=%d retry_delay_s=%g timeout_s=%g\n", d->name,
               d->retries, d->retry_delay_s, d->timeout_s);
    }
    if (m->nflows == 0) {
        log_error("%s declares no flow: add PD_FLOW(fn) after the flow "
                  "function", o->path);
        code = EXIT_USAGE;
    }
    loader_close(m);
    return code;
}

int main(int argc, char **argv)
{
    struct options o;
    char err[1024];
    int rc;

    /* A process executor's helper: it must never touch MPI. */
    if (argc > 1 && strcmp(argv[1], PEXEC_SUBCOMMAND) == 0)
        return pexec_helper_main(argc, argv);
    rc = cli_parse(argc, argv, &o, err, sizeof(err));
    if (rc > 0)
        return 0;
    if (rc < 0) {
        /* Every rank sees the same bad command line: say it once. */
        if (log_first_rank())
            log_error("%s", err);
        return EXIT_USAGE;
    }
    if (strcmp(o.cmd, "check") == 0)
        return check(&o);
    /* hwloc would ignore a bad HWLOC_SYNTHETIC or HWLOC_XMLFILE. */
    if (topo_check_env(err, sizeof(err)) != 0) {
        if (log_first_rank())
            log_error("%s", err);
        return EXIT_USAGE;
    }
    return runtime_run(argv, &o);
}
