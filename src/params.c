/* params.c - parse key=value words and serve pd_param_*(). */
#include "params.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

/* A parameter file holds one value; beyond this it is the wrong file. */
#define PARAM_MAX_FILE (16L << 20)  /* 16 MiB */

/* The value of key=@path: the file's text without its final newline.
 * NULL, with a message in err, when path is not a readable regular file
 * of at most PARAM_MAX_FILE bytes without NUL bytes. */
static char *read_value(const char *key, const char *path, char *err,
                        size_t errlen)
{
    const char *why = NULL;
    struct stat st;
    FILE *f = NULL;
    char *buf;
    size_t n;

    /* stat before fopen, which would block on a FIFO. */
    if (!*path)
        why = "no file named after @";
    else if (stat(path, &st) != 0)
        why = strerror(errno);
    else if (!S_ISREG(st.st_mode))
        why = "not a regular file";
    else if (st.st_size > PARAM_MAX_FILE)
        why = "over the 16 MiB limit";
    else if (!(f = fopen(path, "r")))
        why = strerror(errno);
    if (why) {
        snprintf(err, errlen, "parameter %s=@%s: cannot read the value "
                 "from \"%s\": %s; name a readable file of at most 16 MiB, "
                 "or write %s=@@... for a value that starts with @", key,
                 path, path, why, key);
        return NULL;
    }
    buf = pd__xmalloc((size_t)st.st_size + 1);
    n = fread(buf, 1, (size_t)st.st_size, f);
    why = ferror(f) ? strerror(errno)
          : memchr(buf, '\0', n) ? "it has a NUL byte" : NULL;
    fclose(f);
    if (why) {
        snprintf(err, errlen, "parameter %s=@%s: cannot read the value: %s; "
                 "a parameter value is text", key, path, why);
        free(buf);
        return NULL;
    }
    if (n > 0 && buf[n - 1] == '\n')
        n -= n > 1 && buf[n - 2] == '\r' ? 2 : 1;
    buf[n] = '\0';
    return buf;
}

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
        /* key=@FILE: the value is in FILE (for values longer than an
         * argument may be); key=@@x is the literal @x. */
        if (eq[1] == '@' && eq[2] != '@') {
            p->vals[p->n] = read_value(p->keys[p->n], eq + 2, err, errlen);
            if (!p->vals[p->n]) {
                free(p->keys[p->n]);
                params_free(p);
                return PD_EINVAL;
            }
        } else {
            p->vals[p->n] = pd__xstrdup(eq + 1 + (eq[1] == '@'));
        }
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
