/* commlink.c - comm.h over a served cluster's TCP link (tcplink.h): a
 * client's scheduler runs unchanged; comm.c calls these when c->link is
 * set. The link's socket wakes the sleeping thread, and comm_kick writes
 * an eventfd, so a client sleeps in ppoll and answers at once. */
#define _GNU_SOURCE /* ppoll */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "comm.h"
#include "log.h"
#include "scheduler.h"
#include "tcplink.h"

char link_comm_gone[256];

void comm_init_link(struct comm *c, struct link *l)
{
    memset(c, 0, sizeof(*c));
    c->link = l;
    c->kickfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
}

void link_comm_destroy(struct comm *c)
{
    if (c->kickfd >= 0)
        close(c->kickfd);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
}

/* The link is over: say why once and end the flow run like SIGTERM does
 * (its runs Cancelled, the summary, exit 143). */
static void gone(struct comm *c, const char *why)
{
    if (link_comm_gone[0])
        return;
    snprintf(link_comm_gone, sizeof(link_comm_gone), "%s", why);
    log_error("the cluster ended this client's connection: %s; the flow "
              "run stops here", why);
    (void)c;
    /* Twice: no grace period, since no report can come any more. */
    sched_interrupt(SIGTERM);
    sched_interrupt(SIGTERM);
}

void link_comm_send(struct comm *c, int rank, int tag, struct buf *b)
{
    if (!link_comm_gone[0])
        link_put(c->link, tag, rank, b->data, b->len);
    buf_free(b);
    if (link_write(c->link) != 0)
        gone(c, c->link->why);
}

bool link_comm_recv(struct comm *c, int *rank, int *tag, uint8_t **data,
                    size_t *len)
{
    struct link *l = c->link;

    for (;;) {
        int rc = link_take(l, tag, rank, data, len);
        if (rc < 0) {
            gone(c, l->why);
            return false;
        }
        if (rc == 0) {
            if (l->eof)   /* closed after its last whole frame */
                gone(c, l->why);
            if (l->eof || link_comm_gone[0])
                return false;
            long got = link_read(l);
            if (got < 0 && link_take(l, tag, rank, data, len) != 1) {
                gone(c, l->why);
                return false;
            }
            if (got <= 0)
                return false;
            continue;
        }
        if (*tag == LINK_BYE || *tag == LINK_REFUSE) {
            char why[200];
            snprintf(why, sizeof(why), "%.*s", (int)*len, (char *)*data);
            free(*data);
            gone(c, why);
            return false;
        }
        if (*tag < TAG_TASKS || *tag > TAG_LOG) {
            free(*data);
            continue;    /* not for the scheduler */
        }
        return true;
    }
}

bool link_comm_progress(struct comm *c)
{
    size_t before = c->link->outlen - c->link->outoff;

    if (link_write(c->link) != 0)
        gone(c, c->link->why);
    return c->link->outlen - c->link->outoff != before && before;
}

void link_comm_idle(struct comm *c, double max_sleep_s)
{
    struct pollfd p[2] = {
        { c->link->fd, POLLIN | (c->link->outlen ? POLLOUT : 0), 0 },
        { c->kickfd, POLLIN, 0 },
    };
    struct timespec ts = { (time_t)max_sleep_s,
                           (long)((max_sleep_s - (double)(time_t)max_sleep_s)
                                  * 1e9) };
    uint64_t v;

    /* The socket wakes this thread, unlike MPI: sleep up to the cap. */
    pthread_mutex_lock(&c->mu);
    if (c->kicked) {
        c->kicked = false;
        pthread_mutex_unlock(&c->mu);
        return;
    }
    c->sleeping = true;
    pthread_mutex_unlock(&c->mu);
    if (link_comm_gone[0] || c->link->eof)
        p[0].fd = -1;
    ppoll(p, 2, &ts, NULL);
    pthread_mutex_lock(&c->mu);
    c->sleeping = false;
    c->kicked = false;
    pthread_mutex_unlock(&c->mu);
    if (p[1].revents & POLLIN)
        (void)!read(c->kickfd, &v, sizeof(v));
}

void link_comm_kick(struct comm *c)
{
    uint64_t one = 1;

    pthread_mutex_lock(&c->mu);
    c->kicked = true;
    if (c->sleeping)
        (void)!write(c->kickfd, &one, sizeof(one));
    pthread_mutex_unlock(&c->mu);
}

bool link_comm_flush(struct comm *c, double max_s)
{
    if (link_comm_gone[0])
        return true;
    return link_drain(c->link, max_s) == 0;
}
