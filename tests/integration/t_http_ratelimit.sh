#!/bin/sh
# t_http_ratelimit.sh — the per-address login limit holds under parallel
# attempts (issue 9, M4): an attempt is reserved before PAM evaluates it,
# so 100 parallel attempts from one address get at most
# rate_limit_failures evaluations, not one each. And with require_login =
# no, junk redemptions (each refusal writes an audit row) are limited the
# same way (L9).
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

http_instance "$T/inst" 18541 || { not_ok "instance"; finish; exit 1; }
DB=$T/inst/crtoken.db
conf_set require_login yes
conf_set rate_limit_failures 5
conf_set rate_limit_seconds 600
conf_set max_logins 1000                 # not this suite's limits:
conf_set max_connections_per_address 200 # all 100 may be connected at once
pam_matrix_service alice:alicepw
# A failed login takes 2 s in PAM (pam_unix's fail delay): the attempts overlap.
printf 'auth optional /usr/lib/%s/security/pam_faildelay.so delay=2000000\n' "$MULTIARCH" \
	>"$T/pam.d/crtoken.new"
cat "$T/pam.d/crtoken" >>"$T/pam.d/crtoken.new"
mv "$T/pam.d/crtoken.new" "$T/pam.d/crtoken"
PAM_SVC_DIR=$T/pam.d
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }

i=0
pids=""
while [ $i -lt 100 ]; do
	curl -s -o /dev/null -w '%{http_code}\n' -u "alice:wrong$i" -X POST \
		-H 'Content-Type: application/json' --data-binary '{}' \
		"$URL/client-certificates/token/crt_guess$i" >"$T/a$i.code" &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do wait "$p"; done
cat "$T"/a*.code | sort | uniq -c | sed 's/^/# /'
EVALUATED=$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE action='http.login_failed'")
diag "evaluated by PAM: $EVALUATED"
check "100 parallel login attempts from one address: at most 5 are evaluated" \
	test "$EVALUATED" -ge 1 -a "$EVALUATED" -le 5
check_eq "every evaluated attempt answered 401" "$EVALUATED" "$(cat "$T"/a*.code | grep -c '^401$')"
check_eq "every other attempt answered 429 without reaching PAM" $((100 - EVALUATED)) \
	"$(cat "$T"/a*.code | grep -c '^429$')"
req POST /client-certificates/token/crt_after -u alice:alicepw \
	-H 'Content-Type: application/json' --data-binary '{}'
check_status "after 5 failures the address is blocked, right password or not" 429 rate_limited

# ------------------------------------------------------------ L9
conf_set require_login no
reload_crtokend
i=0
while [ $i -lt 50 ]; do
	curl -s -o /dev/null -w '%{http_code}\n' --interface 127.0.0.2 -X POST \
		-H 'Content-Type: application/json' --data-binary '{"type":"CSR","value":"x"}' \
		"$URL/client-certificates/token/crt_junk$i" >>"$T/junk.codes"
	i=$((i + 1))
done
sort "$T/junk.codes" | uniq -c | sed 's/^/# /'
check_eq "require_login = no: 50 junk redemptions write at most 5 refusal audit rows" 5 \
	"$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE action='token.redeem_refused'")"
check_eq "... the rest are 429 without touching the store" 45 "$(grep -c '^429$' "$T/junk.codes")"
check_eq "... and the block is audited once" 1 \
	"$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE action='http.rate_limited' AND object='127.0.0.2'")"
http_finish
