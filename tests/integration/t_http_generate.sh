#!/bin/sh
# t_http_generate.sh — redemption with server-side key generation
# ("type":"GENERATE"): the PKCS#12 opens with openssl using the passphrase,
# holds a key matching the certificate plus the CA chain, uses AES-256-CBC
# with PBKDF2 and a SHA-256 MAC; a generated passphrase is returned once;
# the private key and passphrase are never stored or logged.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

http_instance "$T/inst" 18445 || { not_ok "instance"; finish; exit 1; }
DB=$T/inst/crtoken.db
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
apikey || { not_ok "api key"; finish; exit 1; }

# p12_from_body FILE : decode "pkcs12" of the last response into FILE.
p12_from_body() {
	jget "$T/body" "d['pkcs12']" | base64 -d >"$1"
}

new_token gen '"commonName":"printer-1"'
GID=$TOKEN_ID
jreq POST "/client-certificates/token/$TOKEN" '{"type":"GENERATE","passphrase":"correct horse battery"}'
check_status "GENERATE with a passphrase is 201" 201 -
check_eq "no passphrase is echoed when the client chose it" false "$(jget "$T/body" "'passphrase' in d")"
check_eq "the certificate is returned too" True \
	"$(jget "$T/body" "str('BEGIN CERTIFICATE' in d['certificate'])")"
SERIAL=$(jget "$T/body" "d['serial']")
p12_from_body "$T/a.p12"
check "the PKCS#12 opens with the passphrase" \
	openssl pkcs12 -in "$T/a.p12" -passin "pass:correct horse battery" -noout
check_fails "the PKCS#12 does not open with another passphrase" \
	openssl pkcs12 -in "$T/a.p12" -passin pass:wrong -noout
openssl pkcs12 -in "$T/a.p12" -passin "pass:correct horse battery" -nocerts -nodes -out "$T/a.key" 2>/dev/null
openssl pkcs12 -in "$T/a.p12" -passin "pass:correct horse battery" -nokeys -clcerts -out "$T/a.crt" 2>/dev/null
openssl pkcs12 -in "$T/a.p12" -passin "pass:correct horse battery" -nokeys -cacerts -out "$T/a.ca" 2>/dev/null
check_eq "the key in the PKCS#12 matches its certificate" \
	"$(openssl pkey -in "$T/a.key" -pubout)" "$(openssl x509 -in "$T/a.crt" -noout -pubkey)"
check_eq "the certificate in the PKCS#12 is the issued one" "$(printf '%s' "$SERIAL" | sed 's/^0*//')" \
	"$(openssl x509 -in "$T/a.crt" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//')"
check "the PKCS#12 carries the CA chain" \
	openssl verify -CAfile "$T/a.ca" "$T/a.crt"
check_contains "default key type is P-256" "prime256v1" \
	"$(openssl pkey -in "$T/a.key" -noout -text)"
INFO=$(openssl pkcs12 -in "$T/a.p12" -passin "pass:correct horse battery" -info -noout 2>&1)
check_contains "bags are encrypted with PBES2/PBKDF2 AES-256-CBC" "PBES2, PBKDF2, AES-256-CBC" "$INFO"
check_contains "the MAC is SHA-256" "MAC: sha256" "$INFO"
check_eq "the private key is not in the store" 0 \
	"$(db_dump | grep -c -e 'PRIVATE KEY' -e "$(sed -n 2p "$T/a.key")")"
check_eq "the passphrase is not in the store" 0 "$(db_dump | grep -c 'correct horse')"
check_eq "the passphrase is not in the log" 0 "$(grep -c 'correct horse' "$T/crtokend.log")"
areq GET "/certificate-request-tokens/$GID"
check_eq "the token is used" used "$(jget "$T/body" "d['state']")"

new_token gen2
jreq POST "/client-certificates/token/$TOKEN" '{"type":"GENERATE","keyType":"rsa-2048"}'
check_status "GENERATE without a passphrase is 201" 201 -
PASS=$(jget "$T/body" "d['passphrase']")
check "a generated passphrase (>= 20 characters) is returned" test "${#PASS}" -ge 20
p12_from_body "$T/b.p12"
check "the PKCS#12 opens with the generated passphrase" \
	openssl pkcs12 -in "$T/b.p12" -passin "pass:$PASS" -noout
check_contains "keyType rsa-2048 makes an RSA 2048 key" "Private-Key: (2048 bit" \
	"$(openssl pkcs12 -in "$T/b.p12" -passin "pass:$PASS" -nocerts -nodes 2>/dev/null | openssl pkey -noout -text)"
check_eq "the generated passphrase is not in the store" 0 "$(db_dump | grep -c -- "$PASS")"

new_token gen3
jreq POST "/client-certificates/token/$TOKEN" '{"type":"GENERATE","keyType":"ed25519","passphrase":"p"}'
check_status "keyType ed25519 works" 201 -

new_token refused
RID=$TOKEN_ID
jreq POST "/client-certificates/token/$TOKEN" '{"type":"GENERATE","keyType":"dsa-1024"}'
check_status "unknown keyType is 422" 422 key_type_invalid
jreq POST "/client-certificates/token/$TOKEN" '{"type":"GENERATE","passphrase":""}'
check_status "an empty passphrase is 400" 400 invalid_argument
jreq POST "/client-certificates/token/$TOKEN" '{"type":"GENERATE","value":"x"}'
check_status "GENERATE with a CSR value is 400" 400 request_invalid
jreq POST "/client-certificates/token/$TOKEN" '{"type":"CSR","value":"x","keyType":"ec-p256"}'
check_status "CSR with keyType is 400" 400 request_invalid
areq GET "/certificate-request-tokens/$RID"
check_eq "refused GENERATE requests left the token active" active "$(jget "$T/body" "d['state']")"
jreq POST "/client-certificates/token/$TOKEN" '{"type":"GENERATE","passphrase":"p"}'
check_status "... and it still redeems" 201 -
jreq POST "/client-certificates/token/$TOKEN" '{"type":"GENERATE","passphrase":"p"}'
check_status "GENERATE on a used token is 409" 409 token_used
check_eq "four certificates in all" 4 "$(sqlite3 "$DB" 'SELECT count(*) FROM certificates')"

# A revocation made with the CLI (which does not publish a CRL) still shows
# in /crl: the served file is older than the newest revocation.
"$ADMIN" cert revoke "$SERIAL" >/dev/null
req GET '/crl?format=pem'
check_contains "a CLI revocation appears in /crl" "$(printf '%s' "$SERIAL" | tr 'a-f' 'A-F')" \
	"$(openssl crl -in "$T/body" -noout -text)"
http_finish
