/*
 * pdask_cluster.h - cluster-manager plugins: cluster_class = PATH.so:SYMBOL.
 *
 * DaskTaskRunner's cluster_class can name any cluster manager; here a
 * plugin is a shared object that exports SYMBOL, a const struct
 * pd_cluster_ops (mark it PD_API so it stays visible under
 * -fvisibility=hidden). pdask-mpi, started alone, calls start() to get workers
 * instead of spawning them itself, then merges the intercommunicator it
 * returns: rank 0 schedules, the plugin's processes work. They must run
 * req->argv (pdask-mpi with the run's own arguments), e.g. with
 * MPI_Comm_spawn on hosts of the plugin's choosing, or by accepting
 * processes started some other way with MPI_Comm_accept.
 *
 * Build: cc -shared -fPIC -o myplugin.so myplugin.c $(pkg-config --cflags pdask)
 * (plus mpicc's flags). examples/plugins/hosts_spawn.c is a working one.
 */
#ifndef PDASK_CLUSTER_H
#define PDASK_CLUSTER_H

#include <mpi.h>
#include <stddef.h>

#include "pdask.h"

/* What the runner asks for; valid during the call. */
struct pd_cluster_req {
    int n_workers;            /* processes wanted (>= 1) */
    int threads_per_worker;   /* 0: the workers size themselves by hwloc */
    const char *exe;          /* the pdask-mpi program */
    char **argv;              /* its arguments, NULL-terminated, without
                                 argv[0]: pass them to each worker */
    double timeout_s;         /* [client_kwargs] timeout */
    const char *resources;    /* [cluster_kwargs] resources */
};

struct pd_cluster_ops {
    int abi;                  /* PD_ABI_VERSION */
    const char *name;         /* for logs */
    /* Start req->n_workers workers; set *inter to an intercommunicator
     * whose remote group is them (what MPI_Comm_spawn returns). 0, or
     * non-zero with a message in err that says what to do. */
    int (*start)(const struct pd_cluster_req *req, MPI_Comm *inter,
                 char *err, size_t errlen);
    /* Add n workers the same way; called by adaptive scaling
     * ([adapt_kwargs]). May be NULL: the pool then keeps its workers. The
     * workers it adds leave by MPI_Comm_disconnect of *inter. */
    int (*scale)(const struct pd_cluster_req *req, int n, MPI_Comm *inter,
                 char *err, size_t errlen);
    /* After the workers have stopped, before MPI_Finalize. May be NULL. */
    void (*close)(void);
};

#endif
