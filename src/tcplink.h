/*
 * tcplink.h - one TCP connection between a client and a served cluster's
 * relay (relay.c): frames of (tag, rank, payload), optionally sealed with
 * libsodium's crypto_secretbox; the token handshake; and the comm.h
 * functions over a link, so the scheduler runs unchanged in a client.
 *
 * A frame on the wire is a u32 length, then that many bytes: in clear, a
 * u32 tag, an i32 rank and the payload; sealed, the same bytes in a
 * secretbox (MAC first) under a per-direction key and a counter nonce.
 * The length is checked against the link's limit before anything is
 * allocated: LINK_MAX_HELLO until the peer has proved it knows the token.
 */
#ifndef PD_TCPLINK_H
#define PD_TCPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sodium.h>

#include "protocol.h"

struct comm;

/* Control tags of the link itself, beside the worker tags (protocol.h). */
enum link_tag {
    LINK_HELLO = 200, /* relay -> client: magic, version, flags, nonce */
    LINK_AUTH,        /* client -> relay: its nonce, MAC of both nonces */
    LINK_AUTH_OK,     /* relay -> client: MAC of both nonces the other way */
    LINK_REQUEST,     /* client -> relay: u8 kind (LINK_RUN, LINK_SHUTDOWN)
                         then for LINK_RUN: path, hash, u32 n, task names */
    LINK_WELCOME,     /* relay -> client: u32 run, u32 nranks, threads,
                         u32 sizeof(res_tags), resource tags of each rank */
    LINK_REFUSE,      /* either way: the reason, then the link closes */
    LINK_BYE,         /* relay -> client: the cluster is shutting down */
};

enum { LINK_RUN = 1, LINK_SHUTDOWN = 2 };

#define LINK_MAGIC 0x6b736470u    /* "pdsk" */
#define LINK_VERSION 1
#define LINK_NONCE 32
#define LINK_HASH 32               /* crypto_generichash of a .so */
#define LINK_MAX_HELLO 65536       /* frames before authentication */
#define LINK_MAX_FRAME (PROTO_MAX_MSG + 64)
#define LINK_HDR 8                 /* tag, rank */

struct link {
    int fd;
    uint8_t *out;                  /* bytes queued to write */
    size_t outlen, outoff, outcap;
    uint8_t *in;                   /* bytes read, not yet taken */
    size_t inlen, incap;
    size_t max_frame;              /* frames above are garbage */
    bool sealed;                   /* frames are secretboxes */
    uint8_t kin[crypto_secretbox_KEYBYTES], kout[crypto_secretbox_KEYBYTES];
    uint64_t nin, nout;            /* frame counters: the nonces */
    bool eof;                      /* the peer closed */
    char why[256];                 /* why the link failed */
};

void link_init(struct link *l, int fd);
void link_close(struct link *l);   /* closes fd too */

/* Queue one frame; then link_write sends what the socket takes. */
void link_put(struct link *l, int tag, int rank, const void *p, size_t n);
/* Write queued bytes without blocking: 0, or -1 with why set. */
int link_write(struct link *l);
/* Read what the socket has without blocking: bytes read, 0 none, -1
 * failed or closed (why set). */
long link_read(struct link *l);
/* Take one complete frame from what was read: 1 with *data malloc'd for
 * the caller, 0 none yet, -1 garbage (why set). The frame decoder. */
int link_take(struct link *l, int *tag, int *rank, uint8_t **data,
              size_t *len);
/* Wait up to timeout_s for one frame (blocking helper for handshakes):
 * 1, or -1 with why set. */
int link_wait(struct link *l, double timeout_s, int *tag, int *rank,
              uint8_t **data, size_t *len);
/* Write everything queued, waiting up to timeout_s: 0 or -1. */
int link_drain(struct link *l, double timeout_s);

/* Addresses: "tcp://HOST:PORT" (HOST a name, IPv4 or [IPv6]). */
int link_parse_address(const char *url, char *host, size_t hostlen,
                       int *port, char *err, size_t errlen);
/* True when host is a loopback name or address. */
bool link_is_loopback(const char *host);
/* Listen on host:port, or on the next free port up to port + 100:
 * the fd with *bound the port, or -1 with err. */
int link_listen(const char *host, int port, int *bound, char *err,
                size_t errlen);
/* Connect to url: the fd, or -1 with err. */
int link_connect(const char *url, double timeout_s, char *err,
                 size_t errlen);

/* A token is text: the relay makes 32 random bytes, written as 64 hex
 * digits. The key MACs are made with: a hash of the token. */
#define LINK_TOKEN 32
void link_token_key(const char *token, uint8_t key[crypto_auth_KEYBYTES]);
/* MAC over (first, second) nonces with key. */
void link_mac(const uint8_t key[crypto_auth_KEYBYTES],
              const uint8_t *first, const uint8_t *second,
              uint8_t mac[crypto_auth_BYTES]);
/* From now on seal frames: keys from the token key and both nonces;
 * client says which side this is. */
void link_seal(struct link *l, const uint8_t key[crypto_auth_KEYBYTES],
               const uint8_t rn[LINK_NONCE], const uint8_t cn[LINK_NONCE],
               bool client);

/* Content hash of a file: 0, or -1 with err. */
int link_hash_file(const char *path, uint8_t hash[LINK_HASH], char *err,
                   size_t errlen);
void link_hex(const uint8_t *p, size_t n, char *out); /* 2n + 1 chars */

/* comm.h over a link (a client's scheduler; commlink.c); comm.c calls
 * these when c->link is set. */
void comm_init_link(struct comm *c, struct link *l);
void link_comm_send(struct comm *c, int rank, int tag, struct buf *b);
bool link_comm_recv(struct comm *c, int *rank, int *tag, uint8_t **data,
                    size_t *len);
bool link_comm_progress(struct comm *c);
void link_comm_idle(struct comm *c, double max_sleep_s);
void link_comm_kick(struct comm *c);
bool link_comm_flush(struct comm *c, double max_s);
void link_comm_destroy(struct comm *c);

/* Set when the relay ends the link (closed, LINK_BYE, garbage): the
 * reason, for the client to report. */
extern char link_comm_gone[256];

#endif
