/* comm.c - see comm.h. */
#include "comm.h"

#include <assert.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "tcplink.h"
#include "log.h"
#include "util.h"

#define MIN_SLEEP_S 20e-6
/* Runs shorter than SHORT_S make a yield-spin of SPIN_S pay: the next
 * report or batch is due within it. Longer runs would lose the CPU. */
#define SHORT_S 100e-6
#define SPIN_S 50e-6
/* Sends in flight larger than this are driven without sleeping. */
#define BIG_SEND (64 * 1024)

void comm_init(struct comm *c, MPI_Comm comm)
{
    pthread_condattr_t ca;

    memset(c, 0, sizeof(*c));
    comm_add(c, comm);
    MPI_Comm_rank(comm, &c->rank);
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    /* Short sleeps should be short: the default 50 us slack would make
     * every back-off step at least that long. */
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
}

int comm_add(struct comm *c, MPI_Comm comm)
{
    /* A dead peer is the heartbeat's to report (scheduler.c), with the
     * run's summary; MPI's default would abort this rank at once. */
    MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    if (c->neps == c->epcap) {
        c->epcap = c->epcap ? c->epcap * 2 : 4;
        c->eps = pd__xrealloc(c->eps, sizeof(*c->eps) * (size_t)c->epcap);
    }
    c->eps[c->neps] = comm;
    return c->neps++;
}

double comm_disconnect(struct comm *c, int ep, MPI_Comm *inter)
{
    double t0 = pd__now();

    assert(ep > 0 && ep < c->neps);
    if (c->eps[ep] != MPI_COMM_NULL)
        MPI_Comm_free(&c->eps[ep]);
    c->eps[ep] = MPI_COMM_NULL;
    if (*inter != MPI_COMM_NULL)
        MPI_Comm_disconnect(inter);
    return pd__now() - t0;
}

void comm_destroy(struct comm *c)
{
    if (c->link) {
        link_comm_destroy(c);
        return;
    }
    for (int i = 0; i < c->nsend; i++)
        free(c->bufs[i]);
    free(c->eps);
    free(c->reqs);
    free(c->bufs);
    free(c->sendlen);
    free(c->lent);
    for (int i = 0; i < c->ndead; i++)
        free(c->dead[i]);
    free(c->dead);
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

/* An MPI call failed (a peer died): say so once, at debug level after
 * that; the heartbeat decides what it means for the run. */
static void comm_error(struct comm *c, const char *what, int peer)
{
    log_msg(c->errors++ ? PD_DEBUG : PD_WARNING, "pdask-mpi", "rank %d: %s "
            "failed (peer rank %d): a rank may have died", c->rank, what,
            peer);
}

/* Room for one more send in flight. */
static void send_slot(struct comm *c)
{
    if (c->nsend < c->sendcap)
        return;
    c->sendcap = c->sendcap ? c->sendcap * 2 : 16;
    c->reqs = pd__xrealloc(c->reqs, sizeof(*c->reqs) * c->sendcap);
    c->bufs = pd__xrealloc(c->bufs, sizeof(*c->bufs) * c->sendcap);
    c->sendlen = pd__xrealloc(c->sendlen, sizeof(*c->sendlen) * c->sendcap);
    c->lent = pd__xrealloc(c->lent, sizeof(*c->lent) * c->sendcap);
}

/* The send just started in slot nsend: comm owns b's buffer from now. */
static void sent(struct comm *c, struct buf *b, const void *lent,
                 size_t len)
{
    c->sendlen[c->nsend] = len;
    c->sendbytes += len;
    c->lent[c->nsend] = lent;
    c->nlent += lent != NULL;
    c->bufs[c->nsend++] = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
}

void comm_send(struct comm *c, struct peer to, int tag, struct buf *b)
{
    if (c->link) {
        link_comm_send(c, to.rank, tag, b);
        return;
    }
    assert(b->len <= INT_MAX && to.ep >= 0 && to.ep < c->neps);
    send_slot(c);
    if (MPI_Isend(b->data, (int)b->len, MPI_BYTE, to.rank, tag,
                  c->eps[to.ep], &c->reqs[c->nsend]) != MPI_SUCCESS) {
        comm_error(c, "MPI_Isend", to.rank);
        buf_free(b);
        return;
    }
    sent(c, b, NULL, b->len);
}

void comm_send_lent(struct comm *c, struct peer to, int tag, struct buf *b,
                    const void *data, size_t len)
{
    MPI_Aint at[2];
    int lens[2];
    MPI_Datatype type;
    int rc;

    /* Over a link, or too big for one MPI count: a copy, as comm_send. */
    if (c->link || len > INT_MAX - b->len) {
        buf_put(b, data, len);
        comm_send(c, to, tag, b);
        return;
    }
    assert(to.ep >= 0 && to.ep < c->neps);
    send_slot(c);
    lens[0] = (int)b->len;
    lens[1] = (int)len;
    MPI_Get_address(b->data, &at[0]);
    MPI_Get_address(data, &at[1]);
    MPI_Type_create_hindexed(2, lens, at, MPI_BYTE, &type);
    MPI_Type_commit(&type);
    rc = MPI_Isend(MPI_BOTTOM, 1, type, to.rank, tag, c->eps[to.ep],
                   &c->reqs[c->nsend]);
    MPI_Type_free(&type); /* MPI keeps it until the send completes */
    if (rc != MPI_SUCCESS) {
        comm_error(c, "MPI_Isend", to.rank);
        buf_free(b);
        return;
    }
    sent(c, b, data, b->len + len);
}

bool comm_lent(const struct comm *c, const void *data)
{
    for (int i = 0; c->nlent && i < c->nsend; i++)
        if (c->lent[i] == data)
            return true;
    return false;
}

void comm_free_lent(struct comm *c, void *data)
{
    if (!comm_lent(c, data)) {
        free(data);
        return;
    }
    if (c->ndead == c->deadcap) {
        c->deadcap = c->deadcap ? c->deadcap * 2 : 4;
        c->dead = pd__xrealloc(c->dead, sizeof(*c->dead) * c->deadcap);
    }
    c->dead[c->ndead++] = data;
}

/* Free the dead bytes no send reads any more. */
static void bury(struct comm *c)
{
    int j = 0;

    for (int i = 0; i < c->ndead; i++) {
        if (comm_lent(c, c->dead[i]))
            c->dead[j++] = c->dead[i];
        else
            free(c->dead[i]);
    }
    c->ndead = j;
}

void comm_send_batch(struct comm *c, struct peer to, int tag,
                     struct batch *bt)
{
    if (!bt->n)
        return;
    proto_set_count(&bt->b, bt->n);
    comm_send(c, to, tag, &bt->b);
    bt->n = 0;
}

struct buf *comm_batch_add(struct comm *c, struct peer to, int tag,
                           struct batch *bt, size_t need)
{
    if (bt->n && bt->b.len + need > PROTO_MAX_MSG)
        comm_send_batch(c, to, tag, bt);
    if (bt->n++ == 0)
        proto_begin(&bt->b);
    return &bt->b;
}

bool comm_progress(struct comm *c)
{
    int done = 0, j = 0;

    if (c->link)
        return link_comm_progress(c);
    for (int i = 0; i < c->nsend; i++) {
        int flag = 0;
        if (MPI_Test(&c->reqs[i], &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            flag = 1; /* failed: the peer is gone; drop the send */
        if (flag) {
            free(c->bufs[i]);
            c->sendbytes -= c->sendlen[i];
            c->nlent -= c->lent[i] != NULL;
            done++;
            continue;
        }
        c->reqs[j] = c->reqs[i];
        c->sendlen[j] = c->sendlen[i];
        c->lent[j] = c->lent[i];
        c->bufs[j++] = c->bufs[i];
    }
    c->nsend = j;
    if (done && c->ndead)
        bury(c);
    return done > 0;
}

bool comm_recv(struct comm *c, struct peer *from, int *tag, uint8_t **data,
               size_t *len)
{
    MPI_Message msg;
    MPI_Status st;
    int flag = 0, count = 0;

    if (c->link) {
        from->ep = 0;
        return link_comm_recv(c, &from->rank, tag, data, len);
    }
    /* Matched probes: the message probed is the one received. */
    for (int i = 0; i < c->neps; i++) {
        int ep = (c->next_ep + i) % c->neps;
        if (c->eps[ep] == MPI_COMM_NULL)
            continue; /* disconnected */
        if (MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, c->eps[ep], &flag,
                        &msg, &st) != MPI_SUCCESS) {
            comm_error(c, "MPI_Improbe", -1);
            flag = 0;
        }
        if (!flag)
            continue;
        c->next_ep = (ep + 1) % c->neps;
        MPI_Get_count(&st, MPI_BYTE, &count);
        *data = pd__xmalloc(count > 0 ? (size_t)count : 1);
        if (MPI_Mrecv(*data, count, MPI_BYTE, &msg, MPI_STATUS_IGNORE) !=
            MPI_SUCCESS) {
            comm_error(c, "MPI_Mrecv", st.MPI_SOURCE);
            free(*data);
            continue;
        }
        from->ep = ep;
        from->rank = st.MPI_SOURCE;
        *tag = st.MPI_TAG;
        *len = (size_t)count;
        return true;
    }
    return false;
}

void comm_busy(struct comm *c)
{
    c->idle_since = 0;
}

void comm_idle(struct comm *c, double expect_s, double max_sleep_s)
{
    double now = pd__now(), wait;
    struct timespec ts;

    if (c->link) {
        link_comm_idle(c, max_sleep_s);
        return;
    }
    if (c->idle_since == 0)
        c->idle_since = now;
    /* A big send moves only while MPI is called (rendezvous, pipelined
     * fragments): keep calling, yielding the core between calls. */
    if (c->sendbytes > BIG_SEND) {
        sched_yield();
        return;
    }
    if (expect_s < SHORT_S && now - c->idle_since < SPIN_S) {
        sched_yield();
        return;
    }
    /* Sleep a quarter of the time we have been idle: quick to answer a
     * burst, nearly free when nothing happens for long. */
    wait = (now - c->idle_since) / 4;
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
    if (c->link) {
        link_comm_kick(c);
        return;
    }
    pthread_mutex_lock(&c->mu);
    c->kicked = true;
    if (c->sleeping)
        pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

bool comm_flush(struct comm *c, double max_s)
{
    double end = pd__now() + max_s;

    if (c->link)
        return link_comm_flush(c, max_s);
    while (c->nsend > 0) {
        if (pd__now() > end)
            return false;
        if (comm_progress(c))
            comm_busy(c);
        else
            comm_idle(c, 1, 1e-3);
    }
    return true;
}
