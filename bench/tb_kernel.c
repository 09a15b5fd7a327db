/*
 * tb_kernel.so - the kernel and point function of tb_graph.h for the Dask
 * peer (bench/tb_common.py loads it with ctypes), so that Dask runs the
 * same machine code as tb_mpi and the bench_graph flow.
 */
#include "tb_graph.h"

__attribute__((visibility("default"))) double tb_kernel_run(long iters,
                                                            double x)
{
    return tb_kernel(iters, x);
}
