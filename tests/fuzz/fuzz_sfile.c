/* fuzz_sfile.c - libFuzzer harness of the scheduler file reader (sfile.c
 * sfile_read), what a client reads before it connects, and of the address
 * it gives (tcplink.c link_parse_address). The input is the file. A file
 * sfile_read accepts has a non-empty address that fits its field, and
 * every string field is NUL-terminated within its size; a refused one has
 * a message naming the file. link_parse_address either refuses the
 * address with a message or gives a host that fits and a port 0..65535. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sfile.h"
#include "tcplink.h"

#define REQUIRE(cond)                                                        \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz_sfile.c:%d: %s\n", __LINE__, #cond);       \
            abort();                                                         \
        }                                                                    \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    struct sfile s;
    char err[1024], host[256];
    int port = 0;
    FILE *f;

    if (!path[0])
        snprintf(path, sizeof(path), "/tmp/fuzz_sfile.%d.json", (int)getpid());
    f = fopen(path, "w");
    REQUIRE(f);
    fwrite(data, 1, size, f);
    fclose(f);
    err[0] = '\0';
    if (sfile_read(path, &s, err, sizeof(err)) != 0) {
        REQUIRE(strstr(err, path) != NULL);
        return 0;
    }
    REQUIRE(memchr(s.address, '\0', sizeof(s.address)) && s.address[0]);
    REQUIRE(memchr(s.host, '\0', sizeof(s.host)));
    REQUIRE(memchr(s.token, '\0', sizeof(s.token)));
    REQUIRE(memchr(s.started, '\0', sizeof(s.started)));
    err[0] = '\0';
    if (link_parse_address(s.address, host, sizeof(host), &port, err,
                           sizeof(err)) == 0) {
        REQUIRE(memchr(host, '\0', sizeof(host)));
        REQUIRE(port >= 0 && port <= 65535);
    } else {
        REQUIRE(err[0]);
    }
    return 0;
}
