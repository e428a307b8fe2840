#!/bin/sh
# t_enroll_client.sh — crtoken-enroll against hostile input (issue 9): the
# plain-http guard parses the URL (L4), text from a hostile server never
# reaches the terminal raw, and the token and one-time password need not be
# on the command line (--token-file, --otp-file, environment, prompt).
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

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

# ------------------------------------------------------------ secrets
printf '%s\n' "$TOKEN" >"$T/token.txt"
printf 'alicepw\n' >"$T/otp.txt"
enroll --server "$URL" --token-file "$T/token.txt" --otp-file "$T/otp.txt" --user alice \
	--out-dir "$T/out" --name viafile
check_eq "--token-file and --otp-file redeem (exit 0)" 0 "$RC"
[ "$RC" = 0 ] || sed 's/^/#   /' "$T/enroll.err"
check_eq "no warning when the secrets come from files" "" "$(cat "$T/enroll.err")"

new_token argv
CRTOKEN_OTP=alicepw enroll --server "$URL" --token "$TOKEN" --user alice --out-dir "$T/out" \
	--name viaargv
check_eq "--token on the command line still works (exit 0)" 0 "$RC"
check_contains "... with a warning that it is visible to other users" \
	"warning: a token on the command line is visible" "$(cat "$T/enroll.err")"

new_token prompted
OUT=$($PY "$TOP/tests/integration/ptydrive.py" "Certificate request token: " "$TOKEN" \
	"One-time password: " alicepw -- "$ENROLL" --server "$URL" --user alice \
	--out-dir "$T/out" --name viaprompt 2>&1)
check_contains "without --token the token is asked for on the terminal" "EXIT 0" "$OUT"
check_fails "the typed token is not echoed" sh -c "printf '%s' '$OUT' | grep -q -- '$TOKEN'"

new_token viaenv
CRTOKEN_TOKEN=$TOKEN CRTOKEN_OTP=alicepw enroll --server "$URL" --user alice \
	--out-dir "$T/out" --name viaenv
check_eq "CRTOKEN_TOKEN redeems without a warning" "0 " "$RC $(cat "$T/enroll.err")"

new_token stdin
printf '%s\n' "$TOKEN" | CRTOKEN_OTP=alicepw setsid -w "$ENROLL" --server "$URL" \
	--token-file - --user alice --out-dir "$T/out" --name viastdin >/dev/null 2>"$T/enroll.err"
check_eq "--token-file - reads the token from stdin" 0 $?
: >"$T/empty.txt"
enroll --server "$URL" --token-file "$T/empty.txt" --out-dir "$T/out"
check_eq "an empty token file is a usage error (exit 2)" 2 "$RC"
enroll --server "$URL" --out-dir "$T/out"
check_eq "no token anywhere and no terminal: usage error (exit 2)" 2 "$RC"
check_contains "... saying where a token can come from" "--token-file" "$(cat "$T/enroll.err")"

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
