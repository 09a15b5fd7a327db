/* fuzz_cli.c - libFuzzer harness of the command line (cli.c). The input
 * is argv after the program name, split at NUL bytes. cli_parse() either
 * refuses it with a message, or what it read holds together; then the
 * settings and parameters go through config_set(), config_validate() and
 * params_parse() as runtime.c resolve() sends them (no INI file and no
 * flow are loaded). Run with -close_fd_mask=1: --help and --version
 * print. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "log.h"
#include "params.h"
#include "words.h"

#define REQUIRE(cond)                                                        \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz_cli.c:%d: %s\n", __LINE__, #cond);         \
            abort();                                                         \
        }                                                                    \
    } while (0)

/* p points into one of the n words of argv (or is one of them). As
 * integers: the words are separate objects. */
static bool in_argv(char *const *argv, int n, const char *p)
{
    uintptr_t q = (uintptr_t)p;

    for (int i = 0; i < n; i++) {
        uintptr_t w = (uintptr_t)argv[i];
        if (q >= w && q <= w + strlen(argv[i]))
            return true;
    }
    return false;
}

/* What cli_parse() gave back for argc words holds together. */
static void check(const struct options *o, int argc, char **argv)
{
    REQUIRE(strcmp(o->cmd, "run") == 0 || strcmp(o->cmd, "info") == 0 ||
            strcmp(o->cmd, "check") == 0 || strcmp(o->cmd, "serve") == 0);
    /* serve takes no FLOW.so; run and check need one. */
    REQUIRE(strcmp(o->cmd, "serve") != 0 || !o->path);
    REQUIRE(o->path || strcmp(o->cmd, "info") == 0 ||
            strcmp(o->cmd, "serve") == 0);
    REQUIRE(!o->shutdown || strcmp(o->cmd, "serve") == 0);
    REQUIRE(!o->path || in_argv(argv, argc, o->path));
    REQUIRE(!o->flow || in_argv(argv, argc, o->flow));
    REQUIRE(!o->config_file || in_argv(argv, argc, o->config_file));
    REQUIRE(o->ncli >= 0 && o->ncli <= CLI_MAX_SETTINGS);
    for (int i = 0; i < o->ncli; i++) {
        const struct cli_setting *s = &o->cli[i];
        REQUIRE(memchr(s->section, '\0', sizeof(s->section)) && s->section[0]);
        REQUIRE(memchr(s->key, '\0', sizeof(s->key)) && s->key[0]);
        /* A value is a word of argv, or what a flag option stands for. */
        REQUIRE(s->value && (in_argv(argv, argc, s->value) ||
                             strcmp(s->source, "--no-progress") == 0 ||
                             strcmp(s->source, "--retry-failed") == 0));
        REQUIRE(s->source && s->source[0] == '-');
    }
    REQUIRE(o->nparams >= 0 && o->params + o->nparams == argv + argc);
    REQUIRE(o->nparams == 0 || strcmp(o->cmd, "run") == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_level(PD_ERROR);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *argv[FUZZ_MAX_WORDS + 2];
    char prog[] = "pdask-mpi";
    int argc = fuzz_words(data, size, argv, 1, FUZZ_MAX_WORDS + 1);
    struct options o;
    char err[1024] = "";
    int rc;

    argv[0] = prog;
    rc = cli_parse(argc, argv, &o, err, sizeof(err));
    REQUIRE(rc == 0 || rc == 1 || (rc == PD_EINVAL && err[0]));
    if (rc == 0) {
        struct config c;
        struct pd_params p;

        check(&o, argc, argv);
        config_init(&c);
        rc = 0;
        for (int i = 0; i < o.ncli && rc == 0; i++)
            rc = config_set(&c, o.cli[i].section, o.cli[i].key,
                            o.cli[i].value, o.cli[i].source, err,
                            sizeof(err));
        if (rc == 0)
            config_validate(&c, err, sizeof(err));
        config_free(&c);
        if (params_parse(&p, o.nparams, o.params, err, sizeof(err)) == 0)
            params_free(&p);
    }
    fuzz_words_free(argv, 1, argc);
    return 0;
}
