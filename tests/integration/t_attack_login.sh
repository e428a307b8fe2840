#!/bin/sh
# t_attack_login.sh — the security pass over the PAM login of issue 12's
# routes, as an attacker who saw a one-time code (a shoulder, a proxy log):
# against the real crtokend with pam_crtoken (pam_wrapper, real TOTP codes
# from oathtool), a code that logged in once on any route — /me/certificates,
# /me/requests, the redemption, its preview — logs in on no route again, a
# code fired at several routes at once logs in exactly once, and one user's
# code is no other user's. Port 19141.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

PAM_SO=$BUILD/lib/pam_crtoken.so
for p in oathtool "$PAM_SO" "$PAM_WRAPPER_LIB"; do
	command -v "$p" >/dev/null 2>&1 || [ -e "$p" ] ||
		{ not_ok "prerequisite $p"; finish; exit 1; }
done
http_instance "$T/inst" 19141 || { not_ok "instance"; finish; exit 1; }
DB=$T/inst/crtoken.db
conf_set require_login yes
mkdir -p "$T/pam.d"
printf 'auth required %s config=%s\naccount required %s config=%s\n' \
	"$PAM_SO" "$CRTOKEN_CONF" "$PAM_SO" "$CRTOKEN_CONF" >"$T/pam.d/crtoken"
PAM_SVC_DIR=$T/pam.d
for u in alice bob carol dave; do
	"$ADMIN" otp enroll "$u" --no-qr --json | jget - "d['secret']" >"$T/$u.secret"
done
code() { oathtool --totp -b "$(cat "$T/$1.secret")"; }
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
apikey || { not_ok "api key"; finish; exit 1; }
csr_body dev
count() { sqlite3 "$DB" "$1"; }
tok_state() { count "SELECT CASE WHEN used_at IS NULL THEN 'active' ELSE 'used' END FROM tokens WHERE id = '$1'"; }

# The routes a login opens, each called with user:code.
me_certs() { req GET /me/certificates -u "$1"; }
me_requests() { req GET /me/requests -u "$1"; }
preview() {
	req POST /certificate-request-tokens/preview -u "$1" -H 'Content-Type: application/json' \
		--data-binary "{\"token\":\"$TOKEN\",\"type\":\"CSR\",\"value\":$($PY -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' "$T/dev.csr")}"
}
redemption() { redeem "$TOKEN" "$T/dev.json" -u "$1"; }

# ------------------------------------------------------------ a code seen on /me
new_token alice-laptop '"owner":"alice"' || not_ok "a token for alice"
C=$(code alice)
me_certs "alice:$C"
check_status "alice logs in with her code on GET /me/certificates" 200 -
BAD=""
for r in redemption me_requests preview me_certs; do
	$r "alice:$C"
	[ "$STATUS" = 401 ] && [ "$(err_code)" = authentication_failed ] || BAD="$BAD $r=$STATUS"
done
check_eq "attack_otp_replay_across_routes: the same code on the redemption, /me/requests, the preview and /me again is 401 each" \
	"" "$BAD"
check_eq "... the token is still unused" active "$(tok_state "$TOKEN_ID")"
check "... each replay audited (otp.replay)" test \
	"$(count "SELECT count(*) FROM audit WHERE action = 'otp.replay' AND object = 'alice'")" -ge 4

# ------------------------------------------------------------ a code seen on the redemption
new_token bob-laptop '"owner":"bob"' || not_ok "a token for bob"
C=$(code bob)
redemption "bob:$C"
check_status "bob redeems with his code" 201 -
BAD=""
for r in me_certs me_requests; do
	$r "bob:$C"
	[ "$STATUS" = 401 ] || BAD="$BAD $r=$STATUS"
done
check_eq "attack_otp_replay_after_redemption: the redemption's code opens neither /me route" "" "$BAD"

# ------------------------------------------------------------ one code, many routes at once
C=$(code carol)
PIDS=""
for i in 1 2 3 4 5 6; do
	case $i in
	1 | 3 | 5) p=/me/certificates ;;
	*) p=/me/requests ;;
	esac
	curl -s -o /dev/null -w '%{http_code}\n' -u "carol:$C" "$URL$p" >"$T/race.$i" &
	PIDS="$PIDS $!"
done
for p in $PIDS; do wait "$p"; done
check_eq "attack_otp_replay_race: one code sent to six requests at once logs in exactly once" \
	"1 5" "$(cat "$T"/race.* | grep -c '^200$') $(cat "$T"/race.* | grep -c '^401$')"

# ------------------------------------------------------------ another user's code
C=$(code dave)
me_certs "alice:$C"
check_status "attack_otp_of_another_user: dave's fresh code is not alice's (401)" 401 \
	authentication_failed
me_certs "dave:$C"
check_status "... and still logs dave in (a refused try under another name spends nothing)" 200 -
http_finish
