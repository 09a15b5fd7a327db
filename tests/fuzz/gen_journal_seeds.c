/* gen_journal_seeds.c - seeds for fuzz_journal: journals written by
 * journal.c itself for the harness's flow (journal_common.h), so the fuzzer
 * starts from files that pass every check. usage: gen_journal_seeds DIR
 * Writes DIR/clean (a closed journal: one file, four records: two
 * Completed, one Failed, one Crashed) and DIR/wal (a journal as kill -9
 * leaves it: the file and its WAL). */
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

static char dir[4096];

static int slurp(const char *path, struct buf *b)
{
    char chunk[65536];
    size_t n;
    FILE *fp = fopen(path, "rb");

    if (!fp)
        return -1;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_put(b, chunk, n);
    fclose(fp);
    return 0;
}

static void save(const char *name, const struct buf *b)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(b->data, 1, b->len, fp) != b->len || fclose(fp)) {
        perror(path);
        exit(1);
    }
}

/* A journal at path with the runs of fuzz_journal.c's graph recorded;
 * left open (its WAL on disk) when keep_open. */
static struct journal *write_journal(const char *path, const char *so,
                                     struct graph *g)
{
    struct journal_flow fl = { so, FUZZ_FLOW, NULL };
    struct journal *j;
    char err[1024];
    static const char *msgs[] = { NULL, NULL, "boom", "crashed: SIGSEGV" };
    static const enum pd_state st[] = { PD_COMPLETED, PD_COMPLETED,
                                        PD_FAILED, PD_CRASHED };

    if (journal_open(&j, path, &fl, false, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    graph_init(g, NULL);
    for (int i = 0; i < FUZZ_RUNS; i++) {
        struct pd_future *t = graph_new(g, 0);
        struct buf b = { 0 }, r = { 0 };
        pd_value v = i == 1 ? (pd_value){ .kind = PD_FUTURE } : pd_int(i);
        proto_put_value(&b, &v, 0);
        t->args = b.data;
        t->argslen = (uint32_t)b.len;
        t->nargs = 1;
        if (i == 1)
            t->flags |= RUN_HAS_DEPS;
        journal_replay(j, g, t); /* computes its key */
        v = i == 1 ? pd_bytes("a bigger result, 33 bytes long...", 33)
                   : pd_int(i * i);
        proto_put_value(&r, &v, 0);
        t->size = r.len;
        graph_end(g, t, st[i], r.data, msgs[i]);
        journal_record(j, t);
        buf_free(&r);
    }
    journal_tick(j, true);
    return j;
}

int main(int argc, char **argv)
{
    char tmp[] = "/tmp/gen_journal_seeds.XXXXXX", so[200], db[200],
         wal[200];
    struct buf clean = { 0 }, walseed = { 0 }, part = { 0 };
    struct graph g;

    if (argc != 2) {
        fprintf(stderr, "usage: gen_journal_seeds DIR\n");
        return 2;
    }
    snprintf(dir, sizeof(dir), "%s", argv[1]);
    log_set_level(PD_WARNING);
    if (!mkdtemp(tmp))
        return 1;
    snprintf(so, sizeof(so), "%s/flow.so", tmp);
    snprintf(db, sizeof(db), "%s/run.pdj", tmp);
    snprintf(wal, sizeof(wal), "%s/run.pdj-wal", tmp);
    fuzz_write_so(so);

    /* As kill -9 leaves it: committed, still open. */
    struct journal *j = write_journal(db, so, &g);
    buf_u8(&walseed, 1);
    if (slurp(db, &part) != 0)
        return 1;
    uint32_t n = (uint32_t)part.len;
    buf_put(&walseed, &n, 4);
    buf_put(&walseed, part.data, part.len);
    slurp(wal, &walseed);
    save("wal", &walseed);
    journal_close(j);
    graph_destroy(&g);

    /* Closed: everything in the one file. */
    buf_u8(&clean, 0);
    slurp(db, &clean);
    save("clean", &clean);
    unlink(db);
    unlink(wal);
    unlink(so);
    rmdir(tmp);
    buf_free(&clean);
    buf_free(&walseed);
    buf_free(&part);
    return 0;
}
