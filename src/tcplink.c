/* tcplink.c - see tcplink.h. */
#define _GNU_SOURCE /* ppoll */
#include "tcplink.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define SEAL crypto_secretbox_MACBYTES

void link_init(struct link *l, int fd)
{
    memset(l, 0, sizeof(*l));
    l->fd = fd;
    l->max_frame = LINK_MAX_HELLO;
}

void link_close(struct link *l)
{
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    free(l->out);
    free(l->in);
    sodium_memzero(l->kin, sizeof(l->kin));
    sodium_memzero(l->kout, sizeof(l->kout));
    l->out = l->in = NULL;
    l->outlen = l->outoff = l->outcap = l->inlen = l->incap = 0;
}

static void nonce_of(uint64_t n, uint8_t nonce[crypto_secretbox_NONCEBYTES])
{
    memset(nonce, 0, crypto_secretbox_NONCEBYTES);
    memcpy(nonce, &n, sizeof(n));
}

static void out_reserve(struct link *l, size_t extra)
{
    if (l->outoff && l->outoff == l->outlen)
        l->outoff = l->outlen = 0;
    if (l->outlen + extra <= l->outcap)
        return;
    if (l->outoff) { /* slide what is left to the front first */
        memmove(l->out, l->out + l->outoff, l->outlen - l->outoff);
        l->outlen -= l->outoff;
        l->outoff = 0;
        if (l->outlen + extra <= l->outcap)
            return;
    }
    while (l->outcap < l->outlen + extra)
        l->outcap = l->outcap ? l->outcap * 2 : 4096;
    l->out = pd__xrealloc(l->out, l->outcap);
}

void link_put(struct link *l, int tag, int rank, const void *p, size_t n)
{
    uint32_t hdr[2] = { (uint32_t)tag, (uint32_t)rank };
    uint32_t len = (uint32_t)(LINK_HDR + n + (l->sealed ? SEAL : 0));

    out_reserve(l, 4 + len);
    memcpy(l->out + l->outlen, &len, 4);
    l->outlen += 4;
    if (!l->sealed) {
        memcpy(l->out + l->outlen, hdr, LINK_HDR);
        if (n)
            memcpy(l->out + l->outlen + LINK_HDR, p, n);
        l->outlen += LINK_HDR + n;
        return;
    }
    uint8_t nonce[crypto_secretbox_NONCEBYTES];
    uint8_t *plain = pd__xmalloc(LINK_HDR + n);
    memcpy(plain, hdr, LINK_HDR);
    if (n)
        memcpy(plain + LINK_HDR, p, n);
    nonce_of(l->nout++, nonce);
    crypto_secretbox_easy(l->out + l->outlen, plain, LINK_HDR + n, nonce,
                          l->kout);
    l->outlen += len;
    free(plain);
}

int link_write(struct link *l)
{
    while (l->outoff < l->outlen) {
        ssize_t k = send(l->fd, l->out + l->outoff, l->outlen - l->outoff,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            snprintf(l->why, sizeof(l->why), "cannot send: %s",
                     strerror(errno));
            return -1;
        }
        l->outoff += (size_t)k;
    }
    l->outoff = l->outlen = 0;
    return 0;
}

long link_read(struct link *l)
{
    long total = 0;

    for (;;) {
        if (l->incap - l->inlen < 65536) {
            l->incap = l->incap ? l->incap * 2 : 65536;
            l->in = pd__xrealloc(l->in, l->incap);
        }
        ssize_t k = recv(l->fd, l->in + l->inlen, l->incap - l->inlen,
                         MSG_DONTWAIT);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return total;
        if (k == 0) {
            l->eof = true;
            snprintf(l->why, sizeof(l->why), "the other side closed the "
                     "connection");
            return total ? total : -1;
        }
        if (k < 0) {
            snprintf(l->why, sizeof(l->why), "cannot receive: %s",
                     strerror(errno));
            return -1;
        }
        l->inlen += (size_t)k;
        total += k;
        /* Enough for now: let the caller take frames (a big frame
         * grows the buffer as it arrives). */
        if (l->inlen >= 4 * 65536 && l->inlen + 65536 > l->incap)
            return total;
    }
}

int link_take(struct link *l, int *tag, int *rank, uint8_t **data,
              size_t *len)
{
    uint32_t flen, hdr[2];
    size_t body;

    if (l->inlen < 4)
        return 0;
    memcpy(&flen, l->in, 4);
    /* Checked before anything is allocated for the frame. */
    if (flen < LINK_HDR + (l->sealed ? SEAL : 0) || flen > l->max_frame) {
        snprintf(l->why, sizeof(l->why), "a frame of %u bytes (at most %zu "
                 "here): not a pdask-mpi peer, or garbage", flen,
                 l->max_frame);
        return -1;
    }
    if (l->inlen - 4 < flen) {
        if (l->incap < 4 + (size_t)flen) {
            l->incap = 4 + (size_t)flen;
            l->in = pd__xrealloc(l->in, l->incap);
        }
        return 0;
    }
    body = flen - LINK_HDR - (l->sealed ? SEAL : 0);
    *data = pd__xmalloc(body ? body : 1);
    if (l->sealed) {
        uint8_t nonce[crypto_secretbox_NONCEBYTES];
        uint8_t *plain = pd__xmalloc(flen - SEAL);
        nonce_of(l->nin, nonce);
        if (crypto_secretbox_open_easy(plain, l->in + 4, flen, nonce,
                                       l->kin) != 0) {
            free(plain);
            free(*data);
            snprintf(l->why, sizeof(l->why), "a frame failed "
                     "authentication (wrong key, or altered on the way)");
            return -1;
        }
        l->nin++;
        memcpy(hdr, plain, LINK_HDR);
        memcpy(*data, plain + LINK_HDR, body);
        free(plain);
    } else {
        memcpy(hdr, l->in + 4, LINK_HDR);
        memcpy(*data, l->in + 4 + LINK_HDR, body);
    }
    *tag = (int)hdr[0];
    *rank = (int)hdr[1];
    *len = body;
    l->inlen -= 4 + (size_t)flen;
    memmove(l->in, l->in + 4 + flen, l->inlen);
    return 1;
}

int link_wait(struct link *l, double timeout_s, int *tag, int *rank,
              uint8_t **data, size_t *len)
{
    double end = pd__now() + timeout_s;

    for (;;) {
        int rc = link_take(l, tag, rank, data, len);
        if (rc)
            return rc;
        if (link_write(l) != 0)
            return -1;
        double left = end - pd__now();
        if (left <= 0) {
            snprintf(l->why, sizeof(l->why), "no answer within %g s",
                     timeout_s);
            return -1;
        }
        struct pollfd p = { l->fd, POLLIN | (l->outlen ? POLLOUT : 0), 0 };
        poll(&p, 1, (int)(left * 1000) + 1);
        if ((p.revents & (POLLIN | POLLHUP | POLLERR)) && link_read(l) < 0 &&
            link_take(l, tag, rank, data, len) != 1)
            return -1;
    }
}

int link_drain(struct link *l, double timeout_s)
{
    double end = pd__now() + timeout_s;

    while (l->outlen) {
        if (link_write(l) != 0)
            return -1;
        if (!l->outlen)
            break;
        if (pd__now() > end) {
            snprintf(l->why, sizeof(l->why), "could not send within %g s",
                     timeout_s);
            return -1;
        }
        struct pollfd p = { l->fd, POLLOUT, 0 };
        poll(&p, 1, 10);
    }
    return 0;
}

/* ------------------------------------------------------------ addresses */

int link_parse_address(const char *url, char *host, size_t hostlen,
                       int *port, char *err, size_t errlen)
{
    const char *h, *colon;
    char *end;
    size_t n;
    long p;

    if (strncmp(url, "tcp://", 6) != 0) {
        snprintf(err, errlen, "address '%s': write tcp://HOST:PORT, e.g. "
                 "tcp://127.0.0.1:8786", url);
        return -1;
    }
    h = url + 6;
    if (*h == '[') {
        const char *close = strchr(h, ']');
        if (!close || close[1] != ':')
            goto bad;
        h++;
        n = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(h, ':');
        if (!colon)
            goto bad;
        n = (size_t)(colon - h);
    }
    if (n == 0 || n >= hostlen)
        goto bad;
    memcpy(host, h, n);
    host[n] = '\0';
    errno = 0;
    p = strtol(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || p < 0 || p > 65535)
        goto bad;
    *port = (int)p;
    return 0;
bad:
    snprintf(err, errlen, "address '%s': write tcp://HOST:PORT with a port "
             "from 0 to 65535, e.g. tcp://127.0.0.1:8786", url);
    return -1;
}

bool link_is_loopback(const char *host)
{
    return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
           strcmp(host, "::1") == 0;
}

static void tune(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int link_listen(const char *host, int port, int *bound, char *err,
                size_t errlen)
{
    struct addrinfo hints = { .ai_flags = AI_PASSIVE,
                              .ai_socktype = SOCK_STREAM }, *ai = NULL;
    int last = port ? port + 100 : 0, rc, e = 0;

    for (int p = port; p <= last; p++) {
        char ps[16];
        snprintf(ps, sizeof(ps), "%d", p);
        rc = getaddrinfo(host, ps, &hints, &ai);
        if (rc != 0) {
            snprintf(err, errlen, "listen address %s: %s", host,
                     gai_strerror(rc));
            return -1;
        }
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
        int one = 1;
        if (fd >= 0)
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (fd >= 0 && bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
            listen(fd, 64) == 0) {
            struct sockaddr_storage ss;
            socklen_t sl = sizeof(ss);
            getsockname(fd, (struct sockaddr *)&ss, &sl);
            *bound = ntohs(ss.ss_family == AF_INET6
                               ? ((struct sockaddr_in6 *)&ss)->sin6_port
                               : ((struct sockaddr_in *)&ss)->sin_port);
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
            freeaddrinfo(ai);
            return fd;
        }
        e = errno;
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        ai = NULL;
    }
    snprintf(err, errlen, "cannot listen on %s, ports %d to %d: %s", host,
             port, last, strerror(e));
    return -1;
}

int link_connect(const char *url, double timeout_s, char *err,
                 size_t errlen)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
    char host[256], ps[16];
    int port, rc, fd = -1;

    if (link_parse_address(url, host, sizeof(host), &port, err, errlen))
        return -1;
    snprintf(ps, sizeof(ps), "%d", port);
    rc = getaddrinfo(host, ps, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "cannot reach the cluster at %s: %s", url,
                 gai_strerror(rc));
        return -1;
    }
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        rc = connect(fd, a->ai_addr, a->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            struct pollfd p = { fd, POLLOUT, 0 };
            int se = 0;
            socklen_t sl = sizeof(se);
            if (poll(&p, 1, (int)(timeout_s * 1000)) == 1 &&
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &se, &sl) == 0 && !se)
                rc = 0;
            else
                errno = se ? se : ETIMEDOUT;
        }
        if (rc == 0)
            break;
        rc = errno;
        close(fd);
        fd = -1;
        errno = rc;
    }
    if (fd < 0)
        snprintf(err, errlen, "cannot connect to the cluster at %s: %s; "
                 "is pdask-mpi serve running there?", url, strerror(errno));
    else
        tune(fd);
    freeaddrinfo(ai);
    return fd;
}

/* --------------------------------------------------------------- crypto */

void link_token_key(const char *token, uint8_t key[crypto_auth_KEYBYTES])
{
    static const uint8_t ctx[] = "pdask-mpi token key v1";
    crypto_generichash(key, crypto_auth_KEYBYTES, (const uint8_t *)token,
                       strlen(token), ctx, sizeof(ctx) - 1);
}

void link_mac(const uint8_t key[crypto_auth_KEYBYTES], const uint8_t *first,
              const uint8_t *second, uint8_t mac[crypto_auth_BYTES])
{
    uint8_t both[2 * LINK_NONCE];
    memcpy(both, first, LINK_NONCE);
    memcpy(both + LINK_NONCE, second, LINK_NONCE);
    crypto_auth(mac, both, sizeof(both), key);
}

void link_seal(struct link *l, const uint8_t key[crypto_auth_KEYBYTES],
               const uint8_t rn[LINK_NONCE], const uint8_t cn[LINK_NONCE],
               bool client)
{
    uint8_t master[crypto_kdf_KEYBYTES], up[crypto_secretbox_KEYBYTES],
        down[crypto_secretbox_KEYBYTES];
    crypto_generichash_state st;

    /* A fresh master key per connection: both nonces are in it, so no
     * key (and no counter nonce under it) is ever used twice. */
    crypto_generichash_init(&st, key, crypto_auth_KEYBYTES, sizeof(master));
    crypto_generichash_update(&st, rn, LINK_NONCE);
    crypto_generichash_update(&st, cn, LINK_NONCE);
    crypto_generichash_final(&st, master, sizeof(master));
    crypto_kdf_derive_from_key(up, sizeof(up), 1, "pdasklnk", master);
    crypto_kdf_derive_from_key(down, sizeof(down), 2, "pdasklnk", master);
    memcpy(l->kout, client ? up : down, sizeof(l->kout));
    memcpy(l->kin, client ? down : up, sizeof(l->kin));
    sodium_memzero(master, sizeof(master));
    sodium_memzero(up, sizeof(up));
    sodium_memzero(down, sizeof(down));
    l->sealed = true;
    l->nin = l->nout = 0;
}

int link_hash_file(const char *path, uint8_t hash[LINK_HASH], char *err,
                   size_t errlen)
{
    crypto_generichash_state st;
    uint8_t block[65536];
    FILE *f = fopen(path, "rb");
    size_t n;

    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    crypto_generichash_init(&st, NULL, 0, LINK_HASH);
    while ((n = fread(block, 1, sizeof(block), f)) > 0)
        crypto_generichash_update(&st, block, n);
    fclose(f);
    crypto_generichash_final(&st, hash, LINK_HASH);
    return 0;
}

void link_hex(const uint8_t *p, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, p, n);
}
