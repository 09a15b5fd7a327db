/* util.h - the few helpers every module uses; nothing else belongs here. */
#ifndef PD_UTIL_H
#define PD_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, field)                                       \
    ((type *)((char *)(ptr) - offsetof(type, field)))

/* Allocation that never returns NULL: out of memory aborts with a message,
 * as Redis's zmalloc does, so callers never check. */
void *pd__xmalloc(size_t n);
void *pd__xcalloc(size_t n, size_t size);
void *pd__xrealloc(void *p, size_t n);
char *pd__xstrdup(const char *s);
void *pd__xmemdup(const void *p, size_t n);

/* Monotonic time in seconds. */
static inline double pd__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Exponential moving average of recent run times: weight 0.1 on x. */
static inline double pd__ema(double avg, double x)
{
    return 0.9 * avg + 0.1 * x;
}

/* Sleep for s seconds (no-op for s <= 0), resuming after signals. */
void pd__sleep(double s);

#endif
