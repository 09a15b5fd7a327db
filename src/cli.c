/* cli.c - see cli.h. Options are read with glibc's getopt_long in
 * REQUIRE_ORDER mode ("+"): scanning stops at FLOW.so, so the flow's
 * key=value words are never taken for options, and an option written
 * after FLOW.so is reported as misplaced rather than as a bad parameter. */
#include "cli.h"

#include <getopt.h>
#include <hwloc.h>
#include <mpi.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "pdask.h"
#include "util.h"

const char cli_usage[] =
    "usage: mpirun -n N pdask-mpi [options] FLOW.so [key=value ...]\n"
    "       pdask-mpi [options] FLOW.so [key=value ...]   (temporary cluster)\n"
    "       pdask-mpi info [options] [FLOW.so]\n"
    "       pdask-mpi check [options] FLOW.so\n"
    "       mpirun -n N pdask-mpi serve [--scheduler-file FILE] [--listen URL]\n"
    "       pdask-mpi serve --shutdown --scheduler-file FILE\n"
    "       pdask-mpi --scheduler-file FILE|--address URL FLOW.so [k=v ...]\n"
    "       pdask-mpi --help | --version\n"
    "\n"
    "Runs the flow declared with PD_FLOW in FLOW.so: rank 0 runs the flow\n"
    "and schedules, the other ranks run its tasks on threads. Without\n"
    "mpirun (or with -n 1) it spawns a temporary cluster that fills the\n"
    "node. key=value words are the flow's parameters; key=@FILE reads the\n"
    "value from FILE (without its final newline), key=@@text gives the\n"
    "literal value @text.\n"
    "\n"
    "Options come before FLOW.so; write them as --opt VALUE, --opt=VALUE,\n"
    "-n 4 or -n4. -- ends the options (for a FLOW.so that starts with -).\n"
    "\n"
    "options (each also an INI setting; the command line wins):\n"
    "  -c, --config FILE           INI file (default ./pdask.ini, else\n"
    "                              $PDASK_CONFIG)\n"
    "  --flow NAME                 the flow to run when FLOW.so has several\n"
    "  --cluster-class CLASS       auto, mpi (the job's ranks), spawn, or\n"
    "                              PATH.so:SYMBOL (a cluster plugin)\n"
    "  -n, --n-workers N           workers to spawn for a temporary cluster\n"
    "                              (0 to 4096)\n"
    "  -t, --threads-per-worker N  executor threads per worker, 0 to 1024\n"
    "                              (default 0: the cores of its cpuset\n"
    "                              divided among the worker ranks that\n"
    "                              share them, by hwloc)\n"
    "  --resources LIST            worker resources, e.g. GPU=1,process=1\n"
    "  --adapt-min N, --adapt-max N  adaptive scaling bounds (0 to 4096)\n"
    "  --prefetch N                short task runs queued ahead on each\n"
    "                              worker beyond its threads (default 8,\n"
    "                              at most 65536)\n"
    "  --timeout SECONDS           start-up timeout (client_kwargs), more\n"
    "                              than 0 and at most 1000000\n"
    "  --log-level LEVEL           debug, info, warning or error\n"
    "  --status FILE               a line per finished task run, as it goes\n"
    "                              (tab-separated; tail -f it)\n"
    "  --trace FILE                a Chrome trace (Perfetto, chrome://tracing)\n"
    "  --report FILE               an HTML performance report, written at\n"
    "                              the end (open it in any browser)\n"
    "  --no-progress               no progress bar (terminal) or progress\n"
    "                              lines (every 30 s in a batch log)\n"
    "  --journal FILE              resume journal: task runs it has as ended\n"
    "                              are not run again (same flow and build)\n"
    "  --retry-failed              with --journal: run the failed ones again\n"
    "  --grace-period SECONDS      after SIGINT/SIGTERM, running task runs\n"
    "                              get this long to end (default 10; 0: none)\n"
    "  --address URL               run on a served cluster (tcp://HOST:PORT)\n"
    "  --scheduler-file FILE       serve writes it, a client reads it\n"
    "  --token-file FILE           else PDASK_TOKEN, the scheduler file,\n"
    "                              ~/.pdask/token\n"
    "  --listen URL                serve: default tcp://127.0.0.1:8786\n"
    "  --shutdown                  serve: stop the cluster\n"
    "  --set SECTION.KEY=VALUE     any INI setting\n"
    "\n"
    "exit codes: 0 the flow and all its task runs completed, 1 something\n"
    "failed, 2 usage, configuration or load error, 3 a worker was lost,\n"
    "4 stopped before the job's end time (resume with --journal),\n"
    "128 + signal when SIGINT or SIGTERM stopped the run.\n";

/* getopt_long values of the options that are not a letter. */
enum { OPT_VERSION = 256, OPT_FLOW, OPT_SET, OPT_NO_PROGRESS,
       OPT_RETRY_FAILED, OPT_SHUTDOWN, OPT_SETTING };

/* Command-line options that are settings: --name, short letter (or 0),
 * INI section and key. Option k has the value OPT_SETTING + k, or its
 * letter. */
static const struct {
    const char *name;
    int letter;
    const char *section, *key;
} settings[] = {
    { "--address", 0, "task_runner", "address" },
    { "--scheduler-file", 0, "task_runner", "scheduler_file" },
    { "--token-file", 0, "task_runner", "token_file" },
    { "--listen", 0, "serve", "listen" },
    { "--cluster-class", 0, "task_runner", "cluster_class" },
    { "--n-workers", 'n', "cluster_kwargs", "n_workers" },
    { "--threads-per-worker", 't', "cluster_kwargs", "threads_per_worker" },
    { "--resources", 0, "cluster_kwargs", "resources" },
    { "--prefetch", 0, "cluster_kwargs", "prefetch" },
    { "--adapt-min", 0, "adapt_kwargs", "minimum" },
    { "--adapt-max", 0, "adapt_kwargs", "maximum" },
    { "--timeout", 0, "client_kwargs", "timeout" },
    { "--log-level", 0, "logging", "level" },
    { "--status", 0, "client_kwargs", "status_path" },
    { "--trace", 0, "client_kwargs", "trace_path" },
    { "--report", 0, "client_kwargs", "performance_report_path" },
    { "--journal", 0, "task_runner", "journal" },
    { "--grace-period", 0, "task_runner", "grace_period" },
};

/* "+": stop at the first word that is not an option (FLOW.so);
 * ":": report a missing value as ':' instead of printing. */
static const char short_opts[] = "+:hc:n:t:";

static const struct option other_opts[] = {
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, OPT_VERSION },
    { "config", required_argument, NULL, 'c' },
    { "flow", required_argument, NULL, OPT_FLOW },
    { "set", required_argument, NULL, OPT_SET },
    { "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
    { "retry-failed", no_argument, NULL, OPT_RETRY_FAILED },
    { "shutdown", no_argument, NULL, OPT_SHUTDOWN },
};

#define NLONG (ARRAY_SIZE(other_opts) + ARRAY_SIZE(settings) + 1)

/* The getopt_long table: other_opts, then settings, then the end. */
static void long_opts(struct option *lo)
{
    size_t n = 0;

    for (size_t i = 0; i < ARRAY_SIZE(other_opts); i++)
        lo[n++] = other_opts[i];
    for (size_t k = 0; k < ARRAY_SIZE(settings); k++)
        lo[n++] = (struct option){
            settings[k].name + 2, required_argument, NULL,
            settings[k].letter ? settings[k].letter : OPT_SETTING + (int)k
        };
    lo[n] = (struct option){ NULL, 0, NULL, 0 };
}

static void print_version(void)
{
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    unsigned hv = hwloc_get_api_version();

    MPI_Get_library_version(lib, &len);
    lib[strcspn(lib, ",\n")] = '\0';
    printf("pdask-mpi %s (%s; hwloc API %u.%u.%u)\n", PD_VERSION_STRING, lib,
           hv >> 16, (hv >> 8) & 0xff, hv & 0xff);
}

/* The index in settings[] of getopt value c, or -1. */
static int setting_of(int c)
{
    for (size_t k = 0; k < ARRAY_SIZE(settings); k++)
        if (c == (settings[k].letter ? settings[k].letter
                                     : OPT_SETTING + (int)k))
            return (int)k;
    return -1;
}

/* Record setting k (-1: --set SECTION.KEY=VALUE) with value v. 0, or
 * PD_EINVAL with a message. */
static int add_setting(struct options *o, int k, const char *v, char *err,
                       size_t errlen)
{
    struct cli_setting *s = &o->cli[o->ncli];
    const char *dot = strchr(v, '.'), *eq = strchr(v, '=');

    if (o->ncli == CLI_MAX_SETTINGS) {
        snprintf(err, errlen, "too many settings on the command line (at "
                 "most %d); put them in an INI file and give it with -c",
                 CLI_MAX_SETTINGS);
        return PD_EINVAL;
    }
    if (k >= 0) {
        snprintf(s->section, sizeof(s->section), "%s", settings[k].section);
        snprintf(s->key, sizeof(s->key), "%s", settings[k].key);
        s->value = v;
        s->source = settings[k].name;
    } else {
        if (!dot || !eq || dot == v || eq < dot + 2 ||
            dot - v >= (long)sizeof(s->section) ||
            eq - dot - 1 >= (long)sizeof(s->key)) {
            snprintf(err, errlen, "--set %s: write SECTION.KEY=VALUE, e.g. "
                     "--set cluster_kwargs.n_workers=4", v);
            return PD_EINVAL;
        }
        snprintf(s->section, sizeof(s->section), "%.*s", (int)(dot - v), v);
        snprintf(s->key, sizeof(s->key), "%.*s", (int)(eq - dot - 1),
                 dot + 1);
        s->value = eq + 1;
        s->source = "--set";
    }
    o->ncli++;
    return 0;
}

/* The option a word names: "--threads-per-worker" for
 * "--threads-per-worker=2", "-n" for "-n4". */
static void option_name(const char *w, char *buf, size_t len)
{
    if (w[1] == '-')
        snprintf(buf, len, "%.*s", (int)strcspn(w, "="), w);
    else
        snprintf(buf, len, "-%c", w[1]);
}

/* True when name ("--x" or "-x") is one of our options. */
static bool known_option(const char *name)
{
    if (name[1] != '-')
        return name[1] && strchr(short_opts + 2, name[1]) &&
               name[1] != ':';
    for (size_t i = 0; i < ARRAY_SIZE(other_opts); i++)
        if (strcmp(name + 2, other_opts[i].name) == 0)
            return true;
    for (size_t k = 0; k < ARRAY_SIZE(settings); k++)
        if (strcmp(name, settings[k].name) == 0)
            return true;
    return false;
}

/* A word after FLOW.so that looks like an option: say where it goes. */
static int misplaced(const char *w, char *err, size_t errlen)
{
    char name[64];

    option_name(w, name, sizeof(name));
    if (known_option(name))
        snprintf(err, errlen, "option %s must come before FLOW.so: "
                 "pdask-mpi [options] FLOW.so [key=value ...]", name);
    else
        snprintf(err, errlen, "unknown option %s after FLOW.so: options "
                 "come before FLOW.so, key=value parameters after it; see "
                 "pdask-mpi --help", name);
    return PD_EINVAL;
}

/* How many long options begin with name ("--x"). */
static int prefix_matches(const char *name)
{
    size_t n = strlen(name + 2);
    int count = 0;

    for (size_t i = 0; i < ARRAY_SIZE(other_opts); i++)
        count += strncmp(name + 2, other_opts[i].name, n) == 0;
    for (size_t k = 0; k < ARRAY_SIZE(settings); k++)
        count += strncmp(name + 2, settings[k].name + 2, n) == 0;
    return count;
}

/* getopt_long's complaint as our message: c is '?' (unknown option, or a
 * value given to one that takes none) or ':' (value missing). A short
 * option is named by optopt (it may sit inside "-xyz"); a long one by its
 * word, argv[optind - 1]. */
static int bad_option(int c, char **argv, char *err, size_t errlen)
{
    const char *w = argv[optind - 1];
    bool letter = c == '?' && optopt > 0 && optopt < OPT_VERSION &&
                  !strchr("hcnt", optopt);
    bool lng = !letter && w[0] == '-' && w[1] == '-';
    char name[64];

    if (lng)
        option_name(w, name, sizeof(name));
    else
        snprintf(name, sizeof(name), "-%c", optopt);
    if (c == ':')
        snprintf(err, errlen, "option %s needs a value; see pdask-mpi "
                 "--help", name);
    else if (optopt && !letter)
        snprintf(err, errlen, "option %s takes no value; see pdask-mpi "
                 "--help", name);
    else if (lng && prefix_matches(name) > 1)
        snprintf(err, errlen, "option %s is ambiguous: it begins more than "
                 "one option; write it in full (see pdask-mpi --help)",
                 name);
    else
        snprintf(err, errlen, "unknown option %s; see pdask-mpi --help",
                 name);
    return PD_EINVAL;
}

/* Read the options of argv (argv[0] is the program or the subcommand)
 * up to the first other word; 1 after --help or --version. */
static int parse_options(int argc, char **argv, struct options *o,
                         char *err, size_t errlen)
{
    struct option lo[NLONG];
    int c;

    long_opts(lo);
    optind = 0;  /* glibc: start afresh, even after an earlier scan */
    opterr = 0;
    while ((c = getopt_long(argc, argv, short_opts, lo, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(cli_usage, stdout);
            return 1;
        case OPT_VERSION:
            print_version();
            return 1;
        case 'c':
            o->config_file = optarg;
            break;
        case OPT_FLOW:
            o->flow = optarg;
            break;
        case OPT_SET:
            if (add_setting(o, -1, optarg, err, errlen) != 0)
                return PD_EINVAL;
            break;
        case OPT_NO_PROGRESS:
            if (add_setting(o, -1, "client_kwargs.progress=0", err,
                            errlen) != 0)
                return PD_EINVAL;
            o->cli[o->ncli - 1].source = "--no-progress";
            break;
        case OPT_SHUTDOWN:
            o->shutdown = 1;
            break;
        case OPT_RETRY_FAILED:
            if (add_setting(o, -1, "task_runner.retry_failed=1", err,
                            errlen) != 0)
                return PD_EINVAL;
            o->cli[o->ncli - 1].source = "--retry-failed";
            break;
        case '?':
        case ':':
            return bad_option(c, argv, err, errlen);
        default:   /* a setting; add_setting(-1) would mean --set */
            if (setting_of(c) < 0)
                return bad_option('?', argv, err, errlen);
            if (add_setting(o, setting_of(c), optarg, err, errlen) != 0)
                return PD_EINVAL;
            break;
        }
    }
    return 0;
}

int cli_parse(int argc, char **argv, struct options *o, char *err,
              size_t errlen)
{
    int skip = 0, i, rc;

    memset(o, 0, sizeof(*o));
    o->cmd = "run";
    if (argc > 1 && (strcmp(argv[1], "run") == 0 ||
                     strcmp(argv[1], "info") == 0 ||
                     strcmp(argv[1], "check") == 0 ||
                     strcmp(argv[1], "serve") == 0)) {
        o->cmd = argv[1];
        skip = 1;
    }
    rc = parse_options(argc - skip, argv + skip, o, err, errlen);
    if (rc != 0)
        return rc;
    i = optind + skip;
    if (i < argc) {
        o->path = argv[i++];
    } else if (strcmp(o->cmd, "info") != 0 &&
               strcmp(o->cmd, "serve") != 0) {
        snprintf(err, errlen, "no flow given: pdask-mpi FLOW.so "
                 "[key=value ...]; see pdask-mpi --help");
        return PD_EINVAL;
    }
    /* After FLOW.so only parameters; "--" right after it lets a
     * parameter start with '-'. */
    if (i < argc && strcmp(argv[i], "--") == 0) {
        i++;
    } else {
        for (int j = i; j < argc; j++)
            if (argv[j][0] == '-' && argv[j][1])
                return misplaced(argv[j], err, errlen);
    }
    o->nparams = argc - i;
    o->params = argv + i;
    if (o->shutdown && strcmp(o->cmd, "serve") != 0) {
        snprintf(err, errlen, "--shutdown belongs to serve: pdask-mpi serve "
                 "--shutdown --scheduler-file FILE");
        return PD_EINVAL;
    }
    if (strcmp(o->cmd, "serve") == 0 && o->path) {
        snprintf(err, errlen, "serve takes no FLOW.so ('%s'): clients bring "
                 "their own: pdask-mpi --scheduler-file FILE FLOW.so",
                 o->path);
        return PD_EINVAL;
    }
    if (strcmp(o->cmd, "run") != 0 && o->nparams) {
        snprintf(err, errlen, "%s takes only FLOW.so, not '%s'", o->cmd,
                 o->params[0]);
        return PD_EINVAL;
    }
    return 0;
}
