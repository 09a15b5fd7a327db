/* log.c - pd_log, the log line format, and the error message format. */
#include "log.h"

#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum pd_level min_level = PD_INFO;
/* Where lines go: stderr, or a worker's saved stderr while its fds 1 and
 * 2 are the pipe of forwarded task output (fwd.h). */
static int log_fd = STDERR_FILENO;

static const char *const level_names[] = { "DEBUG", "INFO", "WARNING",
                                           "ERROR" };

void log_set_level(enum pd_level level)
{
    min_level = level;
}

bool log_enabled(enum pd_level level)
{
    return level >= min_level;
}

int log_parse_level(const char *s)
{
    static const char *const lower[] = { "debug", "info", "warning", "error" };
    for (int i = 0; i < 4; i++)
        if (strcmp(s, lower[i]) == 0 || strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

bool log_first_rank(void)
{
    int up = 0, down = 0, rank = 0;
    const char *r;

    MPI_Initialized(&up);
    MPI_Finalized(&down);
    if (up && !down) {
        MPI_Comm parent;
        MPI_Comm_get_parent(&parent);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        return parent == MPI_COMM_NULL && rank == 0;
    }
    r = getenv("OMPI_COMM_WORLD_RANK");
    if (!r)
        r = getenv("PMIX_RANK");
    return !r || strcmp(r, "0") == 0;
}

/* Write all of buf to stderr in one call where the kernel allows. */
static void emit(const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(log_fd, buf, n);
        if (w <= 0)
            return;
        buf += w;
        n -= (size_t)w;
    }
}

size_t log_escape(char *dst, size_t cap, const char *src, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t used = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        char esc[4];
        size_t len = 0;

        if (c == '\n' || c == '\r' || c == '\t') {
            esc[len++] = '\\';
            esc[len++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        } else if (c < 0x20 || c == 0x7f) {
            esc[len++] = '\\';
            esc[len++] = 'x';
            esc[len++] = hex[c >> 4];
            esc[len++] = hex[c & 0xf];
        } else {
            esc[len++] = (char)c;
        }
        if (used + len > cap - 1)
            break;
        memcpy(dst + used, esc, len);
        used += len;
    }
    dst[used] = '\0';
    return used;
}

/* The progress bar on a terminal (rank 0): every log line erases it
 * first, and the scheduler's next redraw puts it back. */
static pthread_mutex_t bar_mu = PTHREAD_MUTEX_INITIALIZER;
static bool bar_shown;

#define ERASE "\r\033[K"

void log_bar(const char *text)
{
    pthread_mutex_lock(&bar_mu);
    if (bar_shown)
        emit(ERASE, sizeof(ERASE) - 1);
    bar_shown = text != NULL;
    if (text)
        emit(text, strlen(text));
    pthread_mutex_unlock(&bar_mu);
}

/* Format into a raw buffer, escape, and write as one line. */
static void emit_line(const char *prefix, const char *fmt, va_list ap)
{
    /* A forwarded line (fwd.h) is up to 4 KiB after its prefix. */
    char raw[4608], out[4 * sizeof(raw) + 2];
    int n = snprintf(raw, sizeof(raw), "%s", prefix);

    if (n < 0)
        return;
    if ((size_t)n < sizeof(raw)) {
        int m = vsnprintf(raw + n, sizeof(raw) - (size_t)n, fmt, ap);
        if (m > 0)
            n += m;
    }
    if ((size_t)n > sizeof(raw) - 1)
        n = sizeof(raw) - 1;
    /* out has room for the newline after the escaped text. */
    n = (int)log_escape(out, sizeof(out) - 1, raw, (size_t)n);
    out[n++] = '\n';
    pthread_mutex_lock(&bar_mu);
    if (bar_shown)
        emit(ERASE, sizeof(ERASE) - 1);
    bar_shown = false;
    emit(out, (size_t)n);
    pthread_mutex_unlock(&bar_mu);
}

void log_set_fd(int fd)
{
    log_fd = fd;
}

/* "22:30:01.123 | LEVEL   | name | " into prefix. */
static void line_prefix(char *prefix, size_t n, const char *level,
                        const char *name)
{
    struct timeval tv;
    struct tm tm;

    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    snprintf(prefix, n, "%02d:%02d:%02d.%03d | %-7s | %s | ", tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000), level, name);
}

void log_output(const char *name, const char *fmt, ...)
{
    char prefix[512];
    va_list ap;

    line_prefix(prefix, sizeof(prefix), "OUTPUT", name);
    va_start(ap, fmt);
    emit_line(prefix, fmt, ap);
    va_end(ap);
}

void log_vmsg(enum pd_level level, const char *name, const char *fmt,
              va_list ap)
{
    char prefix[512];

    if (!log_enabled(level))
        return;
    line_prefix(prefix, sizeof(prefix), level_names[level], name);
    emit_line(prefix, fmt, ap);
}

void log_msg(enum pd_level level, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, name, fmt, ap);
    va_end(ap);
}

void log_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    emit_line("pdask-mpi: error: ", fmt, ap);
    va_end(ap);
}
