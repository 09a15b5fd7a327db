/* test_journal.c - the resume journal without MPI: records written by one
 * "flow run" are found by the next with the same graph (results, failure
 * messages), the same task and arguments twice are two runs, a run's key
 * follows its upstream's, --retry-failed leaves failures out, records
 * spread over many rows are each found, and a
 * journal of another flow, build or parameters, or a file that is not a
 * journal, is refused with a message. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "graph.h"
#include "journal.h"
#include "log.h"
#include "params.h"
#include "protocol.h"

static char dir[] = "/tmp/test_journal.XXXXXX";
static char db[256], so[256], so2[256], big[256];

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    CHECK(fp);
    fputs(text, fp);
    CHECK(fclose(fp) == 0);
}

/* Run i: task 0 with argument arg, or a future on run `up` when up >= 0. */
static struct pd_future *add_run(struct graph *g, int64_t arg, int up)
{
    struct pd_future *t = graph_new(g, 0);
    struct buf b = { 0 };
    pd_value v = up >= 0 ? (pd_value){ .kind = PD_FUTURE } : pd_int(arg);

    CHECK_EQ(proto_put_value(&b, &v, up >= 0 ? (uint64_t)up : 0), 0);
    t->args = b.data;
    t->argslen = (uint32_t)b.len;
    t->nargs = 1;
    if (up >= 0)
        t->flags |= RUN_HAS_DEPS;
    return t;
}

/* The graph both runs submit: 0: f(1), 1: f(1) again, 2: f(run 0),
 * 3: f(7). */
static void make_graph(struct graph *g)
{
    graph_init(g, NULL);
    add_run(g, 1, -1);
    add_run(g, 1, -1);
    add_run(g, 0, 0);
    add_run(g, 7, -1);
}

static void end_with(struct graph *g, struct pd_future *t, int64_t result)
{
    struct buf b = { 0 };
    pd_value v = pd_int(result);

    proto_put_value(&b, &v, 0);
    t->size = b.len;
    graph_end(g, t, PD_COMPLETED, b.data, NULL);
    buf_free(&b);
}

/* End t Completed with a bytes result of len bytes, all `fill`. */
static void end_bytes(struct graph *g, struct pd_future *t, int fill,
                      size_t len)
{
    struct buf b = { 0 };
    char *p = malloc(len);
    pd_value v;

    CHECK(p);
    memset(p, fill, len);
    v = pd_bytes(p, len);
    proto_put_value(&b, &v, 0);
    t->size = b.len;
    graph_end(g, t, PD_COMPLETED, b.data, NULL);
    buf_free(&b);
    free(p);
}

/* True when t's result is len bytes, all `fill`. */
static bool has_bytes(struct pd_future *t, int fill, size_t len)
{
    struct rd r = rd_init(atomic_load(&t->value), t->size);
    pd_value v;
    uint64_t id;
    int32_t w;

    if (!atomic_load(&t->value) || proto_get_value(&r, &v, &id, &w) != 0 ||
        v.kind != PD_BYTES || v.len != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (((const unsigned char *)v.b)[i] != (unsigned char)fill)
            return false;
    return true;
}

/* Run sql on the journal at path, outside journal.c. */
static void sql(const char *path, const char *text)
{
    sqlite3 *d;

    CHECK_EQ(sqlite3_open(path, &d), SQLITE_OK);
    CHECK_EQ(sqlite3_exec(d, text, NULL, NULL, NULL), SQLITE_OK);
    CHECK_EQ(sqlite3_close(d), SQLITE_OK);
}

/* The first column of the first row of query on the journal at path. */
static int64_t sql_int(const char *path, const char *query)
{
    sqlite3 *d;
    sqlite3_stmt *st;
    int64_t v;

    CHECK_EQ(sqlite3_open(path, &d), SQLITE_OK);
    CHECK_EQ(sqlite3_prepare_v2(d, query, -1, &st, NULL), SQLITE_OK);
    CHECK_EQ(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    CHECK_EQ(sqlite3_close(d), SQLITE_OK);
    return v;
}

static int64_t result_of(struct pd_future *t)
{
    struct rd r = rd_init(atomic_load(&t->value), t->size);
    pd_value v;
    uint64_t id;
    int32_t w;

    CHECK(atomic_load(&t->value));
    CHECK_EQ(proto_get_value(&r, &v, &id, &w), 0);
    return v.i;
}

static int open_j(struct journal **j, const char *path, const char *sofile,
                  const char *flow, const struct pd_params *p, bool retry,
                  char *err, size_t n)
{
    struct journal_flow fl = { sofile, flow, p };
    return journal_open(j, path, &fl, retry, err, n);
}

int main(void)
{
    struct journal *j;
    struct graph g;
    char err[1024];
    char *words[] = { "n=3" }, *other[] = { "n=4" };
    struct pd_params p, p2;

    log_set_level(PD_ERROR);
    CHECK(mkdtemp(dir));
    snprintf(db, sizeof(db), "%s/run.pdj", dir);
    snprintf(so, sizeof(so), "%s/flow.so", dir);
    snprintf(so2, sizeof(so2), "%s/rebuilt.so", dir);
    snprintf(big, sizeof(big), "%s/big.pdj", dir);
    write_file(so, "build 1");
    write_file(so2, "build 2");
    CHECK_EQ(params_parse(&p, 1, words, err, sizeof(err)), 0);
    CHECK_EQ(params_parse(&p2, 1, other, err, sizeof(err)), 0);

    /* First run: nothing recorded; runs end and are recorded. Run 3
     * fails. */
    CHECK_EQ(open_j(&j, db, so, "flow", &p, false, err, sizeof(err)), 0);
    make_graph(&g);
    for (uint64_t i = 0; i < 4; i++)
        CHECK(!journal_replay(j, &g, graph_get(&g, i)));
    end_with(&g, graph_get(&g, 0), 10);
    end_with(&g, graph_get(&g, 1), 11);
    end_with(&g, graph_get(&g, 2), 12);
    graph_end(&g, graph_get(&g, 3), PD_FAILED, NULL, "boom 7");
    for (uint64_t i = 0; i < 4; i++)
        journal_record(j, graph_get(&g, i));
    CHECK_EQ(journal_replayed(j), 0);
    journal_close(j);
    graph_destroy(&g);

    /* Second run: every run from the journal, each with its own result:
     * the two f(1) runs are told apart by their order. */
    CHECK_EQ(open_j(&j, db, so, "flow", &p, false, err, sizeof(err)), 0);
    make_graph(&g);
    for (uint64_t i = 0; i < 4; i++)
        CHECK(journal_replay(j, &g, graph_get(&g, i)));
    CHECK_EQ(result_of(graph_get(&g, 0)), 10);
    CHECK_EQ(result_of(graph_get(&g, 1)), 11);
    CHECK_EQ(result_of(graph_get(&g, 2)), 12);
    CHECK_EQ(atomic_load(&graph_get(&g, 3)->state), PD_FAILED);
    CHECK_STR(graph_get(&g, 3)->message, "boom 7");
    CHECK_EQ(journal_replayed(j), 4);
    journal_close(j);
    graph_destroy(&g);

    /* --retry-failed: the failure runs again, the rest does not; when it
     * completes, its new record wins. */
    CHECK_EQ(open_j(&j, db, so, "flow", &p, true, err, sizeof(err)), 0);
    make_graph(&g);
    for (uint64_t i = 0; i < 3; i++)
        CHECK(journal_replay(j, &g, graph_get(&g, i)));
    CHECK(!journal_replay(j, &g, graph_get(&g, 3)));
    end_with(&g, graph_get(&g, 3), 13);
    journal_record(j, graph_get(&g, 3));
    journal_close(j);
    graph_destroy(&g);
    CHECK_EQ(open_j(&j, db, so, "flow", &p, false, err, sizeof(err)), 0);
    make_graph(&g);
    for (uint64_t i = 0; i < 4; i++)
        CHECK(journal_replay(j, &g, graph_get(&g, i)));
    CHECK_EQ(result_of(graph_get(&g, 3)), 13);
    journal_close(j);
    graph_destroy(&g);

    /* Another graph: f(run 1) instead of f(run 0) is another key (its
     * upstream's key differs), so it is not taken from the journal. */
    CHECK_EQ(open_j(&j, db, so, "flow", &p, false, err, sizeof(err)), 0);
    graph_init(&g, NULL);
    add_run(&g, 1, -1);
    add_run(&g, 2, -1);
    add_run(&g, 0, 1);
    CHECK(journal_replay(j, &g, graph_get(&g, 0)));
    CHECK(!journal_replay(j, &g, graph_get(&g, 1)));
    CHECK(!journal_replay(j, &g, graph_get(&g, 2)));
    journal_close(j);
    graph_destroy(&g);

    /* Many rows: 3000 runs with 1 KB results and, in the middle, one of
     * 1.5 MB, all in one group: the writer splits it into rows of about
     * a megabyte, and each run is found with its own result. */
    CHECK_EQ(open_j(&j, big, so, "flow", &p, false, err, sizeof(err)), 0);
    graph_init(&g, NULL);
    for (int i = 0; i < 3000; i++)
        CHECK(!journal_replay(j, &g, add_run(&g, i, -1)));
    for (uint64_t i = 0; i < 3000; i++) {
        end_bytes(&g, graph_get(&g, i), (int)(i % 251),
                  i == 1500 ? 1536 * 1024 : 1024);
        journal_record(j, graph_get(&g, i));
    }
    journal_close(j);
    graph_destroy(&g);
    /* 4.5 MB: at least four rows, none much over a megabyte but the one
     * that holds the big result. */
    CHECK(sql_int(big, "SELECT count(*) FROM runs") >= 4);
    CHECK_EQ(sql_int(big, "SELECT count(*) FROM runs WHERE length(records) "
                     "> 1100000 AND length(records) < 2700000"), 1);
    CHECK_EQ(open_j(&j, big, so, "flow", &p, false, err, sizeof(err)), 0);
    graph_init(&g, NULL);
    for (int i = 0; i < 3000; i++) {
        struct pd_future *t = add_run(&g, i, -1);
        CHECK(journal_replay(j, &g, t));
        CHECK(has_bytes(t, i % 251, i == 1500 ? 1536 * 1024 : 1024));
    }
    CHECK_EQ(journal_replayed(j), 3000);
    journal_close(j);
    graph_destroy(&g);
    /* A record over SQLite's limit on a row (lowered here from its 1 GB
     * to 1.2 MB) is left out with a warning; the runs before and after
     * it in the same group are recorded. */
    unlink(big);
    CHECK_EQ(open_j(&j, big, so, "flow", &p, false, err, sizeof(err)), 0);
    journal_limit_row(j, 1200 * 1000);
    graph_init(&g, NULL);
    for (int i = 0; i < 21; i++)
        CHECK(!journal_replay(j, &g, add_run(&g, i, -1)));
    for (uint64_t i = 0; i < 21; i++) {
        end_bytes(&g, graph_get(&g, i), 7, i == 10 ? 1536 * 1024 : 100);
        journal_record(j, graph_get(&g, i));
    }
    journal_close(j);
    graph_destroy(&g);
    CHECK_EQ(open_j(&j, big, so, "flow", &p, false, err, sizeof(err)), 0);
    graph_init(&g, NULL);
    for (int i = 0; i < 21; i++) {
        struct pd_future *t = add_run(&g, i, -1);
        CHECK(journal_replay(j, &g, t) == (i != 10));
        if (i != 10)
            CHECK(has_bytes(t, 7, 100));
    }
    CHECK_EQ(journal_replayed(j), 20);
    journal_close(j);
    graph_destroy(&g);

    /* A row whose bytes are not records, and a journal of the first
     * format (a row a record), are refused with a message. */
    sql(big, "INSERT INTO runs (records) VALUES (x'0102030405')");
    CHECK(open_j(&j, big, so, "flow", &p, false, err, sizeof(err)) != 0);
    CHECK(strstr(err, "is not pdask-mpi's (byte 0); move the file away"));
    sql(big, "UPDATE head SET value = 'pdask-mpi journal 1' WHERE name = "
             "'format'");
    CHECK(open_j(&j, big, so, "flow", &p, false, err, sizeof(err)) != 0);
    CHECK(strstr(err, "written by another version of pdask-mpi"));

    /* Refused: another flow, another build, other parameters. */
    CHECK(open_j(&j, db, so, "other", &p, false, err, sizeof(err)) != 0);
    CHECK(strstr(err, "belongs to flow 'flow', not 'other'"));
    CHECK(open_j(&j, db, so2, "flow", &p, false, err, sizeof(err)) != 0);
    CHECK(strstr(err, "another build of"));
    CHECK(open_j(&j, db, so, "flow", &p2, false, err, sizeof(err)) != 0);
    CHECK(strstr(err, "other parameters (n=3); give the same"));
    /* Not a journal, and a .so that cannot be read. */
    write_file(so2, "this is not an SQLite database, it is plain text....."
                    "..................................................");
    CHECK(open_j(&j, so2, so, "flow", &p, false, err, sizeof(err)) != 0);
    CHECK(strstr(err, "not a pdask-mpi journal"));
    CHECK(open_j(&j, db, "/nonexistent/x.so", "flow", &p, false, err,
                  sizeof(err)) != 0);
    CHECK(strstr(err, "cannot read /nonexistent/x.so"));

    params_free(&p);
    params_free(&p2);
    unlink(db);
    unlink(big);
    unlink(so);
    unlink(so2);
    CHECK(rmdir(dir) == 0);
    puts("journal ok");
    return 0;
}
