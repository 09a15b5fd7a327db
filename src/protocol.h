/*
 * protocol.h - message tags, and packing values and messages into bytes.
 * The only code that knows the wire format. All integers are little-endian
 * host order: every rank of one job runs the same binary on one kind of CPU.
 */
#ifndef PD_PROTOCOL_H
#define PD_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pdask.h"

enum proto_tag {
    TAG_TASKS = 101, /* scheduler -> worker: task runs to execute */
    TAG_DONE,        /* worker -> scheduler: task runs that ended */
    TAG_FETCH,       /* anyone -> worker: send me these results */
    TAG_DATA,        /* worker -> asker: the results asked for */
    TAG_FREE,        /* scheduler -> worker: nobody needs these results */
    TAG_STOP,        /* scheduler -> worker: exit */
    TAG_BEAT,        /* worker -> scheduler: alive (sent when quiet) */
    TAG_LOG,         /* worker -> scheduler: pd_log lines and task output */
};

/* A served cluster (relay.c): rank 0 relays for clients over TCP. */
enum proto_serve_tag {
    TAG_LOAD = 140,  /* relay -> worker: u32 run, path, 32-byte hash, u32 n,
                        n task names: load the client's module for run */
    TAG_LOADED,      /* worker -> relay: u32 run, u8 ok, 32-byte hash of its
                        file, message */
    TAG_DROP,        /* relay -> worker: u32 run: its client is gone: cancel
                        its queued runs, free its results */
};

/* Largest message: MPI counts are int; bigger payloads go in pieces of at
 * most this many bytes (comm.c), and one value is capped by it too. */
#define PROTO_MAX_MSG ((size_t)1 << 30)

/* Wire-only value kinds, after the public ones. */
enum {
    WIRE_FUTURE = PD_FUTURE, /* submit time: u64 upstream id */
    WIRE_REF = PD__KIND_END, /* dispatch time: u64 id, u32 worker making or
                                holding it, u32 the number of the TAG_TASKS
                                message that sent it there */
};

/* A packed result no larger than this travels inside TAG_DONE and lives on
 * rank 0 (Ray does the same for small objects): nil, ints and reals. */
#define PROTO_INLINE_MAX 9

/* A growable byte buffer. */
struct buf {
    uint8_t *data;
    size_t len, cap;
};

void buf_reserve(struct buf *b, size_t extra);
void buf_free(struct buf *b);
void buf_put(struct buf *b, const void *p, size_t n);

static inline void buf_u8(struct buf *b, uint8_t v) { buf_put(b, &v, 1); }
static inline void buf_u32(struct buf *b, uint32_t v) { buf_put(b, &v, 4); }
static inline void buf_u64(struct buf *b, uint64_t v) { buf_put(b, &v, 8); }
void buf_str(struct buf *b, const char *s);
/* Append printf-style text (no NUL), whatever its length. */
void buf_fmt(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A bounds-checked reader; after any overrun `bad` is set and reads give 0. */
struct rd {
    const uint8_t *p, *end;
    bool bad;
};

static inline struct rd rd_init(const void *p, size_t n)
{
    struct rd r = { p, (const uint8_t *)p + n, false };
    return r;
}

const void *rd_take(struct rd *r, size_t n);
uint8_t rd_u8(struct rd *r);
uint32_t rd_u32(struct rd *r);
uint64_t rd_u64(struct rd *r);
const char *rd_str(struct rd *r);

/* Values: kind byte then payload. Put fails with PD_ETOOBIG past 2 GiB and
 * PD_EINVAL on an unknown kind; put of PD_FUTURE writes upstream_id. */
int proto_put_value(struct buf *b, const pd_value *v, uint64_t upstream_id);
/* Read one value, borrowing strings and bytes from the buffer. A WIRE_REF or
 * WIRE_FUTURE sets v->kind to it and *id (and *worker) to the reference. */
int proto_get_value(struct rd *r, pd_value *v, uint64_t *id, int32_t *worker);

/* A WIRE_REF: id made by worker, sent there in its TAG_TASKS number seq. */
struct proto_ref {
    uint64_t id;
    uint32_t worker;
    uint32_t seq;
};
void proto_put_ref(struct buf *b, const struct proto_ref *ref);
/* Like proto_get_value, with the whole reference when it is a WIRE_REF. */
int proto_get_value_ref(struct rd *r, pd_value *v, struct proto_ref *ref);

/* proto_task flags */
enum {
    TASK_THREAD = 1 << 0,   /* run on a thread whatever the task says */
    TASK_PROCESS = 1 << 1,  /* run in a helper process */
    TASK_HOLDS = 1 << 2,    /* resources held follow the arguments */
    TASK_INLINE = 1 << 3,   /* report the result inline whatever its size
                               (a journal records it on rank 0) */
};

/* One task run in TAG_TASKS: header, then nargs packed values. */
struct proto_task {
    uint32_t run;       /* the flow run it belongs to */
    int32_t priority;   /* higher first in the worker's queue */
    int32_t retries;    /* -1: the task's own */
    uint64_t id;
    uint32_t def;       /* index in the task table agreed at start-up */
    uint32_t seq;       /* run number of this task: shout-<seq> */
    uint32_t flags;     /* TASK_* */
    uint32_t nargs;
    uint32_t argslen;
    const uint8_t *args; /* borrowed from the message */
    uint32_t holdslen;  /* with TASK_HOLDS: u8 n, then n times (name as
                           buf_str, u64 amount in millionths, u64 unit
                           mask); see proto_get_hold */
    const uint8_t *holds;
};

/* One resource a run holds, read from proto_task's holds. */
struct proto_hold {
    const char *name;   /* borrowed, NUL-terminated */
    int64_t amt;        /* millionths */
    uint64_t units;     /* bit k: unit k of the worker */
};

/* The holds' count, then each hold in turn; PD_EINVAL when malformed. */
int proto_get_holds_count(struct rd *r, uint32_t *n);
int proto_get_hold(struct rd *r, struct proto_hold *h);

void proto_put_task(struct buf *b, const struct proto_task *t);
int proto_get_task(struct rd *r, struct proto_task *t);

/* One ended task run in TAG_DONE. */
struct proto_done {
    uint32_t run;
    uint64_t id;
    uint8_t state;        /* enum pd_state */
    uint8_t attempts;
    uint8_t flags;        /* DONE_* */
    uint32_t thread;      /* the executor that ran it */
    uint64_t start_us;    /* wall clock (µs since the epoch) at its start */
    uint64_t end_us;      /* and at its end (all attempts) */
    uint32_t runtime_us;
    uint64_t size;        /* packed size of the result */
    const void *inline_v; /* the packed result when it travels inline:
                             size <= PROTO_INLINE_MAX, or DONE_INLINE */
    const char *message;  /* why it failed, or NULL */
};

/* proto_done flags */
enum {
    DONE_INLINE = 1 << 0,   /* a Completed run's result is inline, whatever
                               its size (the run had TASK_INLINE) */
};

/* True when a report carries its result. */
static inline bool proto_done_inline(const struct proto_done *d)
{
    return d->state == PD_COMPLETED &&
           (d->size <= PROTO_INLINE_MAX || (d->flags & DONE_INLINE));
}

void proto_put_done(struct buf *b, const struct proto_done *d);
int proto_get_done(struct rd *r, struct proto_done *d);

/* Message header: a u32 count of entries; set after appending them. */
void proto_begin(struct buf *b);
void proto_set_count(struct buf *b, uint32_t count);
uint32_t proto_get_count(struct rd *r);

/* TAG_FETCH entry: the result wanted (run, id; sent to the asked worker in
 * its TAG_TASKS number seq), and a cookie and slot the asker gets back. A
 * cookie is a number, never a pointer. */
struct proto_fetch {
    uint32_t run;
    uint64_t id;
    uint32_t seq;
    uint64_t cookie;
    uint32_t slot;
};

void proto_put_fetch(struct buf *b, const struct proto_fetch *f);
int proto_get_fetch(struct rd *r, struct proto_fetch *f);

/* Why a TAG_DATA entry carries no value. */
enum {
    DATA_OK,
    DATA_MISSING,     /* not there: freed, or never made there */
    DATA_NOTREADY,    /* its task run ended without completing */
};

/* TAG_DATA entry: the fetch it answers, then the packed value, or a DATA_*
 * code and err text when the result is not there. */
struct proto_data {
    struct proto_fetch f;
    const void *packed;
    uint64_t len;
    uint8_t code;
    const char *err;
};

/* TAG_FREE entry: a result nobody needs any more. */
void proto_put_free(struct buf *b, uint32_t run, uint64_t id);
int proto_get_free(struct rd *r, uint32_t *run, uint64_t *id);

void proto_put_data(struct buf *b, const struct proto_data *d);
/* The entry without its result bytes, which must follow it (a result
 * sent from where it is: comm_send_lent). */
void proto_put_data_head(struct buf *b, const struct proto_data *d);
int proto_get_data(struct rd *r, struct proto_data *d);

/* TAG_LOG entry: one line a task wrote on a worker, in the order written.
 * kind is the pd_log level (PD_DEBUG..PD_ERROR) or LOG_OUTPUT (a line of
 * the task's stdout or stderr); run is the task run's name, or "" when
 * the line cannot be told apart from another run's (fwd.h). */
enum { LOG_OUTPUT = PD_ERROR + 1 };
struct proto_log {
    uint8_t kind;
    const char *run;
    const char *text;
};

void proto_put_log(struct buf *b, const struct proto_log *l);
int proto_get_log(struct rd *r, struct proto_log *l);

#endif
