/* util.c - allocation that aborts on failure (with huge pages for big
 * blocks), and sleeping. */
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static void oom(size_t n)
{
    fprintf(stderr, "pdask-mpi: fatal: out of memory allocating %zu bytes\n",
            n);
    abort();
}

/* A block of HUGE_FROM bytes or more asks for transparent huge pages.
 * Big results are written once into fresh memory (packed, copied into a
 * reply, received): with 4 KiB pages every 4 KiB of it is a page fault,
 * which made moving 64 MiB between workers take 62 ms; with 2 MiB pages
 * it takes 14 to 21 ms. Kernels whose THP setting is "madvise" (this
 * machine's) need the advice; with "always" it changes nothing, and where
 * THP is off or missing madvise fails and is ignored. */
#define HUGE_FROM (4u << 20)

static void *huge(void *p, size_t n)
{
    long ps;
    uintptr_t page, a, e;

    if (n < HUGE_FROM || (ps = sysconf(_SC_PAGESIZE)) <= 0)
        return p;
    page = (uintptr_t)ps;
    a = ((uintptr_t)p + page - 1) & ~(page - 1);
    e = ((uintptr_t)p + n) & ~(page - 1);
    if (e > a)
        (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
    return p;
}

void *pd__xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return huge(p, n);
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
    return huge(p, n);
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
