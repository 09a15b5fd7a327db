/* Strings on the wire: a report whose message does not end in its NUL is
 * malformed, never read as a C string past its length (rd_str). Found by
 * the mutation check (tests/mutation, protocol-str-check). And the
 * TAG_LOG entries of forwarded task output (fwd.h). */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "protocol.h"

static void done_message(void)
{
    struct buf b = { 0 };
    struct proto_done d = { .id = 7, .state = PD_FAILED, .attempts = 1,
                            .message = "boom" }, got;

    proto_put_done(&b, &d);
    struct rd r = rd_init(b.data, b.len);
    CHECK_EQ(proto_get_done(&r, &got), 0);
    CHECK_EQ(got.id, 7);
    CHECK_STR(got.message, "boom");

    /* Overwrite the NUL after "boom": the same bytes, no terminator. */
    CHECK_EQ(b.data[b.len - 1], '\0');
    b.data[b.len - 1] = 'X';
    r = rd_init(b.data, b.len);
    CHECK_EQ(proto_get_done(&r, &got), PD_EINVAL);
    CHECK(r.bad);
    CHECK(got.message == NULL);
    buf_free(&b);
}

/* TAG_LOG entries: each field back as written; a kind past LOG_OUTPUT,
 * a missing NUL or a cut entry is malformed. */
static void log_entries(void)
{
    struct buf b = { 0 };
    struct proto_log in[] = { { PD_WARNING, "shout-3", "disk 91% full" },
                              { LOG_OUTPUT, "", "#3" } }, got;
    struct rd r;

    proto_begin(&b);
    for (int i = 0; i < 2; i++)
        proto_put_log(&b, &in[i]);
    proto_set_count(&b, 2);
    r = rd_init(b.data, b.len);
    CHECK_EQ(proto_get_count(&r), 2);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(proto_get_log(&r, &got), 0);
        CHECK_EQ(got.kind, in[i].kind);
        CHECK_STR(got.run, in[i].run);
        CHECK_STR(got.text, in[i].text);
    }
    CHECK(r.p == r.end);

    /* A kind that is neither a level nor output. */
    b.data[4] = LOG_OUTPUT + 1;
    r = rd_init(b.data, b.len);
    proto_get_count(&r);
    CHECK_EQ(proto_get_log(&r, &got), PD_EINVAL);

    /* Cut anywhere inside the first entry: refused, never read past. */
    b.data[4] = PD_WARNING;
    for (size_t cut = 4; cut < 4 + 1 + 4 + 8 + 4 + 14; cut++) {
        r = rd_init(b.data, cut);
        proto_get_count(&r);
        CHECK_EQ(proto_get_log(&r, &got), PD_EINVAL);
        CHECK(r.bad);
    }

    /* The text's NUL overwritten: malformed, as for any string. */
    b.data[4 + 1 + 4 + 8 + 4 + 13] = 'X';
    r = rd_init(b.data, b.len);
    proto_get_count(&r);
    CHECK_EQ(proto_get_log(&r, &got), PD_EINVAL);
    buf_free(&b);
}

int main(void)
{
    done_message();
    log_entries();
    return 0;
}
