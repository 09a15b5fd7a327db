/* runtime.h - one pdask-mpi process's run, from MPI_Init to MPI_Finalize. */
#ifndef PD_RUNTIME_H
#define PD_RUNTIME_H

#include "cli.h"

/* Start MPI, make or join the cluster and run `info` or the flow of o;
 * returns the exit code (see main.c). */
int runtime_run(char **argv, const struct options *o);

#endif
