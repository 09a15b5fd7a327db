/* fuzz_params.c - libFuzzer harness of the flow parameters (params.c).
 * The input is the key=value words after FLOW.so, split at NUL bytes.
 * params_parse() either refuses them with a message, or every key reads
 * back its value through pd_param_str(), and pd_param_int()/_real() either
 * give a number or report the value through on_error. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "words.h"

#define REQUIRE(cond)                                                        \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz_params.c:%d: %s\n", __LINE__, #cond);      \
            abort();                                                         \
        }                                                                    \
    } while (0)

static int errors;

/* on_error that returns: the getters must then give the default. (The
 * runner's ends the flow thread instead, flow.c on_param_error.) */
static void count_error(void)
{
    errors++;
}

/* Keys a flow might read that the input may or may not give. */
static const char *const fixed[] = { "n", "x", "name", "highest_number" };

/* True when s is, in base 10, the number def itself. */
static bool is_idef(const char *s, int64_t def)
{
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    return !errno && end != s && !*end && x == def;
}

/* Read key every way a flow can. A default back for a value that is not
 * the default's text means a bad value: its message is kept, and with a
 * hook the hook was called. */
static void read_key(const pd_params *p, const char *key)
{
    static const int64_t idef = INT64_MIN + 1;
    int before = errors;
    const char *s = pd_param_str(p, key, NULL);
    int64_t i = pd_param_int(p, key, idef);
    double r = pd_param_real(p, key, -0.0);

    if (!s) {
        REQUIRE(i == idef && errors == before);
        return;
    }
    REQUIRE(isfinite(r));
    if (i == idef && !is_idef(s, idef)) {
        REQUIRE(p->st->error[0]);
        REQUIRE(!p->st->on_error || errors > before);
    }
    if (errors > before)
        REQUIRE(p->st->error[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *words[FUZZ_MAX_WORDS + 1];
    int n = fuzz_words(data, size, words, 0, FUZZ_MAX_WORDS);
    struct pd_params p;
    char err[512] = "";
    int rc = params_parse(&p, n, words, err, sizeof(err));

    if (rc != 0) {
        REQUIRE(rc == PD_EINVAL && err[0]);
        REQUIRE(p.n == 0 && !p.keys && !p.st);
        fuzz_words_free(words, 0, n);
        return 0;
    }
    REQUIRE(p.n == n);
    for (int i = 0; i < p.n; i++) {
        const char *eq = strchr(words[i], '=');
        REQUIRE(eq && p.keys[i][0] && !strchr(p.keys[i], '='));
        REQUIRE(strncmp(words[i], p.keys[i], (size_t)(eq - words[i])) == 0);
        /* The value is the text after '=', "@@x" giving "@x"; a file's
         * text ("@path") is whatever the file holds. */
        if (eq[1] != '@' || eq[2] == '@')
            REQUIRE(strcmp(p.vals[i], eq + 1 + (eq[1] == '@')) == 0);
        REQUIRE(pd_param_str(&p, p.keys[i], NULL) == p.vals[i]);
    }
    /* First with no hook (params.c then just keeps the message), then
     * with one that returns. */
    errors = 0;
    for (size_t k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++)
        read_key(&p, fixed[k]);
    REQUIRE(errors == 0);
    p.st->on_error = count_error;
    for (int i = 0; i < p.n; i++)
        read_key(&p, p.keys[i]);
    int from = 0;
    REQUIRE(params_unused(&p, &from) == NULL && from == p.n);
    params_free(&p);
    fuzz_words_free(words, 0, n);
    return 0;
}
