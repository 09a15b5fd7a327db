/* report_html.c - see report_html.h. The page itself (CSS and JS) is
 * src/report_page.html, embedded at configure time as report_page.h; this
 * file gathers the figures and writes them into it as one JSON object. */
#define _GNU_SOURCE /* CLOCK_THREAD_CPUTIME_ID under strict C */
#include "report_html.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "params.h"
#include "pdask.h"
#include "report.h"
#include "report_page.h"
#include "util.h"

#define MAX_TASKS 512  /* distinct task names; more go to the last slot */
#define UTIL_BINS 512  /* utilisation bins; their width doubles as needed */
#define FIRST_BIN_US 1000 /* 1 ms: 0.5 s of run before the first merge */
#define NAME_MAX_LEN 120   /* run names and messages kept per sampled run */

/* Durations in µs on a log scale, 16 buckets an octave from 1 µs to about
 * 2^40 µs (12 days): a percentile read from it is the bucket's geometric
 * middle, within 2.2 % of the exact value, in a fixed 2.6 KiB per task
 * name instead of one number per run. */
#define HIST_PER_OCTAVE 16
#define HIST_BUCKETS (40 * HIST_PER_OCTAVE + 1)

struct hist {
    uint32_t b[HIST_BUCKETS];
    uint64_t n;
    double sum, min, max;  /* µs */
};

struct task {
    char *name;
    uint64_t runs;         /* reported, ran or not */
    uint64_t bad;          /* ended in a state other than Completed */
    uint64_t retried;      /* ran more than once */
    struct hist dur;       /* runs that ran */
};

/* A run kept for the stream: times relative to the flow run's start. */
struct bar {
    uint64_t start_us, end_us;
    int32_t rank, thread;
    uint16_t task;
    uint8_t state, attempts;
    char *name, *msg;
};

/* Algorithm R: every run offered has the same chance to be kept. */
struct reservoir {
    struct bar *bars;
    size_t cap, n;         /* room, kept */
    uint64_t seen;
};

struct report_html {
    FILE *out;
    char *path;
    char *flow;
    struct buf params, settings; /* JSON arrays, made at context time */
    int nranks, *lane0;    /* lane of (rank, 0); threads of rank r are
                              lane0[r] .. lane0[r + 1] - 1 */
    int nlanes;
    uint64_t *lane_end;    /* end of the last run on each lane, or 0 */
    uint64_t t0_us;        /* the flow run's start, rank 0's clock */
    double cpu0;           /* this thread's CPU time then */
    struct task tasks[MAX_TASKS];
    int ntasks, last_task; /* last_task: where the last name was found */
    uint64_t states[PD_CANCELLED + 1];
    uint64_t nruns, nran;
    struct reservoir plain, notable;
    uint64_t rng;
    double *busy;          /* µs of executor time in each bin */
    uint64_t bin_us;
    uint64_t last_end_us;  /* latest end seen, relative */
    struct hist lag;       /* run end on its worker -> report on rank 0 */
    struct hist gap;       /* previous run's end -> start, same lane */
    struct event { uint64_t t_us; char *text; } *events;
    int nevents;
    uint64_t events_seen;
    struct hold {          /* by resource name */
        char name[32];
        uint64_t runs;
        double amount_s;   /* amount x seconds held */
        double most;       /* the largest amount one run held */
    } holds[32];
    int nholds;
};

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* --- JSON output --------------------------------------------------- */

void report_html_json_str(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;

    for (; p && *p; p++) {
        unsigned c = *p;
        /* U+2028 and U+2029 (E2 80 A8/A9) end a line in older JS. */
        bool sep = c == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 ||
                                                  p[2] == 0xa9);
        if (sep) {
            buf_put(b, p[2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
            p += 2;
        } else if (c == '"' || c == '\\') {
            buf_u8(b, '\\');
            buf_u8(b, (uint8_t)c);
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&' ||
                   c == 0x7f) {
            /* '<' as \u003c: "</script>" cannot end the data element. */
            char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            buf_put(b, e, sizeof(e));
        } else {
            buf_u8(b, (uint8_t)c);
        }
    }
}

/* A JSON string value: "s". */
static void put_str(struct buf *b, const char *s)
{
    buf_u8(b, '"');
    report_html_json_str(b, s);
    buf_u8(b, '"');
}

static void put_raw(struct buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

/* --- aggregates ---------------------------------------------------- */

static int hist_bucket(double us)
{
    if (us < 1)
        return 0;
    int k = 1 + (int)floor(log2(us) * HIST_PER_OCTAVE);
    return k < HIST_BUCKETS ? k : HIST_BUCKETS - 1;
}

static void hist_add(struct hist *h, double us)
{
    if (us < 0)
        us = 0;
    h->b[hist_bucket(us)]++;
    h->min = h->n == 0 || us < h->min ? us : h->min;
    h->max = us > h->max ? us : h->max;
    h->n++;
    h->sum += us;
}

/* The q-quantile (0 < q <= 1) in µs: the geometric middle of the bucket
 * holding it, kept within the exact minimum and maximum. */
static double hist_quantile(const struct hist *h, double q)
{
    uint64_t want = (uint64_t)ceil(q * (double)h->n), acc = 0;
    double v = 0;

    if (h->n == 0)
        return 0;
    for (int k = 0; k < HIST_BUCKETS; k++) {
        acc += h->b[k];
        if (acc >= want && want > 0) {
            /* Bucket 0 holds the runs under 1 µs: worker times are
             * whole µs, so they are 0 exactly. */
            v = k == 0 ? 0 : exp2(((double)k - 0.5) / HIST_PER_OCTAVE);
            break;
        }
    }
    return v < h->min ? h->min : v > h->max ? h->max : v;
}

/* {"n":..,"mean":..,"p50":..,"p95":..,"max":..,"total":..} in seconds. */
static void put_hist(struct buf *b, const struct hist *h)
{
    buf_fmt(b, "{\"n\":%" PRIu64 ",\"total\":%.6f,\"mean\":%.6g,"
            "\"p50\":%.6g,\"p95\":%.6g,\"max\":%.6g}", h->n, h->sum * 1e-6,
            h->n ? h->sum / (double)h->n * 1e-6 : 0.0,
            hist_quantile(h, 0.5) * 1e-6, hist_quantile(h, 0.95) * 1e-6,
            h->max * 1e-6);
}

/* The task index of run name "shout-3" (task "shout"); the last slot
 * takes every name past MAX_TASKS - 1. */
static int task_of(struct report_html *h, const char *name)
{
    const char *dash = strrchr(name, '-');
    size_t len = dash && dash != name ? (size_t)(dash - name) : strlen(name);

    for (int n = 0; n < h->ntasks; n++) {
        /* Runs of one task tend to come together: start at the last. */
        int i = (h->last_task + n) % h->ntasks;
        if (strlen(h->tasks[i].name) == len &&
            memcmp(h->tasks[i].name, name, len) == 0)
            return h->last_task = i;
    }
    if (h->ntasks == MAX_TASKS - 1) {
        h->tasks[h->ntasks++].name = pd__xstrdup("(other task names)");
    }
    if (h->ntasks == MAX_TASKS)
        return MAX_TASKS - 1;
    h->tasks[h->ntasks].name = pd__xmalloc(len + 1);
    memcpy(h->tasks[h->ntasks].name, name, len);
    h->tasks[h->ntasks].name[len] = '\0';
    return h->ntasks++;
}

static int state_of(const char *state)
{
    for (int s = 0; s <= PD_CANCELLED; s++)
        if (strcmp(state, pd_state_name((enum pd_state)s)) == 0)
            return s;
    return PD_FAILED;
}

/* A copy of s cut to NAME_MAX_LEN bytes (at a UTF-8 boundary), or NULL. */
static char *short_dup(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (!s || !*s)
        return NULL;
    if (n > NAME_MAX_LEN) {
        n = NAME_MAX_LEN;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    char *d = pd__xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static uint64_t next_rand(struct report_html *h)
{
    /* xorshift64*: a fixed seed, so a report is reproducible. */
    h->rng ^= h->rng >> 12;
    h->rng ^= h->rng << 25;
    h->rng ^= h->rng >> 27;
    return h->rng * 0x2545f4914f6cdd1dull;
}

static void bar_free(struct bar *b)
{
    free(b->name);
    free(b->msg);
}

static void offer(struct report_html *h, struct reservoir *r,
                  const struct bar *b, const char *name, const char *msg)
{
    struct bar *slot = NULL;

    r->seen++;
    if (r->n < r->cap) {
        slot = &r->bars[r->n++];
    } else {
        uint64_t j = next_rand(h) % r->seen;
        if (j >= r->cap)
            return;
        slot = &r->bars[j];
        bar_free(slot);
    }
    *slot = *b;
    slot->name = short_dup(name);
    slot->msg = short_dup(msg);
}

/* Double the bin width: bin i takes bins 2i and 2i + 1. */
static void merge_bins(struct report_html *h)
{
    for (int i = 0; i < UTIL_BINS / 2; i++)
        h->busy[i] = h->busy[2 * i] + h->busy[2 * i + 1];
    for (int i = UTIL_BINS / 2; i < UTIL_BINS; i++)
        h->busy[i] = 0;
    h->bin_us *= 2;
}

/* Spread [s, e) (µs from the start) over the bins it overlaps. */
static void add_busy(struct report_html *h, uint64_t s, uint64_t e)
{
    while (e > h->bin_us * UTIL_BINS)
        merge_bins(h);
    for (uint64_t i = s / h->bin_us; i * h->bin_us < e && i < UTIL_BINS;
         i++) {
        uint64_t lo = i * h->bin_us, hi = lo + h->bin_us;
        lo = s > lo ? s : lo;
        hi = e < hi ? e : hi;
        h->busy[i] += (double)(hi - lo);
    }
}

/* --- the API ------------------------------------------------------- */

struct report_html *report_html_open(const char *path, char *err,
                                     size_t errlen)
{
    FILE *out = fopen(path, "w");

    if (!out) {
        snprintf(err, errlen, "report file %s: %s; give a path in a "
                 "directory you can write", path, strerror(errno));
        return NULL;
    }
    struct report_html *h = pd__xcalloc(1, sizeof(*h));
    h->out = out;
    h->path = pd__xstrdup(path);
    h->plain.cap = REPORT_HTML_BARS;
    h->plain.bars = pd__xcalloc(REPORT_HTML_BARS, sizeof(struct bar));
    h->notable.cap = REPORT_HTML_NOTABLE;
    h->notable.bars = pd__xcalloc(REPORT_HTML_NOTABLE, sizeof(struct bar));
    h->rng = 0x9e3779b97f4a7c15ull;
    h->busy = pd__xcalloc(UTIL_BINS, sizeof(double));
    h->bin_us = FIRST_BIN_US;
    h->t0_us = report_now_us();
    h->cpu0 = thread_cpu_s();
    return h;
}

void report_html_context(struct report_html *h, const char *flow,
                         const struct config *c, const struct pd_params *p,
                         const int *threads, int nranks)
{
    free(h->flow);
    h->flow = pd__xstrdup(flow ? flow : "");
    h->params.len = h->settings.len = 0;
    buf_u8(&h->params, '[');
    for (int i = 0; p && i < p->n; i++) {
        put_raw(&h->params, i ? ",[" : "[");
        put_str(&h->params, p->keys[i]);
        buf_u8(&h->params, ',');
        put_str(&h->params, p->vals[i]);
        buf_u8(&h->params, ']');
    }
    buf_u8(&h->params, ']');
    buf_u8(&h->settings, '[');
    for (int k = 0; c && k < CFG_COUNT; k++) {
        char name[80], val[512];
        config_get(c, k, name, sizeof(name), val, sizeof(val));
        put_raw(&h->settings, k ? ",[" : "[");
        put_str(&h->settings, name);
        buf_u8(&h->settings, ',');
        put_str(&h->settings, val);
        buf_u8(&h->settings, ',');
        put_str(&h->settings, c->source[k]);
        buf_u8(&h->settings, ']');
    }
    buf_u8(&h->settings, ']');
    free(h->lane0);
    free(h->lane_end);
    h->nranks = nranks;
    h->lane0 = pd__xcalloc((size_t)nranks + 1, sizeof(int));
    for (int r = 0; r < nranks; r++)
        h->lane0[r + 1] = h->lane0[r] + (r > 0 && threads ? threads[r] : 0);
    h->nlanes = h->lane0[nranks];
    h->lane_end = pd__xcalloc((size_t)h->nlanes + 1, sizeof(uint64_t));
    h->t0_us = report_now_us();
}

/* The lane of (rank, thread), or -1 when the run names none we know. */
static int lane_of(const struct report_html *h, int rank, int thread)
{
    if (rank <= 0 || rank >= h->nranks || thread < 0 ||
        thread >= h->lane0[rank + 1] - h->lane0[rank])
        return -1;
    return h->lane0[rank] + thread;
}

void report_html_run(struct report_html *h, const char *name,
                     const char *state, int rank, int thread,
                     uint64_t start_us, uint64_t end_us, int attempts,
                     const char *message, uint64_t now_us)
{
    int st = state_of(state), k = task_of(h, name ? name : "?");
    struct task *t = &h->tasks[k];

    h->nruns++;
    h->states[st]++;
    t->runs++;
    t->bad += st != PD_COMPLETED;
    t->retried += attempts > 1;
    if (rank < 0)
        return;
    h->nran++;
    if (end_us < start_us)
        end_us = start_us;
    hist_add(&t->dur, (double)(end_us - start_us));
    hist_add(&h->lag, now_us > end_us ? (double)(now_us - end_us) : 0);
    int lane = lane_of(h, rank, thread);
    if (lane >= 0) {
        if (h->lane_end[lane] && start_us >= h->lane_end[lane])
            hist_add(&h->gap, (double)(start_us - h->lane_end[lane]));
        h->lane_end[lane] = end_us;
    }
    /* Times relative to the flow run's start (a worker's clock may be a
     * little behind rank 0's: clamp). */
    uint64_t s = start_us > h->t0_us ? start_us - h->t0_us : 0;
    uint64_t e = end_us > h->t0_us ? end_us - h->t0_us : 0;
    add_busy(h, s, e);
    if (e > h->last_end_us)
        h->last_end_us = e;
    struct bar b = { s, e, rank, thread, (uint16_t)k, (uint8_t)st,
                     (uint8_t)(attempts > 255 ? 255 : attempts), NULL, NULL };
    bool notable = st != PD_COMPLETED || attempts > 1;
    offer(h, notable ? &h->notable : &h->plain, &b, name,
          st != PD_COMPLETED ? message : NULL);
}

static void put_bars(struct buf *b, const struct reservoir *r, bool *first)
{
    for (size_t i = 0; i < r->n; i++) {
        const struct bar *x = &r->bars[i];
        buf_fmt(b, "%s[%d,%d,%d,%.3f,%.3f,%d,%d,", *first ? "" : ",\n",
                x->rank, x->thread, x->task, x->start_us * 1e-3,
                (x->end_us - x->start_us) * 1e-3, x->state, x->attempts);
        *first = false;
        put_str(b, x->name ? x->name : "");
        buf_u8(b, ',');
        put_str(b, x->msg ? x->msg : "");
        buf_u8(b, ']');
    }
}

/* The whole data object the page renders. */
static void put_data(struct report_html *h, struct buf *b, int code,
                     double wall_s, double cpu_s)
{
    bool first = true;

    put_raw(b, "{\"version\":");
    put_str(b, PD_VERSION_STRING);
    put_raw(b, ",\"flow\":");
    put_str(b, h->flow ? h->flow : "");
    buf_fmt(b, ",\"started_us\":%" PRIu64 ",\"duration_s\":%.6f,"
            "\"exit_code\":%d,", h->t0_us, wall_s, code);
    put_raw(b, "\"params\":");
    buf_put(b, h->params.data, h->params.len);
    put_raw(b, ",\"settings\":");
    buf_put(b, h->settings.data, h->settings.len);
    put_raw(b, ",\"threads\":[");
    for (int r = 1; r < h->nranks; r++)
        buf_fmt(b, "%s%d", r > 1 ? "," : "", h->lane0[r + 1] - h->lane0[r]);
    put_raw(b, "],\"states\":{");
    for (int s = PD_COMPLETED; s <= PD_CANCELLED; s++)
        buf_fmt(b, "%s\"%s\":%" PRIu64, s > PD_COMPLETED ? "," : "",
                pd_state_name((enum pd_state)s), h->states[s]);
    buf_fmt(b, "},\"nruns\":%" PRIu64 ",\"nran\":%" PRIu64 ",\"tasks\":[",
            h->nruns, h->nran);
    for (int i = 0; i < h->ntasks; i++) {
        const struct task *t = &h->tasks[i];
        put_raw(b, i ? ",{\"name\":" : "{\"name\":");
        put_str(b, t->name);
        buf_fmt(b, ",\"runs\":%" PRIu64 ",\"bad\":%" PRIu64 ",\"retried\":%"
                PRIu64 ",\"dur\":", t->runs, t->bad, t->retried);
        put_hist(b, &t->dur);
        buf_u8(b, '}');
    }
    buf_fmt(b, "],\"sample\":{\"plain_seen\":%" PRIu64 ",\"plain_cap\":%d,"
            "\"notable_seen\":%" PRIu64 ",\"notable_cap\":%d},\"bars\":[\n",
            h->plain.seen, REPORT_HTML_BARS, h->notable.seen,
            REPORT_HTML_NOTABLE);
    put_bars(b, &h->notable, &first);
    put_bars(b, &h->plain, &first);
    uint64_t span = h->last_end_us > (uint64_t)(wall_s * 1e6)
                        ? h->last_end_us : (uint64_t)(wall_s * 1e6);
    int nbins = (int)((span + h->bin_us - 1) / h->bin_us);
    nbins = nbins < 1 ? 1 : nbins > UTIL_BINS ? UTIL_BINS : nbins;
    buf_fmt(b, "],\n\"util\":{\"bin_s\":%.6f,\"lanes\":%d,\"busy_s\":[",
            h->bin_us * 1e-6, h->nlanes);
    for (int i = 0; i < nbins; i++)
        buf_fmt(b, "%s%.6f", i ? "," : "", h->busy[i] * 1e-6);
    put_raw(b, "]},\"overhead\":{\"lag\":");
    put_hist(b, &h->lag);
    put_raw(b, ",\"gap\":");
    put_hist(b, &h->gap);
    buf_fmt(b, ",\"sched_cpu_s\":%.6f},\"events_seen\":%" PRIu64
            ",\"events\":[", cpu_s, h->events_seen);
    for (int i = 0; i < h->nevents; i++) {
        buf_fmt(b, "%s[%.6f,", i ? "," : "", h->events[i].t_us * 1e-6);
        put_str(b, h->events[i].text);
        buf_u8(b, ']');
    }
    put_raw(b, "],\"holds\":[");
    for (int i = 0; i < h->nholds; i++) {
        put_raw(b, i ? ",{\"name\":" : "{\"name\":");
        put_str(b, h->holds[i].name);
        buf_fmt(b, ",\"runs\":%" PRIu64 ",\"amount_s\":%.6f,\"most\":%.6g}",
                h->holds[i].runs, h->holds[i].amount_s, h->holds[i].most);
    }
    put_raw(b, "]}");
}

static void free_all(struct report_html *h)
{
    for (size_t i = 0; i < h->plain.n; i++)
        bar_free(&h->plain.bars[i]);
    for (size_t i = 0; i < h->notable.n; i++)
        bar_free(&h->notable.bars[i]);
    for (int i = 0; i < h->ntasks; i++)
        free(h->tasks[i].name);
    free(h->plain.bars);
    free(h->notable.bars);
    free(h->busy);
    free(h->lane0);
    free(h->lane_end);
    free(h->flow);
    free(h->path);
    buf_free(&h->params);
    buf_free(&h->settings);
    for (int i = 0; i < h->nevents; i++)
        free(h->events[i].text);
    free(h->events);
    free(h);
}

void report_html_event(struct report_html *h, const char *text,
                       uint64_t now_us)
{
    if (h->events_seen++ >= REPORT_HTML_EVENTS)
        return;
    if (!h->events)
        h->events = pd__xcalloc(REPORT_HTML_EVENTS, sizeof(*h->events));
    h->events[h->nevents].t_us = now_us > h->t0_us ? now_us - h->t0_us : 0;
    h->events[h->nevents++].text = pd__xstrdup(text);
}

void report_html_hold(struct report_html *h, const char *name,
                      double amount, uint64_t start_us, uint64_t end_us)
{
    int i;

    for (i = 0; i < h->nholds; i++)
        if (strcmp(h->holds[i].name, name) == 0)
            break;
    if (i == h->nholds) {
        if (h->nholds == (int)(sizeof(h->holds) / sizeof(h->holds[0])))
            return; /* RES_MAX names a worker, 32 in all: enough */
        snprintf(h->holds[i].name, sizeof(h->holds[i].name), "%s", name);
        h->nholds++;
    }
    h->holds[i].runs++;
    if (end_us > start_us)
        h->holds[i].amount_s += amount * (double)(end_us - start_us) * 1e-6;
    if (amount > h->holds[i].most)
        h->holds[i].most = amount;
}

int report_html_finish(struct report_html *h, int code)
{
    static const char mark[] = "/*PDASK_DATA*/";
    const char *page = (const char *)report_page;
    const char *at = strstr(page, mark); /* checked by cmake/embed.cmake */
    uint64_t t_end = report_now_us();
    double wall_s = (double)(t_end - h->t0_us) * 1e-6;
    double cpu_s = thread_cpu_s() - h->cpu0;
    struct buf b = { 0 };
    int rc = 0;

    if (!h->params.len) /* no context: the run never started */
        report_html_context(h, "", NULL, NULL, NULL, 0);
    put_data(h, &b, code, wall_s, cpu_s);
    fwrite(page, 1, (size_t)(at - page), h->out);
    fwrite(b.data, 1, b.len, h->out);
    fputs(at + sizeof(mark) - 1, h->out);
    if (ferror(h->out) | fclose(h->out)) {
        log_error("report file %s: could not write it all (disk full?)",
                  h->path);
        rc = -1;
    } else {
        log_msg(PD_INFO, "pdask-mpi", "Performance report written to %s: "
                "%zu bytes, %" PRIu64 " task runs (%zu drawn), in %.3f s",
                h->path,
                b.len + sizeof(report_page) - sizeof(mark),
                h->nruns, h->plain.n + h->notable.n,
                (double)(report_now_us() - t_end) * 1e-6);
    }
    buf_free(&b);
    free_all(h);
    return rc;
}
