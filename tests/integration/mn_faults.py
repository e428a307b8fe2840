#!/usr/bin/python3
"""mn_faults.py — request drivers for t_multinode_faults.sh (tests only).

  mn_faults.py burst ROUNDS.json BODY
      ROUNDS.json: a list of rounds, each a list of requests
      {"url": ..., "token": ..., "user": ..., "secret": BASE32 | "code": ...}.
      Per round, every request's connection is opened first, then all are
      sent at the same moment (a barrier), one thread each. With "secret",
      the round's TOTP code (SHA1, 6 digits, 30 s) is computed once, just
      before the barrier, so every request of the round carries the same
      code. Prints one JSON list: per round, per request [status, error
      code or serial].
  mn_faults.py load URLS TOKENS BODY CLIENTS EVENTS STOPFILE
      CLIENTS threads (client i talks to URLS[i % len(URLS)]) redeem the
      tokens of TOKENS in order; a 503 retries the same token (the store is
      down: it must come back), anything else moves on. Every answer is one
      line of EVENTS, flushed at once: "start end status code node token
      serial" (Unix times, -1 status for a connection error or a timeout of
      10 s). Stops when the tokens are done or STOPFILE exists. MN_DELAY
      (seconds, default 0): each client's pause after an answer that is
      not a 503, so that the tokens last the whole run.
  mn_faults.py summary EVENTS CYCLES
      the figures of a load run (see summary()).
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import struct
import sys
import threading
import time
import urllib.parse


def totp(secret, t=None):
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    step = int((time.time() if t is None else t) // 30)
    h = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    o = h[-1] & 15
    return "%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


def conn_for(url, timeout=30):
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    c.connect()
    return c


def post(conn, token, body, user=None, code=None):
    h = {"Content-Type": "application/json"}
    if user is not None:
        h["Authorization"] = "Basic " + base64.b64encode(
            ("%s:%s" % (user, code)).encode()).decode()
    conn.request("POST", "/client-certificates/token/" + token, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    try:
        js = json.loads(data)
    except ValueError:
        js = {}
    if r.status == 201:
        return [r.status, js.get("serial", "")]
    return [r.status, js.get("error", {}).get("code", "?")]


def burst(rounds, body):
    out = []
    for rnd in rounds:
        conns = [conn_for(q["url"]) for q in rnd]
        bar = threading.Barrier(len(rnd))
        res = [None] * len(rnd)
        code = None
        for q in rnd:
            if "secret" in q:
                code = code or totp(q["secret"])

        def one(i, q):
            c = q.get("code", code)
            bar.wait()
            try:
                res[i] = post(conns[i], q["token"], body, q.get("user"), c)
            except (OSError, http.client.HTTPException) as e:
                res[i] = [-1, str(e)]

        th = [threading.Thread(target=one, args=(i, q)) for i, q in enumerate(rnd)]
        for t in th:
            t.start()
        for t in th:
            t.join()
        for c in conns:
            c.close()
        out.append(res)
    print(json.dumps(out))


def load(urls, tokens, body, clients, events, stopfile):
    delay = float(os.environ.get("MN_DELAY", "0"))
    lock = threading.Lock()
    out = open(events, "a")
    nxt = [0]

    def worker(w):
        url = urls[w % len(urls)]
        u = urllib.parse.urlsplit(url)
        conn = None
        while not os.path.exists(stopfile):
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= len(tokens):
                return
            while not os.path.exists(stopfile):
                t0 = time.time()
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
                    st, what = post(conn, tokens[i], body)
                except (OSError, http.client.HTTPException) as e:
                    if conn is not None:
                        conn.close()
                    conn = None
                    st, what = -1, type(e).__name__
                with lock:
                    out.write("%.3f %.3f %d %s %d %s %s\n" % (
                        t0, time.time(), st, what if st != 201 else "-", w % len(urls),
                        tokens[i][:12], what if st == 201 else "-"))
                    out.flush()
                if st == 503 or st == -1:
                    time.sleep(0.05)  # the store is down: the same token again
                    continue
                time.sleep(delay)  # pace the load so that it lasts the whole run
                break

    th = [threading.Thread(target=worker, args=(w,)) for w in range(clients)]
    for t in th:
        t.start()
    for t in th:
        t.join()


def summary(events, cycles):
    """The figures of a load run against the outages in CYCLES (lines
    "down stopped start up": when the stop began, when it had stopped, when
    the start began, when the server was ready), one "key value" line
    each."""
    ev = []
    for l in open(events):
        if l.strip():
            a, b, st, code, node, tok, serial = l.split()
            ev.append((float(a), float(b), int(st), code, node, tok, serial))
    cyc = [tuple(map(float, l.split())) for l in open(cycles) if l.strip()]
    by, seen503, bad = {}, set(), []
    for a, b, st, code, node, tok, serial in sorted(ev, key=lambda e: e[1]):
        by[st] = by.get(st, 0) + 1
        if st == 503:
            seen503.add(tok)
        elif st != 201 and not (st == 409 and code == "token_used" and tok in seen503):
            bad.append("%d:%s" % (st, code))
    down = [e for e in ev for (d, x, s, u) in cyc if e[0] > x and e[1] < s]
    resume = []
    for (d, x, s, u) in cyc:
        ok = [e[1] for e in ev if e[2] == 201 and e[1] > u]
        resume.append(min(ok) - u if ok else 99)
    print("answers", len(ev))
    print("by_status", " ".join("%d:%d" % kv for kv in sorted(by.items())))
    print("codes", " ".join(sorted({"%d:%s" % (e[2], e[3]) for e in ev if e[2] != 201})))
    print("bad", len(bad), " ".join(sorted(set(bad))))
    print("down_answers", len(down))
    print("down_non503", sum(1 for e in down if e[2] != 503))
    print("resume_max", "%.2f" % max(resume))
    print("resume", " ".join("%.2f" % r for r in resume))
    print("restart_max", "%.2f" % max(u - s for d, x, s, u in cyc))
    print("latency_max", "%.2f" % max(e[1] - e[0] for e in ev))
    print("after_last", sum(1 for e in ev if e[2] == 201 and e[1] > cyc[-1][3]))
    print("retried_409", sum(1 for e in ev if e[2] == 409))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "burst":
        burst(json.load(open(sys.argv[2])), open(sys.argv[3], "rb").read())
    elif mode == "load":
        urls = sys.argv[2].split(",")
        tokens = [l.strip() for l in open(sys.argv[3]) if l.strip()]
        load(urls, tokens, open(sys.argv[4], "rb").read(), int(sys.argv[5]), sys.argv[6],
             sys.argv[7])
    elif mode == "summary":
        summary(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: mn_faults.py burst|load ...")
