/* Symbols that look like cluster plugins but are not (cluster_class
 * PATH.so:SYMBOL): pdask-mpi must reject each with a message, not call
 * into it. Built as a flow module; it declares no flow. The struct has
 * the layout of struct pd_cluster_ops (pdask_cluster.h needs mpi.h,
 * which flows are built without). */
#include <pdask.h>

PD_API int plugin_int = PD_ABI_VERSION;

/* The right size and abi, but start points at data. */
PD_API const struct {
    int abi;
    const char *name;
    const void *start, *scale, *close;
} plugin_data_start = { PD_ABI_VERSION, "bad", &plugin_int, 0, 0 };
