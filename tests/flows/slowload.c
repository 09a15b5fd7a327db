/* Stands for a rank that never finishes starting: loading this flow takes
 * 20 s on rank 1. With a short client_kwargs timeout the run must stop
 * with a message instead of hanging. */
#include <pdask.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((constructor)) static void slow_on_one(void)
{
    const char *r = getenv("OMPI_COMM_WORLD_RANK");
    if (r && strcmp(r, "1") == 0)
        sleep(20);
}

static int slowload(pd_flow *flow, const pd_params *params)
{
    (void)flow, (void)params;
    return 0;
}
PD_FLOW(slowload);
