/* fuzz_resources.c - libFuzzer harness of resource strings (resources.c).
 * The input is a worker's tags and a run's request, split at the first
 * newline. A string res_parse() accepts has names of 1 to 23 characters,
 * no repeats, amounts in range (positive, below 1 or whole, for a
 * request); its res_format() parses again to the same names. With both
 * accepted, the request is taken from a pool of the tags until it no
 * longer fits: nothing is ever over its capacity, and giving every hold
 * back leaves the pool empty. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdask.h"
#include "resources.h"

#define REQUIRE(cond)                                                        \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz_resources.c:%d: %s\n", __LINE__, #cond);   \
            abort();                                                         \
        }                                                                    \
    } while (0)

static void check_set(const struct res_set *s, enum res_mode m)
{
    char buf[1024], err[512];
    struct res_set again;

    REQUIRE(s->n >= 0 && s->n <= RES_MAX);
    for (int i = 0; i < s->n; i++) {
        size_t len = strlen(s->it[i].name);
        REQUIRE(len > 0 && len < RES_NAME_MAX);
        REQUIRE(s->it[i].amt >= (m == RES_REQUEST ? 1 : 0));
        REQUIRE(s->it[i].amt <= (int64_t)(RES_AMOUNT_MAX * RES_ONE));
        if (m == RES_REQUEST && s->it[i].amt > RES_ONE)
            REQUIRE(s->it[i].amt % RES_ONE == 0);
        for (int j = 0; j < i; j++)
            REQUIRE(strcmp(s->it[i].name, s->it[j].name) != 0);
    }
    res_format(s, buf, sizeof(buf));
    REQUIRE(res_parse(buf, RES_TAGS, &again, err, sizeof(err)) == 0);
    REQUIRE(again.n == s->n);
    for (int i = 0; i < s->n; i++)
        REQUIRE(strcmp(again.it[i].name, s->it[i].name) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct res_pool pool;
    static struct res_hold holds[64];
    struct res_set tags, req;
    char err[512];
    char *in = malloc(size + 1), *nl;
    int rt, rr, n = 0;

    memcpy(in, data, size);
    in[size] = '\0';
    nl = strchr(in, '\n');
    if (nl)
        *nl = '\0';
    rt = res_parse(in, RES_TAGS, &tags, err, sizeof(err));
    REQUIRE(rt == 0 || (rt == PD_EINVAL && strstr(err, "resources \"")));
    if (rt == 0)
        check_set(&tags, RES_TAGS);
    rr = nl ? res_parse(nl + 1, RES_REQUEST, &req, err, sizeof(err)) : -1;
    if (rr == 0)
        check_set(&req, RES_REQUEST);
    if (rt == 0 && rr == 0) {
        res_pool_init(&pool, &tags);
        while (n < 64 && res_fits(&pool, &req)) {
            REQUIRE(res_could_fit(&pool, &req));
            res_take(&pool, &req, &holds[n++]);
            for (int i = 0; i < tags.n; i++) {
                REQUIRE(pool.used[i] <= tags.it[i].amt);
                for (int k = 0; k < pool.nunits[i]; k++)
                    REQUIRE(pool.unit_used[i][k] <= RES_ONE);
            }
        }
        while (n > 0)
            res_give(&pool, &holds[--n]);
        for (int i = 0; i < tags.n; i++) {
            REQUIRE(pool.used[i] == 0);
            for (int k = 0; k < pool.nunits[i]; k++)
                REQUIRE(pool.unit_used[i][k] == 0);
        }
    }
    free(in);
    return 0;
}
