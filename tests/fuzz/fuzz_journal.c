/* fuzz_journal.c - libFuzzer harness of the journal reader (journal.c).
 * The input is a journal file, and optionally its WAL (journal_common.h),
 * written where `--journal` would read it. journal_open() either refuses
 * it with a message that names the file, or opens it; then the runs of a
 * small graph (FUZZ_RUNS runs, ids 0..3, the second depending on the
 * first) are looked up as a resumed flow does (journal_replay), and any
 * run the journal ended is in a final state with a result (Completed) or
 * a message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "graph.h"
#include "journal.h"
#include "journal_common.h"
#include "log.h"
#include "protocol.h"

#define REQUIRE(cond)                                                        \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz_journal.c:%d: %s\n", __LINE__, #cond);     \
            abort();                                                         \
        }                                                                    \
    } while (0)

static char dir[4096], db[4200], wal[4200], so[4200];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The temporary directory goes when the fuzzer exits. */
static void cleanup(void)
{
    unlink(wal);
    unlink(db);
    unlink(so);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *tmp = getenv("TMPDIR");

    (void)argc;
    (void)argv;
    log_set_level(PD_ERROR);
    snprintf(dir, sizeof(dir), "%s/fuzz_journal.XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror(dir);
        exit(1);
    }
    snprintf(db, sizeof(db), "%s/run.pdj", dir);
    snprintf(wal, sizeof(wal), "%s/run.pdj-wal", dir);
    snprintf(so, sizeof(so), "%s/flow.so", dir);
    if (fuzz_write_so(so) != 0) {
        perror(so);
        exit(1);
    }
    atexit(cleanup);
    return 0;
}

static void put(const char *path, const uint8_t *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    REQUIRE(fp);
    REQUIRE(fwrite(p, 1, n, fp) == n || n == 0);
    REQUIRE(fclose(fp) == 0);
}

/* A graph of FUZZ_RUNS runs of task 0: run 1 takes run 0's result. */
static void make_graph(struct graph *g)
{
    graph_init(g, NULL);
    for (int i = 0; i < FUZZ_RUNS; i++) {
        struct pd_future *t = graph_new(g, 0);
        struct buf b = { 0 };
        pd_value v = i == 1 ? (pd_value){ .kind = PD_FUTURE } : pd_int(i);
        REQUIRE(proto_put_value(&b, &v, 0) == 0);
        t->args = b.data;
        t->argslen = (uint32_t)b.len;
        t->nargs = 1;
        if (i == 1)
            t->flags |= RUN_HAS_DEPS;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct journal_flow fl = { so, FUZZ_FLOW, NULL };
    struct journal *j;
    char err[1024];
    size_t n = size > 0 ? size - 1 : 0;

    unlink(wal);
    unlink(db);
    if (size > 0 && (data[0] & 1) && size >= 5) {
        uint32_t len;
        memcpy(&len, data + 1, 4);
        if (len > size - 5)
            len = (uint32_t)(size - 5);
        put(db, data + 5, len);
        put(wal, data + 5 + len, size - 5 - len);
    } else {
        put(db, data + (size > 0), n);
    }
    if (journal_open(&j, db, &fl, size > 0 && (data[0] & 2), err,
                     sizeof(err)) != 0) {
        REQUIRE(strncmp(err, "journal ", 8) == 0 && strstr(err, db));
        return 0;
    }
    struct graph g;
    make_graph(&g);
    for (uint64_t i = 0; i < FUZZ_RUNS; i++) {
        struct pd_future *t = graph_get(&g, i);
        if (!journal_replay(j, &g, t))
            continue;
        enum pd_state s = atomic_load(&t->state);
        REQUIRE(graph_state_final(s));
        if (s == PD_COMPLETED)
            REQUIRE(atomic_load(&t->value) && t->size > 0);
        else
            REQUIRE(t->message);
    }
    REQUIRE(journal_replayed(j) <= FUZZ_RUNS);
    journal_close(j);
    graph_destroy(&g);
    return 0;
}
