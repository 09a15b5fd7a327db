/* taskrun.c - see taskrun.h. The public task-context calls of pdask.h
 * (pd_return_*, pd_fail, pd_log, pd_task_*) live here, and so does the
 * thread executor of exec.h. */
#include "taskrun.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "fwd.h"
#include "log.h"
#include "resources.h"
#include "util.h"

/* The context a task function sees. */
struct pd_ctx {
    const struct taskrun_req *req;
    bool failed;
    char *fail_msg;
};

/* Where pd_return_* put a result: container_of(out) leads here. */
struct out_slot {
    pd_value v;
    void *owned;
};

PD_API void pd_return_int(pd_value *out, int64_t i)
{
    *out = pd_int(i);
}

PD_API void pd_return_real(pd_value *out, double r)
{
    *out = pd_real(r);
}

static void return_copy(pd_value *out, enum pd_kind kind, const void *p,
                        size_t len)
{
    struct out_slot *slot = container_of(out, struct out_slot, v);
    void *copy = pd__xmalloc(len + 1);

    if (len)
        memcpy(copy, p, len);
    ((char *)copy)[len] = '\0';
    free(slot->owned);
    slot->owned = copy;
    out->kind = kind;
    out->len = len;
    out->b = copy;
}

PD_API void pd_return_str(pd_value *out, const char *s)
{
    s = s ? s : "";
    return_copy(out, PD_STR, s, strlen(s));
}

PD_API void pd_return_bytes(pd_value *out, const void *b, size_t len)
{
    return_copy(out, PD_BYTES, b, len);
}

/* A malloc'd message from fmt, cut at 1 KiB. */
static char *vmessage(const char *fmt, va_list ap)
{
    char buf[1024];

    vsnprintf(buf, sizeof(buf), fmt, ap);
    return pd__xstrdup(buf);
}

PD_API int pd_fail(pd_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    free(ctx->fail_msg);
    ctx->fail_msg = vmessage(fmt, ap);
    va_end(ap);
    ctx->failed = true;
    return PD_EFAILED;
}

PD_API void pd_log(pd_ctx *ctx, enum pd_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* On a worker that forwards output, the line goes to rank 0. */
    if (fwd_framing())
        fwd_vlog(level, ctx->req->name, fmt, ap);
    else
        log_vmsg(level, ctx->req->name, fmt, ap);
    va_end(ap);
}

PD_API int pd_task_rank(const pd_ctx *ctx)
{
    return ctx->req->rank;
}

PD_API const char *pd_task_run_name(const pd_ctx *ctx)
{
    /* Without a served cluster's flow run id ("3/shout-4", worker.c). */
    const char *slash = strchr(ctx->req->name, '/');
    return slash ? slash + 1 : ctx->req->name;
}

PD_API int pd_task_attempt(const pd_ctx *ctx)
{
    return ctx->req->attempt;
}

void taskrun_set(struct taskrun_out *out, enum pd_state state,
                 const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    free(out->message);
    out->message = vmessage(fmt, ap);
    va_end(ap);
    out->state = state;
    out->result.len = 0;
}

/* The hold of resource name in req, into h: true when it holds some. */
static bool find_hold(const struct taskrun_req *req, const char *name,
                      struct proto_hold *h)
{
    struct rd r;
    uint32_t n;

    if (!req->holds || !name)
        return false;
    r = rd_init(req->holds, req->holdslen);
    if (proto_get_holds_count(&r, &n) != 0)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        if (proto_get_hold(&r, h) != 0)
            return false;
        if (strcmp(h->name, name) == 0)
            return true;
    }
    return false;
}

/* The ids of h's units: device numbers for hwloc's GPUs. */
static int hold_ids(const struct taskrun_req *req, const struct proto_hold *h,
                    int *ids, int n)
{
    int k = 0;
    bool gpu = strcmp(h->name, "GPU") == 0;

    for (int u = 0; u < 64; u++) {
        if (!(h->units >> u & 1))
            continue;
        if (k < n && ids)
            ids[k] = gpu && u < req->gpu_found ? req->gpu_first + u : u;
        k++;
    }
    return k;
}

PD_API double pd_task_resource(const pd_ctx *ctx, const char *name)
{
    struct proto_hold h;

    if (!ctx || !find_hold(ctx->req, name, &h))
        return 0;
    return (double)h.amt / RES_ONE;
}

PD_API int pd_task_resource_ids(const pd_ctx *ctx, const char *name, int *ids,
                                int n)
{
    struct proto_hold h;

    if (!ctx || !find_hold(ctx->req, name, &h))
        return 0;
    return hold_ids(ctx->req, &h, ids, n);
}

void taskrun_gpu_list(const struct taskrun_req *req, char *buf, size_t len)
{
    struct proto_hold h;
    int ids[64], n;
    size_t used = 0;

    buf[0] = '\0';
    if (!find_hold(req, "GPU", &h))
        return;
    n = hold_ids(req, &h, ids, 64);
    for (int i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%d",
                                 i ? "," : "", ids[i]);
}

int taskrun_attempt(const struct taskrun_req *req, struct taskrun_out *out)
{
    struct pd_ctx ctx = { .req = req };
    struct out_slot slot = { .v = { .kind = PD_NIL } };
    double t0 = pd__now();
    int rc, prc;

    free(out->message);
    out->message = NULL;
    out->result.len = 0;
    out->state = PD_COMPLETED;
    rc = req->def->fn(&ctx, req->args, req->nargs, &slot.v);
    out->runtime_s = pd__now() - t0;
    if (rc == 0 && !ctx.failed && req->timeout_s > 0 &&
        out->runtime_s > req->timeout_s) {
        taskrun_set(out, PD_FAILED, "timed out: ran %.3f s, over its "
                    "timeout_s of %g s", out->runtime_s, req->timeout_s);
    } else if (rc != 0 || ctx.failed) {
        if (ctx.fail_msg) {
            out->state = PD_FAILED;
            out->message = ctx.fail_msg;
            ctx.fail_msg = NULL;
        } else {
            taskrun_set(out, PD_FAILED, "task returned %d", rc);
        }
    } else {
        prc = proto_put_value(&out->result, &slot.v, 0);
        if (prc || slot.v.kind == PD_FUTURE)
            taskrun_set(out, PD_FAILED, "invalid result (kind %d): %s; set "
                        "it with pd_return_*()", (int)slot.v.kind,
                        pd_strerror(prc ? prc : PD_EINVAL));
    }
    free(ctx.fail_msg);
    free(slot.owned);
    return out->state == PD_COMPLETED ? 0 : PD_EFAILED;
}

void taskrun_out_free(struct taskrun_out *out)
{
    if (!out)
        return;
    buf_free(&out->result);
    free(out->message);
    memset(out, 0, sizeof(*out));
}

/* The thread executor: the attempt runs on the caller's thread. */
static int thread_attempt(struct executor *ex, const struct exec_req *req,
                          struct taskrun_out *out)
{
    (void)ex;
    return taskrun_attempt(&req->run, out);
}

static void thread_destroy(struct executor *ex)
{
    (void)ex;
}

struct executor *exec_thread(void)
{
    static const struct executor_ops ops = { thread_attempt, thread_destroy };
    static struct executor ex = { &ops };
    return &ex;
}
