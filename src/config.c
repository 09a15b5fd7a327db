/* config.c - see config.h. The CONFIG_KEYS table is expanded for the
 * field table, the defaults and the parser, as inih's ini_xmacros does. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

enum type { STR, INT, REAL };

struct field {
    const char *section, *key;
    enum type type;
    size_t offset;
    const char *def_str;
    double def_num;
    double min, max;
};

#define DEF_STR_STR(d) d
#define DEF_STR_INT(d) NULL
#define DEF_STR_REAL(d) NULL
#define DEF_NUM_STR(d) 0
#define DEF_NUM_INT(d) d
#define DEF_NUM_REAL(d) d

static const struct field fields[CFG_COUNT] = {
#define CONFIG_FIELD(sec, k, field, type, def, min, max)                     \
    { #sec, #k, type, offsetof(struct config, field), DEF_STR_##type(def),   \
      DEF_NUM_##type(def), min, max },
    CONFIG_KEYS(CONFIG_FIELD)
#undef CONFIG_FIELD
};

static void *slot(struct config *c, int k)
{
    return (char *)c + fields[k].offset;
}

static const void *cslot(const struct config *c, int k)
{
    return (const char *)c + fields[k].offset;
}

void config_init(struct config *c)
{
    memset(c, 0, sizeof(*c));
    for (int k = 0; k < CFG_COUNT; k++) {
        const struct field *f = &fields[k];
        if (f->type == STR)
            *(char **)slot(c, k) = pd__xstrdup(f->def_str);
        else if (f->type == INT)
            *(long *)slot(c, k) = (long)f->def_num;
        else
            *(double *)slot(c, k) = f->def_num;
        snprintf(c->source[k], sizeof(c->source[k]), "default");
    }
}

void config_free(struct config *c)
{
    for (int k = 0; k < CFG_COUNT; k++)
        if (fields[k].type == STR)
            free(*(char **)slot(c, k));
    for (int i = 0; i < c->ntags; i++)
        free(c->tags[i].host);
    free(c->tags);
    memset(c, 0, sizeof(*c));
}

bool config_is_set(const struct config *c, enum config_key k)
{
    return strcmp(c->source[k], "default") != 0;
}

static int find(const char *section, const char *key)
{
    for (int k = 0; k < CFG_COUNT; k++)
        if (strcmp(fields[k].section, section) == 0 &&
            strcmp(fields[k].key, key) == 0)
            return k;
    return -1;
}

static bool known_section(const char *section)
{
    for (int k = 0; k < CFG_COUNT; k++)
        if (strcmp(fields[k].section, section) == 0)
            return true;
    return false;
}

int config_parse_resources(const char *s, char *err, size_t errlen)
{
    struct res_set set;
    return res_parse(s, RES_TAGS, &set, err, errlen);
}

/* [worker N] and [host NAME]: resource tags for one rank or one host.
 * 1 when section is one of those (err set on a bad one), 0 otherwise. */
static int set_tag_section(struct config *c, const char *section,
                           const char *key, const char *value,
                           const char *source, char *err, size_t errlen)
{
    struct cfg_tags t = { 0 };
    char *end, why[400];

    if (strncmp(section, "worker ", 7) == 0) {
        errno = 0;
        long r = strtol(section + 7, &end, 10);
        if (end == section + 7 || *end || errno || r < 1 || r > 1 << 20) {
            snprintf(err, errlen, "%s: [%s]: write [worker N] with N a "
                     "worker rank, 1 or more", source, section);
            return 1;
        }
        t.rank = (int)r;
    } else if (strncmp(section, "host ", 5) == 0 && section[5]) {
        t.host = pd__xstrdup(section + 5);
    } else {
        return 0;
    }
    if (strcmp(key, "resources") != 0) {
        snprintf(err, errlen, "%s: unknown key \"%s\" in [%s]; a [worker N] "
                 "or [host NAME] section takes resources = NAME=AMOUNT,...",
                 source, key, section);
    } else if (res_parse(value, RES_TAGS, &t.set, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s: [%s] %s", source, section, why);
    } else {
        snprintf(t.source, sizeof(t.source), "%s", source);
        c->tags = pd__xrealloc(c->tags, sizeof(*c->tags) *
                                            (size_t)(c->ntags + 1));
        c->tags[c->ntags++] = t;
        return 1;
    }
    free(t.host);
    return 1;
}

/* The cluster_class values: auto, mpi, spawn, or PATH.so:symbol. */
static bool valid_class(const char *v)
{
    const char *colon = strrchr(v, ':');
    return strcmp(v, "auto") == 0 || strcmp(v, "mpi") == 0 ||
           strcmp(v, "spawn") == 0 ||
           (colon && colon > v && colon[1] && strstr(v, ".so") &&
            strstr(v, ".so") < colon);
}

int config_set(struct config *c, const char *section, const char *key,
               const char *value, const char *source, char *err,
               size_t errlen)
{
    int k = find(section, key);
    const struct field *f;
    char *end;

    if (k < 0) {
        err[0] = '\0';
        if (set_tag_section(c, section, key, value, source, err, errlen))
            return err[0] ? PD_EINVAL : 0;
        if (!section[0])
            snprintf(err, errlen, "%s: key \"%s\" comes before any "
                     "[section]; put it under its section, e.g. "
                     "[cluster_kwargs] (see ini/pdask.ini)", source, key);
        else if (!known_section(section))
            snprintf(err, errlen, "%s: unknown section [%s]; the sections "
                     "are task_runner, cluster_kwargs, adapt_kwargs, "
                     "client_kwargs, logging, [worker N] and [host NAME] "
                     "(see ini/pdask.ini)",
                     source, section);
        else
            snprintf(err, errlen, "%s: unknown key \"%s\" in [%s]; see "
                     "ini/pdask.ini for the keys", source, key, section);
        return PD_EINVAL;
    }
    f = &fields[k];
    if (f->type == STR) {
        char why[400];
        if (k == CFG_resources &&
            config_parse_resources(value, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "%s: %s", source, why);
            return PD_EINVAL;
        }
        if (k == CFG_cluster_class && !valid_class(value)) {
            snprintf(err, errlen, "%s: cluster_class \"%s\" is not auto, "
                     "mpi, spawn or PATH.so:symbol", source, value);
            return PD_EINVAL;
        }
        if (k == CFG_isolation && strcmp(value, "thread") &&
            strcmp(value, "process")) {
            snprintf(err, errlen, "%s: isolation \"%s\" is not thread or "
                     "process", source, value);
            return PD_EINVAL;
        }
        if (k == CFG_task_output && strcmp(value, "forward") &&
            strcmp(value, "local")) {
            snprintf(err, errlen, "%s: task_output \"%s\" is not forward "
                     "or local", source, value);
            return PD_EINVAL;
        }
        if (k == CFG_log_level && strcmp(value, "debug") &&
            strcmp(value, "info") && strcmp(value, "warning") &&
            strcmp(value, "error")) {
            snprintf(err, errlen, "%s: level \"%s\" is not debug, info, "
                     "warning or error", source, value);
            return PD_EINVAL;
        }
        free(*(char **)slot(c, k));
        *(char **)slot(c, k) = pd__xstrdup(value);
    } else if (f->type == INT) {
        long lo = (long)f->min, hi = (long)f->max;
        errno = 0;
        long v = strtol(value, &end, 10);
        if (end == value || *end || (errno && errno != ERANGE)) {
            snprintf(err, errlen, "%s: %s = \"%s\" is not a whole number",
                     source, key, value);
            return PD_EINVAL;
        }
        if (v < lo) {
            snprintf(err, errlen, "%s: %s = %s is below its minimum %ld; "
                     "give %ld to %ld", source, key, value, lo, lo, hi);
            return PD_EINVAL;
        }
        if (v > hi) {
            snprintf(err, errlen, "%s: %s = %s is above its maximum %ld; "
                     "give %ld to %ld", source, key, value, hi, lo, hi);
            return PD_EINVAL;
        }
        *(long *)slot(c, k) = v;
    } else {
        errno = 0;
        double v = strtod(value, &end);
        if (end == value || *end || isnan(v)) {
            snprintf(err, errlen, "%s: %s = \"%s\" is not a number of "
                     "seconds", source, key, value);
            return PD_EINVAL;
        }
        if (v <= f->min &&
            !((k == CFG_progress_s || k == CFG_grace_s) && v == 0)) {
            snprintf(err, errlen, "%s: %s = %s must be above %.15g seconds; "
                     "give more than %.15g and at most %.15g", source, key,
                     value, f->min, f->min, f->max);
            return PD_EINVAL;
        }
        if (v > f->max) {
            snprintf(err, errlen, "%s: %s = %s is above its maximum %.15g "
                     "seconds; give more than %.15g and at most %.15g",
                     source, key, value, f->max, f->min, f->max);
            return PD_EINVAL;
        }
        *(double *)slot(c, k) = v;
    }
    snprintf(c->source[k], sizeof(c->source[k]), "%s", source);
    return 0;
}

const char *config_pick_file(const char *explicit_path)
{
    struct stat st;
    const char *env;

    if (explicit_path)
        return explicit_path;
    if (stat("pdask.ini", &st) == 0)
        return "pdask.ini";
    env = getenv("PDASK_CONFIG");
    return env && *env ? env : NULL;
}

/* A settings file is a few hundred bytes; more than this is not one
 * (and /dev/zero would otherwise be read forever). */
#define INI_MAX_BYTES (1L << 20)

struct ini_ctx {
    struct config *c;
    FILE *f;
    const char *path;
    char err[512];
    int line;             /* the line being parsed, counted by reader() */
    bool mid;             /* reader() stopped inside a line */
    int first[CFG_COUNT]; /* the line that first set each key, or 0 */
};

/* inih handler: nonzero means success (inih's convention, kept here). */
static int on_ini(void *user, const char *section, const char *key,
                  const char *value)
{
    struct ini_ctx *x = user;
    char source[300], err[512];
    int k = find(section, key);

    snprintf(source, sizeof(source), "%s:%d", x->path, x->line);
    if (config_set(x->c, section, key, value, source, err, sizeof(err))) {
        if (!x->err[0])
            snprintf(x->err, sizeof(x->err), "%s", err);
        return 0;
    }
    if (k < 0)
        return 1; /* a [worker N] or [host NAME] section: they add up */
    /* The last one wins, as in inih, but a repeat is often a mistake. */
    if (x->first[k] && log_first_rank())
        log_msg(PD_WARNING, "pdask-mpi", "%s: %s set again (first at line "
                "%d); using line %d", source, key, x->first[k], x->line);
    if (!x->first[k])
        x->first[k] = x->line;
    return 1;
}

/* ini_parse_stream reader that counts lines, so the handler knows where
 * it is (this libinih is built without INI_HANDLER_LINENO). */
static char *reader(char *str, int num, void *stream)
{
    struct ini_ctx *x = stream;
    char *r = fgets(str, num, x->f);
    size_t len;

    if (!r)
        return r;
    /* inih reads a long line in pieces: count the line once. */
    if (!x->mid)
        x->line++;
    len = strlen(r);
    x->mid = len > 0 && r[len - 1] != '\n';
    return r;
}

/* What inih would misread: a line longer than it reads whole, a NUL byte
 * (C strings end there, so the rest of the line would vanish), and a
 * section header without its ']' (inih keeps the previous section). */
static int check_lines(FILE *f, const char *path, char *err, size_t errlen)
{
    char *line = NULL, *nul;
    size_t cap = 0;
    ssize_t n;
    int no = 0, rc = PD_EINVAL;

    while ((n = getline(&line, &cap, f)) >= 0) {
        const char *p = line;
        no++;
        /* One line end, \n or \r\n: inih sees any other \r as text. inih
         * reads INI_MAX_LINE - 1 bytes at a time, the \r of a \r\n
         * included: count it against the limit, as inih would. */
        if (n > 0 && line[n - 1] == '\n')
            n--;
        bool cr = n > 0 && line[n - 1] == '\r';
        n -= cr;
        line[n] = '\0';
        if (n + cr > INI_MAX_LINE - 2) {
            snprintf(err, errlen, "%s:%d: line is %zd characters long, over "
                     "the limit of %d that inih reads whole: shorten it",
                     path, no, n, INI_MAX_LINE - 2);
            goto out;
        }
        if ((nul = memchr(line, '\0', (size_t)n))) {
            snprintf(err, errlen, "%s:%d: NUL byte at column %td: a "
                     "settings file is plain text; save it as such", path,
                     no, nul - line + 1);
            goto out;
        }
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '[' && !strchr(p, ']')) {
            snprintf(err, errlen, "%s:%d: section header \"%s\" is not "
                     "closed: write [name]", path, no, p);
            goto out;
        }
    }
    rc = 0;
out:
    free(line);
    rewind(f);
    return rc;
}

/* The file kinds a user might name by mistake, for the error message. */
static const char *kind(mode_t m)
{
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" :
           S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" :
           S_ISSOCK(m) ? "a socket" : "not a regular file";
}

/* Open path for reading if it is a regular file of sane size. A FIFO
 * would block open() and read(), a device would never end, and a
 * directory reads as an empty file: each is an error. */
static FILE *open_ini(const char *path, char *err, size_t errlen)
{
    struct stat st;
    FILE *f;
    int fd;

    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s; give an existing INI file with -c, "
                 "or see ini/ for samples", path, strerror(errno));
        return NULL;
    }
    /* O_NONBLOCK: should path become a FIFO after stat, open() does not
     * wait for a writer; fstat below then rejects it. */
    fd = S_ISREG(st.st_mode) ? open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
                             : -1;
    if (fd >= 0 && fstat(fd, &st) != 0) {
        close(fd);
        fd = -1;
    }
    if (fd < 0 && S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: %s; give a readable INI file with -c",
                 path, strerror(errno));
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        snprintf(err, errlen, "%s: is %s, not an INI file; give a settings "
                 "file with -c, or see ini/ for samples", path,
                 kind(st.st_mode));
        return NULL;
    }
    if (st.st_size > INI_MAX_BYTES) {
        close(fd);
        snprintf(err, errlen, "%s: %lld bytes, over the %ld-byte limit for "
                 "a settings file: is it the right file?", path,
                 (long long)st.st_size, INI_MAX_BYTES);
        return NULL;
    }
    f = fdopen(fd, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

int config_load_ini(struct config *c, const char *path, char *err,
                    size_t errlen)
{
    struct ini_ctx x = { .c = c, .path = path };
    FILE *f = open_ini(path, err, errlen);
    int rc;

    if (!f)
        return PD_EINVAL;
    if (check_lines(f, path, err, errlen) != 0) {
        fclose(f);
        return PD_EINVAL;
    }
    x.f = f;
    rc = ini_parse_stream(reader, &x, on_ini, &x);
    fclose(f);
    if (rc == 0)
        return 0;
    if (x.err[0])
        snprintf(err, errlen, "%s", x.err);
    else
        snprintf(err, errlen, "%s:%d: not an INI line: write key = value "
                 "under a [section]", path, rc);
    return PD_EINVAL;
}

int config_apply_flow(struct config *c, const struct pd_flow_def *def,
                      char *err, size_t errlen)
{
    char src[160], num[64];
    int rc = 0;

    snprintf(src, sizeof(src), "PD_FLOW(%s)", def->name);
#define SET_STR(sec, key, v)                                                 \
    if (!rc && (v))                                                          \
        rc = config_set(c, sec, key, v, src, err, errlen);
#define SET_NUM(sec, key, v, fmt)                                            \
    if (!rc && (v) > 0) {                                                    \
        snprintf(num, sizeof(num), fmt, v);                                  \
        rc = config_set(c, sec, key, num, src, err, errlen);                 \
    }
    SET_STR("task_runner", "address", def->address)
    SET_STR("task_runner", "cluster_class", def->cluster_class)
    SET_NUM("cluster_kwargs", "n_workers", def->n_workers, "%d")
    SET_NUM("cluster_kwargs", "threads_per_worker", def->threads_per_worker,
            "%d")
    SET_STR("cluster_kwargs", "resources", def->resources)
    SET_NUM("adapt_kwargs", "minimum", def->adapt_minimum, "%d")
    SET_NUM("adapt_kwargs", "maximum", def->adapt_maximum, "%d")
    SET_NUM("client_kwargs", "timeout", def->timeout_s, "%.17g")
#undef SET_STR
#undef SET_NUM
    return rc;
}

int config_validate(const struct config *c, char *err, size_t errlen)
{
    static const enum config_key cluster[] = {
        CFG_cluster_class, CFG_n_workers, CFG_threads_per_worker,
        CFG_resources, CFG_adapt_minimum, CFG_adapt_maximum,
    };

    if (c->address[0]) {
        for (size_t i = 0; i < ARRAY_SIZE(cluster); i++) {
            enum config_key k = cluster[i];
            if (!config_is_set(c, k))
                continue;
            snprintf(err, errlen, "%s: address is set (%s), so %s.%s (%s) "
                     "cannot be: a cluster at an address is sized where it "
                     "was started; remove one of the two",
                     c->source[CFG_address], c->address, fields[k].section,
                     fields[k].key, c->source[k]);
            return PD_EINVAL;
        }
    }
    if (c->adapt_maximum > 0 && c->adapt_minimum > c->adapt_maximum) {
        snprintf(err, errlen, "%s: adapt_kwargs minimum %ld is above maximum "
                 "%ld (%s)", c->source[CFG_adapt_minimum], c->adapt_minimum,
                 c->adapt_maximum, c->source[CFG_adapt_maximum]);
        return PD_EINVAL;
    }
    return 0;
}

void config_print(const struct config *c, FILE *out)
{
    for (int k = 0; k < CFG_COUNT; k++) {
        char val[256], name[80];
        const struct field *f = &fields[k];
        if (f->type == STR) {
            /* Escaped: a value must not forge a line of the table. */
            const char *str = *(char *const *)cslot(c, k);
            log_escape(val, sizeof(val), str, strlen(str));
        } else if (f->type == INT) {
            snprintf(val, sizeof(val), "%ld", *(const long *)cslot(c, k));
        } else {
            snprintf(val, sizeof(val), "%g", *(const double *)cslot(c, k));
        }
        snprintf(name, sizeof(name), "%s.%s", f->section, f->key);
        fprintf(out, "  %-34s = %-16s (%s)\n", name, val, c->source[k]);
    }
}

void config_get(const struct config *c, int k, char *name, size_t nlen,
                char *val, size_t vlen)
{
    const struct field *f = &fields[k];

    snprintf(name, nlen, "%s.%s", f->section, f->key);
    if (f->type == STR)
        snprintf(val, vlen, "%s", *(char *const *)cslot(c, k));
    else if (f->type == INT)
        snprintf(val, vlen, "%ld", *(const long *)cslot(c, k));
    else
        snprintf(val, vlen, "%g", *(const double *)cslot(c, k));
}
