/*
 * cluster.h - the workers a flow runs on, DaskTaskRunner's cluster_class:
 * "mpi" takes the ranks of the job (mpirun -n N), "spawn" starts a
 * temporary cluster with MPI_Comm_spawn (pdask-mpi run without mpirun, like
 * a LocalCluster). Either way the result is one intracommunicator whose
 * rank 0 schedules and whose other ranks work.
 */
#ifndef PD_CLUSTER_H
#define PD_CLUSTER_H

#include <mpi.h>
#include <stdbool.h>

struct topology;

/* Collective: true when err is NULL on every rank. Otherwise rank 0 prints
 * the lowest failing rank's message (naming that rank and its host when it
 * is not rank 0), and every rank gets false. */
bool cluster_agree(MPI_Comm comm, const char *err);

/* Rank 0's task table against each rank's registry: def_of maps rank 0's
 * task index to the local one. Collective; false after reporting. */
struct module;
bool cluster_agree_tasks(MPI_Comm comm, const struct module *m,
                         const char *path, int **def_of, int *ndefs);

/* The communicator of a spawned worker: merged with its parent, or
 * MPI_COMM_NULL when this process was not spawned. *parent is the
 * intercommunicator, kept for cluster_leave. */
MPI_Comm cluster_join_parent(MPI_Comm *parent);

/* Spawn n workers running this program with argv (argv[0] excluded) and
 * merge them in (*out); *inter is kept for cluster_leave. 0, or -1 with a
 * message in err. */
int cluster_spawn(int n, char **argv, MPI_Comm *out, MPI_Comm *inter,
                  char *err, size_t errlen);

/* Part with spawned processes (either side): free the merged
 * communicator and disconnect the intercommunicator, so each side may
 * finalize without the other. Open MPI 4.1 hangs in MPI_Comm_disconnect
 * of a merged communicator, not of the intercommunicator. */
void cluster_leave(MPI_Comm *merged, MPI_Comm *inter);

struct pd_cluster_ops;
struct pd_cluster_req;

/* Start workers with the plugin named by spec, "PATH.so:SYMBOL", and merge
 * them in; *ops is kept for close(). 0, or -1 with a message in err. */
int cluster_plugin_start(const char *spec, struct pd_cluster_req *req,
                         MPI_Comm *out, MPI_Comm *inter,
                         const struct pd_cluster_ops **ops, char *err,
                         size_t errlen);

/* The path of this program, for workers to run; NULL if unknown. */
const char *cluster_self_exe(void);

/* Workers to spawn when n_workers is not set, and their threads: fill the
 * node as Dask's LocalCluster does (n cores: n workers of 1 thread up to 4,
 * else the smallest factor >= sqrt(n) workers). */
void cluster_fill_node(int cores, int *workers, int *threads);

/* Executor threads for this rank: forced (> 0), or the cores of its cpuset
 * divided among the worker ranks of its node that share that cpuset. Also
 * the first core to bind to, and this rank's place among those workers
 * (share[0] of share[1]), which split the node's GPUs and memory too.
 * Collective. */
int cluster_size_threads(MPI_Comm comm, int forced, struct topology *tp,
                         int *first_core, int share[2]);

#endif
