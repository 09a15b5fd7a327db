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
    MPI_Comm *eps;            /* endpoints: the job's communicator first,
                                 then one per group of spawned workers */
    int neps, epcap;
    int rank;                 /* this process's rank on endpoint 0 */
    int next_ep;              /* endpoint probed first next time */
    int errors;               /* failed MPI calls so far */
    MPI_Request *reqs;        /* sends in flight */
    uint8_t **bufs;           /* their buffers, freed when they complete */
    int nsend, sendcap;
    size_t sendbytes;         /* bytes of the sends in flight */
    size_t *sendlen;          /* by send */
    const void **lent;        /* by send: the caller's bytes it sends
                                 (comm_send_lent), or NULL */
    int nlent;                /* sends with lent bytes */
    void **dead;              /* lent bytes to free once no send reads
                                 them (comm_free_lent) */
    int ndead, deadcap;
    double idle_since;        /* 0 while busy */
    pthread_mutex_t mu;       /* guards sleeping and kicked */
    pthread_cond_t cv;
    bool sleeping, kicked;
    struct link *link;        /* a served cluster's client: every call
                                 below goes over this TCP link instead
                                 (tcplink.c); MPI is never called */
    int kickfd;               /* with link: eventfd comm_kick writes */
};

/* comm becomes endpoint 0. Endpoints stay their owner's to free. */
void comm_init(struct comm *c, MPI_Comm comm);
void comm_destroy(struct comm *c);

/* Serve one more communicator; returns its endpoint number. */
int comm_add(struct comm *c, MPI_Comm comm);

/* Stop serving endpoint ep, a merged spawn, and part with its processes:
 * free it and disconnect inter, the intercommunicator it was merged from
 * (MPI_Comm_disconnect blocks until they disconnect too). Its number is
 * never reused. Returns the seconds it blocked. */
double comm_disconnect(struct comm *c, int ep, MPI_Comm *inter);

/* A message being built for one rank: a count header, then entries. */
struct batch {
    struct buf b;
    uint32_t n;       /* entries so far; 0 = nothing to send */
};

/* Where a batch goes. */
struct peer {
    int ep, rank;
};

/* The buffer to append one more entry of about `need` bytes to (the header
 * is written first). A batch that would pass PROTO_MAX_MSG is sent first,
 * so no message outgrows an MPI count. */
struct buf *comm_batch_add(struct comm *c, struct peer to, int tag,
                           struct batch *bt, size_t need);

/* Send the batch to `to` with tag if it has entries, and empty it. */
void comm_send_batch(struct comm *c, struct peer to, int tag,
                     struct batch *bt);

/* Send b's bytes; comm takes b's buffer and leaves b empty. */
void comm_send(struct comm *c, struct peer to, int tag, struct buf *b);

/* Send b's bytes followed by the len bytes at data, as one message the
 * receiver cannot tell from comm_send of both (an MPI datatype of two
 * blocks: data is not copied). comm takes b's buffer; data stays the
 * caller's and must live until the send completes: see comm_lent. */
void comm_send_lent(struct comm *c, struct peer to, int tag, struct buf *b,
                    const void *data, size_t len);

/* Whether a send still reads data (comm_send_lent). comm_free_lent frees
 * malloc'd data now if none does, or else once the last one completes:
 * it never waits, so two ranks freeing what they send each other cannot
 * block each other. */
bool comm_lent(const struct comm *c, const void *data);
void comm_free_lent(struct comm *c, void *data);

/* Receive one waiting message, if any: *data is malloc'd for the caller to
 * free. Returns false when nothing is waiting. */
bool comm_recv(struct comm *c, struct peer *from, int *tag, uint8_t **data,
               size_t *len);

/* Complete finished sends; true if any did. */
bool comm_progress(struct comm *c);

/* One round with nothing to do. expect_s is how long task runs take
 * lately: when short, yield-spin a little after the last event, since a
 * reply is due within microseconds. Sleeps then grow to a quarter of the
 * time idle, up to max_sleep_s (callers keep it short while work is in
 * flight: a message from another rank cannot wake a sleeper), and end
 * early when comm_kick() is called. comm_busy() resets the back-off. */
void comm_idle(struct comm *c, double expect_s, double max_sleep_s);
void comm_busy(struct comm *c);

/* From any thread: wake the owner from comm_idle(). */
void comm_kick(struct comm *c);

/* Block (with back-off) until every send has completed, or max_s passed
 * (a send to a dead rank never completes); true if all completed. */
bool comm_flush(struct comm *c, double max_s);

/* Format an MPI error code. */
const char *comm_strerror(int err, char *buf, size_t n);

#endif
