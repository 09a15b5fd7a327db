/* The worker table and placement without MPI: workers that join and leave
 * under load, and a simulated scheduler on Task Bench's stencil, chains and
 * independent runs: both workers get work, and a chain stays where its
 * input is made. */
#include <stdatomic.h>
#include <stdlib.h>

#include "check.h"
#include "graph_test.h"
#include "graph.h"
#include "loader.h"
#include "protocol.h"
#include "wtable.h"

static struct pick no_inputs(double run_s)
{
    struct pick p = { .run_s = run_s, .prefetch = 8, .move_s = 30e-6,
                      .move_bps = 2e9 };
    return p;
}

/* Workers join and leave while runs are placed; ids never move. */
static void join_leave(void)
{
    struct wtable wt;
    struct pick p = no_inputs(5e-3); /* long runs: window 2 a thread */
    int count[5] = { 0 };

    wtable_init(&wt);
    int a = wtable_add(&wt, 0, 1, 1), b = wtable_add(&wt, 0, 2, 1);
    CHECK_EQ(wtable_pick(&wt, &p), -1); /* joining: no work yet */
    wtable_set_state(&wt, a, W_ACTIVE);
    wtable_set_state(&wt, b, W_ACTIVE);
    CHECK_EQ(wtable_active(&wt), 2);
    for (int i = 0; i < 4; i++) {
        int w = wtable_pick(&wt, &p);
        CHECK(w == a || w == b);
        wt.w[w].inflight++;
        count[w]++;
    }
    CHECK_EQ(count[a], 2);
    CHECK_EQ(count[b], 2);
    CHECK_EQ(wtable_pick(&wt, &p), -1); /* both windows full */

    /* A worker from another spawn (endpoint 1) joins under load. */
    int c = wtable_add(&wt, 1, 1, 2);
    CHECK_EQ(wtable_find(&wt, 1, 1), c);
    CHECK_EQ(wtable_find(&wt, 0, 1), a);
    wtable_set_state(&wt, c, W_ACTIVE);
    for (int i = 0; i < 4; i++) {
        int w = wtable_pick(&wt, &p);
        CHECK_EQ(w, c);
        wt.w[w].inflight++;
    }
    CHECK_EQ(wtable_pick(&wt, &p), -1);

    /* a drains: finished runs free room, but only b takes more. */
    wtable_set_state(&wt, a, W_DRAINING);
    wt.w[a].inflight = 0;
    wt.w[b].inflight = 1;
    CHECK_EQ(wtable_pick(&wt, &p), b);
    wt.w[b].inflight++;
    CHECK_EQ(wtable_pick(&wt, &p), -1);
    wtable_set_state(&wt, a, W_GONE);
    CHECK_EQ(wtable_find(&wt, 0, 1), a); /* late messages find it gone */
    CHECK_EQ(wtable_find(&wt, 0, 7), -1);
    CHECK_EQ(wtable_active(&wt), 2);

    /* A new worker after one left gets a new id. */
    int d = wtable_add(&wt, 2, 1, 1);
    CHECK_EQ(d, 3);
    wtable_set_state(&wt, d, W_ACTIVE);
    CHECK_EQ(wtable_pick(&wt, &p), d);
    wtable_destroy(&wt);
}

/* ---- a simulated scheduler: graph + table, runs take one time unit ---- */

struct sim {
    struct graph g;
    struct wtable wt;
    struct pick_input in[8];
    int ran[4];             /* runs per worker */
    int placed[1024];       /* worker of each run id */
    struct pd_future *queue[4][1024]; /* sent, in order, per worker */
    int head[4], tail[4];
};

/* Place every ready run, as the scheduler's dispatch does: a run that
 * waits for its input's worker is looked past, not sent elsewhere. */
static void dispatch(struct sim *s, double run_s)
{
    struct pd_future *t, *later[64];
    int nlater = 0;

    while ((t = graph_peek(&s->g))) {
        struct up_iter it = graph_up_begin(t);
        struct pd_future *u;
        struct pick p = no_inputs(run_s);
        int n = 0, w;

        while ((u = graph_up_next(&s->g, &it)) && n < 8) {
            s->in[n].worker = u->worker;
            s->in[n].done = atomic_load(&u->state) == PD_COMPLETED;
            s->in[n].ticket = u->ticket;
            s->in[n].bytes = 16;
            n++;
        }
        p.in = s->in;
        p.nin = n;
        w = wtable_pick(&s->wt, &p);
        if (w == WTABLE_WAIT && nlater < 64) {
            later[nlater++] = graph_pop(&s->g);
            continue;
        }
        if (w < 0)
            break;
        graph_pop(&s->g);
        graph_dispatched(&s->g, t, w);
        t->ticket = wtable_sent(&s->wt, w);
        s->placed[t->id] = w;
        s->queue[w][s->tail[w]++] = t;
    }
    for (int i = 0; i < nlater; i++)
        ready_push(&s->g.ready, later[i]);
}

/* One time step: every worker runs the first run of its queue whose
 * inputs have all completed. */
static void step(struct sim *s)
{
    struct pd_future *done[4];
    int nd = 0;

    for (int w = 0; w < s->wt.n; w++) {
        if (s->head[w] == s->tail[w])
            continue;
        struct pd_future *t = s->queue[w][s->head[w]];
        struct up_iter it = graph_up_begin(t);
        struct pd_future *u;
        bool ready = true;
        while ((u = graph_up_next(&s->g, &it)))
            ready &= atomic_load(&u->state) == PD_COMPLETED;
        if (!ready)
            continue;
        s->head[w]++;
        done[nd++] = t;
    }
    for (int i = 0; i < nd; i++) {
        uint8_t v[9] = { PD_INT };
        struct pd_future *t = done[i];
        wtable_reported(&s->wt, t->worker);
        s->ran[t->worker]++;
        t->size = 9;
        graph_end(&s->g, t, PD_COMPLETED, v, NULL);
    }
}

static void sim_init(struct sim *s, struct module *mod)
{
    memset(s, 0, sizeof(*s));
    graph_init(&s->g, mod);
    wtable_init(&s->wt);
    for (int r = 1; r <= 2; r++)
        wtable_set_state(&s->wt, wtable_add(&s->wt, 0, r, 1), W_ACTIVE);
}

static int sim_run(struct sim *s, double run_s, int total)
{
    int steps = 0;
    while (s->g.ncompleted < (uint64_t)total && steps < 100000) {
        dispatch(s, run_s);
        step(s);
        steps++;
    }
    return steps;
}

static void sim_destroy(struct sim *s)
{
    graph_destroy(&s->g);
    wtable_destroy(&s->wt);
}

/* stencil_1d, width 2: every point needs both points of the step before.
 * Placement must not pile them onto the worker of the first input, as long
 * as a run takes longer than moving its input (for shorter runs one worker
 * doing both is faster, and allowed). */
static void stencil(struct module *mod, double run_s)
{
    enum { STEPS = 50 };
    struct sim *s = malloc(sizeof(*s));
    struct pd_future *prev[2], *cur[2];

    sim_init(s, mod);
    for (int i = 0; i < 2; i++)
        prev[i] = submit(&s->g, 0, NULL);
    for (int t = 1; t < STEPS; t++) {
        for (int i = 0; i < 2; i++)
            cur[i] = submit(&s->g, 2, prev);
        prev[0] = cur[0];
        prev[1] = cur[1];
    }
    int steps = sim_run(s, run_s, 2 * STEPS);
    CHECK_EQ(s->g.ncompleted, 2 * STEPS);
    if (run_s > 30e-6) {
        CHECK_EQ(s->ran[0], STEPS);
        CHECK_EQ(s->ran[1], STEPS);
        CHECK(steps <= STEPS + 2); /* two points a step, in parallel */
    }
    sim_destroy(s);
    free(s);
}

/* no_comm, width 2: two independent chains, each stays on its worker. */
static void two_chains(struct module *mod)
{
    enum { LEN = 40 };
    struct sim *s = malloc(sizeof(*s));
    struct pd_future *head[2];

    sim_init(s, mod);
    for (int i = 0; i < 2; i++)
        head[i] = submit(&s->g, 0, NULL);
    for (int k = 1; k < LEN; k++)
        for (int i = 0; i < 2; i++)
            head[i] = submit(&s->g, 1, &head[i]);
    sim_run(s, 1e-3, 2 * LEN);
    CHECK_EQ(s->ran[0], LEN);
    CHECK_EQ(s->ran[1], LEN);
    CHECK(s->placed[0] != s->placed[1]);
    /* Every link went where its input was made. */
    for (int id = 2; id < 2 * LEN; id++)
        CHECK_EQ(s->placed[id], s->placed[id - 2]);
    sim_destroy(s);
    free(s);
}

/* A run whose input is still being made on a worker with a full window
 * waits for that worker instead of going to a busy one, where it would
 * only wait too and split its chain; an idle worker may take it, and so
 * may any worker once the input exists. */
static void waits_for_home(void)
{
    struct wtable wt;
    struct pick p = no_inputs(1e-3);
    struct pick_input in = { .worker = 0, .done = false, .ticket = 1 };
    int win;

    wtable_init(&wt);
    for (int r = 1; r <= 2; r++)
        wtable_set_state(&wt, wtable_add(&wt, 0, r, 1), W_ACTIVE);
    p.in = &in;
    p.nin = 1;
    win = wtable_window(&wt.w[0], &p);
    wt.w[0].inflight = win;
    wt.w[1].inflight = 1;
    CHECK_EQ(wtable_pick(&wt, &p), WTABLE_WAIT);
    wt.w[1].inflight = 0;
    CHECK_EQ(wtable_pick(&wt, &p), 1);
    wt.w[1].inflight = 1;
    in.done = true;
    CHECK_EQ(wtable_pick(&wt, &p), 1);
    wtable_destroy(&wt);
}

/* Independent runs spread evenly. */
static void independent(struct module *mod)
{
    struct sim *s = malloc(sizeof(*s));

    sim_init(s, mod);
    for (int i = 0; i < 200; i++)
        submit(&s->g, 0, NULL);
    sim_run(s, 1e-6, 200);
    CHECK_EQ(s->ran[0], 100);
    CHECK_EQ(s->ran[1], 100);
    sim_destroy(s);
    free(s);
}

/* A run whose inputs are on one spawn's endpoint goes only to workers
 * there (they cannot fetch from another spawn), even when others are
 * idle; none free there: -1, no worker elsewhere. */
static void one_endpoint(void)
{
    struct wtable wt;
    struct pick p = no_inputs(5e-3);

    wtable_init(&wt);
    int a = wtable_add(&wt, 0, 1, 1), b = wtable_add(&wt, 1, 1, 1);
    wtable_set_state(&wt, a, W_ACTIVE);
    wtable_set_state(&wt, b, W_ACTIVE);
    p.one_ep = true;
    p.ep = 1;
    for (int i = 0; i < 2; i++) {
        int w = wtable_pick(&wt, &p);
        CHECK_EQ(w, b);
        wt.w[w].inflight++;
    }
    CHECK_EQ(wtable_pick(&wt, &p), -1); /* b full, a idle but elsewhere */
    p.ep = 0;
    CHECK_EQ(wtable_pick(&wt, &p), a);
    wtable_destroy(&wt);
}

int main(void)
{
    struct module *mod = loader_new_module("test");
    loader_add_task(mod, &noop_def);
    join_leave();
    one_endpoint();
    stencil(mod, 1e-3);
    stencil(mod, 70e-6);
    stencil(mod, 10e-6);
    two_chains(mod);
    waits_for_home();
    independent(mod);
    loader_close(mod);
    return 0;
}
