/* The executors: the same attempts through the thread executor and the
 * process executor (helpers that are this program, then pdask-mpi), and
 * what only helper processes survive: crashes and timeouts.
 *
 *     test_pexec FLOW.so [PDASK-MPI]     FLOW.so: tests/flows/pexec_tasks.c
 */
#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "exec.h"
#include "loader.h"
#include "log.h"
#include "pexec.h"
#include "util.h"

/* The test flow, loaded once. */
static struct module *mod;

static const char *flow;

/* Open descriptors of this process. */
static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    CHECK(d != NULL);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* Children of this process, and how many of them are zombies. */
static int count_children(int *zombies)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;

    CHECK(d != NULL);
    *zombies = 0;
    while ((e = readdir(d))) {
        char path[300], line[512], state;
        long ppid;
        FILE *f;
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        if (!(f = fopen(path, "r")))
            continue;
        char *paren = fgets(line, sizeof(line), f) ? strrchr(line, ')')
                                                   : NULL;
        fclose(f);
        if (!paren || sscanf(paren + 1, " %c %ld", &state, &ppid) != 2 ||
            ppid != (long)getpid())
            continue;
        n++;
        *zombies += state == 'Z';
    }
    closedir(d);
    return n;
}

static void check_children(int want)
{
    int zombies, n = count_children(&zombies);
    CHECK_EQ(zombies, 0);
    CHECK_EQ(n, want);
}

/* One attempt of task with args on ex, into out; its return code. */
static int run(struct executor *ex, const char *task, const pd_value *args,
               int nargs, double timeout_s, struct taskrun_out *out)
{
    int idx = loader_task_by_name(mod, task);
    struct exec_req req = {
        .run = { .name = "run-7", .rank = 5, .attempt = 2, .args = args,
                 .nargs = nargs, .timeout_s = timeout_s },
    };

    CHECK(idx >= 0);
    req.run.def = mod->tasks[idx];
    return exec_attempt(ex, &req, out);
}

/* The same completed result, byte for byte, from both executors. */
static void check_same(struct executor *px, const char *task,
                       const pd_value *args, int nargs)
{
    struct taskrun_out a = { 0 }, b = { 0 };

    CHECK_EQ(run(exec_thread(), task, args, nargs, 0, &a), 0);
    CHECK_EQ(run(px, task, args, nargs, 0, &b), 0);
    CHECK_EQ(a.state, PD_COMPLETED);
    CHECK_EQ(b.state, PD_COMPLETED);
    CHECK(a.message == NULL && b.message == NULL);
    CHECK_EQ(a.result.len, b.result.len);
    CHECK(memcmp(a.result.data, b.result.data, a.result.len) == 0);
    taskrun_out_free(&a);
    taskrun_out_free(&b);
}

/* The result of a completed attempt, unpacked (borrowing from out). */
static pd_value result_of(const struct taskrun_out *out)
{
    struct rd r = rd_init(out->result.data, out->result.len);
    uint64_t id;
    int32_t rank;
    pd_value v;

    CHECK_EQ(proto_get_value(&r, &v, &id, &rank), 0);
    return v;
}

static void test_results(struct executor *px)
{
    struct taskrun_out out = { 0 };
    const pd_value i21[] = { pd_int(21) };
    const pd_value who[] = { pd_str("world") };
    const pd_value raw[] = { pd_bytes("a\0b\0c", 5), pd_real(0.5) };
    pd_value v;

    check_same(px, "twice", i21, 1);
    check_same(px, "greet", who, 1);
    check_same(px, "flip", raw, 2);
    check_same(px, "empty", NULL, 0);

    CHECK_EQ(run(px, "twice", i21, 1, 0, &out), 0);
    CHECK_EQ(result_of(&out).i, 42);
    CHECK_EQ(run(px, "greet", who, 1, 0, &out), 0);
    CHECK_STR(result_of(&out).s, "hello, world: run-7 on rank 5, attempt 2");
    CHECK_EQ(run(px, "flip", raw, 2, 0, &out), 0);
    v = result_of(&out);
    CHECK_EQ(v.kind, PD_BYTES);
    CHECK_EQ(v.len, 13);
    CHECK(memcmp(v.b, "c\0b\0a", 5) == 0);

    /* Arguments packed by the caller go as they are. */
    struct buf packed = { 0 };
    proto_put_value(&packed, &i21[0], 0);
    struct exec_req req = {
        .run = { .def = mod->tasks[loader_task_by_name(mod, "twice")],
                 .name = "twice-1", .rank = 1, .attempt = 1, .nargs = 1 },
        .packed = packed.data, .packed_len = packed.len,
    };
    CHECK_EQ(exec_attempt(px, &req, &out), 0);
    CHECK_EQ(result_of(&out).i, 42);
    buf_free(&packed);
    taskrun_out_free(&out);
}

/* Frames many times the pipe's buffer: short reads and writes. */
static void test_big(struct executor *px)
{
    size_t n = 3u << 20;
    unsigned char *b = pd__xmalloc(n);

    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(i * 2654435761u >> 13);
    check_same(px, "echo", (const pd_value[]){ pd_bytes(b, n) }, 1);
    free(b);
}

static void test_fail(struct executor *px)
{
    struct taskrun_out a = { 0 }, b = { 0 };
    const pd_value two[] = { pd_int(1), pd_int(2) };

    CHECK_EQ(run(exec_thread(), "refuse", two, 2, 0, &a), PD_EFAILED);
    CHECK_EQ(run(px, "refuse", two, 2, 0, &b), PD_EFAILED);
    CHECK_EQ(b.state, PD_FAILED);
    CHECK_STR(a.message, "refused 2 arguments");
    CHECK_STR(b.message, "refused 2 arguments");
    CHECK_EQ(b.result.len, 0);
    /* A future cannot cross to a helper. */
    const pd_value fut[] = { { .kind = PD_FUTURE } };
    CHECK_EQ(run(px, "empty", fut, 1, 0, &b), PD_EFAILED);
    CHECK(strstr(b.message, "argument 1 cannot go to a helper") != NULL);
    taskrun_out_free(&a);
    taskrun_out_free(&b);
}

/* The next attempt after a crash or a timeout runs on a fresh helper. */
static void check_next_works(struct executor *px, pid_t old)
{
    struct taskrun_out out = { 0 };
    const pd_value i21[] = { pd_int(21) };

    CHECK_EQ(pexec_pid(px), 0);
    check_children(0);
    CHECK_EQ(run(px, "twice", i21, 1, 0, &out), 0);
    CHECK_EQ(result_of(&out).i, 42);
    CHECK(pexec_pid(px) != 0 && pexec_pid(px) != old);
    check_children(1);
    taskrun_out_free(&out);
}

static void test_crashes(struct executor *px)
{
    static const struct {
        const char *task, *message;
    } cases[] = {
        { "segv", "crashed: killed by signal 11 (SIGSEGV)" },
        { "aborts", "crashed: killed by signal 6 (SIGABRT)" },
        { "exits", "crashed: exit(3) in the task" },
        { "killed", "crashed: killed by signal 9 (SIGKILL)" },
    };
    struct taskrun_out out = { 0 };
    const pd_value zero[] = { pd_int(0) };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        pid_t old = pexec_pid(px);
        CHECK(old != 0);
        CHECK_EQ(run(px, cases[i].task, zero, 1, 0, &out), PD_ECRASHED);
        CHECK_EQ(out.state, PD_CRASHED);
        CHECK_STR(out.message, cases[i].message);
        CHECK_EQ(out.result.len, 0);
        check_next_works(px, old);
    }
    taskrun_out_free(&out);
}

/* A bogus frame length is refused before anything is allocated. */
static void test_scribble(struct executor *px)
{
    struct taskrun_out out = { 0 };
    pid_t old = pexec_pid(px);

    CHECK_EQ(run(px, "scribble", NULL, 0, 0, &out), PD_ECRASHED);
    CHECK_STR(out.message, "crashed: the helper process broke the pipe "
              "protocol (Message too long) and was stopped");
    check_next_works(px, old);
    taskrun_out_free(&out);
}

/* A helper that dies between attempts is replaced; the attempt runs. */
static void test_idle_death(struct executor *px)
{
    struct taskrun_out out = { 0 };
    const pd_value i21[] = { pd_int(21) };
    pid_t old = pexec_pid(px);
    int zombies = 0;

    CHECK(old != 0);
    CHECK_EQ(kill(old, SIGKILL), 0);
    while (!zombies)
        count_children(&zombies);
    CHECK_EQ(run(px, "twice", i21, 1, 0, &out), 0);
    CHECK_EQ(result_of(&out).i, 42);
    CHECK(pexec_pid(px) != old);
    check_children(1);
    taskrun_out_free(&out);
}

static void test_timeouts(struct executor *px)
{
    static const char *const tasks[] = { "nap", "spin" };
    struct taskrun_out out = { 0 };
    const pd_value ten[] = { pd_real(10) };

    for (size_t i = 0; i < ARRAY_SIZE(tasks); i++) {
        pid_t old = pexec_pid(px);
        double t0 = pd__now(), took;
        CHECK_EQ(run(px, tasks[i], ten, 1, 1.0, &out), PD_EFAILED);
        took = pd__now() - t0;
        CHECK_EQ(out.state, PD_FAILED);
        CHECK_STR(out.message, "timed out after 1 s");
        printf("%s: timed out after %.3f s (limit 1 s)\n", tasks[i], took);
        if (took < 1.0 || took > 1.5) {
            fprintf(stderr, "%s: timed out after %.3f s, want 1-1.5 s\n",
                    tasks[i], took);
            exit(1);
        }
        check_next_works(px, old);
    }
    /* Within the limit: completes. */
    const pd_value short_nap[] = { pd_real(0.05) };
    CHECK_EQ(run(px, "nap", short_nap, 1, 1.0, &out), 0);
    /* Threads can only tell after the fact. */
    CHECK_EQ(run(exec_thread(), "nap", short_nap, 1, 0.01, &out), PD_EFAILED);
    CHECK(strncmp(out.message, "timed out: ran", 14) == 0);
    taskrun_out_free(&out);
}

/* What a timed-out task started goes with it (the helper's process
 * group). */
static void test_group(struct executor *px)
{
    struct taskrun_out out = { 0 };
    char path[] = "/tmp/test_pexec.XXXXXX", stat[64], line[256];
    int fd = mkstemp(path);
    long pid = 0;
    FILE *f;

    CHECK(fd >= 0);
    close(fd);
    CHECK_EQ(run(px, "spawns", (const pd_value[]){ pd_str(path),
                                                   pd_real(10) },
                 2, 0.5, &out), PD_EFAILED);
    CHECK_STR(out.message, "timed out after 0.5 s");
    CHECK((f = fopen(path, "r")) != NULL);
    CHECK(fscanf(f, "%ld", &pid) == 1 && pid > 0);
    fclose(f);
    unlink(path);
    /* Gone, or a zombie of whoever adopted it. */
    snprintf(stat, sizeof(stat), "/proc/%ld/stat", pid);
    for (int i = 0; i < 100; i++) {
        char *paren = NULL;
        if ((f = fopen(stat, "r"))) {
            paren = fgets(line, sizeof(line), f) ? strrchr(line, ')')
                                                 : NULL;
            fclose(f);
        }
        if (!paren || paren[2] == 'Z')
            break;
        CHECK(i < 99);
        pd__sleep(0.01);
    }
    taskrun_out_free(&out);
}

static void test_many(void)
{
    struct taskrun_out out = { 0 };
    int fds = count_fds();
    struct executor *px = pexec_new(&(struct pexec_opts){ .flow = flow });
    const pd_value arg[1];
    pid_t pid;

    check_children(0);
    CHECK_EQ(run(px, "empty", arg, 0, 0, &out), 0);
    pid = pexec_pid(px);
    CHECK_EQ(count_fds(), fds + 2);
    for (int i = 1; i < 1000; i++) {
        pd_value v = pd_int(i);
        CHECK_EQ(run(px, "twice", &v, 1, 5, &out), 0);
        CHECK_EQ(result_of(&out).i, 2 * i);
    }
    CHECK_EQ(pexec_pid(px), pid);
    check_children(1);
    exec_destroy(px);
    check_children(0);
    CHECK_EQ(count_fds(), fds);
    taskrun_out_free(&out);
}

/* The helper writes on our stdout and stderr, at our log level. */
static void test_output(void)
{
    struct taskrun_out out = { 0 };
    char path[] = "/tmp/test_pexec.XXXXXX", text[4096];
    int fd = mkstemp(path), saved1 = dup(1), saved2 = dup(2);
    FILE *f;
    size_t n;

    CHECK(fd >= 0 && saved1 >= 0 && saved2 >= 0);
    fflush(stdout);
    fflush(stderr);
    CHECK(dup2(fd, 1) == 1 && dup2(fd, 2) == 2);
    log_set_level(PD_DEBUG);
    struct executor *px = pexec_new(&(struct pexec_opts){ .flow = flow });
    CHECK_EQ(run(px, "chatty", NULL, 0, 0, &out), 0);
    exec_destroy(px);
    log_set_level(PD_INFO);
    CHECK(dup2(saved1, 1) == 1 && dup2(saved2, 2) == 2);
    close(saved1);
    close(saved2);
    close(fd);
    CHECK((f = fopen(path, "r")) != NULL);
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    unlink(path);
    CHECK(strstr(text, "chatty on stdout in run-7\n") != NULL);
    CHECK(strstr(text, "| DEBUG   | run-7 | chatty at debug level") != NULL);
    taskrun_out_free(&out);
}

/* With forward, the helper's output and pd_log lines reach the caller's
 * fd 2 as frames of the run (fwd.h), in the order written. */
static void test_output_forward(void)
{
    struct taskrun_out out = { 0 };
    char path[] = "/tmp/test_pexec.XXXXXX", text[4096];
    int fd = mkstemp(path), saved2 = dup(2);
    FILE *f;
    size_t n;

    CHECK(fd >= 0 && saved2 >= 0);
    fflush(stderr);
    CHECK(dup2(fd, 2) == 2);
    log_set_level(PD_DEBUG);
    struct executor *px = pexec_new(&(struct pexec_opts){ .flow = flow,
                                                          .forward = true });
    CHECK_EQ(run(px, "chatty", NULL, 0, 0, &out), 0);
    CHECK_EQ(run(px, "chatty", NULL, 0, 0, &out), 0);
    exec_destroy(px);
    log_set_level(PD_INFO);
    CHECK(dup2(saved2, 2) == 2);
    close(saved2);
    close(fd);
    CHECK((f = fopen(path, "r")) != NULL);
    n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    unlink(path);
    CHECK_STR(text, "\x1e" "4run-7\x1f" "chatty on stdout in run-7\n"
                    "\x1e" "0run-7\x1f" "chatty at debug level\n"
                    "\x1e" "4run-7\x1f" "chatty on stdout in run-7\n"
                    "\x1e" "0run-7\x1f" "chatty at debug level\n");
    check_children(0);
    taskrun_out_free(&out);
}

/* pdask-mpi itself as the helper: its hidden subcommand. */
static void test_pdask_mpi(const char *exe)
{
    struct taskrun_out out = { 0 };
    struct executor *px = pexec_new(&(struct pexec_opts){
        .exe = exe, .flow = flow });
    const pd_value i21[] = { pd_int(21) };

    CHECK_EQ(run(px, "twice", i21, 1, 0, &out), 0);
    CHECK_EQ(result_of(&out).i, 42);
    CHECK_EQ(run(px, "segv", (const pd_value[]){ pd_int(0) }, 1, 0, &out),
             PD_ECRASHED);
    CHECK_STR(out.message, "crashed: killed by signal 11 (SIGSEGV)");
    exec_destroy(px);
    check_children(0);
    taskrun_out_free(&out);
}

/* A helper that cannot load the flow says so; nothing is left behind. */
static void test_bad_flow(void)
{
    struct taskrun_out out = { 0 };
    struct executor *px = pexec_new(&(struct pexec_opts){
        .flow = "/nonexistent/flow.so" });
    char err[1024];

    CHECK_EQ(pexec_start(px, err, sizeof(err)), PD_ECRASHED);
    CHECK(strstr(err, "could not load the flow: /nonexistent/flow.so")
          != NULL);
    CHECK_EQ(run(px, "empty", NULL, 0, 0, &out), PD_ECRASHED);
    CHECK_EQ(out.state, PD_CRASHED);
    check_children(0);
    exec_destroy(px);
    px = pexec_new(&(struct pexec_opts){ .exe = "/nonexistent/exe",
                                         .flow = flow });
    CHECK_EQ(run(px, "empty", NULL, 0, 0, &out), PD_ECRASHED);
    CHECK(strstr(out.message, "cannot start a helper process") != NULL);
    exec_destroy(px);
    taskrun_out_free(&out);
}

int main(int argc, char **argv)
{
    char err[1024];

    if (argc > 1 && strcmp(argv[1], PEXEC_SUBCOMMAND) == 0)
        return pexec_helper_main(argc, argv);
    if (argc < 2) {
        fprintf(stderr, "usage: %s FLOW.so [PDASK-MPI]\n", argv[0]);
        return 2;
    }
    flow = argv[1];
    if (loader_open(flow, &mod, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }

    struct executor *px = pexec_new(&(struct pexec_opts){ .flow = flow });
    test_results(px);
    test_big(px);
    test_fail(px);
    test_crashes(px);
    test_scribble(px);
    test_idle_death(px);
    test_timeouts(px);
    test_group(px);
    exec_destroy(px);
    check_children(0);
    exec_destroy(exec_thread());

    test_many();
    test_output();
    test_output_forward();
    test_bad_flow();
    if (argc > 2)
        test_pdask_mpi(argv[2]);
    printf("pexec ok\n");
    return 0;
}
