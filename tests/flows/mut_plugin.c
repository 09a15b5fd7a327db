/* A cluster-manager plugin (not a flow) that says what it was asked for,
 * then spawns the workers where MPI places them:
 *     mut_plugin: asked for N workers x T threads
 * Built with the test flows; linked with MPI in cases_mutation.cmake. */
#include <pdask_cluster.h>
#include <stdio.h>
#include <stdlib.h>

static int start(const struct pd_cluster_req *req, MPI_Comm *inter,
                 char *err, size_t errlen)
{
    int *codes = calloc((size_t)req->n_workers, sizeof(int)), rc;

    printf("mut_plugin: asked for %d workers x %d threads\n",
           req->n_workers, req->threads_per_worker);
    fflush(stdout);
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
    rc = MPI_Comm_spawn(req->exe, req->argv, req->n_workers, MPI_INFO_NULL,
                        0, MPI_COMM_SELF, inter, codes);
    free(codes);
    if (rc != MPI_SUCCESS) {
        snprintf(err, errlen, "mut_plugin: cannot spawn %d workers",
                 req->n_workers);
        return -1;
    }
    return 0;
}

PD_API const struct pd_cluster_ops pd_cluster = {
    .abi = PD_ABI_VERSION,
    .name = "mut_plugin",
    .start = start,
};
