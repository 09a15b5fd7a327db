/* main.c - the pdask-mpi command: run | check, --help, --version. The only
 * place that exits: 0 flow Completed, 1 flow Failed, 2 usage or load error. */
#include <limits.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "comm.h"
#include "flow.h"
#include "loader.h"
#include "log.h"
#include "params.h"
#include "scheduler.h"
#include "topology.h"
#include "util.h"
#include "worker.h"

#define EXIT_USAGE 2

static const char usage[] =
    "usage: mpirun -n N pdask-mpi [options] FLOW.so [key=value ...]\n"
    "       pdask-mpi check FLOW.so\n"
    "       pdask-mpi --help | --version\n"
    "\n"
    "Runs the flow declared with PD_FLOW in FLOW.so: rank 0 runs the flow\n"
    "and schedules, ranks 1..N-1 run its tasks on threads. key=value words\n"
    "are the flow's parameters (pd_param_int, pd_param_real, pd_param_str).\n"
    "\n"
    "options:\n"
    "  --flow NAME                 the flow to run when FLOW.so has several\n"
    "  -t, --threads-per-worker N  executor threads per worker (default:\n"
    "                              the cores of its cpuset divided among the\n"
    "                              worker ranks that share them, by hwloc)\n"
    "  --prefetch N                short task runs queued ahead on each\n"
    "                              worker beyond its threads (default 8)\n"
    "  --log-level LEVEL           debug, info, warning or error (default\n"
    "                              info, or $PDASK_LOG_LEVEL)\n"
    "\n"
    "exit codes: 0 the flow and all its task runs completed, 1 something\n"
    "failed, 2 usage, configuration or load error.\n";

struct options {
    const char *cmd;        /* "run" or "check" */
    const char *path;
    const char *flow;
    int threads;            /* 0: from hwloc */
    int prefetch;
    int nparams;
    char **params;
};

/* A positive int from s, or -1. */
static int parse_count(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    return (end == s || *end || v < 0 || v > INT_MAX) ? -1 : (int)v;
}

/* Fill o from argv; 0, 1 when --help/--version was handled, or -1 with a
 * message in err. */
static int parse_args(int argc, char **argv, struct options *o, char *err,
                      size_t errlen)
{
    int i = 1;

    memset(o, 0, sizeof(*o));
    o->cmd = "run";
    o->prefetch = 8;
    if (getenv("PDASK_LOG_LEVEL")) {
        int l = log_parse_level(getenv("PDASK_LOG_LEVEL"));
        if (l < 0) {
            snprintf(err, errlen, "PDASK_LOG_LEVEL=%s: not a log level; "
                     "use debug, info, warning or error",
                     getenv("PDASK_LOG_LEVEL"));
            return -1;
        }
        log_set_level((enum pd_level)l);
    }
    if (i < argc && strcmp(argv[i], "check") == 0) {
        o->cmd = "check";
        i++;
    }
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 1;
        }
        if (strcmp(a, "--version") == 0) {
            char lib[MPI_MAX_LIBRARY_VERSION_STRING];
            int len = 0;
            unsigned hv = hwloc_get_api_version();
            MPI_Get_library_version(lib, &len);
            lib[strcspn(lib, ",\n")] = '\0';
            printf("pdask-mpi %s (%s; hwloc %u.%u.%u)\n", PD_VERSION_STRING,
                   lib, hv >> 16, (hv >> 8) & 0xff, hv & 0xff);
            return 1;
        }
        if (!v) {
            snprintf(err, errlen, "option %s needs a value or is unknown; "
                     "see pdask-mpi --help", a);
            return -1;
        }
        i++;
        if (strcmp(a, "--flow") == 0) {
            o->flow = v;
        } else if (strcmp(a, "-t") == 0 ||
                   strcmp(a, "--threads-per-worker") == 0) {
            o->threads = parse_count(v);
            if (o->threads < 1) {
                snprintf(err, errlen, "%s %s: give a whole number of "
                         "threads, at least 1", a, v);
                return -1;
            }
        } else if (strcmp(a, "--prefetch") == 0) {
            o->prefetch = parse_count(v);
            if (o->prefetch < 0) {
                snprintf(err, errlen, "--prefetch %s: give a whole number, "
                         "0 or more", v);
                return -1;
            }
        } else if (strcmp(a, "--log-level") == 0) {
            int l = log_parse_level(v);
            if (l < 0) {
                snprintf(err, errlen, "--log-level %s: use debug, info, "
                         "warning or error", v);
                return -1;
            }
            log_set_level((enum pd_level)l);
        } else {
            snprintf(err, errlen, "unknown option %s; see pdask-mpi --help",
                     a);
            return -1;
        }
    }
    if (i >= argc) {
        snprintf(err, errlen, "no flow given: pdask-mpi FLOW.so "
                 "[key=value ...]; see pdask-mpi --help");
        return -1;
    }
    o->path = argv[i++];
    o->nparams = argc - i;
    o->params = argv + i;
    if (strcmp(o->cmd, "check") == 0 && o->nparams) {
        snprintf(err, errlen, "check takes only FLOW.so, not '%s'",
                 o->params[0]);
        return -1;
    }
    return 0;
}

/* `pdask-mpi check`: list the flows and tasks of a .so, without MPI. */
static int check(const struct options *o)
{
    char err[1024];

    if (loader_open(o->path, err, sizeof(err)) != 0) {
        log_error("%s", err);
        return EXIT_USAGE;
    }
    printf("%s: %d flow%s, %d task%s\n", o->path, loader_nflows(),
           loader_nflows() == 1 ? "" : "s", loader_ntasks(),
           loader_ntasks() == 1 ? "" : "s");
    for (int i = 0; i < loader_nflows(); i++)
        printf("flow %s%s%s\n", loader_flow(i)->name,
               loader_flow(i)->description ? ": " : "",
               loader_flow(i)->description ? loader_flow(i)->description
                                           : "");
    for (int i = 0; i < loader_ntasks(); i++) {
        const struct pd_task_def *d = loader_task(i);
        printf("task %s retries=%d retry_delay_s=%g timeout_s=%g\n", d->name,
               d->retries, d->retry_delay_s, d->timeout_s);
    }
    if (loader_nflows() == 0) {
        log_error("%s declares no flow: add PD_FLOW(fn) after the flow "
                  "function", o->path);
        return EXIT_USAGE;
    }
    return 0;
}

/*
 * Collective: true when err is NULL on every rank. Otherwise rank 0 prints
 * the lowest failing rank's message (naming that rank and its host when it
 * is not rank 0), and every rank gets false.
 */
static bool agree(MPI_Comm comm, const char *err)
{
    int rank, bad, first;
    char msg[2048], host[256];

    MPI_Comm_rank(comm, &rank);
    bad = err ? rank : INT_MAX;
    MPI_Allreduce(&bad, &first, 1, MPI_INT, MPI_MIN, comm);
    if (first == INT_MAX)
        return true;
    if (rank == first && rank != 0) {
        gethostname(host, sizeof(host));
        host[sizeof(host) - 1] = '\0';
        snprintf(msg, sizeof(msg), "rank %d (host %s): %s", rank, host, err);
        MPI_Send(msg, (int)strlen(msg) + 1, MPI_CHAR, 0, 1, comm);
    }
    if (rank == 0) {
        if (first != 0)
            MPI_Recv(msg, sizeof(msg), MPI_CHAR, first, 1, comm,
                     MPI_STATUS_IGNORE);
        log_error("%s", first == 0 ? err : msg);
    }
    return false;
}

/* Rank 0 sends its task names; each worker maps them to its own registry.
 * A name a worker lacks means the ranks loaded different flow files. */
static bool agree_tasks(MPI_Comm comm, int rank, const char *path,
                        int **def_of, int *ndefs)
{
    struct buf b = { 0 };
    int len, n;
    char err[1024];
    const char *e = NULL;

    if (rank == 0) {
        buf_u32(&b, (uint32_t)loader_ntasks());
        for (int i = 0; i < loader_ntasks(); i++)
            buf_str(&b, loader_task(i)->name);
        len = (int)b.len;
    }
    MPI_Bcast(&len, 1, MPI_INT, 0, comm);
    if (rank != 0)
        buf_reserve(&b, (size_t)len);
    MPI_Bcast(b.data, len, MPI_BYTE, 0, comm);
    struct rd r = rd_init(b.data, (size_t)len);
    n = (int)rd_u32(&r);
    *def_of = pd__xcalloc((size_t)n + 1, sizeof(int));
    *ndefs = n;
    for (int i = 0; i < n; i++) {
        const char *name = rd_str(&r);
        (*def_of)[i] = name ? loader_task_by_name(name) : -1;
        if ((*def_of)[i] < 0 && !e) {
            snprintf(err, sizeof(err), "task '%s' is declared in %s on rank "
                     "0 but not here: every rank must load the same flow "
                     "file (copy it to every node, or use a shared path)",
                     name ? name : "?", path);
            e = err;
        }
    }
    if (!e && rank != 0 && loader_ntasks() != n) {
        snprintf(err, sizeof(err), "%s declares %d tasks here but %d on "
                 "rank 0: every rank must load the same flow file", path,
                 loader_ntasks(), n);
        e = err;
    }
    buf_free(&b);
    return agree(comm, e);
}

/* Executor threads for this rank: -t, or the cores of its cpuset divided
 * among the worker ranks of its node that share that cpuset. */
static int size_threads(MPI_Comm world, int rank, int forced,
                        struct topology *tp, bool have_topo, int *first_core)
{
    MPI_Comm node;
    int nrank, nsize, same = 0, index = 0;
    unsigned long h = 5381;
    char *s;

    MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL,
                        &node);
    MPI_Comm_rank(node, &nrank);
    MPI_Comm_size(node, &nsize);
    s = have_topo ? topo_cpuset_string(tp) : NULL;
    for (const char *c = s ? s : ""; *c; c++)
        h = h * 33 + (unsigned char)*c;
    free(s);
    /* Rank 0 schedules and does not take a share of the cores. */
    unsigned long mine[2] = { h, rank != 0 }, *all =
        pd__xcalloc((size_t)nsize * 2, sizeof(unsigned long));
    MPI_Allgather(mine, 2, MPI_UNSIGNED_LONG, all, 2, MPI_UNSIGNED_LONG, node);
    for (int i = 0; i < nsize; i++) {
        if (all[2 * i] == h && all[2 * i + 1]) {
            if (i < nrank)
                index++;
            same++;
        }
    }
    free(all);
    MPI_Comm_free(&node);
    int cores = have_topo ? tp->ncores : 1;
    int threads = forced ? forced : (same ? cores / same : cores);
    if (threads < 1)
        threads = 1;
    *first_core = index * threads;
    return threads;
}

static int run(const struct options *o)
{
    int rank, size, provided, code = EXIT_USAGE, ndefs = 0, first_core = 0;
    char err[1024];
    const char *e = NULL;
    const struct pd_flow_def *def = NULL;
    struct pd_params params = { 0 };
    struct topology tp;
    bool have_topo;
    int *def_of = NULL, *threads = NULL;
    struct comm c;

    MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (provided < MPI_THREAD_FUNNELED) {
        e = "this MPI library does not support MPI_THREAD_FUNNELED";
    } else if (size < 2) {
        e = "needs at least 2 ranks (rank 0 schedules, the others work): "
            "run it as mpirun -n N pdask-mpi FLOW.so with N >= 2";
    } else if (params_parse(&params, o->nparams, o->params, err,
                            sizeof(err)) != 0) {
        e = err;
    } else if (loader_open(o->path, err, sizeof(err)) != 0) {
        e = err;
    } else if (rank == 0 &&
               !(def = loader_find_flow(o->path, o->flow, err, sizeof(err)))) {
        e = err;
    }
    if (!agree(MPI_COMM_WORLD, e) ||
        !agree_tasks(MPI_COMM_WORLD, rank, o->path, &def_of, &ndefs))
        goto out;

    have_topo = topo_init(&tp) == 0;
    if (!have_topo && rank == 1)
        log_msg(PD_WARNING, "pdask-mpi", "hwloc could not read the "
                "topology: one executor thread per worker");
    int mine = size_threads(MPI_COMM_WORLD, rank, o->threads, &tp, have_topo,
                            &first_core);
    threads = pd__xcalloc((size_t)size, sizeof(int));
    MPI_Gather(&mine, 1, MPI_INT, threads, 1, MPI_INT, 0, MPI_COMM_WORLD);

    comm_init(&c, MPI_COMM_WORLD);
    if (rank == 0) {
        struct pd_flow *f = pd__xmalloc(sizeof(*f));
        struct sched_opts so = { threads, o->prefetch };
        int from = 0;
        const char *key;

        flow_init(f, def, &params, &c);
        code = sched_run(&c, f, &so);
        while (code != EXIT_USAGE && (key = params_unused(&params, &from)))
            log_msg(PD_WARNING, def->name, "parameter '%s' was given but the "
                    "flow never read it: check its spelling", key);
        flow_destroy(f);
        free(f);
    } else {
        /* Task output reaches mpirun through a pipe: keep it in order
         * with the logs instead of in a 4 KiB block at exit. */
        setvbuf(stdout, NULL, _IOLBF, 0);
        struct worker_opts wo = { mine, def_of, ndefs,
                                  have_topo ? &tp : NULL, first_core };
        code = worker_run(&c, &wo);
    }
    comm_destroy(&c);
    if (have_topo)
        topo_destroy(&tp);
out:
    free(def_of);
    free(threads);
    params_free(&params);
    MPI_Finalize();
    return code;
}

int main(int argc, char **argv)
{
    struct options o;
    char err[1024];
    int rc = parse_args(argc, argv, &o, err, sizeof(err));

    if (rc > 0)
        return 0;
    if (rc < 0) {
        /* Every rank sees the same bad command line: say it once. */
        const char *r = getenv("OMPI_COMM_WORLD_RANK");
        if (!r)
            r = getenv("PMIX_RANK");
        if (!r || strcmp(r, "0") == 0)
            log_error("%s", err);
        return EXIT_USAGE;
    }
    if (strcmp(o.cmd, "check") == 0)
        return check(&o);
    return run(&o);
}
