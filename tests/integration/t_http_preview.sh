#!/bin/sh
# t_http_preview.sh — POST /certificate-request-tokens/preview: what a
# redemption would issue (name, subject, the fields the redeemer may change,
# validity, the network), behind the same login gate as the redemption
# (pam_matrix here; pam_crtoken for the one-time code), refused with the
# redemption's own codes, issuing and consuming nothing, audited, and
# counted by the per-address limiter like a redemption.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

http_instance "$T/inst" 18602 || { not_ok "instance"; finish; exit 1; }
DB=$T/inst/crtoken.db
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/CN=radius lab CA" -keyout "$T/lab-ca.key" -out "$T/lab-ca.pem" 2>/dev/null
conf_set require_login yes && conf_set ssid "Corp WLAN" && conf_set name "Corp 802.1X" &&
	conf_set_in network ca_file "$T/lab-ca.pem" && conf_set server_names radius.test &&
	conf_set cert_days 90 || { not_ok "configure the instance"; finish; exit 1; }
pam_matrix_service alice:alicepw bob:bobpw
PAM_SO=$BUILD/lib/pam_crtoken.so
printf 'auth required %s config=%s\naccount required %s config=%s\n' \
	"$PAM_SO" "$CRTOKEN_CONF" "$PAM_SO" "$CRTOKEN_CONF" >"$T/pam.d/crtoken-otp"
PAM_SVC_DIR=$T/pam.d
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
apikey || { not_ok "api key"; finish; exit 1; }
csr_body dev

count() { sqlite3 "$DB" "$1"; }
# preview JSON [curl args...]
preview() {
	_b=$1
	shift
	jreq POST /certificate-request-tokens/preview "$_b" "$@"
}
token_row() { sqlite3 "$DB" "SELECT * FROM tokens WHERE id='$1'"; }

new_token laptop '"owner":"alice"' '"commonName":"alice-laptop"' '"organization":"Example"' \
	'"openFields":["organization"]'
TOK=$TOKEN
TOK_ID=$TOKEN_ID
new_token old '"expiresIn":1' && OLD=$TOKEN && OLD_ID=$TOKEN_ID
BEFORE=$(token_row "$TOK_ID")

preview "{\"token\":\"$TOK\"}"
check_status "without credentials: 401 authentication_required, like a redemption" 401 \
	authentication_required
preview "{\"token\":\"$TOK\"}" -u alice:wrong
check_status "a wrong password: 401 authentication_failed" 401 authentication_failed
preview "{\"token\":\"$TOK\"}" -u alice:alicepw
check_status "the owner's login: 200" 200 -
check_eq "... the certificate's name, CN, O and subject" \
	"laptop|alice-laptop|Example|None|/O=Example/CN=alice-laptop|alice" \
	"$(jget "$T/body" "'|'.join(str(d[k]) for k in ('name', 'commonName', 'organization', 'organizationalUnit', 'subject', 'owner'))")"
check_eq "... which fields the redeemer may change (the opened O; an owner's CN is fixed)" \
	"organization organizationalUnit" "$(jget "$T/body" "' '.join(d['mayChange'])")"
check_eq "... validity: [ca] cert_days, notAfter that many days away" "90 True" \
	"$(jget "$T/body" "'%d %s' % (d['validityDays'], __import__('datetime').datetime.strptime(d['notAfter'], '%Y-%m-%dT%H:%M:%SZ').timestamp() - __import__('time').time() > 89.9 * 86400)")"
check_eq "... the token's own expiry" yes "$(jget "$T/body" "'yes' if d['tokenExpiresAt'] else 'no'")"
check_eq "... and the network" "True|wifi|Corp 802.1X|Corp WLAN" \
	"$(jget "$T/body" "'|'.join(str(d['network'][k]) for k in ('configured', 'type', 'name', 'ssid'))")"
check_eq "the preview consumed nothing: the token row is as before" "$BEFORE" "$(token_row "$TOK_ID")"
check_eq "... and issued nothing" 0 "$(count "SELECT count(*) FROM certificates")"
check_eq "it is audited (token.preview, with the user and address)" 1 \
	"$(count "SELECT count(*) FROM audit WHERE action='token.preview' AND object='$TOK_ID' AND actor='alice' AND detail LIKE '%\"remote\":\"127.0.0.1\"%'")"
preview "{\"token\":\"$TOK\",\"organization\":\"Lab\"}" -u alice:alicepw
check_eq "an allowed override shows in the subject" "/O=Lab/CN=alice-laptop" \
	"$(jget "$T/body" "d['subject']")"
preview "{\"token\":\"$TOK\",\"commonName\":\"bob\"}" -u alice:alicepw
check_status "an override the token forbids: 422 field_locked, as the redemption says" 422 \
	field_locked
preview "{\"token\":\"$TOK\"}" -u bob:bobpw
check_status "another user: 403 token_owner_mismatch" 403 token_owner_mismatch
check_eq "... audited as token.preview_refused" 1 \
	"$(count "SELECT count(*) FROM audit WHERE action='token.preview_refused' AND detail LIKE '%token_owner_mismatch%'")"
preview "{\"token\":\"crt_$(printf '%s' "${TOK#crt_}" | tr 'A-Za-z' 'B-ZAb-za')\"}" -u alice:alicepw
check_status "a mistyped token: 404 token_mistyped" 404 token_mistyped
preview "{\"token\":\"hello\"}" -u alice:alicepw
check_status "not a token: 404 token_malformed" 404 token_malformed
preview '{}' -u alice:alicepw
check_status "no token: 400 request_invalid" 400 request_invalid
preview "{\"token\":\"$TOK\",\"type\":\"CSR\"}" -u alice:alicepw
check_status "an unknown field: 400 request_invalid" 400 request_invalid
req POST /certificate-request-tokens/preview -u alice:alicepw --data-binary "{\"token\":\"$TOK\"}"
check_status "not application/json: 415" 415 -
check_eq "the token is still as it was" "$BEFORE" "$(token_row "$TOK_ID")"

redeem "$TOK" "$T/dev.json" -u alice:alicepw
check_status "after the previews the token redeems (201)" 201 -
check_eq "... with the subject the preview showed" "/O=Example/CN=alice-laptop" \
	"$(jget "$T/body" "d['subject']")"
preview "{\"token\":\"$TOK\"}" -u alice:alicepw
check_status "a used token: 409 token_used" 409 token_used
new_token gone && GONE=$TOKEN && areq DELETE "/certificate-request-tokens/$TOKEN_ID"
preview "{\"token\":\"$GONE\"}" -u alice:alicepw
check_status "a deleted token: 410 token_deleted" 410 token_deleted
# (made at the start; waited for until the service itself says it expired)
_i=0
while areq GET "/certificate-request-tokens/$OLD_ID" && [ "$(jget "$T/body" "d['state']")" != expired ] &&
	[ $_i -lt 50 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
preview "{\"token\":\"$OLD\"}" -u alice:alicepw
check_status "an expired token: 410 token_expired" 410 token_expired

# The token goes in the body: no log line holds it.
check_eq "no token and no password in the server log" 0 \
	"$(grep -c -e "$TOK" -e alicepw "$T/crtokend.log")"

# With pam_crtoken the preview is a login: it uses up its one-time code.
SA=$("$ADMIN" otp enroll carol --json | jget - "d['secret']")
conf_set pam_service crtoken-otp
_reloads=$(grep -c 'reloaded configuration' "$T/crtokend.log")
kill -HUP "$CRTOKEND_PID"
_i=0
while [ "$(grep -c 'reloaded configuration' "$T/crtokend.log")" = "$_reloads" ] && [ $_i -lt 100 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
new_token carol '"owner":"carol"'
CODE=$(oathtool --totp -b "$SA")
preview "{\"token\":\"$TOKEN\"}" -u "carol:$CODE"
check_status "pam_crtoken: a fresh code previews (200)" 200 -
redeem "$TOKEN" "$T/dev.json" -u "carol:$CODE"
check_status "... and that code cannot redeem after it (replay: 401)" 401 authentication_failed
redeem "$TOKEN" "$T/dev.json" -u "carol:$(oathtool --totp -b -N 'now + 30 seconds' "$SA")"
check_status "... the next code does (201)" 201 -

# Refused previews count against the address like refused redemptions.
stop_crtokend
conf_set require_login no && conf_set rate_limit_failures 3 && conf_set rate_limit_seconds 3600
start_crtokend || { not_ok "crtokend restarts"; finish; exit 1; }
for i in 1 2 3; do preview "{\"token\":\"$GONE\"}"; done
check_status "without a login, a refused preview is the attempt (410)" 410 token_deleted
preview "{\"token\":\"$GONE\"}"
check_status "... and after rate_limit_failures of them the address gets 429" 429 rate_limited
check "... with Retry-After" test -n "$(header Retry-After)"
check_eq "no 5xx in this suite" 0 "$(grep -c '" 5[0-9][0-9]' "$T/crtokend.log")"
http_finish
