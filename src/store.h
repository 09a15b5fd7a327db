/* store.h - a map from a 64-bit key to a pointer and a length: a worker's
 * results by store_key(run, id) (owned: freed on drop), and its runs by
 * the same key (borrowed). */
#ifndef PD_STORE_H
#define PD_STORE_H

#include <stdbool.h>
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
    bool owns;       /* free data on drop, replace and destroy */
};

/* The key of task run id of flow run `run`: ids stay below 2^32. */
static inline uint64_t store_key(uint32_t run, uint64_t id)
{
    return (uint64_t)run << 32 | (id & 0xffffffffu);
}

void store_init(struct store *s, bool owns);
void store_destroy(struct store *s);
/* Put data under id (taking ownership if the store owns); replaces an
 * older entry. */
void store_put(struct store *s, uint64_t id, uint8_t *data, size_t len);
/* The entry for id, or NULL; valid until the next put or drop. */
const struct store_entry *store_get(const struct store *s, uint64_t id);
/* Remove id (freeing its data if the store owns); 0, or -1 when it was
 * not there. */
int store_drop(struct store *s, uint64_t id);
/* Remove id without freeing: its data, now the caller's, or NULL. */
uint8_t *store_take(struct store *s, uint64_t id);

#endif
