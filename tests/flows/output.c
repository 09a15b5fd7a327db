/* Task output reaching rank 0 (fwd.h): runs that pd_log and print several
 * lines each, a process-isolated run that does both, a last line without
 * its newline, a line too long to forward whole, and a pd_log message
 * with a newline in it, a line written to fd 1 directly; flood=N prints N
 * more lines a run. Checked by
 * tests/cases_output.cmake and tests/output_flood.sh. */
#include <pdask.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int talk(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)n, (void)out;
    for (int k = 0; k < 3; k++) {
        pd_log(ctx, PD_INFO, "log %lld.%d", (long long)a[0].i, k);
        printf("out %lld.%d\n", (long long)a[0].i, k);
        fprintf(stderr, "err %lld.%d\n", (long long)a[0].i, k);
    }
    /* flood=N: N more lines each, more than a worker holds unsent. */
    for (int64_t k = 0; k < a[1].i; k++)
        printf("flood %lld.%lld %s\n", (long long)a[0].i, (long long)k,
               "................................................");
    return 0;
}
PD_TASK(talk);

static int proc_talk(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)n, (void)out;
    for (int k = 0; k < 3; k++) {
        pd_log(ctx, PD_WARNING, "plog %lld.%d", (long long)a[0].i, k);
        printf("pout %lld.%d\n", (long long)a[0].i, k);
        fprintf(stderr, "perr %lld.%d\n", (long long)a[0].i, k);
    }
    printf("pend %lld", (long long)a[0].i);
    return 0;
}
PD_TASK(proc_talk, .isolation = "process");

static int odd(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    static char big[5000];

    (void)a, (void)n, (void)out;
    memset(big, 'x', sizeof(big) - 1);
    printf("long %s\n", big);
    pd_log(ctx, PD_INFO, "two\nlines");
    pd_log(ctx, PD_DEBUG, "a debug line");
    /* Straight to fd 1, past stdio: forwarded under the rank alone. */
    if (write(STDOUT_FILENO, "direct\n", 7) != 7)
        return pd_fail(ctx, "write: fd 1 is not open");
    printf("no newline at the end");
    return 0;
}
PD_TASK(odd);

static int output(pd_flow *flow, const pd_params *params)
{
    long runs = pd_param_int(params, "runs", 6);
    long flood = pd_param_int(params, "flood", 0);

    for (long i = 0; i < runs; i++)
        pd_submit(flow, talk, pd_int(i), pd_int(flood));
    for (long i = 0; i < 2; i++)
        pd_submit(flow, proc_talk, pd_int(i));
    pd_submit(flow, odd);
    return pd_wait_all(flow);
}
PD_FLOW(output);
