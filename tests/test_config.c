/* Settings: bounds of every number, PD_FLOW settings, the INI file that
 * applies, and the errors a user sees. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"

static char err[1024];

/* config_set on a fresh config; the return code, err holds the message. */
static int set(struct config *c, const char *section, const char *key,
               const char *value)
{
    err[0] = '\0';
    return config_set(c, section, key, value, "--set", err, sizeof(err));
}

#define CHECK_ERR(part) CHECK(strstr(err, (part)) != NULL)

/* Every INT and REAL key has a maximum as well as a minimum. */
static void test_bounds(void)
{
    struct config c;

    config_init(&c);
    CHECK_EQ(set(&c, "cluster_kwargs", "n_workers", "4096"), 0);
    CHECK_EQ(c.n_workers, 4096);
    CHECK_EQ(set(&c, "cluster_kwargs", "n_workers", "4097"), PD_EINVAL);
    CHECK_STR(err, "--set: n_workers = 4097 is above its maximum 4096; "
                   "give 0 to 4096");
    /* Wrapped to 0 through int once; a huge malloc for 2^32 - 1. */
    CHECK_EQ(set(&c, "cluster_kwargs", "n_workers", "4294967296"),
             PD_EINVAL);
    CHECK_ERR("n_workers = 4294967296 is above its maximum 4096");
    CHECK_EQ(set(&c, "cluster_kwargs", "n_workers", "4294967295"),
             PD_EINVAL);
    /* Beyond long: still "above its maximum", not "not a number". */
    CHECK_EQ(set(&c, "cluster_kwargs", "n_workers",
                 "99999999999999999999999"), PD_EINVAL);
    CHECK_ERR("is above its maximum 4096");
    CHECK_EQ(set(&c, "cluster_kwargs", "n_workers",
                 "-99999999999999999999999"), PD_EINVAL);
    CHECK_ERR("is below its minimum 0");
    CHECK_EQ(c.n_workers, 4096);

    CHECK_EQ(set(&c, "cluster_kwargs", "threads_per_worker", "1024"), 0);
    CHECK_EQ(set(&c, "cluster_kwargs", "threads_per_worker", "1025"),
             PD_EINVAL);
    CHECK_ERR("threads_per_worker = 1025 is above its maximum 1024");
    CHECK_EQ(set(&c, "cluster_kwargs", "threads_per_worker", "-1"),
             PD_EINVAL);
    CHECK_STR(err, "--set: threads_per_worker = -1 is below its minimum 0; "
                   "give 0 to 1024");
    CHECK_EQ(set(&c, "cluster_kwargs", "prefetch", "65537"), PD_EINVAL);
    CHECK_ERR("prefetch = 65537 is above its maximum 65536");
    CHECK_EQ(set(&c, "adapt_kwargs", "minimum", "4097"), PD_EINVAL);
    CHECK_EQ(set(&c, "adapt_kwargs", "maximum", "4097"), PD_EINVAL);
    CHECK_ERR("maximum = 4097 is above its maximum 4096");

    /* Seconds: above 0, at most 1e6; 1e19 overflowed time_t. */
    CHECK_EQ(set(&c, "client_kwargs", "timeout", "1000000"), 0);
    CHECK(c.timeout_s == 1e6);
    CHECK_EQ(set(&c, "client_kwargs", "timeout", "1e19"), PD_EINVAL);
    CHECK_STR(err, "--set: timeout = 1e19 is above its maximum 1000000 "
                   "seconds; give more than 0 and at most 1000000");
    CHECK_EQ(set(&c, "client_kwargs", "timeout", "inf"), PD_EINVAL);
    CHECK_ERR("is above its maximum");
    CHECK_EQ(set(&c, "client_kwargs", "timeout", "0"), PD_EINVAL);
    CHECK_STR(err, "--set: timeout = 0 must be above 0 seconds; give more "
                   "than 0 and at most 1000000");
    CHECK_EQ(set(&c, "client_kwargs", "timeout", "nan"), PD_EINVAL);
    CHECK_ERR("timeout = \"nan\" is not a number of seconds");
    CHECK(c.timeout_s == 1e6);
    config_free(&c);
}

/* Integers in settings are decimal, as parameters are. */
static void test_decimal(void)
{
    struct config c;

    config_init(&c);
    CHECK_EQ(set(&c, "cluster_kwargs", "n_workers", "010"), 0);
    CHECK_EQ(c.n_workers, 10);
    CHECK_EQ(set(&c, "cluster_kwargs", "n_workers", "0x1f"), PD_EINVAL);
    CHECK_ERR("n_workers = \"0x1f\" is not a whole number");
    config_free(&c);
}

/* PD_FLOW(...) settings land, with PD_FLOW(name) as their source. */
static void test_flow_settings(void)
{
    struct pd_flow_def def = { .name = "f", .timeout_s = 42.5,
                               .n_workers = 3, .adapt_minimum = 2,
                               .adapt_maximum = 2 };
    struct config c;

    config_init(&c);
    CHECK_EQ(config_apply_flow(&c, &def, err, sizeof(err)), 0);
    CHECK(c.timeout_s == 42.5);
    CHECK_STR(c.source[CFG_timeout_s], "PD_FLOW(f)");
    CHECK_EQ(c.n_workers, 3);
    CHECK_STR(c.source[CFG_n_workers], "PD_FLOW(f)");
    /* Untouched settings keep their defaults. */
    CHECK(c.prefetch == 8 && !config_is_set(&c, CFG_prefetch));
    /* minimum == maximum is a fixed size: allowed. */
    CHECK_EQ(config_validate(&c, err, sizeof(err)), 0);
    CHECK_EQ(set(&c, "adapt_kwargs", "minimum", "3"), 0);
    CHECK_EQ(config_validate(&c, err, sizeof(err)), PD_EINVAL);
    CHECK_ERR("adapt_kwargs minimum 3 is above maximum 2");
    config_free(&c);
}

/* Resource amounts are positive: GPU=0 asks for nothing. */
static void test_resources(void)
{
    CHECK_EQ(config_parse_resources("GPU=1,process=1", err, sizeof(err)), 0);
    CHECK_EQ(config_parse_resources("memory=4e9", err, sizeof(err)), 0);
    CHECK_EQ(config_parse_resources("GPU=0", err, sizeof(err)), 0);
    CHECK_EQ(config_parse_resources("GPU=-1", err, sizeof(err)), PD_EINVAL);
    CHECK_EQ(config_parse_resources("GPU=1;CPU=2", err, sizeof(err)),
             PD_EINVAL);
}

/* Write text (n bytes) to a new temporary file named in path. */
static void write_file(char *path, const char *text, size_t n)
{
    int fd = mkstemp(path);

    CHECK(fd >= 0);
    CHECK_EQ(write(fd, text, n), (long long)n);
    close(fd);
}

static int load(const char *path)
{
    struct config c;
    int rc;

    config_init(&c);
    err[0] = '\0';
    rc = config_load_ini(&c, path, err, sizeof(err));
    config_free(&c);
    return rc;
}

/* Only a regular file of sane size is read, and read as text. */
static void test_ini_files(void)
{
    char path[] = "/tmp/pdask-test-ini-XXXXXX", fifo[64], dir[] =
        "/tmp/pdask-test-dir-XXXXXX";
    static const char nul[] = "[cluster_kwargs]\nn_workers = 2\0junk\n";
    static const char open_hdr[] = "[cluster_kwargs\nn_workers = 2\n";

    write_file(path, nul, sizeof(nul) - 1);
    CHECK_EQ(load(path), PD_EINVAL);
    CHECK_ERR(":2: NUL byte at column 14: a settings file is plain text");
    unlink(path);

    strcpy(path, "/tmp/pdask-test-ini-XXXXXX");
    write_file(path, open_hdr, sizeof(open_hdr) - 1);
    CHECK_EQ(load(path), PD_EINVAL);
    CHECK_ERR(":1: section header \"[cluster_kwargs\" is not closed");
    /* Over 1 MiB (sparse): not a settings file. */
    CHECK_EQ(truncate(path, (1L << 20) + 1), 0);
    CHECK_EQ(load(path), PD_EINVAL);
    CHECK_ERR(": 1048577 bytes, over the 1048576-byte limit");
    unlink(path);

    CHECK(mkdtemp(dir) != NULL);
    CHECK_EQ(load(dir), PD_EINVAL);
    CHECK_ERR(": is a directory, not an INI file");
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    CHECK_EQ(mkfifo(fifo, 0600), 0);
    CHECK_EQ(load(fifo), PD_EINVAL);   /* returns: no hang in open() */
    CHECK_ERR(": is a FIFO, not an INI file");
    unlink(fifo);
    rmdir(dir);
    CHECK_EQ(load("/dev/zero"), PD_EINVAL);
    CHECK_ERR("/dev/zero: is a character device, not an INI file");
}

/* info's settings table shows a value with a newline on one line. */
static void test_print_escapes(void)
{
    struct config c;
    char out[4096];
    FILE *f = tmpfile();
    size_t n;

    CHECK(f != NULL);
    config_init(&c);
    CHECK_EQ(set(&c, "client_kwargs", "name", "a\nforged = 1"), 0);
    config_print(&c, f);
    rewind(f);
    n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = '\0';
    fclose(f);
    CHECK(strstr(out, "client_kwargs.name                 = a\\nforged = 1 "
                      "   (--set)\n") != NULL);
    CHECK(strstr(out, "\nforged") == NULL);
    config_free(&c);
}

/* -c FILE, else ./pdask.ini, else $PDASK_CONFIG. */
static void test_pick_file(void)
{
    char dir[] = "/tmp/pdask-test-config-XXXXXX";
    char cwd[4096];
    FILE *f;

    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
    CHECK(mkdtemp(dir) != NULL);
    CHECK_EQ(chdir(dir), 0);
    setenv("PDASK_CONFIG", "/etc/elsewhere.ini", 1);
    CHECK_STR(config_pick_file(NULL), "/etc/elsewhere.ini");
    f = fopen("pdask.ini", "w");
    CHECK(f != NULL);
    fclose(f);
    /* Both present: the local file wins. */
    CHECK_STR(config_pick_file(NULL), "pdask.ini");
    CHECK_STR(config_pick_file("mine.ini"), "mine.ini");
    unsetenv("PDASK_CONFIG");
    CHECK_EQ(unlink("pdask.ini"), 0);
    CHECK(config_pick_file(NULL) == NULL);
    CHECK_EQ(chdir(cwd), 0);
    CHECK_EQ(rmdir(dir), 0);
}

int main(void)
{
    test_bounds();
    test_decimal();
    test_flow_settings();
    test_resources();
    test_pick_file();
    test_print_escapes();
    test_ini_files();
    return 0;
}
