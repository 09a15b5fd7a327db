/* journal_common.h - what fuzz_journal.c and gen_journal_seeds.c share:
 * the flow a fuzzed journal belongs to, and the input layout.
 *
 * Input: byte 0 selects the layout. Even: the rest is the database file.
 * Odd: a u32 (little-endian) length n, then n bytes of the database file,
 * then its WAL file (run.pdj-wal), as kill -9 leaves them. */
#ifndef FUZZ_JOURNAL_COMMON_H
#define FUZZ_JOURNAL_COMMON_H

#include <stdio.h>

#include "pdask.h"

#define FUZZ_SO_TEXT "a flow build for fuzz_journal\n"
#define FUZZ_FLOW "fuzzflow"
#define FUZZ_RUNS 4 /* records the harness replays, ids 0..3 */

/* graph.c names states in NotReady messages; flow.c, which defines
 * pd_state_name, needs MPI and the whole runtime, so these two programs
 * (one each) carry their own. */
const char *pd_state_name(enum pd_state s)
{
    static const char *names[] = { "Pending", "Running", "Completed",
                                   "Failed", "NotReady", "Crashed",
                                   "Cancelled" };
    return (unsigned)s < sizeof(names) / sizeof(*names) ? names[s]
                                                        : "Unknown";
}

/* Write the stand-in .so whose content the journal's head hashes. */
static inline int fuzz_write_so(const char *path)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    fputs(FUZZ_SO_TEXT, fp);
    return fclose(fp);
}

#endif
