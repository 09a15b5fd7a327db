/* pexec.c - see pexec.h.
 *
 * Frames, both ways: u32 length, then the payload.
 *   hello    helper -> caller once loaded: u8 ok, str error
 *   request  u32 rank, u32 attempt, str task, str run name, u32 nargs,
 *            then the nargs packed values
 *   reply    u8 state, u64 run time (the bits of a double), str message,
 *            then the packed result (Completed only)
 */
#define _GNU_SOURCE /* pipe2, sigabbrev_np,
                       posix_spawn_file_actions_addclosefrom_np */
#include "pexec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fwd.h"
#include "loader.h"
#include "log.h"
#include "util.h"

extern char **environ;

/* The helper's ends of the two pipes. */
enum { HELPER_REQ_FD = 3, HELPER_REP_FD = 4 };

/* A buffer bigger than this is freed after the attempt that grew it. */
#define KEEP_MAX ((size_t)1 << 20)

struct pexec {
    struct executor ex;
    char *exe;          /* the helper program */
    char *flow;         /* the flow .so it loads */
    double grace_s;     /* how long a helper may take to exit */
    pid_t pid;          /* the helper, or 0 */
    int req_fd;         /* requests go here */
    int rep_fd;         /* replies come from here */
    struct buf frame;   /* the request being sent */
    struct buf reply;   /* the reply being read */
    bool forward;       /* the helper's stdout and stderr come through
                           out_fd and go on as frames (fwd.h) */
    int out_fd;         /* their pipe, nonblocking, or -1 */
    bool out_eof;       /* out_fd has ended */
    const char *run;    /* the run whose attempt is in the helper */
    struct fwd_lines lines;
};

/* ------------------------------------------------------------- pipe I/O */

/* Write n bytes from p to fd: 0, or -errno (-EPIPE: the reader is gone).
 * SIGPIPE is blocked on this thread for the call, and one the write raised
 * is consumed, so a dead reader never kills the process. */
static int write_all(int fd, const void *p, size_t n)
{
    static const struct timespec zero = { 0, 0 };
    const char *c = p;
    sigset_t pipe_set, old, pending;
    int rc = 0;

    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    while (n > 0) {
        ssize_t k = write(fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = -errno;
            break;
        }
        c += k;
        n -= (size_t)k;
    }
    if (rc == -EPIPE && !sigismember(&old, SIGPIPE) &&
        sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE))
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* Forward what the helper wrote to its stdout and stderr, line by line,
 * as frames of its run (fwd.h). */
static void output_pump(struct pexec *px)
{
    char chunk[16384];

    while (px->out_fd >= 0 && !px->out_eof) {
        ssize_t k = read(px->out_fd, chunk, sizeof(chunk));
        if (k < 0 && errno == EINTR)
            continue;
        if (k == 0 || (k < 0 && errno != EAGAIN))
            px->out_eof = true;
        if (k <= 0)
            return;
        fwd_lines_feed(&px->lines, chunk, (size_t)k,
                       px->run ? px->run : "", fwd_reframe, NULL);
    }
}

/* The attempt is over: forward the rest, a last line without its
 * newline too. */
static void output_drain(struct pexec *px)
{
    if (px->out_fd < 0)
        return;
    output_pump(px);
    fwd_lines_end(&px->lines, fwd_reframe, NULL);
}

/* Read n bytes from fd into p before deadline (pd__now() seconds; 0 for
 * none): 0, -ETIMEDOUT, -EPIPE at end of file, or -errno. While it waits,
 * the output of px's helper is forwarded (px may be NULL). */
static int read_full(int fd, void *p, size_t n, double deadline,
                     struct pexec *px)
{
    char *c = p;
    bool out = px && px->out_fd >= 0;

    while (n > 0) {
        if (deadline > 0 || out) {
            struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN },
                                     { .fd = -1, .events = POLLIN } };
            double left = deadline > 0 ? deadline - pd__now() : 3600;
            if (left <= 0)
                return -ETIMEDOUT;
            if (out && !px->out_eof)
                pfd[1].fd = px->out_fd;
            int ms = left > 3600 ? 3600 * 1000 : (int)(left * 1000) + 1;
            int r = poll(pfd, 2, ms);
            if (r < 0 && errno != EINTR)
                return -errno;
            if (r > 0 && pfd[1].revents)
                output_pump(px);
            if (r <= 0 || !pfd[0].revents)
                continue;
        }
        ssize_t k = read(fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -errno;
        if (k == 0)
            return -EPIPE;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Start a frame in b: room for its length. */
static void frame_begin(struct buf *b)
{
    b->len = 0;
    buf_u32(b, 0);
}

/* Set the length of the frame in b: 0, or PD_ETOOBIG. */
static int frame_end(struct buf *b)
{
    uint32_t n = (uint32_t)(b->len - 4);

    if (b->len - 4 > PEXEC_FRAME_MAX)
        return PD_ETOOBIG;
    memcpy(b->data, &n, 4);
    return 0;
}

/* Read one frame's payload from fd into b (replacing its contents) before
 * deadline: as read_full, or -EMSGSIZE for a length past the limit. */
static int frame_read(int fd, struct buf *b, double deadline,
                      struct pexec *px)
{
    uint32_t n;
    int rc = read_full(fd, &n, 4, deadline, px);

    if (rc)
        return rc;
    if (n > PEXEC_FRAME_MAX)
        return -EMSGSIZE;
    b->len = 0;
    buf_reserve(b, n);
    rc = read_full(fd, b->data, n, deadline, px);
    b->len = rc ? 0 : n;
    return rc;
}

/* Free b's memory if a big frame grew it. */
static void frame_trim(struct buf *b)
{
    if (b->cap > KEEP_MAX)
        buf_free(b);
}

/* ----------------------------------------------------------- the helper */

/* Put back the default action of the crash signals (a sanitizer runtime
 * may have caught them) so a crash ends the helper by its signal. */
static void default_crash_signals(void)
{
    static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    /* On failure a crash is reported by the exit code the runtime picks. */
    for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
        sigaction(sigs[i], &sa, NULL);
}

/* CUDA_VISIBLE_DEVICES for one attempt: the GPUs it holds, else what the
 * helper started with. */
static void set_gpus(const struct taskrun_req *req)
{
    static bool saved;
    static char *orig;
    char list[256];

    if (!saved) {
        const char *v = getenv("CUDA_VISIBLE_DEVICES");
        orig = v ? pd__xstrdup(v) : NULL;
        saved = true;
    }
    taskrun_gpu_list(req, list, sizeof(list));
    if (list[0])
        setenv("CUDA_VISIBLE_DEVICES", list, 1);
    else if (orig)
        setenv("CUDA_VISIBLE_DEVICES", orig, 1);
    else
        unsetenv("CUDA_VISIBLE_DEVICES");
}

/* Run the attempt the request in `in` asks for, into out; args is scratch
 * space of *cap values, grown as needed. */
static void helper_run(const struct module *mod, const struct buf *in,
                       struct taskrun_out *out,
                       pd_value **args, size_t *cap)
{
    struct rd r = rd_init(in->data, in->len);
    struct taskrun_req req = { 0 };
    const char *task;
    uint64_t id;
    int32_t rank;
    uint32_t n;
    int idx;

    req.rank = (int)rd_u32(&r);
    req.attempt = (int)rd_u32(&r);
    task = rd_str(&r);
    req.name = rd_str(&r);
    n = rd_u32(&r);
    /* Each value takes a byte at least: check before allocating. */
    if (r.bad || n > (size_t)(r.end - r.p) || n > INT_MAX) {
        taskrun_set(out, PD_FAILED, "malformed request to the helper "
                    "process");
        return;
    }
    idx = loader_task_by_name(mod, task);
    if (idx < 0) {
        taskrun_set(out, PD_FAILED, "task '%s' is not in the flow the "
                    "helper process loaded", task);
        return;
    }
    req.def = mod->tasks[idx];
    if (n > *cap) {
        *args = pd__xrealloc(*args, n * sizeof(**args));
        *cap = n;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (proto_get_value(&r, &(*args)[i], &id, &rank) != 0 ||
            (*args)[i].kind >= PD_FUTURE) {
            taskrun_set(out, PD_FAILED, "argument %u is malformed in the "
                        "request to the helper process", i + 1);
            return;
        }
    }
    req.args = *args;
    req.nargs = (int)n;
    req.holdslen = rd_u32(&r);
    req.holds = req.holdslen ? rd_take(&r, req.holdslen) : NULL;
    req.gpu_first = (int)rd_u32(&r);
    req.gpu_found = (int)rd_u32(&r);
    if (r.bad) {
        taskrun_set(out, PD_FAILED, "malformed request to the helper "
                    "process");
        return;
    }
    set_gpus(&req);
    taskrun_attempt(&req, out);
}

/* Build the reply frame for out in b; frame_end() sets its length. */
static void helper_reply(struct buf *b, const struct taskrun_out *out)
{
    uint64_t bits;

    memcpy(&bits, &out->runtime_s, 8);
    frame_begin(b);
    buf_u8(b, (uint8_t)out->state);
    buf_u64(b, bits);
    buf_str(b, out->message);
    buf_put(b, out->result.data, out->result.len);
}

/* Say whether the flow loaded: the first frame the caller reads. */
static int helper_hello(struct buf *b, const char *flow,
                        struct module **mod)
{
    char err[1024];
    int rc = loader_open(flow, mod, err, sizeof(err));

    frame_begin(b);
    buf_u8(b, rc == 0);
    buf_str(b, rc ? err : NULL);
    frame_end(b);
    if (write_all(HELPER_REP_FD, b->data, b->len) != 0)
        return -1;
    return rc;
}

int pexec_helper_main(int argc, char **argv)
{
    struct buf in = { 0 }, b = { 0 };
    struct taskrun_out out = { 0 };
    pd_value *args = NULL;
    struct module *mod = NULL;
    size_t cap = 0;
    int rc;

    if ((argc != 5 && (argc != 6 || strcmp(argv[5], "forward") != 0)) ||
        strcmp(argv[1], PEXEC_SUBCOMMAND) != 0) {
        log_error("'%s' is how pdask-mpi starts its helper processes; it "
                  "is not for use by hand", PEXEC_SUBCOMMAND);
        return 2;
    }
    /* Die with the thread that started us, even if it is already gone. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 ||
        getppid() != (pid_t)strtol(argv[3], NULL, 10))
        return 2;
    /* Keep the pipes out of programs that tasks run. */
    if (fcntl(HELPER_REQ_FD, F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(HELPER_REP_FD, F_SETFD, FD_CLOEXEC) != 0) {
        log_error("%s: fds 3 and 4 are not open: only pdask-mpi starts "
                  "helper processes", PEXEC_SUBCOMMAND);
        return 2;
    }
    default_crash_signals();
    long level = strtol(argv[4], NULL, 10);
    if (level >= PD_DEBUG && level <= PD_ERROR)
        log_set_level((enum pd_level)level);
    /* pd_log lines go to the caller as frames, with the output, and
     * stdout line by line, in order with them. */
    fwd_set_framing(argc == 6);
    if (argc == 6)
        setvbuf(stdout, NULL, _IOLBF, 0);
    if (helper_hello(&b, argv[2], &mod) != 0) {
        rc = 2;
        goto out_free;
    }
    while ((rc = frame_read(HELPER_REQ_FD, &in, 0, NULL)) == 0) {
        helper_run(mod, &in, &out, &args, &cap);
        helper_reply(&b, &out);
        /* Task output first, then the reply that ends the attempt. */
        fflush(stdout);
        fflush(stderr);
        if (frame_end(&b) != 0) {
            taskrun_set(&out, PD_FAILED, "result too large for a helper "
                        "process: %zu bytes", out.result.len);
            helper_reply(&b, &out);
            frame_end(&b);
        }
        if (write_all(HELPER_REP_FD, b.data, b.len) != 0)
            break;
        frame_trim(&in);
        frame_trim(&b);
        frame_trim(&out.result);
    }
    /* The caller closing the request pipe is the normal way to end. */
    rc = rc == -EPIPE ? 0 : 2;
out_free:
    taskrun_out_free(&out);
    buf_free(&in);
    buf_free(&b);
    free(args);
    loader_close(mod);
    return rc;
}

/* ----------------------------------------------------------- the caller */

/* The lowest level this process logs, for its helpers. */
static enum pd_level log_level(void)
{
    enum pd_level l = PD_DEBUG;

    while (l < PD_ERROR && !log_enabled(l))
        l++;
    return l;
}

/* Move *fd to a number >= 10, close-on-exec, so the child's dup2 onto 3
 * and 4 cannot overwrite it: 0 or -errno. */
static int fd_above(int *fd)
{
    int hi = fcntl(*fd, F_DUPFD_CLOEXEC, 10);

    if (hi < 0)
        return -errno;
    close(*fd);
    *fd = hi;
    return 0;
}

/* The spawn actions: the child's pipe ends on 3 and 4, nothing else open
 * but 0-2, every signal at its default and unblocked, and a process group
 * of its own (so a timeout also stops what the task started; the helper
 * still dies with its parent). Error number or 0. */
static int spawn_setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *sa,
                       int req_rd, int rep_wr, int out_wr)
{
    sigset_t none, all;
    int rc;

    sigemptyset(&none);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    if ((rc = posix_spawn_file_actions_adddup2(fa, req_rd, HELPER_REQ_FD)) ||
        (rc = posix_spawn_file_actions_adddup2(fa, rep_wr, HELPER_REP_FD)) ||
        (out_wr >= 0 &&
         ((rc = posix_spawn_file_actions_adddup2(fa, out_wr, 1)) ||
          (rc = posix_spawn_file_actions_adddup2(fa, out_wr, 2)))) ||
        (rc = posix_spawn_file_actions_addclosefrom_np(fa, 5)) ||
        (rc = posix_spawnattr_setsigmask(sa, &none)) ||
        (rc = posix_spawnattr_setsigdefault(sa, &all)) ||
        (rc = posix_spawnattr_setpgroup(sa, 0)))
        return rc;
    return posix_spawnattr_setflags(sa, POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSIGDEF |
                                            POSIX_SPAWN_SETPGROUP);
}

/* A pipe for the helper's stdout and stderr when px forwards them: its
 * write end (>= 10) in *wr, the read end nonblocking in px->out_fd. 0, or
 * an error number. */
static int output_pipe(struct pexec *px, int *wr)
{
    int out[2], rc;

    *wr = -1;
    if (!px->forward)
        return 0;
    if (pipe2(out, O_CLOEXEC) != 0)
        return errno;
    if ((rc = -fd_above(&out[1])) ||
        (fcntl(out[0], F_SETFL, O_NONBLOCK) != 0 && (rc = errno))) {
        close(out[0]);
        close(out[1]);
        return rc;
    }
    px->out_fd = out[0];
    px->out_eof = false;
    *wr = out[1];
    return 0;
}

/* Spawn the helper with fresh pipes: 0, or an error number. */
static int helper_spawn(struct pexec *px)
{
    int req[2], rep[2], out_wr = -1, rc;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t sa;
    char ppid[24], level[4];
    char *argv[] = { px->exe, PEXEC_SUBCOMMAND, px->flow, ppid, level,
                     px->forward ? "forward" : NULL, NULL };

    if (pipe2(req, O_CLOEXEC) != 0)
        return errno;
    if (pipe2(rep, O_CLOEXEC) != 0) {
        rc = errno;
        goto out_close_req;
    }
    if ((rc = -fd_above(&req[0])) || (rc = -fd_above(&rep[1])) ||
        (rc = output_pipe(px, &out_wr)))
        goto out_close_rep;
    if ((rc = posix_spawn_file_actions_init(&fa)))
        goto out_close_rep;
    if ((rc = posix_spawnattr_init(&sa)))
        goto out_destroy_fa;
    snprintf(ppid, sizeof(ppid), "%ld", (long)getpid());
    snprintf(level, sizeof(level), "%d", (int)log_level());
    rc = spawn_setup(&fa, &sa, req[0], rep[1], out_wr);
    if (!rc)
        rc = posix_spawn(&px->pid, px->exe, &fa, &sa, argv, environ);
    if (rc)
        px->pid = 0;
    posix_spawnattr_destroy(&sa);
out_destroy_fa:
    posix_spawn_file_actions_destroy(&fa);
out_close_rep:
    if (out_wr >= 0)
        close(out_wr);  /* the child's, as rep[1] */
    if (rc && px->out_fd >= 0) {
        close(px->out_fd);
        px->out_fd = -1;
    }
    close(rep[1]);      /* the child's end: it has its own copy */
    if (rc)
        close(rep[0]);
    else
        px->rep_fd = rep[0];
out_close_req:
    close(req[0]);
    if (rc)
        close(req[1]);
    else
        px->req_fd = req[1];
    return rc;
}

/* Close the pipes, give the helper wait_s seconds to exit, then SIGKILL
 * it and whatever is left in its process group; reap it. Returns its wait
 * status, or -1 if it was reaped elsewhere. */
static int helper_reap(struct pexec *px, double wait_s)
{
    double end = pd__now() + wait_s, nap = 1e-3;
    siginfo_t info;
    int status = 0, r;

    /* Closing a pipe end cannot fail in a way that matters here (Linux
     * closes the fd even on EINTR). */
    close(px->req_fd);
    close(px->rep_fd);
    px->req_fd = px->rep_fd = -1;
    if (px->out_fd >= 0) {
        output_drain(px);
        close(px->out_fd);
        px->out_fd = -1;
    }
    /* Wait without reaping, so the group id stays ours until the kill. */
    for (;;) {
        info.si_pid = 0;
        r = waitid(P_PID, (id_t)px->pid, &info, WEXITED | WNOHANG | WNOWAIT);
        if ((r < 0 && errno != EINTR) || info.si_pid || pd__now() >= end)
            break;
        pd__sleep(nap);
        nap = nap < 16e-3 ? nap * 2 : nap;
    }
    if (r == 0) {
        /* Cannot fail: the group leader is our child, not reaped yet. */
        kill(-px->pid, SIGKILL);
        while ((r = waitpid(px->pid, &status, 0)) < 0 && errno == EINTR)
            ;
    }
    px->pid = 0;
    return r < 0 ? -1 : status;
}

/* How a helper ended, from its wait status (-1: unknown), into buf. */
static void status_text(int status, char *buf, size_t n)
{
    if (status == -1)
        snprintf(buf, n, "ended, exit status lost");
    else if (WIFSIGNALED(status) && sigabbrev_np(WTERMSIG(status)))
        snprintf(buf, n, "killed by signal %d (SIG%s)", WTERMSIG(status),
                 sigabbrev_np(WTERMSIG(status)));
    else if (WIFSIGNALED(status))
        snprintf(buf, n, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(buf, n, "exit(%d)", WEXITSTATUS(status));
}

/* out says how the helper ended during the task. */
static void set_crashed(struct taskrun_out *out, int status)
{
    char how[64];

    status_text(status, how, sizeof(how));
    taskrun_set(out, PD_CRASHED, "crashed: %s%s", how,
                status != -1 && WIFEXITED(status) ? " in the task" : "");
}

int pexec_start(struct executor *ex, char *err, size_t errlen)
{
    struct pexec *px = container_of(ex, struct pexec, ex);
    char how[64];
    struct rd r;
    int rc;

    if (px->pid)
        return 0;
    rc = helper_spawn(px);
    if (rc) {
        snprintf(err, errlen, "cannot start a helper process (%s): %s",
                 px->exe, strerror(rc));
        return PD_ECRASHED;
    }
    rc = frame_read(px->rep_fd, &px->reply, 0, px);
    r = rd_init(px->reply.data, px->reply.len);
    if (rc == 0 && rd_u8(&r) == 1 && !r.bad)
        return 0;
    if (rc == 0) {
        const char *why = rd_str(&r);
        snprintf(err, errlen, "the helper process could not load the "
                 "flow: %s", why && !r.bad ? why : "(malformed answer)");
        helper_reap(px, px->grace_s);
        return PD_ECRASHED;
    }
    status_text(helper_reap(px, px->grace_s), how, sizeof(how));
    snprintf(err, errlen, "the helper process (%s) ended before it was "
             "ready: %s", px->exe, how);
    return PD_ECRASHED;
}

pid_t pexec_pid(const struct executor *ex)
{
    return container_of(ex, const struct pexec, ex)->pid;
}

/* Build the request frame for req in px->frame; on bad or too large
 * arguments out says why and PD_EFAILED is returned. */
static int request_build(struct pexec *px, const struct exec_req *req,
                         struct taskrun_out *out)
{
    const struct taskrun_req *run = &req->run;
    struct buf *b = &px->frame;
    int rc = 0;

    frame_begin(b);
    buf_u32(b, (uint32_t)run->rank);
    buf_u32(b, (uint32_t)run->attempt);
    buf_str(b, run->def->name);
    buf_str(b, run->name);
    buf_u32(b, (uint32_t)run->nargs);
    if (req->packed)
        buf_put(b, req->packed, req->packed_len);
    for (int i = 0; !req->packed && i < run->nargs && !rc; i++) {
        rc = run->args[i].kind == PD_FUTURE
                 ? PD_EINVAL : proto_put_value(b, &run->args[i], 0);
        if (rc)
            taskrun_set(out, PD_FAILED, "argument %d cannot go to a helper "
                        "process: %s", i + 1, pd_strerror(rc));
    }
    /* What it holds, and which GPUs those are (CUDA_VISIBLE_DEVICES). */
    buf_u32(b, (uint32_t)run->holdslen);
    buf_put(b, run->holds, run->holdslen);
    buf_u32(b, (uint32_t)run->gpu_first);
    buf_u32(b, (uint32_t)run->gpu_found);
    if (!rc && frame_end(b) != 0) {
        rc = PD_ETOOBIG;
        taskrun_set(out, PD_FAILED, "arguments too large for a helper "
                    "process: %zu bytes, at most %zu", b->len - 4,
                    (size_t)PEXEC_FRAME_MAX);
    }
    return rc ? PD_EFAILED : 0;
}

/* Read the reply in px->reply into out: 0, or -EPROTO if malformed. */
static int reply_parse(struct pexec *px, struct taskrun_out *out)
{
    struct rd r = rd_init(px->reply.data, px->reply.len);
    uint8_t state = rd_u8(&r);
    uint64_t bits = rd_u64(&r);
    const char *msg = rd_str(&r);

    if (r.bad || (state != PD_COMPLETED && state != PD_FAILED))
        return -EPROTO;
    out->state = (enum pd_state)state;
    memcpy(&out->runtime_s, &bits, 8);
    if (state == PD_COMPLETED)
        buf_put(&out->result, r.p, (size_t)(r.end - r.p));
    else
        out->message = pd__xstrdup(msg);
    return 0;
}

/* Reap a helper found dead between attempts, say so, start a fresh one:
 * as pexec_start. */
static int restart(struct pexec *px, const char *run, char *err,
                   size_t errlen)
{
    char how[64];

    status_text(helper_reap(px, px->grace_s), how, sizeof(how));
    log_msg(PD_WARNING, run, "the helper process ended while idle: %s; "
            "starting a fresh one", how);
    return pexec_start(&px->ex, err, errlen);
}

static int pexec_attempt(struct executor *ex, const struct exec_req *req,
                         struct taskrun_out *out)
{
    struct pexec *px = container_of(ex, struct pexec, ex);
    double t0, limit = req->run.timeout_s, deadline = 0;
    char err[1200];
    int rc;

    free(out->message);
    out->message = NULL;
    out->result.len = 0;
    out->runtime_s = 0;
    if (request_build(px, req, out) != 0)
        return PD_EFAILED;
    px->run = req->run.name;
    if (pexec_start(ex, err, sizeof(err)) != 0) {
        taskrun_set(out, PD_CRASHED, "%s", err);
        return PD_ECRASHED;
    }
    rc = write_all(px->req_fd, px->frame.data, px->frame.len);
    if (rc == -EPIPE) {
        /* It died while idle, before reading any of this request. */
        if (restart(px, req->run.name, err, sizeof(err)) != 0) {
            taskrun_set(out, PD_CRASHED, "%s", err);
            return PD_ECRASHED;
        }
        rc = write_all(px->req_fd, px->frame.data, px->frame.len);
    }
    t0 = pd__now();
    if (limit > 0)
        deadline = t0 + limit;
    if (rc == 0)
        rc = frame_read(px->rep_fd, &px->reply, deadline, px);
    if (rc == 0)
        rc = reply_parse(px, out);
    /* The helper flushed its output before it replied: all here now. */
    output_drain(px);
    frame_trim(&px->frame);
    frame_trim(&px->reply);
    if (rc == 0)
        return out->state == PD_COMPLETED ? 0 : PD_EFAILED;

    /* The helper is gone, late or confused: it ends here either way. */
    if (rc == -ETIMEDOUT) {
        helper_reap(px, 0);
        taskrun_set(out, PD_FAILED, "timed out after %g s", limit);
    } else if (rc == -EPIPE) {
        set_crashed(out, helper_reap(px, px->grace_s));
    } else {
        helper_reap(px, 0);
        taskrun_set(out, PD_CRASHED, "crashed: the helper process broke "
                    "the pipe protocol (%s) and was stopped", strerror(-rc));
    }
    out->runtime_s = pd__now() - t0;
    return out->state == PD_FAILED ? PD_EFAILED : PD_ECRASHED;
}

static void pexec_destroy(struct executor *ex)
{
    struct pexec *px = container_of(ex, struct pexec, ex);

    if (px->pid)
        helper_reap(px, px->grace_s);  /* EOF on requests: it exits 0 */
    buf_free(&px->frame);
    buf_free(&px->reply);
    fwd_lines_free(&px->lines);
    free(px->exe);
    free(px->flow);
    free(px);
}

struct executor *pexec_new(const struct pexec_opts *o)
{
    static const struct executor_ops ops = { pexec_attempt, pexec_destroy };
    struct pexec *px = pd__xcalloc(1, sizeof(*px));

    px->ex.ops = &ops;
    px->exe = pd__xstrdup(o->exe ? o->exe : "/proc/self/exe");
    px->flow = pd__xstrdup(o->flow);
    px->grace_s = o->grace_s > 0 ? o->grace_s : 2;
    px->req_fd = px->rep_fd = px->out_fd = -1;
    px->forward = o->forward;
    return &px->ex;
}
