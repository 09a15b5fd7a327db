/* relay.c - see relay.h. Runs on the thread that called MPI_Init; polls
 * MPI and the sockets in turn, and sleeps in ppoll (a worker's message
 * cannot wake it, so the sleep stays short while clients are busy). */
#define _GNU_SOURCE /* ppoll */
#include "relay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fwd.h"
#include "log.h"
#include "tcplink.h"
#include "protocol.h"
#include "sfile.h"
#include "util.h"

#define BUSY_SLEEP_S 200e-6
#define IDLE_SLEEP_S 20e-3
#define MIN_SLEEP_S 20e-6
/* Clients hear that each live worker is alive this often. */
#define BEAT_S 0.25

enum cstate { C_FREE, C_HELLO, C_AUTHED, C_LOADING, C_RUNNING };

struct client {
    enum cstate state;
    struct link l;
    int id;                   /* for the log: client 1, 2, ... */
    char peer[80];            /* host:port it came from */
    uint32_t run;             /* its flow run id, once it asked to run */
    uint8_t rn[LINK_NONCE];   /* the relay's nonce for it */
    double since;             /* connected at */
    int loaded;               /* TAG_LOADED answers so far */
    char refuse[600];         /* the first worker's refusal */
    char path[1024];          /* its .so */
    struct buf bat;           /* a split message being built for it */
    uint32_t batn;
};

struct relay {
    struct comm *c;
    const struct relay_opts *o;
    int lfd;
    bool sealed;              /* frames are encrypted after the handshake */
    uint8_t key[crypto_auth_KEYBYTES];
    struct client *cl;
    int ncl;
    int next_id;
    uint32_t next_run;
    double *seen;             /* when each rank was last heard from */
    double beat_at, active_at, idle_since;
};

static volatile sig_atomic_t stopping;

void relay_interrupt(int sig)
{
    stopping = sig;
}

static struct client *by_run(struct relay *r, uint32_t run)
{
    for (int i = 0; i < r->ncl; i++)
        if (r->cl[i].state >= C_LOADING && r->cl[i].run == run)
            return &r->cl[i];
    return NULL;
}

static void to_workers(struct relay *r, int tag, const struct buf *b)
{
    for (int w = 1; w < r->o->nranks; w++) {
        struct buf copy = { 0 };
        struct peer p = { 0, w };
        buf_put(&copy, b->data, b->len);
        comm_send(r->c, p, tag, &copy);
    }
}

/* Close a client; its runs are dropped on every worker. */
static void drop(struct relay *r, struct client *cl, enum pd_level lv,
                 const char *why)
{
    if (cl->state >= C_LOADING) {
        struct buf b = { 0 };
        buf_u32(&b, cl->run);
        to_workers(r, TAG_DROP, &b);
        buf_free(&b);
        log_msg(lv, "pdask-mpi", "client %d (%s, flow run %u, %s): %s; its "
                "task runs are dropped", cl->id, cl->peer, cl->run, cl->path,
                why);
    } else {
        log_msg(lv, "pdask-mpi", "client %d (%s): %s", cl->id, cl->peer,
                why);
    }
    link_close(&cl->l);
    buf_free(&cl->bat);
    cl->state = C_FREE;
}

/* Tell the client why, and close it. */
static void refuse(struct relay *r, struct client *cl, const char *why)
{
    link_put(&cl->l, LINK_REFUSE, 0, why, strlen(why) + 1);
    link_drain(&cl->l, 1.0);
    drop(r, cl, PD_ERROR, why);
}

static void accept_clients(struct relay *r)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept(r->lfd, (struct sockaddr *)&ss, &sl);
        struct client *cl = NULL;
        struct buf b = { 0 };
        char host[64] = "?";
        int one = 1, port = 0;

        if (fd < 0)
            return;
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        for (int i = 0; i < r->ncl && !cl; i++)
            if (r->cl[i].state == C_FREE)
                cl = &r->cl[i];
        if (!cl) {
            r->cl = pd__xrealloc(r->cl, sizeof(*r->cl) * (size_t)(r->ncl + 1));
            cl = &r->cl[r->ncl++];
        }
        memset(cl, 0, sizeof(*cl));
        link_init(&cl->l, fd);
        cl->state = C_HELLO;
        cl->id = ++r->next_id;
        cl->since = pd__now();
        if (ss.ss_family == AF_INET) {
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host,
                      sizeof(host));
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
                      host, sizeof(host));
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
        snprintf(cl->peer, sizeof(cl->peer), "%s:%d", host, port);
        randombytes_buf(cl->rn, sizeof(cl->rn));
        buf_u32(&b, LINK_MAGIC);
        buf_u32(&b, LINK_VERSION);
        buf_u32(&b, r->sealed);
        buf_put(&b, cl->rn, sizeof(cl->rn));
        link_put(&cl->l, LINK_HELLO, 0, b.data, b.len);
        buf_free(&b);
        log_msg(PD_DEBUG, "pdask-mpi", "client %d connected from %s",
                cl->id, cl->peer);
    }
}

/* LINK_AUTH: u8 has a token, its nonce, MAC(relay nonce, its nonce). */
static void on_auth(struct relay *r, struct client *cl, struct rd *rd)
{
    uint8_t has = rd_u8(rd), mac[crypto_auth_BYTES], back[crypto_auth_BYTES];
    const uint8_t *cn = rd_take(rd, LINK_NONCE), *m = rd_take(rd,
                                                             sizeof(mac));

    if (rd->bad) {
        drop(r, cl, PD_WARNING, "malformed handshake: not a pdask-mpi "
             "client; disconnected");
        return;
    }
    if (!has) {
        refuse(r, cl, "refused: the client has no token (give it "
               "--scheduler-file, --token-file or PDASK_TOKEN)");
        return;
    }
    memcpy(mac, m, sizeof(mac));
    {
        uint8_t both[2 * LINK_NONCE];
        memcpy(both, cl->rn, LINK_NONCE);
        memcpy(both + LINK_NONCE, cn, LINK_NONCE);
        if (crypto_auth_verify(mac, both, sizeof(both), r->key) != 0) {
            refuse(r, cl, "refused: wrong token (the client's token is not "
                   "this cluster's; use its scheduler file or token file)");
            return;
        }
    }
    /* Prove the relay knows the token too, then seal if asked. */
    link_mac(r->key, cn, cl->rn, back);
    link_put(&cl->l, LINK_AUTH_OK, 0, back, sizeof(back));
    if (r->sealed)
        link_seal(&cl->l, r->key, cl->rn, cn, false);
    cl->l.max_frame = LINK_MAX_FRAME;
    cl->state = C_AUTHED;
}

/* LINK_REQUEST: run a flow (load its .so on the workers) or shut down. */
static void on_request(struct relay *r, struct client *cl, struct rd *rd)
{
    uint8_t kind = rd_u8(rd);
    struct buf b = { 0 };
    const char *path;

    if (kind == LINK_SHUTDOWN) {
        log_msg(PD_INFO, "pdask-mpi", "client %d (%s) asked the cluster to "
                "shut down", cl->id, cl->peer);
        stopping = -1;
        return;
    }
    path = rd_str(rd);
    if (kind != LINK_RUN || rd->bad || !path) {
        drop(r, cl, PD_WARNING, "malformed request; disconnected");
        return;
    }
    snprintf(cl->path, sizeof(cl->path), "%s", path);
    cl->run = r->next_run++;
    buf_u32(&b, cl->run);
    /* The rest (path, hash, task names) goes to the workers as it is:
     * each worker reads it with bounds checks. */
    buf_str(&b, path);
    buf_put(&b, rd->p, (size_t)(rd->end - rd->p));
    to_workers(r, TAG_LOAD, &b);
    buf_free(&b);
    cl->state = C_LOADING;
    cl->loaded = 0;
}

/* Each entry of a client's TAG_TASKS, TAG_FETCH or TAG_FREE must be of
 * its own flow run: no client touches another's runs. */
static bool own_entries(int tag, const uint8_t *data, size_t len,
                        uint32_t run)
{
    struct rd rd = rd_init(data, len);
    uint32_t n = proto_get_count(&rd), r2;
    uint64_t id;

    for (uint32_t i = 0; i < n; i++) {
        struct proto_task t;
        struct proto_fetch f;
        if (tag == TAG_TASKS) {
            if (proto_get_task(&rd, &t) != 0 || t.run != run)
                return false;
        } else if (tag == TAG_FETCH) {
            if (proto_get_fetch(&rd, &f) != 0 || f.run != run)
                return false;
        } else if (proto_get_free(&rd, &r2, &id) != 0 || r2 != run) {
            return false;
        }
    }
    return !rd.bad && rd.p == rd.end;
}

static void on_frame(struct relay *r, struct client *cl, int tag, int rank,
                     uint8_t *data, size_t len)
{
    struct rd rd = rd_init(data, len);

    if (cl->state == C_HELLO && tag == LINK_AUTH) {
        on_auth(r, cl, &rd);
    } else if (cl->state == C_AUTHED && tag == LINK_REQUEST) {
        on_request(r, cl, &rd);
    } else if (cl->state == C_RUNNING && tag == TAG_STOP) {
        ; /* a client never stops the cluster */
    } else if (cl->state == C_RUNNING &&
               (tag == TAG_TASKS || tag == TAG_FETCH || tag == TAG_FREE) &&
               rank >= 1 && rank < r->o->nranks &&
               own_entries(tag, data, len, cl->run)) {
        struct buf b = { data, len, len };
        struct peer p = { 0, rank };
        comm_send(r->c, p, tag, &b);
        return; /* comm took data */
    } else {
        char why[160];
        snprintf(why, sizeof(why), "sent a frame the relay does not accept "
                 "(tag %d, rank %d, %zu bytes) and is disconnected", tag,
                 rank, len);
        drop(r, cl, PD_WARNING, why);
    }
    free(data);
}

/* A worker's TAG_LOADED. */
static void on_loaded(struct relay *r, int rank, struct rd *rd)
{
    uint32_t run = rd_u32(rd);
    uint8_t ok = rd_u8(rd);
    const char *msg;
    struct client *cl = by_run(r, run);

    rd_take(rd, LINK_HASH);
    msg = rd_str(rd);
    if (!cl || cl->state != C_LOADING)
        return;
    if ((!ok || rd->bad) && !cl->refuse[0])
        snprintf(cl->refuse, sizeof(cl->refuse), "refused: rank %d: %s",
                 rank, msg ? msg : "malformed answer");
    if (++cl->loaded < r->o->nranks - 1)
        return;
    if (cl->refuse[0]) {
        char why[700];
        snprintf(why, sizeof(why), "%s", cl->refuse);
        refuse(r, cl, why);
        return;
    }
    struct buf b = { 0 };
    buf_u32(&b, cl->run);
    buf_u32(&b, (uint32_t)r->o->nranks);
    for (int i = 0; i < r->o->nranks; i++)
        buf_u32(&b, (uint32_t)r->o->threads[i]);
    buf_u32(&b, (uint32_t)sizeof(struct res_tags));
    buf_put(&b, r->o->tags, sizeof(struct res_tags) * (size_t)r->o->nranks);
    link_put(&cl->l, LINK_WELCOME, 0, b.data, b.len);
    buf_free(&b);
    cl->state = C_RUNNING;
    log_msg(PD_INFO, "pdask-mpi", "client %d (%s) runs %s as flow run %u",
            cl->id, cl->peer, cl->path, cl->run);
}

/* Send each client the entries split off for it. */
static void flush_split(struct relay *r, int rank, int tag)
{
    for (int i = 0; i < r->ncl; i++) {
        struct client *cl = &r->cl[i];
        if (!cl->batn)
            continue;
        proto_set_count(&cl->bat, cl->batn);
        link_put(&cl->l, tag, rank, cl->bat.data, cl->bat.len);
        cl->bat.len = 0;
        cl->batn = 0;
    }
}

/* A worker's TAG_DONE or TAG_DATA: each entry to the client whose flow
 * run it is; entries of runs whose client left are dropped. */
static void route(struct relay *r, int rank, int tag, uint8_t *data,
                  size_t len)
{
    struct rd rd = rd_init(data, len);
    uint32_t n = proto_get_count(&rd);

    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *at = rd.p;
        uint32_t run;
        if (tag == TAG_DONE) {
            struct proto_done d;
            if (proto_get_done(&rd, &d) != 0)
                break;
            run = d.run;
        } else {
            struct proto_data d;
            if (proto_get_data(&rd, &d) != 0)
                break;
            run = d.f.run;
        }
        struct client *cl = by_run(r, run);
        if (!cl || cl->state != C_RUNNING)
            continue;
        if (cl->batn++ == 0)
            proto_begin(&cl->bat);
        buf_put(&cl->bat, at, (size_t)(rd.p - at));
    }
    flush_split(r, rank, tag);
}

/* A worker's TAG_LOG: a task run's lines go to its client without the
 * flow run id in front of its name ("3/shout-4", worker.c); lines of no
 * known client (the rank's own, a gone client's) go to this log. */
static void route_log(struct relay *r, int rank, const uint8_t *data,
                      size_t len)
{
    struct rd rd = rd_init(data, len);
    uint32_t n = proto_get_count(&rd);
    struct proto_log l;

    for (uint32_t i = 0; i < n; i++) {
        char *end;
        if (proto_get_log(&rd, &l) != 0) {
            log_msg(PD_ERROR, "pdask-mpi", "malformed log lines from rank "
                    "%d ignored", rank);
            break;
        }
        unsigned long run = strtoul(l.run, &end, 10);
        struct client *cl = end != l.run && *end == '/'
                                ? by_run(r, (uint32_t)run) : NULL;
        if (cl && cl->state == C_RUNNING) {
            struct proto_log mine = l;
            mine.run = end + 1;
            if (cl->batn++ == 0)
                proto_begin(&cl->bat);
            proto_put_log(&cl->bat, &mine);
            continue;
        }
        fwd_print_line(&l, rank);
    }
    flush_split(r, rank, TAG_LOG);
}

static int from_workers(struct relay *r)
{
    int tag, got = 0;
    struct peer from;
    uint8_t *data;
    size_t len;

    while (got < 64 && comm_recv(r->c, &from, &tag, &data, &len)) {
        struct rd rd = rd_init(data, len);
        got++;
        if (from.rank > 0 && from.rank < r->o->nranks)
            r->seen[from.rank] = pd__now();
        if (tag == TAG_DONE || tag == TAG_DATA)
            route(r, from.rank, tag, data, len);
        else if (tag == TAG_LOG)
            route_log(r, from.rank, data, len);
        else if (tag == TAG_LOADED)
            on_loaded(r, from.rank, &rd);
        else if (tag != TAG_BEAT)
            log_msg(PD_DEBUG, "pdask-mpi", "relay: message tag %d from rank "
                    "%d ignored", tag, from.rank);
        free(data);
    }
    return got;
}

/* Every client hears, for each worker the relay heard from lately, that
 * it is alive: its own scheduler's heartbeat check then works as in a
 * job, and a worker that died is lost for every client. */
static void beats(struct relay *r, double now)
{
    uint32_t zero = 0;

    if (now - r->beat_at < BEAT_S)
        return;
    r->beat_at = now;
    for (int i = 0; i < r->ncl; i++) {
        struct client *cl = &r->cl[i];
        if (cl->state != C_RUNNING)
            continue;
        for (int w = 1; w < r->o->nranks; w++)
            if (now - r->seen[w] < r->o->heartbeat_s)
                link_put(&cl->l, TAG_BEAT, w, &zero, sizeof(zero));
    }
}

/* One round of the sockets: wait up to sleep_s, then read, take frames,
 * write. Returns the frames taken. */
static int sockets(struct relay *r, double sleep_s)
{
    struct pollfd *p = pd__xcalloc((size_t)r->ncl + 1, sizeof(*p));
    struct timespec ts = { (time_t)sleep_s,
                           (long)((sleep_s - (double)(time_t)sleep_s) * 1e9) };
    double now;
    int got = 0;

    p[0].fd = r->lfd;
    p[0].events = POLLIN;
    for (int i = 0; i < r->ncl; i++) {
        struct client *cl = &r->cl[i];
        p[i + 1].fd = cl->state == C_FREE ? -1 : cl->l.fd;
        p[i + 1].events = POLLIN | (cl->l.outlen ? POLLOUT : 0);
    }
    ppoll(p, (nfds_t)r->ncl + 1, &ts, NULL);
    now = pd__now();
    int n = r->ncl;
    for (int i = 0; i < n; i++) {
        struct client *cl = &r->cl[i];
        if (cl->state == C_FREE)
            continue;
        if (p[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) {
            long k = link_read(&cl->l);
            int tag, rank, rc = 0;
            uint8_t *data;
            size_t len;
            while (cl->state != C_FREE &&
                   (rc = link_take(&cl->l, &tag, &rank, &data, &len)) == 1) {
                on_frame(r, cl, tag, rank, data, len);
                got++;
            }
            if (cl->state == C_FREE)
                continue;
            if (rc < 0) {
                char why[300];
                snprintf(why, sizeof(why), "%s; disconnected", cl->l.why);
                drop(r, cl, PD_WARNING, why);
                continue;
            }
            if (k < 0) {
                drop(r, cl, cl->l.eof ? PD_INFO : PD_WARNING, cl->l.eof ?
                     "disconnected" : cl->l.why);
                continue;
            }
        }
        if (cl->state < C_LOADING && now - cl->since > r->o->timeout_s) {
            drop(r, cl, PD_WARNING, "did not finish its handshake in time "
                 "(client_kwargs timeout); disconnected");
            continue;
        }
        if (cl->l.outlen && link_write(&cl->l) != 0)
            drop(r, cl, PD_WARNING, cl->l.why);
    }
    if (p[0].revents & POLLIN)
        accept_clients(r);
    free(p);
    return got;
}

static bool any_running(const struct relay *r)
{
    for (int i = 0; i < r->ncl; i++)
        if (r->cl[i].state != C_FREE)
            return true;
    return false;
}

/* Listen, and write the scheduler file. 0, or -1 after the message. */
static int open_up(struct relay *r, char *addr, size_t addrlen)
{
    char host[256], err[1024], token[128], here[256] = "";
    struct sfile sf = { 0 };
    int port, bound;
    time_t t = time(NULL);
    struct tm tm;

    if (link_parse_address(r->o->listen, host, sizeof(host), &port, err,
                           sizeof(err)) != 0)
        goto fail;
    r->sealed = !link_is_loopback(host);
    if (sfile_token_get_or_make(token, sizeof(token), err, sizeof(err)))
        goto fail;
    link_token_key(token, r->key);
    r->lfd = link_listen(host, port, &bound, err, sizeof(err));
    if (r->lfd < 0)
        goto fail;
    gethostname(here, sizeof(here));
    snprintf(addr, addrlen, "tcp://%s%s%s:%d", strchr(host, ':') ? "[" : "",
             strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ? here
                                                                    : host,
             strchr(host, ':') ? "]" : "", bound);
    if (r->o->sched_file[0]) {
        snprintf(sf.address, sizeof(sf.address), "%s", addr);
        snprintf(sf.host, sizeof(sf.host), "%s", here);
        snprintf(sf.token, sizeof(sf.token), "%s", token);
        sf.pid = (long)getpid();
        sf.workers = r->o->nranks - 1;
        gmtime_r(&t, &tm);
        strftime(sf.started, sizeof(sf.started), "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (sfile_write(r->o->sched_file, &sf, err, sizeof(err)) != 0) {
            close(r->lfd);
            goto fail;
        }
    }
    sodium_memzero(token, sizeof(token));
    return 0;
fail:
    log_error("%s", err);
    return -1;
}

int relay_run(struct comm *c, const struct relay_opts *o)
{
    struct relay r = { .c = c, .o = o, .next_run = 1 };
    char addr[320];
    int code = 0;

    if (sodium_init() < 0) {
        log_error("libsodium could not start");
        code = 2;
    } else if (open_up(&r, addr, sizeof(addr)) != 0) {
        code = 2;
    }
    if (!code) {
        r.seen = pd__xcalloc((size_t)o->nranks, sizeof(double));
        for (int w = 0; w < o->nranks; w++)
            r.seen[w] = pd__now();
        log_msg(PD_INFO, "pdask-mpi", "Serving %d workers at %s%s; connect "
                "with: pdask-mpi %s%s FLOW.so", o->nranks - 1, addr,
                r.sealed ? " (encrypted)" : "",
                o->sched_file[0] ? "--scheduler-file " : "--address ",
                o->sched_file[0] ? o->sched_file : addr);
        r.active_at = pd__now();
        while (!stopping) {
            double now = pd__now(), cap, sleep_s;
            int busy = from_workers(&r);
            busy += comm_progress(c);
            if (busy)
                r.active_at = now;
            cap = now - r.active_at < 1.0 ? BUSY_SLEEP_S
                  : any_running(&r)       ? IDLE_SLEEP_S / 4
                                          : IDLE_SLEEP_S;
            if (busy)
                r.idle_since = 0;
            else if (!r.idle_since)
                r.idle_since = now;
            sleep_s = busy ? 0 : (now - r.idle_since) / 4;
            if (!busy && sleep_s < MIN_SLEEP_S)
                sleep_s = MIN_SLEEP_S;
            if (sleep_s > cap)
                sleep_s = cap;
            if (sockets(&r, sleep_s)) {
                r.active_at = pd__now();
                r.idle_since = 0;
            }
            beats(&r, pd__now());
        }
        log_msg(PD_INFO, "pdask-mpi", "Shutting down the cluster at %s%s",
                addr, stopping > 0 ? " (signal)" : "");
        for (int i = 0; i < r.ncl; i++) {
            struct client *cl = &r.cl[i];
            static const char bye[] = "the cluster is shutting down";
            if (cl->state == C_FREE)
                continue;
            link_put(&cl->l, LINK_BYE, 0, bye, sizeof(bye));
            link_drain(&cl->l, 1.0);
            drop(&r, cl, PD_INFO, "told the cluster is shutting down");
        }
        close(r.lfd);
        if (o->sched_file[0])
            sfile_remove(o->sched_file);
    }
    /* Workers wait for this whatever happened. */
    for (int w = 1; w < o->nranks; w++) {
        struct buf b = { 0 };
        struct peer p = { 0, w };
        buf_u32(&b, 0);
        comm_send(c, p, TAG_STOP, &b);
    }
    comm_flush(c, 10.0);
    free(r.cl);
    free(r.seen);
    sodium_memzero(r.key, sizeof(r.key));
    return code;
}
