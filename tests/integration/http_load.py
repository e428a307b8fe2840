#!/usr/bin/python3
"""http_load.py — concurrent redemption load against crtokend (tests only).

  http_load.py race URL TOKENS BODY CLIENTS ATTEMPTS
      ATTEMPTS redemptions from CLIENTS threads, token i % len(TOKENS) each;
      prints one JSON summary: counts by status and code, 201s per token,
      the serials received.
  http_load.py soak URL TOKENS BODY CLIENTS SERIALS STOPFILE
      redeem the tokens in order until all are tried or STOPFILE exists,
      tolerating a server that dies and comes back; every serial received
      with a 201 is appended (and flushed) to SERIALS at once.
"""
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse


def post(conn, path, body):
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    return r.status, r.read()


def race(url, tokens, body, clients, attempts):
    u = urllib.parse.urlsplit(url)
    lock = threading.Lock()
    counts, per_token, serials, codes = {}, {}, [], {}
    nxt = [0]

    def worker():
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= attempts:
                break
            tok = tokens[i % len(tokens)]
            try:
                st, data = post(conn, "/client-certificates/token/" + tok, body)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
                st, data = -1, b"{}"
            with lock:
                counts[st] = counts.get(st, 0) + 1
                try:
                    js = json.loads(data)
                except ValueError:
                    js = {}
                if st == 201:
                    per_token[tok] = per_token.get(tok, 0) + 1
                    serials.append(js.get("serial"))
                else:
                    c = js.get("error", {}).get("code", "?")
                    codes[c] = codes.get(c, 0) + 1
        conn.close()

    th = [threading.Thread(target=worker) for _ in range(clients)]
    t0 = time.time()
    for t in th:
        t.start()
    for t in th:
        t.join()
    print(json.dumps({"counts": {str(k): v for k, v in counts.items()}, "codes": codes,
                      "tokens_with_201": len(per_token),
                      "max_201_per_token": max(per_token.values()) if per_token else 0,
                      "serials": serials, "seconds": round(time.time() - t0, 2)}))


def soak(url, tokens, body, clients, serials_file, stopfile):
    u = urllib.parse.urlsplit(url)
    delay = float(os.environ.get("SOAK_DELAY", "0"))
    lock = threading.Lock()
    out = open(serials_file, "a")
    nxt = [0]

    def worker():
        conn = None
        while not os.path.exists(stopfile):
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= len(tokens):
                return
            while not os.path.exists(stopfile):
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
                    st, data = post(conn, "/client-certificates/token/" + tokens[i], body)
                except (OSError, http.client.HTTPException):
                    if conn is not None:
                        conn.close()
                    conn = None
                    time.sleep(0.02)  # server down: try the same token again
                    continue
                if st == 201:
                    with lock:
                        out.write(json.loads(data)["serial"] + "\n")
                        out.flush()
                        os.fsync(out.fileno())
                time.sleep(delay)  # pace the load so it lasts the whole run
                break  # 409 (a retried token that had committed) or other: next token

    th = [threading.Thread(target=worker) for _ in range(clients)]
    for t in th:
        t.start()
    for t in th:
        t.join()


if __name__ == "__main__":
    mode, url, tokfile, bodyfile = sys.argv[1:5]
    tokens = [l.strip() for l in open(tokfile) if l.strip()]
    body = open(bodyfile, "rb").read()
    if mode == "race":
        race(url, tokens, body, int(sys.argv[5]), int(sys.argv[6]))
    else:
        soak(url, tokens, body, int(sys.argv[5]), sys.argv[6], sys.argv[7])
