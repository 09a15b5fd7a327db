/* protocol.c - see protocol.h. */
#include "protocol.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* One value must fit a message with its task header around it. */
#define MAX_PAYLOAD ((uint64_t)PROTO_MAX_MSG - 256)

void buf_reserve(struct buf *b, size_t extra)
{
    size_t need = b->len + extra;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    b->data = pd__xrealloc(b->data, cap);
    b->cap = cap;
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_put(struct buf *b, const void *p, size_t n)
{
    if (!n)
        return;
    buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* u32 length, the bytes, and a NUL so readers can borrow it as a C string. */
void buf_str(struct buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    buf_u32(b, (uint32_t)n);
    buf_put(b, s ? s : "", n);
    buf_u8(b, 0);
}

void buf_fmt(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    buf_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const void *rd_take(struct rd *r, size_t n)
{
    const uint8_t *p = r->p;
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return NULL;
    }
    r->p += n;
    return p;
}

uint8_t rd_u8(struct rd *r)
{
    const uint8_t *p = rd_take(r, 1);
    return p ? *p : 0;
}

uint32_t rd_u32(struct rd *r)
{
    uint32_t v = 0;
    const void *p = rd_take(r, 4);
    if (p)
        memcpy(&v, p, 4);
    return v;
}

uint64_t rd_u64(struct rd *r)
{
    uint64_t v = 0;
    const void *p = rd_take(r, 8);
    if (p)
        memcpy(&v, p, 8);
    return v;
}

const char *rd_str(struct rd *r)
{
    uint32_t n = rd_u32(r);
    const char *s = rd_take(r, (size_t)n + 1);
    if (s && s[n] != '\0') {
        r->bad = true;
        return NULL;
    }
    return s;
}

int proto_put_value(struct buf *b, const pd_value *v, uint64_t upstream_id)
{
    size_t n;

    switch (v->kind) {
    case PD_NIL:
        buf_u8(b, PD_NIL);
        return 0;
    case PD_INT:
    case PD_REAL:
        buf_reserve(b, 9);
        buf_u8(b, (uint8_t)v->kind);
        buf_put(b, &v->i, 8); /* same 8 bytes for i and r */
        return 0;
    case PD_STR:
    case PD_BYTES:
        n = v->kind == PD_STR ? strlen(v->s ? v->s : "") : v->len;
        if (n > MAX_PAYLOAD)
            return PD_ETOOBIG;
        if (n && v->kind == PD_BYTES && !v->b)
            return PD_EINVAL;
        buf_reserve(b, n + 6);
        buf_u8(b, (uint8_t)v->kind);
        buf_u32(b, (uint32_t)n);
        if (n)
            buf_put(b, v->kind == PD_STR ? (const void *)v->s : v->b, n);
        if (v->kind == PD_STR)
            buf_u8(b, 0);
        return 0;
    case PD_FUTURE:
        buf_u8(b, WIRE_FUTURE);
        buf_u64(b, upstream_id);
        return 0;
    default:
        return PD_EINVAL;
    }
}

void proto_put_ref(struct buf *b, const struct proto_ref *ref)
{
    buf_u8(b, WIRE_REF);
    buf_u64(b, ref->id);
    buf_u32(b, ref->worker);
    buf_u32(b, ref->seq);
}

int proto_get_value(struct rd *r, pd_value *v, uint64_t *id, int32_t *worker)
{
    struct proto_ref ref = { 0 };
    int rc = proto_get_value_ref(r, v, &ref);

    if ((int)v->kind == WIRE_FUTURE || (int)v->kind == WIRE_REF) {
        *id = ref.id;
        *worker = (int32_t)ref.worker;
    }
    return rc;
}

int proto_get_value_ref(struct rd *r, pd_value *v, struct proto_ref *ref)
{
    uint8_t kind = rd_u8(r);
    const void *p;
    uint32_t n;

    memset(v, 0, sizeof(*v));
    v->kind = (enum pd_kind)kind;
    switch (kind) {
    case PD_NIL:
        break;
    case PD_INT:
    case PD_REAL:
        p = rd_take(r, 8);
        if (p)
            memcpy(&v->i, p, 8);
        break;
    case PD_STR:
    case PD_BYTES:
        n = rd_u32(r);
        v->len = n;
        p = rd_take(r, (size_t)n + (kind == PD_STR));
        if (kind == PD_STR) {
            v->s = p;
            /* len is strlen(s) (pdask.h): no NUL inside, one after. */
            if (p && (v->s[n] != '\0' || memchr(p, '\0', n)))
                r->bad = true;
        } else {
            v->b = p;
        }
        break;
    case WIRE_FUTURE:
        ref->id = rd_u64(r);
        break;
    case WIRE_REF:
        ref->id = rd_u64(r);
        ref->worker = rd_u32(r);
        ref->seq = rd_u32(r);
        break;
    default:
        r->bad = true;
    }
    return r->bad ? PD_EINVAL : 0;
}

void proto_begin(struct buf *b)
{
    b->len = 0;
    buf_u32(b, 0);
}

void proto_set_count(struct buf *b, uint32_t count)
{
    memcpy(b->data, &count, 4);
}

uint32_t proto_get_count(struct rd *r)
{
    return rd_u32(r);
}

void proto_put_task(struct buf *b, const struct proto_task *t)
{
    buf_reserve(b, 40 + t->argslen);
    buf_u32(b, t->run);
    buf_u32(b, (uint32_t)t->priority);
    buf_u32(b, (uint32_t)t->retries);
    buf_u64(b, t->id);
    buf_u32(b, t->def);
    buf_u32(b, t->seq);
    buf_u32(b, t->flags);
    buf_u32(b, t->nargs);
    buf_u32(b, t->argslen);
    buf_put(b, t->args, t->argslen);
    if (t->flags & TASK_HOLDS) {
        buf_u32(b, t->holdslen);
        buf_put(b, t->holds, t->holdslen);
    }
}

int proto_get_holds_count(struct rd *r, uint32_t *n)
{
    *n = rd_u8(r);
    return r->bad ? PD_EINVAL : 0;
}

int proto_get_hold(struct rd *r, struct proto_hold *h)
{
    const char *name = rd_str(r);

    h->name = name && !r->bad ? name : "";
    h->amt = (int64_t)rd_u64(r);
    h->units = rd_u64(r);
    if (h->amt < 0)
        r->bad = true;
    return r->bad ? PD_EINVAL : 0;
}

int proto_get_task(struct rd *r, struct proto_task *t)
{
    t->run = rd_u32(r);
    t->priority = (int32_t)rd_u32(r);
    t->retries = (int32_t)rd_u32(r);
    t->id = rd_u64(r);
    t->def = rd_u32(r);
    t->seq = rd_u32(r);
    t->flags = rd_u32(r);
    t->nargs = rd_u32(r);
    t->argslen = rd_u32(r);
    t->args = rd_take(r, t->argslen);
    t->holdslen = 0;
    t->holds = NULL;
    if (t->flags & TASK_HOLDS) {
        t->holdslen = rd_u32(r);
        t->holds = rd_take(r, t->holdslen);
    }
    /* Every value takes a byte at least: refuse before anyone allocates
     * nargs of anything. */
    if (t->nargs > t->argslen)
        r->bad = true;
    return r->bad ? PD_EINVAL : 0;
}

void proto_put_done(struct buf *b, const struct proto_done *d)
{
    buf_reserve(b, 57 + (proto_done_inline(d) ? d->size : 0));
    buf_u32(b, d->run);
    buf_u64(b, d->id);
    buf_u8(b, d->state);
    buf_u8(b, d->attempts);
    buf_u8(b, d->flags);
    buf_u32(b, d->thread);
    buf_u64(b, d->start_us);
    buf_u64(b, d->end_us);
    buf_u32(b, d->runtime_us);
    buf_u64(b, d->size);
    if (proto_done_inline(d))
        buf_put(b, d->inline_v, d->size);
    if (d->state != PD_COMPLETED)
        buf_str(b, d->message);
}

int proto_get_done(struct rd *r, struct proto_done *d)
{
    d->run = rd_u32(r);
    d->id = rd_u64(r);
    d->state = rd_u8(r);
    d->attempts = rd_u8(r);
    d->flags = rd_u8(r);
    d->thread = rd_u32(r);
    d->start_us = rd_u64(r);
    d->end_us = rd_u64(r);
    d->runtime_us = rd_u32(r);
    d->size = rd_u64(r);
    d->inline_v = NULL;
    d->message = NULL;
    if (proto_done_inline(d) && d->size <= PROTO_MAX_MSG)
        d->inline_v = rd_take(r, d->size);
    else if (proto_done_inline(d))
        r->bad = true;
    if (d->state != PD_COMPLETED)
        d->message = rd_str(r);
    /* A report ends a run: only a final state is one. */
    if (d->state < PD_COMPLETED || d->state > PD_CANCELLED)
        r->bad = true;
    return r->bad ? PD_EINVAL : 0;
}

void proto_put_fetch(struct buf *b, const struct proto_fetch *f)
{
    buf_u32(b, f->run);
    buf_u64(b, f->id);
    buf_u32(b, f->seq);
    buf_u64(b, f->cookie);
    buf_u32(b, f->slot);
}

int proto_get_fetch(struct rd *r, struct proto_fetch *f)
{
    f->run = rd_u32(r);
    f->id = rd_u64(r);
    f->seq = rd_u32(r);
    f->cookie = rd_u64(r);
    f->slot = rd_u32(r);
    return r->bad ? PD_EINVAL : 0;
}

void proto_put_free(struct buf *b, uint32_t run, uint64_t id)
{
    buf_u32(b, run);
    buf_u64(b, id);
}

int proto_get_free(struct rd *r, uint32_t *run, uint64_t *id)
{
    *run = rd_u32(r);
    *id = rd_u64(r);
    return r->bad ? PD_EINVAL : 0;
}

void proto_put_data_head(struct buf *b, const struct proto_data *d)
{
    proto_put_fetch(b, &d->f);
    buf_u8(b, d->code);
    if (d->code != DATA_OK)
        buf_str(b, d->err);
    else
        buf_u64(b, d->len);
}

void proto_put_data(struct buf *b, const struct proto_data *d)
{
    proto_put_data_head(b, d);
    if (d->code == DATA_OK)
        buf_put(b, d->packed, d->len);
}

int proto_get_data(struct rd *r, struct proto_data *d)
{
    proto_get_fetch(r, &d->f);
    d->packed = NULL;
    d->len = 0;
    d->err = NULL;
    d->code = rd_u8(r);
    if (d->code == DATA_OK) {
        d->len = rd_u64(r);
        d->packed = rd_take(r, d->len);
    } else {
        d->err = rd_str(r);
    }
    return r->bad ? PD_EINVAL : 0;
}

void proto_put_log(struct buf *b, const struct proto_log *l)
{
    buf_u8(b, l->kind);
    buf_str(b, l->run);
    buf_str(b, l->text);
}

int proto_get_log(struct rd *r, struct proto_log *l)
{
    l->kind = rd_u8(r);
    l->run = rd_str(r);
    l->text = rd_str(r);
    if (l->kind > LOG_OUTPUT)
        r->bad = true;
    return r->bad ? PD_EINVAL : 0;
}
