#!/bin/sh
# t_attest.sh — YubiKey PIV key attestation at redemption, with the real
# programs: crtoken-admin redeem --attestation, crtokend (POST
# /client-certificates/token/{token} with "attestation") and crtoken-enroll
# --csr --attestation, against a hierarchy shaped like Yubico's made here
# with the openssl CLI (attest_lib.sh: root -> device f9 -> attestation
# certificate with the Yubico extensions as DER octets). Good, wrong root,
# key mismatch, missing under require, PIN policy too weak, touch policy too
# weak, firmware too old, malformed extensions: each refusal with its code
# and the token still unused, no certificate stored. crtokend on
# 127.0.0.1:18770 (this suite's range is 18770-18789).
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"
. "$TOP/tests/integration/attest_lib.sh"
RLM_SRC=$TOP/rlm_crtoken
. "$TOP/tests/integration/radius_lib.sh"
RLM_BUILD=$BUILD
RLM_PORT=18771
at_exit rlm_stop

http_instance "$T/inst" 18770 || { not_ok "instance"; finish; exit 1; }
A=$ADMIN

# ---------------------------------------------------------------- fixtures
attest_device "$T/dev" || { not_ok "the device hierarchy (openssl)"; finish; exit 1; }
attest_device "$T/other" || { not_ok "another device under another root"; finish; exit 1; }
ok "a Yubico-shaped hierarchy: root, device f9 (CA), attestation of the 9a key"
check "openssl itself verifies the attestation chain" \
	openssl verify -CAfile "$T/dev/root.pem" -untrusted "$T/dev/f9.pem" "$T/dev/attest.pem"
# the same device's key attested with other facts
attest_leaf "$T/dev" pin-never.pem '1.3.6.1.4.1.41482.3.3 = DER:05:04:03
1.3.6.1.4.1.41482.3.7 = DER:02:04:00:BC:61:4E
1.3.6.1.4.1.41482.3.8 = DER:01:02
1.3.6.1.4.1.41482.3.9 = DER:03'
attest_leaf "$T/dev" old-firmware.pem '1.3.6.1.4.1.41482.3.3 = DER:04:03:05
1.3.6.1.4.1.41482.3.7 = DER:02:04:00:BC:61:4E
1.3.6.1.4.1.41482.3.8 = DER:03:02
1.3.6.1.4.1.41482.3.9 = DER:01'
attest_leaf "$T/dev" bad-firmware.pem '1.3.6.1.4.1.41482.3.3 = DER:05:04
1.3.6.1.4.1.41482.3.8 = DER:03:02'
attest_leaf "$T/dev" bad-policy.pem '1.3.6.1.4.1.41482.3.8 = DER:07:02'
# the attestation certificate alone, without the device's intermediate
cp "$T/dev/attest.pem.leaf" "$T/dev/leaf-only.pem"

mkdir -p "$T/inst/attestation-roots"
cp "$T/dev/root.pem" "$T/inst/attestation-roots/yubico-piv-ca.pem"
printf '\n[attestation]\ntrusted_roots = attestation-roots\n' >>"$CRTOKEN_CONF"
check "crtoken-admin opens with [attestation] trusted_roots" "$A" crl

tok() {
	_tn=$1
	shift
	"$A" token create --name "$_tn" "$@" --json | jget - "d['token']"
}
tid() { "$A" token list --json | jget - "[t['id'] for t in d if t['name'] == '$1'][0]"; }
ncerts() { "$A" cert list --json | jget - "len(d)"; }

# refused NAME CODE TOKEN-NAME CMD... : CMD fails with CODE; the token stays
# active and unused, and no certificate was stored.
refused() {
	_name=$1 _code=$2 _tn=$3
	shift 3
	_before=$(ncerts)
	"$@" >"$T/.out" 2>&1
	_rc=$?
	_state=$("$A" token show "$(tid "$_tn")" --json | jget - "d['state'] + ' ' + (d['serial'] or '')")
	if [ $_rc -eq 0 ]; then
		not_ok "$_name (succeeded)"
	elif ! grep -q "$_code" "$T/.out"; then
		not_ok "$_name (expected $_code)"
		sed 's/^/#   /' "$T/.out" | tail -5
	elif [ "$_state" != "active " ] || [ "$(ncerts)" != "$_before" ]; then
		not_ok "$_name (token: $_state; certificates $_before -> $(ncerts))"
	else
		ok "$_name: $_code, token unused, nothing stored"
	fi
}

# ---------------------------------------------------------------- crtoken-admin
T1=$(tok yk-admin --attestation require --attest-pin-policy once --attest-touch-policy cached \
	--attest-min-firmware 5.2.3)
check_contains "token show --json has the policy" '"attestation": "require"' \
	"$("$A" token show "$(tid yk-admin)" --json)"
J=$("$A" redeem "$T1" --csr "$T/dev/csr.pem" --attestation "$T/dev/attest.pem" --json)
SERIAL=$(printf '%s' "$J" | jget - "d['serial']")
check_eq "admin redeem with a good attestation: the facts are in the answer" \
	"12345678 5.4.3 always cached usb-c-keychain 9a" \
	"$(printf '%s' "$J" | jget - "' '.join(str(d['attestation'][k]) for k in ('serial','firmware','pinPolicy','touchPolicy','formFactor','slot'))")"
ROOTFP=$(openssl x509 -in "$T/dev/root.pem" -outform DER | sha256sum | cut -d' ' -f1)
check_eq "... and the root they chain to" "$ROOTFP" "$(printf '%s' "$J" | jget - "d['attestation']['root']")"
check_contains "cert show prints the attested facts" \
	"attested: device serial 12345678, firmware 5.4.3, PIN policy always, touch policy cached" \
	"$("$A" cert show "$SERIAL")"
check_eq "cert show --json has them (stored with the certificate)" "12345678" \
	"$("$A" cert show "$SERIAL" --json | jget - "d['attestation']['serial']")"
check_eq "the token.redeem audit row has them" "12345678" \
	"$("$A" audit --action token.redeem --json | jget - "d[0]['detail']['attestation']['serial']")"

T2=$(tok yk-missing --attestation require)
refused "admin: require without an attestation" attestation_missing yk-missing \
	"$A" redeem "$T2" --csr "$T/dev/csr.pem"
refused "admin: an attestation under another root" attestation_untrusted yk-missing \
	"$A" redeem "$T2" --csr "$T/other/csr.pem" --attestation "$T/other/attest.pem"
refused "admin: attack_attestation_of_another_key (the CSR's key is not the attested one)" \
	attestation_key_mismatch yk-missing \
	"$A" redeem "$T2" --csr "$T/other/csr.pem" --attestation "$T/dev/attest.pem"
refused "admin: the attestation certificate without the device's intermediate" \
	attestation_malformed yk-missing \
	"$A" redeem "$T2" --csr "$T/dev/csr.pem" --attestation "$T/dev/leaf-only.pem"
refused "admin: malformed firmware extension (2 octets)" attestation_malformed yk-missing \
	"$A" redeem "$T2" --csr "$T/dev/csr.pem" --attestation "$T/dev/bad-firmware.pem"
refused "admin: malformed PIN policy (code 7)" attestation_malformed yk-missing \
	"$A" redeem "$T2" --csr "$T/dev/csr.pem" --attestation "$T/dev/bad-policy.pem"
refused "admin: a CSR file as the attestation" attestation_malformed yk-missing \
	"$A" redeem "$T2" --csr "$T/dev/csr.pem" --attestation "$T/dev/csr.pem"
T3=$(tok yk-pin --attestation verify --attest-pin-policy once)
refused "admin: PIN policy never, token requires once" attestation_policy yk-pin \
	"$A" redeem "$T3" --csr "$T/dev/csr.pem" --attestation "$T/dev/pin-never.pem"
T4=$(tok yk-touch --attestation require --attest-touch-policy always)
refused "admin: touch policy cached, token requires always" attestation_policy yk-touch \
	"$A" redeem "$T4" --csr "$T/dev/csr.pem" --attestation "$T/dev/attest.pem"
T5=$(tok yk-fw --attestation require --attest-min-firmware 5.4.0)
refused "admin: firmware 4.3.5, token requires 5.4.0" attestation_policy yk-fw \
	"$A" redeem "$T5" --csr "$T/dev/csr.pem" --attestation "$T/dev/old-firmware.pem"
check_contains "the refusal says which minimum" "firmware is 4.3.5; this token requires 5.4.0" \
	"$("$A" redeem "$T5" --csr "$T/dev/csr.pem" --attestation "$T/dev/old-firmware.pem" 2>&1)"

T6=$(tok yk-verify --attestation verify)
check "admin: verify without an attestation issues (nothing attested)" \
	sh -c "$A redeem $T6 --csr $T/other/csr.pem --json | grep -q '\"attestation\": null'"
T7=$(tok yk-ignore --attestation ignore)
check "admin: ignore does not look at a broken attestation" \
	"$A" redeem "$T7" --csr "$T/dev/csr.pem" --attestation "$T/dev/bad-firmware.pem"
check_code "token create: unknown mode" field_invalid "$A" token create --name x --attestation maybe
check_code "token create: bad firmware" field_invalid "$A" token create --name x \
	--attest-min-firmware 5.x

# ---------------------------------------------------------------- crtokend
start_crtokend || { not_ok "crtokend starts"; http_finish; exit 1; }
ok "crtokend starts with [attestation] trusted_roots"

# post TOKEN CSR-FILE [ATTESTATION-FILE] : the redemption over HTTP (STATUS, $T/body)
post() {
	$PY -c '
import json, sys
b = {"type": "CSR", "value": open(sys.argv[1]).read()}
if len(sys.argv) > 2:
    b["attestation"] = open(sys.argv[2]).read()
print(json.dumps(b))' "$2" ${3:+"$3"} >"$T/req.json"
	req POST "/client-certificates/token/$1" -H 'Content-Type: application/json' \
		--data-binary @"$T/req.json"
}
# hrefused NAME HTTP CODE TOKEN-NAME TOKEN CSR [ATTESTATION]
hrefused() {
	_name=$1 _http=$2 _code=$3 _tn=$4
	shift 4
	_before=$(ncerts)
	post "$@"
	_got=$(jget "$T/body" "d.get('error', {}).get('code')")
	_state=$("$A" token show "$(tid "$_tn")" --json | jget - "d['state']")
	if [ "$STATUS $_got" != "$_http $_code" ]; then
		not_ok "$_name (got $STATUS $_got)"
	elif [ "$_state" != active ] || [ "$(ncerts)" != "$_before" ]; then
		not_ok "$_name (token $_state; certificates $_before -> $(ncerts))"
	else
		ok "$_name: $_http $_code, token unused, nothing stored"
	fi
}

H1=$(tok yk-http --attestation require --attest-pin-policy always)
post "$H1" "$T/dev/csr.pem" "$T/dev/attest.pem"
check_eq "HTTP redeem with a good attestation: 201" 201 "$STATUS"
check_eq "... the certificate carries the attested serial" 12345678 \
	"$(jget "$T/body" "d['attestation']['serial']")"
H2=$(tok yk-http-r --attestation require --attest-pin-policy once --attest-touch-policy cached \
	--attest-min-firmware 5)
hrefused "HTTP: require without an attestation" 422 attestation_missing yk-http-r \
	"$H2" "$T/dev/csr.pem"
hrefused "HTTP: wrong root" 422 attestation_untrusted yk-http-r \
	"$H2" "$T/other/csr.pem" "$T/other/attest.pem"
hrefused "HTTP: key mismatch" 422 attestation_key_mismatch yk-http-r \
	"$H2" "$T/other/csr.pem" "$T/dev/attest.pem"
hrefused "HTTP: PIN policy never" 422 attestation_policy yk-http-r \
	"$H2" "$T/dev/csr.pem" "$T/dev/pin-never.pem"
hrefused "HTTP: firmware too old" 422 attestation_policy yk-http-r \
	"$H2" "$T/dev/csr.pem" "$T/dev/old-firmware.pem"
hrefused "HTTP: malformed extensions" 400 attestation_malformed yk-http-r \
	"$H2" "$T/dev/csr.pem" "$T/dev/bad-policy.pem"
printf '{"type":"GENERATE","attestation":"x"}' >"$T/gen.json"
req POST "/client-certificates/token/$H2" -H 'Content-Type: application/json' \
	--data-binary @"$T/gen.json"
check_eq "HTTP: GENERATE with an attestation is request_invalid (a server key is never attested)" \
	"400 request_invalid" "$STATUS $(jget "$T/body" "d.get('error', {}).get('code')")"
printf '{"type":"GENERATE"}' >"$T/gen.json"
req POST "/client-certificates/token/$H2" -H 'Content-Type: application/json' \
	--data-binary @"$T/gen.json"
check_eq "HTTP: GENERATE on a require token: attestation_missing" \
	"422 attestation_missing" "$STATUS $(jget "$T/body" "d.get('error', {}).get('code')")"

# ---------------------------------------------------------------- crtoken-enroll
E1=$(tok yk-enroll --attestation require)
mkdir -p "$T/out"
printf '%s\n' "$E1" >"$T/e1.tok"
check "crtoken-enroll --csr --attestation: issued" \
	"$ENROLL" --server "$URL" --token-file "$T/e1.tok" --no-login --out-dir "$T/out" \
	--name yk --csr "$T/dev/csr.pem" --attestation "$T/dev/attest.pem"
check "... the certificate is for the device's key" sh -c \
	"[ \"\$(openssl x509 -in $T/out/yk.crt -noout -pubkey)\" = \"\$(openssl pkey -in $T/dev/key.pem -pubout)\" ]"
check_fails "... and no key file was written (the key stays on the device)" test -e "$T/out/yk.key"
E2=$(tok yk-enroll-2 --attestation require)
printf '%s\n' "$E2" >"$T/e2.tok"
check_code "crtoken-enroll --csr without --attestation: attestation_missing" attestation_missing \
	"$ENROLL" --server "$URL" --token-file "$T/e2.tok" --no-login --out-dir "$T/out" \
	--name yk2 --csr "$T/dev/csr.pem"
check_code "crtoken-enroll --attestation without --csr is a usage error" "needs --csr" \
	"$ENROLL" --server "$URL" --token-file "$T/e2.tok" --no-login --out-dir "$T/out" \
	--attestation "$T/dev/attest.pem"
stop_crtokend

# ---------------------------------------------------------------- RADIUS
# rlm_crtoken's attestation_attribute puts the attested facts of the
# admitted certificate into a control attribute; unlang policy after it
# decides (here: a Reply-Message only for keys attested with PIN always).
R=$T/raddb
T8=$(tok plain)
"$A" redeem "$T8" --csr "$T/other/csr.pem" --out "$T/other/plain.crt" >/dev/null
check "lab CA and radiusd server certificate (openssl)" rlm_lab_ca "$T"
RLM_CRTOKEN_CONF=$CRTOKEN_CONF
RLM_SERVER_CERT=$T/server.pem
RLM_SERVER_KEY=$T/server.key
RLM_CLIENT_CAS=$T/inst/ca.pem
RLM_MODULE_EXTRA="	attestation_attribute = Tmp-String-9"
RLM_SITE_EXTRA='	crtoken {
		notfound = reject
		noop = reject
	}
	if (&control:Tmp-String-9 =~ /pin=always/) {
		update reply {
			&Reply-Message := "attested %{control:Tmp-String-9}"
		}
	}'
check "radiusd config with attestation_attribute = Tmp-String-9" rlm_write_config "$R" crtoken
check "freeradius -XC accepts it" /usr/sbin/freeradius -XC -d "$R"
if rlm_start "$R"; then
	ok "radiusd started (127.0.0.1:$RLM_PORT)"
	check_eq "EAP-TLS with the attested certificate (key on the 'device'): Access-Accept" accept \
		"$(rlm_eapol "$T/out/yk.crt" "$T/dev/key.pem" "$T/yk.out" "$T/lab-ca.pem")"
	check_contains "policy saw the attested facts (Reply-Message)" \
		"Value: 'attested serial=12345678 firmware=5.4.3 pin=always touch=cached form=usb-c-keychain slot=9a'" \
		"$(cat "$T/yk.out")"
	check_eq "a certificate without an attestation: Access-Accept" accept \
		"$(rlm_eapol "$T/other/plain.crt" "$T/other/key.pem" "$T/plain.out" "$T/lab-ca.pem")"
	check_fails "... and no attested Reply-Message" grep -q "attested serial" "$T/plain.out"
	rlm_stop
else
	not_ok "radiusd started"
	tail -20 "$R/radiusd.log" | sed 's/^/#   /'
fi
RLM_MODULE_EXTRA="	attestation_attribute = Frobnicate-Level"
rlm_write_config "$R" crtoken
if rlm_start "$R"; then
	not_ok "attestation_attribute naming no dictionary attribute is refused (radiusd started)"
	rlm_stop
else
	check_contains "attestation_attribute naming no dictionary attribute: radiusd refuses to start" \
		"attestation_attribute 'Frobnicate-Level' is not a string attribute" "$(cat "$R/radiusd.log")"
fi
RLM_MODULE_EXTRA=""
RLM_SITE_EXTRA=""

# ---------------------------------------------------------------- the roots directory
chmod 666 "$T/inst/attestation-roots/yubico-piv-ca.pem"
check_code "attack_trusted_root_writable_by_others: refused at open" unsafe_permissions \
	"$A" crl
chmod 644 "$T/inst/attestation-roots/yubico-piv-ca.pem"
chmod 777 "$T/inst/attestation-roots"
check_code "attack_roots_directory_writable_by_others: refused at open" unsafe_permissions \
	"$A" crl
chmod 755 "$T/inst/attestation-roots"
check "token list (no CA needed) does not read the roots" "$A" token list

http_finish
