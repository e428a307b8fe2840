#!/bin/sh
# t_profiles.sh — network onboarding profiles (crtoken-enroll --profile,
# POST /network-profiles/{format}), each checked by the real consumer Debian
# has for it: wpa_supplicant parses its network block, NetworkManager's own
# keyfile reader (nmcli --offline) reads the keyfile and runs the nmcli
# recipe, xmllint reads the XML formats and validates the WLAN profile, the
# wired LAN profile and the eap-config against our own XSDs (tests/schemas),
# python3's plistlib the mobileconfig, openssl pkcs12 every PKCS#12 (modern
# and legacy forms, key and chain). The SSID carries characters each format must escape.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

http_instance "$T/inst" 18570 || { not_ok "instance"; finish; exit 1; }
plain_token() { "$ADMIN" token create --name "$1" --cn "$2" --json | jget - "d['token']"; }

# The RADIUS server's CA: a separate "lab" CA, as on a real site.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/CN=radius lab CA" -keyout "$T/lab-ca.key" -out "$T/lab-ca.pem" 2>/dev/null
SSID='Café & "Co" <x>'"'"'s'
# (sed would read & in the value: write it with Python)
$PY -c 'import sys; p = sys.argv[1]; s = open(p).read().replace("\n;ssid =\n", "\nssid = " + sys.argv[2] + "\n"); open(p, "w").write(s)' \
	"$CRTOKEN_CONF" "$SSID"
grep -qx "ssid = $SSID" "$CRTOKEN_CONF" && conf_set_in network ca_file "$T/lab-ca.pem" &&
	conf_set server_names "radius.test, radius2.test" && conf_set name "Corp 802.1X" ||
	{ not_ok "configure [network]"; finish; exit 1; }
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
apikey || { not_ok "api key"; finish; exit 1; }

# enroll FORMAT DIR : redeem a fresh token with crtoken-enroll --profile FORMAT.
enroll() {
	_tok=$(plain_token "dev-$1" alice) || return 1
	mkdir -p "$2"
	CRTOKEN_P12_PASSPHRASE='p12 pass' "$ENROLL" --server "$URL" --token "$_tok" --no-login \
		--out-dir "$2" --name dev --profile "$1" >"$T/enroll.out" 2>&1
}

# The lab CA's DER, base64, one line.
LAB_DER=$(openssl x509 -in "$T/lab-ca.pem" -outform DER | base64 -w0)

# --- wpa_supplicant: its own parser reads the block (-dd shows every value).
check "crtoken-enroll --profile wpa_supplicant" enroll wpa_supplicant "$T/w"
check "the RADIUS CA is written beside the certificate" cmp "$T/lab-ca.pem" "$T/w/dev-radius-ca.pem"
{ printf 'ctrl_interface=\nap_scan=1\n'; cat "$T/w/dev-wpa_supplicant.conf"; } >"$T/w.conf"
wpa_supplicant -D wired -i crtnoif0 -c "$T/w.conf" -dd >"$T/w.log" 2>&1
check_fails "wpa_supplicant reports no configuration error" \
	grep -e 'Failed to read or parse' -e 'failed to parse' -e 'Invalid' "$T/w.log"
check_contains "wpa_supplicant reads the SSID with its quotes and <>" \
	"id=0 ssid='Caf\\xc3\\xa9 & \\\"Co\\\" <x>'s'" "$(cat "$T/w.log")"
check "wpa_supplicant reads EAP-TLS (method 13)" \
	grep -q 'eap methods - hexdump(len=16): 00 00 00 00 0d 00' "$T/w.log"
check_contains "wpa_supplicant reads both server names" \
	"$(printf 'radius.test;radius2.test' | od -An -tx1 -N8 | sed 's/^ //')" "$(cat "$T/w.log")"
check "the block points at the written files" grep -q "client_cert=\"$T/w/dev.crt\"" \
	"$T/w/dev-wpa_supplicant.conf"

# --- NetworkManager keyfile: nmcli --offline reads and verifies it.
check "crtoken-enroll --profile networkmanager" enroll networkmanager "$T/n"
nmcli --offline connection modify connection.autoconnect yes \
	<"$T/n/dev.nmconnection" >"$T/n.out" 2>&1
check "NetworkManager's keyfile reader accepts the keyfile" test $? -eq 0
check "... as a Wi-Fi WPA-EAP connection" grep -q '^key-mgmt=wpa-eap' "$T/n.out"
check "... with EAP-TLS and the server names" grep -q '^domain-match=radius.test;radius2.test' "$T/n.out"
check "... with the SSID bytes" grep -q "^ssid=$(printf '%s' "$SSID" | od -An -tu1 -v | tr -s ' \n' ';' | sed 's/^;//')" "$T/n.out"
check "... with the key needing no password" grep -q '^private-key-password-flags=4' "$T/n.out"

# --- nmcli recipe: run through nmcli --offline, it makes the same connection.
check "crtoken-enroll --profile nmcli" enroll nmcli "$T/c"
mkdir -p "$T/shim"
printf '#!/bin/sh\nexec nmcli --offline "$@"\n' >"$T/shim/nmcli.real"
chmod +x "$T/shim/nmcli.real"
sed "s|^nmcli |\"$T/shim/nmcli.real\" |" "$T/c/dev-nmcli.sh" >"$T/c/run.sh"
sh "$T/c/run.sh" >"$T/c.out" 2>&1
check "the nmcli recipe runs (nmcli --offline)" test $? -eq 0
for k in key-mgmt=wpa-eap domain-match=radius.test\;radius2.test identity=alice \
	"private-key=$T/c/dev.key" "ca-cert=$T/c/dev-radius-ca.pem" private-key-password-flags=4; do
	check "nmcli recipe sets $k" grep -qx "$k" "$T/c.out"
done
check "nmcli recipe and keyfile give the same SSID" test \
	"$(grep '^ssid=' "$T/c.out")" = "$(grep '^ssid=' "$T/n.out")"

# --- Windows WLAN profile XML and the netsh commands.
check "crtoken-enroll --profile windows" enroll windows "$T/x"
check "xmllint reads the WLAN profile" xmllint --noout "$T/x/dev.xml"
# Our own XSDs (tests/schemas: written from Microsoft's published schema
# documentation; Debian ships none and nothing is fetched).
S=$TOP/tests/schemas
check "the WLAN profile validates against tests/schemas/wlan_profile_v1.xsd" \
	xmllint --noout --schema "$S/wlan_profile_v1.xsd" "$T/x/dev.xml"
# mutilate IN OUT EXPR : OUT is IN with EXPR (Python, r = the root) applied.
mutilate() {
	$PY -c '
import sys, xml.etree.ElementTree as E
t = E.parse(sys.argv[1]); r = t.getroot()
W = "{http://www.microsoft.com/networking/WLAN/profile/v1}"
exec(sys.argv[3])
t.write(sys.argv[2], encoding="UTF-8", xml_declaration=True)' "$@"
}
check "mutilated copy no-type.xml made" mutilate "$T/x/dev.xml" "$T/x/no-type.xml" 'r.remove(r.find(W + "connectionType"))'
check_fails "a WLAN profile without connectionType fails the schema" \
	xmllint --noout --schema "$S/wlan_profile_v1.xsd" "$T/x/no-type.xml"
check "mutilated copy reordered.xml made" mutilate "$T/x/dev.xml" "$T/x/reordered.xml" 'e = r.find(W + "name"); r.remove(e); r.insert(2, e)'
check_fails "a WLAN profile with name after SSIDConfig fails the schema" \
	xmllint --noout --schema "$S/wlan_profile_v1.xsd" "$T/x/reordered.xml"
check "mutilated copy no-vendor.xml made" mutilate "$T/x/dev.xml" "$T/x/no-vendor.xml" '
m = r.find(".//{http://www.microsoft.com/provisioning/EapHostConfig}EapMethod")
m.remove(m.find("{http://www.microsoft.com/provisioning/EapCommon}VendorId"))'
check_fails "a WLAN profile whose EapMethod lacks VendorId fails the schema" \
	xmllint --noout --schema "$S/wlan_profile_v1.xsd" "$T/x/no-vendor.xml"
TP=$(openssl x509 -in "$T/lab-ca.pem" -noout -fingerprint -sha1 | cut -d= -f2 | tr 'A-F:' 'a-f ')
check "WLAN profile: SSID hex, server names, the lab CA's thumbprint" $PY -c '
import sys, xml.etree.ElementTree as E
r = E.parse(sys.argv[1]).getroot()
W = "{http://www.microsoft.com/networking/WLAN/profile/v1}"
T = "{http://www.microsoft.com/provisioning/EapTlsConnectionPropertiesV1}"
assert r.tag == W + "WLANProfile", r.tag
assert r.find(W + "SSIDConfig/" + W + "SSID/" + W + "hex").text == sys.argv[2].encode().hex().upper()
assert r.find(W + "SSIDConfig/" + W + "SSID/" + W + "name").text == sys.argv[2]
assert r.find(".//" + W + "useOneX").text == "true"
assert r.find(".//" + T + "ServerNames").text == "radius.test;radius2.test"
assert [e.text for e in r.iter(T + "TrustedRootCA")] == [sys.argv[3]]
assert r.find(".//{http://www.microsoft.com/provisioning/BaseEapConnectionPropertiesV1}Type").text == "13"
' "$T/x/dev.xml" "$SSID" "$TP"
INFO=$(openssl pkcs12 -in "$T/x/dev-legacy-3des.p12" -passin 'pass:p12 pass' -info -noout 2>&1)
check_contains "the Windows PKCS#12 is the legacy form (3DES bags)" \
	"Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC" "$INFO"
check_contains "... with a SHA-1 MAC" "MAC: sha1" "$INFO"
check "crtoken-enroll --profile netsh" enroll netsh "$T/h"
check "netsh commands import CA, PKCS#12 and profile" sh -c '
grep -q "certutil -user -addstore Root \"dev-radius-ca.pem\"" "$1" &&
grep -q "certutil -user -importPFX \"dev-legacy-3des.p12\"" "$1" &&
grep -q "netsh wlan add profile filename=\"dev.xml\" user=current" "$1"' - "$T/h/dev-install.cmd"

# --- Apple mobileconfig: plistlib reads it; payloads reference each other.
check "crtoken-enroll --profile mobileconfig" enroll mobileconfig "$T/m"
check "mobileconfig: the key file inside is 0600" test "$(stat -c %a "$T/m/dev.mobileconfig")" = 600
check "plistlib reads the mobileconfig; CA, PKCS#12 and Wi-Fi payloads agree" $PY -c '
import base64, plistlib, sys
d = plistlib.load(open(sys.argv[1], "rb"))
assert d["PayloadType"] == "Configuration" and d["PayloadVersion"] == 1
types = {p["PayloadType"]: p for p in d["PayloadContent"]}
ca, p12, net = types["com.apple.security.root"], types["com.apple.security.pkcs12"], types["com.apple.wifi.managed"]
assert base64.b64encode(ca["PayloadContent"]).decode() == sys.argv[3]
eap = net["EAPClientConfiguration"]
assert eap["AcceptEAPTypes"] == [13]
assert eap["TLSTrustedServerNames"] == ["radius.test", "radius2.test"]
assert eap["PayloadCertificateAnchorUUID"] == [ca["PayloadUUID"]]
assert net["PayloadCertificateUUID"] == p12["PayloadUUID"]
assert net["SSID_STR"] == sys.argv[2] and net["EncryptionType"] == "WPA2"
assert "Password" not in p12
uuids = [p["PayloadUUID"] for p in d["PayloadContent"]] + [d["PayloadUUID"]]
assert len(set(uuids)) == len(uuids)
open(sys.argv[4], "wb").write(p12["PayloadContent"])
' "$T/m/dev.mobileconfig" "$SSID" "$LAB_DER" "$T/m/inner.p12"
INFO=$(openssl pkcs12 -in "$T/m/inner.p12" -passin 'pass:p12 pass' -info -noout 2>&1)
check_contains "mobileconfig PKCS#12 is the legacy form (iOS imports it)" \
	"PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC" "$INFO"
openssl pkcs12 -in "$T/m/inner.p12" -passin 'pass:p12 pass' -nocerts -nodes 2>/dev/null |
	openssl pkey -pubout >"$T/m/p12.pub" 2>/dev/null
check_eq "mobileconfig PKCS#12 holds the device's key" \
	"$(openssl pkey -in "$T/m/dev.key" -pubout)" "$(cat "$T/m/p12.pub")"
openssl pkcs12 -in "$T/m/inner.p12" -passin 'pass:p12 pass' -nokeys -cacerts 2>/dev/null >"$T/m/p12.ca"
check "mobileconfig PKCS#12 carries the chain that verifies the certificate" \
	openssl verify -CAfile "$T/m/p12.ca" "$T/m/dev.crt"

# --- geteduroam eap-config.
check "crtoken-enroll --profile eap-config" enroll eap-config "$T/e"
check "xmllint reads the eap-config" xmllint --noout "$T/e/dev.eap-config"
check "the eap-config validates against tests/schemas/eap-config.xsd" \
	xmllint --noout --schema "$S/eap-config.xsd" "$T/e/dev.eap-config"
check "mutilated copy no-method.xml made" mutilate "$T/e/dev.eap-config" "$T/e/no-method.xml" '
m = r.find("EAPIdentityProvider/AuthenticationMethods/AuthenticationMethod"); m.remove(m.find("EAPMethod"))'
check_fails "an eap-config without EAPMethod fails the schema" \
	xmllint --noout --schema "$S/eap-config.xsd" "$T/e/no-method.xml"
check "mutilated copy reordered.xml made" mutilate "$T/e/dev.eap-config" "$T/e/reordered.xml" '
p = r.find("EAPIdentityProvider"); e = p.find("ProviderInfo"); p.remove(e); p.insert(1, e)'
check_fails "an eap-config with ProviderInfo before CredentialApplicability fails the schema" \
	xmllint --noout --schema "$S/eap-config.xsd" "$T/e/reordered.xml"
check "eap-config: EAP-TLS, the lab CA, server IDs, SSID, PKCS#12" $PY -c '
import base64, sys, xml.etree.ElementTree as E
r = E.parse(sys.argv[1]).getroot()
assert r.tag == "EAPIdentityProviderList"
m = r.find("EAPIdentityProvider/AuthenticationMethods/AuthenticationMethod")
assert m.find("EAPMethod/Type").text == "13"
assert m.find("ServerSideCredential/CA").text == sys.argv[3]
assert [e.text for e in m.findall("ServerSideCredential/ServerID")] == ["radius.test", "radius2.test"]
c = m.find("ClientSideCredential/ClientCertificate")
assert c.get("format") == "PKCS12" and c.get("encoding") == "base64"
open(sys.argv[4], "wb").write(base64.b64decode(c.text))
ssid = r.find("EAPIdentityProvider/CredentialApplicability/IEEE80211/SSID").text
assert ssid == sys.argv[2], ssid
' "$T/e/dev.eap-config" "$SSID" "$LAB_DER" "$T/e/inner.p12"
check "eap-config PKCS#12 opens with the passphrase" \
	openssl pkcs12 -in "$T/e/inner.p12" -passin 'pass:p12 pass' -noout

# --- The modern PKCS#12 (--p12) next to the legacy one: both open, both
# hold the same key and chain.
TOK=$(plain_token both alice)
mkdir -p "$T/b"
check "crtoken-enroll --p12 --profile windows writes both forms" env CRTOKEN_P12_PASSPHRASE='p12 pass' \
	"$ENROLL" --server "$URL" --token "$TOK" --no-login --out-dir "$T/b" --name dev \
	--p12 "$T/b/modern.p12" --profile windows
INFO=$(openssl pkcs12 -in "$T/b/modern.p12" -passin 'pass:p12 pass' -info -noout 2>&1)
check_contains "--p12 is the modern form (PBKDF2, AES-256-CBC)" "PBES2, PBKDF2, AES-256-CBC" "$INFO"
check_contains "... with a SHA-256 MAC" "MAC: sha256" "$INFO"
for f in modern.p12 dev-legacy-3des.p12; do
	openssl pkcs12 -in "$T/b/$f" -passin 'pass:p12 pass' -nocerts -nodes 2>/dev/null |
		openssl pkey -pubout >"$T/b/$f.pub" 2>/dev/null
	openssl pkcs12 -in "$T/b/$f" -passin 'pass:p12 pass' -nokeys -clcerts 2>/dev/null >"$T/b/$f.crt"
	openssl pkcs12 -in "$T/b/$f" -passin 'pass:p12 pass' -nokeys -cacerts 2>/dev/null >"$T/b/$f.ca"
	check_eq "$f holds the device's key" "$(openssl pkey -in "$T/b/dev.key" -pubout)" "$(cat "$T/b/$f.pub")"
	check_eq "$f: certificate is the issued one" "$(openssl x509 -in "$T/b/dev.crt" -noout -fingerprint)" \
		"$(openssl x509 -in "$T/b/$f.crt" -noout -fingerprint)"
	check "$f holds the CA chain" openssl verify -CAfile "$T/b/$f.ca" "$T/b/dev.crt"
	check_fails "$f does not open with another passphrase" \
		openssl pkcs12 -in "$T/b/$f" -passin pass:wrong -noout
done

# --- GENERATE with pkcs12Form legacy (the page's server-key path for Apple).
new_token gen
jreq POST "/client-certificates/token/$TOKEN" '{"type":"GENERATE","passphrase":"pw","pkcs12Form":"legacy"}'
check_status "GENERATE with pkcs12Form legacy is 201" 201 -
jget "$T/body" "d['pkcs12']" | base64 -d >"$T/gen.p12"
check_contains "... and its PKCS#12 is the legacy form" "pbeWithSHA1And3-KeyTripleDES-CBC" \
	"$(openssl pkcs12 -in "$T/gen.p12" -passin pass:pw -info -noout 2>&1)"
GEN_CERT=$(jget "$T/body" "d['certificate']")
$PY -c 'import base64,json,sys; print(json.dumps({"certificate": sys.argv[1], "pkcs12": base64.b64encode(open(sys.argv[2],"rb").read()).decode()}))' \
	"$GEN_CERT" "$T/gen.p12" >"$T/mc.json"
req POST /network-profiles/mobileconfig -H 'Content-Type: application/json' --data-binary "@$T/mc.json"
check_status "POST /network-profiles/mobileconfig with that PKCS#12 is 200" 200 -
check_eq "the profile is named for the certificate" "gen.mobileconfig" "$(jget "$T/body" "d['filename']")"
new_token gen2
jreq POST "/client-certificates/token/$TOKEN" '{"type":"GENERATE","pkcs12Form":"old"}'
check_status "an unknown pkcs12Form is 400" 400 request_invalid
jreq POST "/client-certificates/token/$TOKEN" '{"type":"CSR","value":"x","pkcs12Form":"legacy"}'
check_status "pkcs12Form with a CSR is 400" 400 request_invalid

# --- Refusals.
$PY -c 'import json,sys; print(json.dumps({"certificate": sys.argv[1]}))' "$GEN_CERT" >"$T/c.json"
req POST /network-profiles/mobileconfig -H 'Content-Type: application/json' --data-binary "@$T/c.json"
check_status "mobileconfig without a PKCS#12 is 400" 400 invalid_argument
req POST /network-profiles/smoke-signals -H 'Content-Type: application/json' --data-binary "@$T/c.json"
check_status "an unknown format is 404 profile_format_unknown" 404 profile_format_unknown
$PY -c 'import json,sys; print(json.dumps({"certificate": open(sys.argv[1]).read()}))' "$T/lab-ca.pem" >"$T/f.json"
req POST /network-profiles/wpa_supplicant -H 'Content-Type: application/json' --data-binary "@$T/f.json"
check_status "a certificate this service did not issue is 404 cert_not_found" 404 cert_not_found
$PY -c 'import json,sys; print(json.dumps({"certificate": sys.argv[1], "keyPath": "relative.key"}))' "$GEN_CERT" >"$T/r.json"
req POST /network-profiles/wpa_supplicant -H 'Content-Type: application/json' --data-binary "@$T/r.json"
check_status "a relative key path is 400" 400 invalid_argument
$PY -c 'import json,sys; print(json.dumps({"certificate": sys.argv[1], "keyPassword": "a\"b"}))' "$GEN_CERT" >"$T/q.json"
req POST /network-profiles/wpa_supplicant -H 'Content-Type: application/json' --data-binary "@$T/q.json"
check_status "a key password with a quote is refused for wpa_supplicant" 400 invalid_argument
req GET /network-profiles
check_eq "GET /network-profiles lists the seven formats" 7 "$(jget "$T/body" "len(d['formats'])")"
check_eq "... and says the network is configured" True "$(jget "$T/body" "str(d['configured'])")"

# --- [portal] formats limits what is offered; an unconfigured network says so.
stop_crtokend
conf_set formats "wpa_supplicant,eap-config"
start_crtokend || { not_ok "crtokend restarts"; finish; exit 1; }
req GET /network-profiles
check_eq "[portal] formats limits the list" "wpa_supplicant eap-config" \
	"$(jget "$T/body" "' '.join(f['name'] for f in d['formats'])")"
req POST /network-profiles/windows -H 'Content-Type: application/json' --data-binary "@$T/c.json"
check_status "a format not offered is 404" 404 profile_format_unknown
stop_crtokend
sed -i -e 's|^ssid = .*|;ssid =|' "$CRTOKEN_CONF"
start_crtokend || { not_ok "crtokend restarts"; finish; exit 1; }
req POST /network-profiles/wpa_supplicant -H 'Content-Type: application/json' --data-binary "@$T/c.json"
check_status "no ssid for a Wi-Fi network is 404 network_not_configured" 404 network_not_configured
check_contains "... and the detail names the key" "ssid" "$(cat "$T/body")"

# --- Wired 802.1X: the same formats for Ethernet.
stop_crtokend
conf_set_in network type wired
conf_set formats "wpa_supplicant,networkmanager,windows,mobileconfig,eap-config"
start_crtokend || { not_ok "crtokend restarts"; finish; exit 1; }
check "wired: crtoken-enroll --profile wpa_supplicant" enroll wpa_supplicant "$T/ww"
check "wired: key_mgmt=IEEE8021X, eapol_flags=0, no ssid" sh -c '
grep -q "key_mgmt=IEEE8021X" "$1" && grep -q "eapol_flags=0" "$1" && ! grep -q ssid= "$1"' - \
	"$T/ww/dev-wpa_supplicant.conf"
{ printf 'ctrl_interface=\nap_scan=0\n'; cat "$T/ww/dev-wpa_supplicant.conf"; } >"$T/ww.conf"
wpa_supplicant -D wired -i crtnoif0 -c "$T/ww.conf" -dd >"$T/ww.log" 2>&1
check "wired: wpa_supplicant parses the block" grep -q 'key_mgmt: 0x8' "$T/ww.log"
check "wired: crtoken-enroll --profile networkmanager" enroll networkmanager "$T/wn"
nmcli --offline connection modify connection.autoconnect yes <"$T/wn/dev.nmconnection" >"$T/wn.out" 2>&1
check "wired: NetworkManager reads an ethernet 802.1X keyfile" sh -c '
grep -q "^type=ethernet" "$1" && grep -q "^eap=tls;" "$1"' - "$T/wn.out"
check "wired: crtoken-enroll --profile windows" enroll windows "$T/wx"
check "wired: a Windows LAN profile" $PY -c '
import sys, xml.etree.ElementTree as E
r = E.parse(sys.argv[1]).getroot()
assert r.tag == "{http://www.microsoft.com/networking/LAN/profile/v1}LANProfile", r.tag' "$T/wx/dev.xml"
check "wired: the LAN profile validates against tests/schemas/lan_profile_v1.xsd" \
	xmllint --noout --schema "$S/lan_profile_v1.xsd" "$T/wx/dev.xml"
# For the mutilations: sec is the LAN profile's MSM/security element.
LAN='L = "{http://www.microsoft.com/networking/LAN/profile/v1}"; sec = r.find(L + "MSM/" + L + "security")
'
check "mutilated copy no-onex.xml made" mutilate "$T/wx/dev.xml" "$T/wx/no-onex.xml" "$LAN"'
sec.remove(sec.find("{http://www.microsoft.com/networking/OneX/v1}OneX"))'
check_fails "a LAN profile without its 802.1X (OneX) settings fails the schema" \
	xmllint --noout --schema "$S/lan_profile_v1.xsd" "$T/wx/no-onex.xml"
check "mutilated copy lan-reordered.xml made" mutilate "$T/wx/dev.xml" "$T/wx/lan-reordered.xml" "$LAN"'
e = sec.find(L + "OneXEnforced"); sec.remove(e); sec.insert(1, e)'
check_fails "a LAN profile with OneXEnforced after OneXEnabled fails the schema" \
	xmllint --noout --schema "$S/lan_profile_v1.xsd" "$T/wx/lan-reordered.xml"
check "mutilated copy lan-off.xml made" mutilate "$T/wx/dev.xml" "$T/wx/lan-off.xml" "$LAN"'
sec.find(L + "OneXEnabled").text = "false"'
check_fails "a LAN profile with 802.1X disabled fails the schema" \
	xmllint --noout --schema "$S/lan_profile_v1.xsd" "$T/wx/lan-off.xml"
check "mutilated copy lan-eap.xml made" mutilate "$T/wx/dev.xml" "$T/wx/lan-eap.xml" '
m = r.find(".//{http://www.microsoft.com/provisioning/EapHostConfig}EapMethod")
m.remove(m.find("{http://www.microsoft.com/provisioning/EapCommon}VendorId"))'
check_fails "a LAN profile whose EapMethod lacks VendorId fails the schema (OneX imported)" \
	xmllint --noout --schema "$S/lan_profile_v1.xsd" "$T/wx/lan-eap.xml"
check "wired: crtoken-enroll --profile mobileconfig" enroll mobileconfig "$T/wm"
check "wired: an Ethernet payload in the mobileconfig" $PY -c '
import plistlib, sys
d = plistlib.load(open(sys.argv[1], "rb"))
assert "com.apple.firstactiveethernet.managed" in [p["PayloadType"] for p in d["PayloadContent"]]' \
	"$T/wm/dev.mobileconfig"
check "wired: crtoken-enroll --profile eap-config" enroll eap-config "$T/we"
check "wired: IEEE8023 applicability in the eap-config" grep -q '<IEEE8023>' "$T/we/dev.eap-config"
check "wired: the eap-config validates against tests/schemas/eap-config.xsd" \
	xmllint --noout --schema "$S/eap-config.xsd" "$T/we/dev.eap-config"
check_code "crtoken-enroll refuses an unknown --profile before redeeming" "unknown profile format" \
	"$ENROLL" --server "$URL" --token "$TOK" --no-login --profile carrier-pigeon
http_finish
