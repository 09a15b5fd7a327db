/* params.c - parse key=value words and serve pd_param_*(). */
#include "params.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int params_parse(struct pd_params *p, int n, char *const *words, char *err,
                 size_t errlen)
{
    memset(p, 0, sizeof(*p));
    p->keys = pd__xcalloc((size_t)n, sizeof(char *));
    p->vals = pd__xcalloc((size_t)n, sizeof(char *));
    p->st = pd__xcalloc(1, sizeof(*p->st));
    p->st->used = pd__xcalloc((size_t)n, sizeof(bool));
    for (int i = 0; i < n; i++) {
        const char *w = words[i], *eq = strchr(w, '=');
        bool ok = eq && eq > w;

        for (const char *c = w; ok && c < eq; c++)
            ok = isalnum((unsigned char)*c) || *c == '_' || *c == '-' ||
                 *c == '.';
        if (!ok) {
            snprintf(err, errlen, "parameter '%s' is not key=value: write "
                     "flow parameters as name=value, e.g. "
                     "highest_number=10", w);
            params_free(p);
            return PD_EINVAL;
        }
        for (int j = 0; j < p->n; j++) {
            if (strncmp(p->keys[j], w, (size_t)(eq - w)) == 0 &&
                p->keys[j][eq - w] == '\0') {
                snprintf(err, errlen, "parameter '%.*s' is given twice; "
                         "give each parameter once", (int)(eq - w), w);
                params_free(p);
                return PD_EINVAL;
            }
        }
        p->keys[p->n] = pd__xmemdup(w, (size_t)(eq - w) + 1);
        p->keys[p->n][eq - w] = '\0';
        p->vals[p->n] = pd__xstrdup(eq + 1);
        p->n++;
    }
    return 0;
}

void params_free(struct pd_params *p)
{
    for (int i = 0; i < p->n; i++) {
        free(p->keys[i]);
        free(p->vals[i]);
    }
    free(p->keys);
    free(p->vals);
    if (p->st)
        free(p->st->used);
    free(p->st);
    memset(p, 0, sizeof(*p));
}

const char *params_unused(const struct pd_params *p, int *from)
{
    for (int i = *from; i < p->n; i++) {
        if (!p->st->used[i]) {
            *from = i + 1;
            return p->keys[i];
        }
    }
    *from = p->n;
    return NULL;
}

/* The value of key, or NULL; marks it read. */
static const char *lookup(const pd_params *p, const char *key)
{
    if (!p || !key)
        return NULL;
    for (int i = 0; i < p->n; i++) {
        if (strcmp(p->keys[i], key) == 0) {
            p->st->used[i] = true;
            return p->vals[i];
        }
    }
    return NULL;
}

static void bad_value(const pd_params *p, const char *key, const char *val,
                      const char *want, const char *example)
{
    if (!p->st->error[0])
        snprintf(p->st->error, sizeof(p->st->error),
                 "parameter %s=%s: not %s; pass e.g. %s=%s", key, val, want,
                 key, example);
    if (p->st->on_error)
        p->st->on_error();
}

PD_API int64_t pd_param_int(const pd_params *p, const char *key, int64_t def)
{
    const char *v = lookup(p, key);
    char *end;
    long long x;

    if (!v)
        return def;
    errno = 0;
    /* Base 10 only: "010" is ten and "0x1f" is not a number, as a user
     * typing decimal expects (base 0 made them 8 and 31). */
    x = strtoll(v, &end, 10);
    if (errno || end == v || *end) {
        bad_value(p, key, v, "an integer", "10");
        return def;
    }
    return (int64_t)x;
}

PD_API double pd_param_real(const pd_params *p, const char *key, double def)
{
    const char *v = lookup(p, key);
    char *end;
    double x;

    if (!v)
        return def;
    errno = 0;
    x = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(x)) {
        bad_value(p, key, v, "a number", "0.5");
        return def;
    }
    return x;
}

PD_API const char *pd_param_str(const pd_params *p, const char *key,
                                const char *def)
{
    const char *v = lookup(p, key);
    return v ? v : def;
}
