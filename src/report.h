/*
 * report.h - what a run leaves behind as it goes: the status file (one
 * tab-separated line per ended task run, disBatch style, written with one
 * write() so a line is complete or absent, even after kill -9) and the
 * Chrome trace (trace-event JSON: an "X" event per run, a pid per worker
 * rank, a tid per executor thread), both on rank 0; and the HTML
 * performance report (report_html.h), written when they close.
 */
#ifndef PD_REPORT_H
#define PD_REPORT_H

#include <stdint.h>
#include <stdio.h>

struct config;
struct pd_params;
struct report_html;

struct report {
    int status_fd;        /* -1: no status file */
    struct report_html *html; /* NULL: no HTML report */
    FILE *trace;          /* NULL: no trace */
    char *trace_path;
    uint64_t t0_us;       /* wall clock at the start: trace time 0 */
    uint64_t nevents;
};

/* Open what the paths name ("" for none); 0, or PD_EINVAL with a message
 * naming the path in err. */
int report_open(struct report *r, const char *status_path,
                const char *trace_path, const char *html_path, char *err,
                size_t errlen);

/* The flow run starts: what the HTML report's summary shows (copied). */
void report_context(struct report *r, const char *flow,
                    const struct config *c, const struct pd_params *p,
                    const int *threads, int nranks);

/* One ended run. rank < 0: it never ran (thread, times ignored). */
void report_run(struct report *r, const char *name, const char *state,
                int rank, int thread, uint64_t start_us, uint64_t end_us,
                int attempts, const char *message);

/* Finish the trace, write the HTML report (code: the run's exit code)
 * and close them all. */
void report_close(struct report *r, int code);

/* Wall clock in µs since the epoch. */
uint64_t report_now_us(void);

#endif
