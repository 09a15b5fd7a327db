/* fuzz_protocol.c - libFuzzer harness of the wire decoder (protocol.c).
 * The first input byte picks what the rest is read as, the way a worker
 * or the scheduler reads a message of that tag (worker.c on_tasks,
 * on_fetches, on_data, on_free; scheduler.c on_done, on_data; fwd.c
 * fwd_print for TAG_LOG) or a lone
 * packed value (flow.c, pexec.c). Every entry that decodes must lie inside
 * the message and, re-encoded with proto_put_*, give back the bytes it
 * was read from: the decoder accepts nothing the encoder cannot write.
 * A string value's len is its strlen, as pdask.h says. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

/* Fail loudly, with the line, on a broken invariant. */
#define REQUIRE(cond)                                                        \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz_protocol.c:%d: %s\n", __LINE__, #cond);    \
            abort();                                                         \
        }                                                                    \
    } while (0)

/* Checks skipped while PDASK_FUZZ_KNOWN names their known bug
 * (README.md): a PD_STR value's len is its strlen ("str-nul"); a task
 * has no more arguments than bytes of them ("task-nargs"). */
static bool check_str_len = true, check_nargs = true;

/* p (n bytes) lies inside r's message [lo, r->end]. */
static void inside(const uint8_t *lo, const struct rd *r, const void *p,
                   uint64_t n)
{
    const uint8_t *q = p;
    REQUIRE(q >= lo && q <= r->end && n <= (uint64_t)(r->end - q));
}

/* The bytes an entry was read from, [from, r->p), equal b's. */
static void same_bytes(const uint8_t *from, const struct rd *r,
                       const struct buf *b)
{
    REQUIRE((size_t)(r->p - from) == b->len);
    REQUIRE(b->len == 0 || memcmp(from, b->data, b->len) == 0);
}

/* The u32 length of the string whose header starts at p: a string with a
 * NUL inside its declared length re-encodes shorter (buf_str writes
 * strlen), so only strings without one are compared byte for byte. */
static bool plain_str(const uint8_t *p, const char *s)
{
    uint32_t n;
    memcpy(&n, p, 4);
    return s && strlen(s) == n;
}

/* One packed value, as a task argument or a fetched result. */
static int value(struct rd *r, const uint8_t *lo)
{
    const uint8_t *from = r->p;
    struct buf b = { 0 };
    struct proto_ref ref = { 0 };
    pd_value v;
    int rc = proto_get_value_ref(r, &v, &ref);

    if (rc != 0) {
        REQUIRE(r->bad);
        return rc;
    }
    REQUIRE(!r->bad);
    switch ((int)v.kind) {
    case PD_STR:
        inside(lo, r, v.s, (uint64_t)v.len + 1);
        REQUIRE(v.s[v.len] == '\0');
        /* pdask.h: "v.len is strlen(v.s)"; a task may rely on it. */
        REQUIRE(!check_str_len || strlen(v.s) == v.len);
        if (strlen(v.s) != v.len)
            break;
        /* fall through */
    case PD_NIL:
    case PD_INT:
    case PD_REAL:
    case PD_BYTES:
    case WIRE_FUTURE:
        if (v.kind == PD_BYTES)
            inside(lo, r, v.b, v.len);
        REQUIRE(proto_put_value(&b, &v, ref.id) == 0);
        same_bytes(from, r, &b);
        break;
    case WIRE_REF:
        proto_put_ref(&b, &ref);
        same_bytes(from, r, &b);
        break;
    default:
        REQUIRE(!"a kind the decoder should have refused");
    }
    buf_free(&b);
    return 0;
}

/* TAG_TASKS, as the worker reads it: each run, then its nargs values. */
static void tasks(struct rd *r, const uint8_t *lo)
{
    uint32_t n = proto_get_count(r);

    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *from = r->p;
        struct proto_task t;
        struct buf b = { 0 };

        if (proto_get_task(r, &t) != 0)
            break;
        inside(lo, r, t.args, t.argslen);
        /* Each packed value takes a byte at least. worker.c on_tasks()
         * allocates nargs values before it reads one (pexec.c
         * helper_run() checks first), so more is a huge allocation. */
        REQUIRE(!check_nargs || t.nargs <= t.argslen);
        proto_put_task(&b, &t);
        same_bytes(from, r, &b);
        buf_free(&b);
        struct rd ar = rd_init(t.args, t.argslen);
        for (uint32_t j = 0; j < t.nargs; j++)
            if (value(&ar, t.args) != 0)
                break;
    }
}

/* TAG_DONE, as the scheduler reads it. */
static void done(struct rd *r, const uint8_t *lo)
{
    uint32_t n = proto_get_count(r);

    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *from = r->p;
        struct proto_done d;
        struct buf b = { 0 };

        if (proto_get_done(r, &d) != 0)
            break;
        if (proto_done_inline(&d)) {
            REQUIRE(d.inline_v || d.size == 0);
            if (d.inline_v)
                inside(lo, r, d.inline_v, d.size);
        }
        if (d.state != PD_COMPLETED) {
            REQUIRE(d.message);
            inside(lo, r, d.message, strlen(d.message) + 1);
            /* run 4, id 8, state 1, attempts 1, flags 1, thread 4, start
             * 8, end 8, runtime 4, size 8: the message length is at 47. */
            if (!plain_str(from + 47, d.message))
                continue;
        }
        proto_put_done(&b, &d);
        same_bytes(from, r, &b);
        buf_free(&b);
    }
}

/* TAG_FETCH, as a worker reads it. */
static void fetches(struct rd *r)
{
    uint32_t n = proto_get_count(r);
    struct proto_fetch f;

    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *from = r->p;
        struct buf b = { 0 };

        if (proto_get_fetch(r, &f) != 0)
            break;
        proto_put_fetch(&b, &f);
        same_bytes(from, r, &b);
        buf_free(&b);
    }
}

/* TAG_DATA, as a worker or the scheduler reads it; a value that came is
 * decoded as the worker's set_input() does. */
static void data(struct rd *r, const uint8_t *lo)
{
    uint32_t n = proto_get_count(r);

    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *from = r->p;
        struct proto_data d;
        struct buf b = { 0 };

        if (proto_get_data(r, &d) != 0)
            break;
        if (d.code == DATA_OK) {
            REQUIRE(d.packed || d.len == 0);
            if (d.packed) {
                inside(lo, r, d.packed, d.len);
                struct rd vr = rd_init(d.packed, d.len);
                value(&vr, d.packed);
            }
        } else {
            REQUIRE(d.err);
            inside(lo, r, d.err, strlen(d.err) + 1);
            if (!plain_str(from + 29, d.err))
                continue;
        }
        proto_put_data(&b, &d);
        same_bytes(from, r, &b);
        buf_free(&b);
    }
}

/* TAG_FREE, as a worker reads it. */
static void frees(struct rd *r)
{
    uint32_t n = proto_get_count(r), run;
    uint64_t id;

    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *from = r->p;
        struct buf b = { 0 };

        if (proto_get_free(r, &run, &id) != 0)
            break;
        proto_put_free(&b, run, id);
        same_bytes(from, r, &b);
        buf_free(&b);
    }
}

/* TAG_LOG, as rank 0 reads it (fwd_print). */
static void logs(struct rd *r, const uint8_t *lo)
{
    uint32_t n = proto_get_count(r);

    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *from = r->p;
        struct proto_log l;
        struct buf b = { 0 };

        if (proto_get_log(r, &l) != 0)
            break;
        REQUIRE(l.kind <= LOG_OUTPUT && l.run && l.text);
        inside(lo, r, l.run, strlen(l.run) + 1);
        inside(lo, r, l.text, strlen(l.text) + 1);
        /* kind 1, then the run's length at 1; its bytes, NUL, and the
         * text's length after. */
        uint32_t runlen;
        memcpy(&runlen, from + 1, 4);
        if (!plain_str(from + 1, l.run) ||
            !plain_str(from + 1 + 4 + runlen + 1, l.text))
            continue;
        proto_put_log(&b, &l);
        same_bytes(from, r, &b);
        buf_free(&b);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *known = getenv("PDASK_FUZZ_KNOWN");

    (void)argc;
    (void)argv;
    check_str_len = !(known && strstr(known, "str-nul"));
    check_nargs = !(known && strstr(known, "task-nargs"));
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *msg = in + 1;
    struct rd r = rd_init(msg, size - 1);

    switch (in[0] % 7) {
    case 0:
        tasks(&r, msg);
        break;
    case 1:
        done(&r, msg);
        break;
    case 2:
        fetches(&r);
        break;
    case 3:
        data(&r, msg);
        break;
    case 4:
        frees(&r);
        break;
    case 6:
        logs(&r, msg);
        break;
    default:
        while (value(&r, msg) == 0 && r.p < r.end)
            ;
        break;
    }
    REQUIRE(r.p >= msg && r.p <= r.end);
    return 0;
}
