/* key=value parameters: parsing, typed reads, and the errors a user sees. */
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

#include "check.h"
#include "params.h"

static int errors;
static void count_error(void)
{
    errors++;
}

int main(void)
{
    struct pd_params p;
    char err[256];
    char *good[] = { "n=10", "x=0.25", "name=hello world", "empty=",
                     "dec=010" };
    char *noeq[] = { "n=1", "highest_number" };
    char *nokey[] = { "=5" };
    char *twice[] = { "n=1", "n=2" };
    int from = 0;

    CHECK_EQ(params_parse(&p, 5, good, err, sizeof(err)), 0);
    p.st->on_error = count_error;
    CHECK_EQ(pd_param_int(&p, "n", 3), 10);
    CHECK_EQ(pd_param_int(&p, "dec", 3), 10);
    CHECK(pd_param_real(&p, "x", 1.0) == 0.25);
    CHECK_STR(pd_param_str(&p, "name", "d"), "hello world");
    CHECK_STR(pd_param_str(&p, "empty", "d"), "");
    CHECK_EQ(pd_param_int(&p, "missing", 7), 7);
    CHECK_EQ(errors, 0);
    CHECK(params_unused(&p, &from) == NULL);

    /* A value of the wrong type names the parameter and what to pass. */
    CHECK_EQ(pd_param_int(&p, "name", 5), 5);
    CHECK_EQ(errors, 1);
    CHECK_STR(p.st->error, "parameter name=hello world: not an integer; "
                           "pass e.g. name=10");
    CHECK(pd_param_real(&p, "empty", 2.0) == 2.0);
    CHECK_EQ(errors, 2);
    params_free(&p);

    CHECK_EQ(params_parse(&p, 2, noeq, err, sizeof(err)), PD_EINVAL);
    CHECK(strstr(err, "'highest_number' is not key=value") != NULL);
    CHECK_EQ(params_parse(&p, 1, nokey, err, sizeof(err)), PD_EINVAL);
    CHECK_EQ(params_parse(&p, 2, twice, err, sizeof(err)), PD_EINVAL);
    CHECK(strstr(err, "'n' is given twice") != NULL);

    /* Integers are decimal: no octal, no hex (base 0 read 010 as 8). */
    char *bases[] = { "i=09", "j=0x1f", "k=-010" };
    errors = 0;
    CHECK_EQ(params_parse(&p, 3, bases, err, sizeof(err)), 0);
    p.st->on_error = count_error;
    CHECK_EQ(pd_param_int(&p, "i", 0), 9);
    CHECK_EQ(pd_param_int(&p, "k", 0), -10);
    CHECK_EQ(errors, 0);
    CHECK_EQ(pd_param_int(&p, "j", 5), 5);
    CHECK_EQ(errors, 1);
    CHECK_STR(p.st->error, "parameter j=0x1f: not an integer; pass e.g. "
                           "j=10");
    params_free(&p);

    /* key=@FILE reads the value (without its final newline), for values
     * longer than one argument may be; key=@@x is the literal @x. */
    char path[] = "/tmp/pdask-test-params-XXXXXX", arg[64], miss[64];
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "line 1\nline 2\n", 14), 14);
    close(fd);
    snprintf(arg, sizeof(arg), "text=@%s", path);
    char *at[] = { arg, "mail=@@example", "plain=a@b" };
    CHECK_EQ(params_parse(&p, 3, at, err, sizeof(err)), 0);
    CHECK_STR(pd_param_str(&p, "text", "d"), "line 1\nline 2");
    CHECK_STR(pd_param_str(&p, "mail", "d"), "@example");
    CHECK_STR(pd_param_str(&p, "plain", "d"), "a@b");
    params_free(&p);
    snprintf(miss, sizeof(miss), "text=@%s.missing", path);
    char *missing[] = { miss };
    CHECK_EQ(params_parse(&p, 1, missing, err, sizeof(err)), PD_EINVAL);
    CHECK(strstr(err, ".missing\": No such file or directory; name a "
                      "readable file of at most 16 MiB, or write "
                      "text=@@... for a value that starts with @") != NULL);
    char *dir[] = { "d=@/tmp" }, *empty[] = { "e=@" };
    CHECK_EQ(params_parse(&p, 1, dir, err, sizeof(err)), PD_EINVAL);
    CHECK(strstr(err, "\"/tmp\": not a regular file") != NULL);
    CHECK_EQ(params_parse(&p, 1, empty, err, sizeof(err)), PD_EINVAL);
    CHECK(strstr(err, "no file named after @") != NULL);
    fd = open(path, O_WRONLY | O_TRUNC);
    CHECK_EQ(write(fd, "a\0b", 3), 3);
    close(fd);
    CHECK_EQ(params_parse(&p, 1, at, err, sizeof(err)), PD_EINVAL);
    CHECK(strstr(err, "it has a NUL byte") != NULL);
    unlink(path);

    /* Unread parameters are reported (likely misspelt). */
    CHECK_EQ(params_parse(&p, 5, good, err, sizeof(err)), 0);
    pd_param_int(&p, "n", 0);
    from = 0;
    CHECK_STR(params_unused(&p, &from), "x");
    CHECK_STR(params_unused(&p, &from), "name");
    params_free(&p);
    return 0;
}
