/* params.h - the flow's key=value parameters from the command line. */
#ifndef PD_PARAMS_H
#define PD_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "pdask.h"

struct params_state {
    bool *used;              /* which keys the flow read */
    char error[512];         /* first bad value, for the exit-2 message */
    void (*on_error)(void);  /* called after a bad value; may not return */
};

struct pd_params {
    int n;
    char **keys, **vals;
    struct params_state *st;
};

/* Parse words "key=value"; "key=@FILE" takes the value from FILE (its
 * text without the final newline), "key=@@x" is the value "@x". 0, or
 * PD_EINVAL with a message in err. */
int params_parse(struct pd_params *p, int n, char *const *words, char *err,
                 size_t errlen);
void params_free(struct pd_params *p);

/* A key that was given but that the flow never read, or NULL. */
const char *params_unused(const struct pd_params *p, int *from);

#endif
