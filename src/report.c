/* report.c - see report.h. */
#define _GNU_SOURCE /* O_CLOEXEC */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pdask.h"
#include "protocol.h"
#include "report_html.h"
#include "util.h"

uint64_t report_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int report_open(struct report *r, const char *status_path,
                const char *trace_path, const char *html_path, char *err,
                size_t errlen)
{
    static const char head[] =
        "run\tstate\trank\tthread\tstart\tend\tattempts\tmessage\n";

    memset(r, 0, sizeof(*r));
    r->status_fd = -1;
    r->t0_us = report_now_us();
    if (status_path && *status_path) {
        r->status_fd = open(status_path, O_WRONLY | O_CREAT | O_TRUNC |
                            O_APPEND | O_CLOEXEC, 0644);
        if (r->status_fd < 0 ||
            write(r->status_fd, head, sizeof(head) - 1) < 0) {
            snprintf(err, errlen, "status file %s: %s; give a path in a "
                     "directory you can write", status_path,
                     strerror(errno));
            report_close(r, -1);
            return PD_EINVAL;
        }
    }
    if (trace_path && *trace_path) {
        r->trace = fopen(trace_path, "w");
        if (!r->trace) {
            snprintf(err, errlen, "trace file %s: %s; give a path in a "
                     "directory you can write", trace_path,
                     strerror(errno));
            report_close(r, -1);
            return PD_EINVAL;
        }
        r->trace_path = pd__xstrdup(trace_path);
        fputs("{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n", r->trace);
    }
    if (html_path && *html_path &&
        !(r->html = report_html_open(html_path, err, errlen))) {
        report_close(r, -1);
        return PD_EINVAL;
    }
    return 0;
}

void report_context(struct report *r, const char *flow,
                    const struct config *c, const struct pd_params *p,
                    const int *threads, int nranks)
{
    if (r->html)
        report_html_context(r->html, flow, c, p, threads, nranks);
}

/* Append s to b with what would break a TSV field or a JSON string
 * escaped (json: quotes and backslashes too). */
static void put_escaped(struct buf *b, const char *s, int json)
{
    char hex[8];

    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\t' || c == '\n' || c == '\r' || c < 0x20 ||
            (json && (c == '"' || c == '\\'))) {
            if (c == '\t' || c == '\n' || c == '\r')
                snprintf(hex, sizeof(hex), "\\%c",
                         c == '\t' ? 't' : c == '\n' ? 'n' : 'r');
            else if (c == '"' || c == '\\')
                snprintf(hex, sizeof(hex), "\\%c", c);
            else
                snprintf(hex, sizeof(hex), json ? "\\u%04x" : "\\x%02x", c);
            buf_put(b, hex, strlen(hex));
        } else {
            buf_u8(b, c);
        }
    }
}

void report_event(struct report *r, const char *text)
{
    if (r && r->html)
        report_html_event(r->html, text, report_now_us());
}

void report_hold(struct report *r, const char *name, double amount,
                 uint64_t start_us, uint64_t end_us)
{
    if (r && r->html)
        report_html_hold(r->html, name, amount, start_us, end_us);
}

void report_run(struct report *r, const char *name, const char *state,
                int rank, int thread, uint64_t start_us, uint64_t end_us,
                int attempts, const char *message)
{
    struct buf b = { 0 };

    if (r->html)
        report_html_run(r->html, name, state, rank, thread, start_us, end_us,
                        attempts, message, report_now_us());
    if (r->status_fd >= 0) {
        put_escaped(&b, name, 0);
        buf_fmt(&b, "\t%s\t", state);
        if (rank >= 0)
            buf_fmt(&b, "%d\t%d\t%.6f\t%.6f\t", rank, thread,
                    start_us * 1e-6, end_us * 1e-6);
        else
            buf_fmt(&b, "-\t-\t-\t-\t");
        buf_fmt(&b, "%d\t", attempts);
        put_escaped(&b, message, 0);
        buf_u8(&b, '\n');
        /* One write, O_APPEND: the line is there whole or not at all. */
        if (write(r->status_fd, b.data, b.len) < 0) {
            /* a full disk must not stop the run */
        }
        b.len = 0;
    }
    if (r->trace && rank >= 0) {
        const char *dash = strrchr(name, '-');
        buf_fmt(&b, "%s{\"name\": \"", r->nevents++ ? ",\n" : "");
        /* The task's name colours the bar; the run is in args. */
        struct buf task = { 0 };
        buf_put(&task, name, dash ? (size_t)(dash - name) : strlen(name));
        buf_u8(&task, 0);
        put_escaped(&b, (const char *)task.data, 1);
        buf_free(&task);
        buf_fmt(&b, "\", \"cat\": \"task\", \"ph\": \"X\", \"pid\": %d, "
                "\"tid\": %d, \"ts\": %.3f, \"dur\": %.3f, \"args\": "
                "{\"run\": \"", rank, thread,
                start_us >= r->t0_us ? (double)(start_us - r->t0_us) : 0.0,
                end_us > start_us ? (double)(end_us - start_us) : 0.0);
        put_escaped(&b, name, 1);
        buf_fmt(&b, "\", \"attempts\": %d, \"state\": \"%s\"}}", attempts,
                state);
        fwrite(b.data, 1, b.len, r->trace);
    }
    buf_free(&b);
}

void report_close(struct report *r, int code)
{
    if (r->html)
        report_html_finish(r->html, code);
    if (r->status_fd >= 0)
        close(r->status_fd);
    if (r->trace) {
        fputs("\n]}\n", r->trace);
        fclose(r->trace);
    }
    free(r->trace_path);
    memset(r, 0, sizeof(*r));
    r->status_fd = -1;
}
