/* relay.h - rank 0 of `pdask-mpi serve`: not a scheduler but a relay.
 * It listens on TCP, checks each client's token, has the workers load the
 * client's .so under a flow run id of its own, and forwards frames between
 * the client's scheduler (client.c, which runs in the client's process)
 * and the workers by MPI: a worker's reports go to the client whose run
 * id they carry. A client that leaves has its runs dropped (TAG_DROP). */
#ifndef PD_RELAY_H
#define PD_RELAY_H

#include "comm.h"
#include "resources.h"

struct relay_opts {
    const int *threads;          /* executor threads of each rank */
    int nranks;                  /* ranks of endpoint 0 */
    const struct res_tags *tags; /* resource tags of each rank */
    const char *listen;          /* tcp://HOST:PORT */
    const char *sched_file;      /* path, or "" */
    double heartbeat_s;          /* a worker silent this long is not
                                    vouched for to clients any more */
    double timeout_s;            /* a client's handshake limit */
};

/* Serve until --shutdown, SIGTERM or SIGINT; then stop the workers.
 * 0, or 2 when the cluster could not start serving. */
int relay_run(struct comm *c, const struct relay_opts *o);

/* From a signal handler: stop serving. */
void relay_interrupt(int sig);

#endif
