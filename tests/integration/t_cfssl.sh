#!/bin/sh
# t_cfssl.sh — [ca] type = cfssl against the real peer, Debian's cfssl serve
# (golang-cfssl): redemptions through crtoken-admin redeem and crtokend's REST
# API are signed by the cfssl CA over /api/v1/cfssl/authsign (plain http on
# loopback and https with ca_file), stored with cfssl's serial, and admitted
# by rlm_crtoken in radiusd (eapol_test EAP-TLS); then every way the remote
# can fail leaves the token unused: a wrong HMAC key (ca_rejected), cfssl
# stopped (ca_unavailable), a server slower than timeout_ms (ca_unavailable),
# a 5xx (ca_unavailable), and a server returning a certificate for another
# key or from an impostor CA (cfssl_fake.py, a tiny real HTTP server:
# ca_rejected, nothing stored). crtoken-admin crl and GET /crl answer
# crl_remote; OCSP answers unauthorized until a delegated signer the cfssl CA
# issued (cfssl gencert -profile ocsp) is configured, then good / revoked /
# unknown from crtoken's store. TCP ports 18750-18756, radiusd on UDP 18757.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"
. "$TOP/tests/integration/radius_lib.sh"

for p in cfssl openssl sqlite3 curl /usr/sbin/freeradius eapol_test; do
	command -v "$p" >/dev/null 2>&1 || {
		not_ok "prerequisite $p present (scripts/deps.sh check)"
		finish
		exit 1
	}
done

CF_PORT=18750    # cfssl serve, plain http
CF_TLS_PORT=18751 # cfssl serve, https
PORT=18752       # crtokend
HOLD_PORT=18753  # cfssl_fake.py hold
FAKE_PORT=18754  # cfssl_fake.py answer / status
URL=http://127.0.0.1:$PORT
RLM_PORT=18757
CF_PID=""
CF_TLS_PID=""
FAKE_PID=""
HOLD_PID=""
at_exit 'stop_pid "$CF_PID"; stop_pid "$CF_TLS_PID"; stop_pid "$FAKE_PID"; stop_pid "$HOLD_PID"'
at_exit rlm_stop

# ------------------------------------------------------------ the cfssl CA
C=$T/cfssl
mkdir -p "$C"
check "the cfssl CA (EC P-256, with a Subject Key Identifier)" \
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$C/ca-key.pem" -out "$C/ca.pem" -subj "/CN=cfssl test CA/O=crtoken test" \
	-days 3650 -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign
openssl rand -hex 32 >"$C/auth.key"
chmod 600 "$C/auth.key"
# The profile crtoken documents: client auth, an auth key, and a
# CSRWhitelist that copies only the public key from the CSR.
# (The ocsp profile makes crtoken's delegated OCSP signer, with cfssl gencert.)
cat >"$C/config.json" <<EOF
{"signing": {"default": {"usages": ["digital signature", "client auth"], "expiry": "8760h",
  "auth_key": "crtoken",
  "CSRWhitelist": {"PublicKey": true, "PublicKeyAlgorithm": true, "SignatureAlgorithm": true}},
  "profiles": {"ocsp": {"usages": ["digital signature", "ocsp signing"], "expiry": "720h"}}},
 "auth_keys": {"crtoken": {"type": "standard", "key": "$(cat "$C/auth.key")"}}}
EOF
# A TLS server certificate for 127.0.0.1 from a CA of its own (ca_file).
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$C/tls.ext"
check "a TLS certificate for the https cfssl (its own CA)" sh -c "
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout '$C/tls-ca-key.pem' -out '$C/tls-ca.pem' -subj '/CN=cfssl TLS CA' -days 30 &&
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout '$C/tls-key.pem' -out '$C/tls.csr' -subj '/CN=127.0.0.1' &&
	openssl x509 -req -in '$C/tls.csr' -CA '$C/tls-ca.pem' -CAkey '$C/tls-ca-key.pem' \
		-set_serial 7 -days 30 -extfile '$C/tls.ext' -out '$C/tls.pem'" 2>/dev/null

start_cfssl() {
	(cd "$C" && exec cfssl serve -address=127.0.0.1 -port=$CF_PORT -ca="$C/ca.pem" \
		-ca-key="$C/ca-key.pem" -config="$C/config.json" -loglevel=1) >>"$C/cfssl.log" 2>&1 &
	CF_PID=$!
	wait_port 127.0.0.1 $CF_PORT 100
}
check "cfssl serve (http, 127.0.0.1:$CF_PORT)" start_cfssl
(cd "$C" && exec cfssl serve -address=127.0.0.1 -port=$CF_TLS_PORT -ca="$C/ca.pem" \
	-ca-key="$C/ca-key.pem" -config="$C/config.json" -tls-cert="$C/tls.pem" \
	-tls-key="$C/tls-key.pem" -loglevel=1) >>"$C/cfssl-tls.log" 2>&1 &
CF_TLS_PID=$!
check "cfssl serve (https, 127.0.0.1:$CF_TLS_PORT)" wait_port 127.0.0.1 $CF_TLS_PORT 100

# ------------------------------------------------------------ the instance
check "a crtoken instance" http_instance "$T/inst" $PORT
# ca_set KEY VALUE : KEY = VALUE in [ca] (replacing it there, if set).
ca_set() {
	$PY - "$CRTOKEN_CONF" "$1" "$2" <<'EOF'
import re, sys
path, key, val = sys.argv[1:]
out, sec = [], None
for line in open(path).read().splitlines():
    m = re.match(r"^\[(.*)\]", line)
    if m:
        sec = m.group(1)
    if sec == "ca" and re.match(r"^%s\s*=" % re.escape(key), line):
        continue
    out.append(line)
    if m and sec == "ca":
        out.append("%s = %s" % (key, val))
open(path, "w").write("\n".join(out) + "\n")
EOF
}
ca_unset() { sed -i "/^$1 *=/d" "$CRTOKEN_CONF"; }
ca_set certificate "$C/ca.pem"
ca_set type cfssl
ca_set url "http://127.0.0.1:$CF_PORT"
ca_set auth_key_file "$C/auth.key"
ca_set timeout_ms 3000
cp "$CRTOKEN_CONF" "$T/conf.good"
J=$("$ADMIN" ca show --json)
check_eq "ca show: the CA is the cfssl CA" "/CN=cfssl test CA/O=crtoken test" "$(json_get "$J" subject)"

# token NAME [create options] : a token string in $TOK and its id in $TID.
token() {
	_nm=$1
	shift
	_j=$("$ADMIN" token create --name "$_nm" "$@" --json) || return 1
	TOK=$(json_get "$_j" token)
	TID=$(json_get "$_j" id)
}
state_of() { "$ADMIN" token show "$1" --json | jget - "d['state']"; }
certs() { sqlite3 "$T/inst/crtoken.db" 'SELECT count(*) FROM certificates'; }

# ------------------------------------------------------------ issuance
token laptop --cn laptop --org "crtoken test"
make_csr "$T" laptop
# A CSR asking for more than crtoken gives: other subject fields and a SAN.
openssl req -new -key "$T/laptop.key" -subj "/C=DE/O=evil/OU=evil/CN=admin" \
	-addext subjectAltName=DNS:evil.example -out "$T/laptop-greedy.csr" 2>/dev/null
J=$("$ADMIN" redeem "$TOK" --csr "$T/laptop-greedy.csr" --out "$T/laptop.pem" --json 2>"$T/.err")
check_eq "crtoken-admin redeem: the cfssl CA signs" 0 "$?"
check "... the certificate verifies against the cfssl CA" \
	openssl verify -CAfile "$C/ca.pem" -purpose sslclient "$T/laptop.pem"
check_eq "... its subject is the one crtoken decided, not the CSR's" \
	"subject=O = crtoken test, CN = laptop" "$(openssl x509 -in "$T/laptop.pem" -noout -subject)"
check_eq "... and it carries no name from the CSR (no subjectAltName)" "" \
	"$(openssl x509 -in "$T/laptop.pem" -noout -ext subjectAltName 2>/dev/null)"
SERIAL=$(openssl x509 -in "$T/laptop.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^\(00\)*//')
check_eq "... stored with the serial cfssl chose" "$SERIAL" "$(json_get "$J" serial)"
check_eq "... the token is used" used "$(state_of "$TID")"
check_eq "... one certificate row, its issuer the cfssl CA" "/CN=cfssl test CA/O=crtoken test" \
	"$(sqlite3 "$T/inst/crtoken.db" "SELECT issuer FROM certificates WHERE serial = '$SERIAL'")"
check_eq "cfssl received exactly one signature request for it" 1 \
	"$(grep -c 'signature request received' "$C/cfssl.log")"

# https with ca_file
ca_set url "https://127.0.0.1:$CF_TLS_PORT"
ca_set ca_file "$C/tls-ca.pem"
token tls --cn tls
make_csr "$T" tls
check "https: the cfssl CA signs through TLS verified with ca_file" \
	"$ADMIN" redeem "$TOK" --csr "$T/tls.csr" --out "$T/tls.pem"
check "... that certificate verifies against the cfssl CA" \
	openssl verify -CAfile "$C/ca.pem" "$T/tls.pem"
ca_set ca_file "$C/ca.pem"
token tls2 --cn tls2
check_code "https: a server certificate ca_file does not vouch for is ca_unavailable" \
	ca_unavailable "$ADMIN" redeem "$TOK" --csr "$T/tls.csr" --out "$T/tls2.pem"
check_eq "... the token is unused" active "$(state_of "$TID")"
cp "$T/conf.good" "$CRTOKEN_CONF"

# crtokend
if start_crtokend; then
	token phone --cn phone
	make_csr "$T" phone
	$PY -c 'import json,sys; print(json.dumps({"type": "CSR", "value": open(sys.argv[1]).read()}))' \
		"$T/phone.csr" >"$T/phone.body"
	req POST "/client-certificates/token/$TOK" -H 'Content-Type: application/json' \
		--data-binary @"$T/phone.body"
	check_eq "crtokend: POST /client-certificates/token/{token} answers 201" 201 "$STATUS"
	jget "$T/body" "d['certificate']" >"$T/phone.pem"
	check "... with a certificate the cfssl CA signed" openssl verify -CAfile "$C/ca.pem" "$T/phone.pem"
	check_eq "... for the CSR's key" \
		"$(openssl pkey -in "$T/phone.key" -pubout 2>/dev/null)" \
		"$(openssl x509 -in "$T/phone.pem" -noout -pubkey)"
	req GET /crl
	check_eq "GET /crl for a cfssl CA: 404" 404 "$STATUS"
	check_eq "... crl_remote" crl_remote "$(jget "$T/body" "d['error']['code']")"
	stop_pid "$CF_PID"
	CF_PID=""
	token phone2 --cn phone2
	req POST "/client-certificates/token/$TOK" -H 'Content-Type: application/json' \
		--data-binary @"$T/phone.body"
	check_eq "crtokend with cfssl stopped: 503" 503 "$STATUS"
	check_eq "... ca_unavailable" ca_unavailable "$(jget "$T/body" "d['error']['code']")"
	check_eq "... the token is unused" active "$(state_of "$TID")"
	check "cfssl again" start_cfssl
	req POST "/client-certificates/token/$TOK" -H 'Content-Type: application/json' \
		--data-binary @"$T/phone.body"
	check_eq "... the same token now redeems (201)" 201 "$STATUS"
	stop_crtokend
else
	not_ok "crtokend starts with a cfssl CA"
fi

check_code "crtoken-admin crl for a cfssl CA answers crl_remote" crl_remote "$ADMIN" crl
check_contains "... saying who publishes it" "remote CA signs this CA's CRL" "$(cat "$T/.err")"

# ------------------------------------------------------------ RADIUS admission
check "lab CA and radiusd server certificate" rlm_lab_ca "$T"
cat "$C/ca.pem" "$T/lab-ca.pem" >"$T/client-cas.pem"
RLM_BUILD=$BUILD
RLM_CRTOKEN_CONF=$CRTOKEN_CONF
RLM_SERVER_CERT=$T/server.pem
RLM_SERVER_KEY=$T/server.key
RLM_CLIENT_CAS=$T/client-cas.pem
if rlm_write_config "$T/raddb" crtoken && rlm_start "$T/raddb"; then
	check_eq "rlm_crtoken admits the certificate cfssl signed (EAP-TLS Access-Accept)" accept \
		"$(rlm_eapol "$T/phone.pem" "$T/phone.key" "$T/phone.out" "$T/lab-ca.pem")"
	# signed by the cfssl CA directly, never through crtoken
	printf 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\nauthorityKeyIdentifier=keyid\n' >"$T/client.ext"
	make_csr "$T" mallory
	openssl x509 -req -in "$T/mallory.csr" -CA "$C/ca.pem" -CAkey "$C/ca-key.pem" \
		-set_serial "0x$(openssl rand -hex 16)" -days 30 -extfile "$T/client.ext" \
		-out "$T/mallory.pem" 2>/dev/null
	check_eq "a certificate the cfssl CA signed outside crtoken is rejected" reject \
		"$(rlm_eapol "$T/mallory.pem" "$T/mallory.key" "$T/mallory.out" "$T/lab-ca.pem")"
	check "revoke the crtokend certificate" "$ADMIN" cert revoke \
		"$(openssl x509 -in "$T/phone.pem" -noout -serial | cut -d= -f2)"
	check_eq "... rlm_crtoken now rejects it (revocation from the store)" reject \
		"$(rlm_eapol "$T/phone.pem" "$T/phone.key" "$T/phone.out" "$T/lab-ca.pem")"
	rlm_stop
else
	not_ok "radiusd starts"
	tail -20 "$T/raddb/radiusd.log" 2>/dev/null | sed 's/^/#   /'
fi

# ------------------------------------------------------------ OCSP
# ocsp NAME : crtokend's answer for $T/NAME.pem (openssl ocsp, checked
# against the cfssl CA), in $T/NAME.ocsp.
ocsp() {
	openssl ocsp -issuer "$C/ca.pem" -cert "$T/$1.pem" -url "$URL/ocsp" -CAfile "$C/ca.pem" \
		>"$T/$1.ocsp" 2>&1
	cat "$T/$1.ocsp"
}
if start_crtokend; then
	check_contains "OCSP for a cfssl CA without a delegated signer: unauthorized" \
		"unauthorized" "$(ocsp laptop)"
	stop_crtokend
fi
printf '{"CN": "crtoken OCSP responder", "key": {"algo": "ecdsa", "size": 256}}\n' >"$C/ocsp-csr.json"
(cd "$C" && cfssl gencert -ca ca.pem -ca-key ca-key.pem -config config.json -profile ocsp \
	ocsp-csr.json 2>/dev/null) >"$C/ocsp.json"
check "cfssl gencert -profile ocsp makes the delegated OCSP signer" $PY -c '
import json, os, sys
d = json.load(open(sys.argv[1]))
open(sys.argv[2], "w").write(d["cert"])
fd = os.open(sys.argv[3], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, d["key"].encode())
os.close(fd)' "$C/ocsp.json" "$T/ocsp-signer.pem" "$T/ocsp-signer.key"
sed -i -e "s|^;*signer_cert *=.*|signer_cert = $T/ocsp-signer.pem|" \
	-e "s|^;*signer_key *=.*|signer_key = $T/ocsp-signer.key|" "$CRTOKEN_CONF"
if start_crtokend; then
	check_contains "with the cfssl-issued signer: crtokend answers good for a stored certificate" \
		"$T/laptop.pem: good" "$(ocsp laptop)"
	check_contains "... and verifies against the cfssl CA" "Response verify OK" "$(cat "$T/laptop.ocsp")"
	check_contains "... revoked for the one revoked in crtoken" "$T/phone.pem: revoked" \
		"$(ocsp phone)"
	check_contains "... unknown for one the cfssl CA signed outside crtoken" \
		"$T/mallory.pem: unknown" "$(ocsp mallory)"
	stop_crtokend
else
	not_ok "crtokend starts with the cfssl-issued OCSP signer"
fi
cp "$T/conf.good" "$CRTOKEN_CONF"

# ------------------------------------------------------------ failures leave the token unused
refused() { # NAME CODE : redeem a fresh token, expect CODE, token unused, nothing stored
	_before=$(certs)
	token "$1" --cn "$1"
	check_code "$1: $2" "$2" "$ADMIN" redeem "$TOK" --csr "$T/laptop.csr" --out "$T/$1.pem"
	check_eq "$1: the token is unused" active "$(state_of "$TID")"
	check_eq "$1: nothing stored" "$_before" "$(certs)"
}

openssl rand -hex 32 >"$T/wrong.key"
chmod 600 "$T/wrong.key"
ca_set auth_key_file "$T/wrong.key"
refused wrong-hmac-key ca_rejected
check_contains "wrong-hmac-key: cfssl's reason is in the detail" "invalid token" "$(cat "$T/.err")"
check_eq "wrong-hmac-key: the refusal is audited with its code" 1 \
	"$(sqlite3 "$T/inst/crtoken.db" "SELECT count(*) FROM audit WHERE action = 'token.redeem_refused' AND object = '$TID' AND detail LIKE '%ca_rejected%'")"
cp "$T/conf.good" "$CRTOKEN_CONF"

chmod 640 "$C/auth.key"
check_code "attack_auth_key_readable_by_group: refused as unsafe_permissions" \
	unsafe_permissions "$ADMIN" ca show
chmod 600 "$C/auth.key"

stop_pid "$CF_PID"
CF_PID=""
refused cfssl-stopped ca_unavailable
check "cfssl again" start_cfssl

(cd "$T" && exec $PY "$TOP/tests/integration/cfssl_fake.py" $HOLD_PORT hold) &
HOLD_PID=$!
check "a server that never answers (127.0.0.1:$HOLD_PORT)" wait_port 127.0.0.1 $HOLD_PORT 100
ca_set url "http://127.0.0.1:$HOLD_PORT"
ca_set timeout_ms 300
refused slower-than-timeout_ms ca_unavailable
check_contains "slower-than-timeout_ms: the detail says it timed out" "imeout" "$(cat "$T/.err")"
cp "$T/conf.good" "$CRTOKEN_CONF"

fake() { # MODE ARG : cfssl_fake.py on FAKE_PORT, [ca] url pointing at it
	stop_pid "$FAKE_PID"
	(cd "$T" && exec $PY "$TOP/tests/integration/cfssl_fake.py" $FAKE_PORT "$1" "$2") &
	FAKE_PID=$!
	wait_port 127.0.0.1 $FAKE_PORT 100 && ca_set url "http://127.0.0.1:$FAKE_PORT"
}
check "a server answering 500" fake status 500
refused server-error ca_unavailable
check "a server answering 400" fake status 400
refused server-refusal ca_rejected

# A certificate the real cfssl CA signed, right subject, for another key.
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >"$T/leaf.ext"
make_csr "$T" other
openssl req -new -key "$T/other.key" -subj "/CN=attack_other_key" -out "$T/other.csr" 2>/dev/null
openssl x509 -req -in "$T/other.csr" -CA "$C/ca.pem" -CAkey "$C/ca-key.pem" -set_serial 4242 \
	-days 30 -extfile "$T/leaf.ext" -out "$T/other.pem" 2>/dev/null
check "a server returning a certificate for another key" fake answer "$T/other.pem"
refused attack_other_key ca_rejected
check_contains "attack_other_key: refused for its key" "another public key" "$(cat "$T/.err")"

# An impostor CA with the cfssl CA's very name, and a certificate for our key.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/imp-key.pem" \
	-out "$T/imp.pem" -subj "/CN=cfssl test CA/O=crtoken test" -days 30 2>/dev/null
openssl req -new -key "$T/laptop.key" -subj "/CN=attack_impostor_ca" -out "$T/imp-leaf.csr" 2>/dev/null
openssl x509 -req -in "$T/imp-leaf.csr" -CA "$T/imp.pem" -CAkey "$T/imp-key.pem" -set_serial 4343 \
	-days 30 -extfile "$T/leaf.ext" -out "$T/imp-leaf.pem" 2>/dev/null
check "a server returning a certificate from a same-named impostor CA" fake answer "$T/imp-leaf.pem"
refused attack_impostor_ca ca_rejected
check_contains "attack_impostor_ca: refused as not from the configured CA" "configured CA" \
	"$(cat "$T/.err")"
check_eq "the fake servers saw HMAC-authenticated requests" yes \
	"$($PY -c 'import json,sys,base64; r=[json.loads(l) for l in open(sys.argv[1])]; print("yes" if r and all(len(base64.b64decode(x["token"]))==32 and b"certificate_request" in base64.b64decode(x["request"]) for x in r) else "no")' "$T/$FAKE_PORT.requests.jsonl")"
check_eq "... every one POSTed to /api/v1/cfssl/authsign" /api/v1/cfssl/authsign \
	"$(sort -u "$T/$FAKE_PORT.paths")"
stop_pid "$FAKE_PID"
FAKE_PID=""
cp "$T/conf.good" "$CRTOKEN_CONF"

# ------------------------------------------------------------ config refusals
ca_set url "http://192.0.2.1:$CF_PORT"
check_code "attack_plain_http_to_a_remote_host: config_invalid" config_invalid "$ADMIN" ca show
cp "$T/conf.good" "$CRTOKEN_CONF"
ca_set key "$T/inst/ca.key"
check_code "type = cfssl with a key is config_invalid" config_invalid "$ADMIN" ca show
cp "$T/conf.good" "$CRTOKEN_CONF"
ca_unset auth_key_file
check_code "type = cfssl without auth_key_file is config_invalid" config_invalid "$ADMIN" ca show
cp "$T/conf.good" "$CRTOKEN_CONF"
check "the instance is usable again" "$ADMIN" ca show

# ------------------------------------------------------------ a named cfssl CA
# [ca NAME] takes the same type = cfssl keys: here beside a local default CA.
check "a second instance with a local default CA" "$ADMIN" init --dir "$T/inst2"
C2=$T/inst2/crtoken.conf
cp "$C2" "$T/conf2.good"
named_remote() { # extra lines for the [ca remote] section
	cp "$T/conf2.good" "$C2"
	printf '\n[ca remote]\ntype = cfssl\ncertificate = %s\nurl = http://127.0.0.1:%s\n%s\n' \
		"$C/ca.pem" "$CF_PORT" "$1" >>"$C2"
}
named_remote "auth_key_file = $C/auth.key"
L=$("$ADMIN" --config "$C2" ca list 2>&1)
check_contains "ca list shows the named cfssl CA" "remote" "$L"
check_contains "... as a remote (cfssl) CA" "cfssl" "$L"
J=$("$ADMIN" --config "$C2" ca show --ca remote --json)
check_eq "ca show --ca remote: the cfssl CA" "/CN=cfssl test CA/O=crtoken test" "$(json_get "$J" subject)"
check_code "ca create for a cfssl CA is refused (cfssl holds it)" ca_invalid \
	"$ADMIN" --config "$C2" ca create remote
named_remote ""
check_code "[ca NAME] type = cfssl without auth_key_file is config_invalid" config_invalid \
	"$ADMIN" --config "$C2" ca list
named_remote "auth_key_file = $C/auth.key
key = $T/inst2/ca.key"
check_code "[ca NAME] type = cfssl with a key is config_invalid" config_invalid \
	"$ADMIN" --config "$C2" ca list
named_remote "auth_key_file = $T/wrong.key
timeout_ms = 500"
chmod 644 "$T/wrong.key"
check_code "[ca NAME]: an auth key readable by others is unsafe_permissions" unsafe_permissions \
	"$ADMIN" --config "$C2" ca list
cp "$T/conf2.good" "$C2"

http_finish
