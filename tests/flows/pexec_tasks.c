/* Tasks for tests/test_pexec.c: results of each kind, a failure, four
 * ways to die, and two ways to overrun a timeout. */
#include <pdask.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int empty(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)args, (void)nargs, (void)out;
    return 0;
}
PD_TASK(empty);

static int twice(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)nargs;
    pd_return_int(out, 2 * args[0].i);
    return 0;
}
PD_TASK(twice);

static int greet(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    char s[256];

    (void)nargs;
    snprintf(s, sizeof(s), "hello, %s: %s on rank %d, attempt %d", args[0].s,
             pd_task_run_name(ctx), pd_task_rank(ctx), pd_task_attempt(ctx));
    pd_log(ctx, PD_INFO, "greeting %s", args[0].s);
    pd_return_str(out, s);
    return 0;
}
PD_TASK(greet);

/* The bytes of args[0] reversed, then args[1] as 8 raw bytes. */
static int flip(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    unsigned char b[64];
    size_t n = args[0].len < 56 ? args[0].len : 56;

    (void)ctx, (void)nargs;
    for (size_t i = 0; i < n; i++)
        b[i] = ((const unsigned char *)args[0].b)[n - 1 - i];
    memcpy(b + n, &args[1].r, 8);
    pd_return_bytes(out, b, n + 8);
    return 0;
}
PD_TASK(flip);

/* args[0] back as it came. */
static int echo(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)nargs;
    pd_return_bytes(out, args[0].b, args[0].len);
    return 0;
}
PD_TASK(echo);

/* Write a frame length of 4 GiB on the helper's reply pipe (fd 4). */
static int scribble(pd_ctx *ctx, const pd_value *args, int nargs,
                    pd_value *out)
{
    static const unsigned char huge[4] = { 0xff, 0xff, 0xff, 0xff };

    (void)ctx, (void)args, (void)nargs, (void)out;
    return write(4, huge, 4) == 4 ? 0 : pd_fail(ctx, "not in a helper");
}
PD_TASK(scribble);

/* A line on stdout and a debug line through pd_log. */
static int chatty(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)args, (void)nargs, (void)out;
    printf("chatty on stdout in %s\n", pd_task_run_name(ctx));
    pd_log(ctx, PD_DEBUG, "chatty at debug level");
    return 0;
}
PD_TASK(chatty);

static int refuse(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)args, (void)out;
    return pd_fail(ctx, "refused %d arguments", nargs);
}
PD_TASK(refuse);

static int segv(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)args, (void)nargs, (void)out;
    *(volatile int *)(uintptr_t)args[0].i = 1; /* args[0] is 0 */
    return 0;
}
PD_TASK(segv);

static int aborts(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)args, (void)nargs, (void)out;
    abort();
}
PD_TASK(aborts);

static int exits(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)args, (void)nargs, (void)out;
    exit(3);
}
PD_TASK(exits);

static int killed(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)ctx, (void)args, (void)nargs, (void)out;
    kill(getpid(), SIGKILL);
    return 0;
}
PD_TASK(killed);

/* Sleep args[0].r seconds. */
static int nap(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    double end = now() + args[0].r;

    (void)ctx, (void)nargs, (void)out;
    while (now() < end)
        usleep(10000);
    return 0;
}
PD_TASK(nap);

/* Start `sleep 30`, write its pid to the file args[0], then nap args[1]
 * seconds: a task that leaves a process behind when it is stopped. */
static int spawns(pd_ctx *ctx, const pd_value *args, int nargs,
                  pd_value *out)
{
    extern char **environ;
    char *argv[] = { "sleep", "30", NULL };
    pid_t pid;
    FILE *f;

    if (posix_spawnp(&pid, "sleep", NULL, NULL, argv, environ) != 0)
        return pd_fail(ctx, "cannot start sleep");
    if (!(f = fopen(args[0].s, "w")))
        return pd_fail(ctx, "cannot write %s", args[0].s);
    fprintf(f, "%ld\n", (long)pid);
    fclose(f);
    return nap(ctx, args + 1, nargs - 1, out);
}
PD_TASK(spawns);

/* Spin on the CPU for args[0].r seconds. */
static int spin(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    double end = now() + args[0].r;
    volatile unsigned long n = 0;

    (void)ctx, (void)nargs;
    while (now() < end)
        n++;
    pd_return_int(out, (int64_t)n);
    return 0;
}
PD_TASK(spin);
