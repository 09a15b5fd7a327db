/* Log output: control characters in values are escaped, so a run name, a
 * parameter or a pd_fail message cannot split or forge a log line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "log.h"

/* Everything log.c wrote to stderr while fn ran, in buf. */
static void capture(void (*fn)(void), char *buf, size_t len)
{
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);
    size_t n;

    CHECK(tmp != NULL && saved >= 0);
    CHECK(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    fn();
    CHECK(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    rewind(tmp);
    n = fread(buf, 1, len - 1, tmp);
    buf[n] = '\0';
    fclose(tmp);
}

static void forge(void)
{
    log_msg(PD_WARNING, "nightly\n12:00:00.000 | ERROR", "value %s",
            "a\nb\tc\rd\x01\x7f\\n ok");
    log_error("bad %s", "x\n12:00:00.000 | INFO | forged");
}

static void long_line(void)
{
    char *big = malloc(5000);
    memset(big, '\n', 4999);
    big[4999] = '\0';
    log_error("%s", big);
    free(big);
}

int main(void)
{
    static char out[16384];
    const char *nl;

    capture(forge, out, sizeof(out));
    CHECK(strstr(out, " | WARNING | nightly\\n12:00:00.000 | ERROR | "
                      "value a\\nb\\tc\\rd\\x01\\x7f\\n ok\n") != NULL);
    CHECK(strstr(out, "pdask-mpi: error: bad x\\n12:00:00.000 | INFO | "
                      "forged\n") != NULL);
    /* Two messages, two lines. */
    nl = strchr(out, '\n');
    CHECK(nl && strchr(nl + 1, '\n') && !strchr(strchr(nl + 1, '\n') + 1,
                                                '\n'));

    /* log_escape: each escape whole or not at all, always terminated. */
    char small[8];
    CHECK_EQ(log_escape(small, sizeof(small), "abcd\x02", 5), 4);
    CHECK_STR(small, "abcd");
    CHECK_EQ(log_escape(small, sizeof(small), "a\tb", 3), 4);
    CHECK_STR(small, "a\\tb");

    /* Escaping grows a line up to four times; it is cut, still one line. */
    capture(long_line, out, sizeof(out));
    CHECK(strncmp(out, "pdask-mpi: error: \\n\\n", 22) == 0);
    CHECK(strchr(out, '\n') == out + strlen(out) - 1);
    return 0;
}
