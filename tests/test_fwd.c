/* fwd.c: frames, the line splitter, and a worker's stdio forwarded
 * through the pipe into TAG_LOG entries (fwd_start .. fwd_stop in this
 * process: its fds 1 and 2 are the pipe meanwhile). */
#define _GNU_SOURCE /* pipe2 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fwd.h"

/* Lines the splitter emitted. */
static char got[8][5000], tags[8][128];
static size_t lens[8];
static bool cuts[8];
static int ngot;

static void keep(void *arg, const char *text, size_t n, const char *tag,
                 bool cut)
{
    (void)arg;
    CHECK(ngot < 8);
    memcpy(got[ngot], text, n);
    got[ngot][n] = '\0';
    lens[ngot] = n;
    snprintf(tags[ngot], sizeof(tags[ngot]), "%s", tag);
    cuts[ngot++] = cut;
}

static void frames(void)
{
    int p[2], kind;
    char buf[8192], run[128];
    const char *text;
    size_t n;

    CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
    fwd_frame(p[1], PD_WARNING, "shout-3", "disk full", 9);
    ssize_t k = read(p[0], buf, sizeof(buf));
    CHECK(k > 0 && buf[k - 1] == '\n');
    CHECK(fwd_unframe(buf, (size_t)k - 1, &kind, run, sizeof(run), &text,
                      &n));
    CHECK_EQ(kind, PD_WARNING);
    CHECK_STR(run, "shout-3");
    CHECK_EQ(n, 9);
    CHECK(memcmp(text, "disk full", 9) == 0);
    /* Raw text, and a frame without its separator, are no frames. */
    CHECK(!fwd_unframe("#3", 2, &kind, run, sizeof(run), &text, &n));
    CHECK(!fwd_unframe("\x1e" "1abc", 5, &kind, run, sizeof(run), &text,
                       &n));
    CHECK(!fwd_unframe("\x1e" "9a\x1f" "b", 5, &kind, run, sizeof(run),
                       &text, &n));
    close(p[0]);
    close(p[1]);
}

static void lines(void)
{
    struct fwd_lines ls = { 0 };
    static char big[6000];

    ngot = 0;
    fwd_lines_feed(&ls, "ab", 2, "a-1", keep, NULL);
    fwd_lines_feed(&ls, "c\nde", 4, "a-1", keep, NULL);
    fwd_lines_feed(&ls, "f\n\n", 3, "b-2", keep, NULL);
    CHECK_EQ(ngot, 3);
    CHECK_STR(got[0], "abc");
    CHECK_STR(tags[0], "a-1");
    CHECK_STR(got[1], "def");
    CHECK_STR(tags[1], "");         /* bytes of two runs: neither */
    CHECK_STR(got[2], "");
    CHECK_STR(tags[2], "b-2");

    /* Longer than FWD_LINE_MAX: cut and marked, the rest dropped. */
    ngot = 0;
    memset(big, 'x', sizeof(big));
    fwd_lines_feed(&ls, big, sizeof(big), "", keep, NULL);
    fwd_lines_feed(&ls, "yy\nok\n", 6, "", keep, NULL);
    CHECK_EQ(ngot, 2);
    CHECK_EQ(lens[0], FWD_LINE_MAX);
    CHECK(cuts[0]);
    CHECK_STR(got[1], "ok");
    CHECK(!cuts[1]);

    /* A frame written while a raw line was half written. */
    ngot = 0;
    fwd_lines_feed(&ls, "half", 4, "", keep, NULL);
    fwd_lines_feed(&ls, "\x1e" "1r-1\x1f" "msg\n", 10, "", keep, NULL);
    fwd_lines_feed(&ls, " line\nlast", 10, "", keep, NULL);
    fwd_lines_end(&ls, keep, NULL);
    CHECK_EQ(ngot, 3);
    CHECK_STR(got[0], "\x1e" "1r-1\x1f" "msg");
    CHECK_STR(got[1], "half line");
    CHECK_STR(got[2], "last");
    fwd_lines_free(&ls);
}

/* printf and pd_log-style frames through fwd_start's pipe. */
static void streams(void)
{
    struct fwd f;
    struct proto_log l;
    char runs[8][128], texts[8][128];
    int kinds[8], n = 0;
    char path[] = "/tmp/test_fwd.XXXXXX", left[256] = "";
    int fd = mkstemp(path), saved2 = dup(2);

    CHECK(fd >= 0 && saved2 >= 0);
    CHECK(dup2(fd, 2) == 2);
    CHECK_EQ(fwd_start(&f), 0);
    CHECK(fwd_framing());
    fwd_set_run("shout-3");
    printf("#3\n");
    fprintf(stderr, "warn");
    fwd_frame(STDERR_FILENO, PD_INFO, "shout-3", "logged", 6);
    printf("no newline");
    fwd_flush_stdio();
    fwd_set_run(NULL);
    CHECK(write(STDOUT_FILENO, "raw\n", 4) == 4);
    CHECK(fwd_read(&f));
    proto_set_count(&f.msg, f.n);   /* as fwd_send does */
    struct rd r = rd_init(f.msg.data, f.msg.len);
    uint32_t count = proto_get_count(&r);
    CHECK_EQ(count, f.n);
    for (uint32_t i = 0; i < count && n < 8; i++, n++) {
        CHECK_EQ(proto_get_log(&r, &l), 0);
        kinds[n] = l.kind;
        snprintf(runs[n], sizeof(runs[n]), "%s", l.run);
        snprintf(texts[n], sizeof(texts[n]), "%s", l.text);
    }
    f.n = 0;            /* sent, as far as fwd_stop knows */
    /* Written after the last read: fwd_stop puts it on the saved stderr
     * (a file here). */
    fwd_set_run("late-1");
    printf("left over\n");
    fwd_set_run(NULL);
    fwd_stop(&f);
    CHECK(!fwd_framing());
    CHECK(dup2(saved2, 2) == 2);
    close(saved2);
    CHECK(pread(fd, left, sizeof(left) - 1, 0) > 0);
    close(fd);
    unlink(path);
    CHECK_STR(left, "late-1: left over\n");

    /* stderr is line-buffered: "warn" went out with the flush, after
     * the frame written meanwhile. */
    CHECK_EQ(n, 5);
    CHECK_EQ(kinds[0], LOG_OUTPUT);
    CHECK_STR(runs[0], "shout-3");
    CHECK_STR(texts[0], "#3");
    CHECK_EQ(kinds[1], PD_INFO);
    CHECK_STR(texts[1], "logged");
    CHECK_STR(texts[2], "no newline");
    CHECK_STR(runs[2], "shout-3");
    CHECK_STR(texts[3], "warn");
    CHECK_STR(runs[4], "");     /* a direct write: no run */
    CHECK_STR(texts[4], "raw");
}

/* The crash handler's copy: frames as "run: text", raw bytes as they
 * are, a frame without a run as its text alone. */
static void dump(void)
{
    int in[2], out[2];
    char buf[256] = "";

    CHECK_EQ(pipe2(in, O_NONBLOCK), 0);
    CHECK_EQ(pipe2(out, O_NONBLOCK), 0);
    fwd_frame(in[1], LOG_OUTPUT, "shout-3", "#3", 2);
    CHECK(write(in[1], "raw\n", 4) == 4);
    fwd_frame(in[1], PD_ERROR, "", "no run", 6);
    fwd_dump(in[0], out[1]);
    CHECK(read(out[0], buf, sizeof(buf) - 1) > 0);
    CHECK_STR(buf, "shout-3: #3\nraw\nno run\n");
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
}

int main(void)
{
    frames();
    lines();
    dump();
    streams();
    return 0;
}
