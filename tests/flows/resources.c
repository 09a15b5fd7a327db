/* Resources that bind. Run with mpirun -n 4 -t 2 and tests/ini/gpu_ranks.ini
 * ([worker 1] GPU=1, [worker 2] GPU=1, rank 3 has none): two threads per
 * worker, so only the resources keep GPU runs apart.
 *   - two GPU=1 runs never overlap on a worker; each holds GPU=1, one id;
 *   - GPU=0.5 runs share one unit, two at a time;
 *   - runs without resources are not stuck behind GPU runs that wait;
 *   - among waiting GPU runs, the higher priority goes first;
 *   - GPU=4 and TPU=1 end Failed at once, saying what the workers have. */
#include <pdask.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int inuse, peak, seqno;  /* per worker process */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Holds the GPU for ms milliseconds; returns the most GPU runs it saw at
 * once on its worker, times 10, plus the GPU ids it holds as digits. */
static int train(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    int ids[4], k = pd_task_resource_ids(ctx, "GPU", ids, 4);
    int cur = atomic_fetch_add(&inuse, 1) + 1, p = atomic_load(&peak);
    char buf[64];

    while (cur > p && !atomic_compare_exchange_weak(&peak, &p, cur))
        ;
    usleep((useconds_t)(n ? a[0].i : 200) * 1000);
    snprintf(buf, sizeof(buf), "rank=%d peak=%d held=%g ids=%d:%d seq=%d",
             pd_task_rank(ctx), atomic_load(&peak),
             pd_task_resource(ctx, "GPU"), k, k ? ids[0] : -1,
             atomic_fetch_add(&seqno, 1));
    atomic_fetch_sub(&inuse, 1);
    pd_return_str(out, buf);
    return 0;
}
PD_TASK(train, .resources = "GPU=1");

static int half(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    return train(ctx, a, n, out);
}
PD_TASK(half, .resources = "GPU=0.5");

static int plain(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)ctx, (void)a, (void)n;
    pd_return_real(out, now());
    return 0;
}
PD_TASK(plain);

static int bad;

static const char *text(pd_future *f)
{
    pd_value v = { .kind = PD_NIL };
    if (pd_result(f, &v) != 0 || v.kind != PD_STR) {
        printf("MISMATCH %s did not complete: %s\n", pd_future_name(f),
               pd_message(f) ? pd_message(f) : "");
        bad++;
        return "";
    }
    return v.s;
}

static int resources(pd_flow *flow, const pd_params *params)
{
    pd_future *f[12];
    (void)params;

    /* 1. Exclusive: six GPU=1 runs on two one-GPU workers. */
    for (int i = 0; i < 6; i++)
        f[i] = pd_submit(flow, train, pd_int(150));
    for (int i = 0; i < 6; i++) {
        const char *s = text(f[i]);
        printf("exclusive %s\n", s);
        if (!strstr(s, "peak=1 ") || !strstr(s, "held=1 ids=1:0") ||
            strstr(s, "rank=3"))
            bad++, printf("MISMATCH exclusive: %s\n", s);
    }

    /* 2. Fractions: GPU=0.5 runs two at a time on one unit (rank 1 only
     * here, so the two share it). */
    PD_ANNOTATE(flow, .workers = "1") {
        for (int i = 0; i < 4; i++)
            f[i] = pd_submit(flow, half, pd_int(300));
    }
    int shared = 0, two = 0;
    for (int i = 0; i < 4; i++) {
        const char *s = text(f[i]);
        printf("fraction %s\n", s);
        shared += strstr(s, "held=0.5 ids=1:0") != NULL;
        two += strstr(s, "peak=2 ") != NULL;
    }
    if (shared != 4 || !two)
        bad++, printf("MISMATCH fractions: %d of 4 held 0.5 of GPU 0, %d "
                      "saw two at once\n", shared, two);

    /* 3. No head-of-line blocking: both GPUs busy for 0.8 s, a third GPU
     * run waits; plain runs behind it finish meanwhile. */
    f[0] = pd_submit(flow, train, pd_int(800));
    f[1] = pd_submit(flow, train, pd_int(800));
    f[2] = pd_submit(flow, train, pd_int(10));
    for (int i = 3; i < 11; i++)
        f[i] = pd_submit(flow, plain);
    for (int i = 3; i < 11; i++)
        pd_wait(f[i]);
    if (pd_state(f[2]) == PD_COMPLETED)
        bad++, printf("MISMATCH plain runs waited behind a GPU run\n");
    else
        printf("plain runs done while a GPU run waits\n");
    pd_wait_all(flow);

    /* 4. Priority among runs that wait for the GPU of rank 1. */
    PD_ANNOTATE(flow, .workers = "1") {
        f[0] = pd_submit(flow, train, pd_int(300)); /* holds it */
        usleep(100 * 1000);
        f[1] = pd_submit(flow, plain);
        f[2] = pd_submit(flow, train, pd_int(1));   /* priority 0 */
        PD_ANNOTATE(flow, .priority = 7)
            f[3] = pd_submit(flow, train, pd_int(1));
    }
    const char *low = strstr(text(f[2]), "seq="), *high = strstr(text(f[3]),
                                                                   "seq=");
    if (low && high && atoi(high + 4) < atoi(low + 4))
        printf("priority: the priority-7 GPU run went first\n");
    else
        bad++, printf("MISMATCH priority: %s before %s\n", low, high);

    /* 5. What nobody has fails at once, saying what the workers have. */
    PD_ANNOTATE(flow, .resources = "GPU=4")
        f[0] = pd_submit(flow, plain);
    PD_ANNOTATE(flow, .resources = "TPU=1")
        f[1] = pd_submit(flow, plain);
    for (int i = 0; i < 2; i++) {
        const char *m = pd_wait(f[i]) == PD_EFAILED ? pd_message(f[i]) : NULL;
        printf("impossible: %s\n", m ? m : "(completed?)");
        if (!m || !strstr(m, "no worker has that much"))
            bad++;
    }
    if (!bad)
        printf("resources checks passed\n");
    return bad;
}
PD_FLOW(resources);
