#!/bin/sh
# t_selfservice.sh — issue 12: a key generated on behalf of the token's
# owner (crtoken-admin token issue, POST /certificate-request-tokens/{id}/issue),
# and what the owner does after the PAM login: GET /me/certificates,
# POST /me/certificates/{serial}/revoke (crtoken-enroll list / revoke).
# crtokend with a pam_matrix login gate, curl, crtoken-enroll, openssl.
# Ports 18920-18939.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

http_instance "$T/inst" 18920 || { not_ok "instance"; finish; exit 1; }
DB=$T/inst/crtoken.db
conf_set require_login yes
pam_matrix_service alice:alicepw bob:bobpw
PAM_SVC_DIR=$T/pam.d
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
apikey || { not_ok "api key"; finish; exit 1; }

# p12_from_body FILE : decode "pkcs12" of the last response into FILE.
p12_from_body() {
	jget "$T/body" "d['pkcs12']" | base64 -d >"$1"
}
# audit_last ACTION : the newest audit row of ACTION as "actor object detail".
audit_last() {
	"$ADMIN" audit --json --action "$1" --limit 1 | jget - \
		"d[0]['actor'] + ' ' + d[0]['object'] + ' ' + json.dumps(d[0]['detail'])"
}

# ------------------------------------------------------------ token issue (CLI)
"$ADMIN" token create --name laptop-alice --owner alice --json >"$T/tok.json"
TID=$(jget "$T/tok.json" "d['id']")
"$ADMIN" token issue "$TID" --generate ec-p384 --p12 "$T/cli.p12" --json >"$T/issue.json" 2>"$T/issue.err"
check_eq "token issue --generate ec-p384 exits 0" 0 $?
PASS=$(jget "$T/issue.json" "d['passphrase']")
CSERIAL=$(jget "$T/issue.json" "d['serial']")
check "without --passphrase-file a passphrase (>= 20 characters) is shown once" test "${#PASS}" -ge 20
check_eq "the PKCS#12 file is mode 0600" 600 "$(stat -c %a "$T/cli.p12")"
check "the PKCS#12 opens with the shown passphrase" \
	openssl pkcs12 -in "$T/cli.p12" -passin "pass:$PASS" -noout
openssl pkcs12 -in "$T/cli.p12" -passin "pass:$PASS" -nocerts -nodes -out "$T/cli.key" 2>/dev/null
openssl pkcs12 -in "$T/cli.p12" -passin "pass:$PASS" -nokeys -clcerts -out "$T/cli.crt" 2>/dev/null
check_contains "--generate ec-p384 made a P-384 key" "secp384r1" \
	"$(openssl pkey -in "$T/cli.key" -noout -text)"
check_eq "the key in the PKCS#12 matches its certificate" \
	"$(openssl pkey -in "$T/cli.key" -pubout)" "$(openssl x509 -in "$T/cli.crt" -noout -pubkey)"
check_eq "the certificate belongs to the token's owner" alice "$(jget "$T/issue.json" "d['user']")"
check_eq "the token is used" used "$("$ADMIN" token show "$TID" --json | jget - "d['state']")"
check_contains "audited as token.issue: the admin is the actor, the owner the user" \
	"admin:" "$(audit_last token.issue)"
check_contains "... with the owner as the subject" '"user": "alice"' "$(audit_last token.issue)"
check_contains "a certificate.issued event for the owner" "$CSERIAL" \
	"$("$ADMIN" events list --json | jget - "[e['event'] for e in d if e['type']=='certificate.issued'][0]")"
check_eq "neither the key nor the passphrase is in the store" 0 \
	"$(sqlite3 "$DB" .dump | grep -c -e 'PRIVATE KEY' -e "$PASS")"

"$ADMIN" token issue "$TID" --generate ec-p256 --p12 "$T/again.p12" 2>"$T/err"
check_eq "a used token issued again is refused (exit 1)" 1 $?
check_contains "... as token_used" token_used "$(cat "$T/err")"
check "... and no PKCS#12 file is written" test ! -e "$T/again.p12"

"$ADMIN" token create --name phone-alice --owner alice --json >"$T/tok2.json"
TID2=$(jget "$T/tok2.json" "d['id']")
printf 'correct horse\n' >"$T/pass.txt"
"$ADMIN" token issue "$TID2" --generate rsa-2048 --p12 "$T/cli.p12" --passphrase-file "$T/pass.txt" 2>"$T/err"
check_eq "an existing --p12 FILE is refused before the token is spent" \
	"1 active" "$? $("$ADMIN" token show "$TID2" --json | jget - "d['state']")"
"$ADMIN" token issue "$TID2" --generate dsa-1024 --p12 "$T/dsa.p12" 2>"$T/err"
check_contains "an unknown key type is key_type_invalid" key_type_invalid "$(cat "$T/err")"
check_eq "... and the token stays active" active "$("$ADMIN" token show "$TID2" --json | jget - "d['state']")"
"$ADMIN" token issue "$TID2" --generate ec-p256 --p12 "$T/x.p12" --passphrase-file "$T/nofile" 2>"$T/err"
check_eq "an unreadable --passphrase-file: exit 4 io_error, nothing spent" "4 1 active" \
	"$? $(grep -c io_error "$T/err") $("$ADMIN" token show "$TID2" --json | jget - "d['state']")"
"$ADMIN" token issue "$TID2" --generate rsa-2048 --p12 "$T/rsa.p12" --passphrase-file "$T/pass.txt" >"$T/out" 2>&1
check_eq "--passphrase-file: issued (exit 0)" 0 $?
check "the PKCS#12 opens with the passphrase from the file" \
	openssl pkcs12 -in "$T/rsa.p12" -passin "pass:correct horse" -noout
check_eq "no passphrase is printed when it came from a file" 0 "$(grep -c passphrase "$T/out")"
"$ADMIN" token issue no-such-token --generate ec-p256 --p12 "$T/y.p12" 2>"$T/err"
check_eq "an unknown token id: exit 3 token_not_found" "3 1" \
	"$? $(grep -c token_not_found "$T/err")"

# ------------------------------------------------------------ issue over REST
new_token rest-bob '"owner":"bob"'
BTID=$TOKEN_ID
BTOKEN=$TOKEN
req POST "/certificate-request-tokens/$BTID/issue" -H 'Content-Type: application/json' \
	--data-binary '{"type":"GENERATE"}'
check_status "attack_issue_without_admin_key: no API key is 401" 401 authentication_required
req POST "/certificate-request-tokens/$BTID/issue" -H 'Content-Type: application/json' \
	--data-binary '{"type":"GENERATE"}' -u bob:bobpw
check_status "attack_issue_without_admin_key: the owner's PAM login is no API key (401)" 401 authentication_required
req POST "/certificate-request-tokens/$BTID/issue" -H 'Content-Type: application/json' \
	--data-binary '{"type":"GENERATE"}' -H "Authorization: Bearer crk_notakey"
check_status "attack_issue_without_admin_key: a wrong API key is 401" 401 authentication_failed
check_eq "... and the token is still active" active \
	"$("$ADMIN" token show "$BTID" --json | jget - "d['state']")"
ajreq POST "/certificate-request-tokens/$BTID/issue" '{"type":"CSR"}'
check_status "type CSR is not an issue (400)" 400 request_invalid
ajreq POST "/certificate-request-tokens/$BTID/issue" '{"type":"GENERATE","keyType":"ec-p256","passphrase":"tr0ub4dor"}'
check_status "POST .../issue with the API key is 201" 201 -
BSERIAL=$(jget "$T/body" "d['serial']")
check_eq "the certificate belongs to bob" bob "$(jget "$T/body" "d['user']")"
check_eq "no passphrase is echoed when the admin chose it" false "$(jget "$T/body" "'passphrase' in d")"
p12_from_body "$T/bob.p12"
check "bob's PKCS#12 opens with the passphrase" openssl pkcs12 -in "$T/bob.p12" -passin pass:tr0ub4dor -noout
check_contains "audited with the API key as actor" "apikey:" "$(audit_last token.issue)"
ajreq POST "/certificate-request-tokens/$BTID/issue" '{"type":"GENERATE"}'
check_status "a used token issued again is 409 token_used" 409 token_used
redeem "$BTOKEN" /dev/null
csr_body bobcsr
redeem "$BTOKEN" "$T/bobcsr.json" -u bob:bobpw
check_status "... and its token string no longer redeems (409 token_used)" 409 token_used
ajreq POST "/certificate-request-tokens/token-nope/issue" '{"type":"GENERATE"}'
check_status "an unknown token id is 404" 404 token_not_found

http_finish
