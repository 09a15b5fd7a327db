/* jobend.c - see jobend.h.
 *
 * Why squeue and not only the environment: SLURM sets SLURM_JOB_END_TIME
 * only in recent versions, and the end time changes when an admin extends
 * or shortens the job (scontrol update TimeLimit); squeue asks slurmctld
 * for the current one. scontrol show job would do as well, but its output
 * needs more parsing. */
#define _XOPEN_SOURCE 700
#include "jobend.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


/* A whole number of seconds since the epoch in s, or 0. */
static double epoch(const char *s)
{
    char *end;
    double v;

    if (!s || !*s)
        return 0;
    v = strtod(s, &end);
    while (isspace((unsigned char)*end))
        end++;
    return end != s && !*end && v > 0 ? v : 0;
}

/* squeue's %e for the job: "2026-11-28T23:59:59" in local time. */
static double from_squeue(const char *id)
{
    char cmd[256], line[128] = "";
    struct tm tm;
    FILE *p;

    for (const char *c = id; *c; c++)
        if (!isdigit((unsigned char)*c) && *c != '_')
            return 0; /* not a job id: never put it in a shell command */
    snprintf(cmd, sizeof(cmd), "timeout 10 squeue -h -j %s -o %%e "
             "2>/dev/null", id);
    if (!(p = popen(cmd, "r")))
        return 0;
    if (!fgets(line, sizeof(line), p))
        line[0] = '\0';
    pclose(p);
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(line, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end)
        return 0; /* N/A, Unknown, NONE: no limit known */
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    return t > 0 ? (double)t : 0;
}

double jobend_read(const char **from)
{
    double t;
    const char *id = getenv("SLURM_JOB_ID");

    if ((t = epoch(getenv("PDASK_JOB_END_TIME")))) {
        *from = "PDASK_JOB_END_TIME";
        return t;
    }
    if ((t = epoch(getenv("SLURM_JOB_END_TIME")))) {
        *from = "SLURM_JOB_END_TIME";
        return t;
    }
    if (id && (t = from_squeue(id))) {
        *from = "squeue";
        return t;
    }
    *from = NULL;
    return 0;
}
