/* client.h - a flow run on a served cluster (`pdask-mpi --scheduler-file
 * F flow.so` or `--address tcp://...`): the flow thread and the scheduler
 * run in this process, which never starts MPI; the scheduler's messages go
 * to the workers through the relay (relay.c) over one TCP link (tcplink.c). */
#ifndef PD_CLIENT_H
#define PD_CLIENT_H

#include <stdbool.h>

#include "cli.h"

/* True when o runs a flow on an existing cluster: address or
 * scheduler_file set (command line or INI file). */
bool client_wanted(const struct options *o);

/* The flow run; returns the exit code (main.c's). */
int client_run(const struct options *o);

/* `pdask-mpi serve --shutdown`: ask the cluster to stop. 0, or 2. */
int client_shutdown(const struct options *o);

#endif
