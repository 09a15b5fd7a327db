/* topology.c - see topology.h. */
#include "topology.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int topo_check_env(char *err, size_t errlen)
{
    const char *syn = getenv("HWLOC_SYNTHETIC");
    const char *xml = getenv("HWLOC_XMLFILE");
    hwloc_topology_t t;
    struct stat st;
    int rc = -1;

    if (syn && !*syn)
        syn = NULL;
    if (!syn && (!xml || !*xml))
        return 0;
    if (!syn && stat(xml, &st) != 0) {
        snprintf(err, errlen, "HWLOC_XMLFILE=%s: %s; give an XML topology "
                 "written by lstopo --of xml, or unset HWLOC_XMLFILE to use "
                 "this machine's", xml, strerror(errno));
        return -1;
    }
    if (!syn && !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "HWLOC_XMLFILE=%s: not a regular file; give "
                 "an XML topology written by lstopo --of xml, or unset "
                 "HWLOC_XMLFILE to use this machine's", xml);
        return -1;
    }
    if (hwloc_topology_init(&t) != 0) {
        snprintf(err, errlen, "hwloc_topology_init: %s", strerror(errno));
        return -1;
    }
    if (syn && (hwloc_topology_set_synthetic(t, syn) != 0 ||
                hwloc_topology_load(t) != 0))
        snprintf(err, errlen, "HWLOC_SYNTHETIC=\"%s\": hwloc cannot read "
                 "this synthetic topology; write e.g. HWLOC_SYNTHETIC=\"pack:1 "
                 "core:8 pu:1\", or unset it to use this machine's", syn);
    else if (!syn && (hwloc_topology_set_xml(t, xml) != 0 ||
                      hwloc_topology_load(t) != 0))
        snprintf(err, errlen, "HWLOC_XMLFILE=%s: hwloc cannot read this XML "
                 "topology; give one written by lstopo --of xml, or unset "
                 "HWLOC_XMLFILE to use this machine's", xml);
    else
        rc = 0;
    hwloc_topology_destroy(t);
    return rc;
}

int topo_init(struct topology *tp)
{
    hwloc_const_bitmap_t allowed;

    if (hwloc_topology_init(&tp->t) != 0)
        return -1;
    hwloc_topology_set_io_types_filter(tp->t, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
    if (hwloc_topology_load(tp->t) != 0) {
        hwloc_topology_destroy(tp->t);
        return -1;
    }
    tp->thissystem = hwloc_topology_is_thissystem(tp->t);
    tp->cpuset = hwloc_bitmap_alloc();
    if (!tp->cpuset) {
        hwloc_topology_destroy(tp->t);
        return -1;
    }
    allowed = hwloc_topology_get_allowed_cpuset(tp->t);
    /* Where mpirun or the batch system bound us; on a synthetic topology
     * the process binding means nothing, so take the whole machine. */
    if (!tp->thissystem ||
        hwloc_get_cpubind(tp->t, tp->cpuset, HWLOC_CPUBIND_PROCESS) != 0)
        hwloc_bitmap_copy(tp->cpuset, allowed);
    hwloc_bitmap_and(tp->cpuset, tp->cpuset, allowed);
    if (hwloc_bitmap_iszero(tp->cpuset))
        hwloc_bitmap_copy(tp->cpuset, allowed);
    tp->ncores = hwloc_get_nbobjs_inside_cpuset_by_type(tp->t, tp->cpuset,
                                                        HWLOC_OBJ_CORE);
    if (tp->ncores <= 0)
        tp->ncores = hwloc_get_nbobjs_inside_cpuset_by_type(
            tp->t, tp->cpuset, HWLOC_OBJ_PU);
    if (tp->ncores <= 0)
        tp->ncores = 1;
    return 0;
}

void topo_destroy(struct topology *tp)
{
    hwloc_bitmap_free(tp->cpuset);
    hwloc_topology_destroy(tp->t);
}

char *topo_cpuset_string(const struct topology *tp)
{
    char *s = NULL;
    if (hwloc_bitmap_asprintf(&s, tp->cpuset) < 0)
        return NULL;
    return s;
}

int topo_bind_thread(const struct topology *tp, int k)
{
    hwloc_obj_t core;

    if (!tp->thissystem)
        return 0;
    core = hwloc_get_obj_inside_cpuset_by_type(tp->t, tp->cpuset,
                                               HWLOC_OBJ_CORE,
                                               (unsigned)(k % tp->ncores));
    if (!core)
        return -1;
    return hwloc_set_cpubind(tp->t, core->cpuset, HWLOC_CPUBIND_THREAD);
}

/* GPUs: PCI devices (or other parents) with an OS device that is a GPU
 * or a co-processor (CUDA, OpenCL, RSMI, Level Zero, NVML, DRM). One
 * device often shows as several OS devices (cuda0 and nvml0): count
 * each parent once. */
int topo_gpus(const struct topology *tp)
{
    hwloc_obj_t o = NULL, seen[256];
    int n = 0;

    while ((o = hwloc_get_next_osdev(tp->t, o)) && n < 256) {
        bool dup = false;
        if (o->attr->osdev.type != HWLOC_OBJ_OSDEV_GPU &&
            o->attr->osdev.type != HWLOC_OBJ_OSDEV_COPROC)
            continue;
        for (int i = 0; i < n && o->parent; i++)
            dup |= seen[i] == o->parent;
        if (!dup)
            seen[n++] = o->parent;
    }
    return n;
}

uint64_t topo_memory(const struct topology *tp)
{
    return hwloc_get_root_obj(tp->t)->total_memory;
}

void topo_summary(const struct topology *tp, char *buf, size_t n)
{
    snprintf(buf, n, "%d packages, %d cores, %d PUs, %d NUMA nodes, %d GPUs",
             hwloc_get_nbobjs_by_type(tp->t, HWLOC_OBJ_PACKAGE),
             hwloc_get_nbobjs_by_type(tp->t, HWLOC_OBJ_CORE),
             hwloc_get_nbobjs_by_type(tp->t, HWLOC_OBJ_PU),
             hwloc_get_nbobjs_by_type(tp->t, HWLOC_OBJ_NUMANODE),
             topo_gpus(tp));
}
