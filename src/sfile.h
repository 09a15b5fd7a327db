/* sfile.h - a served cluster's scheduler file (JSON, owner-only) and the
 * per-user token file, as dask-mpi's --scheduler-file and HyperQueue's
 * access file. No MPI. */
#ifndef PD_SFILE_H
#define PD_SFILE_H

#include <stddef.h>
#include <sys/types.h>

struct sfile {
    char address[400];   /* tcp://HOST:PORT */
    char host[256];      /* where the relay runs */
    char token[128];     /* hex, or "" */
    long pid;            /* the relay's process */
    int workers;         /* worker ranks */
    char started[64];    /* ISO 8601 UTC */
};

/* Write path atomically (a temporary file, 0600, renamed). A file there
 * already from a relay that is alive is refused (-1 with err, exit 2); one
 * whose relay is gone is replaced, with a warning. */
int sfile_write(const char *path, const struct sfile *s, char *err,
                size_t errlen);
/* Read path into s: 0, or -1 with err. */
int sfile_read(const char *path, struct sfile *s, char *err, size_t errlen);
/* Remove path if it is still this process's (pid). */
void sfile_remove(const char *path);

/* The per-user token: $XDG_RUNTIME_DIR/pdask/token, else ~/.pdask/token. */
int sfile_token_path(char *buf, size_t len);
/* The per-user token, made (random, 0600 in a 0700 directory) when there
 * is none yet: 0, or -1 with err. */
int sfile_token_get_or_make(char *token, size_t len, char *err,
                            size_t errlen);
/* Read a token file (first line): 0, or -1 with err. */
int sfile_token_read(const char *path, char *token, size_t len, char *err,
                     size_t errlen);

#endif
