/* A thread task that prints and then crashes its worker: what it printed
 * last still reaches the job's output (fwd_dump in the crash handler),
 * before the crash report. mode=exit calls exit() instead. */
#include <pdask.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int last(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)n, (void)out;
    pd_log(ctx, PD_WARNING, "about to go");
    fprintf(stderr, "last words of %s\n", pd_task_run_name(ctx));
    printf("unfinished line");
    if (strcmp(a[0].s, "exit") == 0)
        exit(5);
    fflush(stdout);
    raise(SIGSEGV);
    return 0;
}
PD_TASK(last);

static int lastwords(pd_flow *flow, const pd_params *params)
{
    pd_wait(pd_submit(flow, last,
                      pd_str(pd_param_str(params, "mode", "segv"))));
    return 0;
}
PD_FLOW(lastwords);
