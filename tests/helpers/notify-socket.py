#!/usr/bin/env python3
"""A stand-in for systemd's notify socket, for the tests (Node cannot bind a Unix datagram socket).

Binds an AF_UNIX SOCK_DGRAM socket at argv[1] ('@name' = the abstract namespace, as in NOTIFY_SOCKET),
prints {"bound": true} once it listens, then one JSON line per datagram received:
{"t_ms": <monotonic receive time in ms>, "message": "<the datagram>"}.
Exits when its stdin closes, so it never outlives the test that started it.
"""
import json
import os
import selectors
import socket
import sys
import time


def main() -> None:
    path = sys.argv[1]
    abstract = path.startswith("@")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + path[1:] if abstract else path)
    print(json.dumps({"bound": True}), flush=True)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    sel.register(sys.stdin, selectors.EVENT_READ)
    try:
        while True:
            for key, _ in sel.select():
                if key.fileobj is sys.stdin:
                    if not sys.stdin.buffer.read1(4096):
                        return
                    continue
                data = sock.recv(65536)
                line = {"t_ms": time.monotonic() * 1000, "message": data.decode("utf-8", "replace")}
                print(json.dumps(line), flush=True)
    finally:
        sock.close()
        if not abstract:
            os.unlink(path)


if __name__ == "__main__":
    main()
