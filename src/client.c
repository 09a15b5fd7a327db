/* client.c - see client.h. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "client.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "comm.h"
#include "config.h"
#include "flow.h"
#include "journal.h"
#include "tcplink.h"
#include "loader.h"
#include "log.h"
#include "params.h"
#include "report.h"
#include "runtime.h"
#include "scheduler.h"
#include "sfile.h"
#include "util.h"

#define EXIT_USAGE 2

/* The settings as far as the INI file and the command line give them
 * (no flow loaded): enough to know whether this is a client. */
static void peek(const struct options *o, struct config *cfg)
{
    const char *file = config_pick_file(o->config_file);
    char err[1024];

    config_init(cfg);
    if (file)
        config_load_ini(cfg, file, err, sizeof(err));
    for (int i = 0; i < o->ncli; i++)
        config_set(cfg, o->cli[i].section, o->cli[i].key, o->cli[i].value,
                   o->cli[i].source, err, sizeof(err));
}

bool client_wanted(const struct options *o)
{
    struct config cfg;
    bool yes;

    if (strcmp(o->cmd, "run") != 0)
        return false;
    peek(o, &cfg);
    yes = cfg.address[0] || cfg.scheduler_file[0];
    /* PD_FLOW(fn, .address = ...) names a cluster too; a client is not
     * started by mpirun, so ranks of a job do not look. The module stays
     * open (runtime.c's loader_open takes another reference): closing
     * it might not unload it, and a reopened file whose constructors do
     * not run again would register no tasks. */
    if (!yes && o->path && !getenv("OMPI_COMM_WORLD_SIZE") &&
        !getenv("PMI_SIZE") && !getenv("PMIX_RANK")) {
        static struct module *m;
        const struct pd_flow_def *def;
        char err[1024];
        if (!m && loader_open(o->path, &m, err, sizeof(err)) != 0)
            m = NULL;
        if (m) {
            def = loader_find_flow(m, o->flow, err, sizeof(err));
            yes = def && def->address && def->address[0];
        }
    }
    config_free(&cfg);
    return yes;
}

/* Where to connect and with which token: --address or the scheduler
 * file; --token-file, PDASK_TOKEN, the scheduler file, the per-user
 * file. 0, or -1 with err. *token is "" when none was found. */
static int find_cluster(const struct config *cfg, char *addr, size_t alen,
                        char *token, size_t tlen, char *err, size_t errlen)
{
    struct sfile sf = { 0 };
    const char *env = getenv("PDASK_TOKEN");
    char path[4096];

    token[0] = '\0';
    if (cfg->scheduler_file[0] &&
        sfile_read(cfg->scheduler_file, &sf, err, errlen) != 0)
        return -1;
    snprintf(addr, alen, "%s", cfg->address[0] ? cfg->address : sf.address);
    if (cfg->token_file[0]) {
        if (sfile_token_read(cfg->token_file, token, tlen, err, errlen))
            return -1;
    } else if (env && *env) {
        snprintf(token, tlen, "%s", env);
    } else if (sf.token[0]) {
        snprintf(token, tlen, "%s", sf.token);
    } else if (sfile_token_path(path, sizeof(path)) == 0 &&
               access(path, R_OK) == 0) {
        if (sfile_token_read(path, token, tlen, err, errlen))
            return -1;
    }
    return 0;
}

/* Connect and prove the token: the link, or -1 after the message. */
static int handshake(struct link *l, const struct config *cfg, char *addr,
                     size_t alen)
{
    char token[256], err[1024];
    uint8_t key[crypto_auth_KEYBYTES], cn[LINK_NONCE], mac[crypto_auth_BYTES];
    const uint8_t *rn, *back;
    int tag, rank, fd;
    uint8_t *data = NULL;
    size_t len;
    struct buf b = { 0 };
    uint32_t magic, version, sealed;

    if (sodium_init() < 0) {
        log_error("libsodium could not start");
        return -1;
    }
    if (find_cluster(cfg, addr, alen, token, sizeof(token), err,
                     sizeof(err)) != 0) {
        log_error("%s", err);
        return -1;
    }
    fd = link_connect(addr, cfg->timeout_s, err, sizeof(err));
    if (fd < 0) {
        log_error("%s", err);
        return -1;
    }
    link_init(l, fd);
    if (link_wait(l, cfg->timeout_s, &tag, &rank, &data, &len) != 1 ||
        tag != LINK_HELLO || len < 12 + LINK_NONCE) {
        log_error("%s did not greet as a pdask-mpi cluster: %s", addr,
                  l->why[0] ? l->why : "unexpected first frame");
        free(data);
        return -1;
    }
    struct rd rd = rd_init(data, len);
    magic = rd_u32(&rd);
    version = rd_u32(&rd);
    sealed = rd_u32(&rd);
    rn = rd_take(&rd, LINK_NONCE);
    if (magic != LINK_MAGIC || version != LINK_VERSION) {
        log_error("%s is not a pdask-mpi %s cluster (protocol %u): use the "
                  "same pdask-mpi version on both sides", addr,
                  PD_VERSION_STRING, version);
        free(data);
        return -1;
    }
    randombytes_buf(cn, sizeof(cn));
    buf_u8(&b, token[0] != 0);
    buf_put(&b, cn, sizeof(cn));
    link_token_key(token, key);
    link_mac(key, rn, cn, mac);
    buf_put(&b, mac, sizeof(mac));
    link_put(l, LINK_AUTH, 0, b.data, b.len);
    buf_free(&b);
    if (!token[0]) {
        log_error("no token for the cluster at %s: give --scheduler-file "
                  "(the file holds it), --token-file FILE or PDASK_TOKEN, "
                  "or run as the user who started it", addr);
        link_drain(l, 1.0);
        free(data);
        return -1;
    }
    uint8_t rnc[LINK_NONCE];
    memcpy(rnc, rn, LINK_NONCE);
    free(data);
    data = NULL;
    if (link_wait(l, cfg->timeout_s, &tag, &rank, &data, &len) != 1) {
        log_error("the cluster at %s did not answer the handshake: %s",
                  addr, l->why);
        return -1;
    }
    if (tag == LINK_REFUSE) {
        log_error("the cluster at %s %.*s", addr, (int)len, (char *)data);
        free(data);
        return -1;
    }
    back = data;
    link_mac(key, cn, rnc, mac);
    if (tag != LINK_AUTH_OK || len != sizeof(mac) ||
        sodium_memcmp(back, mac, sizeof(mac)) != 0) {
        log_error("%s did not prove it knows the token: it is not the "
                  "cluster the token is for", addr);
        free(data);
        return -1;
    }
    free(data);
    if (sealed)
        link_seal(l, key, rnc, cn, true);
    l->max_frame = LINK_MAX_FRAME;
    sodium_memzero(token, sizeof(token));
    sodium_memzero(key, sizeof(key));
    return 0;
}

int client_shutdown(const struct options *o)
{
    struct config cfg;
    struct link l = { .fd = -1 };
    char addr[512];
    uint8_t kind = LINK_SHUTDOWN, *data = NULL;
    int tag, rank, code = EXIT_USAGE;
    size_t len;

    peek(o, &cfg);
    if (!cfg.scheduler_file[0] && !cfg.address[0]) {
        log_error("serve --shutdown: which cluster? give --scheduler-file "
                  "FILE or --address tcp://HOST:PORT");
    } else if (handshake(&l, &cfg, addr, sizeof(addr)) == 0) {
        link_put(&l, LINK_REQUEST, 0, &kind, 1);
        /* The relay closes the link once it has stopped. */
        while (link_wait(&l, cfg.timeout_s, &tag, &rank, &data, &len) == 1)
            free(data);
        log_msg(PD_INFO, "pdask-mpi", "the cluster at %s is shut down",
                addr);
        code = 0;
    }
    link_close(&l);
    config_free(&cfg);
    return code;
}

/* Ask the relay to run the flow: its path, content hash and task names.
 * Then the worker table. 0, or -1 after the message. */
static int ask_run(struct link *l, const struct config *cfg,
                   const char *addr, const struct module *mod,
                   uint32_t *run, int *nranks, int **threads,
                   struct res_tags **tags)
{
    char abs[PATH_MAX], err[1024];
    uint8_t hash[LINK_HASH], *data = NULL;
    struct buf b = { 0 };
    int tag, rank;
    size_t len;

    if (!realpath(mod->path, abs) ||
        link_hash_file(abs, hash, err, sizeof(err)) != 0) {
        log_error("%s: cannot read it to hash it", mod->path);
        return -1;
    }
    buf_u8(&b, LINK_RUN);
    buf_str(&b, abs);
    buf_put(&b, hash, sizeof(hash));
    buf_u32(&b, (uint32_t)mod->ntasks);
    for (int i = 0; i < mod->ntasks; i++)
        buf_str(&b, mod->tasks[i]->name);
    link_put(l, LINK_REQUEST, 0, b.data, b.len);
    buf_free(&b);
    if (link_wait(l, cfg->timeout_s, &tag, &rank, &data, &len) != 1) {
        log_error("the cluster at %s did not take the flow: %s", addr,
                  l->why);
        return -1;
    }
    if (tag == LINK_REFUSE || tag == LINK_BYE) {
        log_error("the cluster at %s %.*s", addr, (int)len, (char *)data);
        free(data);
        return -1;
    }
    struct rd rd = rd_init(data, len);
    *run = rd_u32(&rd);
    *nranks = (int)rd_u32(&rd);
    if (tag != LINK_WELCOME || rd.bad || *nranks < 2 || *nranks > 1 << 20 ||
        (size_t)*nranks * 4 > (size_t)(rd.end - rd.p)) {
        log_error("the cluster at %s sent a malformed worker table", addr);
        free(data);
        return -1;
    }
    *threads = pd__xcalloc((size_t)*nranks, sizeof(int));
    for (int i = 0; i < *nranks; i++)
        (*threads)[i] = (int)rd_u32(&rd);
    uint32_t tsize = rd_u32(&rd);
    const void *t = rd_take(&rd, sizeof(struct res_tags) * (size_t)*nranks);
    if (tsize != sizeof(struct res_tags) || !t) {
        log_error("the cluster at %s runs another build of pdask-mpi "
                  "(resource table of %u bytes, %zu here): use the same "
                  "build on both sides", addr, tsize,
                  sizeof(struct res_tags));
        free(data);
        return -1;
    }
    *tags = pd__xmalloc(sizeof(struct res_tags) * (size_t)*nranks);
    memcpy(*tags, t, sizeof(struct res_tags) * (size_t)*nranks);
    free(data);
    return 0;
}

/* A cluster at a scheduler file is sized where it started, as one at an
 * address is (config_validate says so for address). NULL, or err. */
static const char *cluster_settings(const struct config *cfg, char *err,
                                    size_t errlen)
{
    static const enum config_key keys[] = {
        CFG_cluster_class, CFG_n_workers, CFG_threads_per_worker,
        CFG_resources, CFG_adapt_minimum, CFG_adapt_maximum,
    };

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (!config_is_set(cfg, keys[i]))
            continue;
        snprintf(err, errlen, "%s: scheduler_file is set (%s), so this "
                 "cluster setting cannot be: a served cluster is sized "
                 "where it was started; remove one of the two",
                 cfg->source[keys[i]], cfg->scheduler_file);
        return err;
    }
    return NULL;
}

int client_run(const struct options *o)
{
    struct config cfg;
    struct pd_params params;
    struct module *mod = NULL;
    const struct pd_flow_def *def = NULL;
    struct link l = { .fd = -1 };
    struct report rep = { .status_fd = -1 };
    struct res_tags *tags = NULL;
    struct journal *jnl = NULL;
    int *threads = NULL, nranks = 0, code = EXIT_USAGE, from = 0;
    uint32_t run = 0;
    char err[1024], addr[512];
    const char *e, *key;

    memset(&params, 0, sizeof(params));
    e = runtime_resolve(o, &cfg, &params, &mod, &def, err, sizeof(err));
    if (!e && cfg.scheduler_file[0])
        e = cluster_settings(&cfg, err, sizeof(err));
    if (!e && report_open(&rep, cfg.status_path, cfg.trace_path,
                          cfg.report_path, err, sizeof(err)) != 0)
        e = err;
    /* The journal is the scheduler's, so the client's, as on rank 0. */
    if (!e && cfg.journal_path[0]) {
        struct journal_flow jf = { o->path, def->name, &params };
        if (journal_open(&jnl, cfg.journal_path, &jf, cfg.retry_failed != 0,
                         err, sizeof(err)) != 0)
            e = err;
    }
    if (e) {
        log_error("%s", e);
        goto out;
    }
    if (handshake(&l, &cfg, addr, sizeof(addr)) != 0 ||
        ask_run(&l, &cfg, addr, mod, &run, &nranks, &threads, &tags) != 0)
        goto out;

    struct comm c;
    struct pd_flow *f = pd__xmalloc(sizeof(*f));
    /* No .grow: a served cluster is sized where it was started. */
    struct sched_opts so = {
        .threads = threads, .nranks = nranks, .tags = tags,
        .prefetch = (int)cfg.prefetch, .heartbeat_s = cfg.heartbeat_s,
        .report = &rep, .progress_s = cfg.progress_s, .journal = jnl,
        .journal_path = cfg.journal_path[0] ? cfg.journal_path : NULL,
        .grace_s = cfg.grace_s,
    };
    struct sigaction sa = { .sa_handler = sched_interrupt };

    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    comm_init_link(&c, &l);
    flow_init(f, run, mod, def, cfg.name, &params, &c);
    report_context(&rep, f->name, &cfg, &params, threads, nranks);
    code = sched_run(&c, f, &so);
    while (code != EXIT_USAGE && (key = params_unused(&params, &from)))
        log_msg(PD_WARNING, f->name, "parameter '%s' was given but the "
                "flow never read it: check its spelling", key);
    flow_destroy(f);
    free(f);
    comm_destroy(&c);
out:
    report_close(&rep, code);
    journal_close(jnl);
    link_close(&l);
    free(threads);
    free(tags);
    params_free(&params);
    config_free(&cfg);
    loader_close(mod);
    return code;
}
