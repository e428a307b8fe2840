#!/bin/sh
# t_http_dos.sh — unauthenticated denial of service (issue 9, M3): slow
# connections from many addresses, slow-loris request heads and bodies,
# and slow failed logins must not lock other clients out. The limits are
# [server] max_connections_per_address (default 32 of 1024),
# request_timeout (the whole-request deadline) and max_logins; the public
# routes and the login itself hold no store context.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

SLOW="$PY $TOP/tests/integration/slow_clients.py"
http_instance "$T/inst" 18540 || { not_ok "instance"; finish; exit 1; }
conf_set request_timeout 4
# Every slow login below must reach the gate (the per-address failure
# limit has its own suite, t_http_ratelimit).
conf_set rate_limit_failures 100000
pam_matrix_service alice:alicepw
# A failed login sleeps 4 s in PAM, like pam_unix's fail delay (2 s), only longer.
printf 'auth optional /usr/lib/%s/security/pam_faildelay.so delay=4000000\n' "$MULTIARCH" \
	>"$T/pam.d/crtoken.new"
cat "$T/pam.d/crtoken" >>"$T/pam.d/crtoken.new"
mv "$T/pam.d/crtoken.new" "$T/pam.d/crtoken"
PAM_SVC_DIR=$T/pam.d
start_crtokend --workers 4 || { not_ok "crtokend starts"; finish; exit 1; }
apikey || { not_ok "api key"; finish; exit 1; }

# ------------------------------------------------------------ connections
# 8 addresses × 128 = 1024 connections, each an unfinished request head:
# old code kept them all (128 per address) and had no connection left.
$SLOW flood "$PORT" 127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.9 \
	128 >"$T/flood.out" 2>&1
sed 's/^/# /' "$T/flood.out"
MAXKEPT=$(sed -n 's/^kept [0-9.]* //p' "$T/flood.out" | sort -n | tail -1)
check "one address keeps at most max_connections_per_address (32) connections" \
	test "${MAXKEPT:-999}" -le 32
check_eq "1024 slow connections from 8 addresses: a normal client is still served" \
	"normal 200" "$(grep '^normal' "$T/flood.out")"

# ------------------------------------------------------------ deadline
# One byte a second is never idle for libmicrohttpd's timeout; only the
# whole-request deadline (4 s here) ends it. Bound: 15 s (generous).
OUT=$($SLOW trickle "$PORT" head 15)
diag "$OUT"
check_contains "slow-loris request head (a byte a second) is closed by the deadline" \
	closed-by-server "$OUT"
OUT=$($SLOW trickle "$PORT" body 15)
diag "$OUT"
check_contains "slow-loris request body (a byte a second) is closed by the deadline" \
	closed-by-server "$OUT"
req GET /healthz
check_status "after the slow connections, /healthz answers" 200 -

# ------------------------------------------------------------ slow logins
conf_set require_login yes
reload_crtokend
i=0
pids=""
while [ $i -lt 40 ]; do
	# From 4 addresses: 40 at once from one would meet the connection cap.
	curl -s -o /dev/null -w '%{http_code}\n' -u alice:wrong -X POST \
		--interface 127.0.0.1$((i % 4)) \
		-H 'Content-Type: application/json' --data-binary '{}' \
		"$URL/client-certificates/token/crt_slowlogin$i" >"$T/login$i.code" &
	pids="$pids $!"
	i=$((i + 1))
done
# The logins beyond max_logins (8) are answered at once; wait for those.
i=0
while [ "$(cat "$T"/login*.code | grep -c '^503$')" -lt 32 ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
req GET /healthz
HSTATUS=$STATUS
SEEN401=$(cat "$T"/login*.code | grep -c '^401$')
areq GET /certificate-request-tokens
ASTATUS=$STATUS
SEEN401_AFTER=$(cat "$T"/login*.code | grep -c '^401$')
check_eq "logins beyond max_logins (8) are refused at once (503)" 32 \
	"$(cat "$T"/login*.code | grep -c '^503$')"
check_eq "40 slow failed logins do not stall /healthz (answered before any login failed)" \
	"200 0" "$HSTATUS $SEEN401"
check_eq "a login in PAM holds no store context: an admin request is served meanwhile" \
	"200 0" "$ASTATUS $SEEN401_AFTER"
for p in $pids; do wait "$p"; done
check_eq "the 8 logins that ran fail as they should (401)" 8 \
	"$(cat "$T"/login*.code | grep -c '^401$')"
http_finish
