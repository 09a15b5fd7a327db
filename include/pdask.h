/*
 * pdask.h - the one public header of pdask-mpi, and its manual.
 *
 * A flow is C code compiled as a shared object. It submits tasks; the tasks
 * run in parallel on the worker ranks of an MPI job while rank 0 runs the
 * flow and schedules:
 *
 *     cc -shared -fPIC -o count_to.so count_to.c $(pkg-config --cflags pdask)
 *     mpirun -n 8 pdask-mpi count_to.so highest_number=10
 *
 * If a function, type or macro is not described in this file, it is not part
 * of the API. Names starting with pd__ or PD__ exist only because the public
 * macros expand to them: do not call them.
 *
 * Errors: functions that do something return 0 or a negative PD_E* code;
 * pd_strerror() names it. Detail lives on the object (pd_message()), not in
 * errno. Running out of memory aborts the process with a message.
 *
 * Threads: the flow function runs on its own thread of rank 0; every pd_*
 * call that takes a pd_flow or pd_future must come from that thread. Task
 * functions run on executor threads of the worker ranks, several at a time
 * in one process: keep them free of unguarded global state.
 */
#ifndef PDASK_H
#define PDASK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PD_VERSION_MAJOR 0
#define PD_VERSION_MINOR 1
#define PD_VERSION_PATCH 0
#define PD_VERSION_STRING "0.1.0"
/* Bumped when PD_TASK/PD_FLOW definitions change layout; the runner refuses
 * a flow built against another one. */
#define PD_ABI_VERSION 3

#define PD_API __attribute__((visibility("default")))

/* ------------------------------------------------------------------ errors */

#define PD_ERR_MAP(XX)                                                       \
    XX(EINVAL, -1, "invalid argument")                                       \
    XX(EFAILED, -2, "task run failed")                                       \
    XX(ENOTREADY, -3, "an upstream task run did not complete")               \
    XX(ECRASHED, -4, "task run crashed")                                     \
    XX(ECANCELLED, -5, "task run cancelled")                                 \
    XX(ENOTASK, -6, "function is not a task declared with PD_TASK")          \
    XX(ETOOBIG, -7, "value too large")                                       \
    XX(ELOST, -8, "result lost")

enum pd_errno {
#define PD__ERRNO_GEN(name, code, msg) PD_##name = (code),
    PD_ERR_MAP(PD__ERRNO_GEN)
#undef PD__ERRNO_GEN
};

/* The message for a PD_E* code ("unknown error" for anything else). */
PD_API const char *pd_strerror(int err);

/* ------------------------------------------------------------------ values */

enum pd_kind {
    PD_NIL,    /* no value; what a task that never calls pd_return_* gives */
    PD_INT,    /* v.i, a 64-bit signed integer */
    PD_REAL,   /* v.r, a double */
    PD_STR,    /* v.s, a NUL-terminated string; v.len is strlen(v.s) */
    PD_BYTES,  /* v.b, v.len bytes */
    PD_FUTURE, /* v.f: an argument that is another task's result */
    PD__KIND_END
};

typedef struct pd_future pd_future; /* owned by its flow */

/*
 * A small tagged value. Strings and bytes are borrowed: a pd_value never
 * owns memory, and its lifetime is stated where it is handed over.
 */
typedef struct pd_value {
    enum pd_kind kind;
    size_t len;             /* PD_STR and PD_BYTES */
    union {
        int64_t i;
        double r;
        const char *s;
        const void *b;
        pd_future *f;
    };
} pd_value;

static inline pd_value pd_nil(void)
{
    pd_value v = { .kind = PD_NIL };
    return v;
}

static inline pd_value pd_int(int64_t i)
{
    pd_value v = { .kind = PD_INT, .i = i };
    return v;
}

static inline pd_value pd_real(double r)
{
    pd_value v = { .kind = PD_REAL, .r = r };
    return v;
}

/* s must stay valid until the call that takes the value returns; pd_submit
 * copies it. NULL is taken as "". */
PD_API pd_value pd_str(const char *s);

/* Same lifetime as pd_str; len bytes from b. */
static inline pd_value pd_bytes(const void *b, size_t len)
{
    pd_value v = { .kind = PD_BYTES, .len = len, .b = b };
    return v;
}

/* An argument that is the result of the task behind f: the new task waits
 * for it, then receives the result (never the future). If f does not
 * complete, the new task does not run and ends NotReady. */
static inline pd_value pd_dep(pd_future *f)
{
    pd_value v = { .kind = PD_FUTURE, .f = f };
    return v;
}

/* ------------------------------------------------------------------ tasks */

typedef struct pd_ctx pd_ctx; /* one task run's context; valid during the call */

/*
 * A task function. args[0..nargs-1] are valid only during the call. Return 0
 * for Completed, anything else (or call pd_fail()) for Failed. Set the result
 * with pd_return_*(): they copy.
 */
typedef int pd_task_fn(pd_ctx *ctx, const pd_value *args, int nargs,
                       pd_value *out);

/* A task's options, as PD_TASK(fn, .retries = 2, ...) sets them. */
struct pd_task_def {
    pd_task_fn *fn;
    const char *name;       /* the function's name: how ranks find it */
    int retries;            /* extra attempts after a failure (default 0) */
    double retry_delay_s;   /* seconds between attempts */
    double timeout_s;       /* > 0: a run longer than this ends Failed */
    const char *isolation;  /* "thread" (default: [cluster_kwargs]
                               isolation) or "process": see below */
    int priority;           /* higher first among ready runs (default 0) */
    const char *workers;    /* "1,3": run only on these worker ranks */
    int allow_other_workers; /* non-zero: workers is a preference only */
    const char *resources;  /* "GPU=1": held while it runs (see below) */
};

/*
 * Isolation. With "thread" a run is a function call on an executor thread
 * of its worker: fastest, but a crash (segfault, abort, exit) ends the
 * worker and the flow run, and a timeout is only noticed when the task
 * returns (threads cannot be stopped safely). With "process" each attempt
 * runs in a warm helper process of the worker (about 6 us more a run): a
 * crash ends that run Crashed, with the signal or exit code in its
 * message, and is retried like a failure; a timeout kills the helper and
 * ends the run Failed with "timed out after N s"; the worker goes on.
 */

/* Results, copied into memory the runner owns. */
PD_API void pd_return_int(pd_value *out, int64_t i);
PD_API void pd_return_real(pd_value *out, double r);
PD_API void pd_return_str(pd_value *out, const char *s);
PD_API void pd_return_bytes(pd_value *out, const void *b, size_t len);

/* Mark the task run Failed with a printf-style message; returns PD_EFAILED,
 * so `return pd_fail(ctx, "bad input %d", x);` reads well. */
PD_API int pd_fail(pd_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

enum pd_level { PD_DEBUG, PD_INFO, PD_WARNING, PD_ERROR };

/* Log a line under the task run's name (shout-3). On a worker it goes to
 * rank 0's log as "shout-3 on rank 2", in order with what the run prints
 * (each stdout/stderr line of a task is forwarded too: an OUTPUT line with
 * the run's name for stdio and for process-isolated tasks, with the rank
 * alone for bytes a thread task writes straight to fd 1 or 2). With
 * [client_kwargs] task_output = local, on the worker's stderr instead. */
PD_API void pd_log(pd_ctx *ctx, enum pd_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

PD_API int pd_task_rank(const pd_ctx *ctx);            /* MPI rank running it */
PD_API const char *pd_task_run_name(const pd_ctx *ctx); /* "shout-3" */
PD_API int pd_task_attempt(const pd_ctx *ctx);         /* 1, 2, ... */

/* What the run holds of a resource it asked for ("GPU"): the amount, 0
 * when it holds none. */
PD_API double pd_task_resource(const pd_ctx *ctx, const char *name);

/* The ids of the units of name the run holds, up to n of them into ids;
 * returns how many it holds. For GPUs found by hwloc these are the device
 * numbers on the node (as CUDA_VISIBLE_DEVICES counts them); otherwise the
 * unit numbers of the worker, 0 up. A fraction (GPU=0.5) holds a share of
 * one unit. Under process isolation the helper also has
 * CUDA_VISIBLE_DEVICES set to the GPUs the run holds; a thread cannot have
 * its own environment, so threads read pd_task_resource_ids instead. */
PD_API int pd_task_resource_ids(const pd_ctx *ctx, const char *name, int *ids,
                                int n);

/* ------------------------------------------------------------------ flows */

typedef struct pd_flow pd_flow;     /* owned by the runner */
typedef struct pd_params pd_params; /* the key=value words of the command line */

typedef int pd_flow_fn(pd_flow *flow, const pd_params *params);

/* A flow's options, as PD_FLOW(fn, .n_workers = 4, ...) sets them: the
 * task runner settings of the flow, between the INI file and the command
 * line in precedence. Zero or NULL leaves a setting alone. */
struct pd_flow_def {
    pd_flow_fn *fn;
    const char *name;
    const char *description;
    const char *address;       /* [task_runner] address: a served cluster
                                  (pdask-mpi serve) the flow runs on */
    const char *cluster_class; /* "mpi", "spawn" or "PATH.so:symbol" */
    int n_workers;             /* [cluster_kwargs] */
    int threads_per_worker;
    const char *resources;     /* "GPU=1,process=1" */
    int adapt_minimum;         /* [adapt_kwargs] minimum, maximum */
    int adapt_maximum;
    double timeout_s;          /* [client_kwargs] timeout */
};

/* Flow parameters: the value of key=value on the command line, or def.
 * A value that does not parse as the asked type is a usage error: the run
 * stops with exit code 2 and a message naming the parameter. */
PD_API int64_t pd_param_int(const pd_params *p, const char *key, int64_t def);
PD_API double pd_param_real(const pd_params *p, const char *key, double def);
PD_API const char *pd_param_str(const pd_params *p, const char *key,
                                const char *def);

/* ------------------------------------------------------------------ futures */

enum pd_state {
    PD_PENDING,   /* submitted, waiting for upstream results or a worker */
    PD_RUNNING,   /* sent to a worker */
    PD_COMPLETED,
    PD_FAILED,    /* the task returned non-zero or called pd_fail() */
    PD_NOTREADY,  /* did not run: an upstream task run did not complete */
    PD_CRASHED,   /* the worker running it died */
    PD_CANCELLED
};

/* "Pending", "Running", "Completed", "Failed", "NotReady", ... */
PD_API const char *pd_state_name(enum pd_state s);

/*
 * Submit a task run of fn with the given arguments, copied. Never returns
 * NULL: a submit that cannot run gives a future that ends Failed with the
 * reason. The future is valid until the flow function returns.
 */
PD_API pd_future *pd_submitv(pd_flow *flow, pd_task_fn *fn, int nargs,
                             const pd_value *args);

#define pd_submit(flow, ...)                                                 \
    pd__submit((flow), PD__FIRST(__VA_ARGS__, ~),                            \
               (const pd_value[]){ PD__REST(__VA_ARGS__, ) PD__END })

/* Block until the task run ends; 0 if it Completed, else PD_EFAILED,
 * PD_ENOTREADY, PD_ECRASHED or PD_ECANCELLED. */
PD_API int pd_wait(pd_future *f);

/* pd_wait(), then on success set *out to the result. The result is fetched
 * from the worker that holds it; its strings and bytes live as long as the
 * flow does. */
PD_API int pd_result(pd_future *f, pd_value *out);

/* The state now, without waiting. */
PD_API enum pd_state pd_state(const pd_future *f);

/* Why the task run did not complete, or NULL. Lives as long as the flow. */
PD_API const char *pd_message(const pd_future *f);

/* The task run's name, "shout-3". The string lives as long as the flow
 * run; asking again gives the same one. */
PD_API const char *pd_future_name(const pd_future *f);

/* Say that the flow will not ask for f's result again: the worker may free
 * it once no waiting task needs it. f stays valid for pd_state and
 * pd_message. NULL is a no-op. */
PD_API void pd_release(pd_future *f);

/* Wait for every task run submitted so far; 0 if all completed, else the
 * first error code seen. The flow does this itself when its function
 * returns. */
PD_API int pd_wait_all(pd_flow *flow);

/* Log a line under the flow run's name, on rank 0's stderr. */
PD_API void pd_flow_log(pd_flow *flow, enum pd_level level, const char *fmt,
                        ...) __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------ annotations */

/*
 * What `with dask.annotate(...)` sets, for the runs submitted inside a
 * PD_ANNOTATE block (or between pd_annotate_push and pd_annotate_pop):
 *
 *     PD_ANNOTATE(flow, .priority = 10, .workers = "1,3") {
 *         pd_submit(flow, train, pd_int(i));
 *     }
 *
 * Blocks nest: a field set (non-zero, non-NULL) inside wins, a field left
 * 0 or NULL keeps the outer block's value, and the outer values come back
 * when the block ends. An annotation wins over the task's own PD_TASK
 * default. Priority orders runs that are ready at the same time, in every
 * queue where runs wait (rank 0's and each worker's); ties go in
 * submission order; a running task is never pre-empted. workers restricts
 * runs to those worker ranks (with allow_other_workers, it is only a
 * preference).
 *
 * resources ("GPU=1", "GPU=0.5,MEM=4e9") are held while the run runs: it
 * goes only to a worker whose free resources cover them, so two GPU=1 runs
 * never overlap on a worker with GPU=1. Runs without resources never wait
 * behind one that cannot be placed yet. An amount is a share of one unit
 * (below 1) or whole units. A request that no worker could ever hold ends
 * Failed at once, naming what the workers have. Workers get their
 * resources from hwloc (CPU, MEM in bytes, GPU), [cluster_kwargs]
 * resources, and [host NAME] and [worker N] sections of the INI file:
 * `pdask-mpi info` shows them and where each came from.
 *
 * An annotation that does not parse (isolation, workers, resources) stops
 * the flow with a message naming it and exit code 2; so does a task
 * default in PD_TASK, when the .so is loaded.
 *
 * Leaving a PD_ANNOTATE block with return, break or goto skips its pop:
 * the annotation then stays in force for the rest of the flow function.
 * Use pd_annotate_push/pd_annotate_pop where control flow needs it; the
 * runner drops what is still pushed when the flow function returns.
 */
struct pd_annotations {
    int priority;
    int retries;
    const char *isolation;      /* "thread" or "process" */
    const char *workers;        /* "1,3" */
    int allow_other_workers;
    const char *resources;      /* "GPU=1,MEM=4e9" */
};

PD_API void pd_annotate_push(pd_flow *flow, const struct pd_annotations *a);
PD_API void pd_annotate_pop(pd_flow *flow);

#define PD__CAT_(a, b) a##b
#define PD__CAT(a, b) PD__CAT_(a, b)
#define PD_ANNOTATE(flow, ...)                                               \
    for (int PD__CAT(pd__once_, __LINE__) =                                  \
             (pd_annotate_push((flow),                                       \
                               &(struct pd_annotations){ __VA_ARGS__ }),     \
              1);                                                            \
         PD__CAT(pd__once_, __LINE__);                                       \
         PD__CAT(pd__once_, __LINE__) = 0, pd_annotate_pop(flow))

/* ------------------------------------------------------------------ macros */

/*
 * PD_TASK(fn) or PD_TASK(fn, .retries = 2, .retry_delay_s = 0.5) declares fn
 * as a task; put it at file scope after the function. PD_FLOW(fn) declares
 * a flow the same way.
 */
#define PD_TASK(...)                                                         \
    PD__DEF(task, PD__FIRST(__VA_ARGS__, ~), PD__REST(__VA_ARGS__, ))
#define PD_FLOW(...)                                                         \
    PD__DEF(flow, PD__FIRST(__VA_ARGS__, ~), PD__REST(__VA_ARGS__, ))

/* ---- below: only what the macros above need. Do not call. ---- */

#define PD__FIRST(a, ...) a
#define PD__REST(a, ...) __VA_ARGS__
#define PD__END { .kind = PD__KIND_END }
#define PD__DEF(kind, ...) PD__DEF_(kind, __VA_ARGS__)
#define PD__DEF_(kind, pd__fn, ...)                                          \
    static const struct pd_##kind##_def pd__##kind##_##pd__fn = {            \
        .fn = pd__fn, .name = #pd__fn, __VA_ARGS__                           \
    };                                                                       \
    __attribute__((constructor)) static void                                 \
    pd__ctor_##kind##_##pd__fn(void)                                         \
    {                                                                        \
        pd__register_##kind(&pd__##kind##_##pd__fn, PD_ABI_VERSION);         \
    }                                                                        \
    struct pd__##kind##_##pd__fn##_takes_the_semicolon

PD_API void pd__register_task(const struct pd_task_def *def, int abi);
PD_API void pd__register_flow(const struct pd_flow_def *def, int abi);
PD_API pd_future *pd__submit(pd_flow *flow, pd_task_fn *fn,
                             const pd_value *args_end_terminated);

#ifdef __cplusplus
}
#endif
#endif /* PDASK_H */
