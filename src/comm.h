/*
 * comm.h - the only code that calls MPI point-to-point once a run has
 * started (cluster.c uses blocking collectives, and one send of an error
 * message, during start-up only). Used by one thread per process, the one
 * that called MPI_Init: MPI_THREAD_FUNNELED.
 *
 * Open MPI's blocking calls spin, and 8 ranks on 2 cores is the common case,
 * so nothing here blocks in MPI: the owner polls, and when nothing happens
 * comm_idle() backs off from yielding to sleeping on a condition variable
 * that other threads of the process can signal with comm_kick().
 */
#ifndef PD_COMM_H
#define PD_COMM_H

#include <mpi.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol.h"

struct comm {
    MPI_Comm comm;
    int rank, size;
    MPI_Request *reqs;        /* sends in flight */
    uint8_t **bufs;           /* their buffers, freed when they complete */
    int nsend, sendcap;
    double idle_since;        /* 0 while busy */
    pthread_mutex_t mu;       /* guards sleeping and kicked */
    pthread_cond_t cv;
    bool sleeping, kicked;
};

void comm_init(struct comm *c, MPI_Comm comm);
void comm_destroy(struct comm *c);

/* A message being built for one rank: a count header, then entries. */
struct batch {
    struct buf b;
    uint32_t n;       /* entries so far; 0 = nothing to send */
};

/* The buffer to append one more entry to (the header is written first). */
static inline struct buf *batch_add(struct batch *bt)
{
    if (bt->n++ == 0)
        proto_begin(&bt->b);
    return &bt->b;
}

/* Send the batch to dest with tag if it has entries, and empty it. */
void comm_send_batch(struct comm *c, int dest, int tag, struct batch *bt);

/* Send b's bytes to dest; comm takes b's buffer and leaves b empty. */
void comm_send(struct comm *c, int dest, int tag, struct buf *b);

/* Receive one waiting message, if any: *data is malloc'd for the caller to
 * free. Returns false when nothing is waiting. */
bool comm_recv(struct comm *c, int *src, int *tag, uint8_t **data,
               size_t *len);

/* Complete finished sends; true if any did. */
bool comm_progress(struct comm *c);

/* One round with nothing to do. expect_s is how long task runs take
 * lately: when short, yield-spin a little after the last event, since a
 * reply is due within microseconds; when long, do not, and sleep at least
 * a quarter of it. Sleeps then grow to a quarter of the time idle, up to
 * max_sleep_s, and end early when comm_kick() is called. comm_busy()
 * resets the back-off. */
void comm_idle(struct comm *c, double expect_s, double max_sleep_s);
void comm_busy(struct comm *c);

/* From any thread: wake the owner from comm_idle(). */
void comm_kick(struct comm *c);

/* Block (with back-off) until every send has completed. */
void comm_flush(struct comm *c);

/* Format an MPI error code. */
const char *comm_strerror(int err, char *buf, size_t n);

#endif
