#!/usr/bin/env python3
"""cfssl_fake.py — a tiny real HTTP server standing in for a cfssl server that
misbehaves, for t_cfssl.sh (127.0.0.1 only).

  cfssl_fake.py PORT answer CERT.pem   answer every POST /api/v1/cfssl/authsign
                                       as cfssl does on success, with CERT.pem
                                       as the certificate (whatever was asked)
  cfssl_fake.py PORT hold              read the request, never answer (until
                                       the client gives up and closes)
  cfssl_fake.py PORT status CODE       answer HTTP CODE with cfssl's error shape

Each request's body is appended to PORT.requests.jsonl and its path to
PORT.paths in the current directory, so the suite can see what crtoken sent.
"""
import http.server
import json
import sys

PORT = int(sys.argv[1])
MODE = sys.argv[2]
ARG = sys.argv[3] if len(sys.argv) > 3 else None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with open("%d.requests.jsonl" % PORT, "ab") as f:
            f.write(body + b"\n")
        with open("%d.paths" % PORT, "a") as f:
            f.write(self.path + "\n")
        if MODE == "hold":
            # Wait for the client to close; answer nothing.
            self.connection.settimeout(60)
            try:
                while self.connection.recv(1):
                    pass
            except OSError:
                pass
            self.close_connection = True
            return
        if MODE == "answer":
            with open(ARG) as f:
                pem = f.read()
            out = {"success": True, "result": {"certificate": pem}, "errors": [], "messages": []}
            code = 200
        else:
            code = int(ARG)
            out = {"success": False, "result": None,
                   "errors": [{"code": 9999, "message": "fake failure"}], "messages": []}
        data = json.dumps(out).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


Server(("127.0.0.1", PORT), Handler).serve_forever()
