/* topology.h - hwloc: how many cores this process may use, binding
 * executor threads to them, and a summary for `pdask-mpi info`. */
#ifndef PD_TOPOLOGY_H
#define PD_TOPOLOGY_H

#include <hwloc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct topology {
    hwloc_topology_t t;
    hwloc_bitmap_t cpuset;  /* where this process may run */
    int ncores;             /* cores that intersect cpuset */
    bool thissystem;        /* false for HWLOC_SYNTHETIC and XML */
};

/* Check HWLOC_SYNTHETIC, else HWLOC_XMLFILE (hwloc's order), when set:
 * hwloc itself ignores a bad one and reads this machine, which would size
 * the run silently wrong. 0, or -1 with a message naming the variable. */
int topo_check_env(char *err, size_t errlen);

/* 0, or -1 when hwloc cannot load a topology. */
int topo_init(struct topology *tp);
void topo_destroy(struct topology *tp);

/* A string naming the cpuset, equal for processes that share cores. */
char *topo_cpuset_string(const struct topology *tp);

/* Bind the calling thread to the k-th core of the cpuset (mod ncores);
 * a no-op on a synthetic topology. 0 or -1. */
int topo_bind_thread(const struct topology *tp, int k);

/* GPUs of the machine (or of the synthetic or XML topology), each
 * device once. */
int topo_gpus(const struct topology *tp);

/* Bytes of memory of the machine. */
uint64_t topo_memory(const struct topology *tp);

/* "1 package, 2 cores, 2 PUs, 1 NUMA node, 0 GPUs". */
void topo_summary(const struct topology *tp, char *buf, size_t n);

#endif
