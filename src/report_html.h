/*
 * report_html.h - the HTML performance report (--report, [client_kwargs]
 * performance_report_path): one self-contained file written by rank 0 at
 * the end of the run, with a summary, a task stream, durations by task
 * name, worker utilisation over time and what the scheduler costs.
 *
 * Memory stays bounded whatever the number of runs: each run is folded
 * into per-task aggregates (a log-scale histogram for the percentiles), a
 * fixed number of utilisation bins and a per-lane gap; only a sample of
 * runs (REPORT_HTML_BARS, plus REPORT_HTML_NOTABLE failed or retried ones)
 * keeps its name and times for the task stream.
 */
#ifndef PD_REPORT_HTML_H
#define PD_REPORT_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "protocol.h"

struct config;
struct pd_params;
struct report_html;

#define REPORT_HTML_BARS 20000   /* sampled runs drawn in the stream */
#define REPORT_HTML_NOTABLE 2000 /* failed or retried runs kept aside */

/* Open path for writing (it is written at the end). NULL with a message
 * naming the path in err when it cannot be. */
struct report_html *report_html_open(const char *path, char *err,
                                     size_t errlen);

/* What the summary shows: the flow run's name, its parameters, the
 * settings with their sources, the executor threads of each rank (rank 0
 * has none). Copied; the flow run's clock starts here. */
void report_html_context(struct report_html *h, const char *flow,
                         const struct config *c, const struct pd_params *p,
                         const int *threads, int nranks);

/* One ended run, as report_run gets it; now_us is rank 0's clock when the
 * report arrived. */
void report_html_run(struct report_html *h, const char *name,
                     const char *state, int rank, int thread,
                     uint64_t start_us, uint64_t end_us, int attempts,
                     const char *message, uint64_t now_us);

/* Write the file and free h. code: the run's exit code. 0, or -1 when
 * the file could not be written (said on stderr). */
int report_html_finish(struct report_html *h, int code);

/* Append s as the inside of a JSON string that is also safe inside an
 * HTML <script> element: quotes, backslashes, control characters, '<',
 * '>', '&', U+2028 and U+2029 become \u escapes. */
void report_html_json_str(struct buf *b, const char *s);

#endif
