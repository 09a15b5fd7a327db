/* The command line: options in every getopt_long form, subcommands, the
 * positional FLOW.so and parameters, and the errors a user sees. */
#include <string.h>

#include "check.h"
#include "cli.h"
#include "pdask.h"

static struct options o;
static char err[1024];

static char *argv_[32];

/* cli_parse of "pdask-mpi" and words; o.params points into argv_, which
 * outlives the call, as argv does in main. */
static int parse(char **words)
{
    int n = 0;

    argv_[n++] = "pdask-mpi";
    while (*words)
        argv_[n++] = *words++;
    argv_[n] = NULL;
    return cli_parse(n, argv_, &o, err, sizeof(err));
}
#define PARSE(...) parse((char *[]){ __VA_ARGS__, NULL })

int main(void)
{
    /* --opt=value, -n4, --set, then FLOW.so and its parameters. */
    CHECK_EQ(PARSE("-n4", "--threads-per-worker=2", "--set",
                   "client_kwargs.name=x=y", "-c", "a.ini", "f.so", "k=1",
                   "j=2"), 0);
    CHECK_STR(o.cmd, "run");
    CHECK_STR(o.path, "f.so");
    CHECK_STR(o.config_file, "a.ini");
    CHECK_EQ(o.ncli, 3);
    CHECK_STR(o.cli[0].key, "n_workers");
    CHECK_STR(o.cli[0].value, "4");
    CHECK_STR(o.cli[0].source, "--n-workers");
    CHECK_STR(o.cli[1].section, "cluster_kwargs");
    CHECK_STR(o.cli[1].value, "2");
    CHECK_STR(o.cli[2].section, "client_kwargs");
    CHECK_STR(o.cli[2].key, "name");
    CHECK_STR(o.cli[2].value, "x=y");
    CHECK_STR(o.cli[2].source, "--set");
    CHECK_EQ(o.nparams, 2);
    CHECK_STR(o.params[1], "j=2");

    /* Options after the subcommand; -- before a FLOW.so that starts with
     * a dash; a value that starts with a dash is a value. */
    CHECK_EQ(PARSE("info", "--flow=second", "-t", "-1", "--", "-f.so"), 0);
    CHECK_STR(o.cmd, "info");
    CHECK_STR(o.flow, "second");
    CHECK_STR(o.cli[0].value, "-1");
    CHECK_STR(o.path, "-f.so");
    CHECK_EQ(PARSE("info"), 0);
    CHECK(o.path == NULL);
    CHECK_EQ(PARSE("check", "-c", "x.ini", "f.so"), 0);
    CHECK_STR(o.cmd, "check");
    /* -- right after FLOW.so: the words after it are all parameters. */
    CHECK_EQ(PARSE("f.so", "--", "-odd=1"), 0);
    CHECK_EQ(o.nparams, 1);
    CHECK_STR(o.params[0], "-odd=1");

    /* An option after FLOW.so is misplaced, not a bad parameter. */
    CHECK_EQ(PARSE("f.so", "-n", "4"), PD_EINVAL);
    CHECK_STR(err, "option -n must come before FLOW.so: pdask-mpi "
                   "[options] FLOW.so [key=value ...]");
    CHECK_EQ(PARSE("f.so", "k=1", "--threads-per-worker", "2"), PD_EINVAL);
    CHECK(strstr(err, "option --threads-per-worker must come before "
                      "FLOW.so") != NULL);
    CHECK_EQ(PARSE("f.so", "--timeout=5"), PD_EINVAL);
    CHECK(strstr(err, "option --timeout must come before FLOW.so") != NULL);
    CHECK_EQ(PARSE("check", "f.so", "-c", "x.ini"), PD_EINVAL);
    CHECK(strstr(err, "option -c must come before FLOW.so") != NULL);
    CHECK_EQ(PARSE("f.so", "--nope"), PD_EINVAL);
    CHECK(strstr(err, "unknown option --nope after FLOW.so") != NULL);

    /* Bad options: unknown, ambiguous, missing or unwanted values. */
    CHECK_EQ(PARSE("--nope", "f.so"), PD_EINVAL);
    CHECK_STR(err, "unknown option --nope; see pdask-mpi --help");
    CHECK_EQ(PARSE("-zq", "f.so"), PD_EINVAL);
    CHECK_STR(err, "unknown option -z; see pdask-mpi --help");
    CHECK_EQ(PARSE("--t", "1", "f.so"), PD_EINVAL);
    CHECK(strstr(err, "option --t is ambiguous") != NULL);
    CHECK_EQ(PARSE("f.so", "-"), 0);  /* "-": params_parse rejects it */
    CHECK_EQ(PARSE("--threads"), PD_EINVAL);  /* an abbreviation */
    CHECK_STR(err, "option --threads needs a value; see pdask-mpi --help");
    CHECK_EQ(PARSE("-n"), PD_EINVAL);
    CHECK_STR(err, "option -n needs a value; see pdask-mpi --help");
    CHECK_EQ(PARSE("--version=2"), PD_EINVAL);
    CHECK_STR(err, "option --version takes no value; see pdask-mpi --help");
    CHECK_EQ(PARSE("--set", "n_workers=2", "f.so"), PD_EINVAL);
    CHECK_STR(err, "--set n_workers=2: write SECTION.KEY=VALUE, e.g. "
                   "--set cluster_kwargs.n_workers=4");

    /* Positional mistakes keep their messages. */
    CHECK_EQ(PARSE("-t", "2"), PD_EINVAL);
    CHECK(strstr(err, "no flow given") != NULL);
    CHECK_EQ(PARSE("info", "f.so", "k=1"), PD_EINVAL);
    CHECK_STR(err, "info takes only FLOW.so, not 'k=1'");
    return 0;
}
