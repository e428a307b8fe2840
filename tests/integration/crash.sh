#!/bin/sh
# crash.sh — `make check-crash`: kill -9 crtokend 50 times at random moments
# under redemption load, restarting it each time. Afterwards the store must
# be intact and consistent: integrity_check ok, every serial a client got a
# 201 for is stored, no token has two certificates, no token is used without
# its certificate and no certificate lacks its used token.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

KILLS=${CRASH_KILLS:-50}
NTOK=${CRASH_TOKENS:-4000}
http_instance "$T/inst" 18452 || { not_ok "instance"; finish; exit 1; }
DB=$T/inst/crtoken.db
csr_body dev
"$ADMIN" token create --name crash --count "$NTOK" >"$T/tokens"
check_eq "$NTOK tokens made" "$NTOK" "$(wc -l <"$T/tokens")"

: >"$T/serials"
SOAK_DELAY=${SOAK_DELAY:-0.4} $PY "$TOP/tests/integration/http_load.py" soak "$URL" "$T/tokens" "$T/dev.json" 16 \
	"$T/serials" "$T/stop" &
LOAD=$!
at_exit 'touch "$T/stop"; kill $LOAD 2>/dev/null'

k=0
killed=0
busy=0
while [ $k -lt "$KILLS" ]; do
	kill -0 $LOAD 2>/dev/null && busy=$((busy + 1))
	start_crtokend --workers 4 >/dev/null
	# 50..450 ms of load, then SIGKILL mid-flight.
	sleep "$(awk -v s="$$$k" 'BEGIN { srand(s); printf "%.3f", 0.05 + rand() * 0.4 }')"
	kill -9 "$CRTOKEND_PID" 2>/dev/null && killed=$((killed + 1))
	wait "$CRTOKEND_PID" 2>/dev/null
	CRTOKEND_PID=""
	k=$((k + 1))
done
touch "$T/stop"
wait $LOAD
check_eq "crtokend was killed -9 while running $KILLS times" "$KILLS" "$killed"
check_eq "the load was running at every kill" "$KILLS" "$busy"
got=$(sort -u "$T/serials" | wc -l)
diag "$got certificates acknowledged with 201 across $KILLS crashes"
check "clients received certificates during the run" test "$got" -gt 0

check_eq "integrity_check" ok "$(sqlite3 "$DB" 'PRAGMA integrity_check')"
sqlite3 "$DB" 'SELECT serial FROM certificates' | sort >"$T/stored"
check_eq "every serial acknowledged with a 201 is stored" 0 \
	"$(sort -u "$T/serials" | comm -23 - "$T/stored" | wc -l)"
check_eq "no token has two certificates" 0 \
	"$(sqlite3 "$DB" 'SELECT count(*) FROM (SELECT token_id FROM certificates GROUP BY token_id HAVING count(*) > 1)')"
check_eq "no token is used without its certificate" 0 \
	"$(sqlite3 "$DB" 'SELECT count(*) FROM tokens t LEFT JOIN certificates c ON c.serial = t.serial AND c.token_id = t.id WHERE t.used_at IS NOT NULL AND c.serial IS NULL')"
check_eq "no certificate without its used token" 0 \
	"$(sqlite3 "$DB" 'SELECT count(*) FROM certificates c LEFT JOIN tokens t ON t.id = c.token_id AND t.serial = c.serial WHERE t.used_at IS NULL')"
check_eq "every certificate has its redemption audit row" 0 \
	"$(sqlite3 "$DB" "SELECT count(*) FROM certificates c WHERE NOT EXISTS (SELECT 1 FROM audit a WHERE a.action = 'token.redeem' AND a.object = c.token_id)")"
# And the service comes back on the crashed store and keeps working.
start_crtokend --workers 2 || not_ok "crtokend restarts on the crashed store"
T1=$(sed -n "${NTOK}p" "$T/tokens")
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	--data-binary "@$T/dev.json" "$URL/client-certificates/token/$T1")
case "$code" in 201 | 409) ok "the restarted service answers redemptions ($code)" ;; *) not_ok "restarted service answered $code" ;; esac
stop_crtokend
finish
