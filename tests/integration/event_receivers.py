#!/usr/bin/python3
"""event_receivers.py — real receivers for the event sinks (t_events.sh,
tests/bench/events.sh), on 127.0.0.1 only.

  webhook PORT CERT KEY SECRET_FILE OUT [FAIL_FILE]
      An HTTPS server (TLS with CERT/KEY): each POST is checked against
      X-Crtoken-Signature = sha256=HMAC-SHA256(key, "<X-Crtoken-Timestamp>.<body>")
      with the key of SECRET_FILE (trailing newlines stripped, as crtoken
      does), and one JSON line is appended to OUT: {"sigOk", "arrival" (Unix
      seconds, float), "headers": {...}, "event": <body>}. Answers 204, or
      503 while FAIL_FILE exists (a receiver that is down for a while), or
      401 to a bad signature.
  redirect PORT CERT|- KEY|- OUT
      A server that follows nothing itself (TLS with CERT/KEY, or plain HTTP
      with "-"): every request is appended to OUT as one JSON line {"method",
      "path", "signed" (it carried X-Crtoken-Signature), "injected" (it
      carried an X-Injected header)}; a request for
      /go?<URL> is answered 307 with Location: <URL> (t_attack_events.sh: a
      webhook that redirects), any other 204.
  smtp PORT OUT_DIR
      An SMTP server (aiosmtpd, python3-aiosmtpd): each message is written to
      OUT_DIR/<n>.eml with its envelope in OUT_DIR/<n>.json.
"""
import hashlib
import hmac
import json
import os
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def webhook(port, cert, key, secret_file, out, fail_file=None):
    secret = open(secret_file, "rb").read().rstrip(b"\r\n \t")

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *a):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            arrival = time.time()
            ts = self.headers.get("X-Crtoken-Timestamp", "")
            sig = self.headers.get("X-Crtoken-Signature", "")
            want = "sha256=" + hmac.new(secret, ts.encode() + b"." + body,
                                        hashlib.sha256).hexdigest()
            ok = hmac.compare_digest(sig, want)
            try:
                ev = json.loads(body)
            except ValueError:
                ev = None
            rec = {"sigOk": ok, "arrival": arrival, "path": self.path,
                   "headers": {k: v for k, v in self.headers.items()
                               if k.lower().startswith("x-crtoken") or
                               k.lower() == "content-type"},
                   "event": ev}
            down = fail_file is not None and os.path.exists(fail_file)
            if not down:
                with open(out, "a") as f:
                    f.write(json.dumps(rec) + "\n")
            code = 503 if down else (204 if ok else 401)
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

    srv = ThreadingHTTPServer(("127.0.0.1", port), H)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


def redirect(port, cert, key, out):
    from urllib.parse import unquote

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def any(self):
            n = int(self.headers.get("Content-Length", "0") or "0")
            if n:
                self.rfile.read(n)
            with open(out, "a") as f:
                f.write(json.dumps({"method": self.command, "path": self.path,
                                    "signed": "X-Crtoken-Signature" in self.headers,
                                    "injected": "X-Injected" in self.headers}) + "\n")
            if self.path.startswith("/go?"):
                self.send_response(307)
                self.send_header("Location", unquote(self.path[4:]))
            else:
                self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_PUT = any

    srv = ThreadingHTTPServer(("127.0.0.1", port), H)
    if cert != "-":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


def smtp(port, out_dir):
    import asyncio
    from aiosmtpd.controller import Controller

    class Handler:
        n = 0

        async def handle_DATA(self, server, session, envelope):
            Handler.n += 1
            base = os.path.join(out_dir, str(Handler.n))
            with open(base + ".eml", "wb") as f:
                f.write(envelope.original_content or envelope.content)
            with open(base + ".json", "w") as f:
                json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos}, f)
            return "250 OK"

    c = Controller(Handler(), hostname="127.0.0.1", port=port)
    c.start()
    try:
        while True:
            time.sleep(3600)
    finally:
        c.stop()


if __name__ == "__main__":
    if sys.argv[1] == "webhook":
        webhook(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6],
                sys.argv[7] if len(sys.argv) > 7 else None)
    elif sys.argv[1] == "redirect":
        redirect(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
    elif sys.argv[1] == "smtp":
        smtp(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit("usage: event_receivers.py webhook|redirect|smtp ...")
