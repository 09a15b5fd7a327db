/*
 * tb_mpi - the Task Bench patterns of tb_graph.h in plain MPI: the
 * reference peak of bench/taskbench.py.
 *
 * Usage: tb_mpi graph pattern=P [width=W] [steps=S] [iters=I] [radix=R]
 *                     [reps=N]
 *        tb_mpi bw [bytes=B] [reps=N]
 *
 *   graph  point i lives on rank i % size (static placement). At each step
 *          a rank posts MPI_Irecv for the inputs its points need from other
 *          ranks and MPI_Isend of its previous outputs to the ranks that
 *          need them, waits for all, then computes its points. One line
 *          per repetition:  BENCH tasks=N seconds=S iters=I check=C
 *   bw     ranks 0 and 1: MPI_Send of B bytes (default 64 MiB) from 0 to
 *          1, then a 1-byte reply; after one untimed transfer, one line
 *          per repetition:  BENCH bytes=B seconds=S
 */
#define _POSIX_C_SOURCE 200809L

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb_graph.h"

enum { TAG_ACK = 1 };

struct opts {
    int bw;               /* bw mode, else graph */
    struct tb_graph g;
    long iters, reps, bytes;
};

static void usage(void)
{
    fprintf(stderr,
            "usage: tb_mpi graph pattern=P [width=W] [steps=S] [iters=I] "
            "[radix=R] [reps=N]\n"
            "       tb_mpi bw [bytes=B] [reps=N]\n");
}

/* MODE and key=value arguments into o; 0 on success. */
static int parse_args(int argc, char **argv, struct opts *o)
{
    const char *pattern = NULL;

    memset(o, 0, sizeof *o);
    o->g.width = 2;
    o->g.steps = 100;
    o->g.radix = 3;
    o->iters = 1000;
    o->reps = 1;
    o->bytes = 64L << 20;
    if (argc < 2)
        return -1;
    if (strcmp(argv[1], "bw") == 0)
        o->bw = 1;
    else if (strcmp(argv[1], "graph") != 0)
        return -1;
    for (int i = 2; i < argc; i++) {
        static const char *const keys[] = { "width=", "steps=", "iters=",
                                            "radix=", "reps=", "bytes=" };
        long *dst[] = { &o->g.width, &o->g.steps, &o->iters, &o->g.radix,
                        &o->reps, &o->bytes };
        const char *a = argv[i];
        char *end = NULL;
        int k;

        if (strncmp(a, "pattern=", 8) == 0) {
            pattern = a + 8;
            continue;
        }
        for (k = 0; k < 6; k++)
            if (strncmp(a, keys[k], strlen(keys[k])) == 0)
                break;
        if (k == 6)
            return -1;
        *dst[k] = strtol(a + strlen(keys[k]), &end, 10);
        if (end == NULL || *end != '\0')
            return -1;
    }
    if (!o->bw) {
        int p = pattern ? tb_pattern_parse(pattern) : -1;
        if (p < 0)
            return -1;
        o->g.pattern = (enum tb_pattern)p;
    }
    if (o->g.width < 1 || o->g.steps < 1 || o->iters < 0 || o->g.radix < 1
        || o->reps < 1 || o->bytes < 1 || o->bytes > INT32_MAX)
        return -1;
    return 0;
}

/* The graph state of one rank: values of the previous and current step
 * (only owned or received entries are meaningful), deps of every point of
 * the current step, receive slots and requests. */
struct state {
    const struct tb_graph *g;
    int rank, size;
    int64_t *prev, *cur, *in;   /* width; width; width * width */
    long *dep;                  /* width * width: deps of (t, i) at i*width */
    int *ndep;
    MPI_Request *req;           /* at most 2 * width * width */
};

static int owner(const struct state *s, long i)
{
    return (int)(i % s->size);
}

/* Exchange the step t - 1 values the points of step t need. */
static void exchange(struct state *s, long t)
{
    const struct tb_graph *g = s->g;
    long w = g->width, wt = tb_width_at(g, t);
    int nreq = 0;

    for (long i = 0; i < wt; i++) {
        long *dep = s->dep + i * w;
        int dst = owner(s, i);

        s->ndep[i] = tb_deps(g, t, i, dep);
        for (int k = 0; k < s->ndep[i]; k++) {
            int src = owner(s, dep[k]);
            int tag = (int)(i * w + dep[k]);
            if (dst == s->rank && src != s->rank)
                MPI_Irecv(&s->in[i * w + k], 1, MPI_INT64_T, src, tag,
                          MPI_COMM_WORLD, &s->req[nreq++]);
            else if (src == s->rank && dst != s->rank)
                MPI_Isend(&s->prev[dep[k]], 1, MPI_INT64_T, dst, tag,
                          MPI_COMM_WORLD, &s->req[nreq++]);
        }
    }
    MPI_Waitall(nreq, s->req, MPI_STATUSES_IGNORE);
}

/* One run of the whole graph; returns the checksum on rank 0. */
static int64_t run_graph(struct state *s, long iters)
{
    const struct tb_graph *g = s->g;
    long w = g->width;
    int64_t local = 0, total = 0;

    for (long t = 0; t < g->steps; t++) {
        long wt = tb_width_at(g, t);
        if (t > 0)
            exchange(s, t);
        for (long i = s->rank; i < wt; i += s->size) {
            long *dep = s->dep + i * w;
            int n = t > 0 ? s->ndep[i] : 0;
            int64_t *in = s->in + i * w;
            for (int k = 0; k < n; k++)
                if (owner(s, dep[k]) == s->rank)
                    in[k] = s->prev[dep[k]];
            s->cur[i] = tb_point(g, t, i, in, n, iters);
        }
        int64_t *tmp = s->prev;
        s->prev = s->cur;
        s->cur = tmp;
    }
    for (long i = s->rank; i < tb_width_at(g, g->steps - 1); i += s->size)
        local = (local + s->prev[i]) % TB_MOD;
    MPI_Reduce(&local, &total, 1, MPI_INT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    return total % TB_MOD;
}

static int graph(const struct opts *o, int rank, int size)
{
    size_t w = (size_t)o->g.width;
    struct state s = { &o->g, rank, size, calloc(w, 8), calloc(w, 8),
                       calloc(w * w, 8), calloc(w * w, sizeof(long)),
                       calloc(w, sizeof(int)),
                       calloc(2 * w * w, sizeof(MPI_Request)) };
    long tasks = 0;
    int rc = 0;

    if (!s.prev || !s.cur || !s.in || !s.dep || !s.ndep || !s.req) {
        fprintf(stderr, "tb_mpi: out of memory for width %zu\n", w);
        return -1;
    }
    for (long t = 0; t < o->g.steps; t++)
        tasks += tb_width_at(&o->g, t);
    for (long r = 0; r < o->reps; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        int64_t check = run_graph(&s, o->iters);
        double t1 = MPI_Wtime();
        if (rank == 0)
            printf("BENCH tasks=%ld seconds=%.6f iters=%ld check=%lld "
                   "pattern=%s width=%ld steps=%ld ranks=%d\n", tasks,
                   t1 - t0, o->iters, (long long)check,
                   tb_pattern_names[o->g.pattern], o->g.width, o->g.steps,
                   size);
        fflush(stdout);
    }
    free(s.prev);
    free(s.cur);
    free(s.in);
    free(s.dep);
    free(s.ndep);
    free(s.req);
    return rc;
}

/* Point-to-point bandwidth between ranks 0 and 1; others only wait. */
static int bandwidth(const struct opts *o, int rank)
{
    char *buf = malloc((size_t)o->bytes);
    char ack = 0;

    if (buf == NULL) {
        fprintf(stderr, "tb_mpi: out of memory for %ld bytes\n", o->bytes);
        return -1;
    }
    memset(buf, rank + 1, (size_t)o->bytes);   /* touch every page */
    for (long r = -1; r < o->reps; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        if (rank == 0) {
            MPI_Send(buf, (int)o->bytes, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
            MPI_Recv(&ack, 1, MPI_BYTE, 1, TAG_ACK, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
            if (r >= 0)
                printf("BENCH bytes=%ld seconds=%.6f\n", o->bytes,
                       MPI_Wtime() - t0);
        } else if (rank == 1) {
            MPI_Recv(buf, (int)o->bytes, MPI_BYTE, 0, 0, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
            ack = buf[o->bytes - 1];
            MPI_Send(&ack, 1, MPI_BYTE, 0, TAG_ACK, MPI_COMM_WORLD);
        }
    }
    fflush(stdout);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    int rank, size, rc, *tag_ub, flag = 0;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &tag_ub, &flag);

    if (parse_args(argc, argv, &o) != 0) {
        if (rank == 0)
            usage();
        MPI_Finalize();
        return 2;
    }
    if ((o.bw && size < 2)
        || (!o.bw && flag && o.g.width * o.g.width > *tag_ub)) {
        if (rank == 0)
            fprintf(stderr, "tb_mpi: bw needs 2 ranks; graph needs "
                    "width * width <= MPI_TAG_UB\n");
        MPI_Finalize();
        return 2;
    }
    rc = o.bw ? bandwidth(&o, rank) : graph(&o, rank, size);
    if (rc != 0)
        MPI_Abort(MPI_COMM_WORLD, 1);
    MPI_Finalize();
    return 0;
}
