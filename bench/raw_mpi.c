/*
 * raw_mpi - lower bounds for pdask-mpi from plain MPI point-to-point.
 *
 * Usage: raw_mpi MODE [n=N] [k=K] [ms=MS] [poll=US] [warmup=W]
 *
 *   throughput  rank 0 hands N empty tasks to ranks 1..size-1, keeping K
 *               tasks in flight per worker; each task is a 16-byte message
 *               and each reply a 16-byte message.
 *   busy        as throughput, but each task spins MS milliseconds on
 *               clock_gettime (CPU work, not sleep).
 *   sleep       as throughput, but each task sleeps MS milliseconds.
 *   pingpong    N round trips of a 16-byte message between ranks 0 and 1,
 *               after W untimed ones (warmup=W, default 1000); other ranks
 *               only wait.
 *
 * poll=US makes the master test for replies every US microseconds and
 * sleep in between, instead of blocking in MPI_Recv (Open MPI busy-polls
 * there, which with 3 ranks on 2 cores competes with the workers). On a
 * quiet machine here it was no faster for 1 ms tasks (k=1 or k=2), so the
 * default, used by bench/run.py, is 0: block in MPI_Recv.
 *
 * Rank 0 prints one line:  BENCH tasks=N seconds=S ...  (or hops=N for
 * pingpong), which bench/run.py parses.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { TAG_TASK = 1, TAG_STOP = 2, TAG_DONE = 3, TAG_PING = 4 };

enum mode { MODE_THROUGHPUT, MODE_BUSY, MODE_SLEEP, MODE_PINGPONG };

/* One task or reply: 16 bytes, like a small task descriptor. */
struct msg {
    int64_t id;
    int64_t value;
};

struct opts {
    enum mode mode;
    long n;
    int k;
    double ms;
    long warmup;
    long poll_us;
};

static void usage(void)
{
    fprintf(stderr, "usage: raw_mpi throughput|busy|sleep|pingpong "
                    "[n=N] [k=K] [ms=MS] [poll=US] [warmup=W]\n");
}

/* Parse MODE and key=value arguments; returns 0 on success. */
static int parse_args(int argc, char **argv, struct opts *o)
{
    if (argc < 2)
        return -1;
    if (strcmp(argv[1], "throughput") == 0)
        o->mode = MODE_THROUGHPUT;
    else if (strcmp(argv[1], "busy") == 0)
        o->mode = MODE_BUSY;
    else if (strcmp(argv[1], "sleep") == 0)
        o->mode = MODE_SLEEP;
    else if (strcmp(argv[1], "pingpong") == 0)
        o->mode = MODE_PINGPONG;
    else
        return -1;

    o->n = 10000;
    o->k = 1;
    o->ms = 1.0;
    o->warmup = -1;
    o->poll_us = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        char *end = NULL;
        if (strncmp(a, "n=", 2) == 0)
            o->n = strtol(a + 2, &end, 10);
        else if (strncmp(a, "k=", 2) == 0)
            o->k = (int)strtol(a + 2, &end, 10);
        else if (strncmp(a, "ms=", 3) == 0)
            o->ms = strtod(a + 3, &end);
        else if (strncmp(a, "poll=", 5) == 0)
            o->poll_us = strtol(a + 5, &end, 10);
        else if (strncmp(a, "warmup=", 7) == 0)
            o->warmup = strtol(a + 7, &end, 10);
        else
            return -1;
        if (end == NULL || *end != '\0')
            return -1;
    }
    if (o->n < 1 || o->k < 1 || o->ms < 0.0 || o->poll_us < 0)
        return -1;
    /* Ping-pong only: untimed round trips first, so the shared-memory
     * connection and caches are warm. */
    if (o->warmup < 0)
        o->warmup = 1000;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Burn CPU for ms milliseconds: models a compute-bound task. */
static void spin_ms(double ms)
{
    double end = now_s() + ms * 1e-3;
    while (now_s() < end)
        ;
}

static void sleep_ms(double ms)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ms / 1000.0);
    ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1000.0) * 1e6);
    /* Resume after a signal with the time that is left. */
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Worker: execute tasks from rank 0 until told to stop. */
static void worker(const struct opts *o)
{
    struct msg m;
    MPI_Status st;

    for (;;) {
        MPI_Recv(&m, (int)sizeof m, MPI_BYTE, 0, MPI_ANY_TAG, MPI_COMM_WORLD,
                 &st);
        if (st.MPI_TAG == TAG_STOP)
            break;
        if (o->mode == MODE_BUSY)
            spin_ms(o->ms);
        else if (o->mode == MODE_SLEEP)
            sleep_ms(o->ms);
        m.value = m.id + 1;
        MPI_Send(&m, (int)sizeof m, MPI_BYTE, 0, TAG_DONE, MPI_COMM_WORLD);
    }
}

/*
 * Master: keep up to K tasks outstanding per worker. Sends are nonblocking
 * so the master is always back in MPI_Recv(ANY_SOURCE) quickly; each
 * worker slot owns its send buffer and request. Workers answer in order, so
 * a reply from worker w frees w's oldest slot (a per-worker ring).
 */
static int master(const struct opts *o, int nworkers)
{
    int k = o->k;
    size_t nslots = (size_t)nworkers * (size_t)k;
    struct msg *buf = calloc(nslots, sizeof *buf);
    MPI_Request *req = malloc(nslots * sizeof *req);
    int *oldest = calloc((size_t)nworkers, sizeof *oldest);
    long total = o->n;
    long sent = 0, done = 0;
    int64_t check = 0;

    if (buf == NULL || req == NULL || oldest == NULL) {
        fprintf(stderr, "raw_mpi: out of memory\n");
        return -1;
    }
    for (size_t i = 0; i < nslots; i++)
        req[i] = MPI_REQUEST_NULL;

    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();

    /* Fill every slot of every worker (fewer if N is small). */
    for (int s = 0; s < k; s++) {
        for (int w = 0; w < nworkers && sent < total; w++) {
            size_t slot = (size_t)w * (size_t)k + (size_t)s;
            buf[slot].id = sent++;
            buf[slot].value = 0;
            MPI_Isend(&buf[slot], (int)sizeof buf[slot], MPI_BYTE, w + 1,
                      TAG_TASK, MPI_COMM_WORLD, &req[slot]);
        }
    }

    while (done < total) {
        struct msg r;
        MPI_Status st;
        if (o->poll_us > 0) {
            /* Poll with short sleeps: leaves the cores to the workers. */
            MPI_Request rr;
            int flag = 0;
            MPI_Irecv(&r, (int)sizeof r, MPI_BYTE, MPI_ANY_SOURCE, TAG_DONE,
                      MPI_COMM_WORLD, &rr);
            for (;;) {
                MPI_Test(&rr, &flag, &st);
                if (flag)
                    break;
                sleep_ms((double)o->poll_us * 1e-3);
            }
        } else {
            MPI_Recv(&r, (int)sizeof r, MPI_BYTE, MPI_ANY_SOURCE, TAG_DONE,
                     MPI_COMM_WORLD, &st);
        }
        done++;
        check += r.value - r.id;

        int w = st.MPI_SOURCE - 1;
        size_t slot = (size_t)w * (size_t)k + (size_t)oldest[w];
        oldest[w] = (oldest[w] + 1) % k;
        if (sent < total) {
            /* The worker already replied, so this wait returns at once. */
            MPI_Wait(&req[slot], MPI_STATUS_IGNORE);
            buf[slot].id = sent++;
            MPI_Isend(&buf[slot], (int)sizeof buf[slot], MPI_BYTE, w + 1,
                      TAG_TASK, MPI_COMM_WORLD, &req[slot]);
        }
    }
    double t1 = MPI_Wtime();

    MPI_Waitall((int)nslots, req, MPI_STATUSES_IGNORE);
    for (int w = 0; w < nworkers; w++)
        MPI_Send(NULL, 0, MPI_BYTE, w + 1, TAG_STOP, MPI_COMM_WORLD);

    if (check != total) {
        fprintf(stderr, "raw_mpi: bad replies (%lld of %ld)\n",
                (long long)check, total);
        return -1;
    }
    printf("BENCH tasks=%ld seconds=%.6f workers=%d k=%d mode=%s ms=%g\n",
           total, t1 - t0, nworkers, k,
           o->mode == MODE_BUSY    ? "busy"
           : o->mode == MODE_SLEEP ? "sleep"
                                   : "empty",
           o->mode == MODE_THROUGHPUT ? 0.0 : o->ms);
    free(buf);
    free(req);
    free(oldest);
    return 0;
}

/*
 * Barrier that sleeps between polls, so ranks with nothing to do do not
 * steal a core from the ranks being measured (Open MPI's blocking calls
 * busy-poll).
 */
static void lazy_barrier(void)
{
    MPI_Request r;
    int flag = 0;

    MPI_Ibarrier(MPI_COMM_WORLD, &r);
    for (;;) {
        MPI_Test(&r, &flag, MPI_STATUS_IGNORE);
        if (flag)
            break;
        sleep_ms(0.2);
    }
}

/* Round trips between ranks 0 and 1: the floor for one dependent hop. */
static void pingpong(const struct opts *o, int rank)
{
    struct msg m = { 0, 0 };
    double t0 = 0.0;

    for (long i = 0; i < o->warmup + o->n; i++) {
        if (i == o->warmup && rank == 0)
            t0 = MPI_Wtime();
        if (rank == 0) {
            m.id = i;
            MPI_Send(&m, (int)sizeof m, MPI_BYTE, 1, TAG_PING,
                     MPI_COMM_WORLD);
            MPI_Recv(&m, (int)sizeof m, MPI_BYTE, 1, TAG_PING, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
        } else {
            MPI_Recv(&m, (int)sizeof m, MPI_BYTE, 0, TAG_PING, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
            m.value = m.id + 1;
            MPI_Send(&m, (int)sizeof m, MPI_BYTE, 0, TAG_PING,
                     MPI_COMM_WORLD);
        }
    }
    if (rank == 0)
        printf("BENCH hops=%ld seconds=%.6f\n", o->n, MPI_Wtime() - t0);
}

int main(int argc, char **argv)
{
    struct opts o;
    int rank, size, rc = 0;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    if (parse_args(argc, argv, &o) != 0) {
        if (rank == 0)
            usage();
        MPI_Finalize();
        return 2;
    }
    if (size < 2) {
        if (rank == 0)
            fprintf(stderr, "raw_mpi: needs at least 2 ranks\n");
        MPI_Finalize();
        return 2;
    }

    if (o.mode == MODE_PINGPONG) {
        /* Ranks beyond 1 take no part; they sleep in the final barrier. */
        if (rank <= 1)
            pingpong(&o, rank);
        lazy_barrier();
    } else if (rank == 0) {
        rc = master(&o, size - 1);
    } else {
        MPI_Barrier(MPI_COMM_WORLD);
        worker(&o);
    }

    if (o.mode != MODE_PINGPONG)
        lazy_barrier();
    fflush(stdout);
    if (rc != 0)
        MPI_Abort(MPI_COMM_WORLD, 1);
    MPI_Finalize();
    return 0;
}
