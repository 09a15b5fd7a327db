/* cli.h - the pdask-mpi command line: subcommand, options, FLOW.so and
 * key=value parameters, read with getopt_long. */
#ifndef PD_CLI_H
#define PD_CLI_H

#include <stddef.h>

#define CLI_MAX_SETTINGS 64

/* One setting given on the command line, applied after the INI file and
 * PD_FLOW(...). value points into argv. */
struct cli_setting {
    char section[64], key[64];
    const char *value;
    const char *source;      /* the long option, or "--set" */
};

struct options {
    const char *cmd;         /* run, info, check or serve */
    int shutdown;            /* serve --shutdown */
    const char *path;        /* FLOW.so, or NULL for info */
    const char *flow;        /* --flow NAME, or NULL */
    const char *config_file; /* -c FILE, or NULL */
    struct cli_setting cli[CLI_MAX_SETTINGS];
    int ncli;
    int nparams;             /* the key=value words after FLOW.so */
    char **params;
};

/* The text of pdask-mpi --help. */
extern const char cli_usage[];

/* Fill o from argv: [run|info|check] [options] [--] FLOW.so [key=value...].
 * 0; 1 when --help or --version was printed; or PD_EINVAL with the message
 * in err. Not reentrant (getopt_long). */
int cli_parse(int argc, char **argv, struct options *o, char *err,
              size_t errlen);

#endif
