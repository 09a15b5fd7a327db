/* fuzz_config.c - libFuzzer harness of the settings reader (config.c).
 * The input is the text of an INI file: written to an unlinked temporary
 * file, read as /proc/self/fd/N, and loaded with config_load_ini() as
 * `pdask-mpi -c FILE` does, then validated and printed. The same bytes,
 * as one string, also go to config_parse_resources(). A load either fails
 * with a message naming the file, or leaves every setting inside its
 * schema (config.h). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "util.h"

#define REQUIRE(cond)                                                        \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz_config.c:%d: %s\n", __LINE__, #cond);      \
            abort();                                                         \
        }                                                                    \
    } while (0)

static char path[4096];
static int fd = -1;
static FILE *devnull;
/* Whether error line numbers are checked: not while PDASK_FUZZ_KNOWN
 * names the known bug "ini-line" (README.md, known/config/). */
static bool check_lines = true;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *tmp = getenv("TMPDIR"), *known;

    (void)argc;
    (void)argv;
    snprintf(path, sizeof(path), "%s/pdask-fuzz-ini-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    fd = mkstemp(path);
    devnull = fopen("/dev/null", "w");
    if (fd < 0 || !devnull) {
        perror("fuzz_config: temporary file");
        exit(1);
    }
    /* libFuzzer ends with _Exit, past any atexit(): unlink the file now
     * and load it by its descriptor. */
    unlink(path);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    known = getenv("PDASK_FUZZ_KNOWN");
    check_lines = !(known && strstr(known, "ini-line"));
    /* "set again" warnings would flood the output; they are one
     * log_msg() call, and config_print() escapes every value anyway. */
    log_set_level(PD_ERROR);
    return 0;
}

/* Every setting of a loaded file is inside the bounds config.h states. */
static void check_schema(const struct config *c)
{
    char err[512];

    REQUIRE(c->n_workers >= 0 && c->n_workers <= 4096);
    REQUIRE(c->threads_per_worker >= 0 && c->threads_per_worker <= 1024);
    REQUIRE(c->prefetch >= 0 && c->prefetch <= 65536);
    REQUIRE(c->adapt_minimum >= 0 && c->adapt_minimum <= 4096);
    REQUIRE(c->adapt_maximum >= 0 && c->adapt_maximum <= 4096);
    REQUIRE(c->timeout_s > 0 && c->timeout_s <= 1e6);
    REQUIRE(c->heartbeat_s > 0 && c->heartbeat_s <= 1e6);
    REQUIRE(strcmp(c->isolation, "thread") == 0 ||
            strcmp(c->isolation, "process") == 0);
    REQUIRE(log_parse_level(c->log_level) >= 0);
    REQUIRE(config_parse_resources(c->resources, err, sizeof(err)) == 0);
    REQUIRE(c->address && c->cluster_class && c->name);
}

/* An error at a line names one of the file's lines: "path:N: ...". */
static void check_line(const char *err, const uint8_t *data, size_t size)
{
    size_t lines = 0, len = strlen(path);
    char *end;
    long n;

    if (strncmp(err, path, len) != 0 || err[len] != ':' ||
        err[len + 1] < '0' || err[len + 1] > '9')
        return;
    n = strtol(err + len + 1, &end, 10);
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    lines += size && data[size - 1] != '\n';
    if (n < 1 || (size_t)n > lines) {
        fprintf(stderr, "fuzz_config: %zu lines, but: %s\n", lines, err);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config c;
    char err[1024];
    char *text;
    int rc;

    if (ftruncate(fd, 0) != 0 ||
        pwrite(fd, data, size, 0) != (ssize_t)size) {
        perror("fuzz_config: write");
        abort();
    }
    config_init(&c);
    err[0] = '\0';
    rc = config_load_ini(&c, path, err, sizeof(err));
    if (rc == 0) {
        check_schema(&c);
        config_validate(&c, err, sizeof(err));
        config_print(&c, devnull);
    } else {
        REQUIRE(rc == PD_EINVAL);
        REQUIRE(memchr(err, '\0', sizeof(err)));
        REQUIRE(strstr(err, path));
        if (check_lines)
            check_line(err, data, size);
    }
    config_free(&c);

    /* As --resources or resources = ... would give it. */
    text = pd__xmalloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    err[0] = '\0';
    rc = config_parse_resources(text, err, sizeof(err));
    REQUIRE(rc == 0 || (rc == PD_EINVAL && err[0]));
    free(text);
    return 0;
}
