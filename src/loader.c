/* loader.c - see loader.h. PD_TASK/PD_FLOW constructors run inside dlopen
 * and cannot be handed a context: they register into the module being
 * loaded, which this thread names in `loading` while it holds `mu`. */
#include "loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "flow.h"
#include "log.h"
#include "resources.h"
#include "util.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER; /* guards `opened` */
static struct module *opened;            /* modules with refs > 0 */
static __thread struct module *loading; /* set during this thread's dlopen */

static size_t fn_hash(pd_task_fn *fn)
{
    uintptr_t x = (uintptr_t)fn;
    x ^= x >> 17;
    x *= (uintptr_t)0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 7);
}

static void index_rebuild(struct module *m)
{
    free(m->slots);
    m->nslots = 16;
    while (m->nslots < (size_t)m->ntasks * 2)
        m->nslots *= 2;
    m->slots = pd__xcalloc(m->nslots, sizeof(int));
    for (int i = 0; i < m->ntasks; i++) {
        size_t h = fn_hash(m->tasks[i]->fn) & (m->nslots - 1);
        while (m->slots[h])
            h = (h + 1) & (m->nslots - 1);
        m->slots[h] = i + 1;
    }
}

static void reg_error(struct module *m, const char *what, const char *name,
                      int abi)
{
    if (m->error[0])
        return;
    if (abi != PD_ABI_VERSION)
        snprintf(m->error, sizeof(m->error),
                 "%s '%s' was built against pdask.h ABI %d, this pdask-mpi "
                 "has ABI %d: rebuild the flow with this version's pdask.h",
                 what, name, abi, PD_ABI_VERSION);
    else
        snprintf(m->error, sizeof(m->error),
                 "%s name '%s' is declared twice: give each PD_%s function "
                 "its own name",
                 what, name, what[0] == 't' ? "TASK" : "FLOW");
}

struct module *loader_new_module(const char *name)
{
    static _Atomic uint64_t serials;
    struct module *m = pd__xcalloc(1, sizeof(*m));
    m->path = pd__xstrdup(name);
    m->refs = 1;
    m->serial = atomic_fetch_add(&serials, 1) + 1;
    return m;
}

void loader_add_task(struct module *m, const struct pd_task_def *def)
{
    if (m->ntasks == m->tcap) {
        m->tcap = m->tcap ? m->tcap * 2 : 16;
        m->tasks = pd__xrealloc(m->tasks, sizeof(*m->tasks) * m->tcap);
    }
    m->tasks[m->ntasks++] = def;
    index_rebuild(m);
}

/* Only a module being loaded can take registrations. */
static struct module *registering(const char *what, const char *name)
{
    if (!loading)
        log_error("PD_%s(%s) ran outside of a flow being loaded by "
                  "pdask-mpi: declare tasks and flows in the flow's .so",
                  what, name);
    return loading;
}

/* A task's .workers and .resources parse, or the module says why. */
static bool check_task_strings(struct module *m, const struct pd_task_def *def)
{
    char why[400] = "";
    struct res_set set;
    int *ranks = NULL, n;

    if (def->workers)
        flow_parse_workers(def->workers, &ranks, &n, why, sizeof(why));
    free(ranks);
    if (!why[0] && def->resources)
        res_parse(def->resources, RES_REQUEST, &set, why, sizeof(why));
    if (why[0] && !m->error[0])
        snprintf(m->error, sizeof(m->error), "task '%s': PD_TASK(%s, ...) "
                 "has %s", def->name, def->name, why);
    return !why[0];
}

void pd__register_task(const struct pd_task_def *def, int abi)
{
    struct module *m = registering("TASK", def->name);

    if (!m)
        return;
    if (abi != PD_ABI_VERSION || loader_task_by_name(m, def->name) >= 0) {
        reg_error(m, "task", def->name, abi);
        return;
    }
    if (def->isolation && strcmp(def->isolation, "thread") &&
        strcmp(def->isolation, "process")) {
        if (!m->error[0])
            snprintf(m->error, sizeof(m->error), "task '%s' has .isolation "
                     "= \"%s\": write \"thread\" or \"process\"",
                     def->name, def->isolation);
        return;
    }
    if (!check_task_strings(m, def))
        return;
    loader_add_task(m, def);
}

void pd__register_flow(const struct pd_flow_def *def, int abi)
{
    struct module *m = registering("FLOW", def->name);
    bool dup = false;

    if (!m)
        return;
    for (int i = 0; i < m->nflows; i++)
        dup |= strcmp(m->flows[i]->name, def->name) == 0;
    if (abi != PD_ABI_VERSION || dup) {
        reg_error(m, "flow", def->name, abi);
        return;
    }
    if (m->nflows == m->fcap) {
        m->fcap = m->fcap ? m->fcap * 2 : 4;
        m->flows = pd__xrealloc(m->flows, sizeof(*m->flows) * m->fcap);
    }
    m->flows[m->nflows++] = def;
}

int loader_task_index(const struct module *m, pd_task_fn *fn)
{
    if (!m || !m->nslots)
        return -1;
    size_t h = fn_hash(fn) & (m->nslots - 1);
    while (m->slots[h]) {
        int i = m->slots[h] - 1;
        if (m->tasks[i]->fn == fn)
            return i;
        h = (h + 1) & (m->nslots - 1);
    }
    return -1;
}

int loader_task_by_name(const struct module *m, const char *name)
{
    for (int i = 0; m && i < m->ntasks; i++)
        if (strcmp(m->tasks[i]->name, name) == 0)
            return i;
    return -1;
}

/* True when the file starts with the ELF magic number. */
static bool is_elf(const char *path)
{
    unsigned char magic[4] = { 0 };
    FILE *f = fopen(path, "rb");
    size_t n;

    if (!f)
        return false;
    n = fread(magic, 1, 4, f);
    fclose(f);
    return n == 4 && memcmp(magic, "\177ELF", 4) == 0;
}

static void module_free(struct module *m)
{
    if (m->handle)
        dlclose(m->handle);
    free(m->tasks);
    free(m->flows);
    free(m->slots);
    free(m->path);
    free(m);
}

/* Check path before dlopen runs any of its code. */
static int check_file(const char *path, char *err, size_t errlen)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s; give the path of a flow built with "
                 "cc -shared -fPIC", path, strerror(errno));
        return PD_EINVAL;
    }
    if (!S_ISREG(st.st_mode) || !is_elf(path)) {
        snprintf(err, errlen, "%s: not a shared object (no ELF header); "
                 "build the flow with cc -shared -fPIC -o flow.so flow.c",
                 path);
        return PD_EINVAL;
    }
    return 0;
}

int loader_open(const char *path, struct module **out, char *err,
                size_t errlen)
{
    char local[4096];
    struct module *m;
    void *h;
    int rc = PD_EINVAL;

    *out = NULL;
    if (check_file(path, err, errlen) != 0)
        return PD_EINVAL;
    /* A bare name would make dlopen search the library path: anchor it. */
    if (!strchr(path, '/')) {
        snprintf(local, sizeof(local), "./%s", path);
        path = local;
    }
    pthread_mutex_lock(&mu);
    m = loader_new_module(path);
    loading = m;
    h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    loading = NULL;
    if (!h) {
        snprintf(err, errlen, "%s: cannot load: %s", path, dlerror());
        goto out_free;
    }
    /* Opened before: its constructors ran then, into the open module. */
    for (struct module *o = opened; o; o = o->next) {
        if (o->handle == h) {
            dlclose(h);
            o->refs++;
            *out = o;
            rc = 0;
            goto out_free;
        }
    }
    m->handle = h;
    if (m->error[0]) {
        snprintf(err, errlen, "%s: %s", path, m->error);
        goto out_free;
    }
    m->next = opened;
    opened = m;
    *out = m;
    pthread_mutex_unlock(&mu);
    return 0;

out_free:
    module_free(m);
    pthread_mutex_unlock(&mu);
    return rc;
}

void loader_close(struct module *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&mu);
    if (--m->refs > 0) {
        pthread_mutex_unlock(&mu);
        return;
    }
    for (struct module **p = &opened; *p; p = &(*p)->next) {
        if (*p == m) {
            *p = m->next;
            break;
        }
    }
    pthread_mutex_unlock(&mu);
    module_free(m);
}

const struct pd_flow_def *loader_find_flow(const struct module *m,
                                           const char *name, char *err,
                                           size_t errlen)
{
    if (name) {
        for (int i = 0; i < m->nflows; i++)
            if (strcmp(m->flows[i]->name, name) == 0)
                return m->flows[i];
        snprintf(err, errlen, "%s has no flow named '%s'; "
                 "`pdask-mpi check %s` lists its flows", m->path, name,
                 m->path);
        return NULL;
    }
    if (m->nflows == 1)
        return m->flows[0];
    if (m->nflows == 0)
        snprintf(err, errlen, "%s declares no flow: add PD_FLOW(fn) after "
                 "the flow function", m->path);
    else
        snprintf(err, errlen, "%s declares %d flows: choose one with "
                 "--flow NAME (`pdask-mpi check %s` lists them)",
                 m->path, m->nflows, m->path);
    return NULL;
}
