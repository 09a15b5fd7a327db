/* journal.c - see journal.h.
 *
 * Why SQLite: a journal must survive kill -9 and power loss without ever
 * handing back a torn record, be read by key at submit (10^5 lookups in
 * well under a second), and say what it belongs to when looked at by hand
 * (`sqlite3 run.pdj 'select * from head'`). SQLite's WAL gives the first
 * (a torn tail of the log is ignored on open), rows appended in order and
 * read into an in-memory index at open the second, and its shell the
 * third; it is in every distribution. LMDB would do the first two but
 * needs a map size chosen up front and has no tool a user already knows;
 * a hand-made append-only log would need its own checksums, recovery and
 * index, which is what SQLite already is.
 *
 * Why a row holds many records: SQLite spends about 0.4 µs of CPU on
 * every row it inserts, which on a busy rank 0 was more than an empty
 * task run's whole cost. A group commit's records go in as one blob (the
 * group's own bytes, split near SEGMENT_BYTES), so the writer's cost is
 * that of the bytes; the index at open notes each record's row and
 * offset, and a lookup reads its row once for all the records in it.
 *
 * Durability: synchronous=NORMAL. In WAL mode a commit then writes the log
 * without fsync; it survives the process or the whole job being killed
 * (the OS has the pages), and after a power loss or node crash the last
 * commits may be missing but the file is consistent. FULL would fsync each
 * group commit, which on a parallel file system costs milliseconds, and
 * what it protects (the last commits, after a node crash) only costs
 * running those runs again.
 */
#include "journal.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "loader.h"
#include "log.h"
#include "params.h"
#include "protocol.h"
#include "store.h"
#include "util.h"

#define FORMAT "pdask-mpi journal 2"
#define SEGMENT_BYTES (1u << 20) /* a row's records stop past this size */

struct journal {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *get, *put, *begin, *commit;
    bool retry;             /* Failed and Crashed records are run again */
    _Atomic bool broken;    /* a write failed: recording stopped */
    struct buf group;       /* records not handed to the writer yet */
    double group_start;     /* when its first record was added */
    uint32_t ngroup;        /* records in it */
    pthread_t writer;       /* inserts and commits groups */
    bool has_writer;
    pthread_mutex_t mu;     /* guards handed, writing, stop; cv */
    pthread_cond_t cv;
    struct buf handed;      /* groups the writer has not taken yet */
    bool writing;           /* the writer is inserting a group */
    bool stop;
    uint8_t (*keys)[JOURNAL_KEY]; /* by run id */
    uint64_t nkeys, keycap;
    struct store occ;       /* base key (first 8 bytes) -> occurrences
                               so far, in len (data is a dummy) */
    struct store index;     /* key (first 8 bytes) -> its last record, in
                               len: row << 32 | offset; read at open */
    struct buf seg;         /* the row lookups read last */
    int64_t segrow;         /* its row, or -1 */
    bool unreadable;        /* a row could not be read: said once */
    uint64_t replayed;
    struct buf scratch;     /* the bytes a key is made of */
};

/* ---- opening ---- */

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

/* BLAKE2b-256 of the file's content, in hex; -1 with errno. */
static int hash_file(const char *path, char out[65])
{
    crypto_generichash_state st;
    uint8_t buf[65536], h[32];
    size_t n;
    FILE *fp = fopen(path, "rb");

    if (!fp)
        return -1;
    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
        crypto_generichash_update(&st, buf, n);
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        errno = EIO;
        return -1;
    }
    crypto_generichash_final(&st, h, sizeof(h));
    hex(h, sizeof(h), out);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The parameters as "key=value" lines sorted by key; malloc'ed. */
static char *params_text(const struct pd_params *p)
{
    struct buf b = { 0 };
    char **lines = pd__xcalloc((size_t)(p ? p->n : 0) + 1, sizeof(char *));
    int n = p ? p->n : 0;

    for (int i = 0; i < n; i++) {
        size_t len = strlen(p->keys[i]) + strlen(p->vals[i]) + 2;
        lines[i] = pd__xmalloc(len);
        snprintf(lines[i], len, "%s=%s", p->keys[i], p->vals[i]);
    }
    qsort(lines, (size_t)n, sizeof(*lines), cmp_str);
    for (int i = 0; i < n; i++) {
        buf_put(&b, lines[i], strlen(lines[i]));
        buf_u8(&b, '\n');
        free(lines[i]);
    }
    free(lines);
    buf_u8(&b, '\0');
    return (char *)b.data;
}

/* Run sql; 0, or the SQLite code with "journal PATH: what (SQLite: why)"
 * in err. */
static int exec(struct journal *j, const char *sql, const char *what,
                char *err, size_t errlen)
{
    int rc = sqlite3_exec(j->db, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK)
        snprintf(err, errlen, "journal %s: %s (SQLite: %s)", j->path, what,
                 sqlite3_errmsg(j->db));
    return rc;
}

/* The message for a file SQLite could not read as a database. */
static void damaged(struct journal *j, int rc, char *err, size_t errlen)
{
    int base = rc & 0xff;

    if (base == SQLITE_NOTADB)
        snprintf(err, errlen, "journal %s: not a pdask-mpi journal (not "
                 "an SQLite database); give another path, or move the "
                 "file away to start a new journal", j->path);
    else if (base == SQLITE_CORRUPT)
        snprintf(err, errlen, "journal %s: the file is damaged (SQLite: "
                 "%s); move it away to start a new journal (its runs will "
                 "run again)", j->path, sqlite3_errmsg(j->db));
    else if (base == SQLITE_BUSY || base == SQLITE_LOCKED)
        snprintf(err, errlen, "journal %s: in use by another pdask-mpi run "
                 "(SQLite: %s); wait for it to end or give another path",
                 j->path, sqlite3_errmsg(j->db));
    else
        snprintf(err, errlen, "journal %s: cannot use it (SQLite: %s); "
                 "check the path and its directory's permissions",
                 j->path, sqlite3_errmsg(j->db));
}

/* The head value under name, malloc'ed, or NULL. */
static char *head_get(struct journal *j, const char *name)
{
    sqlite3_stmt *st;
    char *v = NULL;

    if (sqlite3_prepare_v2(j->db, "SELECT value FROM head WHERE name = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        v = pd__xstrdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
}

static int head_put(struct journal *j, const char *name, const char *value)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(j->db, "INSERT OR REPLACE INTO head "
                                "(name, value) VALUES (?1, ?2)", -1, &st,
                                NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Refuse a journal of another flow, build or parameters; write the head
 * of a new one. 0, or PD_EINVAL with the message. */
static int check_head(struct journal *j, const struct journal_flow *fl,
                      const char *so_hash, const char *params, char *err,
                      size_t errlen)
{
    char *fmt = head_get(j, "format"), *flow = NULL, *so = NULL, *par = NULL;
    int rc = PD_EINVAL;

    if (!fmt) {
        if (exec(j, "BEGIN", "cannot write", err, errlen) ||
            head_put(j, "format", FORMAT) || head_put(j, "flow", fl->flow) ||
            head_put(j, "so_path", fl->so_path) ||
            head_put(j, "so_blake2b", so_hash) ||
            head_put(j, "params", params) ||
            exec(j, "COMMIT", "cannot write", err, errlen)) {
            if (!err[0])
                damaged(j, sqlite3_extended_errcode(j->db), err, errlen);
            return PD_EINVAL;
        }
        return 0;
    }
    flow = head_get(j, "flow");
    so = head_get(j, "so_blake2b");
    par = head_get(j, "params");
    if (strcmp(fmt, FORMAT) != 0)
        snprintf(err, errlen, "journal %s: written by another version of "
                 "pdask-mpi (\"%s\", this one reads \"%s\"); give another "
                 "path", j->path, fmt, FORMAT);
    else if (!flow || strcmp(flow, fl->flow) != 0)
        snprintf(err, errlen, "journal %s: it belongs to flow '%s', not "
                 "'%s'; give the journal of this flow, or another path",
                 j->path, flow ? flow : "?", fl->flow);
    else if (!so || strcmp(so, so_hash) != 0)
        snprintf(err, errlen, "journal %s: it was written by another build "
                 "of %s (the .so's content differs), whose results may "
                 "differ; give another path, or move it away to start over",
                 j->path, fl->so_path);
    else if (!par || strcmp(par, params) != 0) {
        /* One line: the parameters were stored one a line. */
        for (char *c = par; c && *c; c++)
            if (*c == '\n')
                *c = c[1] ? ' ' : '\0';
        snprintf(err, errlen, "journal %s: it was written with other "
                 "parameters (%s); give the same parameters, or another "
                 "path", j->path, par && par[0] ? par : "none");
    }
    else
        rc = 0;
    free(fmt);
    free(flow);
    free(so);
    free(par);
    return rc;
}

/* Open the database and make it ours. */
static int open_db(struct journal *j, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int rc, ntables = 0;
    bool wal;

    rc = sqlite3_open_v2(j->path, &j->db, SQLITE_OPEN_READWRITE |
                         SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
    if (rc != SQLITE_OK) {
        damaged(j, rc, err, errlen);
        return rc;
    }
    sqlite3_extended_result_codes(j->db, 1);
    /* One writer, held for the whole run: a second run with the same
     * journal is refused instead of interleaving records. */
    if ((rc = exec(j, "PRAGMA locking_mode = EXCLUSIVE", "cannot lock",
                   err, errlen)))
        return rc;
    rc = sqlite3_prepare_v2(j->db, "PRAGMA journal_mode = WAL", -1, &st,
                            NULL);
    if (rc != SQLITE_OK) {
        damaged(j, rc, err, errlen);
        return rc;
    }
    rc = sqlite3_step(st);
    wal = rc == SQLITE_ROW && sqlite3_column_text(st, 0) &&
          strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
    sqlite3_finalize(st);
    if (!wal) {
        if (rc == SQLITE_ROW)
            snprintf(err, errlen, "journal %s: cannot use SQLite's WAL "
                     "mode there (file system without it?); give a path "
                     "on another file system", j->path);
        else
            damaged(j, sqlite3_extended_errcode(j->db), err, errlen);
        return SQLITE_ERROR;
    }
    if ((rc = exec(j, "PRAGMA synchronous = NORMAL", "cannot set up", err,
                   errlen)))
        return rc;
    /* A damaged file is said so now, not halfway through the run. */
    rc = sqlite3_prepare_v2(j->db, "PRAGMA quick_check", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(
                                           st, 0), "ok") != 0) {
            snprintf(err, errlen, "journal %s: the file is damaged "
                     "(SQLite: %s); move it away to start a new journal",
                     j->path, sqlite3_column_text(st, 0));
            sqlite3_finalize(st);
            return SQLITE_CORRUPT;
        }
        sqlite3_finalize(st);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        damaged(j, sqlite3_extended_errcode(j->db), err, errlen);
        return rc;
    }
    rc = sqlite3_prepare_v2(j->db, "SELECT count(*) FROM sqlite_schema "
                            "WHERE type = 'table' AND name NOT IN "
                            "('head', 'runs')", -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        ntables = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (ntables) {
        snprintf(err, errlen, "journal %s: an SQLite database but not a "
                 "pdask-mpi journal; give another path", j->path);
        return SQLITE_ERROR;
    }
    /* Rows are appended in order and never changed: no index to update;
     * the key index is built in memory at open. A row is a group of
     * records (see "writing"); a later record of a key (a failure run
     * again) wins. */
    return exec(j, "CREATE TABLE IF NOT EXISTS head (name TEXT PRIMARY "
                "KEY, value TEXT NOT NULL);"
                "CREATE TABLE IF NOT EXISTS runs (row INTEGER PRIMARY KEY, "
                "records BLOB NOT NULL)", "cannot create its tables", err,
                errlen);
}

/* One record, as journal_record writes it. */
struct record {
    const uint8_t *key;
    int state;
    uint32_t def, seq;
    const char *msg;        /* or NULL */
    const uint8_t *value;   /* or NULL */
    uint64_t len;
};

/* Read the record at r; false (r->bad) if the bytes are not one. */
static bool rd_record(struct rd *r, struct record *rec)
{
    rec->key = rd_take(r, JOURNAL_KEY);
    rec->state = rd_u8(r);
    rec->def = rd_u32(r);
    rec->seq = rd_u32(r);
    rec->msg = rd_u8(r) ? rd_str(r) : NULL;
    rec->len = rd_u64(r);
    rec->value = rec->len ? rd_take(r, rec->len) : NULL;
    if (rec->state != PD_COMPLETED && rec->state != PD_FAILED &&
        rec->state != PD_CRASHED)
        r->bad = true;
    return !r->bad;
}

/* The in-memory index of the records' keys: where each is, by row and
 * offset. SQLite checks its pages; a row whose records do not parse was
 * not written by pdask-mpi, and the file is refused. */
static int read_index(struct journal *j, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(j->db, "SELECT row, records FROM runs "
                                "ORDER BY row", -1, &st, NULL);
    struct record rec;
    uint64_t k;

    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    for (; rc == SQLITE_ROW; rc = sqlite3_step(st)) {
        sqlite3_int64 row = sqlite3_column_int64(st, 0);
        const uint8_t *base = sqlite3_column_blob(st, 1);
        struct rd r = rd_init(base, (size_t)sqlite3_column_bytes(st, 1));
        while (base && r.p < r.end) {
            size_t off = (size_t)(r.p - base);
            if (row < 0 || row > UINT32_MAX || !rd_record(&r, &rec)) {
                snprintf(err, errlen, "journal %s: row %lld of its runs "
                         "is not pdask-mpi's (byte %zu); move the file "
                         "away to start a new journal", j->path,
                         (long long)row, off);
                sqlite3_finalize(st);
                return PD_EINVAL;
            }
            memcpy(&k, rec.key, sizeof(k));
            store_put(&j->index, k, (uint8_t *)j,
                      (size_t)((uint64_t)row << 32 | off));
        }
    }
    if (rc != SQLITE_DONE) {
        damaged(j, sqlite3_extended_errcode(j->db), err, errlen);
        sqlite3_finalize(st);
        return PD_EINVAL;
    }
    sqlite3_finalize(st);
    return 0;
}

static int prepare(struct journal *j, char *err, size_t errlen)
{
    if (sqlite3_prepare_v3(j->db, "SELECT records FROM runs WHERE row = ?1",
                           -1, SQLITE_PREPARE_PERSISTENT, &j->get,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(j->db, "INSERT INTO runs (records) VALUES (?1)",
                           -1, SQLITE_PREPARE_PERSISTENT, &j->put,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(j->db, "BEGIN", -1, SQLITE_PREPARE_PERSISTENT,
                           &j->begin, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(j->db, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT,
                           &j->commit, NULL) != SQLITE_OK) {
        damaged(j, sqlite3_extended_errcode(j->db), err, errlen);
        return PD_EINVAL;
    }
    return 0;
}

/* The writer thread: commits the groups journal_tick hands it. */
static void *writer_main(void *arg);

int journal_open(struct journal **out, const char *path,
                 const struct journal_flow *fl, bool retry, char *err,
                 size_t errlen)
{
    struct journal *j = pd__xcalloc(1, sizeof(*j));
    char so_hash[65], *params = NULL;

    *out = NULL;
    err[0] = '\0';
    j->path = pd__xstrdup(path);
    j->retry = retry;
    store_init(&j->occ, false);
    store_init(&j->index, false);
    j->segrow = -1;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    if (sodium_init() < 0) {
        snprintf(err, errlen, "journal %s: libsodium cannot start", path);
        goto fail;
    }
    if (hash_file(fl->so_path, so_hash) != 0) {
        snprintf(err, errlen, "journal %s: cannot read %s to check its "
                 "build: %s", path, fl->so_path, strerror(errno));
        goto fail;
    }
    params = params_text(fl->params);
    if (open_db(j, err, errlen) || check_head(j, fl, so_hash, params, err,
                                              errlen) ||
        read_index(j, err, errlen) || prepare(j, err, errlen))
        goto fail;
    if (pthread_create(&j->writer, NULL, writer_main, j) != 0) {
        snprintf(err, errlen, "journal %s: cannot start its writer thread "
                 "(out of threads or memory)", path);
        goto fail;
    }
    j->has_writer = true;
    free(params);
    *out = j;
    return 0;
fail:
    if (!err[0])
        snprintf(err, errlen, "journal %s: cannot open it", path);
    free(params);
    journal_close(j);
    return PD_EINVAL;
}

void journal_close(struct journal *j)
{
    if (!j)
        return;
    if (j->has_writer) {
        journal_tick(j, true);
        pthread_mutex_lock(&j->mu);
        j->stop = true;
        pthread_cond_signal(&j->cv);
        pthread_mutex_unlock(&j->mu);
        pthread_join(j->writer, NULL);
    }
    sqlite3_finalize(j->get);
    sqlite3_finalize(j->put);
    sqlite3_finalize(j->begin);
    sqlite3_finalize(j->commit);
    if (j->db)
        sqlite3_exec(j->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL,
                     NULL);
    sqlite3_close(j->db);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    store_destroy(&j->occ);
    store_destroy(&j->index);
    buf_free(&j->scratch);
    buf_free(&j->seg);
    buf_free(&j->group);
    buf_free(&j->handed);
    free(j->keys);
    free(j->path);
    free(j);
}

/* ---- writing ----
 *
 * The scheduler thread appends records to `group` (journal_record) and
 * hands a group to the writer thread at most every JOURNAL_COMMIT_S
 * (journal_tick), which inserts it in one transaction: the scheduler
 * never waits for SQLite, and a record is only made of what rank 0
 * already has. Checkpoints (every 1000 WAL pages, SQLite's default) are
 * the writer's too. A group is records of: key, u8 state, u32 task index,
 * u32 run number, and if a u8 says so, message (buf_str), u64 result
 * length, result; the rows of table runs hold them as they are. */

/* A write failed: say so once and stop recording; the run goes on. */
static void broke(struct journal *j, const char *what)
{
    if (!atomic_load(&j->broken))
        log_error("journal %s: %s (SQLite: %s); the flow run goes on "
                  "without recording, and a resume will run again what "
                  "ends from here on", j->path, what, sqlite3_errmsg(j->db));
    atomic_store(&j->broken, true);
}

static bool step_done(struct journal *j, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        broke(j, what);
    return rc == SQLITE_DONE;
}

/* Insert [start, end) as a row; false when recording broke. A row over
 * SQLite's length limit (a result of about a gigabyte: such a record is
 * alone in its row) is left out with a warning: that run runs again on
 * resume, and the others are still recorded. */
static bool put_row(struct journal *j, const uint8_t *start,
                    const uint8_t *end)
{
    /* The bind itself refuses a blob over the limit (and then keeps the
     * previous binding: no step). */
    int rc = sqlite3_bind_blob64(j->put, 1, start,
                                 (sqlite3_uint64)(end - start),
                                 SQLITE_STATIC);

    if (rc == SQLITE_OK) {
        rc = sqlite3_step(j->put);
        sqlite3_reset(j->put);
        sqlite3_clear_bindings(j->put);
    }
    if (rc == SQLITE_DONE)
        return true;
    if ((rc & 0xff) == SQLITE_TOOBIG) {
        log_msg(PD_WARNING, "pdask-mpi", "journal %s: a record of %zu "
                "bytes is over SQLite's limit of %d bytes a row; that task "
                "run's result is not recorded, and a resume runs it again",
                j->path, (size_t)(end - start),
                sqlite3_limit(j->db, SQLITE_LIMIT_LENGTH, -1));
        return true;
    }
    broke(j, "cannot write a record");
    return false;
}

/* Insert the records of b in one transaction: rows of whole records, each
 * ending past SEGMENT_BYTES or at b's end; a record of SEGMENT_BYTES or
 * more has a row of its own. */
static void write_group(struct journal *j, const struct buf *b)
{
    struct rd r = rd_init(b->data, b->len);
    const uint8_t *start = b->data, *at;
    struct record rec;

    if (!step_done(j, j->begin, "cannot begin a transaction"))
        return;
    while (r.p < r.end) {
        at = r.p;
        if (!rd_record(&r, &rec))
            break;
        if ((size_t)(r.p - at) >= SEGMENT_BYTES && at > start) {
            if (!put_row(j, start, at))
                break;
            start = at;
        }
        if ((size_t)(r.p - start) < SEGMENT_BYTES && r.p < r.end)
            continue;
        if (!put_row(j, start, r.p))
            break;
        start = r.p;
    }
    if (!step_done(j, j->commit, "cannot commit"))
        sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
}

static void *writer_main(void *arg)
{
    struct journal *j = arg;

    pthread_mutex_lock(&j->mu);
    for (;;) {
        while (!j->handed.len && !j->stop)
            pthread_cond_wait(&j->cv, &j->mu);
        if (!j->handed.len && j->stop)
            break;
        struct buf b = j->handed;
        j->handed = (struct buf){ 0 };
        j->writing = true;
        pthread_mutex_unlock(&j->mu);
        if (!atomic_load(&j->broken))
            write_group(j, &b);
        buf_free(&b);
        pthread_mutex_lock(&j->mu);
        j->writing = false;
        pthread_cond_broadcast(&j->cv);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

void journal_tick(struct journal *j, bool force)
{
    if (!j || !j->group.len ||
        (!force && j->ngroup < JOURNAL_COMMIT_N &&
         j->group.len < SEGMENT_BYTES &&
         pd__now() - j->group_start < JOURNAL_COMMIT_S))
        return;
    pthread_mutex_lock(&j->mu);
    if (!j->handed.len) {
        struct buf b = j->handed;
        j->handed = j->group;
        j->group = b;
    } else {
        /* The writer is behind by a whole group: append to what it has
         * not taken yet. */
        buf_put(&j->handed, j->group.data, j->group.len);
    }
    j->group.len = 0;
    j->ngroup = 0;
    pthread_cond_signal(&j->cv);
    /* force: return once it is written (exit, interrupt). */
    while (force && (j->handed.len || j->writing))
        pthread_cond_wait(&j->cv, &j->mu);
    pthread_mutex_unlock(&j->mu);
}

void journal_record(struct journal *j, struct pd_future *t)
{
    enum pd_state st = atomic_load(&t->state);
    const uint8_t *v = atomic_load(&t->value);
    struct buf *b;

    if (!j || atomic_load_explicit(&j->broken, memory_order_relaxed) ||
        t->id >= j->nkeys ||
        (st != PD_COMPLETED && st != PD_FAILED && st != PD_CRASHED))
        return;
    /* A Completed run is recorded only with its result on rank 0. */
    if (st == PD_COMPLETED && !v)
        return;
    b = &j->group;
    if (!b->len)
        j->group_start = pd__now();
    buf_put(b, j->keys[t->id], JOURNAL_KEY);
    buf_u8(b, (uint8_t)st);
    buf_u32(b, t->def);
    buf_u32(b, t->seq);
    buf_u8(b, t->message != NULL);
    if (t->message)
        buf_str(b, t->message);
    buf_u64(b, st == PD_COMPLETED ? t->size : 0);
    if (st == PD_COMPLETED)
        buf_put(b, v, t->size);
    j->ngroup++;
}

/* ---- reading ---- */

/* Row `row`'s records, read once for all the lookups in it (a resumed
 * flow submits in the order its runs were recorded, more or less); NULL
 * after saying why when SQLite cannot read it. */
static const struct buf *segment(struct journal *j, int64_t row)
{
    int rc;

    if (row == j->segrow)
        return &j->seg;
    j->segrow = -1;
    j->seg.len = 0;
    sqlite3_bind_int64(j->get, 1, row);
    rc = sqlite3_step(j->get);
    if (rc == SQLITE_ROW) {
        const void *p = sqlite3_column_blob(j->get, 0);
        buf_put(&j->seg, p, p ? (size_t)sqlite3_column_bytes(j->get, 0) : 0);
        j->segrow = row;
    } else if (!j->unreadable) {
        log_error("journal %s: cannot read row %lld of its runs (SQLite: "
                  "%s); its task runs run again", j->path, (long long)row,
                  rc == SQLITE_DONE ? "gone" : sqlite3_errmsg(j->db));
        j->unreadable = true;
    }
    sqlite3_reset(j->get);
    return j->segrow == row ? &j->seg : NULL;
}

int journal_lookup(struct journal *j, const uint8_t key[JOURNAL_KEY],
                   int *state, uint8_t **value, size_t *len, char **msg)
{
    const struct store_entry *e;
    const struct buf *seg;
    struct record rec;
    struct rd r;
    uint64_t k;

    *value = NULL;
    *len = 0;
    *msg = NULL;
    memcpy(&k, key, sizeof(k));
    if (!(e = store_get(&j->index, k)))
        return 0;
    if (!(seg = segment(j, (int64_t)(e->len >> 32))))
        return -1;
    r = rd_init(seg->data, seg->len);
    rd_take(&r, e->len & 0xffffffffu);
    if (r.bad || !rd_record(&r, &rec))
        return -1; /* read_index parsed this very record */
    /* The index holds 8 bytes of the key: the record must have all 16. */
    if (memcmp(rec.key, key, JOURNAL_KEY) != 0)
        return 0;
    *state = rec.state;
    if (rec.value) {
        *value = pd__xmemdup(rec.value, rec.len);
        *len = rec.len;
    }
    if (rec.msg)
        *msg = pd__xstrdup(rec.msg);
    return 1;
}

/* The key of t: a 128-bit SipHash (libsodium's siphashx24) of its task's
 * name and arguments (upstream keys for futures), made unique by its
 * occurrence number among runs with the same. Not BLAKE2b: the key is
 * computed on the scheduler's thread for every run, where BLAKE2b's
 * ~190 ns was two fifths of an empty run's whole cost; SipHash takes
 * ~25 ns, and 128 bits keep accidental collisions out of reach (the
 * inputs are the user's own flow, not an adversary's). The occurrences
 * are counted under the first 8 bytes of that hash: a collision there
 * only shares a counter, the same way in every run, so keys stay unique
 * and stable. */
static void run_key(struct journal *j, struct graph *g, struct pd_future *t,
                    uint8_t out[JOURNAL_KEY])
{
    static const uint8_t sip[crypto_shorthash_siphashx24_KEYBYTES] =
        "pdask-mpi keys";
    const char *task = g->mod && t->def < (uint32_t)g->mod->ntasks
                           ? g->mod->tasks[t->def]->name : "";
    struct rd r = rd_init(t->args, t->argslen);
    struct buf *b = &j->scratch;
    uint8_t tag = WIRE_FUTURE, h[JOURNAL_KEY];
    pd_value v;
    uint64_t id = 0, k, n;
    int32_t w;

    b->len = 0;
    buf_put(b, task, strlen(task) + 1);
    buf_u32(b, t->nargs);
    for (uint32_t i = 0; i < t->nargs && !r.bad; i++) {
        const uint8_t *start = r.p;
        if (proto_get_value(&r, &v, &id, &w) != 0)
            break;
        if ((int)v.kind == WIRE_FUTURE && id < j->nkeys) {
            buf_u8(b, tag);
            buf_put(b, j->keys[id], JOURNAL_KEY);
        } else {
            buf_put(b, start, (size_t)(r.p - start));
        }
    }
    crypto_shorthash_siphashx24(h, b->data, b->len, sip);
    memcpy(&k, h, sizeof(k));
    const struct store_entry *e = store_get(&j->occ, k);
    n = e ? e->len : 0;
    store_put(&j->occ, k, (uint8_t *)j, n + 1);
    if (n == 0) {
        /* The first occurrence, by far the most common: the hash is
         * the key. */
        memcpy(out, h, JOURNAL_KEY);
        return;
    }
    /* A repeat: the hash and its number, hashed again. */
    b->len = 0;
    buf_put(b, h, sizeof(h));
    buf_u64(b, n);
    crypto_shorthash_siphashx24(out, b->data, b->len, sip);
}

bool journal_replay(struct journal *j, struct graph *g, struct pd_future *t)
{
    uint8_t *value;
    size_t len;
    char *msg;
    int state;

    if (!j)
        return false;
    if (t->id >= j->keycap) {
        j->keycap = j->keycap ? 2 * j->keycap : 4096;
        while (j->keycap <= t->id)
            j->keycap *= 2;
        j->keys = pd__xrealloc(j->keys, j->keycap * JOURNAL_KEY);
    }
    /* Ids come in order; a gap (never seen) gets a zero key. */
    while (j->nkeys < t->id)
        memset(j->keys[j->nkeys++], 0, JOURNAL_KEY);
    run_key(j, g, t, j->keys[t->id]);
    if (j->nkeys <= t->id)
        j->nkeys = t->id + 1;
    if ((t->flags & RUN_BAD) ||
        journal_lookup(j, j->keys[t->id], &state, &value, &len, &msg) != 1)
        return false;
    bool take = (state == PD_COMPLETED && value) ||
                ((state == PD_FAILED || state == PD_CRASHED) && !j->retry);
    if (take) {
        if (state == PD_COMPLETED) {
            t->size = len;
            graph_end(g, t, PD_COMPLETED, value, NULL);
        } else {
            graph_end(g, t, (enum pd_state)state, NULL,
                      msg ? msg : "failed (from the journal)");
        }
        j->replayed++;
    }
    free(value);
    free(msg);
    return take;
}

void journal_limit_row(struct journal *j, int bytes)
{
    sqlite3_limit(j->db, SQLITE_LIMIT_LENGTH, bytes);
}

uint64_t journal_replayed(const struct journal *j)
{
    return j ? j->replayed : 0;
}
