/* cluster.c - see cluster.h. */
#define _GNU_SOURCE  /* dladdr1 and dl_iterate_phdr: checking a plugin */
#include "cluster.h"

#include <dlfcn.h>
#include <link.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "comm.h"
#include "loader.h"
#include "pdask_cluster.h"
#include "log.h"
#include "protocol.h"
#include "topology.h"
#include "util.h"

bool cluster_agree(MPI_Comm comm, const char *err)
{
    int rank, bad, first;
    char msg[2048], host[256];

    MPI_Comm_rank(comm, &rank);
    bad = err ? rank : INT_MAX;
    MPI_Allreduce(&bad, &first, 1, MPI_INT, MPI_MIN, comm);
    if (first == INT_MAX)
        return true;
    if (rank == first && rank != 0) {
        gethostname(host, sizeof(host));
        host[sizeof(host) - 1] = '\0';
        snprintf(msg, sizeof(msg), "rank %d (host %s): %s", rank, host, err);
        MPI_Send(msg, (int)strlen(msg) + 1, MPI_CHAR, 0, 1, comm);
    }
    if (rank == 0) {
        if (first != 0)
            MPI_Recv(msg, sizeof(msg), MPI_CHAR, first, 1, comm,
                     MPI_STATUS_IGNORE);
        log_error("%s", first == 0 ? err : msg);
    }
    return false;
}

bool cluster_agree_tasks(MPI_Comm comm, const struct module *m,
                         const char *path, int **def_of, int *ndefs)
{
    struct buf b = { 0 };
    int len = 0, n, rank;
    char err[1024];
    const char *e = NULL;

    MPI_Comm_rank(comm, &rank);
    if (rank == 0) {
        buf_u32(&b, (uint32_t)m->ntasks);
        for (int i = 0; i < m->ntasks; i++)
            buf_str(&b, m->tasks[i]->name);
        len = (int)b.len;
    }
    MPI_Bcast(&len, 1, MPI_INT, 0, comm);
    if (rank != 0)
        buf_reserve(&b, (size_t)len);
    MPI_Bcast(b.data, len, MPI_BYTE, 0, comm);
    struct rd r = rd_init(b.data, (size_t)len);
    n = (int)rd_u32(&r);
    *def_of = pd__xcalloc((size_t)n + 1, sizeof(int));
    *ndefs = n;
    for (int i = 0; i < n; i++) {
        const char *name = rd_str(&r);
        (*def_of)[i] = name ? loader_task_by_name(m, name) : -1;
        if ((*def_of)[i] < 0 && !e) {
            snprintf(err, sizeof(err), "task '%s' is declared in %s on rank "
                     "0 but not here: every rank must load the same flow "
                     "file (copy it to every node, or use a shared path)",
                     name ? name : "?", path);
            e = err;
        }
    }
    if (!e && rank != 0 && m->ntasks != n) {
        snprintf(err, sizeof(err), "%s declares %d tasks here but %d on "
                 "rank 0: every rank must load the same flow file", path,
                 m->ntasks, n);
        e = err;
    }
    buf_free(&b);
    return cluster_agree(comm, e);
}

MPI_Comm cluster_join_parent(MPI_Comm *parent)
{
    MPI_Comm merged;

    MPI_Comm_get_parent(parent);
    if (*parent == MPI_COMM_NULL)
        return MPI_COMM_NULL;
    MPI_Intercomm_merge(*parent, 1, &merged);
    return merged;
}

void cluster_leave(MPI_Comm *merged, MPI_Comm *inter)
{
    if (*merged != MPI_COMM_NULL)
        MPI_Comm_free(merged);
    if (*inter != MPI_COMM_NULL)
        MPI_Comm_disconnect(inter);
}

const char *cluster_self_exe(void)
{
    static char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    if (len <= 0)
        return NULL;
    exe[len] = '\0';
    return exe;
}

int cluster_spawn(int n, char **argv, MPI_Comm *out, MPI_Comm *inter,
                  char *err, size_t errlen)
{
    char cwd[4096], ebuf[MPI_MAX_ERROR_STRING];
    const char *exe = cluster_self_exe();
    int *codes, rc, cores = 0;
    struct topology tp;
    MPI_Info info;

    if (!exe) {
        snprintf(err, errlen, "cannot find this program to spawn workers");
        return -1;
    }
    if (topo_init(&tp) == 0) {
        cores = tp.ncores;
        topo_destroy(&tp);
    }
    codes = pd__xcalloc((size_t)n, sizeof(int));
    MPI_Info_create(&info);
    if (getcwd(cwd, sizeof(cwd)))
        MPI_Info_set(info, "wdir", cwd);
    /* Open MPI gives one slot a core and rank 0 already holds one, so n
     * workers on n cores would not fit. Rank 0 mostly sleeps: let it share
     * a core, and no more than that; more workers than cores still need
     * the user's consent (OMPI_MCA_rmaps_base_oversubscribe=1). */
    if (n <= cores)
        MPI_Info_set(info, "map_by", ":OVERSUBSCRIBE");
    /* Hosts of the job's allocation to start them on (MPI's "host" key):
     * for a test, a host outside it makes the spawn fail. */
    if (getenv("PDASK_SPAWN_HOSTS"))
        MPI_Info_set(info, "host", getenv("PDASK_SPAWN_HOSTS"));
    /* A failed spawn is reported, not fatal: errors return here only. */
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
    rc = MPI_Comm_spawn((char *)exe, argv, n, info, 0, MPI_COMM_SELF, inter,
                        codes);
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_ARE_FATAL);
    MPI_Info_free(&info);
    for (int i = 0; rc == MPI_SUCCESS && i < n; i++)
        rc = codes[i];
    free(codes);
    if (rc != MPI_SUCCESS && cores > 0 && n > cores) {
        snprintf(err, errlen, "cannot spawn %d workers (MPI_Comm_spawn: "
                 "%s): %d cores fit %d workers beside the scheduler; ask "
                 "for fewer (n_workers, -n), set "
                 "OMPI_MCA_rmaps_base_oversubscribe=1 to run more processes "
                 "than cores, or run under mpirun -n N", n,
                 comm_strerror(rc, ebuf, sizeof(ebuf)), cores, cores);
        return -1;
    }
    if (rc != MPI_SUCCESS) {
        snprintf(err, errlen, "cannot spawn %d workers (MPI_Comm_spawn: "
                 "%s); see Open MPI's message above, or run under mpirun "
                 "-n N", n, comm_strerror(rc, ebuf, sizeof(ebuf)));
        return -1;
    }
    MPI_Intercomm_merge(*inter, 0, out);
    return 0;
}

/* Where an address lies among the loaded objects: the object's load
 * address and the flags (PF_X, ...) of the segment that holds it. */
struct segment {
    uintptr_t addr;
    bool found;
    ElfW(Addr) object;
    ElfW(Word) flags;
};

static int find_segment(struct dl_phdr_info *info, size_t size, void *data)
{
    struct segment *s = data;

    (void)size;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && s->addr >= lo &&
            s->addr - lo < ph->p_memsz) {
            s->found = true;
            s->object = info->dlpi_addr;
            s->flags = ph->p_flags;
            return 1;
        }
    }
    return 0;
}

static struct segment segment_of(const void *p)
{
    struct segment s = { .addr = (uintptr_t)p };

    dl_iterate_phdr(find_segment, &s);
    return s;
}

/* True when fn is NULL or points into executable code of the object
 * that holds the ops. */
static bool code_of(const void *fn, const struct segment *ops)
{
    struct segment s;

    if (!fn)
        return true;
    s = segment_of(fn);
    return s.found && (s.flags & PF_X) && s.object == ops->object;
}

/* A symbol is a usable pd_cluster_ops when the ELF symbol table says it
 * is a data object of at least that size, outside executable code (so
 * not a function such as printf, not an int), its abi matches, and
 * start (and scale and close, if set) point into the code of the same
 * plugin. Then calling start cannot jump into data or garbage. Only the
 * abi is read before the rest is known to be inside the object. NULL, or
 * why not. */
static const char *check_ops(const void *sym, char *why, size_t len)
{
    const struct pd_cluster_ops *ops = sym;
    const ElfW(Sym) *es = NULL;
    struct segment seg = segment_of(sym);
    Dl_info info;

    if (!dladdr1(sym, &info, (void **)&es, RTLD_DL_SYMENT) || !es ||
        !seg.found) {
        snprintf(why, len, "it is not in the plugin's symbol table");
        return why;
    }
    if (ELF64_ST_TYPE(es->st_info) == STT_FUNC ||
        ELF64_ST_TYPE(es->st_info) == STT_GNU_IFUNC || (seg.flags & PF_X)) {
        snprintf(why, len, "it is a function, not a const struct "
                 "pd_cluster_ops");
        return why;
    }
    if (ELF64_ST_TYPE(es->st_info) != STT_OBJECT ||
        es->st_size < sizeof(*ops)) {
        snprintf(why, len, "it is a %zu-byte object, not a struct "
                 "pd_cluster_ops (%zu bytes)", (size_t)es->st_size,
                 sizeof(*ops));
        return why;
    }
    if (ops->abi != PD_ABI_VERSION) {
        snprintf(why, len, "its abi is %d, not %d: rebuild the plugin "
                 "against this pdask_cluster.h", ops->abi, PD_ABI_VERSION);
        return why;
    }
    if (!ops->start || !code_of((const void *)(uintptr_t)ops->start, &seg) ||
        !code_of((const void *)(uintptr_t)ops->scale, &seg) ||
        !code_of((const void *)(uintptr_t)ops->close, &seg)) {
        snprintf(why, len, "its start, scale or close does not point to a "
                 "function of the plugin (start is required)");
        return why;
    }
    return NULL;
}

int cluster_plugin_start(const char *spec, struct pd_cluster_req *req,
                         MPI_Comm *out, MPI_Comm *inter,
                         const struct pd_cluster_ops **ops, char *err,
                         size_t errlen)
{
    const char *colon = strrchr(spec, ':');
    const struct pd_cluster_ops *p;
    char path[4096], why[1024];
    void *h, *sym;

    /* On every failure *ops stays NULL: the caller calls close() only
     * on a plugin that started. */
    *ops = NULL;
    snprintf(path, sizeof(path), "%.*s", (int)(colon - spec), spec);
    h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(err, errlen, "cluster_class %s: cannot load the plugin: %s",
                 spec, dlerror());
        return -1;
    }
    sym = dlsym(h, colon + 1);
    if (!sym) {
        snprintf(err, errlen, "cluster_class %s: %s has no symbol '%s': "
                 "export a const struct pd_cluster_ops under that name",
                 spec, path, colon + 1);
        goto out_close;
    }
    if (check_ops(sym, why, sizeof(why))) {
        snprintf(err, errlen, "cluster_class %s: '%s' is not a "
                 "pd_cluster_ops of ABI %d with a start function: %s "
                 "(see pdask_cluster.h)", spec, colon + 1, PD_ABI_VERSION,
                 why);
        goto out_close;
    }
    p = sym;
    req->exe = cluster_self_exe();
    why[0] = '\0';
    *inter = MPI_COMM_NULL;
    if (p->start(req, inter, why, sizeof(why)) != 0 ||
        *inter == MPI_COMM_NULL) {
        /* The handle stays open: a start that ran may have left MPI
         * callbacks or threads in the plugin's code. */
        snprintf(err, errlen, "cluster_class %s: start failed: %s", spec,
                 why[0] ? why : "no workers");
        return -1;
    }
    MPI_Intercomm_merge(*inter, 0, out);
    *ops = p;   /* the handle stays open: close() is in it */
    return 0;

out_close:
    dlclose(h);
    return -1;
}

void cluster_fill_node(int cores, int *workers, int *threads)
{
    int w = cores;

    if (cores > 4) {
        for (w = (int)ceil(sqrt((double)cores)); cores % w; w++)
            ;
    }
    *workers = w < 1 ? 1 : w;
    *threads = cores / *workers < 1 ? 1 : cores / *workers;
}

int cluster_size_threads(MPI_Comm comm, int forced, struct topology *tp,
                         int *first_core, int share[2])
{
    MPI_Comm node;
    int rank, nrank, nsize, same = 0, index = 0, cores, threads;
    unsigned long h = 5381;
    char *s = tp ? topo_cpuset_string(tp) : NULL;

    MPI_Comm_rank(comm, &rank);
    MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL,
                        &node);
    MPI_Comm_rank(node, &nrank);
    MPI_Comm_size(node, &nsize);
    for (const char *c = s ? s : ""; *c; c++)
        h = h * 33 + (unsigned char)*c;
    free(s);
    /* Rank 0 schedules and does not take a share of the cores. */
    unsigned long mine[2] = { h, rank != 0 };
    unsigned long *all = pd__xcalloc((size_t)nsize * 2, sizeof(*all));
    MPI_Allgather(mine, 2, MPI_UNSIGNED_LONG, all, 2, MPI_UNSIGNED_LONG, node);
    for (int i = 0; i < nsize; i++) {
        if (all[2 * i] == h && all[2 * i + 1]) {
            index += i < nrank;
            same++;
        }
    }
    free(all);
    MPI_Comm_free(&node);
    cores = tp ? tp->ncores : 1;
    threads = forced > 0 ? forced : (same ? cores / same : cores);
    if (threads < 1)
        threads = 1;
    *first_core = index * threads;
    share[0] = index;
    share[1] = same ? same : 1;
    return threads;
}
