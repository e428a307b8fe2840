#!/bin/sh
# t_enroll_client.sh — crtoken-enroll against hostile input (issue 9): the
# plain-http guard parses the URL (L4), and text from a hostile server
# never reaches the terminal raw.
. "$(dirname "$0")/lib.sh"
. "$TOP/enroll/testlib.sh"

http_instance "$T/inst" 18543 || { not_ok "instance"; finish; exit 1; }
conf_set require_login yes
pam_matrix_service alice:alicepw
PAM_SVC_DIR=$T/pam.d
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
apikey || { not_ok "api key"; finish; exit 1; }
mkdir -p "$T/out"

# enroll [args...] : crtoken-enroll without a terminal; $T/enroll.out,
# $T/enroll.err, $RC.
enroll() {
	setsid -w "$ENROLL" "$@" >"$T/enroll.out" 2>"$T/enroll.err" </dev/null
	RC=$?
}

# ------------------------------------------------------------ L4: the URL
new_token guard
for u in "http://127.0.0.1@evil.invalid/" "http://127.0.0.1:18543@evil.invalid/" \
	"http://127.evil.invalid/" "http://localhost.evil.invalid/" \
	"http://user:pw@127.0.0.1:18543/"; do
	CRTOKEN_TOKEN=$TOKEN CRTOKEN_OTP=alicepw enroll --server "$u" --user alice --out-dir "$T/out"
	check_eq "plain http to $u is refused before any request (exit 2)" 2 "$RC"
	[ "$RC" = 2 ] || sed 's/^/#   /' "$T/enroll.err"
done
CRTOKEN_TOKEN=$TOKEN enroll --server "http://127.evil.invalid/" --out-dir "$T/out"
check_contains "the refusal says why" "plain http only to this host" "$(cat "$T/enroll.err")"
check_eq "none of them reached crtokend" 0 \
	"$(grep -c '"POST /client-certificates' "$T/crtokend.log")"

# ------------------------------------------------------------ hostile server
HPORT=18544
cat >"$T/hostile.py" <<'PYEOF'
import http.server, json, sys
ESC = "\x1b"
class H(http.server.BaseHTTPRequestHandler):
    n = 0
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        H.n += 1
        if H.n == 1:
            body = {"error": {"code": "token_used" + ESC + "]0;owned" + "\x07",
                              "message": "x",
                              "detail": ESC + "[2J" + ESC + "[31mEVIL\u009b31m\r"}}
            status = 409
        else:
            body = {"certificate": "-----BEGIN CERTIFICATE-----\n", "serial": "ab" + ESC + "[5m",
                    "subject": "/CN=" + ESC + "]0;title" + "\x07", "notAfter": "2030" + ESC + "[8m"}
            status = 201
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Retry-After", "5" + ESC + "[1m")
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PYEOF
$PY "$T/hostile.py" $HPORT &
HOSTILE_PID=$!
at_exit 'stop_pid "$HOSTILE_PID"'
wait_port 127.0.0.1 $HPORT 50 || not_ok "the hostile server listens"
new_token hostile
CRTOKEN_TOKEN=$TOKEN enroll --server "http://127.0.0.1:$HPORT" --no-login --out-dir "$T/out" \
	--name hostile1
diag "$(cat -v "$T/enroll.err")"
check_eq "a hostile server's error is reported as a refusal (exit 1)" 1 "$RC"
check_eq "a hostile server's error text reaches the terminal without ESC sequences" 0 \
	"$(tr -cd '\033\007\015' <"$T/enroll.err" | wc -c)"
check_eq "... nor 8-bit C1 controls (U+009B, CSI)" 0 "$(grep -c "$(printf '\302\233')" "$T/enroll.err")"
check_contains "the escape is shown escaped (\\x1b)" 'token_used\x1b]0;owned\x07' \
	"$(cat "$T/enroll.err")"
CRTOKEN_TOKEN=$TOKEN enroll --server "http://127.0.0.1:$HPORT" --no-login --out-dir "$T/out" \
	--name hostile2
diag "$(cat -v "$T/enroll.out")"
check_eq "a hostile server's certificate answer is printed without ESC sequences" 0 \
	"$(tr -cd '\033\007' <"$T/enroll.out" | wc -c)"
stop_pid "$HOSTILE_PID"
http_finish
