/* loader.c - load a flow shared object; keep the registry of its tasks and
 * flows, by name (how ranks agree) and by function pointer (how pd_submit
 * finds a task). One flow per process, so the registry is process-wide:
 * constructors cannot be handed a context. */
#include "loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

static struct {
    const struct pd_task_def **tasks;
    int ntasks, tcap;
    const struct pd_flow_def **flows;
    int nflows, fcap;
    int *slots;            /* open addressing: fn pointer -> task index + 1 */
    size_t nslots;
    char error[512];       /* first registration error, reported by open */
} reg;

static size_t fn_hash(pd_task_fn *fn)
{
    uintptr_t x = (uintptr_t)fn;
    x ^= x >> 17;
    x *= (uintptr_t)0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 7);
}

static void index_rebuild(void)
{
    free(reg.slots);
    reg.nslots = 16;
    while (reg.nslots < (size_t)reg.ntasks * 2)
        reg.nslots *= 2;
    reg.slots = pd__xcalloc(reg.nslots, sizeof(int));
    for (int i = 0; i < reg.ntasks; i++) {
        size_t h = fn_hash(reg.tasks[i]->fn) & (reg.nslots - 1);
        while (reg.slots[h])
            h = (h + 1) & (reg.nslots - 1);
        reg.slots[h] = i + 1;
    }
}

static void reg_error(const char *what, const char *name, int abi)
{
    if (reg.error[0])
        return;
    if (abi != PD_ABI_VERSION)
        snprintf(reg.error, sizeof(reg.error),
                 "%s '%s' was built against pdask.h ABI %d, this pdask-mpi "
                 "has ABI %d: rebuild the flow with this version's pdask.h",
                 what, name, abi, PD_ABI_VERSION);
    else
        snprintf(reg.error, sizeof(reg.error),
                 "%s name '%s' is declared twice: give each PD_%s function "
                 "its own name",
                 what, name, what[0] == 't' ? "TASK" : "FLOW");
}

void pd__register_task(const struct pd_task_def *def, int abi)
{
    if (abi != PD_ABI_VERSION || loader_task_by_name(def->name) >= 0) {
        reg_error("task", def->name, abi);
        return;
    }
    if (reg.ntasks == reg.tcap) {
        reg.tcap = reg.tcap ? reg.tcap * 2 : 16;
        reg.tasks = pd__xrealloc(reg.tasks, sizeof(*reg.tasks) * reg.tcap);
    }
    reg.tasks[reg.ntasks++] = def;
    index_rebuild();
}

void pd__register_flow(const struct pd_flow_def *def, int abi)
{
    bool dup = false;
    for (int i = 0; i < reg.nflows; i++)
        dup |= strcmp(reg.flows[i]->name, def->name) == 0;
    if (abi != PD_ABI_VERSION || dup) {
        reg_error("flow", def->name, abi);
        return;
    }
    if (reg.nflows == reg.fcap) {
        reg.fcap = reg.fcap ? reg.fcap * 2 : 4;
        reg.flows = pd__xrealloc(reg.flows, sizeof(*reg.flows) * reg.fcap);
    }
    reg.flows[reg.nflows++] = def;
}

int loader_ntasks(void)
{
    return reg.ntasks;
}

const struct pd_task_def *loader_task(int index)
{
    return reg.tasks[index];
}

int loader_task_index(pd_task_fn *fn)
{
    if (!reg.nslots)
        return -1;
    size_t h = fn_hash(fn) & (reg.nslots - 1);
    while (reg.slots[h]) {
        int i = reg.slots[h] - 1;
        if (reg.tasks[i]->fn == fn)
            return i;
        h = (h + 1) & (reg.nslots - 1);
    }
    return -1;
}

int loader_task_by_name(const char *name)
{
    for (int i = 0; i < reg.ntasks; i++)
        if (strcmp(reg.tasks[i]->name, name) == 0)
            return i;
    return -1;
}

int loader_nflows(void)
{
    return reg.nflows;
}

const struct pd_flow_def *loader_flow(int index)
{
    return reg.flows[index];
}

/* True when the file starts with the ELF magic number. */
static int is_elf(const char *path)
{
    unsigned char magic[4] = { 0 };
    FILE *f = fopen(path, "rb");
    size_t n;

    if (!f)
        return 0;
    n = fread(magic, 1, 4, f);
    fclose(f);
    return n == 4 && memcmp(magic, "\177ELF", 4) == 0;
}

int loader_open(const char *path, char *err, size_t errlen)
{
    struct stat st;
    void *h;

    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s; give the path of a flow built with "
                 "cc -shared -fPIC", path, strerror(errno));
        return PD_EINVAL;
    }
    if (S_ISDIR(st.st_mode) || !is_elf(path)) {
        snprintf(err, errlen, "%s: not a shared object (no ELF header); "
                 "build the flow with cc -shared -fPIC -o flow.so flow.c",
                 path);
        return PD_EINVAL;
    }
    /* A bare name would make dlopen search the library path: anchor it. */
    char local[4096];
    if (!strchr(path, '/')) {
        snprintf(local, sizeof(local), "./%s", path);
        path = local;
    }
    h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(err, errlen, "%s: cannot load: %s", path, dlerror());
        return PD_EINVAL;
    }
    if (reg.error[0]) {
        snprintf(err, errlen, "%s: %s", path, reg.error);
        return PD_EINVAL;
    }
    return 0;
}

const struct pd_flow_def *loader_find_flow(const char *path, const char *name,
                                           char *err, size_t errlen)
{
    if (name) {
        for (int i = 0; i < reg.nflows; i++)
            if (strcmp(reg.flows[i]->name, name) == 0)
                return reg.flows[i];
        snprintf(err, errlen, "%s has no flow named '%s'; "
                 "`pdask-mpi check %s` lists its flows", path, name, path);
        return NULL;
    }
    if (reg.nflows == 1)
        return reg.flows[0];
    if (reg.nflows == 0)
        snprintf(err, errlen, "%s declares no flow: add PD_FLOW(fn) after "
                 "the flow function", path);
    else
        snprintf(err, errlen, "%s declares %d flows: choose one with "
                 "--flow NAME (`pdask-mpi check %s` lists them)",
                 path, reg.nflows, path);
    return NULL;
}
