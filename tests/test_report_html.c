/* The HTML report's JSON escaper, and its aggregates over many runs:
 * percentiles within the histogram's bound, the stream's sample capped,
 * failed runs kept aside, every run counted in the tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "params.h"
#include "report.h"
#include "report_html.h"

static char *escaped(const char *s)
{
    static char out[256];
    struct buf b = { 0 };

    report_html_json_str(&b, s);
    buf_u8(&b, 0);
    snprintf(out, sizeof(out), "%s", (const char *)b.data);
    buf_free(&b);
    return out;
}

static void test_escape(void)
{
    CHECK_STR(escaped("plain-3"), "plain-3");
    CHECK_STR(escaped(""), "");
    CHECK_STR(escaped("a\"b\\c"), "a\\\"b\\\\c");
    CHECK_STR(escaped("</script><b>"), "\\u003c/script\\u003e\\u003cb\\u003e");
    CHECK_STR(escaped("x & y"), "x \\u0026 y");
    CHECK_STR(escaped("tab\tnl\ncr\r\x01\x1f\x7f"),
              "tab\\u0009nl\\u000acr\\u000d\\u0001\\u001f\\u007f");
    /* UTF-8 stays as it is, but for the two JS line separators. */
    CHECK_STR(escaped("caf\xc3\xa9"), "caf\xc3\xa9");
    CHECK_STR(escaped("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c"),
              "a\\u2028b\\u2029c");
    CHECK_STR(escaped("\xe2\x80"), "\xe2\x80"); /* cut short: no overread */
    /* No '<' survives: nothing can close the <script> element. */
    CHECK(!strchr(escaped("<<</SCRIPT >"), '<'));
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    CHECK(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    CHECK(fread(s, 1, (size_t)n, f) == (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* The number after key in s, which must be there. */
static double num_after(const char *s, const char *key)
{
    const char *p = strstr(s, key);
    CHECK(p);
    return strtod(p + strlen(key), NULL);
}

static size_t count(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

static void test_many_runs(void)
{
    char path[] = "/tmp/pdask-report-XXXXXX", err[256];
    int fd = mkstemp(path);
    struct config c;
    char *keys[] = { "note" }, *vals[] = { "</script>x" };
    struct pd_params p = { 1, keys, vals, NULL };
    int threads[] = { 0, 4, 4 };
    char name[64];

    CHECK(fd >= 0);
    close(fd);
    config_init(&c);
    struct report_html *h = report_html_open(path, err, sizeof(err));
    CHECK(h);
    report_html_context(h, "many", &c, &p, threads, 3);
    uint64_t t0 = report_now_us();
    /* 100000 runs of "even" (1..1000 ms, uniform) and "odd" (1 ms). */
    for (int i = 0; i < 100000; i++) {
        uint64_t dur = i % 2 ? 1000 : 1000 * (uint64_t)(1 + (i / 2) % 1000);
        snprintf(name, sizeof(name), "%s-%d", i % 2 ? "odd" : "even", i / 2);
        report_html_run(h, name, "Completed", 1 + i % 2, i % 4, t0,
                        t0 + dur, 1, NULL, t0 + dur + 50);
    }
    for (int i = 0; i < 3000; i++) {
        snprintf(name, sizeof(name), "bad-%d", i);
        report_html_run(h, name, "Failed", 1, 0, t0, t0 + 10, 2, "why <b>",
                        t0 + 20);
    }
    report_html_run(h, "never-0", "NotReady", -1, 0, 0, 0, 0, "upstream",
                    0);
    CHECK_EQ(report_html_finish(h, 1), 0);
    config_free(&c);

    char *s = slurp(path);
    unlink(path);
    CHECK(strstr(s, "\"states\":{\"Completed\":100000,\"Failed\":3000,"
                    "\"NotReady\":1,"));
    CHECK(strstr(s, "\"nruns\":103001,\"nran\":103000"));
    /* p50 of 1..1000 ms is 500 ms, p95 950 ms: within 2.2 %. */
    const char *even = strstr(s, "{\"name\":\"even\"");
    CHECK(even);
    CHECK_EQ(num_after(even, "\"runs\":"), 50000);
    double p50 = num_after(even, "\"p50\":"), p95 = num_after(even, "\"p95\":");
    double mx = num_after(even, "\"max\":");
    fprintf(stderr, "even: p50 %.4f p95 %.4f max %.4f\n", p50, p95, mx);
    CHECK(p50 > 0.500 * 0.978 && p50 < 0.500 * 1.022);
    CHECK(p95 > 0.950 * 0.978 && p95 < 0.950 * 1.022);
    CHECK(mx > 0.9999 && mx < 1.0001);
    CHECK(num_after(even, "\"total\":") > 25024.9 &&
          num_after(even, "\"total\":") < 25025.1);
    /* The stream: at most the caps, failed runs kept aside. */
    const char *bars = strstr(s, "\"bars\":[");
    CHECK(bars);
    size_t nbars = count(bars, "\n[");
    fprintf(stderr, "bars kept: %zu\n", nbars);
    CHECK_EQ(nbars, REPORT_HTML_BARS + REPORT_HTML_NOTABLE);
    CHECK_EQ(count(bars, ",3,2,\"bad-"), REPORT_HTML_NOTABLE);
    CHECK_EQ(num_after(s, "\"plain_seen\":"), 100000);
    CHECK_EQ(num_after(s, "\"notable_seen\":"), 3000);
    /* Escaped everywhere: the parameter, the failure message. */
    CHECK(strstr(s, "[\"note\",\"\\u003c/script\\u003ex\"]"));
    CHECK(strstr(s, "\"why \\u003cb\\u003e\""));
    CHECK(!strstr(s, "</script>x") && !strstr(s, "why <b>"));
    CHECK(!strstr(s, "http://") && !strstr(s, "https://"));
    /* Utilisation: 8 lanes, every run's time in the bins. */
    CHECK_EQ(num_after(s, "\"lanes\":"), 8);
    free(s);
}

int main(void)
{
    test_escape();
    test_many_runs();
    printf("report_html ok\n");
    return 0;
}
