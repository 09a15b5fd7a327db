/* gen_proto_seeds.c - write the seed corpus of fuzz_protocol: one valid
 * message of each kind, made with proto_put_*, so the seeds follow the
 * wire format wherever it goes. Usage: gen_proto_seeds DIR. Each file is
 * the selector byte fuzz_protocol.c reads first, then the message. */
#include <stdio.h>
#include <stdlib.h>

#include "protocol.h"

static const char *dir;

/* Write selector + b to DIR/name; b is emptied for the next seed. */
static void save(const char *name, uint8_t selector, struct buf *b)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f || fwrite(&selector, 1, 1, f) != 1 ||
        (b->len && fwrite(b->data, 1, b->len, f) != b->len) || fclose(f)) {
        perror(path);
        exit(1);
    }
    buf_free(b);
}

/* The packed arguments of a task: one value of every kind. */
static void args(struct buf *a)
{
    static const char blob[] = { 0, 1, 2, 3 };
    pd_value v[] = { pd_nil(), pd_int(-7), pd_real(0.25),
                     { .kind = PD_STR, .len = 5, .s = "shout" },
                     pd_bytes(blob, sizeof(blob)) };
    pd_value fut = { .kind = PD_FUTURE };
    struct proto_ref ref = { 42, 2, 1 };

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        proto_put_value(a, &v[i], 0);
    proto_put_value(a, &fut, 41);
    proto_put_ref(a, &ref);
}

int main(int argc, char **argv)
{
    struct buf b = { 0 }, a = { 0 };
    uint8_t eight[8] = { 8, 0, 0, 0, 0, 0, 0, 0 };

    if (argc != 2) {
        fprintf(stderr, "usage: gen_proto_seeds DIR\n");
        return 2;
    }
    dir = argv[1];

    args(&a);
    struct proto_task t = { .run = 1, .priority = 5, .retries = -1, .id = 7,
                            .def = 0, .seq = 3, .flags = TASK_PROCESS,
                            .nargs = 7, .argslen = (uint32_t)a.len,
                            .args = a.data };
    proto_begin(&b);
    proto_put_task(&b, &t);
    t.id = 8;
    t.nargs = 0;
    t.argslen = 0;
    proto_put_task(&b, &t);
    proto_set_count(&b, 2);
    save("tasks", 0, &b);

    struct proto_done ok = { .run = 1, .id = 7, .state = PD_COMPLETED,
                             .attempts = 1, .thread = 1,
                             .start_us = 1795903188336168ull,
                             .end_us = 1795903188337668ull,
                             .runtime_us = 1500, .size = 9 };
    uint8_t packed[9] = { PD_INT, 42 };
    ok.inline_v = packed;
    struct proto_done big = { .run = 1, .id = 8, .state = PD_COMPLETED,
                              .attempts = 1, .runtime_us = 20, .size = 4096 };
    uint8_t whole[64] = { PD_BYTES, 59 };
    struct proto_done jbig = { .run = 1, .id = 10, .state = PD_COMPLETED,
                               .attempts = 1, .flags = DONE_INLINE,
                               .size = sizeof(whole), .inline_v = whole };
    struct proto_done bad = { .run = 1, .id = 9, .state = PD_FAILED,
                              .attempts = 2, .runtime_us = 30,
                              .message = "task returned 1" };
    proto_begin(&b);
    proto_put_done(&b, &ok);
    proto_put_done(&b, &big);
    proto_put_done(&b, &bad);
    proto_put_done(&b, &jbig);
    proto_set_count(&b, 4);
    save("done", 1, &b);

    struct proto_fetch f = { 1, 7, 1, 99, 0 };
    proto_begin(&b);
    proto_put_fetch(&b, &f);
    f.id = 8;
    f.slot = 1;
    proto_put_fetch(&b, &f);
    proto_set_count(&b, 2);
    save("fetch", 2, &b);

    struct proto_data d = { f, a.data, a.len, DATA_OK, NULL };
    struct proto_data lost = { f, NULL, 0, DATA_MISSING,
                               "not in this rank's store" };
    proto_begin(&b);
    proto_put_data(&b, &d);
    proto_put_data(&b, &lost);
    lost.code = DATA_NOTREADY;
    lost.err = "upstream failed";
    proto_put_data(&b, &lost);
    proto_set_count(&b, 3);
    save("data", 3, &b);

    proto_begin(&b);
    proto_put_free(&b, 1, 7);
    proto_put_free(&b, 1, 8);
    proto_set_count(&b, 2);
    save("free", 4, &b);

    struct proto_log lines[] = { { PD_INFO, "shout-3", "greeting" },
                                 { LOG_OUTPUT, "", "#3" },
                                 { LOG_OUTPUT, "shout-4", "" } };
    proto_begin(&b);
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        proto_put_log(&b, &lines[i]);
    proto_set_count(&b, 3);
    save("log", 6, &b);

    buf_put(&b, a.data, a.len);
    save("values", 5, &b);
    buf_u8(&b, PD_REAL);
    buf_put(&b, eight, sizeof(eight));
    save("real", 5, &b);
    buf_free(&a);
    return 0;
}
