#!/usr/bin/python3
"""A client of a served cluster written from the wire format alone, that
authenticates and then misbehaves: the relay must disconnect it and keep
serving (serve.sh case intruder).

    serve_peer.py ADDRESS TOKEN FLOW.so MODE

MODE: other-run (a TAG_TASKS entry of another client's flow run), bad-rank
(a frame for a rank that is not a worker), bad-tag (a tag no client may
send), short (a TAG_TASKS whose entry is cut short). Prints "sent MODE"
and exits 0 once the relay has closed the connection; 1 otherwise.

The handshake in Python: the token key is BLAKE2b-256 of the token keyed
with "pdask-mpi token key v1" (libsodium crypto_generichash), and the MAC
is HMAC-SHA-512 cut to 32 bytes (crypto_auth)."""

import hashlib
import hmac
import os
import socket
import struct
import sys

HELLO, AUTH, AUTH_OK, REQUEST, WELCOME, REFUSE = 200, 201, 202, 203, 204, 205
TASKS = 101


def frame(tag, rank, payload):
    return struct.pack("<III", 8 + len(payload), tag, rank) + payload


def recv_frame(s):
    def exact(n):
        b = b""
        while len(b) < n:
            c = s.recv(n - len(b))
            if not c:
                raise EOFError
            b += c
        return b
    n, = struct.unpack("<I", exact(4))
    body = exact(n)
    tag, rank = struct.unpack("<II", body[:8])
    return tag, rank, body[8:]


def bstr(s):
    b = s.encode()
    return struct.pack("<I", len(b)) + b + b"\0"


def main():
    addr, token, flow, mode = sys.argv[1:5]
    host, port = addr[len("tcp://"):].rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=20)
    tag, _, hello = recv_frame(s)
    assert tag == HELLO
    rn = hello[12:44]
    cn = os.urandom(32)
    key = hashlib.blake2b(token.encode(), digest_size=32,
                          key=b"pdask-mpi token key v1").digest()
    mac = hmac.new(key, rn + cn, hashlib.sha512).digest()[:32]
    s.sendall(frame(AUTH, 0, b"\1" + cn + mac))
    tag, _, _ = recv_frame(s)
    assert tag == AUTH_OK, tag
    path = os.path.realpath(flow)
    digest = hashlib.blake2b(open(path, "rb").read(), digest_size=32).digest()
    s.sendall(frame(REQUEST, 0, b"\1" + bstr(path) + digest +
                    struct.pack("<I", 0)))
    tag, _, welcome = recv_frame(s)
    assert tag == WELCOME, (tag, welcome)
    run, = struct.unpack("<I", welcome[:4])
    task = struct.pack("<IiiQIIIII", run + 1000, 0, -1, 1, 0, 1, 0, 0, 0)
    if mode == "other-run":
        out = frame(TASKS, 1, struct.pack("<I", 1) + task)
    elif mode == "bad-rank":
        task = struct.pack("<IiiQIIIII", run, 0, -1, 1, 0, 1, 0, 0, 0)
        out = frame(TASKS, 99, struct.pack("<I", 1) + task)
    elif mode == "bad-tag":
        out = frame(AUTH, 0, b"")
    else:
        out = frame(TASKS, 1, struct.pack("<I", 1) + task[:10])
    s.sendall(out)
    print("sent", mode, flush=True)
    try:
        while True:
            recv_frame(s)   # beats, until the relay closes
    except (EOFError, ConnectionResetError):
        return 0
    except socket.timeout:
        return 1


if __name__ == "__main__":
    sys.exit(main())
