/* Modules: two flow files that both declare a task named "work" load
 * side by side, each with its own registry, and each one's task runs;
 * opening a file twice gives the same module; closing unloads. */
#include <string.h>

#include "check.h"
#include "loader.h"
#include "taskrun.h"

static const char *run_work(const struct module *m)
{
    static char got[8];
    int i = loader_task_by_name(m, "work");
    struct taskrun_req req = { .name = "work-0", .rank = 1, .attempt = 1 };
    struct taskrun_out out = { 0 };
    struct rd r;
    pd_value v;
    uint64_t id;
    int32_t w;

    CHECK(i >= 0);
    req.def = m->tasks[i];
    CHECK_EQ(taskrun_attempt(&req, &out), 0);
    r = rd_init(out.result.data, out.result.len);
    CHECK_EQ(proto_get_value(&r, &v, &id, &w), 0);
    CHECK_EQ(v.kind, PD_STR);
    snprintf(got, sizeof(got), "%s", v.s);
    taskrun_out_free(&out);
    return got;
}

int main(int argc, char **argv)
{
    struct module *a, *b, *a2;
    char err[1024] = "";

    CHECK(argc == 3);
    CHECK_EQ(loader_open(argv[1], &a, err, sizeof(err)), 0);
    CHECK_EQ(loader_open(argv[2], &b, err, sizeof(err)), 0);
    CHECK(a != b);
    CHECK_EQ(a->ntasks, 1);
    CHECK_EQ(b->ntasks, 1);
    CHECK(a->tasks[0]->fn != b->tasks[0]->fn);
    CHECK_STR(run_work(a), "a");
    CHECK_STR(run_work(b), "b");
    CHECK_STR(loader_find_flow(a, NULL, err, sizeof(err))->name, "flow_a");
    CHECK_STR(loader_find_flow(b, NULL, err, sizeof(err))->name, "flow_b");
    /* A task of one module is not a task of the other. */
    CHECK_EQ(loader_task_index(a, b->tasks[0]->fn), -1);
    /* The same file again is the same module, not an empty one. */
    CHECK_EQ(loader_open(argv[1], &a2, err, sizeof(err)), 0);
    CHECK(a2 == a);
    CHECK_EQ(a2->refs, 2);
    loader_close(a2);
    loader_close(a);
    loader_close(b);
    return 0;
}
