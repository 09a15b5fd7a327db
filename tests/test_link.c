/* A served cluster's pieces without MPI or a cluster: frames through a
 * socket pair in clear and sealed (both directions, many frames, pieces
 * as recv gives them), a tampered or replayed sealed frame, an oversize
 * length, the token MACs, addresses, and the scheduler file (written
 * 0600, read back, a live one refused, a stale one replaced). */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "sfile.h"
#include "tcplink.h"

/* Send frames one way and take them on the other, checking each. */
static void exchange(struct link *a, struct link *b, int nframes)
{
    uint8_t *payload = malloc(70000);

    for (int k = 0; k < 70000; k++)
        payload[k] = (uint8_t)(k * 31 + 7);
    for (int i = 0; i < nframes; i++)
        link_put(a, 101 + i % 7, i % 5, payload, (size_t)(i * 997) % 70000);
    for (int i = 0; i < nframes; i++) {
        int tag, rank;
        uint8_t *d = NULL;
        size_t len;
        /* Write what fits, read what came: a 70 kB frame takes a few. */
        while (link_take(b, &tag, &rank, &d, &len) == 0) {
            CHECK_EQ(link_write(a), 0);
            CHECK(link_read(b) >= 0);
        }
        CHECK_EQ(tag, 101 + i % 7);
        CHECK_EQ(rank, i % 5);
        CHECK_EQ(len, (size_t)(i * 997) % 70000);
        CHECK(len == 0 || memcmp(d, payload, len) == 0);
        free(d);
    }
    free(payload);
}

static void pair(struct link *a, struct link *b)
{
    int sv[2];

    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    link_init(a, sv[0]);
    link_init(b, sv[1]);
    a->max_frame = b->max_frame = LINK_MAX_FRAME;
}

static void frames(void)
{
    struct link a, b;
    uint8_t key[crypto_auth_KEYBYTES], rn[LINK_NONCE], cn[LINK_NONCE];
    int tag, rank;
    uint8_t *d;
    size_t len;

    pair(&a, &b);
    exchange(&a, &b, 40);
    exchange(&b, &a, 40);
    /* Sealed: keys from the token and both nonces, one per direction. */
    link_token_key("secret", key);
    randombytes_buf(rn, sizeof(rn));
    randombytes_buf(cn, sizeof(cn));
    link_seal(&a, key, rn, cn, true);
    link_seal(&b, key, rn, cn, false);
    exchange(&a, &b, 40);
    exchange(&b, &a, 40);
    CHECK(memcmp(a.kout, a.kin, sizeof(a.kin)) != 0);
    /* A flipped byte: the frame fails authentication. */
    link_put(&a, 101, 1, "hello", 5);
    a.out[a.outlen - 1] ^= 1;
    CHECK_EQ(link_write(&a), 0);
    CHECK(link_read(&b) > 0);
    CHECK_EQ(link_take(&b, &tag, &rank, &d, &len), -1);
    CHECK(strstr(b.why, "failed authentication"));
    link_close(&a);
    link_close(&b);

    /* A replayed sealed frame: its counter nonce is stale. */
    pair(&a, &b);
    link_seal(&a, key, rn, cn, true);
    link_seal(&b, key, rn, cn, false);
    link_put(&a, 101, 1, "once", 4);
    size_t n = a.outlen;
    uint8_t *copy = malloc(n);
    memcpy(copy, a.out, n);
    CHECK_EQ(link_write(&a), 0);
    CHECK_EQ(write(a.fd, copy, n), (ssize_t)n);
    free(copy);
    CHECK(link_read(&b) > 0);
    CHECK_EQ(link_take(&b, &tag, &rank, &d, &len), 1);
    free(d);
    CHECK_EQ(link_take(&b, &tag, &rank, &d, &len), -1);
    link_close(&a);
    link_close(&b);

    /* Before authentication a big length is garbage, nothing allocated. */
    pair(&a, &b);
    b.max_frame = LINK_MAX_HELLO;
    uint32_t huge = 0x7fffffff;
    CHECK_EQ(write(a.fd, &huge, 4), 4);
    CHECK(link_read(&b) > 0);
    CHECK_EQ(link_take(&b, &tag, &rank, &d, &len), -1);
    CHECK(strstr(b.why, "garbage"));
    CHECK(b.incap < 1 << 20);
    /* A closed peer. */
    link_close(&a);
    CHECK_EQ(link_read(&b), -1);
    CHECK(b.eof);
    link_close(&b);
}

static void macs(void)
{
    uint8_t k1[crypto_auth_KEYBYTES], k2[crypto_auth_KEYBYTES];
    uint8_t rn[LINK_NONCE] = { 1 }, cn[LINK_NONCE] = { 2 };
    uint8_t m1[crypto_auth_BYTES], m2[crypto_auth_BYTES];

    link_token_key("a token", k1);
    link_token_key("another", k2);
    link_mac(k1, rn, cn, m1);
    link_mac(k2, rn, cn, m2);
    CHECK(memcmp(m1, m2, sizeof(m1)) != 0);
    link_mac(k1, cn, rn, m2);     /* the other direction differs */
    CHECK(memcmp(m1, m2, sizeof(m1)) != 0);
    link_mac(k1, rn, cn, m2);
    CHECK(memcmp(m1, m2, sizeof(m1)) == 0);
}

static void addresses(void)
{
    char host[256], err[256];
    int port;

    CHECK_EQ(link_parse_address("tcp://127.0.0.1:8786", host, sizeof(host),
                                &port, err, sizeof(err)), 0);
    CHECK_STR(host, "127.0.0.1");
    CHECK_EQ(port, 8786);
    CHECK_EQ(link_parse_address("tcp://[::1]:0", host, sizeof(host), &port,
                                err, sizeof(err)), 0);
    CHECK_STR(host, "::1");
    CHECK_EQ(port, 0);
    CHECK_EQ(link_parse_address("tcp://node-3.cluster:1", host, sizeof(host),
                                &port, err, sizeof(err)), 0);
    CHECK_STR(host, "node-3.cluster");
    const char *bad[] = { "127.0.0.1:8786", "tcp://:1", "tcp://h:",
                          "tcp://h:65536", "tcp://h:-1", "tcp://h:8x",
                          "tcp://[::1:8", "http://h:1" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_EQ(link_parse_address(bad[i], host, sizeof(host), &port, err,
                                    sizeof(err)), -1);
        CHECK(strstr(err, "tcp://HOST:PORT"));
    }
    CHECK(link_is_loopback("127.0.0.1"));
    CHECK(link_is_loopback("localhost"));
    CHECK(link_is_loopback("::1"));
    CHECK(!link_is_loopback("0.0.0.0"));
    CHECK(!link_is_loopback("10.0.0.1"));
}

static void scheduler_file(void)
{
    char dir[] = "/tmp/test_link.XXXXXX", path[300], err[1024];
    struct sfile s = { .pid = 0, .workers = 7 }, back;
    struct stat st;

    CHECK(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/sched.json", dir);
    snprintf(s.address, sizeof(s.address), "tcp://127.0.0.1:1");
    gethostname(s.host, sizeof(s.host));
    snprintf(s.token, sizeof(s.token), "00ff");
    snprintf(s.started, sizeof(s.started), "2026-11-29T00:00:00Z");
    s.pid = (long)getpid();
    CHECK_EQ(sfile_write(path, &s, err, sizeof(err)), 0);
    CHECK_EQ(stat(path, &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0600);
    CHECK_EQ(sfile_read(path, &back, err, sizeof(err)), 0);
    CHECK_STR(back.address, s.address);
    CHECK_STR(back.token, "00ff");
    CHECK_EQ(back.pid, getpid());
    CHECK_EQ(back.workers, 7);
    /* This process is alive: a second writer is refused. */
    CHECK_EQ(sfile_write(path, &s, err, sizeof(err)), -1);
    CHECK(strstr(err, "belongs to a cluster that is running"));
    /* A pid that is gone: replaced. */
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0);
    s.pid = child;
    unlink(path);
    CHECK_EQ(sfile_write(path, &s, err, sizeof(err)), 0);
    s.pid = (long)getpid();
    CHECK_EQ(sfile_write(path, &s, err, sizeof(err)), 0);
    CHECK_EQ(sfile_read(path, &back, err, sizeof(err)), 0);
    CHECK_EQ(back.pid, getpid());
    sfile_remove(path);
    CHECK(access(path, F_OK) != 0);
    /* Not ours to remove. */
    s.pid = child;
    CHECK_EQ(sfile_write(path, &s, err, sizeof(err)), 0);
    sfile_remove(path);
    CHECK(access(path, F_OK) == 0);
    unlink(path);
    CHECK_EQ(sfile_read(path, &back, err, sizeof(err)), -1);
    CHECK(strstr(err, "is pdask-mpi serve running"));
    rmdir(dir);
}

int main(void)
{
    CHECK(sodium_init() >= 0);
    frames();
    macs();
    addresses();
    scheduler_file();
    printf("link ok\n");
    return 0;
}
