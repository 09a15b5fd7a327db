/* store.c - open addressing with linear probing and backward-shift
 * deletion, so there are no tombstones and lookups stay short. */
#include "store.h"

#include <stdlib.h>

#include "util.h"

static size_t slot_of(uint64_t id, size_t cap)
{
    id ^= id >> 31;
    id *= 0x9E3779B97F4A7C15ull;
    return (size_t)(id >> 17) & (cap - 1);
}

void store_init(struct store *s, bool owns)
{
    s->owns = owns;
    s->cap = 64;
    s->count = 0;
    s->bytes = 0;
    s->slots = pd__xcalloc(s->cap, sizeof(*s->slots));
}

void store_destroy(struct store *s)
{
    for (size_t i = 0; i < s->cap && s->owns; i++)
        free(s->slots[i].data);
    free(s->slots);
    s->slots = NULL;
    s->cap = s->count = s->bytes = 0;
}

static void grow(struct store *s)
{
    struct store_entry *old = s->slots;
    size_t oldcap = s->cap;

    s->cap *= 2;
    s->slots = pd__xcalloc(s->cap, sizeof(*s->slots));
    for (size_t i = 0; i < oldcap; i++) {
        if (!old[i].data)
            continue;
        size_t j = slot_of(old[i].id, s->cap);
        while (s->slots[j].data)
            j = (j + 1) & (s->cap - 1);
        s->slots[j] = old[i];
    }
    free(old);
}

void store_put(struct store *s, uint64_t id, uint8_t *data, size_t len)
{
    size_t i;

    if ((s->count + 1) * 4 > s->cap * 3)
        grow(s);
    i = slot_of(id, s->cap);
    while (s->slots[i].data && s->slots[i].id != id)
        i = (i + 1) & (s->cap - 1);
    if (s->slots[i].data) {
        s->bytes -= s->slots[i].len;
        if (s->owns)
            free(s->slots[i].data);
    } else {
        s->count++;
    }
    s->slots[i].id = id;
    s->slots[i].data = data;
    s->slots[i].len = len;
    s->bytes += len;
}

const struct store_entry *store_get(const struct store *s, uint64_t id)
{
    size_t i = slot_of(id, s->cap);
    while (s->slots[i].data) {
        if (s->slots[i].id == id)
            return &s->slots[i];
        i = (i + 1) & (s->cap - 1);
    }
    return NULL;
}

uint8_t *store_take(struct store *s, uint64_t id)
{
    size_t i = slot_of(id, s->cap), j;
    uint8_t *data;

    while (s->slots[i].data && s->slots[i].id != id)
        i = (i + 1) & (s->cap - 1);
    if (!(data = s->slots[i].data))
        return NULL;
    s->bytes -= s->slots[i].len;
    s->count--;
    /* Shift later members of the probe run back into the hole. */
    j = i;
    for (;;) {
        j = (j + 1) & (s->cap - 1);
        if (!s->slots[j].data)
            break;
        size_t home = slot_of(s->slots[j].id, s->cap);
        /* Move j to i when its home is not in the cyclic range (i, j]. */
        if ((j > i && (home <= i || home > j)) ||
            (j < i && (home <= i && home > j))) {
            s->slots[i] = s->slots[j];
            i = j;
        }
    }
    s->slots[i].data = NULL;
    s->slots[i].len = 0;
    return data;
}

int store_drop(struct store *s, uint64_t id)
{
    uint8_t *data = store_take(s, id);

    if (!data)
        return -1;
    if (s->owns)
        free(data);
    return 0;
}
