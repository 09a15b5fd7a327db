/*
 * loader.h - dlopen a flow .so; each loaded file is a module with its own
 * registry of the tasks and flows its PD_TASK/PD_FLOW constructors declare.
 * Two modules may each have a task named "work": nothing is process-wide
 * but the list of open modules (so one file opened twice is one module).
 */
#ifndef PD_LOADER_H
#define PD_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "pdask.h"

struct module {
    void *handle;                     /* dlopen handle; NULL for a test's */
    char *path;
    const struct pd_task_def **tasks; /* in declaration order */
    int ntasks, tcap;
    const struct pd_flow_def **flows;
    int nflows, fcap;
    int *slots;             /* open addressing: fn pointer -> index + 1 */
    size_t nslots;
    char error[512];        /* first registration error */
    int refs;               /* opens not yet closed */
    uint64_t serial;        /* unique in the process: a module loaded
                               again is another one, at any address */
    struct module *next;    /* the open list */
};

/* Load path as a module, or take another reference on it if it is open.
 * 0 with *out set, or PD_EINVAL with a message in err that says what to
 * do (and *out NULL). */
int loader_open(const char *path, struct module **out, char *err,
                size_t errlen);

/* Drop a reference; the last one dlcloses the file. NULL is a no-op. */
void loader_close(struct module *m);

/* A module without a file, for tests: register defs into it directly. */
struct module *loader_new_module(const char *name);
void loader_add_task(struct module *m, const struct pd_task_def *def);

/* Index of the task whose function is fn, or -1. */
int loader_task_index(const struct module *m, pd_task_fn *fn);
/* Index of the task named name, or -1. */
int loader_task_by_name(const struct module *m, const char *name);

/* The flow named name, or the only flow when name is NULL; NULL with a
 * message in err otherwise. */
const struct pd_flow_def *loader_find_flow(const struct module *m,
                                           const char *name, char *err,
                                           size_t errlen);

#endif
