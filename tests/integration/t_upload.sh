#!/bin/sh
# t_upload.sh — existing certificates uploaded instead of a CSR (issue 12):
# a partner CA made with openssl is the one certificate of [import]
# trusted_issuers; its client certificates are uploaded over REST by a user
# who logs in with the OTP (pam_crtoken under pam_wrapper, real TOTP codes)
# redeeming a token ({"type":"CERTIFICATE"}), and by the admin with
# crtoken-admin cert import. Then the real radiusd (rlm_crtoken, EAP-TLS
# with eapol_test, its ca_file trusting our CA and the partner CA) admits
# the imported certificates with the token's reply attributes, refuses a
# partner certificate that was never imported, and refuses an imported one
# once it is revoked in crtoken; our CRL never lists it, OCSP calls it
# unknown. Refusals: each with its code, nothing written.
# Ports: crtokend TCP 18900, radiusd UDP 18901.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"
RLM_SRC=$TOP/rlm_crtoken
. "$TOP/tests/integration/radius_lib.sh"
RLM_BUILD=$BUILD
RLM_PORT=18901
PAM_SO=$BUILD/lib/pam_crtoken.so

require_programs /usr/sbin/freeradius eapol_test openssl sqlite3 curl oathtool faketime \
	"$ADMIN" "$CRTOKEND" "$PAM_SO" "$PAM_WRAPPER_LIB" "$BUILD/lib/rlm_crtoken.so"
at_exit rlm_stop

http_instance "$T/inst" 18900 || { not_ok "instance"; finish; exit 1; }
I=$T/inst
DB=$I/crtoken.db
sig() { # the store without audit rows (refusals are audited by design)
	sqlite3 "$DB" "SELECT * FROM tokens ORDER BY id; SELECT * FROM certificates ORDER BY serial;
		SELECT * FROM events ORDER BY seq; SELECT * FROM meta ORDER BY key;" | sha256sum
}
count() { sqlite3 "$DB" "$1"; }

# ------------------------------------------------------------ the partner CA
check "a partner CA (openssl, not crtoken's)" openssl req -x509 -newkey ec \
	-pkeyopt ec_paramgen_curve:P-256 -nodes -days 60 -subj "/CN=Partner CA/O=Partner" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
	-keyout "$T/partner.key" -out "$T/partner.pem"
printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
	"extendedKeyUsage=clientAuth" "subjectKeyIdentifier=hash" \
	"authorityKeyIdentifier=keyid:always" >"$T/client.ext"
sed 's/clientAuth/serverAuth/' "$T/client.ext" >"$T/server.ext"
# partner NAME SUBJECT [EXTFILE [x509 args...]] : $T/NAME.key, $T/NAME.pem
# signed by the partner CA (the clock for it: $CLOCK, a faketime offset;
# its serial $SERIAL, hex, else a random one).
partner() {
	_pn=$1 _ps=$2 _pe=${3:-$T/client.ext}
	shift 2
	[ $# -gt 0 ] && shift
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/$_pn.key" \
		2>/dev/null &&
		openssl req -new -key "$T/$_pn.key" -subj "$_ps" -out "$T/$_pn.csr" 2>/dev/null &&
		faketime -f "${CLOCK:-+0}" openssl x509 -req -in "$T/$_pn.csr" -CA "$T/partner.pem" \
			-CAkey "$T/partner.key" -set_serial "0x${SERIAL:-$(openssl rand -hex 10)}" -days 30 \
			-extfile "$_pe" "$@" -out "$T/$_pn.pem" 2>/dev/null
}
check "partner certificate for alice (CN alice)" partner alice "/CN=alice"
check "partner certificate for a printer" partner printer "/CN=printer-7/O=Partner"
check "partner certificate for dave (never imported)" partner dave "/CN=dave"
check "partner certificate for mallory" partner mallory "/CN=mallory"
CLOCK=-400d check "an expired partner certificate" partner old "/CN=alice"
CLOCK=+10d check "a partner certificate not valid yet" partner early "/CN=alice"
check "a partner server certificate (serverAuth only)" partner www "/CN=alice" "$T/server.ext"
printf '%s\n' "basicConstraints=critical,CA:TRUE" "keyUsage=critical,keyCertSign" \
	"subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid:always" >"$T/subca.ext"
check "a partner sub-CA" partner subca "/CN=alice" "$T/subca.ext"
check "a self-signed certificate with the partner CA's very name" openssl req -x509 \
	-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=Partner CA/O=Partner" \
	-addext basicConstraints=critical,CA:FALSE -addext extendedKeyUsage=clientAuth \
	-keyout "$T/forged.key" -out "$T/forged.pem"
cat "$T/alice.pem" "$T/partner.pem" >"$T/chain.pem"
cat "$T/alice.pem" "$T/alice.key" >"$T/with-key.pem"
cp "$T/partner.pem" "$T/partners.pem"
chmod 644 "$T/partners.pem"

# ------------------------------------------------------------ without [import]
before=$(sig)
check_code "no [import] trusted_issuers: cert import is import_not_configured" \
	import_not_configured "$ADMIN" cert import "$T/printer.pem" --name printer
check_eq "... and nothing is written" "$before" "$(sig)"
check "[import] trusted_issuers = the partner CA" conf_set trusted_issuers "$T/partners.pem"


# ------------------------------------------------------------ crtokend, logins
# The refusals log in with a password (pam_matrix: no OTP step spent per
# case); the upload that is stored logs in with alice's TOTP code through
# pam_crtoken (service crtoken-otp, switched to by a reload).
pam_matrix_service alice:alicepw
printf 'auth required %s config=%s\naccount required %s config=%s\n' \
	"$PAM_SO" "$CRTOKEN_CONF" "$PAM_SO" "$CRTOKEN_CONF" >"$T/pam.d/crtoken-otp"
PAM_SVC_DIR=$T/pam.d
conf_set require_login yes
SA=$("$ADMIN" otp enroll alice --no-qr --json | jget - "d['secret']")
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
check "an admin API key" apikey
body() { $PY -c 'import json,sys; print(json.dumps({"type":"CERTIFICATE","value":open(sys.argv[1]).read()}))' "$1" >"$2"; }
for f in alice printer dave mallory old early www subca forged chain with-key; do
	body "$T/$f.pem" "$T/$f.json"
done
body "$T/alice.key" "$T/key.json"
printf '{"type":"CERTIFICATE","value":"-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n"}' >"$T/garbage.json"
printf '{"type":"CERTIFICATE","value":"x","commonName":"alice"}' >"$T/override.json"
new_token alice-laptop '"owner":"alice"' '"commonName":"alice"' \
	'"replyAttributes":["Tunnel-Private-Group-Id=42"]'
check_eq "a token for alice (CN alice, reply attribute)" 201 "$STATUS"
ALICE_TOKEN=$TOKEN
ALICE_ID=$TOKEN_ID

redeem "$ALICE_TOKEN" "$T/alice.json"
check_status "an upload without the login: 401 authentication_required" 401 authentication_required
# refused FILE STATUS CODE WHAT : alice's token redeemed with FILE after her
# login is refused with STATUS CODE, and the store is unchanged.
refused() {
	_before=$(sig)
	redeem "$ALICE_TOKEN" "$T/$1.json" -u alice:alicepw
	if [ "$STATUS" != "$2" ] || [ "$(err_code)" != "$3" ]; then
		not_ok "$4: $2 $3"
		diag "actual: $STATUS $(head -c 300 "$T/body")"
	elif [ "$_before" != "$(sig)" ]; then
		not_ok "$4: $2 $3 (the store changed)"
	else
		ok "$4: $2 $3, store unchanged"
	fi
}
refused forged 422 cert_untrusted "attack_upload_self_signed_claiming_trusted_subject"
refused subca 422 cert_is_ca "a partner sub-CA uploaded"
refused old 422 cert_expired "an expired certificate"
refused early 422 cert_not_yet_valid "a certificate not valid yet"
refused www 422 cert_not_client_auth "a serverAuth-only certificate"
refused mallory 422 cert_subject_mismatch "a partner certificate for CN mallory on alice's token"
refused chain 400 cert_multiple "the certificate with its chain"
refused with-key 400 cert_private_key "the certificate with its private key pasted"
refused key 400 cert_private_key "the private key instead of the certificate"
refused garbage 400 cert_malformed "a PEM block that is no certificate"
refused override 400 request_invalid "type CERTIFICATE with a commonName override"
check_eq "the private key is in no audit row" 0 \
	"$(count "SELECT count(*) FROM audit WHERE detail LIKE '%PRIVATE KEY%'")"
areq GET "/certificate-request-tokens/$ALICE_ID"
check_eq "alice's token is still unused" active "$(jget "$T/body" "d['state']")"

conf_set pam_service crtoken-otp
reload_crtokend
redeem "$ALICE_TOKEN" "$T/alice.json" -u "alice:$(oathtool --totp -b "$SA")"
check_status "alice logs in with her TOTP code and uploads her partner certificate: 201" 201 -
ALICE_SERIAL=$(jget "$T/body" "d['serial']")
check_eq "... stored as it is (the same PEM)" "$(cat "$T/alice.pem")" \
	"$(jget "$T/body" "d['certificate']")"
check_eq "... its CA: imported" imported "$(jget "$T/body" "d['ca']")"
check_eq "... no chain of ours" "" "$(jget "$T/body" "d['chain']")"
check_eq "... its serial the certificate's own" \
	"$(openssl x509 -in "$T/alice.pem" -noout -serial | cut -d= -f2 | tr A-F a-f)" "$ALICE_SERIAL"
check_eq "... Location names it" "/client-certificates/$ALICE_SERIAL" "$(header Location)"
areq GET "/certificate-request-tokens/$ALICE_ID"
check_eq "... the token is used by it" "used $ALICE_SERIAL" \
	"$(jget "$T/body" "d['state'] + ' ' + str(d.get('serial'))")"
check_eq "... with the token.redeem audit row of an upload" 1 \
	"$(count "SELECT count(*) FROM audit WHERE action = 'token.redeem' AND object = '$ALICE_ID' AND detail LIKE '%\"upload\":true%'")"
check_eq "... and its certificate.issued event" 1 \
	"$(count "SELECT count(*) FROM events WHERE type = 'certificate.issued' AND body LIKE '%$ALICE_SERIAL%'")"
redeem "$ALICE_TOKEN" "$T/printer.json" -u "alice:$(oathtool --totp -b -N "now + 30 seconds" "$SA")"
check_status "the token is single use for uploads too: 409 token_used" 409 token_used
areq GET "/client-certificates/$ALICE_SERIAL"
check_status "GET /client-certificates/{serial} shows it" 200 -
stop_crtokend

# ------------------------------------------------------------ crtoken-admin cert import
J=$("$ADMIN" cert import "$T/printer.pem" --name printer --owner bob \
	--reply "Tunnel-Private-Group-Id=77" --json)
check_eq "cert import: the printer's certificate stored" imported "$(json_get "$J" ca)"
PRINTER_SERIAL=$(json_get "$J" serial)
q() { sqlite3 "$DB" "SELECT $1 FROM certificates WHERE serial = '$PRINTER_SERIAL'"; }
check_eq "... with its own issuer" "/CN=Partner CA/O=Partner" "$(q issuer)"
check_eq "... aki the partner CA's key id" \
	"$(openssl x509 -in "$T/partner.pem" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :' | tr A-F a-f)" \
	"$(q aki)"
check_eq "... owner and reply attributes" "bob|Tunnel-Private-Group-Id=77" "$(q "username || '|' || reply")"
check_eq "... a cert.import audit row" 1 \
	"$(count "SELECT count(*) FROM audit WHERE action = 'cert.import' AND object = '$PRINTER_SERIAL'")"
check_contains "cert show: CA imported" imported "$("$ADMIN" cert show "$PRINTER_SERIAL")"
check_contains "cert list lists it" "$PRINTER_SERIAL" "$("$ADMIN" cert list)"
before=$(sig)
check_code "the same certificate again: cert_exists" cert_exists \
	"$ADMIN" cert import "$T/printer.pem" --name printer
check_eq "... nothing written" "$before" "$(sig)"
make_csr "$T" ours
TOK=$("$ADMIN" token create --name ours --json | jget - "d['token']")
"$ADMIN" redeem "$TOK" --csr "$T/ours.csr" --out "$T/ours.pem" >/dev/null
OURS=$(openssl x509 -in "$T/ours.pem" -noout -serial | cut -d= -f2)
SERIAL=$OURS check "a partner certificate with the serial of one crtoken issued" \
	partner twin "/CN=twin"
before=$(sig)
check_code "attack_upload_cert_of_our_ca_serial: serial_conflict" serial_conflict \
	"$ADMIN" cert import "$T/twin.pem" --name twin
check_eq "... nothing written" "$before" "$(sig)"
check_code "cert import without --name: a usage error" "name N is required" "$ADMIN" cert import "$T/dave.pem"
check_code "cert import with a bad reply attribute: reply_attribute_invalid" \
	reply_attribute_invalid "$ADMIN" cert import "$T/dave.pem" --name d --reply nonsense
T2=$("$ADMIN" token create --name t2 --cn carol --json | jget - "d['token']")
check_code "crtoken-admin redeem --cert whose CN the token fixes otherwise" \
	cert_subject_mismatch "$ADMIN" redeem "$T2" --cert "$T/dave.pem"
cp "$CRTOKEN_CONF" "$T/good.conf"
printf '\n[ca imported]\ncertificate = x.pem\nkey = x.key\n' >>"$CRTOKEN_CONF"
check_code "a [ca imported] section: config_invalid (the name is reserved)" config_invalid \
	"$ADMIN" ca list
check_contains "... saying so" reserved "$(cat "$T/.err")"
cp "$T/good.conf" "$CRTOKEN_CONF"

# ------------------------------------------------------------ RADIUS
mkdir -p "$T/srv"
check "lab CA of radiusd's own certificate (openssl)" rlm_lab_ca "$T/srv"
cat "$I/ca.pem" "$T/partner.pem" >"$T/client-cas.pem"
RLM_CRTOKEN_CONF=$CRTOKEN_CONF
RLM_SERVER_CERT=$T/srv/server.pem
RLM_SERVER_KEY=$T/srv/server.key
RLM_CLIENT_CAS=$T/client-cas.pem
R=$T/raddb
check "radiusd config (EAP-TLS ca_file: our CA and the partner CA)" rlm_write_config "$R" crtoken
check "radiusd started (127.0.0.1:$RLM_PORT)" rlm_start "$R"
LOG=$R/radiusd.log
auth() { rlm_eapol "$T/$1.pem" "$T/$1.key" "$T/$1.out" "$T/srv/lab-ca.pem"; }
check_eq "EAP-TLS: alice's uploaded certificate accepted" accept "$(auth alice)"
check_contains "... with the token's reply attribute" "Tunnel-Private-Group-Id" "$(cat "$T/alice.out")"
check_eq "EAP-TLS: the imported printer certificate accepted" accept "$(auth printer)"
check_eq "EAP-TLS: our own certificate still accepted" accept "$(auth ours)"
m=$(wc -l <"$LOG")
check_eq "EAP-TLS: dave's partner certificate, never imported, rejected" reject "$(auth dave)"
check_contains "... cert_not_found" cert_not_found "$(tail -n "+$((m + 1))" "$LOG")"
check "cert revoke of the printer's imported certificate" \
	"$ADMIN" cert revoke "$PRINTER_SERIAL" --reason keyCompromise
m=$(wc -l <"$LOG")
check_eq "EAP-TLS: the printer certificate rejected once revoked" reject "$(auth printer)"
check_contains "... cert_revoked" cert_revoked "$(tail -n "+$((m + 1))" "$LOG")"
check_eq "EAP-TLS: alice's still accepted" accept "$(auth alice)"
rlm_stop

# ------------------------------------------------------------ CRL, OCSP
check "crl writes our CRL" "$ADMIN" crl --out "$T/ours.crl"
check_eq "our CRL does not list the revoked imported certificate (our CA did not issue it)" "" \
	"$(openssl crl -in "$T/ours.crl" -noout -text | grep -i "$PRINTER_SERIAL")"
start_crtokend || { not_ok "crtokend restarts"; finish; exit 1; }
check_contains "OCSP about the imported certificate: unknown (not our CA's)" "printer.pem: unknown" \
	"$(openssl ocsp -issuer "$T/partner.pem" -cert "$T/printer.pem" -url "$URL/ocsp" \
		-VAfile "$I/ca.pem" -no_nonce 2>&1)"
http_finish
