/* fuzz_link.c - libFuzzer harness of a served cluster's frame decoder
 * (tcplink.c link_take), the first code that reads bytes from the
 * network. The first input byte picks the link's state: in clear or
 * sealed (a fixed key), before authentication (small frames only) or
 * after. The rest arrives as read from the socket, in pieces whose sizes
 * come from the second byte. Every frame taken must fit the limit it was
 * checked against, and encoded again (link_put, same keys and counter)
 * give back the bytes it came from: the decoder accepts nothing the
 * encoder cannot write. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcplink.h"

#define REQUIRE(cond)                                                        \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz_link.c:%d: %s\n", __LINE__, #cond);        \
            abort();                                                         \
        }                                                                    \
    } while (0)

static void setup(struct link *l, uint8_t mode)
{
    link_init(l, -1);
    if (mode & 1) {
        memset(l->kin, 0x5a, sizeof(l->kin));
        memset(l->kout, 0x5a, sizeof(l->kout));
        l->sealed = true;
    }
    /* After authentication the limit is PROTO_MAX_MSG; a smaller one
     * here keeps allocations within the fuzzer's memory limit, and is
     * checked the same way. */
    l->max_frame = mode & 2 ? 1 << 20 : LINK_MAX_HELLO;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct link l, again;
    size_t off = 2, piece, fed;

    if (size < 2)
        return 0;
    if (sodium_init() < 0)
        abort();
    setup(&l, data[0]);
    setup(&again, data[0]);
    piece = (size_t)data[1] * 7 + 1;
    for (fed = off; fed <= size;) {
        int tag, rank, rc;
        uint8_t *p;
        size_t len, n = size - fed < piece ? size - fed : piece;
        /* As link_read appends what recv gave. */
        if (l.incap < l.inlen + n + 1) {
            l.incap = l.inlen + n + 1;
            l.in = realloc(l.in, l.incap);
        }
        memcpy(l.in + l.inlen, data + fed, n);
        l.inlen += n;
        fed += n;
        while ((rc = link_take(&l, &tag, &rank, &p, &len)) == 1) {
            REQUIRE(len + LINK_HDR <= l.max_frame);
            /* The same frame encoded again, by a sender whose counter
             * is where this receiver's was. */
            again.nout = l.nin - (l.sealed ? 1 : 0);
            again.outlen = again.outoff = 0;
            link_put(&again, tag, rank, p, len);
            REQUIRE(again.outlen == 4 + LINK_HDR + len +
                                        (l.sealed ? crypto_secretbox_MACBYTES
                                                  : 0));
            free(p);
        }
        if (rc < 0) {
            REQUIRE(l.why[0]);
            break;
        }
        if (n == 0)
            break;
    }
    link_close(&l);
    link_close(&again);
    return 0;
}
