#!/bin/sh
# t_selfservice.sh — issue 12: a key generated on behalf of the token's
# owner (crtoken-admin token issue, POST /certificate-request-tokens/{id}/issue),
# and what the owner does after the PAM login: GET /me/certificates,
# POST /me/certificates/{serial}/revoke, GET /me/certificates/{serial}/pkcs12
# (crtoken-enroll list / revoke / pkcs12).
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

# ------------------------------------------------------------ /me/certificates
# A redemption with a CSR by alice's login (a token without an owner: the
# certificate is hers because she logged in).
new_token anyone
csr_body alicecsr
redeem "$TOKEN" "$T/alicecsr.json" -u alice:alicepw
check_status "alice redeems a token without an owner with her login (201)" 201 -
ASERIAL=$(jget "$T/body" "d['serial']")
jget "$T/body" "d['certificate']" >"$T/alicecsr.pem"
req GET /me/certificates
check_status "GET /me/certificates without a login is 401" 401 authentication_required
req GET /me/certificates -u alice:wrong
check_status "... with a wrong one-time password 401" 401 authentication_failed
req GET /me/certificates -u alice:alicepw
check_status "GET /me/certificates with alice's login is 200" 200 -
MINE=$(jget "$T/body" "' '.join(sorted(c['serial'] for c in d))")
PSERIAL=$("$ADMIN" token show "$TID2" --json | jget - "d['serial']")
check_eq "alice sees her three certificates: issued for her twice, redeemed once" \
	"$(printf '%s\n' "$ASERIAL" "$CSERIAL" "$PSERIAL" | sort | paste -sd' ')" "$MINE"
check_eq "bob's certificate is not among them" 0 "$(printf '%s' "$MINE" | grep -c "$BSERIAL")"
check_eq "each shows status, validity, profile and last seen" \
	"valid default True True None" \
	"$(jget "$T/body" "' '.join(str(x) for x in [d[0]['status'], d[0]['profile'], d[0]['notBefore'] is not None, d[0]['notAfter'] is not None, d[0]['lastSeen']])")"
req GET /me/certificates -u bob:bobpw
check_eq "bob sees only his own" "[\"$BSERIAL\"]" "$(jget "$T/body" "[c['serial'] for c in d]")"
# Paging (page, size, sort), cut by the store: only the user's own, counted.
req GET "/me/certificates?page=1&size=2" -u alice:alicepw
check_status "GET /me/certificates?page=1&size=2 is 200" 200 -
check_eq "... a page of alice's: two items, page 1, size 2, total 3 (bob's not counted)" "2 1 2 3" \
	"$(jget "$T/body" "' '.join(str(x) for x in [len(d['items']), d['page'], d['size'], d['total']])")"
P1=$(jget "$T/body" "' '.join(c['serial'] for c in d['items'])")
check_eq "... each item as in the list, pkcs12Available too" True \
	"$(jget "$T/body" "str(all('pkcs12Available' in c and 'status' in c for c in d['items']))")"
req GET "/me/certificates?page=2&size=2" -u alice:alicepw
P2=$(jget "$T/body" "' '.join(c['serial'] for c in d['items'])")
check_eq "... the two pages are her three certificates, each once" "$MINE" \
	"$(printf '%s %s' "$P1" "$P2" | tr ' ' '\n' | sort | paste -sd' ')"
req GET "/me/certificates?sort=-serial" -u alice:alicepw
check_eq "... sort=-serial: by serial, descending" \
	"$(printf '%s\n' "$ASERIAL" "$CSERIAL" "$PSERIAL" | sort -r | paste -sd' ')" \
	"$(jget "$T/body" "' '.join(c['serial'] for c in d['items'])")"
req GET "/me/certificates?page=1" -u bob:bobpw
check_eq "bob's page counts only his own" "1 $BSERIAL" \
	"$(jget "$T/body" "str(d['total']) + ' ' + ' '.join(c['serial'] for c in d['items'])")"
req GET "/me/certificates?sort=user" -u alice:alicepw
check_status "a sort field the list does not have is 400 sort_invalid" 400 sort_invalid
req GET "/me/certificates?page=0" -u alice:alicepw
check_status "page 0 is 400 page_invalid" 400 page_invalid
req GET "/me/certificates?page=1"
check_status "a page without the login is 401" 401 authentication_required

# attack_me_revoke_other_users_cert: bob names alice's serial.
jreq POST "/me/certificates/$ASERIAL/revoke" '{"reason":"keyCompromise"}' -u bob:bobpw
check_status "attack_me_revoke_other_users_cert: another user's serial is 404 cert_not_found" 404 cert_not_found
cp "$T/body" "$T/other.body"
jreq POST "/me/certificates/0123456789abcdef0123456789abcdef/revoke" '{"reason":"keyCompromise"}' -u bob:bobpw
check_status "a serial never issued is the same 404" 404 cert_not_found
check_eq "attack_me_revoke_other_users_cert: both answers are the same bytes (nothing tells them apart)" \
	"$(cat "$T/body")" "$(cat "$T/other.body")"
check_eq "attack_me_revoke_other_users_cert: alice's certificate is still valid" valid \
	"$("$ADMIN" cert show "$ASERIAL" --json | jget - "d['status']")"
check_contains "the attempt is audited as cert.revoke_refused by bob" \
	"bob $ASERIAL cert_not_found" \
	"$("$ADMIN" audit --json --action cert.revoke_refused --limit 2 | jget - \
		"' '.join(r['actor'] + ' ' + r['object'] + ' ' + r['detail']['code'] for r in d)")"
jreq POST "/me/certificates/$ASERIAL/revoke" '{"reason":"superseded"}' -u alice:alicepw
check_status "a user revokes only with keyCompromise or cessationOfOperation (400)" 400 revocation_reason_invalid
jreq POST "/me/certificates/$ASERIAL/revoke" '{}' -u alice:alicepw
check_status "the reason is required (400)" 400 request_invalid
jreq POST "/me/certificates/$ASERIAL/revoke" '{"reason":"keyCompromise"}'
check_status "revoking without a login is 401" 401 authentication_required
jreq POST "/me/certificates/$ASERIAL/revoke" '{"reason":"keyCompromise"}' -u alice:alicepw
check_status "alice revokes her own certificate (200)" 200 -
check_eq "... answered as revoked, keyCompromise" "revoked keyCompromise" \
	"$(jget "$T/body" "d['status'] + ' ' + d['revocationReason']")"
check_contains "audited as cert.revoke with alice as the actor" "alice $ASERIAL" \
	"$(audit_last cert.revoke)"
check_contains "a certificate.revoked event" "$ASERIAL" \
	"$("$ADMIN" events list --json | jget - "[e['event'] for e in d if e['type']=='certificate.revoked'][0]")"
req GET /crl
openssl crl -inform DER -in "$T/body" -noout -text >"$T/crl.txt" 2>&1
check_contains "the CRL lists it at once" "$(printf '%s' "$ASERIAL" | tr a-f A-F)" "$(cat "$T/crl.txt")"
check_contains "OCSP answers revoked at once" "$T/alicecsr.pem: revoked" \
	"$(openssl ocsp -issuer "$T/inst/ca.pem" -cert "$T/alicecsr.pem" -url "$URL/ocsp" \
		-CAfile "$T/inst/ca.pem" -no_nonce 2>&1)"
jreq POST "/me/certificates/$ASERIAL/revoke" '{"reason":"cessationOfOperation"}' -u alice:alicepw
check_status "revoking it again is 409 cert_revoked" 409 cert_revoked

# ------------------------------------------------------------ crtoken-enroll list / revoke
printf 'alicepw\n' >"$T/otp.txt"
"$ENROLL" list --server "$URL" --user alice --otp-file "$T/otp.txt" >"$T/list.out" 2>"$T/list.err"
check_eq "crtoken-enroll list exits 0" 0 $?
check_contains "... and lists alice's certificates" "$CSERIAL" "$(cat "$T/list.out")"
check_contains "... with their status" "revoked" "$(grep "$ASERIAL" "$T/list.out")"
check_eq "... and not bob's" 0 "$(grep -c "$BSERIAL" "$T/list.out")"
CRTOKEN_OTP=alicepw "$ENROLL" list --server "$URL" --user alice --json >"$T/list.json"
check_eq "crtoken-enroll list --json prints the list" 3 "$(jget "$T/list.json" "len(d)")"
"$ENROLL" list --server "$URL" --user alice --otp-file "$T/otp.txt" --size 2 >"$T/list.out"
check_contains "crtoken-enroll list --size 2: one page of the server's, saying how many in all" \
	"page 1 of 2, 3 certificates in all; the next: --page 2" "$(cat "$T/list.out")"
check_eq "... two rows on it (below the header)" 2 "$(sed 1d "$T/list.out" | grep -vc '^page ')"
"$ENROLL" list --server "$URL" --user alice --otp-file "$T/otp.txt" --size 2 --page 2 --json \
	>"$T/list2.json"
check_eq "... --page 2 --json: the third one" 1 "$(jget "$T/list2.json" "len(d)")"
"$ENROLL" list --server "$URL" --user alice --otp-file "$T/otp.txt" --size 501 2>/dev/null
check_eq "... --size 501 is a usage error (exit 2)" 2 $?
"$ENROLL" revoke "$BSERIAL" --reason keyCompromise --server "$URL" --user alice \
	--otp-file "$T/otp.txt" >"$T/rv.out" 2>"$T/rv.err"
check_eq "crtoken-enroll revoke of bob's certificate by alice fails (exit 1)" 1 $?
check_contains "... as cert_not_found" cert_not_found "$(cat "$T/rv.err")"
check_eq "... and bob's certificate is still valid" valid \
	"$("$ADMIN" cert show "$BSERIAL" --json | jget - "d['status']")"
CRTOKEN_OTP=bobpw "$ENROLL" revoke "$BSERIAL" --reason cessationOfOperation --server "$URL" \
	--user bob >"$T/rv.out" 2>"$T/rv.err"
check_eq "crtoken-enroll revoke of his own certificate by bob exits 0" 0 $?
check_contains "... and says so" "Revoked $BSERIAL (cessationOfOperation)" "$(cat "$T/rv.out")"
"$ENROLL" revoke "$BSERIAL" --reason superseded --server "$URL" --user bob --otp-file "$T/otp.txt" 2>/dev/null
check_eq "crtoken-enroll revoke --reason superseded is a usage error (exit 2)" 2 $?
"$ENROLL" revoke "zz;/../x" --reason keyCompromise --server "$URL" --user bob --otp-file "$T/otp.txt" 2>/dev/null
check_eq "a serial that is not hex never reaches the URL (exit 2)" 2 $?
"$ENROLL" list --server "http://127.0.0.1@evil.invalid/" --user bob --otp-file "$T/otp.txt" 2>/dev/null
check_eq "plain http elsewhere than this host is refused (exit 2)" 2 $?

# ------------------------------------------------------------ require_login = no
stop_crtokend
conf_set require_login no
start_crtokend || { not_ok "crtokend restarts"; http_finish; exit 1; }
req GET /me/certificates
check_status "with require_login = no, /me still needs the login (401)" 401 authentication_required
req GET /me/certificates -u alice:alicepw
check_status "... and takes it (200)" 200 -

# ------------------------------------------------------------ [generate] keep_pkcs12
check_eq "with keep_pkcs12 = no (the default) no PKCS#12 was kept" 0 \
	"$(sqlite3 "$DB" 'SELECT count(*) FROM kept_pkcs12')"
req GET "/me/certificates/$PSERIAL/pkcs12" -u alice:alicepw
check_status "... and downloading one is 404 pkcs12_not_kept" 404 pkcs12_not_kept
stop_crtokend
conf_set require_login yes && conf_set keep_pkcs12 yes
start_crtokend || { not_ok "crtokend restarts"; http_finish; exit 1; }
new_token kept-alice '"owner":"alice"'
ajreq POST "/certificate-request-tokens/$TOKEN_ID/issue" '{"type":"GENERATE","passphrase":"s3cret pass"}'
check_status "issue with keep_pkcs12 = yes is 201" 201 -
KSERIAL=$(jget "$T/body" "d['serial']")
p12_from_body "$T/issued.p12"
check_contains "the redemption's audit row says the PKCS#12 was kept" '"pkcs12Kept": true' \
	"$(audit_last token.issue)"
check_eq "one sealed row is kept, for alice" "1|alice" \
	"$(sqlite3 "$DB" "SELECT count(*), owner FROM kept_pkcs12 WHERE serial = '$KSERIAL'")"
check_eq "the stored bytes are not the PKCS#12 (sealed: 29 bytes longer, not its DER)" \
	"$(($(stat -c %s "$T/issued.p12") + 29)) 0" \
	"$(sqlite3 "$DB" "SELECT length(sealed) FROM kept_pkcs12 WHERE serial = '$KSERIAL'") $(sqlite3 "$DB" "SELECT hex(sealed) FROM kept_pkcs12" | grep -c "$(od -An -tx1 -N24 "$T/issued.p12" | tr -d ' \n' | tr a-f A-F)")"
req GET "/me/certificates/$KSERIAL/pkcs12" -u alice:alicepw
check_status "alice downloads it again after the login (200)" 200 -
check_eq "... as application/x-pkcs12" "application/x-pkcs12" "$(header Content-Type)"
cp "$T/body" "$T/again.p12"
check "the downloaded PKCS#12 is the one issued, byte for byte" cmp "$T/again.p12" "$T/issued.p12"
check "... still protected by its passphrase" \
	openssl pkcs12 -in "$T/again.p12" -passin "pass:s3cret pass" -noout
check_fails "... and by no other" openssl pkcs12 -in "$T/again.p12" -passin pass:wrong -noout
check_contains "the download is audited (cert.pkcs12_download by alice)" "alice $KSERIAL" \
	"$(audit_last cert.pkcs12_download)"
req GET "/me/certificates/$KSERIAL/pkcs12"
check_status "no download without the login (401)" 401 authentication_required
req GET "/me/certificates/$KSERIAL/pkcs12" -u bob:bobpw
check_status "attack_me_download_other_users_pkcs12: another user's serial is 404 cert_not_found" \
	404 cert_not_found
cp "$T/body" "$T/other.body"
req GET "/me/certificates/0123456789abcdef0123456789abcdef/pkcs12" -u bob:bobpw
check_eq "attack_me_download_other_users_pkcs12: the same answer as a serial never issued" \
	"$(cat "$T/body")" "$(cat "$T/other.body")"
check_contains "attack_me_download_other_users_pkcs12: audited as refused" "bob $KSERIAL" \
	"$("$ADMIN" audit --json --action cert.pkcs12_download_refused --limit 2 | jget - \
		"' '.join(r['actor'] + ' ' + r['object'] for r in d)")"
new_token gen-alice
jreq POST "/client-certificates/token/$TOKEN" '{"type":"GENERATE","passphrase":"p2"}' -u alice:alicepw
check_status "a GENERATE redemption by alice's login is 201" 201 -
GSERIAL=$(jget "$T/body" "d['serial']")
req GET "/me/certificates/$GSERIAL/pkcs12" -u alice:alicepw
check_status "... and its PKCS#12 is kept for her too" 200 -
new_token csr-alice
csr_body alicecsr2
redeem "$TOKEN" "$T/alicecsr2.json" -u alice:alicepw
C2=$(jget "$T/body" "d['serial']")
req GET "/me/certificates/$C2/pkcs12" -u alice:alicepw
check_status "a certificate whose key was made on the device has none (404 pkcs12_not_kept)" 404 pkcs12_not_kept
req GET /me/certificates -u alice:alicepw
check_eq "GET /me/certificates says which have a kept PKCS#12 (pkcs12Available)" "True True False" \
	"$(jget "$T/body" "' '.join(str({c['serial']: c['pkcs12Available'] for c in d}[s]) for s in ['$KSERIAL', '$GSERIAL', '$C2'])")"
check_eq "... a boolean on every item" True \
	"$(jget "$T/body" "str(all(isinstance(c['pkcs12Available'], bool) for c in d))")"
check_eq "... false for the certificates issued while keep_pkcs12 was off" False \
	"$(jget "$T/body" "str({c['serial']: c['pkcs12Available'] for c in d}['$PSERIAL'])")"
"$ENROLL" list --server "$URL" --user alice --otp-file "$T/otp.txt" >"$T/list.out"
check_contains "crtoken-enroll list marks it kept" "kept" "$(grep "$KSERIAL" "$T/list.out")"
check_eq "... and not the one made on the device" 0 "$(grep "$C2" "$T/list.out" | grep -c kept)"

# ------------------------------------------------------------ crtoken-enroll pkcs12
"$ENROLL" pkcs12 "$KSERIAL" --out "$T/dl.p12" --server "$URL" --user alice \
	--otp-file "$T/otp.txt" >"$T/dl.out" 2>"$T/dl.err"
check_eq "crtoken-enroll pkcs12 SERIAL --out FILE exits 0" 0 $?
check "... and writes the kept PKCS#12, byte for byte" cmp "$T/dl.p12" "$T/issued.p12"
check_eq "... with mode 0600" 600 "$(stat -c %a "$T/dl.p12")"
check_contains "... and says where" "$T/dl.p12" "$(cat "$T/dl.out")"
check_contains "the download is audited server side (cert.pkcs12_download by alice)" \
	"alice $KSERIAL" "$(audit_last cert.pkcs12_download)"
check_eq "... one audit row per download (two so far)" 2 \
	"$("$ADMIN" audit --json --action cert.pkcs12_download | jget - "len([r for r in d if r['object'] == '$KSERIAL'])")"
"$ENROLL" pkcs12 "$KSERIAL" --out "$T/dl.p12" --server "$URL" --user alice \
	--otp-file "$T/otp.txt" >/dev/null 2>"$T/dl.err"
check_eq "an existing --out FILE is refused without --force (exit 4)" 4 $?
check_contains "... and says so" "use --force" "$(cat "$T/dl.err")"
check_eq "... before the login: no download audited" 2 \
	"$("$ADMIN" audit --json --action cert.pkcs12_download | jget - "len([r for r in d if r['object'] == '$KSERIAL'])")"
printf 'victim\n' >"$T/victim"
ln -s "$T/victim" "$T/link.p12"
"$ENROLL" pkcs12 "$KSERIAL" --out "$T/link.p12" --force --server "$URL" --user alice \
	--otp-file "$T/otp.txt" >/dev/null 2>"$T/dl.err"
check_eq "attack_pkcs12_out_symlink: a symlink at --out is refused, even with --force (exit 4)" 4 $?
check_contains "... and says so" "symbolic link" "$(cat "$T/dl.err")"
check_eq "attack_pkcs12_out_symlink: the file it points to is untouched" victim "$(cat "$T/victim")"
check "attack_pkcs12_out_symlink: the symlink is left as it was" test -L "$T/link.p12"
check_eq "... refused before the login: no download audited" 2 \
	"$("$ADMIN" audit --json --action cert.pkcs12_download | jget - "len([r for r in d if r['object'] == '$KSERIAL'])")"
CRTOKEN_OTP=bobpw "$ENROLL" pkcs12 "$KSERIAL" --out "$T/bob-dl.p12" --server "$URL" \
	--user bob >/dev/null 2>"$T/dl.err"
check_eq "attack_me_download_other_users_pkcs12: crtoken-enroll pkcs12 of alice's serial by bob fails (exit 1)" 1 $?
check_contains "... as cert_not_found" cert_not_found "$(cat "$T/dl.err")"
check "... and writes nothing" test ! -e "$T/bob-dl.p12"
"$ENROLL" pkcs12 "$C2" --out "$T/c2.p12" --server "$URL" --user alice \
	--otp-file "$T/otp.txt" >/dev/null 2>"$T/dl.err"
check_eq "crtoken-enroll pkcs12 of a certificate with none kept: exit 1 pkcs12_not_kept, no file" \
	"1 1 no" "$? $(grep -c pkcs12_not_kept "$T/dl.err") $(test -e "$T/c2.p12" && echo yes || echo no)"
"$ENROLL" pkcs12 "$KSERIAL" --server "$URL" --user alice --otp-file "$T/otp.txt" 2>/dev/null
check_eq "crtoken-enroll pkcs12 without --out is a usage error (exit 2)" 2 $?
"$ENROLL" pkcs12 "../../x" --out "$T/x.p12" --server "$URL" --user alice --otp-file "$T/otp.txt" 2>/dev/null
check_eq "a serial that is not hex never reaches the URL (exit 2)" 2 $?
"$ENROLL" pkcs12 "$KSERIAL" --out "$T/nodir/x.p12" --server "$URL" --user alice \
	--otp-file "$T/otp.txt" 2>/dev/null
check_eq "an --out FILE in a directory that is not there: exit 4" 4 $?

jreq POST "/me/certificates/$KSERIAL/revoke" '{"reason":"keyCompromise"}' -u alice:alicepw
check_status "alice revokes the certificate" 200 -
check_eq "the revocation removed its kept PKCS#12 (in the same transaction)" 0 \
	"$(sqlite3 "$DB" "SELECT count(*) FROM kept_pkcs12 WHERE serial = '$KSERIAL'")"
check_contains "... and its audit row says so" '"pkcs12Removed": true' "$(audit_last cert.revoke)"
req GET "/me/certificates/$KSERIAL/pkcs12" -u alice:alicepw
check_status "a revoked certificate's PKCS#12 is no longer downloaded (404 pkcs12_not_kept)" 404 pkcs12_not_kept
req GET /me/certificates -u alice:alicepw
check_eq "... and pkcs12Available is false for it" False \
	"$(jget "$T/body" "str({c['serial']: c['pkcs12Available'] for c in d}['$KSERIAL'])")"
"$ENROLL" pkcs12 "$KSERIAL" --out "$T/late.p12" --server "$URL" --user alice \
	--otp-file "$T/otp.txt" >/dev/null 2>"$T/dl.err"
check_eq "crtoken-enroll pkcs12 after the revocation: exit 1 pkcs12_not_kept, no file" \
	"1 1 no" "$? $(grep -c pkcs12_not_kept "$T/dl.err") $(test -e "$T/late.p12" && echo yes || echo no)"

http_finish
