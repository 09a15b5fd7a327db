/* store.h - a worker's results: task run id -> packed value it owns. */
#ifndef PD_STORE_H
#define PD_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store_entry {
    uint64_t id;
    uint8_t *data;   /* NULL marks an empty slot */
    size_t len;
};

struct store {
    struct store_entry *slots;
    size_t cap, count;
    size_t bytes;    /* sum of len */
};

void store_init(struct store *s);
void store_destroy(struct store *s);
/* Take ownership of data (malloc'd) under id; replaces an older entry. */
void store_put(struct store *s, uint64_t id, uint8_t *data, size_t len);
/* The entry for id, or NULL; valid until the next put or drop. */
const struct store_entry *store_get(const struct store *s, uint64_t id);
/* Free id's data; 0, or -1 when it was not there. */
int store_drop(struct store *s, uint64_t id);

#endif
