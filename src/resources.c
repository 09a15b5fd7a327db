/* resources.c - see resources.h. */
#include "resources.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "pdask.h"

static const char *skip_space(const char *p)
{
    while (isspace((unsigned char)*p))
        p++;
    return p;
}

int res_parse(const char *s, enum res_mode mode, struct res_set *out,
              char *err, size_t errlen)
{
    const char *p = skip_space(s);

    memset(out, 0, sizeof(*out));
    while (*p) {
        const char *name = p;
        char *end;
        int len;

        while (isalnum((unsigned char)*p) || *p == '_' || *p == '-')
            p++;
        len = (int)(p - name);
        p = skip_space(p);
        if (len == 0 || *p != '=') {
            snprintf(err, errlen, "resources \"%s\": expected NAME=AMOUNT "
                     "at \"%s\"; write e.g. GPU=1,MEM=4e9", s, name);
            return PD_EINVAL;
        }
        if (len >= RES_NAME_MAX) {
            snprintf(err, errlen, "resources \"%s\": the name %.*s is longer "
                     "than %d characters", s, len, name, RES_NAME_MAX - 1);
            return PD_EINVAL;
        }
        errno = 0;
        double v = strtod(p + 1, &end);
        if (end == p + 1 || errno || !isfinite(v) || v < 0 ||
            (v == 0 && mode == RES_REQUEST)) {
            snprintf(err, errlen, "resources \"%s\": the amount of %.*s is "
                     "not a %s number; write e.g. %.*s=1", s, len, name,
                     mode == RES_REQUEST ? "positive" : "non-negative", len,
                     name);
            return PD_EINVAL;
        }
        if (v > RES_AMOUNT_MAX || (v > 0 && v * RES_ONE < 1)) {
            snprintf(err, errlen, "resources \"%s\": the amount of %.*s is "
                     "out of range; give 0.000001 to %.0e", s, len, name,
                     RES_AMOUNT_MAX);
            return PD_EINVAL;
        }
        /* As in Ray: a run takes a fraction of one unit, or whole units. */
        if (mode == RES_REQUEST && v > 1 && v != floor(v)) {
            snprintf(err, errlen, "resources \"%s\": %.*s=%g: ask for less "
                     "than 1 (a share of one unit) or a whole number", s,
                     len, name, v);
            return PD_EINVAL;
        }
        char nm[RES_NAME_MAX];
        memcpy(nm, name, (size_t)len);
        nm[len] = '\0';
        if (res_find(out, nm) >= 0) {
            snprintf(err, errlen, "resources \"%s\": %s is given twice", s,
                     nm);
            return PD_EINVAL;
        }
        if (out->n == RES_MAX) {
            snprintf(err, errlen, "resources \"%s\": more than %d names", s,
                     RES_MAX);
            return PD_EINVAL;
        }
        snprintf(out->it[out->n].name, RES_NAME_MAX, "%s", nm);
        /* Whole amounts exactly, beyond double's 2^53 in millionths. */
        out->it[out->n++].amt = v == floor(v) ? (int64_t)v * RES_ONE
                                              : (int64_t)llround(v * RES_ONE);
        p = skip_space(end);
        if (*p == ',' && *skip_space(p + 1)) {
            p = skip_space(p + 1);
        } else if (*p) {
            snprintf(err, errlen, "resources \"%s\": expected ',' after "
                     "%.*s; write e.g. GPU=1,MEM=4e9", s,
                     (int)(p - name), name);
            return PD_EINVAL;
        }
    }
    return 0;
}

int res_find(const struct res_set *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->it[i].name, name) == 0)
            return i;
    return -1;
}

int res_set_put(struct res_set *s, const char *name, int64_t amt)
{
    int i = res_find(s, name);

    if (i >= 0) {
        if (amt)
            s->it[i].amt = amt;
        else
            s->it[i] = s->it[--s->n];
        return 0;
    }
    if (!amt)
        return 0;
    if (s->n == RES_MAX)
        return -1;
    snprintf(s->it[s->n].name, RES_NAME_MAX, "%s", name);
    s->it[s->n++].amt = amt;
    return 0;
}

void res_format_amount(int64_t amt, char *buf, size_t len)
{
    if (amt % RES_ONE == 0 && amt / RES_ONE < 10000000)
        snprintf(buf, len, "%lld", (long long)(amt / RES_ONE));
    else
        snprintf(buf, len, "%.6g", (double)amt / RES_ONE);
}

void res_format(const struct res_set *s, char *buf, size_t len)
{
    size_t used = 0;

    if (len)
        buf[0] = '\0';
    for (int i = 0; i < s->n && used < len; i++) {
        char a[32];
        res_format_amount(s->it[i].amt, a, sizeof(a));
        used += (size_t)snprintf(buf + used, len - used, "%s%s=%s",
                                 i ? "," : "", s->it[i].name, a);
    }
}

void res_pool_init(struct res_pool *p, const struct res_set *cap)
{
    memset(p, 0, sizeof(*p));
    p->cap = *cap;
    for (int i = 0; i < cap->n; i++) {
        int64_t a = cap->it[i].amt;
        if (a % RES_ONE == 0 && a / RES_ONE <= RES_UNITS_MAX)
            p->nunits[i] = (uint8_t)(a / RES_ONE);
    }
}

/* Whole free units of resource i, and the unit a fraction f would share
 * (the fullest that still has room: fractions pack), or -1. */
static int whole_free(const struct res_pool *p, int i)
{
    int n = 0;
    for (int k = 0; k < p->nunits[i]; k++)
        n += p->unit_used[i][k] == 0;
    return n;
}

static int share_unit(const struct res_pool *p, int i, int64_t f)
{
    int best = -1;
    for (int k = 0; k < p->nunits[i]; k++) {
        int64_t u = p->unit_used[i][k];
        if (u + f <= RES_ONE && (best < 0 || u > p->unit_used[i][best]))
            best = k;
    }
    return best;
}

/* Whether amt of resource i fits p, counting what is held (held) or not. */
static bool fits_one(const struct res_pool *p, int i, int64_t amt,
                     bool held)
{
    int64_t used = held ? p->used[i] : 0;

    if (used + amt > p->cap.it[i].amt)
        return false;
    if (!p->nunits[i] || !held)
        return !p->nunits[i] || amt < RES_ONE ||
               amt / RES_ONE <= p->nunits[i];
    if (amt < RES_ONE)
        return share_unit(p, i, amt) >= 0;
    return whole_free(p, i) >= amt / RES_ONE;
}

static bool fits(const struct res_pool *p, const struct res_set *req,
                 bool held)
{
    for (int r = 0; r < req->n; r++) {
        int i = res_find(&p->cap, req->it[r].name);
        if (i < 0 || !fits_one(p, i, req->it[r].amt, held))
            return false;
    }
    return true;
}

bool res_fits(const struct res_pool *p, const struct res_set *req)
{
    return fits(p, req, true);
}

bool res_could_fit(const struct res_pool *p, const struct res_set *req)
{
    return fits(p, req, false);
}

void res_take(struct res_pool *p, const struct res_set *req,
              struct res_hold *out)
{
    memset(out, 0, sizeof(*out));
    for (int r = 0; r < req->n; r++) {
        int i = res_find(&p->cap, req->it[r].name);
        int64_t amt = req->it[r].amt;
        uint64_t units = 0;

        if (i < 0)
            continue; /* res_fits said it fits: not reached */
        if (p->nunits[i] && amt < RES_ONE) {
            int k = share_unit(p, i, amt);
            if (k >= 0) {
                p->unit_used[i][k] += amt;
                units = 1ull << k;
            }
        } else if (p->nunits[i]) {
            int64_t want = amt / RES_ONE;
            for (int k = 0; k < p->nunits[i] && want; k++) {
                if (p->unit_used[i][k] == 0) {
                    p->unit_used[i][k] = RES_ONE;
                    units |= 1ull << k;
                    want--;
                }
            }
        }
        p->used[i] += amt;
        out->h[out->n].idx = (uint8_t)i;
        out->h[out->n].amt = amt;
        out->h[out->n].units = units;
        out->n++;
    }
}

void res_give(struct res_pool *p, const struct res_hold *h)
{
    for (int j = 0; j < h->n; j++) {
        int i = h->h[j].idx;
        int64_t amt = h->h[j].amt;
        uint64_t units = h->h[j].units;

        p->used[i] -= amt;
        if (!units)
            continue;
        if (amt < RES_ONE) {
            p->unit_used[i][__builtin_ctzll(units)] -= amt;
        } else {
            for (int k = 0; k < p->nunits[i]; k++)
                if (units >> k & 1)
                    p->unit_used[i][k] = 0;
        }
    }
}

void res_split(int n, int index, int of, int *first, int *count)
{
    int per = of > 0 ? n / of : n, rem = of > 0 ? n % of : 0;

    *first = index * per + (index < rem ? index : rem);
    *count = per + (index < rem);
}

/* Lay set over t, each name with its source; NAME=0 removes NAME. */
static void overlay(struct res_tags *t, const struct res_set *set,
                    const char *source)
{
    for (int i = 0; i < set->n; i++) {
        int k = res_find(&t->set, set->it[i].name);
        if (set->it[i].amt == 0) {
            if (k >= 0 && k != t->set.n - 1)
                memcpy(t->source[k], t->source[t->set.n - 1],
                       sizeof(t->source[k]));
            res_set_put(&t->set, set->it[i].name, 0);
            continue;
        }
        if (res_set_put(&t->set, set->it[i].name, set->it[i].amt) != 0)
            continue; /* full: RES_MAX names */
        k = res_find(&t->set, set->it[i].name);
        snprintf(t->source[k], sizeof(t->source[k]), "%s", source);
    }
}

void res_worker_tags(struct res_tags *t, const struct res_found *f,
                     const struct config *c, int rank, const char *host)
{
    struct res_set found = { 0 }, cl;
    char err[8];

    memset(t, 0, sizeof(*t));
    if (f->cpus > 0)
        res_set_put(&found, "CPU", (int64_t)f->cpus * RES_ONE);
    if (f->mem > 0 && f->mem < RES_AMOUNT_MAX)
        res_set_put(&found, "MEM", (int64_t)f->mem * RES_ONE);
    if (f->gpus > 0)
        res_set_put(&found, "GPU", (int64_t)f->gpus * RES_ONE);
    overlay(t, &found, "hwloc");
    if (c->resources && *c->resources &&
        res_parse(c->resources, RES_TAGS, &cl, err, sizeof(err)) == 0)
        overlay(t, &cl, c->source[CFG_resources]);
    for (int i = 0; i < c->ntags; i++)
        if (c->tags[i].host && host && strcmp(c->tags[i].host, host) == 0)
            overlay(t, &c->tags[i].set, c->tags[i].source);
    for (int i = 0; i < c->ntags; i++)
        if (!c->tags[i].host && c->tags[i].rank == rank)
            overlay(t, &c->tags[i].set, c->tags[i].source);
}

