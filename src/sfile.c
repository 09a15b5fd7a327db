/* sfile.c - see sfile.h. */
#include "sfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tcplink.h"
#include "log.h"

/* The value of "key" in a flat JSON object we wrote: a string (no
 * escapes in what we write) or a number, into out. 0, or -1. */
static int json_get(const char *js, const char *key, char *out, size_t len)
{
    char pat[64];
    const char *p, *e;

    snprintf(pat, sizeof(pat), "\"%s\"", key);
    p = strstr(js, pat);
    if (!p)
        return -1;
    p += strlen(pat);
    while (*p == ' ' || *p == ':' || *p == '\t' || *p == '\n')
        p++;
    if (*p == '"') {
        e = strchr(++p, '"');
    } else {
        e = p + strspn(p, "-0123456789");
    }
    if (!e || e == p || (size_t)(e - p) >= len)
        return -1;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = '\0';
    return 0;
}

int sfile_read(const char *path, struct sfile *s, char *err, size_t errlen)
{
    char js[4096], num[32];
    FILE *f = fopen(path, "r");
    size_t n;

    memset(s, 0, sizeof(*s));
    if (!f) {
        snprintf(err, errlen, "scheduler file %s: %s; is pdask-mpi serve "
                 "running with --scheduler-file %s?", path, strerror(errno),
                 path);
        return -1;
    }
    n = fread(js, 1, sizeof(js) - 1, f);
    fclose(f);
    js[n] = '\0';
    if (json_get(js, "address", s->address, sizeof(s->address)) != 0) {
        snprintf(err, errlen, "scheduler file %s: no \"address\": not "
                 "written by pdask-mpi serve", path);
        return -1;
    }
    json_get(js, "host", s->host, sizeof(s->host));
    json_get(js, "token", s->token, sizeof(s->token));
    json_get(js, "started", s->started, sizeof(s->started));
    if (json_get(js, "pid", num, sizeof(num)) == 0)
        s->pid = atol(num);
    if (json_get(js, "workers", num, sizeof(num)) == 0)
        s->workers = atoi(num);
    return 0;
}

/* True when the relay that wrote s still runs: its pid on this host, or
 * something answering at its address elsewhere. */
static bool alive(const struct sfile *s)
{
    char host[256] = "", err[256];

    gethostname(host, sizeof(host));
    if (strcmp(host, s->host) == 0)
        return s->pid > 0 && (kill((pid_t)s->pid, 0) == 0 || errno == EPERM);
    int fd = link_connect(s->address, 2.0, err, sizeof(err));
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

int sfile_write(const char *path, const struct sfile *s, char *err,
                size_t errlen)
{
    struct sfile old;
    char tmp[4200], e2[512];
    FILE *f;
    int fd;

    if (access(path, F_OK) == 0) {
        if (sfile_read(path, &old, e2, sizeof(e2)) == 0 && alive(&old)) {
            snprintf(err, errlen, "scheduler file %s belongs to a cluster "
                     "that is running (pid %ld on %s, %s, started %s): stop "
                     "it with pdask-mpi serve --shutdown --scheduler-file "
                     "%s, or choose another file", path, old.pid, old.host,
                     old.address, old.started, path);
            return -1;
        }
        log_msg(PD_WARNING, "pdask-mpi", "replacing the stale scheduler file "
                "%s (its cluster, pid %ld on %s, is gone)", path, old.pid,
                old.host[0] ? old.host : "?");
    }
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        snprintf(err, errlen, "cannot write the scheduler file %s: %s", tmp,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    fprintf(f, "{\n  \"type\": \"pdask-mpi\",\n  \"address\": \"%s\",\n"
            "  \"host\": \"%s\",\n  \"pid\": %ld,\n  \"workers\": %d,\n"
            "  \"world_size\": %d,\n  \"started\": \"%s\",\n"
            "  \"token\": \"%s\"\n}\n", s->address, s->host, s->pid,
            s->workers, s->workers + 1, s->started, s->token);
    if (fflush(f) != 0 || fsync(fd) != 0 || fclose(f) != 0 ||
        rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write the scheduler file %s: %s", path,
                 strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

void sfile_remove(const char *path)
{
    struct sfile s;
    char err[512];

    if (sfile_read(path, &s, err, sizeof(err)) == 0 && s.pid == getpid())
        unlink(path);
}

int sfile_token_path(char *buf, size_t len)
{
    const char *x = getenv("XDG_RUNTIME_DIR"), *home = getenv("HOME");

    if (x && *x)
        snprintf(buf, len, "%s/pdask/token", x);
    else if (home && *home)
        snprintf(buf, len, "%s/.pdask/token", home);
    else
        return -1;
    return 0;
}

int sfile_token_read(const char *path, char *token, size_t len, char *err,
                     size_t errlen)
{
    FILE *f = fopen(path, "r");

    if (!f || !fgets(token, (int)len, f)) {
        snprintf(err, errlen, "token file %s: %s", path,
                 f ? "empty" : strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    token[strcspn(token, "\r\n")] = '\0';
    if (!token[0]) {
        snprintf(err, errlen, "token file %s: empty", path);
        return -1;
    }
    return 0;
}

int sfile_token_get_or_make(char *token, size_t len, char *err,
                            size_t errlen)
{
    char path[4096], dir[4096], tmp[4200];
    uint8_t raw[LINK_TOKEN];
    FILE *f;
    int fd;

    if (sfile_token_path(path, sizeof(path)) != 0) {
        snprintf(err, errlen, "no XDG_RUNTIME_DIR or HOME to keep the "
                 "token in");
        return -1;
    }
    /* One token per user: every cluster of the user shares it. */
    if (sfile_token_read(path, token, len, err, errlen) == 0) {
        struct stat st;
        if (stat(path, &st) == 0 && (st.st_mode & 077)) {
            log_msg(PD_WARNING, "pdask-mpi", "token file %s was readable "
                    "by others (mode %03o): made it owner-only; make a new "
                    "token by removing the file if others may have read it",
                    path, (unsigned)(st.st_mode & 0777));
            chmod(path, 0600);
        }
        return 0;
    }
    snprintf(dir, sizeof(dir), "%s", path);
    *strrchr(dir, '/') = '\0';
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot make %s: %s", dir, strerror(errno));
        return -1;
    }
    chmod(dir, 0700);
    randombytes_buf(raw, sizeof(raw));
    link_hex(raw, sizeof(raw), token);
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        snprintf(err, errlen, "cannot write the token file %s: %s", tmp,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    fprintf(f, "%s\n", token);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write the token file %s: %s", path,
                 strerror(errno));
        unlink(tmp);
        return -1;
    }
    (void)len;
    return 0;
}
