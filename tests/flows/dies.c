/* A worker that dies or freezes mid-run: mode=segv (a crash in a thread
 * task), mode=exit (exit(3) in a task), mode=stop (the worker stops itself,
 * as kill -STOP would). Rank 0 must notice within the heartbeat, name the
 * rank, and end the run with exit code 3 instead of hanging. */
#include <pdask.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int work(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)ctx, (void)n, (void)out;
    if (a[0].i == 3) {
        if (strcmp(a[1].s, "exit") == 0)
            exit(3);
        raise(strcmp(a[1].s, "stop") == 0 ? SIGSTOP : SIGSEGV);
    }
    usleep(300 * 1000);
    return 0;
}
PD_TASK(work);

static int dies(pd_flow *flow, const pd_params *params)
{
    const char *mode = pd_param_str(params, "mode", "segv");
    for (int i = 0; i < 8; i++)
        pd_submit(flow, work, pd_int(i), pd_str(mode));
    return 0;
}
PD_FLOW(dies);
