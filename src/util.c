/* util.c - allocation that aborts on failure, and sleeping. */
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static void oom(size_t n)
{
    fprintf(stderr, "pdask-mpi: fatal: out of memory allocating %zu bytes\n",
            n);
    abort();
}

void *pd__xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *pd__xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *pd__xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

char *pd__xstrdup(const char *s)
{
    return pd__xmemdup(s, strlen(s) + 1);
}

void *pd__xmemdup(const void *p, size_t n)
{
    void *q = pd__xmalloc(n);
    if (n)
        memcpy(q, p, n);
    return q;
}

void pd__sleep(double s)
{
    struct timespec ts;
    if (s <= 0)
        return;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
