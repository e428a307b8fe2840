#!/bin/sh
# t_certshape.sh — the profile shaping the issued certificate, read back
# with openssl: key usage / extended key usage, validity (validDays, the
# profile's days, the CA's end), allowed key types (refused: nothing
# consumed), SubjectAltNames from the token (CLI --san-*, JSON "san") and
# from the profile's templates, never from the CSR
# (attack_csr_requests_san_gets_none), each value checked (san_invalid);
# the CRL distribution point and AIA (caIssuers, OCSP) from [ca], a
# [ca NAME] or the profile, followed by openssl verify -crl_check (the CRL
# fetched from the certificate's CDP) and openssl ocsp -url (the
# certificate's AIA). CLI and REST (crtokend on 127.0.0.1:18960).
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

A=$ADMIN
http_instance "$T/inst" 18960 || { not_ok "instance"; finish; exit 1; }
I=$T/inst
cat >>"$CRTOKEN_CONF" <<'CONF'

[profile signer]
days = 3
max_days = 10
key_usage = digitalSignature, nonRepudiation
extended_key_usage = clientAuth, emailProtection
key_types = ec-p384, rsa-3072

[profile corp]
san_email = {owner}@example.com
san_upn = {owner}@corp.example

[profile forever]
days = 36500
max_days = 36500
CONF

# text CERTFILE : openssl's view of it
text() { openssl x509 -in "$1" -noout -text 2>/dev/null; }
# ext CERTFILE NAME : the lines of extension NAME (e.g. "Key Usage")
ext() { openssl x509 -in "$1" -noout -ext "$2" 2>/dev/null | sed 1d | sed 's/^ *//'; }
# days CERTFILE : notAfter - notBefore in seconds
span() {
	$PY - "$1" <<'EOF'
import subprocess, sys, datetime as D
o = subprocess.run(["openssl", "x509", "-in", sys.argv[1], "-noout", "-startdate", "-enddate"],
                   capture_output=True, text=True).stdout.split("\n")
f = lambda s: D.datetime.strptime(s.split("=", 1)[1], "%b %d %H:%M:%S %Y %Z")
print(int((f(o[1]) - f(o[0])).total_seconds()))
EOF
}
# cli_redeem TOKEN NAME [genpkey args] : redeem with a fresh CSR; certificate in $T/NAME.pem
cli_redeem() {
	_tok=$1
	_nm=$2
	shift 2
	make_csr "$T" "$_nm" "$@" &&
		"$A" redeem "$_tok" --csr "$T/$_nm.csr" --json >"$T/$_nm.json" 2>"$T/$_nm.err" &&
		jget "$T/$_nm.json" "d['certificate']" >"$T/$_nm.pem"
}
tok_of() { jget - "d['token']"; }

# ------------------------------------------------------------ the default profile: today's certificate
TOK=$("$A" token create --name plain --json | tok_of)
cli_redeem "$TOK" plain || not_ok "redeem plain"
check_eq "default profile: key usage is today's (EC: digitalSignature, critical)" "X509v3 Key Usage: critical
Digital Signature" "$(openssl x509 -in "$T/plain.pem" -noout -ext keyUsage | sed 's/^ *//')"
check_eq "... extended key usage clientAuth only" "TLS Web Client Authentication" \
	"$(ext "$T/plain.pem" extendedKeyUsage)"
check_eq "... the five extensions of today, no subjectAltName" \
	"X509v3 Basic Constraints: critical|X509v3 Key Usage: critical|X509v3 Extended Key Usage: |X509v3 Subject Key Identifier: |X509v3 Authority Key Identifier: " \
	"$(text "$T/plain.pem" | grep -E '^ +X509v3 ' | grep -v 'X509v3 extensions' | sed 's/^ *//' | tr '\n' '|' | sed 's/|$//')"
check_eq "... valid [ca] cert_days (365 d + 300 s of clock skew)" $((365 * 86400 + 300)) "$(span "$T/plain.pem")"
TOK=$("$A" token create --name rsa --json | tok_of)
cli_redeem "$TOK" rsa -algorithm RSA -pkeyopt rsa_keygen_bits:2048 || not_ok "redeem rsa"
check_contains "... RSA: digitalSignature + keyEncipherment" "Digital Signature, Key Encipherment" \
	"$(ext "$T/rsa.pem" keyUsage)"

# ------------------------------------------------------------ a profile's usages, validity, key types
J=$("$A" token create --name signer --profile signer --valid-days 5 --json)
TOK=$(echo "$J" | tok_of)
SID=$(echo "$J" | jget - "d['id']")
make_csr "$T" p256
"$A" redeem "$TOK" --csr "$T/p256.csr" >/dev/null 2>"$T/err"
check_contains "a P-256 key the profile does not allow: csr_unsupported_key" csr_unsupported_key "$(cat "$T/err")"
check_contains "... naming the key and the profile" "ec-p256 key is not allowed by certificate profile signer" "$(cat "$T/err")"
check_eq "... the token is still active" active "$("$A" token show "$SID" --json | jget - "d['state']")"
make_csr "$T" rsa2k -algorithm RSA -pkeyopt rsa_keygen_bits:2048
check_code "an RSA key below rsa-3072: csr_unsupported_key" csr_unsupported_key \
	"$A" redeem "$TOK" --csr "$T/rsa2k.csr"
cli_redeem "$TOK" signer -algorithm EC -pkeyopt ec_paramgen_curve:P-384 || not_ok "redeem signer: $(cat "$T/signer.err")"
check_eq "the profile's key usage (critical)" "X509v3 Key Usage: critical
Digital Signature, Non Repudiation" "$(openssl x509 -in "$T/signer.pem" -noout -ext keyUsage | sed 's/^ *//')"
check_eq "the profile's extended key usage" "TLS Web Client Authentication, E-mail Protection" \
	"$(ext "$T/signer.pem" extendedKeyUsage)"
check_eq "the token's validDays (5 d)" $((5 * 86400 + 300)) "$(span "$T/signer.pem")"
TOK=$("$A" token create --name signer2 --profile signer --json | tok_of)
cli_redeem "$TOK" signer2 -algorithm EC -pkeyopt ec_paramgen_curve:P-384 || not_ok "redeem signer2"
check_eq "without validDays: the profile's days (3 d)" $((3 * 86400 + 300)) "$(span "$T/signer2.pem")"

# the CA's end: validDays past it refused at create, the profile's days clamped
CA_END=$(openssl x509 -in "$I/ca.pem" -noout -enddate | cut -d= -f2)
LEFT=$($PY -c 'import sys,time,calendar; print((calendar.timegm(time.strptime(sys.argv[1], "%b %d %H:%M:%S %Y %Z")) - int(time.time())) // 86400)' "$CA_END")
check_code "validDays one past the CA's notAfter: validity_invalid" validity_invalid \
	"$A" token create --name long --profile forever --valid-days $((LEFT + 1))
check "validDays ending just before the CA's notAfter is accepted" \
	"$A" token create --name long --profile forever --valid-days "$LEFT"
TOK=$("$A" token create --name forever --profile forever --json | tok_of)
cli_redeem "$TOK" forever || not_ok "redeem forever"
check_eq "the profile's 36500 days are clamped to the CA's notAfter" "notAfter=$CA_END" \
	"$(openssl x509 -in "$T/forever.pem" -noout -enddate)"

# ------------------------------------------------------------ SubjectAltNames (CLI)
J=$("$A" token create --name laptop --san-email alice@example.com --san-email a.smith@example.com \
	--san-upn 'jörg@corp.example' --san-dns laptop-7.corp.example --san-uri urn:dev:laptop-7 --json)
check_eq "token create --san-*: shown in its JSON" \
	'{"dns": ["laptop-7.corp.example"], "email": ["alice@example.com", "a.smith@example.com"], "upn": "jörg@corp.example", "uri": ["urn:dev:laptop-7"]}' \
	"$(echo "$J" | $PY -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["san"], sort_keys=True, ensure_ascii=False))')"
LID=$(echo "$J" | jget - "d['id']")
check_contains "token show prints them" "SAN:      upn jörg@corp.example" "$("$A" token show "$LID")"
cli_redeem "$(echo "$J" | tok_of)" laptop || not_ok "redeem laptop"
check_eq "the certificate carries them (openssl)" \
	"email:alice@example.com, email:a.smith@example.com, othername: UPN::jörg@corp.example, DNS:laptop-7.corp.example, URI:urn:dev:laptop-7" \
	"$(ext "$T/laptop.pem" subjectAltName)"
OFF=$(openssl asn1parse -in "$T/laptop.pem" 2>/dev/null | grep -A1 'Subject Alternative Name' | tail -1 | cut -d: -f1 | tr -d ' ')
check_contains "the UPN is a UTF8String otherName 1.3.6.1.4.1.311.20.2.3" "UTF8STRING        :jörg@corp.example" \
	"$(openssl asn1parse -in "$T/laptop.pem" -strparse "$OFF" -i 2>/dev/null | grep -A2 'Microsoft User Principal Name')"
SER=$(jget "$T/laptop.json" "d['serial']")
check_contains "cert show prints them" "SAN:      dns laptop-7.corp.example" "$("$A" cert show "$SER")"
check_eq "cert show --json: san" '["alice@example.com", "a.smith@example.com"]' \
	"$("$A" cert show "$SER" --json | jget - "d['san']['email']")"

check_code "--san-dns with a U-label: san_invalid" san_invalid "$A" token create --name x --san-dns bücher.example
"$A" token create --name x --san-dns bücher.example 2>"$T/err" >/dev/null
check_contains "... the message names the value and says what to do" 'dns "bücher.example" is not ASCII: give the A-label' "$(cat "$T/err")"
check "--san-dns with its A-label is accepted" "$A" token create --name x --san-dns xn--bcher-kva.example
check_code "--san-email without @: san_invalid" san_invalid "$A" token create --name x --san-email alice
check_code "--san-uri without a scheme: san_invalid" san_invalid "$A" token create --name x --san-uri devices/laptop
check_code "--san-upn twice: san_invalid" san_invalid "$A" token create --name x --san-upn a@corp.example --san-upn b@corp.example
check_code "--san-dns wildcard: san_invalid" san_invalid "$A" token create --name x --san-dns '*.corp.example'
J=$("$A" token create --name upd --json)
UID_=$(echo "$J" | jget - "d['id']")
check_eq "token update --san-dns sets them" '["upd.example"]' \
	"$("$A" token update "$UID_" --san-dns upd.example --json | jget - "d['san']['dns']")"
check_code "token update with a bad value: san_invalid" san_invalid "$A" token update "$UID_" --san-dns bad_name
check_eq "... the token as it was" '["upd.example"]' "$("$A" token show "$UID_" --json | jget - "d['san']['dns']")"
check_eq "token update --clear-san clears them" "" \
	"$("$A" token update "$UID_" --clear-san --json | jget - "d['san']")"

# profile templates
check_code "a corp token without an owner: its template gives an invalid email (san_invalid)" san_invalid \
	"$A" token create --name nobody --profile corp
TOK=$("$A" token create --name alice-laptop --profile corp --owner alice --json | tok_of)
make_csr "$T" corp
"$A" redeem "$TOK" --csr "$T/corp.csr" --user alice --json >"$T/corp.json" 2>"$T/err" || diag "$(cat "$T/err")"
jget "$T/corp.json" "d['certificate']" >"$T/corp.pem"
check_eq "the profile's templates, expanded with the owner" \
	"email:alice@example.com, othername: UPN::alice@corp.example" "$(ext "$T/corp.pem" subjectAltName)"

# attack_csr_requests_san_gets_none
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/evil.key" 2>/dev/null
openssl req -new -key "$T/evil.key" -subj /CN=evil -out "$T/evil.csr" \
	-addext "subjectAltName=DNS:radius.corp.example,email:ceo@corp.example,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:administrator@corp.example" \
	-addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
check_contains "attack: the CSR asks for SANs" "radius.corp.example" "$(openssl req -in "$T/evil.csr" -noout -text)"
TOK=$("$A" token create --name evil --json | tok_of)
"$A" redeem "$TOK" --csr "$T/evil.csr" --json | jget - "d['certificate']" >"$T/evil.pem"
check_eq "attack_csr_requests_san_gets_none: no subjectAltName in the certificate" "" \
	"$(text "$T/evil.pem" | grep -i -e 'Alternative Name' -e corp.example)"
check_contains "... and CA:FALSE" "CA:FALSE" "$(ext "$T/evil.pem" basicConstraints)"
TOK=$("$A" token create --name evil2 --san-dns laptop.example.org --json | tok_of)
"$A" redeem "$TOK" --csr "$T/evil.csr" --json | jget - "d['certificate']" >"$T/evil2.pem"
check_eq "... with the token's SANs: only the token's" "DNS:laptop.example.org" "$(ext "$T/evil2.pem" subjectAltName)"

# ------------------------------------------------------------ CRL distribution point, AIA
check_eq "no URLs configured: no CRL distribution point nor AIA" "" \
	"$(text "$T/plain.pem" | grep -e 'CRL Distribution' -e 'Authority Information Access')"
conf_set_in ca crl_url "$URL/crl" && conf_set_in ca ca_issuers_url "$URL/ca.pem" &&
	conf_set_in ca ocsp_url "$URL/ocsp" || not_ok "[ca] URLs set"
cat >>"$CRTOKEN_CONF" <<CONF

[profile ownocsp]
ocsp_url = http://ocsp.example.org/

[ca other]
certificate = other.pem
key = other.key
crl_url = $URL/crl?ca=other
ocsp_url = $URL/ocsp
CONF
check "ca create other (a [ca NAME] with its own crl_url and ocsp_url)" \
	"$A" ca create other --subject "/CN=crtoken other CA"
TOK=$("$A" token create --name urls --json | tok_of)
cli_redeem "$TOK" urls || not_ok "redeem urls"
check_eq "[ca] crl_url: the CRL distribution point" "Full Name:
URI:$URL/crl" "$(ext "$T/urls.pem" crlDistributionPoints)"
check_eq "[ca] ca_issuers_url and ocsp_url: the AIA" "CA Issuers - URI:$URL/ca.pem
OCSP - URI:$URL/ocsp" "$(ext "$T/urls.pem" authorityInfoAccess | sort)"
TOK=$("$A" token create --name own --profile ownocsp --json | tok_of)
cli_redeem "$TOK" own || not_ok "redeem own"
check_eq "a profile's own ocsp_url replaces [ca]'s" "OCSP - URI:http://ocsp.example.org/" \
	"$(ext "$T/own.pem" authorityInfoAccess | grep OCSP)"
check_eq "... and the CDP is still [ca]'s" "URI:$URL/crl" "$(ext "$T/own.pem" crlDistributionPoints | grep URI)"
TOK=$("$A" token create --name oth --ca other --json | tok_of)
cli_redeem "$TOK" oth || not_ok "redeem oth: $(cat "$T/oth.err")"
check_eq "a [ca NAME] CA's certificate: that section's crl_url" "URI:$URL/crl?ca=other" \
	"$(ext "$T/oth.pem" crlDistributionPoints | grep URI)"
check_eq "... its ocsp_url, and no caIssuers ([ca]'s is the default CA's)" "OCSP - URI:$URL/ocsp" \
	"$(ext "$T/oth.pem" authorityInfoAccess)"
cp "$CRTOKEN_CONF" "$T/good.conf"
printf '\n[ca bad]\ncertificate = bad.pem\nkey = bad.key\ncrl_url = file:///etc/passwd\n' >>"$CRTOKEN_CONF"
check_code "a [ca NAME] crl_url that is not http(s)/ldap is refused at load" config_invalid "$A" token list
cp "$T/good.conf" "$CRTOKEN_CONF"

# ------------------------------------------------------------ REST
start_crtokend || { not_ok "crtokend starts"; http_finish; exit 1; }
# the URLs in the certificates, followed
CDP=$(ext "$T/urls.pem" crlDistributionPoints | sed -n 's/^URI://p')
OCSPU=$(openssl x509 -in "$T/urls.pem" -noout -ocsp_uri)
crl_of() { curl -s -o "$T/$2.der" "$1" && openssl crl -inform DER -in "$T/$2.der" -out "$T/$2.pem" 2>/dev/null; }
check "the CRL at the certificate's distribution point is served by crtokend" crl_of "$CDP" crl1
check_eq "openssl verify -crl_check with that CRL: OK" "$T/urls.pem: OK" \
	"$(openssl verify -crl_check -CAfile "$I/ca.pem" -CRLfile "$T/crl1.pem" "$T/urls.pem" 2>&1)"
openssl ocsp -issuer "$I/ca.pem" -cert "$T/urls.pem" -url "$OCSPU" -CAfile "$I/ca.pem" >"$T/ocsp1" 2>&1
check_contains "openssl ocsp -url (the certificate's AIA): good" "urls.pem: good" "$(cat "$T/ocsp1")"
curl -s -o "$T/aia-ca.pem" "$(ext "$T/urls.pem" authorityInfoAccess | sed -n 's/^CA Issuers - URI://p')"
check_contains "the caIssuers URL serves the CA certificate" "$(sed -n 2p "$I/ca.pem")" "$(cat "$T/aia-ca.pem")"
USER_SER=$(jget "$T/urls.json" "d['serial']")
check "revoke it" "$A" cert revoke "$USER_SER" --reason keyCompromise
check "the CRL fetched again" crl_of "$CDP" crl2
check_contains "openssl verify -crl_check: certificate revoked" "certificate revoked" \
	"$(openssl verify -crl_check -CAfile "$I/ca.pem" -CRLfile "$T/crl2.pem" "$T/urls.pem" 2>&1)"
openssl ocsp -issuer "$I/ca.pem" -cert "$T/urls.pem" -url "$OCSPU" -CAfile "$I/ca.pem" >"$T/ocsp2" 2>&1
check_contains "openssl ocsp -url: revoked" "urls.pem: revoked" "$(cat "$T/ocsp2")"
CDP=$(ext "$T/oth.pem" crlDistributionPoints | sed -n 's/^URI://p')
check "the other CA's CRL at its certificate's distribution point" crl_of "$CDP" crl3
check_eq "openssl verify -crl_check against the other CA: OK" "$T/oth.pem: OK" \
	"$(openssl verify -crl_check -CAfile "$I/other.pem" -CRLfile "$T/crl3.pem" "$T/oth.pem" 2>&1)"
openssl ocsp -issuer "$I/other.pem" -cert "$T/oth.pem" -url "$(openssl x509 -in "$T/oth.pem" -noout -ocsp_uri)" \
	-CAfile "$I/other.pem" >"$T/ocsp3" 2>&1
check_contains "openssl ocsp -url for the other CA's certificate: good" "oth.pem: good" "$(cat "$T/ocsp3")"

apikey || not_ok "api key"
new_token rest '"san":{"email":["bob@example.com"],"upn":"bob@corp.example","dns":"bob-pc.corp.example","uri":["https://devices.example.com/bob-pc"]}' ||
	not_ok "POST with san: $(head -c 300 "$T/body")"
check_eq "POST \"san\": shown" '{"dns": ["bob-pc.corp.example"], "email": ["bob@example.com"], "upn": "bob@corp.example", "uri": ["https://devices.example.com/bob-pc"]}' \
	"$(jget "$T/body" "json.dumps(d['san'], sort_keys=True)")"
RID=$TOKEN_ID
csr_body restc || not_ok "csr"
redeem "$TOKEN" "$T/restc.json"
check_status "redeemed over REST" 201 -
jget "$T/body" "d['certificate']" >"$T/restc.pem"
check_eq "the certificate carries the token's SANs" \
	"email:bob@example.com, othername: UPN::bob@corp.example, DNS:bob-pc.corp.example, URI:https://devices.example.com/bob-pc" \
	"$(ext "$T/restc.pem" subjectAltName)"
check_eq "the redemption's answer shows them" '["bob-pc.corp.example"]' "$(jget "$T/body" "d['san']['dns']")"
RSER=$(jget "$T/body" "d['serial']")
areq GET "/client-certificates/$RSER"
check_eq "GET the certificate: san" "bob@corp.example" "$(jget "$T/body" "d['san']['upn']")"
ajreq POST /certificate-request-tokens '{"name":"x","san":{"dns":["ok.example","bad_name.example"]}}'
check_status "POST with a bad dns: 422 san_invalid" 422 san_invalid
check_contains "... naming the value" "bad_name.example" "$(jget "$T/body" "d['error'].get('detail','')")"
ajreq POST /certificate-request-tokens '{"name":"x","san":{"ip":["192.0.2.1"]}}'
check_status "POST with an unknown san kind: 400" 400 request_invalid
ajreq POST /certificate-request-tokens '{"name":"x","san":{"upn":["a@corp.example"]}}'
check_status "POST with upn as an array: 400" 400 request_invalid
ajreq POST /certificate-request-tokens '{"name":"x","san":"dns=x.example"}'
check_status "POST with san a string: 400" 400 request_invalid
ajreq POST /certificate-request-tokens '{"name":"x","san":{"dns":"a.example\nupn=evil@corp.example"}}'
check_status "a value with a line break (another kind smuggled in): 422 san_invalid" 422 san_invalid
new_token patched || not_ok "token"
ajreq PATCH "/certificate-request-tokens/$TOKEN_ID" '{"san":{"dns":["p.example"]}}'
check_status "PATCH san" 200 -
check_eq "... set" '["p.example"]' "$(jget "$T/body" "d['san']['dns']")"
ajreq PATCH "/certificate-request-tokens/$TOKEN_ID" '{"san":null}'
check_eq "PATCH san null clears them" "" "$(jget "$T/body" "d['san']")"
ajreq POST /certificate-request-tokens "{\"name\":\"x\",\"profile\":\"forever\",\"validDays\":$((LEFT + 1))}"
check_status "validDays past the CA's notAfter over REST: 422 validity_invalid" 422 validity_invalid

http_finish
