#!/bin/sh
# t_http_enroll.sh — crtoken-enroll end to end against crtokend with the login
# gate on (pam_matrix): key made locally, login when asked, files written
# (key 0600), PKCS#12, and a clear message + exit status for each refusal.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

http_instance "$T/inst" 18446 || { not_ok "instance"; finish; exit 1; }
DB=$T/inst/crtoken.db
conf_set require_login yes
pam_matrix_service alice:alicepw bob:bobpw
PAM_SVC_DIR=$T/pam.d
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
apikey || { not_ok "api key"; finish; exit 1; }
mkdir -p "$T/out"

# enroll [args...] : run crtoken-enroll without a terminal; stdout in
# $T/enroll.out, stderr in $T/enroll.err, status in $RC.
enroll() {
	setsid -w "$ENROLL" --server "$URL" "$@" >"$T/enroll.out" 2>"$T/enroll.err" </dev/null
	RC=$?
}
requests() { grep -c '"POST /client-certificates' "$T/crtokend.log"; }

new_token laptop '"owner":"alice"' '"commonName":"alice"'
CRTOKEN_OTP=alicepw CRTOKEN_P12_PASSPHRASE=p12pass \
	enroll --token "$TOKEN" --user alice --out-dir "$T/out" --p12 "$T/out/alice.p12"
check_eq "enrollment succeeds (exit 0)" 0 "$RC"
[ "$RC" = 0 ] || sed 's/^/#   /' "$T/enroll.err"
SERIAL=$(sqlite3 "$DB" "SELECT serial FROM certificates WHERE token_id='$TOKEN_ID'")
check_contains "prints the serial" "serial:      $SERIAL" "$(cat "$T/enroll.out")"
check_contains "prints the subject" "subject:     /CN=alice" "$(cat "$T/enroll.out")"
check_contains "prints the expiry" "expires:     20" "$(cat "$T/enroll.out")"
check_eq "the key file is 0600" 600 "$(stat -c %a "$T/out/laptop.key")"
check_eq "the key matches the certificate" \
	"$(openssl pkey -in "$T/out/laptop.key" -pubout)" \
	"$(openssl x509 -in "$T/out/laptop.crt" -noout -pubkey)"
check "the certificate verifies with the saved chain" \
	openssl verify -CAfile "$T/out/laptop-chain.pem" "$T/out/laptop.crt"
check_eq "the private key never reached the server" 0 \
	"$(db_dump | grep -c "$(sed -n 2p "$T/out/laptop.key")")"
check "the PKCS#12 opens with its passphrase" \
	openssl pkcs12 -in "$T/out/alice.p12" -passin pass:p12pass -noout
check_eq "the PKCS#12 is 0600" 600 "$(stat -c %a "$T/out/alice.p12")"
check_eq "the PKCS#12 key is the device key" \
	"$(openssl pkey -in "$T/out/laptop.key" -pubout)" \
	"$(openssl pkcs12 -in "$T/out/alice.p12" -passin pass:p12pass -nocerts -nodes 2>/dev/null | openssl pkey -pubout)"
check_eq "the user logged in as alice" alice \
	"$(sqlite3 "$DB" "SELECT username FROM certificates WHERE serial='$SERIAL'")"

before=$(requests)
enroll --token "crt_$(printf '%s' "${TOKEN#crt_}" | tr 'A-Za-z' 'B-ZAb-za')" --out-dir "$T/out"
check_eq "a mistyped token is refused locally (exit 1)" 1 "$RC"
check_contains "... with the mistyped message" "token_mistyped: the token is mistyped" "$(cat "$T/enroll.err")"
check_eq "... before any request" "$before" "$(requests)"
enroll --token hello --out-dir "$T/out"
check_contains "a non-token is token_malformed" "token_malformed" "$(cat "$T/enroll.err")"

CRTOKEN_OTP=alicepw enroll --token "$TOKEN" --user alice --out-dir "$T/out" --name again
check_eq "a used token exits 1" 1 "$RC"
check_contains "... and says it was used" "already been used" "$(cat "$T/enroll.err")"
check_eq "... and writes no files" 0 "$(ls "$T/out" | grep -c again)"

new_token owned '"owner":"alice"'
CRTOKEN_OTP=bobpw enroll --token "$TOKEN" --user bob --out-dir "$T/out" --name bob
check_eq "another user's token exits 1" 1 "$RC"
check_contains "... and says whose it is" "made for another user" "$(cat "$T/enroll.err")"
CRTOKEN_OTP=nope enroll --token "$TOKEN" --user alice --out-dir "$T/out" --name x
check_contains "a wrong one-time password says login failed" "authentication_failed: login failed" \
	"$(cat "$T/enroll.err")"
before=$(requests)
enroll --token "$TOKEN" --user alice --out-dir "$T/out" --name x
check_eq "a login request without a terminal or CRTOKEN_OTP exits 2" 2 "$RC"
check_contains "... and says how to give the code" "CRTOKEN_OTP" "$(cat "$T/enroll.err")"
check_eq "... after exactly one probe request" $((before + 1)) "$(requests)"
enroll --token "$TOKEN" --user alice --out-dir "$T/out" --name x --no-login
check_contains "--no-login against a gated server: authentication_required" \
	"authentication_required" "$(cat "$T/enroll.err")"
enroll --token "$TOKEN" --key-type dsa --out-dir "$T/out"
check_eq "an unknown key type is a usage error (exit 2)" 2 "$RC"
CRTOKEN_OTP=alicepw enroll --token "$TOKEN" --user alice --out-dir "$T/out" --name laptop
check_eq "existing files are not replaced without --force (exit 2)" 2 "$RC"
areq GET "/certificate-request-tokens/$TOKEN_ID"
check_eq "... and the token was not spent" active "$(jget "$T/body" "d['state']")"
CRTOKEN_OTP=alicepw enroll --token "$TOKEN" --user alice --out-dir "$T/out" --name rsa \
	--key-type rsa-2048 --ou Lab
check_eq "rsa-2048 with an OU override succeeds" 0 "$RC"
check_contains "the key is RSA 2048" "Private-Key: (2048 bit" \
	"$(openssl pkey -in "$T/out/rsa.key" -noout -text)"
check_contains "the OU override is in the certificate" "OU = Lab" \
	"$(openssl x509 -in "$T/out/rsa.crt" -noout -subject -nameopt oneline)"

# On a terminal: the server asks for a login, the code is read without echo.
new_token tty
$PY "$TOP/tests/integration/ptydrive.py" "One-time password: " alicepw -- "$ENROLL" --server "$URL" \
	--token "$TOKEN" --user alice --out-dir "$T/out" --name tty >"$T/tty.out" 2>&1
check_contains "on a terminal the one-time password is asked for, and enrollment succeeds" \
	"EXIT 0" "$(cat "$T/tty.out")"
check_eq "... the answer is not echoed" 0 "$(grep -c alicepw "$T/tty.out")"
new_token tty2
$PY "$TOP/tests/integration/ptydrive.py" "Password: " alicepw "One-time password: " 123456 -- "$ENROLL" \
	--server "$URL" --token "$TOKEN" --user alice --out-dir "$T/out" --name tty2 --password \
	>"$T/tty2.out" 2>&1
check_contains "--password asks for the password, then the one-time password" \
	"Password: One-time password: " "$(tr -d '\r\n' <"$T/tty2.out")"
check_contains "... and \"password<LF>code\" passes a one-prompt stack on its first line" \
	"EXIT 0" "$(cat "$T/tty2.out")"

conf_set require_login no
reload_crtokend
new_token open
before=$(requests)
enroll --token "$TOKEN" --out-dir "$T/out" --name open
check_eq "a server without the gate: no login asked, one request" "0 $((before + 1))" "$RC $(requests)"
enroll --server "http://enroll.example.org:8443" --token "$TOKEN" --out-dir "$T/out" --name y
check_eq "plain http to another host is refused before sending anything (exit 2)" 2 "$RC"
check_contains "... saying to use https" "use https://" "$(cat "$T/enroll.err")"
enroll --server "http://127.0.0.1:1" --token "$TOKEN" --out-dir "$T/out" --name y
check_eq "an unreachable server exits 4" 4 "$RC"
check_eq "the token never appears in client messages" 0 \
	"$(cat "$T/enroll.out" "$T/enroll.err" | grep -c -- "$TOKEN")"
http_finish
