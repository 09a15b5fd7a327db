/* fwd.c - see fwd.h. */
#define _GNU_SOURCE /* pipe2, F_SETPIPE_SZ, fopencookie */
#include "fwd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio_ext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* A frame: RS, the kind as a digit, the run name, US, the text, LF. */
#define FRAME_START '\x1e'
#define FRAME_SEP '\x1f'
/* A pipe write up to this size is atomic (POSIX PIPE_BUF on Linux). */
#define FRAME_MAX 4096
/* Read at most this much a round; the rest waits for the next. */
#define READ_MAX ((size_t)256 << 10)
/* Without ended runs, read this often (a long task's progress lines). */
#define READ_PERIOD_S 20e-3
/* Lines wait while the sends in flight hold this much. */
#define INFLIGHT_MAX ((size_t)16 << 20)

static const char cut_mark[] = " [cut: line longer than 4096 bytes]";

/* Sanitizer reports go to the worker's own stderr too, when there is a
 * sanitizer runtime (weak: absent otherwise). */
extern void __sanitizer_set_report_fd(void *fd) __attribute__((weak));

static bool framing;
/* A frame was written since the comm thread last looked. */
static _Atomic bool dirty;
/* The task run this thread executes, for its stdio lines. */
static __thread const char *cur_run;

void fwd_set_framing(bool on)
{
    framing = on;
}

bool fwd_framing(void)
{
    return framing;
}

/* ------------------------------------------------------------- lines */

/* Append p[0..n) to the line being read, up to FWD_LINE_MAX. */
static void part_add(struct fwd_lines *ls, const char *p, size_t n)
{
    if (ls->cut)
        return;
    if (ls->part.len + n > FWD_LINE_MAX) {
        n = FWD_LINE_MAX - ls->part.len;
        ls->cut = true;
    }
    buf_put(&ls->part, p, n);
}

static void part_tag(struct fwd_lines *ls, const char *tag)
{
    if (!ls->part.len && !ls->cut)
        snprintf(ls->tag, sizeof(ls->tag), "%s", tag);
    else if (strcmp(ls->tag, tag) != 0)
        ls->tag[0] = '\0';
}

/* The line being read is complete: emit it (a frame inside it first). */
static void part_emit(struct fwd_lines *ls, fwd_emit_fn *emit, void *arg)
{
    char *line = (char *)ls->part.data;
    size_t n = ls->part.len;
    char *rs = n > 1 ? memchr(line + 1, FRAME_START, n - 1) : NULL;

    if (rs && !ls->cut) {
        /* A frame written while this raw line was half written. */
        emit(arg, rs, n - (size_t)(rs - line), "", false);
        ls->part.len = (size_t)(rs - line);
        return;
    }
    emit(arg, n ? line : "", n, ls->tag, ls->cut);
    ls->part.len = 0;
    ls->cut = false;
    ls->tag[0] = '\0';
}

void fwd_lines_feed(struct fwd_lines *ls, const char *p, size_t n,
                    const char *tag, fwd_emit_fn *emit, void *arg)
{
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t k = nl ? (size_t)(nl - p) : n;

        part_tag(ls, tag);
        part_add(ls, p, k);
        if (!nl)
            return;
        part_emit(ls, emit, arg);
        p += k + 1;
        n -= k + 1;
    }
}

void fwd_lines_end(struct fwd_lines *ls, fwd_emit_fn *emit, void *arg)
{
    if (ls->part.len || ls->cut)
        part_emit(ls, emit, arg);
    if (ls->part.len) /* the raw bytes before a frame */
        part_emit(ls, emit, arg);
}

void fwd_lines_free(struct fwd_lines *ls)
{
    buf_free(&ls->part);
    memset(ls, 0, sizeof(*ls));
}

/* ------------------------------------------------------------ frames */

void fwd_frame(int fd, int kind, const char *run, const char *text,
               size_t n)
{
    char buf[FRAME_MAX];
    int h = snprintf(buf, sizeof(buf), "%c%d%.120s%c", FRAME_START, kind,
                     run, FRAME_SEP);
    const char *p = buf;
    size_t len;

    if (n > sizeof(buf) - (size_t)h - 1)
        n = sizeof(buf) - (size_t)h - 1;
    memcpy(buf + h, text, n);
    len = (size_t)h + n;
    buf[len++] = '\n';
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        len -= (size_t)w;
    }
    atomic_store_explicit(&dirty, true, memory_order_release);
}

bool fwd_unframe(const char *line, size_t n, int *kind, char *run,
                 size_t runlen, const char **text, size_t *textlen)
{
    const char *sep;
    size_t rn;

    if (n < 3 || line[0] != FRAME_START || line[1] < '0' ||
        line[1] > '0' + LOG_OUTPUT)
        return false;
    sep = memchr(line + 2, FRAME_SEP, n - 2);
    if (!sep)
        return false;
    rn = (size_t)(sep - (line + 2));
    if (rn >= runlen)
        rn = runlen - 1;
    memcpy(run, line + 2, rn);
    run[rn] = '\0';
    *kind = line[1] - '0';
    *text = sep + 1;
    *textlen = n - (size_t)(sep + 1 - line);
    return true;
}

/* Room for a line's text in a frame: its head takes 123 bytes at most. */
#define FRAME_ROOM (FRAME_MAX - 160)

/* A line of output to fd as a frame of run, cut and marked if too long. */
static void frame_out(int fd, const char *run, const char *text, size_t n)
{
    char line[FRAME_MAX];

    if (n > FRAME_ROOM) {
        n = FRAME_ROOM - (sizeof(cut_mark) - 1);
        memcpy(line, text, n);
        memcpy(line + n, cut_mark, sizeof(cut_mark) - 1);
        text = line;
        n += sizeof(cut_mark) - 1;
    }
    fwd_frame(fd, LOG_OUTPUT, run, text, n);
}

void fwd_reframe(void *arg, const char *text, size_t n, const char *tag,
                 bool cut)
{
    char run[128], line[FRAME_MAX];
    const char *t;
    size_t tn;
    int kind;

    (void)arg;
    if (fwd_unframe(text, n, &kind, run, sizeof(run), &t, &tn)) {
        fwd_frame(STDERR_FILENO, kind, run, t, tn);
        return;
    }
    if (cut && n + sizeof(cut_mark) < sizeof(line)) {
        memcpy(line, text, n);
        memcpy(line + n, cut_mark, sizeof(cut_mark) - 1);
        text = line;
        n += sizeof(cut_mark) - 1;
    }
    frame_out(STDERR_FILENO, tag, text, n);
}

void fwd_vlog(enum pd_level level, const char *run, const char *fmt,
              va_list ap)
{
    char raw[2048], esc[FRAME_MAX];
    int n;
    size_t m;

    if (!log_enabled(level))
        return;
    n = vsnprintf(raw, sizeof(raw), fmt, ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(raw))
        n = sizeof(raw) - 1;
    /* Escaped here, so a newline in the message stays in its frame. */
    m = log_escape(esc, sizeof(esc) - 256, raw, (size_t)n);
    fwd_frame(STDERR_FILENO, (int)level, run, esc, m);
}

/* ---------------------------------------------------------- stdio */

void fwd_set_run(const char *name)
{
    cur_run = name;
}

/* The line this thread is putting together on a framing stream. The
 * streams are unbuffered: a buffer of stdio's would be shared by every
 * thread under glibc's FILE lock, which ThreadSanitizer cannot see, so
 * lines are assembled here, per thread, and never mix across threads. */
struct part {
    const struct fwd_stream *st;
    size_t n;
    bool cut;               /* longer than a frame: the rest is dropped */
    char b[FRAME_ROOM];
};
static __thread struct part parts[2];

static struct part *part_of(const struct fwd_stream *st)
{
    if (parts[0].st == st || !parts[0].st) {
        parts[0].st = st;
        return &parts[0];
    }
    parts[1].st = st;
    return &parts[1];
}

void fwd_flush_stdio(void)
{
    /* __fpending reads two pointers: no lock when there is nothing. */
    if (__fpending(stdout))
        fflush(stdout);
    if (__fpending(stderr))
        fflush(stderr);
    /* A last line without its newline ends with the run. */
    for (int i = 0; i < 2; i++) {
        struct part *pt = &parts[i];
        if (pt->n && !pt->cut)
            frame_out(pt->st->fd, cur_run ? cur_run : "", pt->b, pt->n);
        pt->n = 0;
        pt->cut = false;
    }
}

void fwd_flush_partial(void)
{
    char buf[FRAME_MAX];

    /* As fwd_frame, but with write() alone: a signal handler calls it. */
    for (int i = 0; i < 2; i++) {
        struct part *pt = &parts[i];
        const char *run = cur_run ? cur_run : "";
        char kind[12];
        int k = (int)sizeof(kind), v = LOG_OUTPUT;
        size_t len = 0;

        if (!pt->n || pt->cut)
            continue;
        kind[--k] = '\0';
        do {
            kind[--k] = (char)('0' + v % 10);
            v /= 10;
        } while (v && k > 0);
        buf[len++] = FRAME_START;
        for (const char *c = kind + k; *c; c++)
            buf[len++] = *c;
        for (size_t j = 0; run[j] && j < 120; j++)
            buf[len++] = run[j];
        buf[len++] = FRAME_SEP;
        memcpy(buf + len, pt->b, pt->n);
        len += pt->n;
        buf[len++] = '\n';
        pt->n = 0;
        if (write(pt->st->fd, buf, len) < 0)
            return;
    }
}

/* The framing streams' write: text of the calling thread, put together
 * into lines; each line is a frame of the run this thread executes. A
 * line longer than a frame is cut and marked, and the rest of it
 * dropped. */
static ssize_t stream_write(void *cookie, const char *p, size_t n)
{
    struct fwd_stream *st = cookie;
    struct part *pt = part_of(st);
    const char *run = cur_run ? cur_run : "";
    size_t left = n;

    while (left > 0) {
        const char *nl = memchr(p, '\n', left);
        size_t k = nl ? (size_t)(nl - p) : left;
        if (!pt->cut) {
            size_t take = k < FRAME_ROOM - pt->n ? k : FRAME_ROOM - pt->n;
            memcpy(pt->b + pt->n, p, take);
            pt->n += take;
            if (take < k) {
                /* Over a frame: out now, marked (frame_out cuts). */
                frame_out(st->fd, run, pt->b, FRAME_ROOM + 1);
                pt->n = 0;
                pt->cut = true;
            }
        }
        if (nl) {
            if (!pt->cut)
                frame_out(st->fd, run, pt->b, pt->n);
            pt->n = 0;
            pt->cut = false;
        }
        p += k + (nl != NULL);
        left -= k + (nl != NULL);
    }
    return (ssize_t)n;
}

static FILE *stream_open(struct fwd_stream *st, int fd)
{
    cookie_io_functions_t io = { .write = stream_write };
    FILE *s;

    st->fd = fd;
    s = fopencookie(st, "w", io);

    if (s)
        setvbuf(s, NULL, _IONBF, 0);
    return s;
}

/* ----------------------------------------------------- the comm thread */

int fwd_start(struct fwd *f)
{
    int p[2], rc;

    memset(f, 0, sizeof(*f));
    f->rd = f->wr = f->out_fd = f->err_fd = -1;
    if (pipe2(p, O_CLOEXEC) != 0)
        return -errno;
    /* Room for bursts; the default (64 KiB) is kept if refused. */
    (void)fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
    if (fcntl(p[0], F_SETFL, O_NONBLOCK) != 0 ||
        (f->out_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 10)) < 0 ||
        (f->err_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 10)) < 0)
        goto out_fail;
    errno = ENOMEM;
    if (!(f->out = stream_open(&f->sout, p[1])) ||
        !(f->err = stream_open(&f->serr, p[1])))
        goto out_fail;
    fflush(stdout);
    fflush(stderr);
    if (dup2(p[1], STDOUT_FILENO) < 0)
        goto out_fail;
    if (dup2(p[1], STDERR_FILENO) < 0) {
        dup2(f->out_fd, STDOUT_FILENO);
        goto out_fail;
    }
    f->rd = p[0];
    f->wr = p[1];
    /* glibc's standard streams are variables a program may set. */
    f->old_out = stdout;
    f->old_err = stderr;
    stdout = f->out;
    stderr = f->err;
    log_set_fd(f->err_fd);
    if (__sanitizer_set_report_fd)
        __sanitizer_set_report_fd((void *)(intptr_t)f->err_fd);
    fwd_set_framing(true);
    f->on = true;
    return 0;

out_fail:
    rc = -errno;
    if (f->out)
        fclose(f->out);
    if (f->err)
        fclose(f->err);
    if (f->out_fd >= 0)
        close(f->out_fd);
    if (f->err_fd >= 0)
        close(f->err_fd);
    close(p[0]);
    close(p[1]);
    memset(f, 0, sizeof(*f));
    return rc ? rc : -EIO;
}

/* One line read: a TAG_LOG entry. */
static void add_line(void *arg, const char *text, size_t n, const char *tag,
                     bool cut)
{
    struct fwd *f = arg;
    char run[128], line[FWD_LINE_MAX + sizeof(cut_mark)];
    struct proto_log l = { LOG_OUTPUT, tag, line };
    const char *t;
    size_t tn;
    int kind;

    if (fwd_unframe(text, n, &kind, run, sizeof(run), &t, &tn)) {
        l.kind = (uint8_t)kind;
        l.run = run;
        text = t;
        n = tn;
    }
    /* Strings travel NUL-terminated: a NUL byte in the text ends it. */
    n = strnlen(text, n);
    memcpy(line, text, n);
    if (cut) {
        memcpy(line + n, cut_mark, sizeof(cut_mark));
    } else {
        line[n] = '\0';
    }
    if (!f->n)
        proto_begin(&f->msg);
    proto_put_log(&f->msg, &l);
    f->n++;
}

bool fwd_read(struct fwd *f)
{
    double now;

    if (!f->on || f->msg.len > FWD_BACKLOG)
        return false;
    if (atomic_load_explicit(&dirty, memory_order_relaxed)) {
        atomic_store_explicit(&dirty, false, memory_order_relaxed);
        /* Pairs with the release in fwd_frame: the bytes are there. */
        atomic_thread_fence(memory_order_acquire);
    } else {
        /* The clock every few rounds only: a busy round is a microsecond,
         * an idle one up to 10 ms. */
        if (++f->rounds % 8 != 0)
            return false;
        now = pd__now();
        if (now - f->read_at < READ_PERIOD_S)
            return false;
        f->read_at = now;
    }
    f->in.len = 0;
    while (f->in.len < READ_MAX) {
        buf_reserve(&f->in, 65536);
        ssize_t k = read(f->rd, f->in.data + f->in.len, 65536);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        f->in.len += (size_t)k;
    }
    /* Bytes left in the pipe: read on next round. */
    if (f->in.len >= READ_MAX)
        atomic_store_explicit(&dirty, true, memory_order_relaxed);
    if (!f->in.len)
        return false;
    fwd_lines_feed(&f->lines, (const char *)f->in.data, f->in.len, "",
                   add_line, f);
    return true;
}

bool fwd_send(struct fwd *f, struct comm *c, struct peer to)
{
    if (!f->n)
        return true;
    if (c->sendbytes > INFLIGHT_MAX)
        return false;
    proto_set_count(&f->msg, f->n);
    comm_send(c, to, TAG_LOG, &f->msg);
    f->n = 0;
    return true;
}

/* A leftover line to the worker's own stderr. */
static void print_left(void *arg, const char *text, size_t n,
                       const char *tag, bool cut)
{
    struct fwd *f = arg;
    char run[128];
    const char *t;
    size_t tn;
    int kind;

    (void)tag;
    if (fwd_unframe(text, n, &kind, run, sizeof(run), &t, &tn)) {
        dprintf(f->err_fd, "%s%s%.*s\n", run, *run ? ": " : "", (int)tn,
                t);
        return;
    }
    dprintf(f->err_fd, "%.*s%s\n", (int)n, text, cut ? cut_mark : "");
}

void fwd_stop(struct fwd *f)
{
    struct rd r;
    struct proto_log l;

    if (!f->on)
        return;
    fflush(stdout);
    fflush(stderr);
    stdout = f->old_out;
    stderr = f->old_err;
    fclose(f->out);
    fclose(f->err);
    /* Lines read and not sent, then what is still in the pipe. */
    r = rd_init(f->msg.data, f->msg.len);
    proto_get_count(&r);
    for (uint32_t i = 0; i < f->n && proto_get_log(&r, &l) == 0; i++)
        dprintf(f->err_fd, "%s%s%s\n", l.run, *l.run ? ": " : "", l.text);
    for (;;) {
        char chunk[4096];
        ssize_t k = read(f->rd, chunk, sizeof(chunk));
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        fwd_lines_feed(&f->lines, chunk, (size_t)k, "", print_left, f);
    }
    fwd_lines_end(&f->lines, print_left, f);
    dup2(f->out_fd, STDOUT_FILENO);
    dup2(f->err_fd, STDERR_FILENO);
    log_set_fd(STDERR_FILENO);
    if (__sanitizer_set_report_fd)
        __sanitizer_set_report_fd((void *)(intptr_t)STDERR_FILENO);
    fwd_set_framing(false);
    close(f->out_fd);
    close(f->err_fd);
    close(f->rd);
    close(f->wr);
    fwd_lines_free(&f->lines);
    buf_free(&f->in);
    buf_free(&f->msg);
    memset(f, 0, sizeof(*f));
}

void fwd_dump(int rd, int fd)
{
    char in[1024], out[2 * sizeof(in) + 2];
    int state = 0;      /* 0 text, 1 the kind after RS, 2 the run name */
    bool named = false;
    ssize_t k;

    while ((k = read(rd, in, sizeof(in))) > 0) {
        size_t n = 0;
        for (ssize_t i = 0; i < k; i++) {
            char c = in[i];
            if (c == FRAME_START) {
                state = 1;
            } else if (state == 1) {
                state = 2;
                named = false;
            } else if (state == 2 && c == FRAME_SEP) {
                if (named) {
                    out[n++] = ':';
                    out[n++] = ' ';
                }
                state = 0;
            } else {
                named |= state == 2;
                out[n++] = c;
            }
        }
        if (write(fd, out, n) < 0)
            return;
    }
}

/* ------------------------------------------------------------- rank 0 */

void fwd_print_line(const struct proto_log *l, int rank)
{
    char who[192];

    if (*l->run)
        snprintf(who, sizeof(who), "%s on rank %d", l->run, rank);
    else
        snprintf(who, sizeof(who), "rank %d", rank);
    if (l->kind == LOG_OUTPUT)
        log_output(who, "%s", l->text);
    else
        log_msg((enum pd_level)l->kind, who, "%s", l->text);
}

void fwd_print(struct rd *r, int rank)
{
    uint32_t n = proto_get_count(r);
    struct proto_log l;

    for (uint32_t i = 0; i < n; i++) {
        if (proto_get_log(r, &l) != 0) {
            log_msg(PD_ERROR, "pdask-mpi", "malformed log lines from rank "
                    "%d ignored (%u of %u read)", rank, i, n);
            return;
        }
        fwd_print_line(&l, rank);
    }
}
