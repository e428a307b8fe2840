#!/bin/sh
# t_profiles_signed.sh — the signed Apple .mobileconfig ([network]
# mobileconfig_signer_cert / _key / _chain): the download is a CMS SignedData
# (DER, SHA-256, content attached, signer + chain included) that
# `openssl cms -verify` accepts against the signer's root CA, and whose
# content is byte for byte the unsigned profile. REST and crtoken-enroll
# --profile mobileconfig both get it; an unsafe signer key or one that does
# not match the certificate is refused with a clear error.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

http_instance "$T/inst" 18710 || { not_ok "instance"; finish; exit 1; }
plain_token() { "$ADMIN" token create --name "$1" --cn "$2" --json | jget - "d['token']"; }

# The RADIUS server's CA, and a signer: root → intermediate → leaf.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/CN=radius lab CA" -keyout "$T/lab-ca.key" -out "$T/lab-ca.pem" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/CN=profile signing root" -keyout "$T/sroot.key" -out "$T/sroot.pem" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$T/ca.ext"
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection,codeSigning\n' >"$T/leaf.ext"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj "/CN=profile signing intermediate" -keyout "$T/sint.key" -out "$T/sint.csr" 2>/dev/null
openssl x509 -req -in "$T/sint.csr" -CA "$T/sroot.pem" -CAkey "$T/sroot.key" -CAcreateserial \
	-days 30 -extfile "$T/ca.ext" -out "$T/sint.pem" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj "/CN=Corp profile signer" -keyout "$T/signer.key" -out "$T/signer.csr" 2>/dev/null
openssl x509 -req -in "$T/signer.csr" -CA "$T/sint.pem" -CAkey "$T/sint.key" -CAcreateserial \
	-days 30 -extfile "$T/leaf.ext" -out "$T/signer.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/other.key" 2>/dev/null
chmod 600 "$T/signer.key" "$T/other.key"
check "the signer chain verifies (setup)" \
	openssl verify -CAfile "$T/sroot.pem" -untrusted "$T/sint.pem" "$T/signer.pem"

conf_set ssid "Corp WiFi" && conf_set_in network ca_file "$T/lab-ca.pem" &&
	conf_set server_names "radius.test" && conf_set name "Corp 802.1X" ||
	{ not_ok "configure [network]"; finish; exit 1; }
apikey || { not_ok "api key"; finish; exit 1; }

# A certificate and its legacy PKCS#12 (GENERATE), and the profile request for them.
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
new_token gen
jreq POST "/client-certificates/token/$TOKEN" '{"type":"GENERATE","passphrase":"pw","pkcs12Form":"legacy"}'
check_status "GENERATE (legacy PKCS#12) is 201" 201 -
jget "$T/body" "d['pkcs12']" | base64 -d >"$T/gen.p12"
$PY -c 'import base64,json,sys; print(json.dumps({"certificate": json.load(open(sys.argv[1]))["certificate"], "pkcs12": base64.b64encode(open(sys.argv[2],"rb").read()).decode()}))' \
	"$T/body" "$T/gen.p12" >"$T/mc.json"
# profile OUT : POST /network-profiles/mobileconfig, the decoded file in OUT.
profile() {
	req POST /network-profiles/mobileconfig -H 'Content-Type: application/json' \
		--data-binary "@$T/mc.json"
	[ "$STATUS" = 200 ] && jget "$T/body" "d['data']" | base64 -d >"$1"
}

# --- Unsigned (no signer configured): today's plist.
check "unsigned: POST /network-profiles/mobileconfig is 200" profile "$T/unsigned.mobileconfig"
check_eq "unsigned: the content type" "application/x-apple-aspen-config" \
	"$(jget "$T/body" "d['contentType']")"
check "unsigned: it is the XML plist" $PY -c '
import plistlib, sys; assert plistlib.load(open(sys.argv[1], "rb"))["PayloadType"] == "Configuration"' \
	"$T/unsigned.mobileconfig"
stop_crtokend

# --- Signed.
conf_set mobileconfig_signer_cert "$T/signer.pem" && conf_set mobileconfig_signer_key "$T/signer.key" &&
	conf_set mobileconfig_signer_chain "$T/sint.pem" || { not_ok "configure the signer"; finish; exit 1; }
start_crtokend || { not_ok "crtokend starts with a signer"; finish; exit 1; }
check "signed: POST /network-profiles/mobileconfig is 200" profile "$T/signed.mobileconfig"
check_eq "signed: the same content type" "application/x-apple-aspen-config" \
	"$(jget "$T/body" "d['contentType']")"
check_eq "signed: the same file name" "gen.mobileconfig" "$(jget "$T/body" "d['filename']")"
check "signed: openssl cms -verify accepts it against the signer's root CA" \
	openssl cms -verify -inform DER -in "$T/signed.mobileconfig" -CAfile "$T/sroot.pem" \
	-purpose any -out "$T/signed.content"
check "signed: its content is byte for byte the unsigned profile" \
	cmp "$T/unsigned.mobileconfig" "$T/signed.content"
check_fails "signed: it does not verify against another CA" \
	openssl cms -verify -inform DER -in "$T/signed.mobileconfig" -CAfile "$T/lab-ca.pem" \
	-purpose any -out /dev/null
CMSINFO=$(openssl cms -cmsout -print -inform DER -in "$T/signed.mobileconfig" 2>&1)
check_contains "signed: SignedData" "contentType: pkcs7-signedData" "$CMSINFO"
check_contains "signed: SHA-256 digest" "algorithm: sha256" "$CMSINFO"
check_contains "signed: the content is attached (pkcs7-data eContent)" "eContentType: pkcs7-data" "$CMSINFO"
openssl cms -verify -inform DER -in "$T/signed.mobileconfig" -noverify -certsout "$T/certs.pem" \
	-out /dev/null 2>/dev/null
check_eq "signed: it carries the signer and the intermediate" 2 "$(grep -c 'BEGIN CERTIFICATE' "$T/certs.pem")"
check "signed: ... the intermediate among them" grep -qF "$(sed -n 2p "$T/sint.pem")" "$T/certs.pem"

# crtoken-enroll --profile mobileconfig gets the signed file too.
TOK=$(plain_token dev alice)
mkdir -p "$T/m"
check "crtoken-enroll --profile mobileconfig (signed)" env CRTOKEN_P12_PASSPHRASE='p12 pass' \
	"$ENROLL" --server "$URL" --token "$TOK" --no-login --out-dir "$T/m" --name dev \
	--profile mobileconfig
check "crtoken-enroll's mobileconfig verifies" \
	openssl cms -verify -inform DER -in "$T/m/dev.mobileconfig" -CAfile "$T/sroot.pem" \
	-purpose any -out "$T/m/content.plist"
check "... and holds the profile for the enrolled certificate" $PY -c '
import plistlib, sys
d = plistlib.load(open(sys.argv[1], "rb"))
net = [p for p in d["PayloadContent"] if p["PayloadType"] == "com.apple.wifi.managed"][0]
assert net["SSID_STR"] == "Corp WiFi" and net["EAPClientConfiguration"]["UserName"] == "alice"' \
	"$T/m/content.plist"
check_eq "other formats stay unsigned" "network={" "$(
	req POST /network-profiles/wpa_supplicant -H 'Content-Type: application/json' --data-binary "@$T/mc.json"
	jget "$T/body" "d['data']" | base64 -d | grep -o '^network={')"
stop_crtokend

# --- Attack: a signer key others can read is not used (the profile is not
# signed with a key anyone on the host could have copied).
chmod 640 "$T/signer.key"
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
req POST /network-profiles/mobileconfig -H 'Content-Type: application/json' --data-binary "@$T/mc.json"
check_status "attack: signer key readable by the group → 500 unsafe_permissions" 500 unsafe_permissions
check_fails "... and no profile is sent" grep -q '"data"' "$T/body"
check "... the log names the key file" grep -q "unsafe_permissions: \[network\] mobileconfig_signer_key: .*signer.key" "$T/crtokend.log"
stop_crtokend
chmod 600 "$T/signer.key"

# --- A key that does not match the certificate.
conf_set mobileconfig_signer_key "$T/other.key"
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
req POST /network-profiles/mobileconfig -H 'Content-Type: application/json' --data-binary "@$T/mc.json"
check_status "a signer key that does not match the certificate → 500 config_invalid" 500 config_invalid
check "... the log says so" grep -q "config_invalid: \[network\] mobileconfig_signer_key does not match mobileconfig_signer_cert" "$T/crtokend.log"
stop_crtokend

# --- A certificate without a key is a configuration error at start.
sed -i -e 's|^mobileconfig_signer_key = .*|;mobileconfig_signer_key =|' "$CRTOKEN_CONF"
check_code "a signer certificate without a key is refused at start" \
	"mobileconfig_signer_cert and mobileconfig_signer_key go together" \
	timeout 10 "$CRTOKEND" --config "$CRTOKEN_CONF" --foreground
http_finish
