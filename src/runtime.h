/* runtime.h - one pdask-mpi process's run, from MPI_Init to MPI_Finalize. */
#ifndef PD_RUNTIME_H
#define PD_RUNTIME_H

#include "cli.h"

/* Start MPI, make or join the cluster and run `info` or the flow of o;
 * returns the exit code (see main.c). */
int runtime_run(char **argv, const struct options *o);

struct config;
struct pd_params;
struct module;
struct pd_flow_def;

/* Settings (defaults < INI < PD_FLOW < command line), parameters and the
 * flow, without MPI (a served cluster's client uses it too). NULL, or the
 * message (in err). */
const char *runtime_resolve(const struct options *o, struct config *cfg,
                            struct pd_params *params, struct module **mod,
                            const struct pd_flow_def **def, char *err,
                            size_t errlen);

#endif
