#!/bin/sh
# t_pkcs11.sh — the CA key in a PKCS#11 token (SoftHSM2, a real module, in a
# token directory under $T): `crtoken-admin init --ca-key-uri` makes the key
# in the token and the self-signed CA; redemption (crtoken-admin and
# crtokend), revocation and the CRL, GET /ca.pem work unchanged; no key file
# is written; a wrong PIN, a PIN file others can read and a PIN in the URI
# are refused clearly. Port 18700.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

MODULE=/usr/lib/softhsm/libsofthsm2.so
# The engine's once-per-process method tables (see lsan_pkcs11.supp).
LSAN_OPTIONS="suppressions=$TOP/tests/integration/lsan_pkcs11.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
if ! command -v softhsm2-util >/dev/null || [ ! -e "$MODULE" ] ||
	[ ! -e /usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so ]; then
	not_ok "softhsm2 and libengine-pkcs11-openssl are installed (scripts/deps.sh check)"
	finish
	exit 1
fi

# A private SoftHSM2 token store, removed with $T.
mkdir -p "$T/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
	"$T" >"$T/softhsm2.conf"
SOFTHSM2_CONF=$T/softhsm2.conf
export SOFTHSM2_CONF
check "softhsm2-util makes a token labelled crtoken" \
	softhsm2-util --init-token --free --label crtoken --pin 246810 --so-pin 13579111
printf '246810\n' >"$T/pin"
chmod 600 "$T/pin"
URI='pkcs11:token=crtoken;object=crtoken-ca'
PORT=18700
URL=http://127.0.0.1:$PORT

# ------------------------------------------------------------ init
check "init --ca-key-uri makes the CA key in the token and the CA certificate" \
	"$ADMIN" init --dir "$T/inst" --ca-key-uri "$URI" --pin-file "$T/pin" \
	--module "$MODULE" --ca-subject "/CN=HSM CA/O=crtoken test"
CRTOKEN_CONF=$T/inst/crtoken.conf
export CRTOKEN_CONF
check_eq "no key file is written: the instance holds ca.pem, no ca.key" "no" \
	"$([ -e "$T/inst/ca.key" ] && echo yes || echo no)"
check_contains "crtoken.conf names the token key by its URI" "key = $URI" "$(cat "$CRTOKEN_CONF")"
check_contains "... and the PIN file, not the PIN" "pin_file = $T/pin" "$(cat "$CRTOKEN_CONF")"
check_eq "the PIN is nowhere in the instance" "" \
	"$(grep -rl 246810 "$T/inst" 2>/dev/null)"
J=$("$ADMIN" ca show --json)
check_eq "ca show: the CA key is EC P-256" ec-p256 "$(json_get "$J" keyType)"
check_eq "ca show: the subject" "/CN=HSM CA/O=crtoken test" "$(json_get "$J" subject)"
check "the CA certificate is self-signed by the token key" \
	openssl verify -CAfile "$T/inst/ca.pem" "$T/inst/ca.pem"
check_eq "the init is audited with the key's URI" 1 \
	"$(sqlite3 "$T/inst/crtoken.db" "SELECT count(*) FROM audit WHERE action = 'instance.init' AND detail LIKE '%pkcs11:token=crtoken%'")"

check_code "a second init with the same object is refused (the token keeps its one key)" \
	exists "$ADMIN" init --dir "$T/inst2" --ca-key-uri "$URI" --pin-file "$T/pin" \
	--module "$MODULE"
check_eq "... and leaves no instance behind" "" "$(ls "$T/inst2" 2>/dev/null)"
check "... and the first instance's key is still in the token" "$ADMIN" ca show
check_code "init in a token that does not exist is refused" ca_invalid \
	"$ADMIN" init --dir "$T/inst3" --ca-key-uri 'pkcs11:token=nosuch;object=k' \
	--pin-file "$T/pin" --module "$MODULE"
check_contains "... naming the token" 'no token labelled "nosuch"' "$(cat "$T/.err")"
check_code "init with a module that is not there is refused" ca_invalid \
	"$ADMIN" init --dir "$T/inst3" --ca-key-uri "$URI" --pin-file "$T/pin" \
	--module "$T/no-such-module.so"
check_code "init --ca-key-uri without --pin-file is a usage error" "needs --pin-file" \
	"$ADMIN" init --dir "$T/inst3" --ca-key-uri "$URI"
check_eq "the refused inits leave no instance behind" "" "$(ls "$T/inst3" 2>/dev/null)"

# ------------------------------------------------------------ redemption, CRL
TJ=$("$ADMIN" token create --name laptop --cn laptop --json)
make_csr "$T" laptop
check "a token redeems with the CA key in the token (crtoken-admin redeem)" \
	"$ADMIN" redeem "$(json_get "$TJ" token)" --csr "$T/laptop.csr" --out "$T/laptop.pem"
check "... the certificate verifies against the CA" \
	openssl verify -CAfile "$T/inst/ca.pem" "$T/laptop.pem"
SERIAL=$(openssl x509 -in "$T/laptop.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')

conf_set listen "127.0.0.1:$PORT" && conf_set plain_http yes && conf_set require_login no &&
	conf_set rate_limit_failures 100000 || not_ok "configure crtokend"
if start_crtokend; then
	req GET /ca.pem
	check_eq "GET /ca.pem serves the token CA's certificate" \
		"$(openssl x509 -in "$T/inst/ca.pem" -noout -fingerprint -sha256)" \
		"$(openssl x509 -in "$T/body" -noout -fingerprint -sha256 2>&1)"
	TJ2=$("$ADMIN" token create --name phone --cn phone --json)
	mkdir -p "$T/out"
	setsid -w "$ENROLL" --server "$URL" --token "$(json_get "$TJ2" token)" \
		--out-dir "$T/out" >"$T/enroll.out" 2>&1 </dev/null
	check_eq "crtokend signs a redemption with the token key (crtoken-enroll)" 0 "$?"
	check "... that certificate verifies against the CA" \
		openssl verify -CAfile "$T/inst/ca.pem" "$T/out/phone.crt"
	check "revoke the first certificate (the CRL signed in the token)" \
		"$ADMIN" cert revoke "$SERIAL"
	req GET /crl
	check_eq "GET /crl answers 200" 200 "$STATUS"
	openssl crl -inform DER -in "$T/body" -out "$T/crl.pem" 2>/dev/null
	check "the CRL's signature verifies against the CA" \
		openssl crl -in "$T/crl.pem" -CAfile "$T/inst/ca.pem" -noout
	check_fails "the revoked certificate fails verification with the CRL" \
		openssl verify -crl_check -CRLfile "$T/crl.pem" -CAfile "$T/inst/ca.pem" "$T/laptop.pem"
	check_contains "... as revoked" "certificate revoked" "$(cat "$T/.out")"
	check "the other certificate still verifies with the CRL" \
		openssl verify -crl_check -CRLfile "$T/crl.pem" -CAfile "$T/inst/ca.pem" \
		"$T/out/phone.crt"
	stop_crtokend
else
	not_ok "crtokend starts with the CA key in the token"
	sed 's/^/#   /' "$T/crtokend.log" | tail -10
fi

# ------------------------------------------------------------ the key stays in the token
check_eq "no private key file anywhere in the instance" "" \
	"$(grep -rl 'PRIVATE KEY' "$T/inst" 2>/dev/null)"

# ------------------------------------------------------------ refusals
printf '000000\n' >"$T/pin"
check_code "a wrong PIN is refused as ca_invalid" ca_invalid "$ADMIN" ca show
check_contains "... the message names the PIN and its file" "refused the PIN from $T/pin" \
	"$(cat "$T/.err")"
printf '246810\n' >"$T/pin"
check "the right PIN again: the CA loads" "$ADMIN" ca show

chmod 644 "$T/pin"
check_code "attack_pin_file_readable_by_others: refused as unsafe_permissions" \
	unsafe_permissions "$ADMIN" ca show
check_contains "... naming the PIN file" "CA token PIN file: $T/pin" "$(cat "$T/.err")"
chmod 640 "$T/pin"
check_code "attack_pin_file_readable_by_group: refused too" unsafe_permissions "$ADMIN" ca show
chmod 600 "$T/pin"

cp "$CRTOKEN_CONF" "$T/conf.good"
sed -i "s|^key = .*|key = $URI?pin-value=246810|" "$CRTOKEN_CONF"
check_code "attack_pin_in_the_uri: key = pkcs11:...?pin-value= is config_invalid" \
	config_invalid "$ADMIN" ca show
check_contains "... and says where the PIN goes" "[ca] pin_file" "$(cat "$T/.err")"
sed -i "s|^key = .*|key = $URI;pin-source=file:$T/pin|" "$CRTOKEN_CONF"
check_code "attack_pin_source_in_the_uri: pin-source= is config_invalid too" \
	config_invalid "$ADMIN" ca show
cp "$T/conf.good" "$CRTOKEN_CONF"
check_code "init with pin-value in the URI is refused" config_invalid \
	"$ADMIN" init --dir "$T/inst4" --ca-key-uri "$URI?pin-value=246810" \
	--pin-file "$T/pin" --module "$MODULE"
check_eq "... leaving nothing" "" "$(ls "$T/inst4" 2>/dev/null)"
sed -i "s|^pin_file = .*|;pin_file =|" "$CRTOKEN_CONF"
check_code "a pkcs11: key without pin_file is ca_invalid" ca_invalid "$ADMIN" ca show
check_contains "... naming pin_file" "[ca] pin_file is not set" "$(cat "$T/.err")"
cp "$T/conf.good" "$CRTOKEN_CONF"
check "the instance is usable again" "$ADMIN" ca show

http_finish
