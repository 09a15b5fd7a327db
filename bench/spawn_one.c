/* spawn_one - the bare cost adaptive scaling is measured against: one
 * MPI_Comm_spawn of one process from MPI_COMM_SELF, merged, until the
 * child's first message arrives; then the child leaves (disconnect).
 * Prints "spawn_s=... first_msg_s=..." (bench/adapt.py reads it). */
#include <mpi.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    MPI_Comm parent, inter, merged;
    int x = 1;

    MPI_Init(&argc, &argv);
    MPI_Comm_get_parent(&parent);
    if (parent == MPI_COMM_NULL) {
        double t0 = MPI_Wtime(), t1, t2;
        MPI_Comm_spawn(argv[0], MPI_ARGV_NULL, 1, MPI_INFO_NULL, 0,
                       MPI_COMM_SELF, &inter, MPI_ERRCODES_IGNORE);
        t1 = MPI_Wtime();
        MPI_Intercomm_merge(inter, 0, &merged);
        MPI_Recv(&x, 1, MPI_INT, 1, 0, merged, MPI_STATUS_IGNORE);
        t2 = MPI_Wtime();
        printf("spawn_s=%.4f first_msg_s=%.4f\n", t1 - t0, t2 - t0);
        MPI_Comm_free(&merged);
        MPI_Comm_disconnect(&inter);
    } else {
        MPI_Intercomm_merge(parent, 1, &merged);
        MPI_Send(&x, 1, MPI_INT, 0, 0, merged);
        MPI_Comm_free(&merged);
        MPI_Comm_disconnect(&parent);
    }
    MPI_Finalize();
    return 0;
}
