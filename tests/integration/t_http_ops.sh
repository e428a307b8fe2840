#!/bin/sh
# t_http_ops.sh — running crtokend: plain HTTP only on loopback, HTTPS with
# the configured certificate (and crtoken-enroll verifying it), --listen,
# SIGHUP with a broken config keeps serving, SIGTERM drains an in-flight
# request and refuses new connections, and a 500 shows no internals.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

http_instance "$T/inst" 18449 || { not_ok "instance"; finish; exit 1; }
apikey || { not_ok "api key"; finish; exit 1; }

# ------------------------------------------------------------ refusals at start
check_fails "plain HTTP on a non-loopback address is refused" \
	"$CRTOKEND" --config "$CRTOKEN_CONF" --foreground --listen 0.0.0.0:18449
check_contains "... saying why" "loopback" "$(cat "$T/.out")"
conf_set plain_http no
check_fails "no TLS certificate and plain_http = no is refused" \
	"$CRTOKEND" --config "$CRTOKEN_CONF" --foreground
check_contains "... saying why" "tls_cert" "$(cat "$T/.out")"
check_fails "a malformed listen address is refused" \
	"$CRTOKEND" --config "$CRTOKEN_CONF" --foreground --listen 127.0.0.1
check_fails "a broken config is refused at start" \
	"$CRTOKEND" --config "$T/missing.conf" --foreground

# ------------------------------------------------------------ detached
# Without --foreground crtokend detaches (and logs to syslog); a relative
# --config still works after it changed to /.
conf_set plain_http yes
(cd "$T" && "$CRTOKEND" --config inst/crtoken.conf --listen 127.0.0.1:18458)
check_eq "crtokend detaches with status 0" 0 "$?"
if wait_port 127.0.0.1 18458 50; then
	STATUS=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:18458/healthz)
	check_eq "the detached daemon serves (relative --config)" 200 "$STATUS"
else
	not_ok "the detached daemon serves (relative --config)"
fi
# Found by the suite's mark in its environment (lib.sh), so it is stopped by
# PID even when a check above failed or ss is missing.
DPID=""
for p in $(marked_pids CRTOKEN_TEST_RUN); do
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = crtokend ] && DPID=$p
done
at_exit 'stop_pid "$DPID"'
check "the detached daemon is crtokend" test -n "$DPID"
check_eq "... and holds the port" "$DPID" \
	"$(ss -ltnpH 'sport = :18458' 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)"
stop_pid "$DPID"
conf_set plain_http no

# ------------------------------------------------------------ HTTPS
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	-keyout "$T/inst/tls.key" -out "$T/inst/tls.pem" 2>/dev/null
conf_set tls_cert tls.pem
conf_set tls_key tls.key
start_crtokend || { not_ok "crtokend starts with TLS"; finish; exit 1; }
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' --cacert "$T/inst/tls.pem" "https://127.0.0.1:$PORT/healthz")
check_eq "HTTPS with the configured certificate" 200 "$STATUS"
check_fails "plain HTTP to the TLS port gets no answer" \
	curl -sf --max-time 3 "http://127.0.0.1:$PORT/healthz"
URL=https://127.0.0.1:$PORT
TOKEN=$("$ADMIN" token create --name tls --json | jget - "d['token']")
mkdir -p "$T/out"
setsid -w "$ENROLL" --server "$URL" --token "$TOKEN" --out-dir "$T/out" --no-login \
	>"$T/e.out" 2>&1 </dev/null
check_eq "crtoken-enroll over HTTPS without trusting the server fails (exit 4)" 4 "$?"
setsid -w "$ENROLL" --server "$URL" --token "$TOKEN" --out-dir "$T/out" --no-login \
	--cacert "$T/inst/tls.pem" >"$T/e.out" 2>&1 </dev/null
check_eq "crtoken-enroll over HTTPS with --cacert succeeds" 0 "$?"
stop_crtokend

# ------------------------------------------------------------ plain, --listen, reload
conf_set plain_http yes
sed -i -e 's/^tls_cert = .*/;tls_cert =/' -e 's/^tls_key = .*/;tls_key =/' "$CRTOKEN_CONF"
PORT=18450
URL=http://127.0.0.1:$PORT
start_crtokend --listen "127.0.0.1:$PORT" || { not_ok "crtokend --listen"; finish; exit 1; }
req GET /healthz
check_eq "--listen overrides the configured address" 200 "$STATUS"

cp "$CRTOKEN_CONF" "$T/good.conf"
printf '[server]\nbogus = 1\n' >>"$CRTOKEN_CONF"
reload_crtokend
req GET /healthz
check_eq "SIGHUP with a broken config keeps serving" 200 "$STATUS"
check_contains "... and says the reload was refused" "reload refused" "$(cat "$T/crtokend.log")"
cp "$T/good.conf" "$CRTOKEN_CONF"
conf_set tls_cert tls.pem
conf_set tls_key tls.key
kill -HUP "$CRTOKEND_PID"
sleep 0.5
check_contains "a changed TLS setting is reported as needing a restart" \
	"restart crtokend to apply" "$(cat "$T/crtokend.log")"
cp "$T/good.conf" "$CRTOKEN_CONF"

# A 5xx: the CRL must be re-signed (the published one is gone) while another
# writer holds the store. The answer names no path or detail. (An unwritable
# crl_file is no failure any more: the store keeps the CRL, t_http_crl.)
conf_set busy_timeout_ms 200
reload_crtokend
sqlite3 "$T/inst/crtoken.db" "DELETE FROM crl"
(echo "BEGIN IMMEDIATE;"; sleep 3; echo "COMMIT;") | sqlite3 "$T/inst/crtoken.db" &
LOCKER=$!
sleep 0.5
req GET /crl
check_eq "an internal failure is a 5xx" 5 "$(printf '%s' "$STATUS" | cut -c1)"
check_eq "the 5xx body has no detail" false "$(jget "$T/body" "'detail' in d['error']")"
check_eq "the 5xx body names no path" 0 "$(grep -c "$T" "$T/body")"
check_contains "the log has the detail" "database is locked" "$(cat "$T/crtokend.log")"
wait "$LOCKER"
cp "$T/good.conf" "$CRTOKEN_CONF"
reload_crtokend

# ------------------------------------------------------------ store busy
# Another writer holds the store's write lock longer than busy_timeout_ms.
csr_body dev
new_token busy
BUSY_ID=$TOKEN_ID
conf_set busy_timeout_ms 200
reload_crtokend
(echo "BEGIN IMMEDIATE;"; sleep 3; echo "COMMIT;") | sqlite3 "$T/inst/crtoken.db" &
LOCKER=$!
sleep 0.5
redeem "$TOKEN" "$T/dev.json"
check_status "a store locked by another writer is 503 store_busy" 503 store_busy
check_eq "503 carries Retry-After" 1 "$(header Retry-After)"
wait "$LOCKER"
areq GET "/certificate-request-tokens/$BUSY_ID"
check_eq "the busy refusal left the token active" active "$(jget "$T/body" "d['state']")"
redeem "$TOKEN" "$T/dev.json"
check_status "once the lock is gone the same request succeeds" 201 -
cp "$T/good.conf" "$CRTOKEN_CONF"
reload_crtokend

# ------------------------------------------------------------ SIGTERM drains
new_token slow
# Pad the body with JSON whitespace and upload it slowly: the request is
# in flight for about two seconds.
$PY -c 'import sys; sys.stdout.write(open(sys.argv[1]).read().rstrip() + " " * 20000)' \
	"$T/dev.json" >"$T/slow.json"
curl -s -o "$T/slow.body" -w '%{http_code}' --limit-rate 10k -X POST \
	-H 'Content-Type: application/json' --data-binary "@$T/slow.json" \
	"$URL/client-certificates/token/$TOKEN" >"$T/slow.code" &
SLOW=$!
sleep 0.5
kill -TERM "$CRTOKEND_PID"
sleep 0.3
check_fails "after SIGTERM new connections are refused" \
	curl -sf --max-time 2 "$URL/healthz"
wait "$SLOW"
check_eq "the in-flight redemption still completes (201)" 201 "$(cat "$T/slow.code")"
wait "$CRTOKEND_PID"
check_eq "crtokend exits 0 after draining" 0 "$?"
CRTOKEND_PID=""
check_contains "the log shows the drain" "draining in-flight requests" "$(cat "$T/crtokend.log")"
http_finish
