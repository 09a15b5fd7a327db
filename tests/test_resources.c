/* Resources: parsing requests and tags, fixed-point amounts, holds that
 * bind (units, fractions that pack), the order tags are laid over each
 * other, and placement through the worker table. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "resources.h"
#include "wtable.h"

static char err[512];

#define CHECK_ERR(part) CHECK(strstr(err, (part)) != NULL)

static struct res_set parse(const char *s, enum res_mode m)
{
    struct res_set set;
    err[0] = '\0';
    CHECK_EQ(res_parse(s, m, &set, err, sizeof(err)), 0);
    return set;
}

static int bad(const char *s, enum res_mode m)
{
    struct res_set set;
    err[0] = '\0';
    return res_parse(s, m, &set, err, sizeof(err));
}

static void test_parse(void)
{
    char buf[128];
    struct res_set s = parse(" GPU = 1 , MEM=64e9,license_x=0.25", RES_REQUEST);

    CHECK_EQ(s.n, 3);
    CHECK_STR(s.it[0].name, "GPU");
    CHECK_EQ(s.it[0].amt, RES_ONE);
    CHECK_EQ(s.it[1].amt, (int64_t)64e9 * RES_ONE);
    CHECK_EQ(s.it[2].amt, RES_ONE / 4);
    res_format(&s, buf, sizeof(buf));
    CHECK_STR(buf, "GPU=1,MEM=6.4e+10,license_x=0.25");
    CHECK_EQ(parse("", RES_REQUEST).n, 0);
    CHECK_EQ(parse("GPU=0.01", RES_REQUEST).it[0].amt, 10000);

    CHECK_EQ(bad("GPU", RES_REQUEST), PD_EINVAL);
    CHECK_ERR("expected NAME=AMOUNT at \"GPU\"");
    CHECK_EQ(bad("GPU=x", RES_REQUEST), PD_EINVAL);
    CHECK_ERR("the amount of GPU is not a positive number");
    CHECK_EQ(bad("GPU=-1", RES_REQUEST), PD_EINVAL);
    CHECK_EQ(bad("GPU=0", RES_REQUEST), PD_EINVAL);
    CHECK_EQ(bad("GPU=nan", RES_REQUEST), PD_EINVAL);
    CHECK_EQ(bad("GPU=inf", RES_REQUEST), PD_EINVAL);
    CHECK_EQ(bad("GPU=1e13", RES_REQUEST), PD_EINVAL);
    CHECK_ERR("out of range");
    CHECK_EQ(bad("GPU=1e-7", RES_REQUEST), PD_EINVAL);
    CHECK_EQ(bad("GPU=1.5", RES_REQUEST), PD_EINVAL);
    CHECK_ERR("ask for less than 1 (a share of one unit) or a whole number");
    CHECK_EQ(bad("GPU=1,GPU=2", RES_REQUEST), PD_EINVAL);
    CHECK_ERR("GPU is given twice");
    CHECK_EQ(bad("GPU=1;CPU=2", RES_REQUEST), PD_EINVAL);
    CHECK_ERR("expected ','");
    CHECK_EQ(bad("GPU=1,", RES_REQUEST), PD_EINVAL);
    CHECK_EQ(bad("averyveryverylongresourcename=1", RES_REQUEST), PD_EINVAL);
    CHECK_ERR("longer than 23 characters");
    /* Tags: 0 says "none", 1.5 is a fine capacity. */
    s = parse("GPU=0,CPU=1.5", RES_TAGS);
    CHECK_EQ(s.n, 2);
    CHECK_EQ(s.it[0].amt, 0);
    CHECK_EQ(bad("GPU=-1", RES_TAGS), PD_EINVAL);
    CHECK_ERR("not a non-negative number");
}

static void test_pool(void)
{
    struct res_set cap = parse("GPU=2,MEM=100", RES_TAGS);
    struct res_pool p;
    struct res_hold h[200];

    res_pool_init(&p, &cap);
    CHECK_EQ(p.nunits[0], 2);
    CHECK_EQ(p.nunits[1], 0); /* 100 > 64 units: a plain counter */

    /* Two GPU=1 runs take the two units; a third does not fit. */
    struct res_set one = parse("GPU=1", RES_REQUEST);
    CHECK(res_fits(&p, &one));
    res_take(&p, &one, &h[0]);
    CHECK_EQ(h[0].h[0].units, 1);
    res_take(&p, &one, &h[1]);
    CHECK_EQ(h[1].h[0].units, 2);
    CHECK(!res_fits(&p, &one));
    CHECK(res_could_fit(&p, &one));
    res_give(&p, &h[0]);
    CHECK(res_fits(&p, &one));
    res_give(&p, &h[1]);

    /* GPU=2 needs both units free; GPU=3 never fits. */
    struct res_set two = parse("GPU=2", RES_REQUEST);
    struct res_set three = parse("GPU=3", RES_REQUEST);
    CHECK(res_fits(&p, &two));
    CHECK(!res_could_fit(&p, &three));

    /* Fractions share one unit and pack: 0.6 + 0.6 + 0.6 on two units
     * cannot all fit, though 1.8 <= 2. */
    struct res_set f6 = parse("GPU=0.6", RES_REQUEST);
    res_take(&p, &f6, &h[0]);
    res_take(&p, &f6, &h[1]);
    CHECK(h[0].h[0].units != h[1].h[0].units);
    CHECK(!res_fits(&p, &f6));
    struct res_set f4 = parse("GPU=0.4", RES_REQUEST);
    CHECK(res_fits(&p, &f4));
    CHECK(!res_fits(&p, &one)); /* no whole unit is free */
    res_give(&p, &h[0]);
    res_give(&p, &h[1]);
    CHECK_EQ(p.used[0], 0);

    /* A hundred GPU=0.01 runs fill one unit exactly, then the next; the
     * 201st does not fit. */
    struct res_set c1 = parse("GPU=0.01", RES_REQUEST);
    for (int i = 0; i < 200; i++) {
        CHECK(res_fits(&p, &c1));
        res_take(&p, &c1, &h[i]);
    }
    CHECK_EQ(p.used[0], 2 * RES_ONE);
    CHECK(!res_fits(&p, &c1));
    for (int i = 0; i < 200; i++)
        res_give(&p, &h[i]);
    CHECK_EQ(p.used[0], 0);
    CHECK_EQ(p.unit_used[0][0], 0);

    /* Plain counters; a name the worker lacks never fits. */
    struct res_set mem = parse("MEM=60", RES_REQUEST);
    res_take(&p, &mem, &h[0]);
    CHECK(!res_fits(&p, &mem));
    res_give(&p, &h[0]);
    CHECK(res_fits(&p, &mem));
    struct res_set tpu = parse("TPU=1", RES_REQUEST);
    CHECK(!res_could_fit(&p, &tpu));
}

/* hwloc < [cluster_kwargs] resources < [host NAME] < [worker N]; 0 removes. */
static void test_tags(void)
{
    struct config c;
    struct res_tags t;
    struct res_found f = { .cpus = 2, .mem = 1000, .gpus = 1 };
    char buf[256];

    config_init(&c);
    CHECK_EQ(config_set(&c, "cluster_kwargs", "resources", "GPU=4,DISK=10",
                        "pdask.ini:2", err, sizeof(err)), 0);
    CHECK_EQ(config_set(&c, "host gpu01", "resources", "GPU=8",
                        "pdask.ini:5", err, sizeof(err)), 0);
    CHECK_EQ(config_set(&c, "worker 3", "resources", "GPU=0,FPGA=1",
                        "pdask.ini:8", err, sizeof(err)), 0);
    CHECK_EQ(config_set(&c, "worker x", "resources", "GPU=1",
                        "pdask.ini:9", err, sizeof(err)), PD_EINVAL);
    CHECK_ERR("pdask.ini:9: [worker x]: write [worker N]");
    CHECK_EQ(config_set(&c, "worker 2", "threads", "1",
                        "pdask.ini:10", err, sizeof(err)), PD_EINVAL);
    CHECK_ERR("unknown key \"threads\" in [worker 2]");
    CHECK_EQ(config_set(&c, "host a", "resources", "GPU=one",
                        "pdask.ini:11", err, sizeof(err)), PD_EINVAL);
    CHECK_ERR("pdask.ini:11: [host a] resources \"GPU=one\"");

    res_worker_tags(&t, &f, &c, 1, "cpu07");
    res_format(&t.set, buf, sizeof(buf));
    CHECK_STR(buf, "CPU=2,MEM=1000,GPU=4,DISK=10");
    CHECK_STR(t.source[0], "hwloc");
    CHECK_STR(t.source[2], "pdask.ini:2");

    res_worker_tags(&t, &f, &c, 2, "gpu01");
    res_format(&t.set, buf, sizeof(buf));
    CHECK_STR(buf, "CPU=2,MEM=1000,GPU=8,DISK=10");
    CHECK_STR(t.source[2], "pdask.ini:5");

    /* [worker 3] on gpu01: GPU=0 removes it, whatever the host says. */
    res_worker_tags(&t, &f, &c, 3, "gpu01");
    res_format(&t.set, buf, sizeof(buf));
    CHECK_EQ(res_find(&t.set, "GPU"), -1);
    CHECK(res_find(&t.set, "FPGA") >= 0);
    CHECK_STR(t.source[res_find(&t.set, "FPGA")], "pdask.ini:8");
    CHECK_STR(t.source[res_find(&t.set, "DISK")], "pdask.ini:2");
    config_free(&c);

    /* GPUs split among a node's workers in blocks, as cores are. */
    int first, count;
    res_split(4, 0, 2, &first, &count);
    CHECK_EQ(first, 0);
    CHECK_EQ(count, 2);
    res_split(4, 1, 2, &first, &count);
    CHECK_EQ(first, 2);
    CHECK_EQ(count, 2);
    res_split(1, 1, 2, &first, &count);
    CHECK_EQ(count, 0);
    res_split(3, 0, 2, &first, &count);
    CHECK_EQ(count, 2);
}

/* Placement: a run with resources goes only where they are free, and
 * holds them until it is given back. */
static void test_wtable(void)
{
    struct wtable wt;
    struct res_set gpu = parse("GPU=1", RES_TAGS);
    struct res_set req = parse("GPU=1", RES_REQUEST);
    struct res_hold h;
    struct pick p = { .run_s = 1e-3, .move_s = 1e-5, .move_bps = 1e9,
                      .res = &req };

    wtable_init(&wt);
    for (int i = 0; i < 3; i++)
        wtable_set_state(&wt, wtable_add(&wt, 0, i + 1, 2), W_ACTIVE);
    CHECK(!wtable_could_hold(&wt, &p));
    wtable_set_resources(&wt, 1, &gpu);
    CHECK(wtable_could_hold(&wt, &p));
    CHECK_EQ(wtable_pick(&wt, &p), 1);
    wtable_hold(&wt, 1, &req, &h);
    wtable_sent(&wt, 1);
    CHECK_EQ(wtable_pick(&wt, &p), -1); /* its GPU is held */
    p.res = NULL;
    CHECK(wtable_pick(&wt, &p) >= 0);   /* others go anywhere */
    p.res = &req;
    wtable_unhold(&wt, 1, &h);
    CHECK_EQ(wtable_pick(&wt, &p), 1);
    wtable_destroy(&wt);
}

int main(void)
{
    test_parse();
    test_pool();
    test_tags();
    test_wtable();
    return 0;
}
