/* Every worker rank gets work: runs=R task runs of 0.1 s each return the
 * rank that ran them, and the flow checks that each rank 1..workers ran at
 * least one and no other rank did. Pass workers=N, the worker count the
 * test starts (mpirun -n N+1, or -n N for a temporary cluster). */
#include <pdask.h>
#include <stdio.h>
#include <unistd.h>

#define MAX_RANKS 64

static int where(pd_ctx *ctx, const pd_value *args, int nargs, pd_value *out)
{
    (void)args, (void)nargs;
    usleep(100 * 1000);
    pd_return_int(out, pd_task_rank(ctx));
    return 0;
}
PD_TASK(where);

static int spread(pd_flow *flow, const pd_params *params)
{
    long workers = pd_param_int(params, "workers", 2);
    long runs = pd_param_int(params, "runs", 24);
    pd_future *f[256];
    int ran[MAX_RANKS] = { 0 }, bad = 0, distinct = 0;
    char list[512] = "";
    size_t len = 0;
    pd_value v = { .kind = PD_NIL };

    if (workers < 1 || workers >= MAX_RANKS || runs < 1 || runs > 256) {
        pd_flow_log(flow, PD_ERROR, "CHECK workers=%ld runs=%ld out of range",
                    workers, runs);
        return 1;
    }
    for (long i = 0; i < runs; i++)
        f[i] = pd_submit(flow, where, pd_int(i));
    for (long i = 0; i < runs; i++) {
        if (pd_result(f[i], &v) || v.kind != PD_INT || v.i < 1 ||
            v.i > workers) {
            pd_flow_log(flow, PD_ERROR, "CHECK %s ran on rank %lld, not "
                        "on a worker rank 1..%ld", pd_future_name(f[i]),
                        (long long)v.i, workers);
            bad = 1;
            continue;
        }
        ran[v.i]++;
    }
    for (long r = 1; r <= workers; r++) {
        if (!ran[r]) {
            pd_flow_log(flow, PD_ERROR, "CHECK worker rank %ld ran none of "
                        "the %ld task runs", r, runs);
            bad = 1;
            continue;
        }
        distinct++;
        len += (size_t)snprintf(list + len, sizeof(list) - len, " %ld", r);
    }
    pd_flow_log(flow, PD_INFO, "task runs ran on %d distinct worker ranks:%s",
                distinct, list);
    pd_flow_log(flow, PD_INFO, "spread checks %s", bad ? "FAILED" : "passed");
    return bad;
}
PD_FLOW(spread);
