/* comm.c - see comm.h. */
#include "comm.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "util.h"

#define MIN_SLEEP_S 20e-6
/* Runs shorter than SHORT_S make a yield-spin of SPIN_S pay: the next
 * report or batch is due within it. Longer runs would lose the CPU. */
#define SHORT_S 100e-6
#define SPIN_S 50e-6

void comm_init(struct comm *c, MPI_Comm comm)
{
    pthread_condattr_t ca;

    memset(c, 0, sizeof(*c));
    c->comm = comm;
    MPI_Comm_rank(comm, &c->rank);
    MPI_Comm_size(comm, &c->size);
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    /* Short sleeps should be short: the default 50 us slack would make
     * every back-off step at least that long. */
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
}

void comm_destroy(struct comm *c)
{
    for (int i = 0; i < c->nsend; i++)
        free(c->bufs[i]);
    free(c->reqs);
    free(c->bufs);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
}

const char *comm_strerror(int err, char *buf, size_t n)
{
    char s[MPI_MAX_ERROR_STRING];
    int len = 0;

    if (MPI_Error_string(err, s, &len) != MPI_SUCCESS)
        snprintf(s, sizeof(s), "MPI error %d", err);
    snprintf(buf, n, "%s", s);
    return buf;
}

void comm_send(struct comm *c, int dest, int tag, struct buf *b)
{
    if (c->nsend == c->sendcap) {
        c->sendcap = c->sendcap ? c->sendcap * 2 : 16;
        c->reqs = pd__xrealloc(c->reqs, sizeof(*c->reqs) * c->sendcap);
        c->bufs = pd__xrealloc(c->bufs, sizeof(*c->bufs) * c->sendcap);
    }
    MPI_Isend(b->data, (int)b->len, MPI_BYTE, dest, tag, c->comm,
              &c->reqs[c->nsend]);
    c->bufs[c->nsend++] = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
}

void comm_send_batch(struct comm *c, int dest, int tag, struct batch *bt)
{
    if (!bt->n)
        return;
    proto_set_count(&bt->b, bt->n);
    comm_send(c, dest, tag, &bt->b);
    bt->n = 0;
}

bool comm_progress(struct comm *c)
{
    int done = 0, j = 0;

    for (int i = 0; i < c->nsend; i++) {
        int flag = 0;
        MPI_Test(&c->reqs[i], &flag, MPI_STATUS_IGNORE);
        if (flag) {
            free(c->bufs[i]);
            done++;
            continue;
        }
        c->reqs[j] = c->reqs[i];
        c->bufs[j++] = c->bufs[i];
    }
    c->nsend = j;
    return done > 0;
}

bool comm_recv(struct comm *c, int *src, int *tag, uint8_t **data,
               size_t *len)
{
    MPI_Status st;
    int flag = 0, count = 0;

    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, c->comm, &flag, &st);
    if (!flag)
        return false;
    MPI_Get_count(&st, MPI_BYTE, &count);
    *data = pd__xmalloc((size_t)count);
    MPI_Recv(*data, count, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, c->comm,
             MPI_STATUS_IGNORE);
    *src = st.MPI_SOURCE;
    *tag = st.MPI_TAG;
    *len = (size_t)count;
    return true;
}

void comm_busy(struct comm *c)
{
    c->idle_since = 0;
}

void comm_idle(struct comm *c, double expect_s, double max_sleep_s)
{
    double now = pd__now(), wait;
    struct timespec ts;

    if (c->idle_since == 0)
        c->idle_since = now;
    if (expect_s < SHORT_S && now - c->idle_since < SPIN_S) {
        sched_yield();
        return;
    }
    /* Sleep a quarter of the time we have been idle: quick to answer a
     * burst, nearly free when nothing happens for long. */
    wait = (now - c->idle_since) / 4;
    if (wait < expect_s / 4)
        wait = expect_s / 4;
    if (wait < MIN_SLEEP_S)
        wait = MIN_SLEEP_S;
    if (wait > max_sleep_s)
        wait = max_sleep_s;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += (long)(wait * 1e9);
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&c->mu);
    if (!c->kicked) {
        c->sleeping = true;
        pthread_cond_timedwait(&c->cv, &c->mu, &ts);
        c->sleeping = false;
    }
    if (c->kicked)
        c->idle_since = 0;
    c->kicked = false;
    pthread_mutex_unlock(&c->mu);
}

void comm_kick(struct comm *c)
{
    pthread_mutex_lock(&c->mu);
    c->kicked = true;
    if (c->sleeping)
        pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

void comm_flush(struct comm *c)
{
    while (c->nsend > 0) {
        if (comm_progress(c))
            comm_busy(c);
        else
            comm_idle(c, 1, 1e-3);
    }
}
