#!/bin/sh
# t_radius.sh — rlm_crtoken end to end: the real FreeRADIUS 3.2 server with
# rlm_crtoken.so, client certificates issued through crtoken-admin, and
# eapol_test doing EAP-TLS against 127.0.0.1:18121 (private config dir).
#
# Client certificates come from crtoken-admin redeem and, for one case,
# from crtokend's REST API.
#
# Certificates involved:
#   crtoken CA   the test instance's CA (ca.pem/ca.key, made by crtoken-admin
#                init 401 days in the past, so an expired certificate can be
#                issued for real under faketime)
#   lab CA       made with openssl (tests/integration/radius_lib.sh): signs radiusd's
#                server certificate and the "other CA" client certificate;
#                radiusd trusts client certificates from both CAs, so the
#                other-CA case reaches the module instead of failing the
#                TLS handshake
#   corp root, crtoken CA as its intermediate, a forger's sibling
#                intermediate and sub-CAs with crtoken's CA DN (openssl): the
#                forged-chain cases (H1)
# Every case asserts on Access-Accept / Access-Reject in eapol_test's output
# and, where the module decides, on the reason in radiusd's debug log.
. "$(dirname "$0")/lib.sh"
RLM_SRC=$TOP/rlm_crtoken
. "$TOP/tests/integration/radius_lib.sh"
RLM_BUILD=$BUILD
# Under SANITIZE=1 crtoken-admin and crtokend carry ASan, whose runtime must
# be preloaded ahead of libfaketime; the module itself is built with UBSan
# only (FreeRADIUS dlopens modules with RTLD_DEEPBIND, which ASan refuses).
ASAN_RT=""
if [ "${SANITIZE:-}" = 1 ]; then
	ASAN_RT=$(${CC:-cc} -print-file-name=libasan.so)
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
	export ASAN_OPTIONS
fi
# fake OFFSET CMD... : run CMD with the clock moved by OFFSET (libfaketime).
fake() {
	_off=$1
	shift
	if [ -n "$ASAN_RT" ]; then
		_ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
		LD_PRELOAD="$ASAN_RT /usr/lib/$_ma/faketime/libfaketime.so.1" FAKETIME="$_off" "$@"
	else
		faketime -f "$_off" "$@"
	fi
}

require_programs /usr/sbin/freeradius eapol_test faketime openssl sqlite3 curl "$ADMIN" \
	"$BUILD/bin/crtokend" "$BUILD/lib/rlm_crtoken.so"

at_exit rlm_stop

I=$T/inst
R=$T/raddb
LOG=$R/radiusd.log

# auth NAME : EAP-TLS with $T/NAME.pem + $T/NAME.key; prints accept|reject|error,
# eapol_test's output in $T/NAME.out.
auth() {
	rlm_eapol "$T/$1.pem" "$T/$1.key" "$T/$1.out" "$T/lab-ca.pem"
}
# log_since MARK : radiusd's log after line MARK.
log_mark() { wc -l <"$LOG"; }
log_since() { tail -n "+$(($1 + 1))" "$LOG"; }
out() { cat "$T/$1.out"; }

# issue NAME [--reply ...] : token + redemption through crtoken-admin; cert in
# $T/NAME.pem, serial in $T/NAME.serial. Extra args go to token create.
issue() {
	_nm=$1
	shift
	_tok=$("$ADMIN" --config "$CRTOKEN_CONF" token create --name "$_nm" --cn "$_nm" \
		"$@" --json) || return 1
	make_csr "$T" "$_nm" || return 1
	_j=$(${FAKE:+fake "$FAKE"} "$ADMIN" --config "$CRTOKEN_CONF" redeem \
		"$(json_get "$_tok" token)" --csr "$T/$_nm.csr" --out "$T/$_nm.pem" --json) ||
		return 1
	json_get "$_j" serial >"$T/$_nm.serial"
}

# redeem_http NAME : token from crtoken-admin, redeemed through crtokend's
# REST API (POST /client-certificates/token/{token}, require_login = no,
# plain HTTP on loopback); cert in $T/NAME.pem.
CRTOKEND=$BUILD/bin/crtokend
CRTOKEND_PID=""
HTTP_PORT=18131
at_exit 'stop_pid "$CRTOKEND_PID"'
redeem_http() {
	_nm=$1
	shift
	_tok=$("$ADMIN" --config "$CRTOKEN_CONF" token create --name "$_nm" --cn "$_nm" \
		"$@" --json) || return 1
	make_csr "$T" "$_nm" || return 1
	python3 -c 'import json,sys; print(json.dumps({"type": "CSR", "value": open(sys.argv[1]).read()}))' \
		"$T/$_nm.csr" >"$T/$_nm.body" || return 1
	curl -sS -o "$T/$_nm.json" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary @"$T/$_nm.body" \
		"http://127.0.0.1:$HTTP_PORT/client-certificates/token/$(json_get "$_tok" token)" \
		>"$T/$_nm.status" || return 1
	[ "$(cat "$T/$_nm.status")" = 201 ] || {
		cat "$T/$_nm.json"
		return 1
	}
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); open(sys.argv[2],"w").write(d["certificate"]); print(d["serial"])' \
		"$T/$_nm.json" "$T/$_nm.pem" >"$T/$_nm.serial"
}
start_crtokend() {
	sed -i -e "s|^;*listen *=.*|listen = 127.0.0.1:$HTTP_PORT|" \
		-e "s|^;*plain_http *=.*|plain_http = yes|" \
		-e "s|^;*require_login *=.*|require_login = no|" "$CRTOKEN_CONF" &&
		grep -q "^require_login = no" "$CRTOKEN_CONF" || return 1
	"$CRTOKEND" --config "$CRTOKEN_CONF" --foreground >>"$T/crtokend.log" 2>&1 &
	CRTOKEND_PID=$!
	wait_port 127.0.0.1 "$HTTP_PORT" 100
}

# ---------------------------------------------------------------- setup
check "crtoken instance (CA valid since 401 days ago)" \
	fake -401d "$ADMIN" init --dir "$I"
CRTOKEN_CONF=$I/crtoken.conf
export CRTOKEN_CONF
check "lab CA and radiusd server certificate (openssl)" rlm_lab_ca "$T"
cat "$I/ca.pem" "$T/lab-ca.pem" >"$T/client-cas.pem"

RLM_CRTOKEN_CONF=$CRTOKEN_CONF
RLM_SERVER_CERT=$T/server.pem
RLM_SERVER_KEY=$T/server.key
RLM_CLIENT_CAS=$T/client-cas.pem

check "alice: token with VLAN and Reply-Message redeemed" issue alice \
	--reply 'Tunnel-Type=VLAN' --reply 'Tunnel-Medium-Type=IEEE-802' \
	--reply 'Tunnel-Private-Group-Id=42' --reply 'Reply-Message=welcome alice'
check "bob: second certificate (revoked later)" issue bob --reply 'Reply-Message=hi bob'
check "dave: token with an unknown attribute and a bad value" issue dave \
	--reply 'Frobnicate-Level=1' --reply 'Tunnel-Type=Not-A-Tunnel-Type' \
	--reply 'Reply-Message=hi dave'
FAKE=-400d
check "carol: certificate issued 400 days ago, expired now (faketime)" issue carol
FAKE=""

# Same CA key, never issued through crtoken: signed directly with openssl.
mallory_cert() {
	make_csr "$T" mallory &&
		printf 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n' \
			>"$T/client.ext" &&
		openssl x509 -req -in "$T/mallory.csr" -CA "$I/ca.pem" -CAkey "$I/ca.key" \
			-set_serial "0x$(openssl rand -hex 16)" -days 30 -extfile "$T/client.ext" \
			-out "$T/mallory.pem" 2>/dev/null
}
check "mallory: signed by the crtoken CA key with openssl, never issued" mallory_cert

# Another CA, and the very serial alice's certificate has: only the issuer
# tells them apart.
eve_cert() {
	make_csr "$T" eve &&
		openssl x509 -req -in "$T/eve.csr" -CA "$T/lab-ca.pem" -CAkey "$T/lab-ca.key" \
			-set_serial "0x$(cat "$T/alice.serial")" -days 30 -extfile "$T/client.ext" \
			-out "$T/eve.pem" 2>/dev/null
}
check "eve: other CA, same serial as alice" eve_cert

# ---------------------------------------------------------------- check-eap-tls
check "radiusd config with the shipped check-eap-tls sample" rlm_write_config "$R" crtoken
check "freeradius -XC accepts the configuration" /usr/sbin/freeradius -XC -d "$R"
check "radiusd started (127.0.0.1:$RLM_PORT)" rlm_start "$R"
PID=$RLM_PID

m=$(log_mark)
check_eq "issued certificate: Access-Accept" accept "$(auth alice)"
check_contains "issued certificate: eapol_test saw Access-Accept" "(Access-Accept)" "$(out alice)"
check_contains "Access-Accept carries Tunnel-Type = VLAN (13)" \
	"Attribute 64 (Tunnel-Type) length=6
      Value: 0000000d" "$(out alice)"
check_contains "Access-Accept carries Tunnel-Medium-Type = IEEE-802 (6)" \
	"Attribute 65 (Tunnel-Medium-Type) length=6
      Value: 00000006" "$(out alice)"
check_contains "Access-Accept carries Tunnel-Private-Group-Id = 42" \
	"Attribute 81 (Tunnel-Private-Group-Id) length=4
      Value: 3432" "$(out alice)"
check_contains "Access-Accept carries the token's Reply-Message" \
	"Value: 'welcome alice'" "$(out alice)"
check_contains "module admitted alice's serial" \
	"Certificate $(cat "$T/alice.serial") issued by crtoken: admitted" "$(log_since "$m")"

# The issuer string FreeRADIUS sets must be the one crtoken stored.
seen_issuer=$(log_since "$m" | sed -n 's/.*TLS-Client-Cert-Issuer := "\(.*\)"$/\1/p' | head -1)
stored_issuer=$(sqlite3 "$I/crtoken.db" \
	"SELECT issuer FROM certificates WHERE serial = '$(cat "$T/alice.serial")'")
check_eq "TLS-Client-Cert-Issuer equals the stored issuer" "$stored_issuer" "$seen_issuer"

# A certificate redeemed through crtokend while radiusd runs is admitted
# at once (writer and reader side by side on the WAL store).
check "crtokend started (127.0.0.1:$HTTP_PORT, plain HTTP, no login)" start_crtokend
check "frank: redeemed through crtokend's REST API" redeem_http frank \
	--reply 'Tunnel-Private-Group-Id=77' --reply 'Reply-Message=hi frank'
check_eq "certificate from crtokend: Access-Accept" accept "$(auth frank)"
check_contains "certificate from crtokend: its Reply-Message" "Value: 'hi frank'" "$(out frank)"
check_contains "certificate from crtokend: its VLAN 77" \
	"Attribute 81 (Tunnel-Private-Group-Id) length=4
      Value: 3737" "$(out frank)"
stop_pid "$CRTOKEND_PID"
CRTOKEND_PID=""

m=$(log_mark)
check_eq "unknown reply attribute: still Access-Accept" accept "$(auth dave)"
check_eq "unknown reply attribute: second Access-Accept" accept "$(auth dave)"
check_contains "unknown reply attribute: the known ones are sent" "Value: 'hi dave'" "$(out dave)"
check_eq "unknown attribute name: warned once in the server log" 1 \
	"$(log_since "$m" | grep -c "^rlm_crtoken (crtoken): skipping reply attribute 'Frobnicate-Level'")"
check_eq "unparsable value: warned once in the server log" 1 \
	"$(log_since "$m" | grep -c "^rlm_crtoken (crtoken): skipping reply attribute 'Tunnel-Type'")"
check_eq "unknown attribute: mentioned in each request's debug log" 2 \
	"$(log_since "$m" | grep -c "WARNING: Skipping reply attribute 'Frobnicate-Level'")"

m=$(log_mark)
check_eq "same CA key, never issued: Access-Reject" reject "$(auth mallory)"
check_contains "never issued: eapol_test saw Access-Reject" "(Access-Reject)" "$(out mallory)"
check_contains "never issued: reason cert_not_found in the log" "(cert_not_found)" \
	"$(log_since "$m")"

m=$(log_mark)
check_eq "other CA with an issued serial: Access-Reject" reject "$(auth eve)"
check_contains "other CA: eapol_test saw Access-Reject" "(Access-Reject)" "$(out eve)"
check_contains "other CA: reason cert_wrong_issuer in the log" "(cert_wrong_issuer)" \
	"$(log_since "$m")"

m=$(log_mark)
check_eq "expired certificate: Access-Reject" reject "$(auth carol)"
check_contains "expired: eapol_test saw Access-Reject" "(Access-Reject)" "$(out carol)"
check_contains "expired: TLS refused the certificate as expired" "certificate has expired" \
	"$(log_since "$m")"

check_eq "bob before revocation: Access-Accept" accept "$(auth bob)"
check "bob revoked with crtoken-admin while radiusd runs" \
	"$ADMIN" --config "$CRTOKEN_CONF" cert revoke "$(cat "$T/bob.serial")"
m=$(log_mark)
check_eq "revoked certificate: Access-Reject on the next attempt" reject "$(auth bob)"
check_contains "revoked: eapol_test saw Access-Reject" "(Access-Reject)" "$(out bob)"
check_contains "revoked: reason cert_revoked in the log" "(cert_revoked)" "$(log_since "$m")"
check_contains "revoked: reason in Module-Failure-Message (auth log line)" \
	"Login incorrect (crtoken: Certificate $(cat "$T/bob.serial") rejected" "$(log_since "$m")"
check_eq "alice unaffected by bob's revocation" accept "$(auth alice)"

# A certificate carrying SubjectAltNames (email x2, UPN, DNS, URI from the
# token) through the real radiusd: FreeRADIUS parses them into
# TLS-Client-Cert-Subject-Alt-Name-* before the module runs; the module
# admits it with the token's reply attributes and rejects it once revoked.
# (FreeRADIUS 3.2 has no attribute for a URI SAN; openssl checks that one.)
check "sam: token with SubjectAltNames and VLAN 55 redeemed" issue sam \
	--san-email sam@example.com --san-email s.ample@example.com \
	--san-upn 'jörg@corp.example' --san-dns sam-pc.corp.example \
	--san-uri https://devices.example.com/sam-pc \
	--reply 'Tunnel-Type=VLAN' --reply 'Tunnel-Medium-Type=IEEE-802' \
	--reply 'Tunnel-Private-Group-Id=55' --reply 'Reply-Message=hi sam'
check_eq "sam: the certificate carries exactly the token's SubjectAltNames (openssl)" \
	"email:sam@example.com, email:s.ample@example.com, othername: UPN::jörg@corp.example, DNS:sam-pc.corp.example, URI:https://devices.example.com/sam-pc" \
	"$(openssl x509 -in "$T/sam.pem" -noout -ext subjectAltName | sed -n '2,$s/^ *//p')"
m=$(log_mark)
check_eq "certificate with SubjectAltNames: Access-Accept" accept "$(auth sam)"
check_contains "SubjectAltNames: eapol_test saw Access-Accept" "(Access-Accept)" "$(out sam)"
check_contains "SubjectAltNames: Access-Accept carries Tunnel-Type = VLAN (13)" \
	"Attribute 64 (Tunnel-Type) length=6
      Value: 0000000d" "$(out sam)"
check_contains "SubjectAltNames: Access-Accept carries Tunnel-Private-Group-Id = 55" \
	"Attribute 81 (Tunnel-Private-Group-Id) length=4
      Value: 3535" "$(out sam)"
check_contains "SubjectAltNames: Access-Accept carries the token's Reply-Message" \
	"Value: 'hi sam'" "$(out sam)"
check_contains "SubjectAltNames: module admitted sam's serial" \
	"Certificate $(cat "$T/sam.serial") issued by crtoken: admitted" "$(log_since "$m")"
check_contains "SubjectAltNames: FreeRADIUS read the e-mail SAN" \
	'TLS-Client-Cert-Subject-Alt-Name-Email := "sam@example.com"' "$(log_since "$m")"
check_contains "SubjectAltNames: FreeRADIUS read the second e-mail SAN too" \
	'TLS-Client-Cert-Subject-Alt-Name-Email := "s.ample@example.com"' "$(log_since "$m")"
check_contains "SubjectAltNames: FreeRADIUS read the DNS SAN" \
	'TLS-Client-Cert-Subject-Alt-Name-Dns := "sam-pc.corp.example"' "$(log_since "$m")"
check_contains "SubjectAltNames: FreeRADIUS read the UPN (UTF8String otherName)" \
	'TLS-Client-Cert-Subject-Alt-Name-Upn := "jörg@corp.example"' "$(log_since "$m")"
check "sam revoked with crtoken-admin while radiusd runs" \
	"$ADMIN" --config "$CRTOKEN_CONF" cert revoke "$(cat "$T/sam.serial")"
m=$(log_mark)
check_eq "revoked certificate with SubjectAltNames: Access-Reject" reject "$(auth sam)"
check_contains "SubjectAltNames revoked: eapol_test saw Access-Reject" "(Access-Reject)" "$(out sam)"
check_contains "SubjectAltNames revoked: reason cert_revoked in the log" "(cert_revoked)" \
	"$(log_since "$m")"
check_fails "SubjectAltNames revoked: no VLAN 55 handed out" grep -q "Value: 3535" "$T/sam.out"

# Fail closed when the store goes away, and keep serving. The WAL files
# move with the database: with a committed -wal left in place SQLite would
# still find the data.
store_away() {
	for _f in crtoken.db crtoken.db-wal crtoken.db-shm; do
		[ ! -e "$I/$_f" ] || mv "$I/$_f" "$T/$_f.away" || return 1
	done
}
store_back() {
	rm -f "$I/crtoken.db"
	for _f in crtoken.db crtoken.db-wal crtoken.db-shm; do
		[ ! -e "$T/$_f.away" ] || mv "$T/$_f.away" "$I/$_f" || return 1
	done
}
check "store moved away while radiusd runs" store_away
m=$(log_mark)
check_eq "store removed while running: Access-Reject" reject "$(auth alice)"
check_contains "store removed: eapol_test saw Access-Reject" "(Access-Reject)" "$(out alice)"
check_contains "store removed: module failed closed" "unavailable: failing closed" \
	"$(log_since "$m")"
check "store removed: radiusd still running" kill -0 "$PID"
check "store moved back" store_back
sleep 1.1 # the pool's retry_delay after a failed open
check_eq "store restored: Access-Accept again" accept "$(auth alice)"

check "store moved away again" store_away
head -c 65536 /dev/urandom >"$I/crtoken.db"
chmod 640 "$I/crtoken.db"
m=$(log_mark)
check_eq "store replaced by a file that is not a database: Access-Reject" reject "$(auth alice)"
check_contains "unreadable store: module failed closed" "unavailable: failing closed" \
	"$(log_since "$m")"
check "unreadable store: radiusd still running" kill -0 "$PID"
check "store moved back" store_back
sleep 1.1
check_eq "store back: Access-Accept again" accept "$(auth alice)"
rlm_stop

# ---------------------------------------------------------------- forged chains
# H1: crtoken's CA imported as an intermediate under a corporate root, and a
# forger who holds a sibling intermediate under the same root. The forger
# makes a sub-CA with crtoken's CA DN, then a client certificate carrying a
# victim's stored serial (visible in clear in EAP-TLS <= 1.2). Its chain
# verifies (root -> sibling -> fake sub-CA -> client) and serial and issuer
# name match what crtoken stored; only key material tells it apart.
#   root          /CN=Corp Root/O=Corp (self-signed)
#   crtoken CA    /CN=crtoken CA/O=Corp, signed by root, imported into $X
#   sibling       /CN=Corp Sibling/O=Corp, signed by root (the forger's)
#   fake CA       /CN=crtoken CA/O=Corp again, signed by sibling
#   fake2 CA      the same, also copying crtoken's CA Subject Key Identifier
X=$T/xinst
CAEXT=$T/ca.ext
CLIEXT=$T/cli.ext
printf '%s\n' "basicConstraints=critical,CA:TRUE" "keyUsage=critical,keyCertSign,cRLSign" \
	"subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid:always" >"$CAEXT"
printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
	"extendedKeyUsage=clientAuth" "subjectKeyIdentifier=hash" \
	"authorityKeyIdentifier=keyid:always" >"$CLIEXT"
# pki_ca NAME SUBJECT ISSUER [EXTFILE] : CA key $T/NAME.key and cert $T/NAME.pem
# signed by $T/ISSUER (self-signed when ISSUER is "-").
pki_ca() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/$1.key" 2>/dev/null &&
		openssl req -new -key "$T/$1.key" -subj "$2" -out "$T/$1.csr" 2>/dev/null || return 1
	if [ "$3" = - ]; then
		openssl x509 -req -in "$T/$1.csr" -signkey "$T/$1.key" -days 90 \
			-set_serial "0x$(openssl rand -hex 12)" -extfile "${4:-$CAEXT}" \
			-out "$T/$1.pem" 2>/dev/null
	else
		openssl x509 -req -in "$T/$1.csr" -CA "$T/$3.pem" -CAkey "$T/$3.key" -days 90 \
			-set_serial "0x$(openssl rand -hex 12)" -extfile "${4:-$CAEXT}" \
			-out "$T/$1.pem" 2>/dev/null
	fi
}
# ski FILE : the Subject Key Identifier of a certificate, "AA:BB:..."
ski() { openssl x509 -in "$1" -noout -ext subjectKeyIdentifier | sed -n '2s/^ *//p'; }
# forge NAME CA [EXTFILE] : client key/cert $T/NAME.{key,pem} signed by $T/CA
# with the victim's serial; NAME.pem carries the chain CA + sibling after it.
forge() {
	make_csr "$T" "$1" &&
		openssl x509 -req -in "$T/$1.csr" -CA "$T/$2.pem" -CAkey "$T/$2.key" -days 30 \
			-set_serial "0x$(cat "$T/victim.serial")" -extfile "${3:-$CLIEXT}" \
			-out "$T/$1.leaf" 2>/dev/null &&
		cat "$T/$1.leaf" "$T/$2.pem" "$T/sibling.pem" >"$T/$1.pem"
}
xissue() {
	_c=$CRTOKEN_CONF
	CRTOKEN_CONF=$X/crtoken.conf
	issue "$@"
	_r=$?
	CRTOKEN_CONF=$_c
	return $_r
}
check "corporate root CA (openssl)" pki_ca root "/CN=Corp Root/O=Corp" -
check "crtoken CA as an intermediate under the root" pki_ca xca "/CN=crtoken CA/O=Corp" root
check "crtoken instance with the imported intermediate CA" "$ADMIN" init --dir "$X" \
	--import-cert "$T/xca.pem" --import-key "$T/xca.key" --import-chain "$T/root.pem"
check "victim: certificate with VLAN 10 from the intermediate" xissue victim \
	--reply 'Tunnel-Type=VLAN' --reply 'Tunnel-Medium-Type=IEEE-802' \
	--reply 'Tunnel-Private-Group-Id=10' --reply 'Reply-Message=hi victim'
check "forger: sibling intermediate under the same root" \
	pki_ca sibling "/CN=Corp Sibling/O=Corp" root
check "forger: sub-CA with crtoken's exact CA DN under the sibling" \
	pki_ca fake "/CN=crtoken CA/O=Corp" sibling
check_eq "forger's sub-CA has the crtoken CA's subject" \
	"$(openssl x509 -in "$X/ca.pem" -noout -subject)" "$(openssl x509 -in "$T/fake.pem" -noout -subject)"
check "forger: client certificate with the victim's serial" forge forged fake
# The same, copying the key identifiers too: the sub-CA claims crtoken's CA
# SKI, the client certificate the victim's SKI (both visible on the wire).
sed "s/^subjectKeyIdentifier=.*/subjectKeyIdentifier=$(ski "$X/ca.pem")/" "$CAEXT" >"$T/fake2.ext"
sed "s/^subjectKeyIdentifier=.*/subjectKeyIdentifier=$(ski "$T/victim.pem")/" "$CLIEXT" >"$T/forged2.ext"
check "forger: sub-CA copying the crtoken CA's key identifier" \
	pki_ca fake2 "/CN=crtoken CA/O=Corp" sibling "$T/fake2.ext"
check "forger: client certificate copying serial and key identifiers" \
	forge forged2 fake2 "$T/forged2.ext"
check_eq "forged certificate copies the victim's Subject Key Identifier" \
	"$(ski "$T/victim.pem")" "$(ski "$T/forged2.leaf")"

# radiusd trusting the root and crtoken's CA, as the README used to say.
cat "$X/ca.pem" "$T/root.pem" >"$T/root-and-ca.pem"
(
	RLM_CRTOKEN_CONF=$X/crtoken.conf
	RLM_CLIENT_CAS=$T/root-and-ca.pem
	rlm_write_config "$R" crtoken
)
check "radiusd trusting root + crtoken CA started" rlm_start "$R"
check_eq "control: the victim's own certificate is accepted" accept "$(auth victim)"
check_contains "control: with the victim's VLAN 10" \
	"Attribute 81 (Tunnel-Private-Group-Id) length=4
      Value: 3130" "$(out victim)"
m=$(log_mark)
check_eq "forged_sibling_intermediate_same_dn_and_serial_rejected" reject "$(auth forged)"
check_contains "forged (same DN and serial): TLS accepted the chain, the module decided" \
	"TLS-Client-Cert-Issuer := \"$(sqlite3 "$X/crtoken.db" \
		"SELECT issuer FROM certificates WHERE serial = '$(cat "$T/victim.serial")'")\"" \
	"$(log_since "$m")"
check_contains "forged (same DN and serial): reason cert_wrong_issuer in the log" \
	"(cert_wrong_issuer)" "$(log_since "$m")"
check_fails "forged (same DN and serial): no VLAN 10 handed out" \
	grep -q "Value: 3130" "$T/forged.out"
m=$(log_mark)
# Copying crtoken's CA key identifier makes OpenSSL (trusted first) build
# the chain through crtoken's real CA, whose key did not sign it.
check_eq "forged_sibling_intermediate_copied_key_identifiers_rejected" reject "$(auth forged2)"
check_contains "forged (copied key identifiers): TLS refused the signature" \
	"certificate signature failure" "$(log_since "$m")"
rlm_stop

# The README's setting: ca_file holds only the issuing CA.
(
	RLM_CRTOKEN_CONF=$X/crtoken.conf
	RLM_CLIENT_CAS=$X/ca.pem
	rlm_write_config "$R" crtoken
)
check "radiusd trusting only the issuing CA started" rlm_start "$R"
check_eq "ca_file = issuing CA only: the victim's certificate is accepted" accept "$(auth victim)"
m=$(log_mark)
check_eq "forged_sibling_intermediate_rejected_with_ca_file_only_the_issuing_ca" reject \
	"$(auth forged)"
check_contains "ca_file = issuing CA only: the forged chain fails TLS" \
	"unable to get local issuer certificate" "$(log_since "$m")"
m=$(log_mark)
check_eq "ca_file = issuing CA only: copied key identifiers rejected too" reject "$(auth forged2)"
check_contains "ca_file = issuing CA only: copied key identifiers fail the signature" \
	"certificate signature failure" "$(log_since "$m")"
rlm_stop

# ---------------------------------------------------------------- noop / notfound
# With serial_attribute naming an attribute the request never has, the
# module returns noop. The shipped site must reject; the stock site shape
# (Auth-Type := Accept, no overrides) accepts, which is why it is not used.
RLM_MODULE_EXTRA="	serial_attribute = TLS-Client-Cert-Subject-Alt-Name-Upn"
rlm_write_config "$R" crtoken && rlm_start "$R"
m=$(log_mark)
check_eq "shipped check-eap-tls: module noop is an Access-Reject" reject "$(auth alice)"
check_contains "shipped check-eap-tls: the module did return noop" "[crtoken] = noop" \
	"$(log_since "$m")"
rlm_stop
rlm_write_config "$R" stock && rlm_start "$R"
check_eq "control: the stock check-eap-tls shape turns noop into Accept" accept "$(auth alice)"
rlm_stop
RLM_MODULE_EXTRA=""

# The key identifiers are what binds a certificate to the stored one: a
# request without one (deleted here before the module runs) is rejected,
# never admitted on serial and issuer name alone.
for kind in Authority Subject; do
	RLM_SITE_EXTRA="	update request {
		&TLS-Client-Cert-X509v3-$kind-Key-Identifier !* ANY
	}"
	rlm_write_config "$R" crtoken && rlm_start "$R"
	m=$(log_mark)
	check_eq "missing_$(echo "$kind" | tr A-Z a-z)_key_identifier_attribute_fails_closed" \
		reject "$(auth alice)"
	check_contains "no $kind Key Identifier: reason cert_mismatch in the log" \
		"(cert_mismatch): serial $(cat "$T/alice.serial"): no $kind Key Identifier presented" \
		"$(log_since "$m")"
	rlm_stop
done
RLM_SITE_EXTRA=""

# ---------------------------------------------------------------- as freerad
# The README's permissions: radiusd as freerad, group read on the config,
# the store and its WAL files, group search on the directory, nothing
# writable by freerad; revocation still live.
freerad_setup() {
	P=$T/pinst
	chmod 0711 "$T" && # let freerad reach $T/pinst; $T stays unwritable
		"$ADMIN" init --dir "$P" >/dev/null &&
		_main_conf=$CRTOKEN_CONF && CRTOKEN_CONF=$P/crtoken.conf &&
		issue grace --reply 'Reply-Message=hi grace' && CRTOKEN_CONF=$_main_conf &&
		chgrp freerad "$P" "$P/crtoken.conf" "$P"/crtoken.db* &&
		chmod 0750 "$P" && chmod 0640 "$P/crtoken.conf" "$P"/crtoken.db* &&
		mkdir -p "$T/fr" && cp "$T/server.pem" "$T/server.key" "$T/fr/" &&
		chown -R freerad:freerad "$T/fr"
}
as_freerad() { su -s /bin/sh freerad -c "$*"; }
if id freerad >/dev/null 2>&1; then
	check "instance with the README's permissions for freerad" freerad_setup
	ls -la "$P" | sed 's/^/# /'
	check_fails "freerad cannot write the store" as_freerad "test -w '$P/crtoken.db'"
	check_fails "freerad cannot write the store's directory" as_freerad "test -w '$P'"
	check "the WAL files exist for a read-only reader" test -e "$P/crtoken.db-wal" -a -e "$P/crtoken.db-shm"
	(
		RLM_USER=freerad
		RLM_CRTOKEN_CONF=$P/crtoken.conf
		RLM_CLIENT_CAS=$P/ca.pem
		RLM_SERVER_CERT=$T/fr/server.pem
		RLM_SERVER_KEY=$T/fr/server.key
		rlm_write_config "$T/fr/raddb" crtoken && chown -R freerad:freerad "$T/fr/raddb"
	)
	check "radiusd as freerad started" rlm_start "$T/fr/raddb"
	check_eq "radiusd runs as freerad" freerad "$(stat -c %U "/proc/$RLM_PID" 2>/dev/null)"
	check_eq "as freerad: issued certificate accepted" accept "$(auth grace)"
	check_contains "as freerad: Reply-Message from the store" "Value: 'hi grace'" "$(out grace)"
	check "as freerad: grace revoked with crtoken-admin" \
		"$ADMIN" --config "$P/crtoken.conf" cert revoke "$(cat "$T/grace.serial")"
	check_eq "as freerad: revoked certificate rejected next time" reject "$(auth grace)"
	rlm_stop
else
	not_ok "user freerad exists (package freeradius)"
fi

# ---------------------------------------------------------------- outer post-auth
check "radiusd with crtoken in the outer post-auth instead" rlm_write_config "$R" outer
check "radiusd (outer placement) started" rlm_start "$R"
check_eq "outer post-auth: issued certificate accepted" accept "$(auth alice)"
check_contains "outer post-auth: VLAN attributes in the Access-Accept" \
	"Attribute 81 (Tunnel-Private-Group-Id) length=4" "$(out alice)"
check_eq "outer post-auth: revoked certificate rejected" reject "$(auth bob)"
check_eq "outer post-auth: never-issued certificate rejected" reject "$(auth mallory)"
rlm_stop

finish
