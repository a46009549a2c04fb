#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A loopback TCP proxy that holds every answer back by a fixed delay, for
tests/bench-remote.sh: a server that takes DELAY ms to answer, whatever it
is (a fake or a real etcd).

usage: delayproxy.py DELAY_MS UPSTREAM_PORT...

For each upstream port it listens on a new loopback port and prints those
ports, one line, in order.  Bytes from the client go upstream at once; the
first bytes of the answer to each request wait DELAY_MS before they go
back (a request is whatever the client sent since the last answer), so
keep-alive connections pay the delay once per request, as a slow server
would make them.  Runs until SIGTERM.
"""

import select
import signal
import socket
import sys
import threading
import time


def pump(client, upstream, delay):
    waiting = False  # the client sent a request not yet answered
    socks = [client, upstream]
    try:
        while True:
            ready, _, _ = select.select(socks, [], [])
            for s in ready:
                data = s.recv(65536)
                if not data:
                    return
                if s is client:
                    upstream.sendall(data)
                    waiting = True
                else:
                    if waiting:
                        time.sleep(delay)
                        waiting = False
                    client.sendall(data)
    except OSError:
        return
    finally:
        client.close()
        upstream.close()


def listen(up_port, delay):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)

    def accept():
        while True:
            c, _ = srv.accept()
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            u = socket.create_connection(("127.0.0.1", up_port))
            u.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=pump, args=(c, u, delay),
                             daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return srv.getsockname()[1]


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 64
    delay = int(sys.argv[1]) / 1000.0
    ports = [listen(int(p), delay) for p in sys.argv[2:]]
    print(" ".join(str(p) for p in ports), flush=True)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
