/*
 * journal.h - the resume journal (`--journal FILE`, `[task_runner]
 * journal`): rank 0 records every task run that completed or failed, with
 * its result or message, under a key that names the run by what it
 * computes; a later run of the same flow with the same journal ends those
 * runs at submit from the record instead of running them again.
 *
 * The file is an SQLite database in WAL mode, written by one thread of
 * rank 0 (the journal's writer; the scheduler thread only appends records
 * to a group in memory and looks keys up). Records are written in group
 * commits (journal_tick): a kill -9 loses at most the last
 * JOURNAL_COMMIT_S or so of records, whose runs then run again; what was
 * committed is never lost or torn (SQLite's WAL ignores a torn tail). All
 * calls but the writer's own are the scheduler thread's. No MPI here.
 *
 * A run's key: a 128-bit SipHash (libsodium) of its task's name and its
 * packed arguments, where an argument that is a future is replaced by the
 * key of its upstream run; so identical graphs give identical keys. The same task
 * with the same arguments submitted twice is two runs: the key also holds
 * the occurrence number of that (task, arguments) in the flow run.
 */
#ifndef PD_JOURNAL_H
#define PD_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pdask.h"

struct graph;
struct pd_future;
struct pd_params;
struct journal;

#define JOURNAL_KEY 16          /* bytes of a run's key */
#define JOURNAL_COMMIT_S 10e-3  /* longest a record waits for its commit */
#define JOURNAL_COMMIT_N 8192   /* most records in one commit */

/* What the journal belongs to: a journal made for another flow, another
 * build of the .so or other parameters is refused. */
struct journal_flow {
    const char *so_path;        /* hashed by content */
    const char *flow;           /* the flow's name */
    const struct pd_params *params;
};

/* Open or create the journal at path for flow fl. retry: runs recorded as
 * Failed or Crashed are not taken from it (run again). 0, or PD_EINVAL
 * with "journal PATH: what; what to do" in err. */
int journal_open(struct journal **out, const char *path,
                 const struct journal_flow *fl, bool retry, char *err,
                 size_t errlen);

/* Commit what is pending and close; NULL is a no-op. */
void journal_close(struct journal *j);

/* Commit the open group if it is older than JOURNAL_COMMIT_S (or force). */
void journal_tick(struct journal *j, bool force);

/* Scheduler, when it takes run t in (submission order): computes its key;
 * true when the journal ended it (Completed with its result on rank 0, or
 * Failed/Crashed with its message): then the caller must not graph_add it. */
bool journal_replay(struct journal *j, struct graph *g, struct pd_future *t);

/* Scheduler, after a worker's report ended t (graph_end): record it when
 * it completed (its result must be on rank 0: t->value) or failed. */
void journal_record(struct journal *j, struct pd_future *t);

/* Runs ended from the journal so far. */
uint64_t journal_replayed(const struct journal *j);

/* The reader alone, for tests and fuzzing: the record under key. 1 found
 * (value malloc'ed, *msg malloc'ed or NULL), 0 not, -1 error (in err). */
int journal_lookup(struct journal *j, const uint8_t key[JOURNAL_KEY],
                   int *state, uint8_t **value, size_t *len, char **msg);
/* For tests: lower SQLite's limit on a row's bytes (about 1 GB), so a
 * record over it can be tried without a gigabyte. */
void journal_limit_row(struct journal *j, int bytes);

#endif
