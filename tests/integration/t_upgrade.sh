#!/bin/sh
# t_upgrade.sh — a store made by the previous main (schema 5, commit ec6e485;
# tests/fixtures/schema5, see its README.md) migrates to today's schema on
# first open and keeps working with every component: crtoken-admin (tokens,
# certificates, OTP), crtokend (redemption of an old unused token, the old
# API key) and rlm_crtoken (the old certificate over EAP-TLS with its token's
# Reply-Message, refused after revocation).
# Ports: crtokend 127.0.0.1:18720, radiusd 127.0.0.1:18721.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"
RLM_SRC=$TOP/rlm_crtoken
RLM_PORT=18721
. "$TOP/tests/integration/radius_lib.sh"
RLM_BUILD=$BUILD
FX=$TOP/tests/fixtures/schema5

require_programs /usr/sbin/freeradius eapol_test oathtool openssl sqlite3 curl base64 "$ADMIN" \
	"$CRTOKEND" "$BUILD/lib/rlm_crtoken.so"
at_exit rlm_stop

I=$T/inst
DB=$I/crtoken.db
q() { sqlite3 "$DB" "$1"; }

# ---------------------------------------------------------------- the old instance
rebuild() {
	mkdir -m 0750 "$I" &&
		sqlite3 "$DB" <"$FX/crtoken.sql" && chmod 0640 "$DB" &&
		cp "$FX/crtoken.conf" "$I/crtoken.conf" && chmod 0640 "$I/crtoken.conf" &&
		cp "$FX/ca.pem" "$I/ca.pem" && chmod 0644 "$I/ca.pem" &&
		(umask 077 && cp "$FX/ca.key" "$I/ca.key" && base64 -d "$FX/otp.key.b64" >"$I/otp.key") &&
		chmod 0600 "$I/ca.key" "$I/otp.key"
}
check "schema 5 instance rebuilt from tests/fixtures/schema5" rebuild
CRTOKEN_CONF=$I/crtoken.conf
export CRTOKEN_CONF
check_eq "fixture store is schema 5" 5 "$(q 'PRAGMA user_version')"
check "fixture store has the old column otp.user" q 'SELECT user FROM otp'

# The version today's main creates.
"$ADMIN" init --dir "$T/fresh" >/dev/null 2>&1
NEWV=$(sqlite3 "$T/fresh/crtoken.db" 'PRAGMA user_version')
rm -rf "$T/fresh"
check "today's schema is newer than 5 ($NEWV)" test "${NEWV:-0}" -gt 5

# ---------------------------------------------------------------- crtoken-admin
tokens=$("$ADMIN" token list --json 2>&1)
check_contains "token list shows the old redeemed token" '"old-alice"' "$tokens"
check_contains "token list shows the old unused token" '"old-unused-1"' "$tokens"
check_contains "token list shows the old owner-bound token" '"old-unused-2"' "$tokens"
check_eq "store migrated: PRAGMA user_version = $NEWV" "$NEWV" "$(q 'PRAGMA user_version')"
check "column otp.username exists" q 'SELECT username FROM otp'
check "column certificates.username exists" q 'SELECT username FROM certificates'
check_eq "alice's OTP row kept under username" alice "$(q 'SELECT username FROM otp')"
check_contains "audit has store.migrate" store.migrate "$("$ADMIN" audit --json 2>&1)"

ALICE=$(cat "$FX/alice.serial")
BOB=$(cat "$FX/bob.serial")
certs=$("$ADMIN" cert list --json 2>&1)
check_contains "cert list shows the old certificate" "$ALICE" "$certs"
check_contains "cert show: old certificate still valid" '"valid"' \
	"$("$ADMIN" cert show "$ALICE" --json 2>&1)"
check_contains "cert show: old revoked certificate still revoked" '"revoked"' \
	"$("$ADMIN" cert show "$BOB" --json 2>&1)"
tok=$("$ADMIN" token list --json | jget - "[t for t in d if t['name']=='old-alice'][0]")
check_contains "old token keeps its owner" '"owner": "alice"' "$tok"
check_contains "old token keeps its reply attribute" 'Reply-Message=hi old' "$tok"
check_contains "old token is used, with the old certificate's serial" "$ALICE" "$tok"

code=$(oathtool --totp -b "$(cat "$FX/otp-alice.base32")")
check "otp verify accepts alice's current TOTP code (old sealed secret)" \
	"$ADMIN" otp verify alice "$code"
check_fails "otp verify refuses the same code again (replay)" "$ADMIN" otp verify alice "$code"

# ---------------------------------------------------------------- crtokend
PORT=18720
URL=http://127.0.0.1:$PORT
check "crtokend config: loopback plain HTTP, no login" sh -c \
	'sed -i -e "s|^;*listen *=.*|listen = 127.0.0.1:'$PORT'|" -e "s|^;*plain_http *=.*|plain_http = yes|" \
		-e "s|^;*require_login *=.*|require_login = no|" "$CRTOKEN_CONF" &&
		grep -q "^require_login = no" "$CRTOKEN_CONF"'
if ! start_crtokend; then
	not_ok "crtokend started on the migrated store"
	finish
	exit 1
fi
ok "crtokend started on the migrated store"
KEY=$(cat "$FX/apikey")
areq GET /certificate-request-tokens
check_status "old API key authenticates (GET /certificate-request-tokens)" 200 -
check_contains "API lists the old tokens" old-unused-2 "$(cat "$T/body")"
req GET /certificate-request-tokens -H "Authorization: Bearer ${KEY%?}x"
check_status "a changed API key is refused" 401 -
csr_body newcar
redeem "$(cat "$FX/unused-1.token")" "$T/newcar.json"
check_status "old unused token redeemed through crtokend" 201 -
jget "$T/body" "d['certificate']" >"$T/newcar.pem"
check "the returned certificate chains to the old CA" \
	openssl verify -CAfile "$I/ca.pem" "$T/newcar.pem"
redeem "$(cat "$FX/unused-1.token")" "$T/newcar.json"
check_status "the same old token a second time: token_used" 409 token_used

# ---------------------------------------------------------------- rlm_crtoken
check "lab CA and radiusd server certificate (openssl)" rlm_lab_ca "$T"
cat "$I/ca.pem" "$T/lab-ca.pem" >"$T/client-cas.pem"
RLM_CRTOKEN_CONF=$CRTOKEN_CONF
RLM_SERVER_CERT=$T/server.pem
RLM_SERVER_KEY=$T/server.key
RLM_CLIENT_CAS=$T/client-cas.pem
cp "$FX/alice.pem" "$FX/alice.key" "$FX/bob.pem" "$FX/bob.key" "$T/"
chmod 0600 "$T/alice.key" "$T/bob.key"
auth() { rlm_eapol "$T/$1.pem" "$T/$1.key" "$T/$1.out" "$T/lab-ca.pem"; }
check "radiusd config with the shipped check-eap-tls sample" rlm_write_config "$T/raddb" crtoken
check "radiusd started (127.0.0.1:$RLM_PORT)" rlm_start "$T/raddb"
check_eq "old certificate: Access-Accept" accept "$(auth alice)"
check_contains "Access-Accept carries the old token's Reply-Message" "Value: 'hi old'" \
	"$(cat "$T/alice.out")"
check_eq "certificate revoked in the old store: Access-Reject" reject "$(auth bob)"
check_eq "certificate from the old token redeemed today: Access-Accept" accept "$(auth newcar)"
check "crtoken-admin cert revoke the old certificate" "$ADMIN" cert revoke "$ALICE"
check_eq "old certificate after revocation: Access-Reject" reject "$(auth alice)"
rlm_stop

http_finish
