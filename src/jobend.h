/* jobend.h - when the batch job ends: the runner starts no task run that
 * cannot finish before then (scheduler.c). No MPI here. */
#ifndef PD_JOBEND_H
#define PD_JOBEND_H

#include <stddef.h>

/* The job's end time in seconds since the epoch, or 0 when unknown. From,
 * in order: $PDASK_JOB_END_TIME (seconds since the epoch: for other
 * batch systems, and tests), $SLURM_JOB_END_TIME, or under SLURM
 * ($SLURM_JOB_ID) `squeue -h -j ID -o %e` (at most 10 s). *from says
 * which (a static string). */
double jobend_read(const char **from);

#endif
