#!/bin/sh
# t_cas.sh — several CAs in one instance: [ca] (default, a key file), [ca
# lab] (a key file, made by `crtoken-admin ca create`, with the very same
# subject name as the default CA so only key identifiers tell them apart)
# and [ca hsm] (its key made in a SoftHSM2 token). Tokens name their CA,
# each certificate is signed and recorded by it; each CA has its own CRL
# (crtoken-admin crl --ca, GET /crl?ca=, verified with openssl crl -verify)
# and CRL numbers; GET /ca.pem serves all three; OCSP answers per CA;
# rlm_crtoken in the real radiusd admits each CA's certificate over EAP-TLS
# and refuses a certificate signed by one CA of the instance with the
# serial another CA issued. Ports: crtokend TCP 18730, radiusd UDP 18731.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"
RLM_SRC=$TOP/rlm_crtoken
. "$TOP/tests/integration/radius_lib.sh"
RLM_BUILD=$BUILD
RLM_PORT=18731
HTTP_PORT=18730
URL=http://127.0.0.1:$HTTP_PORT
MODULE=/usr/lib/softhsm/libsofthsm2.so
LSAN_OPTIONS="suppressions=$TOP/tests/integration/lsan_pkcs11.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS

require_programs /usr/sbin/freeradius eapol_test openssl sqlite3 curl softhsm2-util "$MODULE" \
	"$ADMIN" "$BUILD/bin/crtokend" "$BUILD/lib/rlm_crtoken.so"

CRTOKEND_PID=""
at_exit rlm_stop
at_exit 'stop_pid "$CRTOKEND_PID"'

I=$T/inst
mkdir -p "$T/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
	"$T" >"$T/softhsm2.conf"
SOFTHSM2_CONF=$T/softhsm2.conf
export SOFTHSM2_CONF
check "softhsm2-util makes a token labelled cas" \
	softhsm2-util --init-token --free --label cas --pin 975310 --so-pin 86420864
printf '975310\n' >"$T/pin"
chmod 600 "$T/pin"

# ------------------------------------------------------------ CAs
check "instance with the default CA /CN=crtoken CA" new_instance "$I"
cat >>"$CRTOKEN_CONF" <<EOF

[ca lab]
certificate = lab.pem
key = lab.key

[ca hsm]
certificate = hsm.pem
key = pkcs11:token=cas;object=hsm-ca
pin_file = $T/pin
module_path = $MODULE
EOF
check_code "an instance whose [ca lab] has no files yet does not open" ca_missing \
	"$ADMIN" ca list
check "ca create lab: a second CA with the default CA's very name" \
	"$ADMIN" ca create lab --subject "/CN=crtoken CA"
check "ca create hsm: its key made in the SoftHSM2 token" \
	"$ADMIN" ca create hsm --subject "/CN=crtoken HSM CA"
check_eq "no key file for the hsm CA" no "$([ -e "$I/hsm.key" ] && echo yes || echo no)"
check_code "ca create refuses a CA that exists" already_exists "$ADMIN" ca create lab
check_code "ca create of a name without a section: ca_unknown" ca_unknown \
	"$ADMIN" ca create nope
L=$("$ADMIN" ca list --json)
names=$(printf '%s' "$L" | $PY -c 'import json,sys; print(" ".join(c["name"]+":"+c["keyKind"] for c in json.load(sys.stdin)))')
check_eq "ca list: default, lab, hsm with where their keys are" \
	"default:file lab:file hsm:pkcs11" "$names"
skis=$(printf '%s' "$L" | $PY -c 'import json,sys; print(len({c["subjectKeyIdentifier"] for c in json.load(sys.stdin)}))')
check_eq "ca list: three distinct key identifiers" 3 "$skis"
check_contains "ca list text shows notAfter and the key identifier" "KEY IDENTIFIER" \
	"$("$ADMIN" ca list)"
for c in ca lab hsm; do
	openssl x509 -in "$I/$c.pem" -noout -ext subjectKeyIdentifier 2>/dev/null | tail -1 |
		tr -d ' :' | tr 'A-F' 'a-f' >"$T/$c.ski"
done

# ------------------------------------------------------------ tokens and certificates
# issue NAME CA : a token on CA, redeemed through crtoken-admin; $T/NAME.pem
issue() {
	_tok=$("$ADMIN" token create --name "$1" --cn "$1" --ca "$2" --json) || return 1
	[ "$(json_get "$_tok" ca)" = "$2" ] || return 1
	make_csr "$T" "$1" || return 1
	_j=$("$ADMIN" redeem "$(json_get "$_tok" token)" --csr "$T/$1.csr" --out "$T/$1.pem" \
		--json) || return 1
	json_get "$_j" serial >"$T/$1.serial"
}
check "a token on the default CA redeemed (dora)" issue dora default
check "a token on the lab CA redeemed (lena)" issue lena lab
check "a token on the hsm CA redeemed (hans)" issue hans hsm
check "dora's certificate verifies against the default CA alone" \
	openssl verify -CAfile "$I/ca.pem" "$T/dora.pem"
check "lena's certificate verifies against the lab CA alone" \
	openssl verify -CAfile "$I/lab.pem" "$T/lena.pem"
check_fails "... and not against the default CA, whose name it carries" \
	openssl verify -CAfile "$I/ca.pem" "$T/lena.pem"
check "hans's certificate verifies against the hsm CA" \
	openssl verify -CAfile "$I/hsm.pem" "$T/hans.pem"
aki() { openssl x509 -in "$1" -noout -ext authorityKeyIdentifier | tail -1 | sed 's/keyid://' | tr -d ' :' | tr 'A-F' 'a-f'; }
check_eq "lena's Authority Key Identifier is the lab CA's SKI" "$(cat "$T/lab.ski")" \
	"$(aki "$T/lena.pem")"
J=$("$ADMIN" cert show "$(cat "$T/lena.serial")" --json)
check_eq "cert show: lena's certificate records the lab CA" lab "$(json_get "$J" ca)"
check_contains "token show names the CA" "CA:       hsm" \
	"$("$ADMIN" token show "$(sqlite3 "$I/crtoken.db" "SELECT id FROM tokens WHERE name = 'hans'")")"
check_contains "token list shows it" " hsm " "$("$ADMIN" token list | grep hans)"
check_eq "the store records each certificate's CA" "dora|default hans|hsm lena|lab" \
	"$(sqlite3 "$I/crtoken.db" "SELECT name || '|' || ca FROM certificates ORDER BY name" | tr '\n' ' ' | sed 's/ $//')"
before=$(db_dump)
check_code "token create --ca nope: ca_unknown (exit 3)" ca_unknown \
	"$ADMIN" token create --name x --ca nope
check_eq "... and nothing is written" "$before" "$(db_dump)"

# ------------------------------------------------------------ crtokend: ca.pem, CRL, OCSP
sed -i -e "s|^;*listen *=.*|listen = 127.0.0.1:$HTTP_PORT|" \
	-e "s|^;*plain_http *=.*|plain_http = yes|" \
	-e "s|^;*require_login *=.*|require_login = no|" "$CRTOKEN_CONF"
"$BUILD/bin/crtokend" --config "$CRTOKEN_CONF" --foreground >>"$T/crtokend.log" 2>&1 &
CRTOKEND_PID=$!
check "crtokend started (127.0.0.1:$HTTP_PORT)" wait_port 127.0.0.1 "$HTTP_PORT" 100
curl -sS -o "$T/all.pem" "$URL/ca.pem"
check_eq "GET /ca.pem serves the three CAs" 3 "$(grep -c 'BEGIN CERTIFICATE' "$T/all.pem")"
check_eq "... the default CA first" "$(openssl x509 -in "$I/ca.pem" -noout -fingerprint)" \
	"$(openssl x509 -in "$T/all.pem" -noout -fingerprint)"
check "an admin API key" apikey
ajreq POST /certificate-request-tokens '{"name":"rest","commonName":"rest","ca":"hsm"}'
check_eq "POST /certificate-request-tokens with \"ca\": \"hsm\": 201" 201 "$STATUS"
check_eq "... the token names the hsm CA" hsm "$(jget "$T/body" "d['ca']")"
ajreq POST /certificate-request-tokens '{"name":"rest2","ca":"nope"}'
check_eq "... with \"ca\": \"nope\": 404" 404 "$STATUS"
check_eq "... ca_unknown" ca_unknown "$(jget "$T/body" "d['error']['code']")"
check "crtoken-admin revoke lena (lab CA)" "$ADMIN" cert revoke "$(cat "$T/lena.serial")"
check "crl --ca lab writes the lab CA's CRL" "$ADMIN" crl --ca lab --out "$T/lab.crl"
crlv() { openssl crl "$@" -noout -verify 2>&1; }
check_eq "openssl crl -verify: the lab CRL is signed by the lab CA" "verify OK" \
	"$(crlv -in "$T/lab.crl" -CAfile "$I/lab.pem")"
check_contains "... and not by the default CA, whose name it carries" "verify failure" \
	"$(crlv -in "$T/lab.crl" -CAfile "$I/ca.pem")"
check_contains "the lab CRL lists lena" "$(cat "$T/lena.serial" | tr 'a-f' 'A-F')" \
	"$(openssl crl -in "$T/lab.crl" -noout -text)"
check_contains "the lab CRL is CRL number 1 of the lab CA" "X509v3 CRL Number: 
                1" "$(openssl crl -in "$T/lab.crl" -noout -text)"
check "crl --ca lab also wrote crl-lab.pem" test -s "$I/crl-lab.pem"
curl -sS -o "$T/lab-http.crl" "$URL/crl?ca=lab"
check_eq "GET /crl?ca=lab: the lab CRL, DER, verified by the lab CA" "verify OK" \
	"$(crlv -inform DER -in "$T/lab-http.crl" -CAfile "$I/lab.pem")"
curl -sS -o "$T/default.crl" "$URL/crl"
check_eq "GET /crl: the default CA's, verified by it" "verify OK" \
	"$(crlv -inform DER -in "$T/default.crl" -CAfile "$I/ca.pem")"
check_eq "... which does not list lena" "" \
	"$(openssl crl -inform DER -in "$T/default.crl" -noout -text | grep -i "$(cat "$T/lena.serial")")"
curl -sS -o "$T/hsm.crl" "$URL/crl?ca=hsm"
check_eq "GET /crl?ca=hsm: signed in the token, verified by the hsm CA" "verify OK" \
	"$(crlv -inform DER -in "$T/hsm.crl" -CAfile "$I/hsm.pem")"
req GET "/crl?ca=nope"
check_eq "GET /crl?ca=nope: 404" 404 "$STATUS"
check_eq "... ca_unknown" ca_unknown "$(jget "$T/body" "d['error']['code']")"
req GET "/crl?ca=lab"
check_eq "GET /crl?ca=lab: 200" 200 "$STATUS"
check_responses
ocsp() { # CERT ISSUER : openssl ocsp against crtokend, the issuer as trust anchor
	openssl ocsp -issuer "$2" -cert "$1" -url "$URL/ocsp" -CAfile "$2" -no_nonce 2>&1
}
check_contains "OCSP for hans asked of the hsm CA: good, signed by it" "hans.pem: good" \
	"$(ocsp "$T/hans.pem" "$I/hsm.pem")"
check_contains "OCSP for lena asked of the lab CA: revoked" "lena.pem: revoked" \
	"$(ocsp "$T/lena.pem" "$I/lab.pem")"
check_contains "OCSP for dora asked of the default CA: good" "dora.pem: good" \
	"$(ocsp "$T/dora.pem" "$I/ca.pem")"
stop_pid "$CRTOKEND_PID"
CRTOKEND_PID=""

# ------------------------------------------------------------ RADIUS
mkdir -p "$T/srv"
check "lab CA of radiusd's own certificate (openssl)" rlm_lab_ca "$T/srv"
cat "$I/ca.pem" "$I/lab.pem" "$I/hsm.pem" >"$T/client-cas.pem"
RLM_CRTOKEN_CONF=$CRTOKEN_CONF
RLM_SERVER_CERT=$T/srv/server.pem
RLM_SERVER_KEY=$T/srv/server.key
RLM_CLIENT_CAS=$T/client-cas.pem
R=$T/raddb
check "a fresh lab certificate (luis) for admission" issue luis lab
# The attack: the lab CA's key (a CA of this very instance, with the
# default CA's name) signs a certificate with the serial and subject of
# dora's, which the default CA issued.
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n' >"$T/client.ext"
check "mimic: lab CA key, dora's serial and subject (openssl)" sh -c '
	openssl req -new -key "$1/dora.key" -subj "/CN=dora" -out "$1/mimic.csr" 2>/dev/null &&
	cp "$1/dora.key" "$1/mimic.key" &&
	openssl x509 -req -in "$1/mimic.csr" -CA "$2/lab.pem" -CAkey "$2/lab.key" \
		-set_serial "0x$(cat "$1/dora.serial")" -days 30 -extfile "$1/client.ext" \
		-out "$1/mimic.pem" 2>/dev/null' sh "$T" "$I"
check_eq "mimic carries dora's serial, subject and issuer name" \
	"$(openssl x509 -in "$T/dora.pem" -noout -serial -subject -issuer)" \
	"$(openssl x509 -in "$T/mimic.pem" -noout -serial -subject -issuer)"
check "radiusd config with the shipped check-eap-tls sample" rlm_write_config "$R" crtoken
check "radiusd started (127.0.0.1:$RLM_PORT)" rlm_start "$R"
LOG=$R/radiusd.log
auth() { rlm_eapol "$T/$1.pem" "$T/$1.key" "$T/$1.out" "$T/srv/lab-ca.pem"; }
check_eq "EAP-TLS: dora (default CA) accepted" accept "$(auth dora)"
check_eq "EAP-TLS: luis (lab CA) accepted" accept "$(auth luis)"
check_eq "EAP-TLS: hans (hsm CA, key in the token) accepted" accept "$(auth hans)"
check_eq "EAP-TLS: lena (lab CA, revoked) rejected" reject "$(auth lena)"
m=$(wc -l <"$LOG")
check_eq "attack_serial_of_another_ca: mimic rejected" reject "$(auth mimic)"
check_contains "... as cert_wrong_issuer (the key identifiers differ)" "cert_wrong_issuer" \
	"$(tail -n "+$((m + 1))" "$LOG")"
rlm_stop

# ------------------------------------------------------------ bad sections
cp "$CRTOKEN_CONF" "$T/good.conf"
printf '\n[ca nokey]\ncertificate = nokey.pem\n' >>"$CRTOKEN_CONF"
check_code "a [ca NAME] without key: config_invalid" "config_invalid" "$ADMIN" ca list
check_contains "... naming the section and the key" "[ca nokey] needs key" "$(cat "$T/.err")"
cp "$T/good.conf" "$CRTOKEN_CONF"
printf '\n[ca twin]\ncertificate = twin.pem\nkey = twin.key\n' >>"$CRTOKEN_CONF"
cp "$I/lab.pem" "$I/twin.pem"
cp -p "$I/lab.key" "$I/twin.key"
check_code "a [ca twin] on the lab CA's key is refused" ca_invalid "$ADMIN" ca list
check_contains "... as the key identifier of another CA" "has the key identifier of CA lab" \
	"$(cat "$T/.err")"
cp "$T/good.conf" "$CRTOKEN_CONF"
check "back to the good config: ca list works" "$ADMIN" ca list
finish
