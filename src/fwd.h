/* fwd.h - a worker's task output and pd_log lines, forwarded to rank 0.
 *
 * With [client_kwargs] task_output = forward (the default), what a
 * worker's tasks write reaches rank 0's log as lines (TAG_LOG), each with
 * the rank and, where it is known, the task run, in the order written.
 * Everything goes through one pipe that the worker's comm thread reads
 * (fwd_read); the worker's fds 1 and 2 are that pipe too.
 *   - pd_log lines are framed with their run's name (fwd_frame): exact,
 *     in a thread task and in a helper process;
 *   - a thread task's stdio (printf, puts, fprintf(stderr), ...) goes
 *     through stdout and stderr streams that frame each line with the run
 *     the writing thread executes (fopencookie): exact too;
 *   - a process-isolated run's stdout and stderr (stdio or not, and its
 *     children's) come from its helper through a pipe of their own that
 *     the run's executor reads and frames line by line (pexec.c): exact;
 *   - what reaches fds 1 and 2 of a worker directly (write(2) by a task,
 *     a program a thread task starts, the MPI library) goes out under the
 *     rank alone ("rank 2"): it cannot be told which run wrote it.
 * stdout and stderr share the pipe, as `2>&1` does: their lines keep the
 * order they were written in, and are not told apart. The worker's own log
 * lines, sanitizer reports and crash reports go to its saved stderr, never
 * into the pipe: a dying worker still says why.
 *
 * Cost: nothing per task run that prints nothing but a check of the stdio
 * buffers; the comm thread reads the pipe when a frame was written, and
 * every READ_PERIOD_S (20 ms, checked every 8th round: up to 80 ms on an
 * idle worker) for direct writes.
 *
 * Bounds: a line longer than FWD_LINE_MAX bytes is cut there and marked.
 * At most about FWD_BACKLOG bytes of lines wait to be sent; past that the
 * comm thread stops reading the pipe (which holds up to 1 MiB more) and a
 * task that writes waits until rank 0 has caught up, so no line is
 * dropped. A framed line written before a run ended reaches rank 0 before
 * the run's report (no report goes out while lines wait). What a worker
 * holds when it stops goes to its own stderr; when it crashes, what is
 * still in the pipe does (fwd_dump), and only lines read but not yet sent
 * are lost.
 */
#ifndef PD_FWD_H
#define PD_FWD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "comm.h"
#include "pdask.h"
#include "protocol.h"

#define FWD_LINE_MAX 4096
#define FWD_BACKLOG ((size_t)4 << 20)

/* Splits bytes into lines; each line remembers the tag (a run name, or
 * "") of the bytes it came from, or "" when they came with different
 * tags. A line with a frame after other bytes (a pd_log line written
 * while a raw line was half written) is split: the frame is a line, the
 * bytes before it wait for the rest of theirs. */
struct fwd_lines {
    struct buf part;        /* the line being read */
    char tag[128];          /* its tag */
    bool cut;               /* it passed FWD_LINE_MAX: the rest is dropped */
};

/* Called with each line (no newline; text[n] is not NUL); cut when the
 * line was longer than FWD_LINE_MAX. */
typedef void fwd_emit_fn(void *arg, const char *text, size_t n,
                         const char *tag, bool cut);

void fwd_lines_feed(struct fwd_lines *ls, const char *p, size_t n,
                    const char *tag, fwd_emit_fn *emit, void *arg);
/* Emit a last line without its newline, if any. */
void fwd_lines_end(struct fwd_lines *ls, fwd_emit_fn *emit, void *arg);
void fwd_lines_free(struct fwd_lines *ls);

/* Write one framed line to fd in one write() (at most PIPE_BUF bytes, so
 * it is never torn): kind (enum pd_level, or LOG_OUTPUT), the run's name
 * and n bytes of text, which must hold no newline. */
void fwd_frame(int fd, int kind, const char *run, const char *text,
               size_t n);

/* Parse a frame written by fwd_frame (line without its newline): its
 * kind, run name (into run) and text (pointer into line). False when the
 * line is not a frame. */
bool fwd_unframe(const char *line, size_t n, int *kind, char *run,
                 size_t runlen, const char **text, size_t *textlen);

/* An fwd_emit_fn (arg unused) that writes each line to fd 2 as a frame
 * of kind LOG_OUTPUT with tag as its run (a frame passes through as it
 * is): the executor of a helper process forwards its output so. */
void fwd_reframe(void *arg, const char *text, size_t n, const char *tag,
                 bool cut);

/* pd_log in this process writes frames to fd 2 (a forwarding worker and
 * its helper processes) instead of log lines. */
void fwd_set_framing(bool on);
bool fwd_framing(void);
/* The frame of a pd_log line: formatted, escaped, cut to fit. */
void fwd_vlog(enum pd_level level, const char *run, const char *fmt,
              va_list ap);

struct fwd {
    bool on;
    int rd;                 /* the pipe's read end, nonblocking */
    int wr;                 /* its write end, for the stdio streams */
    int out_fd, err_fd;     /* the worker's own stdout and stderr */
    FILE *out, *err;        /* the framing streams, and the ones they */
    FILE *old_out, *old_err; /* stand in for */
    struct fwd_stream {
        int fd;
    } sout, serr;
    struct fwd_lines lines;
    struct buf in;          /* bytes read, not split yet */
    struct buf msg;         /* TAG_LOG being built */
    uint32_t n;             /* its entries */
    double read_at;         /* last read */
    unsigned rounds;        /* fwd_read calls */
};

/* Make the pipe, fds 1 and 2, stdout and stderr forward (before the
 * executor threads start): 0, or -errno with nothing changed (the caller
 * keeps output local). */
int fwd_start(struct fwd *f);

/* The task run this thread executes now (NULL: none), for its stdio
 * lines; name must stay valid until the next call. */
void fwd_set_run(const char *name);

/* After a task run: write out what stdio holds of it (a last line without
 * its newline), so it is in the pipe before the run's report. */
void fwd_flush_stdio(void);

/* Comm thread, each round: read what tasks wrote, when a frame was
 * written, else every READ_PERIOD_S (checked every 8th round); lines
 * become TAG_LOG entries. True if bytes came. */
bool fwd_read(struct fwd *f);

/* Send the entries read so far to `to` in one TAG_LOG, unless sends in
 * flight hold too many bytes already. True when nothing waits. */
bool fwd_send(struct fwd *f, struct comm *c, struct peer to);

/* After the last round, executors stopped: write what is left to the
 * worker's own stderr, give fds 1 and 2, stdout and stderr back, free.
 * Does nothing when f was not started. */
void fwd_stop(struct fwd *f);

/* A dying worker's last words: copy what is in the pipe rd (read end,
 * nonblocking) to fd, frames as "run: text". Async-signal-safe: for the
 * crash handler, so what a task wrote just before it crashed (an assert's
 * message) is not lost with the worker. */
void fwd_dump(int rd, int fd);

/* Frame the line the calling thread left unfinished on stdout or stderr
 * into the pipe (it would otherwise go at the end of its run): before
 * fwd_dump in a crash or exit() handler. Async-signal-safe. */
void fwd_flush_partial(void);

/* Rank 0: print the entries of a TAG_LOG from rank through log.c. */
void fwd_print(struct rd *r, int rank);

/* Print one entry from rank: "run on rank N | text" ("rank N" when it has
 * no run), as an output line or a log line of its level. */
void fwd_print_line(const struct proto_log *l, int rank);

#endif
