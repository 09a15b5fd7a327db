/* The worker's result store against a plain array model, through growth
 * and deletions (drops and takes) that shift probe runs. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "store.h"

#define N 5000

int main(void)
{
    static size_t model[N]; /* 0 = absent, else the stored length */
    struct store s;
    size_t count = 0;
    unsigned seed = 12345;

    store_init(&s, true);
    for (int step = 0; step < 200000; step++) {
        seed = seed * 1103515245u + 12345u;
        uint64_t id = (seed >> 8) % N;
        int op = (int)((seed >> 4) % 3);
        if (op < 2) {
            size_t len = 1 + id % 17;
            uint8_t *d = malloc(len);
            memset(d, (int)(id & 0xff), len);
            count += model[id] == 0;
            model[id] = len;
            store_put(&s, id * 7919, d, len);
        } else if (seed & (1u << 20)) {
            int rc = store_drop(&s, id * 7919);
            CHECK_EQ(rc, model[id] ? 0 : -1);
            count -= model[id] != 0;
            model[id] = 0;
        } else {
            /* Taken: out of the store, the caller's to free. */
            uint8_t *d = store_take(&s, id * 7919);
            CHECK_EQ(d != NULL, model[id] != 0);
            if (d)
                CHECK_EQ(d[0], id & 0xff);
            free(d);
            count -= model[id] != 0;
            model[id] = 0;
        }
        if (step % 997 == 0) {
            for (uint64_t k = 0; k < N; k++) {
                const struct store_entry *e = store_get(&s, k * 7919);
                CHECK_EQ(e != NULL, model[k] != 0);
                if (e) {
                    CHECK_EQ(e->len, model[k]);
                    CHECK_EQ(e->data[0], k & 0xff);
                }
            }
        }
    }
    CHECK_EQ(s.count, count);
    store_destroy(&s);
    return 0;
}
