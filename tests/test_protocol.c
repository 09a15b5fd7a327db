/* Values and messages survive a pack/unpack round trip; malformed input is
 * reported, never read past its end. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "protocol.h"

static void values(void)
{
    struct buf b = { 0 };
    const char blob[] = { 1, 0, 2, 0, 3 };
    pd_value in[] = { pd_nil(), pd_int(-42), pd_real(2.5), pd_str("héllo"),
                      pd_bytes(blob, sizeof(blob)), pd_str("") };
    pd_value v;
    uint64_t id = 0;
    int32_t rank = 0;

    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
        CHECK_EQ(proto_put_value(&b, &in[i], 0), 0);
    struct rd r = rd_init(b.data, b.len);
    CHECK_EQ(proto_get_value(&r, &v, &id, &rank), 0);
    CHECK_EQ(v.kind, PD_NIL);
    CHECK_EQ(proto_get_value(&r, &v, &id, &rank), 0);
    CHECK_EQ(v.i, -42);
    CHECK_EQ(proto_get_value(&r, &v, &id, &rank), 0);
    CHECK(v.r == 2.5);
    CHECK_EQ(proto_get_value(&r, &v, &id, &rank), 0);
    CHECK_STR(v.s, "héllo");
    CHECK_EQ(v.len, 6);
    CHECK_EQ(proto_get_value(&r, &v, &id, &rank), 0);
    CHECK_EQ(v.kind, PD_BYTES);
    CHECK_EQ(v.len, sizeof(blob));
    CHECK(memcmp(v.b, blob, sizeof(blob)) == 0);
    CHECK_EQ(proto_get_value(&r, &v, &id, &rank), 0);
    CHECK_STR(v.s, "");
    CHECK(r.p == r.end);
    CHECK(!r.bad);

    /* Every truncation of the buffer is caught. */
    for (size_t n = 0; n < b.len; n++) {
        struct rd t = rd_init(b.data, n);
        int bad = 0;
        for (int i = 0; i < 6 && !bad; i++)
            bad = proto_get_value(&t, &v, &id, &rank) != 0;
        CHECK(bad);
    }
    /* An unknown kind is an error, as is a kind that cannot be sent. */
    uint8_t junk = 200;
    struct rd t = rd_init(&junk, 1);
    CHECK_EQ(proto_get_value(&t, &v, &id, &rank), PD_EINVAL);
    pd_value weird = { .kind = (enum pd_kind)77 };
    CHECK_EQ(proto_put_value(&b, &weird, 0), PD_EINVAL);
    pd_value nullbytes = pd_bytes(NULL, 3);
    CHECK_EQ(proto_put_value(&b, &nullbytes, 0), PD_EINVAL);
    buf_free(&b);
}

static void references(void)
{
    struct buf b = { 0 };
    pd_value fut = { .kind = PD_FUTURE }, v;
    uint64_t id = 0;
    int32_t rank = 0;

    struct proto_ref ref = { 99, 5, 17 }, ref2;
    CHECK_EQ(proto_put_value(&b, &fut, 1234567890123ull), 0);
    proto_put_ref(&b, &ref);
    proto_put_ref(&b, &ref);
    struct rd r = rd_init(b.data, b.len);
    CHECK_EQ(proto_get_value(&r, &v, &id, &rank), 0);
    CHECK_EQ(v.kind, WIRE_FUTURE);
    CHECK_EQ(id, 1234567890123ull);
    CHECK_EQ(proto_get_value(&r, &v, &id, &rank), 0);
    CHECK_EQ(v.kind, WIRE_REF);
    CHECK_EQ(id, 99);
    CHECK_EQ(rank, 5);
    CHECK_EQ(proto_get_value_ref(&r, &v, &ref2), 0);
    CHECK_EQ(v.kind, WIRE_REF);
    CHECK_EQ(ref2.id, 99);
    CHECK_EQ(ref2.worker, 5);
    CHECK_EQ(ref2.seq, 17);
    CHECK(r.p == r.end);
    buf_free(&b);
}

static void messages(void)
{
    struct buf b = { 0 }, args = { 0 };
    pd_value a = pd_int(7);
    struct proto_task t = { 7, -4, 2, 5, 2, 3, TASK_PROCESS, 1, 0, NULL, 0, NULL },
                      t2;
    struct proto_done d = { .run = 7, .id = 9, .state = PD_FAILED, .attempts = 3,
                            .runtime_us = 1500, .message = "boom" }, d2;
    uint8_t inl[9] = { PD_INT, 1, 0, 0, 0, 0, 0, 0, 0 };

    proto_put_value(&args, &a, 0);
    t.args = args.data;
    t.argslen = (uint32_t)args.len;
    proto_begin(&b);
    proto_put_task(&b, &t);
    proto_put_done(&b, &d);
    d.id = 10;
    d.state = PD_COMPLETED;
    d.size = sizeof(inl);
    d.inline_v = inl;
    proto_put_done(&b, &d);
    d.id = 11;
    d.size = 1 << 20; /* big: stays on the worker, only its size travels */
    proto_put_done(&b, &d);
    uint8_t whole[32] = { PD_BYTES, 27 };
    d.id = 12; /* big, but asked for inline (a journal is on) */
    d.flags = DONE_INLINE;
    d.size = sizeof(whole);
    d.inline_v = whole;
    proto_put_done(&b, &d);
    proto_set_count(&b, 5);

    struct rd r = rd_init(b.data, b.len);
    CHECK_EQ(proto_get_count(&r), 5);
    CHECK_EQ(proto_get_task(&r, &t2), 0);
    CHECK_EQ(t2.run, 7);
    CHECK_EQ(t2.priority, -4);
    CHECK_EQ(t2.retries, 2);
    CHECK_EQ(t2.id, 5);
    CHECK_EQ(t2.def, 2);
    CHECK_EQ(t2.seq, 3);
    CHECK_EQ(t2.flags, TASK_PROCESS);
    CHECK_EQ(t2.nargs, 1);
    CHECK_EQ(t2.argslen, 9);
    CHECK(memcmp(t2.args, args.data, 9) == 0);
    CHECK_EQ(proto_get_done(&r, &d2), 0);
    CHECK_EQ(d2.run, 7);
    CHECK_EQ(d2.id, 9);
    CHECK_EQ(d2.state, PD_FAILED);
    CHECK_EQ(d2.attempts, 3);
    CHECK_EQ(d2.runtime_us, 1500);
    CHECK_STR(d2.message, "boom");
    CHECK_EQ(proto_get_done(&r, &d2), 0);
    CHECK_EQ(d2.id, 10);
    CHECK(d2.inline_v && memcmp(d2.inline_v, inl, 9) == 0);
    CHECK(d2.message == NULL);
    CHECK_EQ(proto_get_done(&r, &d2), 0);
    CHECK_EQ(d2.size, 1 << 20);
    CHECK(d2.inline_v == NULL);
    CHECK_EQ(proto_get_done(&r, &d2), 0);
    CHECK_EQ(d2.id, 12);
    CHECK_EQ(d2.flags, DONE_INLINE);
    CHECK(d2.inline_v && memcmp(d2.inline_v, whole, sizeof(whole)) == 0);
    CHECK(r.p == r.end);

    /* Fetch and data entries, including a miss. */
    struct proto_fetch fe = { 7, 42, 12, 0xdeadbeefull, 3 }, fe2;
    struct proto_data da = { fe, inl, 9, DATA_OK, NULL },
                      miss = { fe, NULL, 0, DATA_MISSING, "gone" }, got;
    uint32_t run;
    uint64_t fid;
    b.len = 0;
    proto_put_fetch(&b, &fe);
    proto_put_data(&b, &da);
    proto_put_data(&b, &miss);
    proto_put_free(&b, 7, 1ull << 33);
    r = rd_init(b.data, b.len);
    CHECK_EQ(proto_get_fetch(&r, &fe2), 0);
    CHECK_EQ(fe2.run, 7);
    CHECK_EQ(fe2.seq, 12);
    CHECK_EQ(fe2.id, 42);
    CHECK_EQ(fe2.cookie, 0xdeadbeefull);
    CHECK_EQ(fe2.slot, 3);
    CHECK_EQ(proto_get_data(&r, &got), 0);
    CHECK_EQ(got.len, 9);
    CHECK(got.err == NULL);
    CHECK_EQ(proto_get_data(&r, &got), 0);
    CHECK_EQ(got.code, DATA_MISSING);
    CHECK_STR(got.err, "gone");
    CHECK(got.packed == NULL);
    CHECK_EQ(proto_get_free(&r, &run, &fid), 0);
    CHECK_EQ(run, 7);
    CHECK_EQ(fid, 1ull << 33);
    CHECK(r.p == r.end);
    buf_free(&b);
    buf_free(&args);
}

/* Malformed messages the fuzzers found, refused before anyone trusts
 * them: a string with a NUL inside its length, more arguments than
 * argument bytes, a report whose state does not end a run. */
static void malformed(void)
{
    static const uint8_t str[] = { PD_STR, 3, 0, 0, 0, 'a', 0, 'b', 0 };
    struct proto_task t = { 1, 0, -1, 9, 0, 0, 0, 0xffffffffu, 0, NULL, 0, NULL }, t2;
    struct proto_done d = { .id = 1, .state = PD_RUNNING, .message = "x" },
                      d2;
    struct buf b = { 0 };
    pd_value v;
    uint64_t id;
    int32_t w;

    struct rd r = rd_init(str, sizeof(str));
    CHECK_EQ(proto_get_value(&r, &v, &id, &w), PD_EINVAL);
    proto_put_task(&b, &t);
    r = rd_init(b.data, b.len);
    CHECK_EQ(proto_get_task(&r, &t2), PD_EINVAL);
    b.len = 0;
    proto_put_done(&b, &d);
    r = rd_init(b.data, b.len);
    CHECK_EQ(proto_get_done(&r, &d2), PD_EINVAL);
    buf_free(&b);
}

/* Resources a run holds travel after its arguments, and read back; a
 * truncated or lying holds block is refused. */
static void holds(void)
{
    struct buf b = { 0 }, h = { 0 };
    struct proto_task t = { 1, 0, -1, 2, 0, 0, TASK_HOLDS, 0, 0, NULL, 0,
                            NULL }, t2;
    struct proto_hold ph;
    uint32_t n;

    buf_u8(&h, 2);
    buf_str(&h, "GPU");
    buf_u64(&h, 500000);
    buf_u64(&h, 2);
    buf_str(&h, "MEM");
    buf_u64(&h, 4000000);
    buf_u64(&h, 0);
    t.holds = h.data;
    t.holdslen = (uint32_t)h.len;
    proto_put_task(&b, &t);
    struct rd r = rd_init(b.data, b.len);
    CHECK_EQ(proto_get_task(&r, &t2), 0);
    CHECK(r.p == r.end);
    CHECK_EQ(t2.holdslen, h.len);
    struct rd hr = rd_init(t2.holds, t2.holdslen);
    CHECK_EQ(proto_get_holds_count(&hr, &n), 0);
    CHECK_EQ(n, 2);
    CHECK_EQ(proto_get_hold(&hr, &ph), 0);
    CHECK_STR(ph.name, "GPU");
    CHECK_EQ(ph.amt, 500000);
    CHECK_EQ(ph.units, 2);
    CHECK_EQ(proto_get_hold(&hr, &ph), 0);
    CHECK_STR(ph.name, "MEM");
    CHECK_EQ(proto_get_hold(&hr, &ph), PD_EINVAL); /* only two */
    /* A holds length past the end of the message. */
    r = rd_init(b.data, b.len - 1);
    CHECK_EQ(proto_get_task(&r, &t2), PD_EINVAL);
    buf_free(&b);
    buf_free(&h);
}

int main(void)
{
    holds();
    malformed();
    values();
    references();
    messages();
    return 0;
}
