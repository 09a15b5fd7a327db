/* API misuse gets PD_EINVAL or a Failed future with a message, never a
 * crash or a hang; strings the API returns live as long as the flow. */
#include <pdask.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pd_flow *stolen;

static int one(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)ctx, (void)a, (void)n;
    pd_return_int(out, 1);
    return 0;
}
PD_TASK(one);

static int boom(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)a, (void)n, (void)out;
    return pd_fail(ctx, "boom");
}
PD_TASK(boom);

/* Tries to submit from inside a task, through a flow pointer it should
 * never have had. */
static int nested(pd_ctx *ctx, const pd_value *a, int n, pd_value *out)
{
    (void)a, (void)n;
    pd_future *f = pd_submit(stolen, one);
    if (pd_state(f) != PD_FAILED)
        return pd_fail(ctx, "nested submit did not fail");
    pd_return_str(out, pd_message(f));
    return 0;
}
PD_TASK(nested);

static int bad = 0;

#define EXPECT(cond)                                                         \
    do {                                                                     \
        if (!(cond)) {                                                       \
            printf("MISMATCH line %d: %s\n", __LINE__, #cond);               \
            bad++;                                                           \
        }                                                                    \
    } while (0)

static int misuse(pd_flow *flow, const pd_params *params)
{
    static uint64_t zeroed[32];  /* where a zeroed future would be */
    pd_future *zero = (pd_future *)(void *)zeroed;
    pd_value v;

    stolen = flow;
    EXPECT(pd_state(pd_submit(NULL, one)) == PD_FAILED);
    EXPECT(pd_wait(pd_submit(NULL, one)) == PD_EFAILED);
    EXPECT(pd_wait_all(NULL) == PD_EINVAL);
    pd_flow_log(NULL, PD_INFO, "not logged");
    EXPECT(pd_wait(NULL) == PD_EINVAL);
    EXPECT(pd_wait(zero) == PD_EINVAL);
    EXPECT(pd_result(zero, &v) == PD_EINVAL);
    EXPECT(pd_message(zero) == NULL);

    /* Names stay valid: asking for another does not overwrite the first. */
    pd_future *a = pd_submit(flow, one), *b = pd_submit(flow, one);
    const char *na = pd_future_name(a);
    EXPECT(strcmp(pd_future_name(b), "one-1") == 0);
    EXPECT(strcmp(na, "one-0") == 0);

    /* A future released before its dependent is submitted is refused at
     * once, whatever the timing. */
    EXPECT(pd_wait(a) == 0);
    pd_release(a);
    pd_future *late = pd_submit(flow, one, pd_dep(a));
    EXPECT(pd_wait(late) == PD_EFAILED);
    EXPECT(pd_message(late) && strstr(pd_message(late), "pd_release"));

    pd_future *n = pd_submit(flow, nested);
    EXPECT(pd_result(n, &v) == 0 && v.kind == PD_STR &&
           strstr(v.s, "nested submission is not supported"));

    if (pd_param_int(params, "big", 0)) {
        /* Arguments over 1 GiB in all are refused at submit. */
        size_t len = (size_t)600 << 20;
        char *p = calloc(1, len);
        pd_future *f = pd_submit(flow, one, pd_bytes(p, len),
                                 pd_bytes(p, len));
        EXPECT(pd_wait(f) == PD_EFAILED);
        EXPECT(pd_message(f) && strstr(pd_message(f), "over the limit"));
        free(p);
    }

    /* pd_wait_all gives the first error code. */
    pd_submit(flow, boom);
    EXPECT(pd_wait_all(flow) == PD_EFAILED);
    if (!bad)
        printf("misuse checks passed\n");
    return 0;
}
PD_FLOW(misuse);
