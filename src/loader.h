/* loader.h - dlopen a flow .so and the registry its PD_TASK/PD_FLOW fill. */
#ifndef PD_LOADER_H
#define PD_LOADER_H

#include <stddef.h>

#include "pdask.h"

/* Load path; 0, or PD_EINVAL with a message in err that says what to do. */
int loader_open(const char *path, char *err, size_t errlen);

int loader_ntasks(void);
const struct pd_task_def *loader_task(int index);
/* Index of the task whose function is fn, or -1. */
int loader_task_index(pd_task_fn *fn);
/* Index of the task named name, or -1. */
int loader_task_by_name(const char *name);

int loader_nflows(void);
const struct pd_flow_def *loader_flow(int index);
/* The flow named name, or the only flow when name is NULL; NULL with a
 * message in err otherwise. */
const struct pd_flow_def *loader_find_flow(const char *path, const char *name,
                                           char *err, size_t errlen);

#endif
