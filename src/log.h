/* log.h - the one log format and the one error format. */
#ifndef PD_LOG_H
#define PD_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include "pdask.h"

/* Lines at or above level are written; the default is PD_INFO. */
void log_set_level(enum pd_level level);
bool log_enabled(enum pd_level level);

/* Parse "debug", "info", "warning", "error"; -1 if none of them. */
int log_parse_level(const char *s);

/* "22:30:01.123 | INFO    | shout-3 | message": one write() per line so
 * lines from threads and ranks do not interleave. */
void log_msg(enum pd_level level, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(enum pd_level level, const char *name, const char *fmt,
              va_list ap);

/* A line of a task's output (stdout or stderr) forwarded from a worker:
 * "22:30:01.123 | OUTPUT  | shout-3 on rank 2 | text". Written whatever
 * the log level: it is the task's output, not a log line. */
void log_output(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Write lines to fd instead of stderr (a worker whose fd 2 carries task
 * output to rank 0 keeps its own lines on the saved stderr). Call before
 * other threads log. */
void log_set_fd(int fd);

/* Copy the n bytes of src into dst (cap >= 1 bytes, NUL-terminated) with
 * each control character escaped as \n, \r, \t or \xNN, so a value with
 * a newline (a run name, a parameter, a pd_fail message) stays on its
 * line and cannot forge another. Backslashes are kept, so paths stay
 * readable. Cut to fit; the length written. Every log and error line
 * goes through it. */
size_t log_escape(char *dst, size_t cap, const char *src, size_t n);

/* True in the one process that prints a once-per-job message: rank 0 of
 * MPI_COMM_WORLD and not a spawned worker; before MPI_Init, the rank the
 * launcher gives (OMPI_COMM_WORLD_RANK, PMIX_RANK), or true without one.
 * Call from the thread that called MPI_Init. */
bool log_first_rank(void);

/* "pdask-mpi: error: message": usage, configuration and load errors. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Show text as the one-line progress bar at the bottom of a terminal
 * (replacing the last one), or erase it (NULL). Log lines erase it. */
void log_bar(const char *text);

#endif
