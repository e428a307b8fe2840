#!/usr/bin/python3
"""events_latency.py — delivery latency of events for `make bench`
(tests/bench/events.sh): create N tokens through crtokend at RATE per
second (one keep-alive connection, admin API key) and measure, per token,
the time from sending its POST to its token.created event arriving at the
webhook receiver (event_receivers.py appends arrivals to JSONL). Prints one
line: events target=webhook n=N rate=RATE delivered=D lost=L p50_ms= p99_ms= max_ms=
"""
import http.client
import json
import os
import sys
import time

url_port, key, jsonl, n, rate = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
run = "lat%d" % os.getpid()
conn = http.client.HTTPConnection("127.0.0.1", url_port, timeout=30)
sent = {}
start = time.time()
failures = 0
for i in range(n):
    due = start + i / rate
    now = time.time()
    if due > now:
        time.sleep(due - now)
    name = "%s-%d" % (run, i)
    body = json.dumps({"name": name})
    t0 = time.time()
    conn.request("POST", "/certificate-request-tokens", body,
                 {"Content-Type": "application/json", "Authorization": "Bearer " + key})
    r = conn.getresponse()
    r.read()
    if r.status != 201:
        failures += 1
    sent[name] = t0
# wait for the stragglers (at most 60 s)
arrived = {}
deadline = time.time() + 60
while time.time() < deadline:
    arrived = {}
    if os.path.exists(jsonl):
        for line in open(jsonl):
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            ev = rec.get("event") or {}
            name = (ev.get("subject") or {}).get("tokenName")
            if ev.get("type") == "token.created" and name in sent and rec.get("sigOk"):
                arrived.setdefault(name, rec["arrival"])
    if len(arrived) == len(sent):
        break
    time.sleep(0.2)
lat = sorted((arrived[k] - sent[k]) * 1000.0 for k in arrived)


def pct(p):
    if not lat:
        return 0.0
    return lat[min(len(lat) - 1, int(round(p / 100.0 * len(lat) + 0.5)) - 1)]


print("events target=webhook n=%d rate=%g delivered=%d lost=%d http_failures=%d "
      "p50_ms=%.1f p99_ms=%.1f max_ms=%.1f"
      % (n, rate, len(lat), len(sent) - len(lat), failures, pct(50), pct(99),
         lat[-1] if lat else 0.0))
