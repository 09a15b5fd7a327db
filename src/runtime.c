/* runtime.c - one pdask-mpi process from MPI_Init to MPI_Finalize: the
 * settings resolved, the cluster made or joined, tasks agreed, threads
 * sized (start); then `info` (show_info) or the flow run (run_flow): rank 0
 * schedules and runs the flow, the other ranks work. */
#include "runtime.h"

#include <mpi.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "cluster.h"
#include "comm.h"
#include "config.h"
#include "flow.h"
#include "journal.h"
#include "loader.h"
#include "log.h"
#include "params.h"
#include "relay.h"
#include "report.h"
#include "pdask_cluster.h"
#include "scheduler.h"
#include "topology.h"
#include "util.h"
#include "worker.h"

#define EXIT_USAGE 2

/* Everything a run needs before MPI matters: settings (defaults < INI <
 * PD_FLOW < command line), parameters, the flow. NULL, or the message. */
static const char *resolve(const struct options *o, struct config *cfg,
                           struct pd_params *params, struct module **mod,
                           const struct pd_flow_def **def, char *err,
                           size_t errlen)
{
    const char *file = config_pick_file(o->config_file);

    config_init(cfg);
    if (file && config_load_ini(cfg, file, err, errlen) != 0)
        return err;
    if (params_parse(params, o->nparams, o->params, err, errlen) != 0)
        return err;
    if (o->path) {
        if (loader_open(o->path, mod, err, errlen) != 0)
            return err;
        *def = loader_find_flow(*mod, o->flow, err, errlen);
        if (!*def)
            return err;
        if (config_apply_flow(cfg, *def, err, errlen) != 0)
            return err;
    }
    for (int i = 0; i < o->ncli; i++)
        if (config_set(cfg, o->cli[i].section, o->cli[i].key,
                       o->cli[i].value, o->cli[i].source, err, errlen) != 0)
            return err;
    if (config_validate(cfg, err, errlen) != 0)
        return err;
    log_set_level((enum pd_level)log_parse_level(cfg->log_level));
    return NULL;
}

const char *runtime_resolve(const struct options *o, struct config *cfg,
                            struct pd_params *params, struct module **mod,
                            const struct pd_flow_def **def, char *err,
                            size_t errlen)
{
    return resolve(o, cfg, params, mod, def, err, errlen);
}

/* Start the temporary cluster a lone process needs (cluster_class auto or
 * spawn): n_workers, else fill the node. NULL, or the message. */
static const char *start_temporary(struct config *cfg, char **argv,
                                   MPI_Comm *comm, MPI_Comm *inter,
                                   const struct pd_cluster_ops **ops,
                                   char *err, size_t errlen)
{
    struct topology tp;
    int workers, threads, cores = 1;

    if (strcmp(cfg->cluster_class, "mpi") == 0) {
        snprintf(err, errlen, "cluster_class mpi (%s) runs on the ranks of "
                 "the job, and there is only one: run mpirun -n N pdask-mpi "
                 "with N >= 2, or use cluster_class spawn",
                 cfg->source[CFG_cluster_class]);
        return err;
    }
    if (topo_init(&tp) == 0) {
        cores = tp.ncores;
        topo_destroy(&tp);
    }
    cluster_fill_node(cores, &workers, &threads);
    if (cfg->n_workers > 0)
        workers = (int)cfg->n_workers;
    else if (!config_is_set(cfg, CFG_threads_per_worker))
        cfg->threads_per_worker = threads;
    if (strchr(cfg->cluster_class, ':')) {
        struct pd_cluster_req req = {
            workers, (int)cfg->threads_per_worker, NULL, argv + 1,
            cfg->timeout_s, cfg->resources,
        };
        log_msg(PD_INFO, "pdask-mpi", "Creating a cluster with %s: %d "
                "workers", cfg->cluster_class, workers);
        if (cluster_plugin_start(cfg->cluster_class, &req, comm, inter, ops,
                                 err, errlen) != 0)
            return err;
        return NULL;
    }
    log_msg(PD_INFO, "pdask-mpi", "Creating a temporary cluster: spawning "
            "%d workers", workers);
    if (cluster_spawn(workers, argv + 1, comm, inter, err, errlen) != 0)
        return err;
    return NULL;
}

/* Check the settings against a job of size ranks (cluster_class mpi). */
static const char *check_mpi_class(const struct config *cfg, int size,
                                   int rank, char *err, size_t errlen)
{
    if (strcmp(cfg->cluster_class, "auto") != 0 &&
        strcmp(cfg->cluster_class, "mpi") != 0) {
        snprintf(err, errlen, "cluster_class %s (%s) starts its own "
                 "workers: run pdask-mpi without mpirun (or with -n 1), or "
                 "use cluster_class mpi for the job's %d ranks",
                 cfg->cluster_class, cfg->source[CFG_cluster_class], size);
        return err;
    }
    if (config_is_set(cfg, CFG_n_workers) && cfg->n_workers != size - 1 &&
        rank == 0)
        log_msg(PD_WARNING, "pdask-mpi", "n_workers = %ld (%s) does not "
                "apply to cluster_class mpi: the job's %d worker ranks are "
                "the workers", cfg->n_workers, cfg->source[CFG_n_workers],
                size - 1);
    return NULL;
}

/* Start-up watchdog: a rank that never joins would hang the others in a
 * collective; instead, past client_kwargs timeout, rank 0 says so and
 * every rank exits 2. Other ranks wait a little longer, so the message
 * comes from rank 0 whenever rank 0 is alive. */
struct watchdog {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done, started;
    double timeout_s;
    int rank;
    char msg[512];
};

static void *watchdog_main(void *arg)
{
    struct watchdog *wd = arg;
    double wait = wd->timeout_s + (wd->rank ? 2.0 : 0.0);
    struct timespec ts;
    bool done;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)wait;
    ts.tv_nsec += (long)((wait - (double)(time_t)wait) * 1e9);
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&wd->mu);
    while (!wd->done &&
           pthread_cond_timedwait(&wd->cv, &wd->mu, &ts) == 0)
        ;
    done = wd->done;
    pthread_mutex_unlock(&wd->mu);
    if (!done) {
        log_error("%s", wd->msg);
        _exit(EXIT_USAGE);
    }
    return NULL;
}

static void watchdog_start(struct watchdog *wd, const struct config *cfg,
                           int rank, const char *path)
{
    memset(wd, 0, sizeof(*wd));
    wd->timeout_s = cfg->timeout_s;
    wd->rank = rank;
    snprintf(wd->msg, sizeof(wd->msg), "rank %d: start-up did not finish "
             "within %g s (client_kwargs timeout, %s): a rank did not join; "
             "check that every rank can start pdask-mpi and load %s, or "
             "raise the timeout", rank, cfg->timeout_s,
             cfg->source[CFG_timeout_s], path ? path : "the flow");
    pthread_mutex_init(&wd->mu, NULL);
    pthread_cond_init(&wd->cv, NULL);
    /* Without a watchdog a rank that never joins hangs the others. */
    wd->started = pthread_create(&wd->th, NULL, watchdog_main, wd) == 0;
    if (!wd->started)
        log_msg(PD_WARNING, "pdask-mpi", "rank %d: cannot start the start-up "
                "watchdog thread: a rank that never joins will not be "
                "reported", rank);
}

static void watchdog_stop(struct watchdog *wd)
{
    pthread_mutex_lock(&wd->mu);
    wd->done = true;
    pthread_cond_signal(&wd->cv);
    pthread_mutex_unlock(&wd->mu);
    if (wd->started)
        pthread_join(wd->th, NULL);
    pthread_mutex_destroy(&wd->mu);
    pthread_cond_destroy(&wd->cv);
}

struct world {
    MPI_Comm comm;     /* rank 0 schedules, the others work */
    MPI_Comm inter;    /* spawned workers and their spawner: what comm
                          was merged from, or MPI_COMM_NULL */
    int rank, size;
    bool spawned;      /* this process is a spawned worker */
};

/* Print what `info` knows: settings, the MPI world, the topology. */
/* "0-3" or "6-7,0-1": the cores threads executors of a rank starting at
 * core first bind to, out of n. */
static void core_list(int first, int threads, int n, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int k = 0; k < threads && k < n && used < len; k++) {
        int c = (first + k) % n, end = c;
        while (k + 1 < threads && k + 1 < n && (first + k + 1) % n == end + 1) {
            end++;
            k++;
        }
        used += (size_t)snprintf(buf + used, len - used, "%s%d", used ? "," : "",
                                 c);
        if (end != c && used < len)
            used += (size_t)snprintf(buf + used, len - used, "-%d", end);
    }
}

/* "    resources: GPU=1 (pdask.ini:7), CPU=1 (hwloc)" */
static void print_tags(const struct res_tags *t)
{
    if (!t->set.n) {
        printf("    resources: none\n");
        return;
    }
    printf("    resources:");
    for (int i = 0; i < t->set.n; i++) {
        char a[32];
        res_format_amount(t->set.it[i].amt, a, sizeof(a));
        printf("%s %s=%s (%s)", i ? "," : "", t->set.it[i].name, a,
               t->source[i]);
    }
    printf("\n");
}

static void print_info(const struct world *w, const struct config *cfg,
                       const char *file, const int *threads,
                       const struct res_tags *tags,
                       const int *firsts, const int *ncores,
                       const char *hosts, const struct topology *tp,
                       bool have_topo)
{
    char lib[MPI_MAX_LIBRARY_VERSION_STRING], topo[256];
    int len = 0;

    MPI_Get_library_version(lib, &len);
    lib[strcspn(lib, ",\n")] = '\0';
    printf("pdask-mpi %s (%s)\n", PD_VERSION_STRING, lib);
    printf("config file: %s\n", file ? file : "none (no -c FILE, "
           "./pdask.ini or $PDASK_CONFIG)");
    printf("settings:\n");
    config_print(cfg, stdout);
    if (w->size == 1 && cfg->adapt_maximum > 0 &&
        !strchr(cfg->cluster_class, ':') &&
        strcmp(cfg->cluster_class, "mpi") != 0) {
        printf("MPI world: 1 rank: a run starts with no worker and spawns "
               "them as work comes (adaptive)\n");
    } else if (w->size == 1) {
        int workers, th;
        cluster_fill_node(have_topo ? tp->ncores : 1, &workers, &th);
        if (cfg->n_workers > 0)
            workers = (int)cfg->n_workers;
        if (cfg->threads_per_worker > 0)
            th = (int)cfg->threads_per_worker;
        printf("MPI world: 1 rank: a run spawns a temporary cluster of %d "
               "workers x %d threads\n", workers, th);
    } else {
        printf("MPI world: %d ranks: 1 scheduler + %d workers\n", w->size,
               w->size - 1);
    }
    if (cfg->adapt_maximum > 0)
        printf("adaptive: between %ld and %ld workers (the job's own "
               "ranks count and stay); a decision every %g s for work to "
               "end within %g s; an idle worker retired after %ld "
               "proposals; an untimed task counts %g s\n",
               cfg->adapt_minimum, cfg->adapt_maximum, cfg->adapt_interval_s,
               cfg->adapt_target_s, cfg->adapt_wait_count,
               cfg->adapt_unknown_s);
    for (int r = 0; r < w->size; r++) {
        if (r == 0)
            printf("  rank 0 on %s: scheduler and flow\n", hosts);
        else
        {
            char cores[256];
            core_list(firsts[r], threads[r], ncores[r], cores, sizeof(cores));
            printf("  rank %d on %s: worker, %d thread%s on core%s %s\n", r,
                   hosts + (size_t)r * MPI_MAX_PROCESSOR_NAME, threads[r],
                   threads[r] == 1 ? "" : "s", strpbrk(cores, ",-") ? "s" : "",
                   cores);
            print_tags(&tags[r]);
        }
    }
    if (have_topo) {
        topo_summary(tp, topo, sizeof(topo));
        printf("topology of %s: %s; this process may use %d cores\n", hosts,
               topo, tp->ncores);
    } else {
        printf("topology: hwloc could not read it\n");
    }
}

/* Everything one pdask-mpi process holds between start-up and exit. */
struct run {
    const struct options *o;
    struct world w;
    struct config cfg;
    struct pd_params params;
    struct report rep;           /* rank 0: status file and trace */
    struct journal *jnl;         /* rank 0: the resume journal, or NULL */
    struct module *mod;
    const struct pd_flow_def *def;
    int *def_of, ndefs;          /* rank 0's task index -> local index */
    struct topology tp;
    bool have_topo;
    int *threads;                /* rank 0: executor threads of each rank */
    int mine, first_core;        /* this rank's threads and first core */
    struct res_found found;      /* this rank's share of its node's GPUs */
    struct res_tags *tags;       /* rank 0: resource tags of each rank */
    const struct pd_cluster_ops *ops;
    char **argv;                 /* the command line, for spawned workers */
    bool temporary;              /* rank 0 started its workers (spawn or
                                    plugin): they disconnect at the end */
};

/* Each rank's resource tags (hwloc's share of its node, then the INI
 * file's), gathered on rank 0. Collective. */
static void gather_tags(struct run *r, const int share[2])
{
    char host[MPI_MAX_PROCESSOR_NAME] = "";
    struct res_tags mine;
    int len = 0;

    r->found.cpus = r->mine;
    if (r->have_topo) {
        r->found.mem = topo_memory(&r->tp) / (uint64_t)share[1];
        res_split(topo_gpus(&r->tp), share[0], share[1], &r->found.gpu_first,
                  &r->found.gpus);
    }
    MPI_Get_processor_name(host, &len);
    res_worker_tags(&mine, &r->found, &r->cfg, r->w.rank, host);
    if (r->w.rank == 0)
        r->tags = pd__xcalloc((size_t)r->w.size, sizeof(*r->tags));
    MPI_Gather(&mine, (int)sizeof(mine), MPI_BYTE, r->tags, (int)sizeof(mine),
               MPI_BYTE, 0, r->w.comm);
}

/* Adaptive scaling with no job ranks to start from: a lone process (or
 * mpirun -n 1) starts with no worker and spawns as work comes. */
static bool adaptive_alone(const struct config *cfg)
{
    return cfg->adapt_maximum > 0 && !strchr(cfg->cluster_class, ':') &&
           strcmp(cfg->cluster_class, "mpi") != 0;
}

/* MPI up, settings resolved, the cluster made or joined, tasks agreed,
 * threads sized. false after the error was reported (exit 2). */
static bool start(struct run *r, char **argv)
{
    const struct options *o = r->o;
    bool info = strcmp(o->cmd, "info") == 0;
    struct watchdog wd;
    char err[1024];
    const char *e;
    int provided;

    MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    r->w.inter = MPI_COMM_NULL;
    r->w.comm = cluster_join_parent(&r->w.inter);
    r->w.spawned = r->w.comm != MPI_COMM_NULL;
    if (!r->w.spawned)
        MPI_Comm_dup(MPI_COMM_WORLD, &r->w.comm);
    MPI_Comm_rank(r->w.comm, &r->w.rank);
    MPI_Comm_size(r->w.comm, &r->w.size);

    e = resolve(o, &r->cfg, &r->params, &r->mod, &r->def, err, sizeof(err));
    r->rep.status_fd = -1;
    /* Before the others agree to start: a path that cannot be written
     * stops every rank with exit 2. */
    if (!e && !info && r->w.rank == 0 && strcmp(o->cmd, "serve") != 0 &&
        report_open(&r->rep, r->cfg.status_path, r->cfg.trace_path,
                    r->cfg.report_path, err, sizeof(err)) != 0)
        e = err;
    if (!e && !info && r->w.rank == 0 && r->cfg.journal_path[0]) {
        struct journal_flow jf = { o->path, r->def->name, &r->params };
        if (journal_open(&r->jnl, r->cfg.journal_path, &jf,
                         r->cfg.retry_failed != 0, err, sizeof(err)) != 0)
            e = err;
    }
    watchdog_start(&wd, &r->cfg, r->w.rank, o->path);
    if (!e && provided < MPI_THREAD_FUNNELED)
        e = "this MPI library does not support MPI_THREAD_FUNNELED";
    bool serve = strcmp(o->cmd, "serve") == 0;
    if (serve && !r->w.spawned && r->w.size == 1 && !e)
        e = "pdask-mpi serve runs on the ranks of a job: mpirun -n N "
            "pdask-mpi serve with N >= 2 (rank 0 serves, the others work)";
    if (serve && !e && r->cfg.adapt_maximum > 0) {
        snprintf(err, sizeof(err), "adapt_kwargs (%s): a served cluster "
                 "keeps the job's workers; adaptive scaling is for a flow's "
                 "own cluster", r->cfg.source[CFG_adapt_maximum]);
        e = err;
    }
    r->argv = argv;
    if (!info && !serve && !r->w.spawned && r->w.size == 1 && !e &&
        adaptive_alone(&r->cfg)) {
        log_msg(PD_INFO, "pdask-mpi", "Adaptive cluster: starting with no "
                "worker, spawning between %ld and %ld as work comes",
                r->cfg.adapt_minimum, r->cfg.adapt_maximum);
    } else if (!info && !serve && !r->w.spawned && r->w.size == 1) {
        /* Alone: make a temporary cluster, or say why not. */
        if (!e)
            e = start_temporary(&r->cfg, argv, &r->w.comm, &r->w.inter,
                                &r->ops, err, sizeof(err));
        if (e) {
            log_error("%s", e);
            watchdog_stop(&wd);
            return false;
        }
        MPI_Comm_size(r->w.comm, &r->w.size);
        r->temporary = true;
    } else if (!info && !r->w.spawned && !e) {
        e = check_mpi_class(&r->cfg, r->w.size, r->w.rank, err, sizeof(err));
    }
    if (!cluster_agree(r->w.comm, e) ||
        (o->path && !cluster_agree_tasks(r->w.comm, r->mod, o->path,
                                         &r->def_of, &r->ndefs))) {
        watchdog_stop(&wd);
        return false;
    }

    r->have_topo = topo_init(&r->tp) == 0;
    if (!r->have_topo && r->w.rank == 1)
        log_msg(PD_WARNING, "pdask-mpi", "hwloc could not read the "
                "topology: one executor thread per worker");
    int share[2];
    r->mine = cluster_size_threads(r->w.comm, (int)r->cfg.threads_per_worker,
                                   r->have_topo ? &r->tp : NULL,
                                   &r->first_core, share);
    r->threads = pd__xcalloc((size_t)r->w.size, sizeof(int));
    MPI_Gather(&r->mine, 1, MPI_INT, r->threads, 1, MPI_INT, 0, r->w.comm);
    gather_tags(r, share);
    watchdog_stop(&wd);
    return true;
}

/* `pdask-mpi info`: gather hosts and binding, rank 0 prints. */
static int show_info(struct run *r)
{
    int len = 0, place[2] = { r->first_core, r->have_topo ? r->tp.ncores : 1 };
    int n = r->w.size, *places = pd__xcalloc((size_t)n * 2, sizeof(int));
    int *firsts = pd__xcalloc((size_t)n, sizeof(int));
    int *ncores = pd__xcalloc((size_t)n, sizeof(int));
    char name[MPI_MAX_PROCESSOR_NAME] = "";
    char *hosts = pd__xcalloc((size_t)n, MPI_MAX_PROCESSOR_NAME);

    MPI_Get_processor_name(name, &len);
    MPI_Gather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, hosts,
               MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0, r->w.comm);
    MPI_Gather(place, 2, MPI_INT, places, 2, MPI_INT, 0, r->w.comm);
    for (int i = 0; i < n; i++) {
        firsts[i] = places[2 * i];
        ncores[i] = places[2 * i + 1];
    }
    if (r->w.rank == 0)
        print_info(&r->w, &r->cfg, config_pick_file(r->o->config_file),
                   r->threads, r->tags, firsts, ncores, hosts, &r->tp,
                   r->have_topo);
    free(places);
    free(firsts);
    free(ncores);
    free(hosts);
    return 0;
}

static void ignore_signal(int sig)
{
    (void)sig;
}

/* `pdask-mpi serve`: rank 0 relays for clients (relay.c), the others
 * work, loading each client's module when it connects. The exit code. */
static int serve(struct run *r, struct comm *c)
{
    if (r->w.rank == 0) {
        struct relay_opts ro = { r->threads, r->w.size, r->tags,
                                 r->cfg.listen, r->cfg.scheduler_file,
                                 r->cfg.heartbeat_s, r->cfg.timeout_s };
        struct sigaction sa = { .sa_handler = relay_interrupt };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        return relay_run(c, &ro);
    }
    struct worker_opts wo = { r->mine, NULL, NULL, 0, r->w.size,
                              r->have_topo ? &r->tp : NULL, r->first_core,
                              r->cfg.heartbeat_s / 4, r->cfg.isolation,
                              r->found.gpu_first, r->found.gpus,
                              !strcmp(r->cfg.task_output, "forward") };
    /* mpirun passes SIGTERM to every rank: rank 0 stops the workers
     * (TAG_STOP), so each exits 0 after its runs. A handler, not
     * SIG_IGN, as in run_flow. */
    struct sigaction sa = { .sa_handler = ignore_signal };
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    return worker_run(c, &wo);
}

/* The spawned workers' command line: this one, with --threads-per-worker
 * when none was set, so they take a LocalCluster's share of the node
 * (cluster_fill_node) rather than each all the cores. Free with free(). */
static char **spawn_args(const struct run *r, char *num, size_t len)
{
    char **in = r->argv + 1;
    int n = 0, k = 0, workers, th, cores = r->have_topo ? r->tp.ncores : 1;

    while (in[n])
        n++;
    char **out = pd__xcalloc((size_t)n + 3, sizeof(*out));
    if (config_is_set(&r->cfg, CFG_threads_per_worker)) {
        memcpy(out, in, (size_t)n * sizeof(*out));
        return out;
    }
    cluster_fill_node(cores, &workers, &th);
    snprintf(num, len, "%d", th);
    if (n && strcmp(in[0], "run") == 0)
        out[k++] = in[0];
    out[k++] = "--threads-per-worker";
    out[k++] = num;
    for (int i = k - 2; i < n; i++)
        out[k++] = in[i];
    return out;
}

/* struct sched_grow's spawn: n more workers by MPI_Comm_spawn (or the
 * plugin's scale), joined as start() joins a temporary cluster's: they
 * agree on the task table and size their threads with hwloc. */
static int spawn_workers(void *ctx, int n, MPI_Comm *comm, MPI_Comm *inter,
                         int *threads, struct res_tags *tags, char *err,
                         size_t errlen)
{
    struct run *r = ctx;
    int *def_of = NULL, ndefs = 0, first = 0, mine = 0, size = 0;
    bool ok;

    if (r->ops) {
        struct pd_cluster_req req = {
            n, (int)r->cfg.threads_per_worker, cluster_self_exe(),
            r->argv + 1, r->cfg.timeout_s, r->cfg.resources,
        };
        *inter = MPI_COMM_NULL;
        if (!r->ops->scale) {
            snprintf(err, errlen, "cluster_class %s has no scale() to add "
                     "workers", r->cfg.cluster_class);
            return -1;
        }
        err[0] = '\0';
        if (r->ops->scale(&req, n, inter, err, errlen) != 0 ||
            *inter == MPI_COMM_NULL) {
            if (!err[0])
                snprintf(err, errlen, "cluster_class %s: scale() failed",
                         r->cfg.cluster_class);
            return -1;
        }
        MPI_Intercomm_merge(*inter, 0, comm);
    } else {
        char num[16];
        char **args = spawn_args(r, num, sizeof(num));
        int rc = cluster_spawn(n, args, comm, inter, err, errlen);
        free(args);
        if (rc != 0)
            return -1;
    }
    /* The other side of start(): agree, tasks, threads. */
    ok = cluster_agree(*comm, NULL) &&
         (!r->o->path || cluster_agree_tasks(*comm, r->mod, r->o->path,
                                             &def_of, &ndefs));
    free(def_of);
    if (!ok) {
        snprintf(err, errlen, "the spawned workers could not join (see the "
                 "error above)");
        cluster_leave(comm, inter);
        return -1;
    }
    int share[2];
    mine = cluster_size_threads(*comm, (int)r->cfg.threads_per_worker,
                                r->have_topo ? &r->tp : NULL, &first, share);
    MPI_Comm_size(*comm, &size);
    int *all = pd__xcalloc((size_t)size, sizeof(int));
    MPI_Gather(&mine, 1, MPI_INT, all, 1, MPI_INT, 0, *comm);
    for (int i = 1; i < size && i <= n; i++)
        threads[i] = all[i];
    free(all);
    /* Their resource tags, as gather_tags() sends them from start(). */
    struct res_tags none = { 0 }, *got = pd__xcalloc((size_t)size,
                                                      sizeof(*got));
    MPI_Gather(&none, (int)sizeof(none), MPI_BYTE, got, (int)sizeof(none),
               MPI_BYTE, 0, *comm);
    for (int i = 1; i < size && i <= n; i++)
        tags[i] = got[i];
    free(got);
    return 0;
}

/* Run the flow: rank 0 schedules, the others work. The exit code. */
static int run_flow(struct run *r)
{
    struct comm c;
    int code;

    comm_init(&c, r->w.comm);
    if (strcmp(r->o->cmd, "serve") == 0) {
        code = serve(r, &c);
    } else if (r->w.rank == 0) {
        struct pd_flow *f = pd__xmalloc(sizeof(*f));
        struct sched_grow grow = {
            { (int)r->cfg.adapt_minimum, (int)r->cfg.adapt_maximum,
              r->cfg.adapt_interval_s, r->cfg.adapt_target_s,
              (int)r->cfg.adapt_wait_count },
            r->cfg.adapt_unknown_s, spawn_workers, r,
        };
        struct sched_opts so = {
            .threads = r->threads, .nranks = r->w.size, .tags = r->tags,
            .prefetch = (int)r->cfg.prefetch,
            .heartbeat_s = r->cfg.heartbeat_s, .report = &r->rep,
            .progress_s = r->cfg.progress_s, .journal = r->jnl,
            .journal_path = r->cfg.journal_path[0] ? r->cfg.journal_path
                                                   : NULL,
            .grace_s = r->cfg.grace_s,
            .grow = r->cfg.adapt_maximum > 0 ? &grow : NULL,
        };
        int from = 0;
        const char *key;

        struct sigaction sa = { .sa_handler = sched_interrupt };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        flow_init(f, 1, r->mod, r->def, r->cfg.name, &r->params, &c);
        report_context(&r->rep, f->name, &r->cfg, &r->params, r->threads,
                       r->w.size);
        code = sched_run(&c, f, &so);
        while (code != EXIT_USAGE &&
               (key = params_unused(&r->params, &from)))
            log_msg(PD_WARNING, f->name, "parameter '%s' was given but the "
                    "flow never read it: check its spelling", key);
        flow_destroy(f);
        free(f);
        report_close(&r->rep, code);
        journal_close(r->jnl);
        r->jnl = NULL;
        if (so.spawn_failed && !so.lost && code != EXIT_USAGE) {
            /* Open MPI 4.1's mpirun waits for ever for a job that failed
             * to spawn, after every process has exited: end it. */
            log_msg(PD_INFO, "pdask-mpi", "Ending the job with MPI_Abort "
                    "(exit code %d): mpirun would wait for the workers "
                    "that failed to spawn", code);
            fflush(NULL);
            MPI_Abort(MPI_COMM_WORLD, code);
        }
        if (so.lost) {
            /* The lost rank may never exit: end the whole job. */
            fflush(NULL);
            MPI_Abort(r->w.comm, code);
        }
    } else {
        struct worker_opts wo = { r->mine, r->mod, r->def_of, r->ndefs,
                                  r->w.size, r->have_topo ? &r->tp : NULL,
                                  r->first_core, r->cfg.heartbeat_s / 4,
                                  r->cfg.isolation, r->found.gpu_first,
                                  r->found.gpus,
                                  !strcmp(r->cfg.task_output, "forward") };
        /* Task output reaches mpirun through a pipe: keep it in order
         * with the logs instead of in a 4 KiB block at exit. */
        setvbuf(stdout, NULL, _IOLBF, 0);
        /* mpirun and scancel signal every rank: with a grace period,
         * rank 0 decides when the runs here stop (TAG_STOP, or its exit
         * ends the job). A handler, not SIG_IGN, so that programs a task
         * starts get the default back. */
        if (r->cfg.grace_s > 0) {
            struct sigaction sa = { .sa_handler = ignore_signal };
            sigemptyset(&sa.sa_mask);
            sa.sa_flags = SA_RESTART;
            sigaction(SIGINT, &sa, NULL);
            sigaction(SIGTERM, &sa, NULL);
        }
        code = worker_run(&c, &wo);
    }
    comm_destroy(&c);
    return code;
}

int runtime_run(char **argv, const struct options *o)
{
    struct run r = { .o = o };
    int code = EXIT_USAGE;

    /* A client of a served cluster never starts MPI. */
    if (strcmp(o->cmd, "serve") == 0 && o->shutdown)
        return client_shutdown(o);
    if (client_wanted(o))
        return client_run(o);

    if (start(&r, argv))
        code = strcmp(o->cmd, "info") == 0 ? show_info(&r) : run_flow(&r);
    if (r.have_topo)
        topo_destroy(&r.tp);
    free(r.def_of);
    free(r.threads);
    free(r.tags);
    journal_close(r.jnl);
    params_free(&r.params);
    config_free(&r.cfg);
    loader_close(r.mod);
    /* Spawned workers and the process that spawned them disconnect, so
     * that one can leave before the other (adaptive retirement). */
    if (r.w.spawned || r.temporary)
        cluster_leave(&r.w.comm, &r.w.inter);
    else
        MPI_Comm_free(&r.w.comm);
    if (r.ops && r.ops->close)
        r.ops->close();
    MPI_Finalize();
    /* Spawned workers leave the exit code to the flow's process. */
    return r.w.spawned ? 0 : code;
}

