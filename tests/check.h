/* check.h - typed checks for unit tests that print both sides, as libuv's
 * ASSERT_EQ does. A failed check ends the test program with exit code 1. */
#ifndef PD_CHECK_H
#define PD_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__,           \
                    __LINE__, #cond);                                        \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#define CHECK_EQ(a, b)                                                       \
    do {                                                                     \
        long long a_ = (long long)(a), b_ = (long long)(b);                  \
        if (a_ != b_) {                                                      \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n",        \
                    __FILE__, __LINE__, #a, #b, a_, b_);                     \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#define CHECK_STR(a, b)                                                      \
    do {                                                                     \
        const char *a_ = (a), *b_ = (b);                                     \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                             \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n",    \
                    __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)",          \
                    b_ ? b_ : "(null)");                                     \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#endif
