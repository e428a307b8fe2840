#!/usr/bin/python3
"""slow_clients.py — slow HTTP clients against crtokend (tests only).

  slow_clients.py flood PORT ADDRS PER_ADDR
      From each source address in ADDRS (comma-separated 127.0.0.x), open
      PER_ADDR connections that send an unfinished request head and then
      nothing. After they settle, print "kept ADDR N" (connections the
      server still holds open) per address, then one normal request from
      127.0.0.1 ("normal STATUS" or "normal refused: why"), then close all.

  slow_clients.py trickle PORT WHAT LIMIT
      One connection that never finishes its request, one byte per second
      for at most LIMIT seconds: WHAT "head" trickles header bytes, "body"
      sends a complete POST head (Content-Length 60000) and trickles the
      body. Prints "closed-by-server after N s" or "still open after N s".
"""
import resource
import select
import socket
import sys
import time


def connect(port, src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    return s


def server_closed(s):
    """True if the server closed (or reset) the connection."""
    p = select.poll()  # not select(): descriptors above 1023
    p.register(s, select.POLLIN)
    if not p.poll(0):
        return False
    try:
        return s.recv(4096) == b""
    except OSError:
        return True


def normal_request(port):
    try:
        s = connect(port, "127.0.0.1")
        s.settimeout(10)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        if not data.startswith(b"HTTP/1."):
            return "refused: no HTTP answer (%d bytes)" % len(data)
        return data.split(b" ", 2)[1].decode()
    except OSError as e:
        return "refused: %s" % e


def flood(port, addrs, per_addr):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = len(addrs) * per_addr + 64
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    conns = {a: [] for a in addrs}
    for a in addrs:
        for _ in range(per_addr):
            try:
                s = connect(port, a)
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
                conns[a].append(s)
            except OSError:
                pass
    time.sleep(1.5)  # the server closes what it does not keep at accept
    for a in addrs:
        print("kept %s %d" % (a, sum(1 for s in conns[a] if not server_closed(s))))
    print("normal %s" % normal_request(port))
    sys.stdout.flush()
    for a in addrs:
        for s in conns[a]:
            s.close()


def trickle(port, what, limit):
    s = connect(port, "127.0.0.1")
    if what == "head":
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ")
    else:
        s.sendall(b"POST /client-certificates/token/crt_slow HTTP/1.1\r\nHost: t\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n{")
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if server_closed(s):
            print("closed-by-server after %d s" % round(time.monotonic() - start))
            return
        try:
            s.sendall(b"a")
        except OSError:
            print("closed-by-server after %d s" % round(time.monotonic() - start))
            return
        time.sleep(1)
    print("still open after %d s" % limit)
    s.close()


def main():
    if sys.argv[1] == "flood":
        flood(int(sys.argv[2]), sys.argv[3].split(","), int(sys.argv[4]))
    else:
        trickle(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))


if __name__ == "__main__":
    main()
