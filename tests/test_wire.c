/* Strings on the wire: a report whose message does not end in its NUL is
 * malformed, never read as a C string past its length (rd_str). Found by
 * the mutation check (tests/mutation, protocol-str-check). */
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

int main(void)
{
    done_message();
    return 0;
}
