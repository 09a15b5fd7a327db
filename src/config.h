/*
 * config.h - the runner's settings, DaskTaskRunner's parameters in C:
 * built-in defaults < INI file < the flow's PD_FLOW(...) < command line.
 * Every setting remembers where its value came from, for `pdask-mpi info`
 * and for error messages (file:line).
 */
#ifndef PD_CONFIG_H
#define PD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "pdask.h"
#include "resources.h"

/* X(section, key, field, type, default, minimum, maximum) - the one schema.
 * Types: STR (char *), INT (long, minimum <= v <= maximum), REAL (double,
 * minimum < v <= maximum). The maxima keep counts and times far from
 * int and time_t overflow and still above any real use: 4096 workers
 * (larger jobs use mpirun -n), 1024 threads per worker (more than the
 * cores of any node), 65536 queued runs, 1e6 s (11.6 days, longer than
 * any batch walltime). */
#define CONFIG_KEYS(X)                                                       \
    X(task_runner, address, address, STR, "", 0, 0)                         \
    X(task_runner, cluster_class, cluster_class, STR, "auto", 0, 0)         \
    X(task_runner, journal, journal_path, STR, "", 0, 0)                    \
    X(task_runner, retry_failed, retry_failed, INT, 0, 0, 1)                \
    X(task_runner, grace_period, grace_s, REAL, 10, 0, 1e6)                 \
    X(task_runner, scheduler_file, scheduler_file, STR, "", 0, 0)           \
    X(task_runner, token_file, token_file, STR, "", 0, 0)                   \
    X(serve, listen, listen, STR, "tcp://127.0.0.1:8786", 0, 0)             \
    X(cluster_kwargs, n_workers, n_workers, INT, 0, 0, 4096)                \
    X(cluster_kwargs, threads_per_worker, threads_per_worker, INT, 0, 0,    \
      1024)                                                                  \
    X(cluster_kwargs, resources, resources, STR, "", 0, 0)                  \
    X(cluster_kwargs, prefetch, prefetch, INT, 8, 0, 65536)                 \
    X(cluster_kwargs, isolation, isolation, STR, "thread", 0, 0)            \
    X(adapt_kwargs, minimum, adapt_minimum, INT, 0, 0, 4096)                \
    X(adapt_kwargs, maximum, adapt_maximum, INT, 0, 0, 4096)                \
    X(adapt_kwargs, interval, adapt_interval_s, REAL, 1, 0, 1e6)            \
    X(adapt_kwargs, target_duration, adapt_target_s, REAL, 5, 0, 1e6)       \
    X(adapt_kwargs, wait_count, adapt_wait_count, INT, 3, 1, 1000)          \
    X(adapt_kwargs, unknown_duration, adapt_unknown_s, REAL, 0.5, 0, 1e6)   \
    X(client_kwargs, timeout, timeout_s, REAL, 60, 0, 1e6)                  \
    X(client_kwargs, heartbeat, heartbeat_s, REAL, 10, 0, 1e6)              \
    X(client_kwargs, progress, progress_s, REAL, 30, 0, 1e6)                \
    X(client_kwargs, status_path, status_path, STR, "", 0, 0)               \
    X(client_kwargs, trace_path, trace_path, STR, "", 0, 0)                 \
    X(client_kwargs, performance_report_path, report_path, STR, "", 0, 0)   \
    X(client_kwargs, name, name, STR, "", 0, 0)                             \
    X(client_kwargs, task_output, task_output, STR, "forward", 0, 0)        \
    X(logging, level, log_level, STR, "info", 0, 0)

enum config_key {
#define CONFIG_ENUM(sec, key, field, type, def, min, max) CFG_##field,
    CONFIG_KEYS(CONFIG_ENUM)
#undef CONFIG_ENUM
    CFG_COUNT
};

/* Resource tags of one [worker N] (rank) or [host NAME] (host) section. */
struct cfg_tags {
    int rank;                 /* 0 for a host section */
    char *host;
    struct res_set set;
    char source[128];         /* "pdask.ini:12" */
};

struct config {
    char *address;            /* tcp://host:port of an existing cluster */
    char *cluster_class;      /* auto, mpi, spawn, or PATH.so:symbol */
    char *journal_path;       /* the resume journal (journal.h), or "" */
    long retry_failed;        /* 1: runs the journal has as failed run
                                 again */
    double grace_s;           /* after SIGINT/SIGTERM, running runs get
                                 this long to end; 0: cancel at once */
    char *scheduler_file;     /* a served cluster's file (serve writes it,
                                 a client reads it), or "" */
    char *token_file;         /* the client's token, or "" */
    char *listen;             /* serve: tcp://HOST:PORT */
    long n_workers;           /* 0: the ranks of the job, or fill the node */
    long threads_per_worker;  /* 0: from hwloc */
    char *resources;          /* "GPU=1,process=1" */
    long prefetch;
    char *isolation;          /* thread or process, for every task */
    long adapt_minimum, adapt_maximum; /* adaptive when maximum > 0 */
    double adapt_interval_s;  /* between scaling decisions */
    double adapt_target_s;    /* work the pool should finish in this */
    long adapt_wait_count;    /* proposals in a row before a retirement */
    double adapt_unknown_s;   /* a run of a task never timed yet */
    double timeout_s;         /* start-up and spawn timeout */
    double heartbeat_s;       /* a worker silent this long is lost */
    double progress_s;        /* a progress line this often in a batch
                                 log (a bar on a terminal); 0: none */
    char *status_path;        /* a line per ended run, or "" */
    char *trace_path;         /* Chrome trace JSON at the end, or "" */
    char *report_path;        /* HTML performance report at the end, or "" */
    char *name;               /* flow run name; "" = the flow's name */
    char *task_output;        /* forward: workers' task output and pd_log
                                 lines to rank 0's log; local: left on
                                 each worker's stdout and stderr */
    char *log_level;
    char source[CFG_COUNT][128]; /* "default", "pdask.ini:3", ... */
    struct cfg_tags *tags;    /* [worker N] and [host NAME] sections */
    int ntags;
};

void config_init(struct config *c);
void config_free(struct config *c);

/* Set section.key from text; source says where it came from. 0, or
 * PD_EINVAL with "where: what; what to do" in err. */
int config_set(struct config *c, const char *section, const char *key,
               const char *value, const char *source, char *err,
               size_t errlen);

/* Which INI file applies: explicit (-c), else ./pdask.ini if present,
 * else $PDASK_CONFIG, else none (NULL). */
const char *config_pick_file(const char *explicit_path);

/* Read an INI file into c. 0, or PD_EINVAL with file:line in err. */
int config_load_ini(struct config *c, const char *path, char *err,
                    size_t errlen);

/* Take the settings a flow gives in PD_FLOW(...). */
int config_apply_flow(struct config *c, const struct pd_flow_def *def,
                      char *err, size_t errlen);

/* Check the settings together (address excludes cluster settings, ...). */
int config_validate(const struct config *c, char *err, size_t errlen);

/* True when the setting is not the built-in default. */
bool config_is_set(const struct config *c, enum config_key k);

/* "section.key = value   (source)" for every setting. */
void config_print(const struct config *c, FILE *out);

/* Setting k as text, unescaped: "section.key" into name, the value
 * into val (cut to vlen). */
void config_get(const struct config *c, int k, char *name, size_t nlen,
                char *val, size_t vlen);

/* Parse "GPU=1,process=1"; 0, or PD_EINVAL with a message. */
int config_parse_resources(const char *s, char *err, size_t errlen);

#endif
