/*
 * hosts_spawn - a cluster-manager plugin: spawns the workers round-robin
 * over the hosts in $PDASK_HOSTS (comma-separated; default: where MPI
 * places them), with the "host" info key of MPI_Comm_spawn. The hosts must
 * be in the job's allocation (its hostfile, or the batch system's nodes).
 * scale() adds workers the same way, for adaptive scaling (--adapt-max).
 *
 *     PDASK_HOSTS=node1,node2 pdask-mpi \
 *         --cluster-class build/examples/plugins/hosts_spawn.so:pd_cluster \
 *         -n 4 flow.so
 */
#include <pdask_cluster.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Spawn n workers over $PDASK_HOSTS. */
static int spawn(const struct pd_cluster_req *req, int n, MPI_Comm *inter,
                 char *err, size_t errlen)
{
    const char *hosts = getenv("PDASK_HOSTS");
    char list[4096] = "", msg[MPI_MAX_ERROR_STRING];
    int *codes = calloc((size_t)n, sizeof(int)), rc, len;
    MPI_Info info;

    MPI_Info_create(&info);
    if (hosts && *hosts) {
        /* One entry per worker, cycling through the hosts. */
        const char *h = hosts;
        for (int i = 0; i < n; i++) {
            size_t k = strcspn(h, ",");
            if (strlen(list) + k + 2 < sizeof(list))
                snprintf(list + strlen(list), sizeof(list) - strlen(list),
                         "%s%.*s", i ? "," : "", (int)k, h);
            h = h[k] ? h + k + 1 : hosts;
        }
        MPI_Info_set(info, "host", list);
        MPI_Info_set(info, "map_by", "node"); /* Open MPI: round-robin */
    }
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
    rc = MPI_Comm_spawn(req->exe, req->argv, n, info, 0, MPI_COMM_SELF,
                        inter, codes);
    MPI_Info_free(&info);
    free(codes);
    if (rc != MPI_SUCCESS) {
        MPI_Error_string(rc, msg, &len);
        snprintf(err, errlen, "hosts_spawn: cannot spawn %d workers on "
                 "%s: %s", n, list[0] ? list : "default hosts", msg);
        return -1;
    }
    return 0;
}

static int start(const struct pd_cluster_req *req, MPI_Comm *inter,
                 char *err, size_t errlen)
{
    return spawn(req, req->n_workers, inter, err, errlen);
}

static int scale(const struct pd_cluster_req *req, int n, MPI_Comm *inter,
                 char *err, size_t errlen)
{
    return spawn(req, n, inter, err, errlen);
}

PD_API const struct pd_cluster_ops pd_cluster = {
    .abi = PD_ABI_VERSION,
    .name = "hosts_spawn",
    .start = start,
    .scale = scale,
};
