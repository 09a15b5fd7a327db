/* words.h - split a fuzz input into words, as argv would hold them. */
#ifndef PD_FUZZ_WORDS_H
#define PD_FUZZ_WORDS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Enough words for any command line a test gives, few enough that the
 * quadratic duplicate check in params_parse() stays fast. */
#define FUZZ_MAX_WORDS 128

/* Split data at NUL bytes (so a word may hold a newline) into at most
 * max words from words[first] on, each its own allocation so ASan sees a
 * read past its end. "a" and "a\0" are one word, "" none, "\0" one empty
 * word. The index after the last word. */
static inline int fuzz_words(const uint8_t *data, size_t size, char **words,
                             int first, int max)
{
    size_t at = 0;
    int n = first;

    while (at < size && n < max) {
        const uint8_t *nul = memchr(data + at, 0, size - at);
        size_t len = nul ? (size_t)(nul - (data + at)) : size - at;
        words[n] = pd__xmalloc(len + 1);
        memcpy(words[n], data + at, len);
        words[n][len] = '\0';
        n++;
        at += len + 1;
    }
    words[n] = NULL;
    return n;
}

static inline void fuzz_words_free(char **words, int from, int to)
{
    for (int i = from; i < to; i++)
        free(words[i]);
}

#endif
