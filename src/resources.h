/*
 * resources.h - resource amounts: what a run asks for ("GPU=1,MEM=4e9"),
 * what a worker has (its tags), and what the runs on a worker hold while
 * they run. No MPI, no threads: the scheduler owns the pools.
 *
 * Amounts are fixed point in millionths (RES_ONE is 1.0), so a hundred
 * holds of GPU=0.01 add up to exactly one GPU. A resource whose capacity
 * on a worker is a whole number of at most RES_UNITS_MAX has units with
 * ids (GPU 0, GPU 1): a whole request takes whole free units, a fraction
 * (below 1, as in Ray) shares one unit. Other resources (MEM=64e9) are
 * plain counters.
 */
#ifndef PD_RESOURCES_H
#define PD_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RES_MAX 16           /* names a worker or a request may carry */
#define RES_NAME_MAX 24      /* bytes of a name, NUL included */
#define RES_ONE 1000000      /* 1.0 */
#define RES_AMOUNT_MAX 9e12  /* largest amount: int64 in millionths */
#define RES_UNITS_MAX 64     /* units with ids, per resource and worker */

struct res_item {
    char name[RES_NAME_MAX];
    int64_t amt;
};

struct res_set {
    int n;
    struct res_item it[RES_MAX];
};

/* How res_parse reads: a run's request (amounts > 0, below 1 or whole),
 * or a worker's tags (amounts >= 0; 0 removes the resource). */
enum res_mode { RES_REQUEST, RES_TAGS };

/* "GPU=1,MEM=4e9" into out (empty string: no resources). 0, or PD_EINVAL
 * with a message quoting s in err. */
int res_parse(const char *s, enum res_mode mode, struct res_set *out,
              char *err, size_t errlen);

/* The index of name in s, or -1. */
int res_find(const struct res_set *s, const char *name);

/* Set name to amt in s (amt 0 removes it); -1 when s is full. */
int res_set_put(struct res_set *s, const char *name, int64_t amt);

/* "GPU=1,MEM=6.4e+10" ("" for none). */
void res_format(const struct res_set *s, char *buf, size_t len);

/* One amount as a user writes it: "1", "0.25", "6.4e+10". */
void res_format_amount(int64_t amt, char *buf, size_t len);

/* A worker's tags, and where each came from ("hwloc", "pdask.ini:7"). */
struct res_tags {
    struct res_set set;
    char source[RES_MAX][64];
};

/* What hwloc found for one worker: its share of its node, split among the
 * node's worker ranks as cores are. GPUs go in contiguous blocks:
 * gpu_first is the node's index of its first one. */
struct res_found {
    int cpus;            /* its executor threads */
    uint64_t mem;        /* bytes */
    int gpus, gpu_first;
};

struct config;

/* The tags of worker `rank` on `host`: hwloc's findings, then
 * [cluster_kwargs] resources, then [host NAME], then [worker N]; the
 * later wins name by name. */
void res_worker_tags(struct res_tags *t, const struct res_found *f,
                     const struct config *c, int rank, const char *host);

/* Split n things among `of` workers in contiguous blocks: the first and
 * count of worker `index`. */
void res_split(int n, int index, int of, int *first, int *count);

/* One worker's resources and what its runs hold. */
struct res_pool {
    struct res_set cap;
    int64_t used[RES_MAX];
    uint8_t nunits[RES_MAX];               /* 0: a plain counter */
    int64_t unit_used[RES_MAX][RES_UNITS_MAX];
};

/* What one run holds on its worker: pool indices, amounts, unit ids. */
struct res_hold {
    int n;
    struct {
        uint8_t idx;
        int64_t amt;
        uint64_t units;  /* bit k: unit k (resources with units) */
    } h[RES_MAX];
};

void res_pool_init(struct res_pool *p, const struct res_set *cap);

/* Whether req fits p's free resources now, or its capacity at all. */
bool res_fits(const struct res_pool *p, const struct res_set *req);
bool res_could_fit(const struct res_pool *p, const struct res_set *req);

/* Take req from p's free resources (it must fit) into out. */
void res_take(struct res_pool *p, const struct res_set *req,
              struct res_hold *out);
/* Give back what a run held. */
void res_give(struct res_pool *p, const struct res_hold *h);

#endif
