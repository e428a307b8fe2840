#!/bin/sh
# t_bad_inputs.sh — the bad-input catalogue: every named case feeds one
# malformed, hostile or refused input to a real component (crtoken-admin,
# crtokend over HTTP, pam_crtoken through pamtester, rlm_crtoken in
# freeradius) and asserts the exact machine code (or PAM/RADIUS outcome) AND
# that the store is unchanged: tokens, certificates, API keys, OTP secrets
# and the CRL number hash the same before and after. (Refusals add audit
# rows by design; failed logins move the OTP failure counter by design — the
# PAM cases compare everything else.)
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"
. "$TOP/tests/integration/attest_lib.sh"

http_instance "$T/inst" 18453 || { not_ok "instance"; finish; exit 1; }
DB=$T/inst/crtoken.db
A=$ADMIN

# The store's state without audit rows; PAM=1 also leaves out OTP counters.
sig() {
	sqlite3 "$DB" "SELECT * FROM tokens ORDER BY id; SELECT * FROM certificates ORDER BY serial;
		SELECT id, name, hash, created_at, revoked_at FROM api_keys ORDER BY id; SELECT * FROM meta ORDER BY key;
		SELECT * FROM certificate_requests ORDER BY id;
		SELECT username, hex(secret), algorithm, digits, period $( [ "${PAM:-0}" = 1 ] || echo ', last_step, failures, locked_until') FROM otp ORDER BY username;" |
		sha256sum
}
# bad NAME CODE CMD... : CMD fails, prints CODE (stdout or stderr), store unchanged.
bad() {
	_name=$1 _code=$2
	shift 2
	_before=$(sig)
	"$@" >"$T/.bad" 2>&1
	_rc=$?
	_after=$(sig)
	if [ $_rc -eq 0 ] && [ "${ALLOW_RC0:-0}" != 1 ]; then
		not_ok "$_name (succeeded)"
		sed 's/^/#   /' "$T/.bad" | tail -5
	elif ! grep -qF -- "$_code" "$T/.bad"; then
		not_ok "$_name (expected $_code)"
		sed 's/^/#   /' "$T/.bad" | tail -5
	elif [ "$_before" != "$_after" ]; then
		not_ok "$_name (the store changed)"
	else
		ok "$_name: $_code, store unchanged"
	fi
}
# http METHOD PATH [curl args...] : prints "STATUS BODY"; fails unless 2xx.
http() {
	_m=$1 _p=$2
	shift 2
	_s=$(curl -s -o "$T/.body" -w '%{http_code}' -X "$_m" "$@" "$URL$_p")
	echo "$_s $(cat "$T/.body")"
	case "$_s" in 2*) return 0 ;; *) return 1 ;; esac
}

# ---------------------------------------------------------------- fixtures
make_csr "$T" good
make_csr "$T" rsa1024 -algorithm RSA -pkeyopt rsa_keygen_bits:1024
make_csr "$T" p224 -algorithm EC -pkeyopt ec_paramgen_curve:P-224
make_csr "$T" k256 -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1
make_csr "$T" ed448 -algorithm ED448
head -c 300 "$T/good.csr" >"$T/truncated.csr"
printf 'this is not a CSR\n' >"$T/garbage.csr"
head -c 100000 /dev/urandom | base64 | sed '1i -----BEGIN CERTIFICATE REQUEST-----' >"$T/huge.csr"
echo '-----END CERTIFICATE REQUEST-----' >>"$T/huge.csr"
cp "$T/inst/ca.pem" "$T/cert-not-csr.csr"
# A CSR whose signature was altered after signing (flip a byte in the signature).
openssl req -in "$T/good.csr" -outform DER -out "$T/good.der" 2>/dev/null
$PY -c 'import sys; d=bytearray(open(sys.argv[1],"rb").read()); d[-5]^=0x55; open(sys.argv[2],"wb").write(d)' "$T/good.der" "$T/badsig.der"

tok() { "$A" token create --name "$1" "${@:2}" --json 2>/dev/null | jget - "d['token']"; }
TOK=$("$A" token create --name fixture --cn fixed --lock cn --json | jget - "d['token']")
OWNED=$("$A" token create --name owned --owner alice --json | jget - "d['token']")
USED=$("$A" token create --name used --json | jget - "d['token']")
"$A" redeem "$USED" --csr "$T/good.csr" --out "$T/used.pem" >/dev/null
SERIAL=$(openssl x509 -in "$T/used.pem" -noout -serial | cut -d= -f2 | tr A-F a-f)
J=$("$A" token create --name deleted --json)
DELETED=$(echo "$J" | jget - "d['token']")
"$A" token delete "$(echo "$J" | jget - "d['id']")" >/dev/null
EXPIRING=$("$A" token create --name expiring --expires 1m --json | jget - "d['token']")
MISTYPED=$(echo "$TOK" | sed 's/^\(crt_...\)./\1Z/;s/^\(crt_...\)Z\(.*\)$/\1Z\2/')
[ "$MISTYPED" = "$TOK" ] && MISTYPED=$(echo "$TOK" | sed 's/^\(crt_...\)./\1Y/')
UNKNOWN=$("$A" token create --name throwaway --json | jget - "d['token']")
sqlite3 "$DB" "DELETE FROM tokens WHERE name = 'throwaway'"
LONG=$(head -c 5000 /dev/zero | tr '\0' a)
# Key attestation: a Yubico-shaped device whose root is trusted, another one
# whose is not, and attestations with bad extensions (attest_lib.sh).
attest_device "$T/yk" && attest_device "$T/yk-other" || not_ok "attestation fixtures"
attest_leaf "$T/yk" bad-ext.pem '1.3.6.1.4.1.41482.3.7 = DER:01:02:03'
attest_leaf "$T/yk" pin-never.pem '1.3.6.1.4.1.41482.3.8 = DER:01:01
1.3.6.1.4.1.41482.3.3 = DER:05:04:03'
mkdir -p "$T/inst/attestation-roots"
cp "$T/yk/root.pem" "$T/inst/attestation-roots/root.pem"
printf '\n[attestation]\ntrusted_roots = attestation-roots\n' >>"$CRTOKEN_CONF"
# Certificate profiles that shape the certificate (t_certshape.sh has the rest).
printf '\n[profile strict]\nkey_types = ec-p384\n\n[profile devices]\nsan_dns = {cn}.devices.example\n\n[profile long]\ndays = 36500\nmax_days = 36500\n' >>"$CRTOKEN_CONF"
STRICT=$("$A" token create --name strict --profile strict --json | jget - "d['token']")
DEVICE=$("$A" token create --name devices --profile devices --json | jget - "d['token']")
ATT=$("$A" token create --name attested --attestation require --attest-pin-policy once \
	--attest-min-firmware 5.4 --json | jget - "d['token']")

# ---------------------------------------------------------------- CLI: CSRs
bad "cli: garbage instead of a CSR" csr_malformed "$A" redeem "$TOK" --csr "$T/garbage.csr"
bad "cli: truncated PEM CSR" csr_malformed "$A" redeem "$TOK" --csr "$T/truncated.csr"
bad "cli: oversized CSR (133 KB)" csr_too_large "$A" redeem "$TOK" --csr "$T/huge.csr"
bad "cli: a certificate instead of a CSR (wrong PEM type)" csr_malformed "$A" redeem "$TOK" --csr "$T/cert-not-csr.csr"
bad "cli: altered CSR signature (DER)" csr_bad_signature "$A" redeem "$TOK" --csr "$T/badsig.der"
bad "cli: RSA-1024 key" csr_weak_key "$A" redeem "$TOK" --csr "$T/rsa1024.csr"
bad "cli: P-224 key" csr_weak_key "$A" redeem "$TOK" --csr "$T/p224.csr"
bad "cli: secp256k1 key" csr_unsupported_key "$A" redeem "$TOK" --csr "$T/k256.csr"
bad "cli: Ed448 key" csr_unsupported_key "$A" redeem "$TOK" --csr "$T/ed448.csr"
bad "cli: empty CSR file" csr_malformed "$A" redeem "$TOK" --csr /dev/null
# ---------------------------------------------------------------- CLI: key attestation
bad "cli: require without an attestation" attestation_missing "$A" redeem "$ATT" --csr "$T/yk/csr.pem"
bad "cli: attestation under an untrusted root" attestation_untrusted "$A" redeem "$ATT" --csr "$T/yk-other/csr.pem" --attestation "$T/yk-other/attest.pem"
bad "cli: attestation of another key than the CSR's" attestation_key_mismatch "$A" redeem "$ATT" --csr "$T/good.csr" --attestation "$T/yk/attest.pem"
bad "cli: serial extension not a DER INTEGER" attestation_malformed "$A" redeem "$ATT" --csr "$T/yk/csr.pem" --attestation "$T/yk/bad-ext.pem"
bad "cli: garbage as the attestation" attestation_malformed "$A" redeem "$ATT" --csr "$T/yk/csr.pem" --attestation "$T/garbage.csr"
bad "cli: PIN policy below the token's minimum" attestation_policy "$A" redeem "$ATT" --csr "$T/yk/csr.pem" --attestation "$T/yk/pin-never.pem"
bad "cli: unknown attestation mode at token create" field_invalid "$A" token create --name x --attestation sometimes
bad "cli: firmware minimum that is not a version" field_invalid "$A" token create --name x --attest-min-firmware 5.4.3.2
bad "cli: --pin-mac other than first or off" field_invalid "$A" token create --name x --pin-mac always

# ---------------------------------------------------------------- CLI: tokens
bad "cli: mistyped token" token_mistyped "$A" redeem "$MISTYPED" --csr "$T/good.csr"
bad "cli: not a token at all" token_malformed "$A" redeem "hello' OR '1'='1" --csr "$T/good.csr"
bad "cli: unknown (well-formed) token" token_unknown "$A" redeem "$UNKNOWN" --csr "$T/good.csr"
bad "cli: used token" token_used "$A" redeem "$USED" --csr "$T/good.csr"
bad "cli: deleted token" token_deleted "$A" redeem "$DELETED" --csr "$T/good.csr"
bad "cli: expired token (clock moved 2 days on)" token_expired faketime -f +2d "$A" redeem "$EXPIRING" --csr "$T/good.csr"
bad "cli: another user's token" token_owner_mismatch "$A" redeem "$OWNED" --csr "$T/good.csr" --user mallory
bad "cli: overriding a locked field" field_locked "$A" redeem "$TOK" --csr "$T/good.csr" --cn other
bad "cli: 5000-byte CN override" field_invalid "$A" redeem "$TOK" --csr "$T/good.csr" --org "$LONG"
bad "cli: non-UTF-8 OU override" field_invalid "$A" redeem "$TOK" --csr "$T/good.csr" --ou "$(printf 'caf\351')"
bad "cli: control character in an override" field_invalid "$A" redeem "$TOK" --csr "$T/good.csr" --org "$(printf 'a\033[2Jb')"
bad "cli: token without a name" name_required "$A" token create --cn x
bad "cli: 5000-byte token name" field_invalid "$A" token create --name "$LONG"
bad "cli: non-UTF-8 token name" field_invalid "$A" token create --name "$(printf '\377\376')"
bad "cli: lifetime beyond the maximum" lifetime_invalid "$A" token create --name x --expires 400d
bad "cli: malformed duration" "--expires" "$A" token create --name x --expires soon
bad "cli: reply attribute without =" reply_attribute_invalid "$A" token create --name x --reply Tunnel-Type
bad "cli: reply attribute with a bad name" reply_attribute_invalid "$A" token create --name x --reply 'Tunnel Type=VLAN'
bad "cli: unknown lock field" "--lock" "$A" token create --name x --lock cn,colour
DESC_TOK=$("$A" token create --name described --json | jget - "d['id']")
bad "cli: a 1025-byte description" description_invalid "$A" token create --name x --description "$(head -c 1025 /dev/zero | tr '\0' d)"
bad "cli: a tab in a description" description_invalid "$A" token create --name x --description "$(printf 'a\tb')"
bad "cli: a line break in a description" description_invalid "$A" token create --name x --description "$(printf 'a\nb')"
bad "cli: a terminal escape in a description" description_invalid "$A" token create --name x --description "$(printf 'a\033[2Jb')"
bad "cli: a non-UTF-8 description" description_invalid "$A" token create --name x --description "$(printf 'caf\351')"
bad "cli: a bidi override in a description" description_invalid "$A" token create --name x --description "$(printf 'guest \342\200\256evil')"
bad "cli: a bad description on update" description_invalid "$A" token update "$DESC_TOK" --description "$(printf 'a\rb')"
bad "cli: --count 0" "--count takes 1..100000" "$A" token create --name x --count 0
bad "cli: --count that is not a number" "--count takes 1..100000" "$A" token create --name x --count 5x
bad "cli: a bulk with one invalid field writes none" description_invalid "$A" token create --name x --count 5 --description "$(printf 'a\tb')"
bad "cli: a bulk whose 10th name is too long a CN writes none" field_invalid "$A" token create --name "$(head -c 62 /dev/zero | tr '\0' c)" --count 10
# ---------------------------------------------------------------- CLI: the certificate's shape
bad "cli: a key type the token's profile does not allow" csr_unsupported_key "$A" redeem "$STRICT" --csr "$T/good.csr"
bad "cli: a CN that makes the profile's SAN template invalid" san_invalid "$A" redeem "$DEVICE" --csr "$T/good.csr" --cn "two words"
bad "cli: a U-label DNS SubjectAltName" san_invalid "$A" token create --name x --san-dns bücher.example
bad "cli: a wildcard DNS SubjectAltName" san_invalid "$A" token create --name x --san-dns '*.example.com'
bad "cli: a DNS SubjectAltName with an underscore" san_invalid "$A" token create --name x --san-dns a_b.example
bad "cli: an email SubjectAltName without @" san_invalid "$A" token create --name x --san-email alice
bad "cli: a quoted-local-part email SubjectAltName" san_invalid "$A" token create --name x --san-email '"a b"@example.com'
bad "cli: a URI SubjectAltName without a scheme" san_invalid "$A" token create --name x --san-uri example.com/x
bad "cli: a URI SubjectAltName with a space" san_invalid "$A" token create --name x --san-uri 'https://example.com/a b'
bad "cli: two UPNs" san_invalid "$A" token create --name x --san-upn a@corp.example --san-upn b@corp.example
bad "cli: a UPN with a comma" san_invalid "$A" token create --name x --san-upn 'a,b@corp.example'
bad "cli: seventeen DNS SubjectAltNames" san_invalid "$A" token create --name x $(for i in $(seq 17); do printf -- '--san-dns h%d.example ' "$i"; done)
bad "cli: validDays past the CA's notAfter" validity_invalid "$A" token create --name x --profile long --valid-days 36500
# SQL metacharacters are data, not syntax: stored verbatim, tables intact.
J=$("$A" token create --name "x'); DROP TABLE tokens;--" --cn 'Robert"; DELETE FROM certificates;' --json)
check_eq "cli: SQL metacharacters are stored verbatim" "x'); DROP TABLE tokens;--" "$(echo "$J" | jget - "d['name']")"
check_eq "cli: ... and the certificates survive" 1 "$(sqlite3 "$DB" 'SELECT count(*) FROM certificates')"
"$A" token delete "$(echo "$J" | jget - "d['id']")" >/dev/null
# ---------------------------------------------------------------- CLI: certificates, config
bad "cli: revoke with an unknown reason" revocation_reason_invalid "$A" cert revoke "$SERIAL" --reason bored
bad "cli: serial that is not hex" serial_invalid "$A" cert show "12'; DROP TABLE certificates;--"
bad "cli: revoke an unknown serial" cert_not_found "$A" cert revoke 0123456789abcdef
bad "cli: token id that does not exist" token_not_found "$A" token show token-00000000-0000-4000-8000-000000000000
cp "$CRTOKEN_CONF" "$T/good.conf"
printf '\n[ca]\ncert_days = -5\n' >>"$CRTOKEN_CONF"
bad "config: negative cert_days" config_invalid "$A" token list
cp "$T/good.conf" "$CRTOKEN_CONF"
printf '\n[tokens]\nlifetime = forever\n' >>"$CRTOKEN_CONF"
bad "config: lifetime that is not a duration" config_invalid "$A" token list
cp "$T/good.conf" "$CRTOKEN_CONF"
printf '\n[store]\ndatabse = x.db\n' >>"$CRTOKEN_CONF"
bad "config: misspelt key" config_invalid "$A" token list
cp "$T/good.conf" "$CRTOKEN_CONF"
printf '\n[server]\nmax_body = 1\n' >>"$CRTOKEN_CONF"
bad "config: max_body below its minimum" config_invalid "$A" token list
cp "$T/good.conf" "$CRTOKEN_CONF"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/inst/hook.key"
chmod 600 "$T/inst/hook.key"
printf '\n[events.sink h]\ntype = webhook\nurl = http://hooks.example.org/x\nsecret_file = hook.key\n' >>"$CRTOKEN_CONF"
bad "config: a webhook URL that is not https (nor loopback)" config_invalid "$A" token list
cp "$T/good.conf" "$CRTOKEN_CONF"
printf '\n[events.sink m]\ntype = email\nsmtp_url = smtp://127.0.0.1:25\nfrom = a@b.org\nto = c@d.org\nsubject = {type} {tokenSecret}\nbody = b\n' >>"$CRTOKEN_CONF"
bad "config: an e-mail template with an unknown placeholder" config_invalid "$A" token list
cp "$T/good.conf" "$CRTOKEN_CONF"
printf '\n[events.sink r]\ntype = email\nsmtp_url = smtp://127.0.0.1:25\nfrom = a@b.org\nto = c@d.org\nevents = request.*\nsubject = {requestId}\nbody = poll with {pollSecret}\n' >>"$CRTOKEN_CONF"
bad "config: attack_template_renders_poll_secret: a request template with {pollSecret}" config_invalid "$A" token list
cp "$T/good.conf" "$CRTOKEN_CONF"
printf '\n[events.sink c]\ntype = command\ncommand = /bin/true\nevents = token.created, cert.issued\n' >>"$CRTOKEN_CONF"
bad "config: an unknown event type in a sink filter" config_invalid "$A" token list
cp "$T/good.conf" "$CRTOKEN_CONF"
bad "cli: an ownerEmail with a display name" field_invalid "$A" token create --name x --owner-email 'Eve <eve@example.org>'
bad "cli: an ownerEmail smuggling a second SMTP recipient" field_invalid "$A" token create --name x --owner-email "$(printf 'a@b.org\r\nRCPT TO:<eve@example.org>')"

# ---------------------------------------------------------------- CLI: uploaded certificates
# A partner CA (openssl) for [import] trusted_issuers, and its certificates.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 60 \
	-subj "/CN=Partner CA" -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign -keyout "$T/partner.key" \
	-out "$T/partner.pem" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n' >"$T/up.ext"
sed 's/clientAuth/serverAuth/' "$T/up.ext" >"$T/up-server.ext"
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n' >"$T/up-ca.ext"
# up NAME CN EXT [faketime offset]
up() {
	openssl req -new -key "$T/good.key" -subj "/CN=$2" -out "$T/$1.up.csr" 2>/dev/null &&
		faketime -f "${4:-+0}" openssl x509 -req -in "$T/$1.up.csr" -CA "$T/partner.pem" \
			-CAkey "$T/partner.key" -set_serial "0x$(openssl rand -hex 10)" -days 30 \
			-extfile "$3" -out "$T/$1.up.pem" 2>/dev/null
}
up ok fixture "$T/up.ext"
up expired fixture "$T/up.ext" -400d
up caup fixture "$T/up-ca.ext"
up server fixture "$T/up-server.ext"
up other other "$T/up.ext"
openssl req -x509 -key "$T/good.key" -subj "/CN=Partner CA" -days 30 \
	-addext basicConstraints=critical,CA:FALSE -out "$T/selfsigned.up.pem" 2>/dev/null
openssl req -new -key "$T/good.key" -subj "/CN=fixture" -out "$T/md5.up.csr" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 60 -subj "/CN=Partner RSA CA" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
	-keyout "$T/partner-rsa.key" -out "$T/partner-rsa.pem" 2>/dev/null
openssl x509 -req -in "$T/md5.up.csr" -CA "$T/partner-rsa.pem" -CAkey "$T/partner-rsa.key" \
	-set_serial "0x$(openssl rand -hex 10)" -days 30 -extfile "$T/up.ext" -md5 \
	-out "$T/md5.up.pem" 2>/dev/null
cat "$T/ok.up.pem" "$T/partner.pem" >"$T/several.up.pem"
cp "$T/good.key" "$T/key.up.pem"
printf -- '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' >"$T/garbage.up.pem"
cat "$T/partner.pem" "$T/partner-rsa.pem" >"$T/partners.pem"
chmod 644 "$T/partners.pem"
bad "cli: cert import without [import] trusted_issuers" import_not_configured "$A" cert import "$T/ok.up.pem" --name x
conf_set trusted_issuers "$T/partners.pem"
bad "cli: cert import chaining to nothing trusted" cert_untrusted "$A" cert import "$T/selfsigned.up.pem" --name x
bad "cli: cert import of an expired certificate" cert_expired "$A" cert import "$T/expired.up.pem" --name x
bad "cli: cert import of a CA certificate" cert_is_ca "$A" cert import "$T/caup.up.pem" --name x
bad "cli: cert import of a serverAuth-only certificate" cert_not_client_auth "$A" cert import "$T/server.up.pem" --name x
bad "cli: cert import of a certificate the trusted CA signed with MD5" cert_untrusted "$A" cert import "$T/md5.up.pem" --name x
bad "cli: cert import of malformed PEM" cert_malformed "$A" cert import "$T/garbage.up.pem" --name x
bad "cli: cert import of several certificates" cert_multiple "$A" cert import "$T/several.up.pem" --name x
bad "cli: cert import of a private key" cert_private_key "$A" cert import "$T/key.up.pem" --name x
bad "cli: cert import of a certificate crtoken issued (its CA is not a trusted issuer)" cert_untrusted "$A" cert import "$T/used.pem" --name x
bad "cli: redeem --cert whose CN the token locks otherwise" cert_subject_mismatch "$A" redeem "$TOK" --cert "$T/other.up.pem"

# ---------------------------------------------------------------- CLI: approval (certificate requests)
# A request in each state: pending, issued (approved), denied, expired, cancelled.
apr() { "$A" token create --name "$1" --approval required --json | jget - "d['token']"; }
rq() { "$A" redeem "$1" --csr "$T/good.csr" --json 2>/dev/null | jget - "d['requestId']"; }
PENDING_TOK=$(apr rq-pending)
RQ_PENDING=$(rq "$PENDING_TOK")
RQ_ISSUED=$(rq "$(apr rq-issued)")
"$A" request approve "$RQ_ISSUED" >/dev/null
RQ_DENIED=$(rq "$(apr rq-denied)")
"$A" request deny "$RQ_DENIED" --reason "not ours" >/dev/null
RQ_EXPIRED=$(rq "$(apr rq-expired)")
sqlite3 "$DB" "UPDATE certificate_requests SET expires_at = created_at - 1 WHERE id = '$RQ_EXPIRED'"
"$A" maintain >/dev/null
RQ_LATE=$(rq "$(apr rq-late)") # past its expiry, not yet marked by maintain
sqlite3 "$DB" "UPDATE certificate_requests SET expires_at = created_at - 1 WHERE id = '$RQ_LATE'"
RQ_CANCELLED=$(rq "$(apr rq-cancelled)")
"$A" request cancel "$RQ_CANCELLED" >/dev/null
APPROVAL_TOK=$(apr rq-unused)
bad "cli: approving a request twice" request_state "$A" request approve "$RQ_ISSUED"
bad "cli: approving a denied request" request_state "$A" request approve "$RQ_DENIED"
bad "cli: approving an expired request" request_state "$A" request approve "$RQ_EXPIRED"
bad "cli: approving a request past its expiry before maintain marked it" request_state "$A" request approve "$RQ_LATE"
bad "cli: denying an issued request" request_state "$A" request deny "$RQ_ISSUED" --reason late
bad "cli: denying a denied request again" request_state "$A" request deny "$RQ_DENIED" --reason again
bad "cli: denying with an empty reason" field_invalid "$A" request deny "$RQ_PENDING" --reason ""
bad "cli: denying with a control character in the reason" field_invalid "$A" request deny "$RQ_PENDING" --reason "$(printf 'a\033[2Jb')"
bad "cli: approving an unknown request" request_unknown "$A" request approve request-00000000-0000-4000-8000-000000000000
bad "cli: approving a cancelled request" request_state "$A" request approve "$RQ_CANCELLED"
bad "cli: denying a cancelled request" request_state "$A" request deny "$RQ_CANCELLED" --reason late
bad "cli: cancelling an issued request" request_state "$A" request cancel "$RQ_ISSUED"
bad "cli: cancelling a denied request" request_state "$A" request cancel "$RQ_DENIED"
bad "cli: cancelling an expired request" request_state "$A" request cancel "$RQ_EXPIRED"
bad "cli: cancelling a request past its expiry before maintain marked it" request_state "$A" request cancel "$RQ_LATE"
bad "cli: cancelling a cancelled request again" request_state "$A" request cancel "$RQ_CANCELLED"
bad "cli: cancelling an unknown request" request_unknown "$A" request cancel request-00000000-0000-4000-8000-000000000000
bad "cli: redeeming a token whose request is pending" token_used "$A" redeem "$PENDING_TOK" --csr "$T/good.csr"
bad "cli: a certificate upload for a token that requires approval" approval_required "$A" redeem "$APPROVAL_TOK" --cert "$T/ok.up.pem"

# ---------------------------------------------------------------- HTTP
start_crtokend --workers 4 || { not_ok "crtokend starts"; finish; exit 1; }
apikey || not_ok "api key"
csr_body good2
body() { $PY -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1])))' "$1" >"$T/b.json"; }
R=/client-certificates/token
AH="Authorization: Bearer"
CT="Content-Type: application/json"
bad "http: approving a request twice is 409 request_state" request_state http POST "/certificate-requests/$RQ_ISSUED/approve" -H "$AH $KEY"
bad "http: approving a denied request is 409 request_state" request_state http POST "/certificate-requests/$RQ_DENIED/approve" -H "$AH $KEY"
bad "http: approving an expired request is 409 request_state" request_state http POST "/certificate-requests/$RQ_EXPIRED/approve" -H "$AH $KEY"
bad "http: denying an issued request is 409 request_state" request_state http POST "/certificate-requests/$RQ_ISSUED/deny" -H "$AH $KEY" -H "$CT" --data-binary '{"reason":"late"}'
bad "http: denying without a reason is 400" request_invalid http POST "/certificate-requests/$RQ_PENDING/deny" -H "$AH $KEY" -H "$CT" --data-binary '{}'
bad "http: a 600-byte deny reason is field_invalid" field_invalid http POST "/certificate-requests/$RQ_PENDING/deny" -H "$AH $KEY" -H "$CT" --data-binary "{\"reason\":\"$(head -c 600 /dev/zero | tr '\0' a)\"}"
bad "http: approving an unknown request is 404 request_unknown" request_unknown http POST /certificate-requests/request-nope/approve -H "$AH $KEY"
bad "http: deciding without the API key is 401" "401 " http POST "/certificate-requests/$RQ_PENDING/approve"
bad "http: polling with a guessed poll secret is 401" authentication_failed http GET "/certificate-requests/$RQ_PENDING" -H "$AH crq_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
bad "http: a listing by an unknown state is 400" request_invalid http GET "/certificate-requests?state=approvedish" -H "$AH $KEY"
bad "http: cancelling an issued request is 409 request_state" request_state http POST "/certificate-requests/$RQ_ISSUED/cancel" -H "$AH $KEY"
bad "http: cancelling a denied request is 409 request_state" request_state http POST "/certificate-requests/$RQ_DENIED/cancel" -H "$AH $KEY"
bad "http: cancelling an expired request is 409 request_state" request_state http POST "/certificate-requests/$RQ_EXPIRED/cancel" -H "$AH $KEY"
bad "http: cancelling a cancelled request again is 409 request_state" request_state http POST "/certificate-requests/$RQ_CANCELLED/cancel" -H "$AH $KEY"
bad "http: approving a cancelled request is 409 request_state" request_state http POST "/certificate-requests/$RQ_CANCELLED/approve" -H "$AH $KEY"
bad "http: cancelling with a guessed poll secret is 401" authentication_failed http POST "/certificate-requests/$RQ_PENDING/cancel" -H "$AH crq_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
bad "http: cancelling without credentials is 401" "401 " http POST "/certificate-requests/$RQ_PENDING/cancel"
bad "http: cancelling with a body that has members is 400" request_invalid http POST "/certificate-requests/$RQ_PENDING/cancel" -H "$AH $KEY" -H "$CT" --data-binary '{"reason":"x"}'
bad "http: cancelling an unknown request is 404 request_unknown" request_unknown http POST /certificate-requests/request-nope/cancel -H "$AH $KEY"
bad "http: GENERATE for a token that requires approval is 422" approval_required http POST "$R/$APPROVAL_TOK" -H "$CT" --data-binary '{"type":"GENERATE"}'
bad "http: approval other than required or none is field_invalid" field_invalid http POST /certificate-request-tokens -H "$AH $KEY" -H "$CT" --data-binary '{"name":"x","approval":"maybe"}'
bad "http: wrong Content-Type is 415" "415 " http POST "$R/$TOK" -H 'Content-Type: text/plain' --data-binary "@$T/good2.json"
head -c 10485760 /dev/zero | tr '\0' ' ' >"$T/10mb"
bad "http: 10 MB body is 413" "413 " http POST "$R/$TOK" -H 'Content-Type: application/json' --data-binary "@$T/10mb"
bad "http: malformed JSON is 400" "400 " http POST "$R/$TOK" -H 'Content-Type: application/json' --data-binary '{"type":"CSR",'
bad "http: CSR value of the wrong JSON type is 400" request_invalid http POST "$R/$TOK" -H 'Content-Type: application/json' --data-binary '{"type":"CSR","value":42}'
bad "http: unknown field is 400" request_invalid http POST "$R/$TOK" -H 'Content-Type: application/json' --data-binary '{"type":"CSR","value":"x","colour":"red"}'
bad "http: NUL inside a JSON string is 400" "400 " http POST "$R/$TOK" -H 'Content-Type: application/json' --data-binary '{"type":"CSR","value":"a\u0000b"}'
printf '{"type":"CSR","value":"\377\376"}' >"$T/latin.json"
bad "http: non-UTF-8 body is 400" "400 " http POST "$R/$TOK" -H 'Content-Type: application/json' --data-binary "@$T/latin.json"
bad "http: unknown redemption type is 400" request_invalid http POST "$R/$TOK" -H 'Content-Type: application/json' --data-binary '{"type":"TELEPATHY"}'
bad "http: garbage CSR is 400 csr_malformed" csr_malformed http POST "$R/$TOK" -H 'Content-Type: application/json' --data-binary '{"type":"CSR","value":"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"}'
$PY -c 'import json,sys; print(json.dumps({"type":"CSR","value":open(sys.argv[1]).read()}))' "$T/rsa1024.csr" >"$T/weak.json"
bad "http: weak key is 422 csr_weak_key" "422 " http POST "$R/$TOK" -H 'Content-Type: application/json' --data-binary "@$T/weak.json"
bad "http: mistyped token is 404 token_mistyped" token_mistyped http POST "$R/$MISTYPED" -H 'Content-Type: application/json' --data-binary "@$T/good2.json"
bad "http: used token is 409" "409 " http POST "$R/$USED" -H 'Content-Type: application/json' --data-binary "@$T/good2.json"
bad "http: deleted token is 410" "410 " http POST "$R/$DELETED" -H 'Content-Type: application/json' --data-binary "@$T/good2.json"
P=/certificate-request-tokens/preview
bad "http: preview of a used token is 409 token_used" '409 {"error":{"code":"token_used"' http POST "$P" -H 'Content-Type: application/json' --data-binary "{\"token\":\"$USED\"}"
bad "http: preview of a mistyped token is 404 token_mistyped" token_mistyped http POST "$P" -H 'Content-Type: application/json' --data-binary "{\"token\":\"$MISTYPED\"}"
bad "http: preview with an override the token locks is 422 field_locked" field_locked http POST "$P" -H 'Content-Type: application/json' --data-binary "{\"token\":\"$TOK\",\"commonName\":\"other\"}"
bad "http: preview with an unknown field is 400" request_invalid http POST "$P" -H 'Content-Type: application/json' --data-binary "{\"token\":\"$TOK\",\"type\":\"CSR\"}"
ALLOW_RC0=1 bad "http: a preview that succeeds changes nothing either" '200 {"tokenId"' http POST "$P" -H 'Content-Type: application/json' --data-binary "{\"token\":\"$TOK\"}"
$PY -c 'import json,sys; print(json.dumps({"type":"CSR","value":open(sys.argv[1]).read(),"attestation":open(sys.argv[2]).read()}))' "$T/yk-other/csr.pem" "$T/yk-other/attest.pem" >"$T/att-untrusted.json"
$PY -c 'import json,sys; print(json.dumps({"type":"CSR","value":open(sys.argv[1]).read(),"attestation":"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}))' "$T/yk/csr.pem" >"$T/att-garbage.json"
bad "http: attestation under an untrusted root is 422" '422 {"error":{"code":"attestation_untrusted"' http POST "$R/$ATT" -H 'Content-Type: application/json' --data-binary "@$T/att-untrusted.json"
bad "http: garbage attestation is 400 attestation_malformed" '400 {"error":{"code":"attestation_malformed"' http POST "$R/$ATT" -H 'Content-Type: application/json' --data-binary "@$T/att-garbage.json"
bad "http: attestation of the wrong JSON type is 400" request_invalid http POST "$R/$ATT" -H 'Content-Type: application/json' --data-binary '{"type":"CSR","value":"x","attestation":7}'
bad "http: require without an attestation is 422" '422 {"error":{"code":"attestation_missing"' http POST "$R/$ATT" -H 'Content-Type: application/json' --data-binary "@$T/good2.json"
bad "http: GENERATE with an unknown key type is 422" key_type_invalid http POST "$R/$TOK" -H 'Content-Type: application/json' --data-binary '{"type":"GENERATE","keyType":"dsa-512"}'
bad "http: admin call with a wrong API key is 401" "401 " http GET /certificate-request-tokens -H "Authorization: Bearer crk_not-a-real-key"
bad "http: token creation without a name is 422/400" name_required http POST /certificate-request-tokens -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary '{"commonName":"x"}'
bad "http: two addresses as ownerEmail is field_invalid" field_invalid http POST /certificate-request-tokens -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary '{"name":"x","ownerEmail":"a@b.org, eve@example.org"}'
bad "http: pinMac other than first or off is field_invalid" field_invalid http POST /certificate-request-tokens -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary '{"name":"x","pinMac":"First"}'
bad "http: pinMac that is not a string is request_invalid" request_invalid http POST /certificate-request-tokens -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary '{"name":"x","pinMac":true}'
bad "http: expiresIn of the wrong type" "400 " http POST /certificate-request-tokens -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary '{"name":"x","expiresIn":[1]}'
bad "http: a kept PKCS#12 download without the login is 401" authentication_required http GET "/me/certificates/$SERIAL/pkcs12"
: >"$T/exists.p12"
bad "enroll: pkcs12 with a serial that is not hex never reaches the URL" serial_invalid "$ENROLL" pkcs12 '../../audit' --out "$T/x.p12" --server "$URL" --user alice --otp-file "$T/exists.p12"
bad "enroll: pkcs12 onto an existing file without --force" "use --force" "$ENROLL" pkcs12 "$SERIAL" --out "$T/exists.p12" --server "$URL" --user alice --otp-file "$T/exists.p12"
ln -s "$T/exists.p12" "$T/link.p12"
bad "enroll: pkcs12 onto a symlink, even with --force" "symbolic link" "$ENROLL" pkcs12 "$SERIAL" --out "$T/link.p12" --force --server "$URL" --user alice --otp-file "$T/exists.p12"
bad "enroll: pkcs12 without --out is a usage error" "usage: crtoken-enroll pkcs12" "$ENROLL" pkcs12 "$SERIAL" --server "$URL" --user alice
bad "http: a 1025-byte description is 422 description_invalid" '422 {"error":{"code":"description_invalid"' http POST /certificate-request-tokens -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary "{\"name\":\"x\",\"description\":\"$(head -c 1025 /dev/zero | tr '\0' d)\"}"
bad "http: a control character in a description is 422 description_invalid" description_invalid http POST /certificate-request-tokens -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary '{"name":"x","description":"a\u001b[2Jb"}'
bad "http: a bad description in a PATCH is 422 description_invalid" description_invalid http PATCH "/certificate-request-tokens/$DESC_TOK" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary '{"description":"a\tb"}'
bad "http: a description that is not a string is 400" request_invalid http POST /certificate-request-tokens -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary '{"name":"x","description":42}'
bad "http: count 0 is 400 count_invalid" '400 {"error":{"code":"count_invalid"' http POST /certificate-request-tokens -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary '{"name":"x","count":0}'
bad "http: count over the bulk maximum (1001) is 400 count_invalid" count_invalid http POST /certificate-request-tokens -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary '{"name":"x","count":1001}'
bad "http: count that is not an integer is 400 count_invalid" count_invalid http POST /certificate-request-tokens -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary '{"name":"x","count":"5"}'
bad "http: count with a token string field is 400 request_invalid" request_invalid http POST /certificate-request-tokens -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary '{"name":"x","count":2,"token":"crt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}'
bad "http: a bulk with one invalid field writes none (422 description_invalid)" description_invalid http POST /certificate-request-tokens -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary '{"name":"x","count":10,"description":"a\u0007b"}'
bad "http: count in a PATCH is 400 request_invalid" request_invalid http PATCH "/certificate-request-tokens/$DESC_TOK" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary '{"count":2}'
# ---------------------------------------------------------------- scoped API keys
bad "cli: an unknown API key scope" scope_unknown "$A" apikey create --name x --scope tokens:read,tokens:admin
bad "cli: an empty API key scope list" scope_unknown "$A" apikey create --name x --scope ,
bad "cli: an API key limited to a profile that does not exist" profile_unknown "$A" apikey create --name x --profiles default,staff
bad "cli: an API key profile list with an empty entry" field_invalid "$A" apikey create --name x --profiles default,
RO=$("$A" apikey create --name ro --scope tokens:read --json | jget - "d['key']")
DEF=$("$A" apikey create --name def-only --profiles default --json | jget - "d['key']")
PATCHME=$("$A" token create --name patch-me --json | jget - "d['id']")
# ---------------------------------------------------------------- GET /audit
bad "http: the audit trail with a key without audit:read is 403 permission_denied" permission_denied http GET /audit -H "$AH $RO"
bad "http: audit since that is not RFC 3339 is 400 time_invalid" '400 {"error":{"code":"time_invalid"' http GET '/audit?since=2026-12-01' -H "$AH $KEY"
bad "http: audit until with an offset other than UTC is time_invalid" time_invalid http GET '/audit?until=2026-12-01T10:00:00%2B02:00' -H "$AH $KEY"
bad "http: audit since after until is time_invalid" time_invalid http GET '/audit?since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z' -H "$AH $KEY"
bad "http: an empty audit actor filter is 400 filter_invalid" '400 {"error":{"code":"filter_invalid"' http GET '/audit?actor=' -H "$AH $KEY"
bad "http: an audit object filter with a newline is filter_invalid" filter_invalid http GET '/audit?object=a%0Ab' -H "$AH $KEY"
bad "http: an audit sort naming SQL is 400 sort_invalid" '400 {"error":{"code":"sort_invalid"' http GET '/audit?sort=at%3BDROP%20TABLE%20audit' -H "$AH $KEY"
bad "http: an audit page size of 501 is 400 page_invalid" page_invalid http GET '/audit?size=501' -H "$AH $KEY"
bad "cli: audit --since that is not RFC 3339 is time_invalid" time_invalid "$A" audit --since 2026-12-01
bad "cli: audit --actor '' is filter_invalid" filter_invalid "$A" audit --actor ''
bad "cli: audit --sort naming SQL is sort_invalid" sort_invalid "$A" audit --sort 'at;DROP TABLE audit'
bad "cli: token list --size 0 is page_invalid" page_invalid "$A" token list --size 0
bad "cli: request list --sort csr is sort_invalid" sort_invalid "$A" request list --sort csr
bad "http: a tokens:read key creating a token is 403 permission_denied" '403 {"error":{"code":"permission_denied"' http POST /certificate-request-tokens -H "$AH $RO" -H "$CT" --data-binary '{"name":"x"}'
bad "http: a tokens:read key revoking a certificate is 403 permission_denied" permission_denied http POST /client-certificates/0a/revoke -H "$AH $RO"
bad "http: a key limited to profile default creating one of another profile is 403" permission_denied http POST /certificate-request-tokens -H "$AH $DEF" -H "$CT" --data-binary '{"name":"x","profile":"staff"}'
bad "http: a scopes member in a token update is 400" request_invalid http PATCH "/certificate-request-tokens/$PATCHME" -H "$AH $KEY" -H "$CT" --data-binary '{"scopes":"all"}'
upjson() { $PY -c 'import json,sys; print(json.dumps({"type":"CERTIFICATE","value":open(sys.argv[1]).read()}))' "$T/$1.up.pem" >"$T/$1.up.json"; }
for f in selfsigned expired caup server garbage several key other md5; do upjson $f; done
for c in "selfsigned 422 cert_untrusted chaining to nothing trusted" \
	"expired 422 cert_expired expired" "caup 422 cert_is_ca a CA certificate" \
	"server 422 cert_not_client_auth not for client auth" "garbage 400 cert_malformed malformed PEM" \
	"several 400 cert_multiple several certificates" "key 400 cert_private_key a private key" \
	"other 422 cert_subject_mismatch a CN the token locks otherwise" \
	"md5 422 cert_untrusted signed by the trusted CA with MD5"; do
	set -- $c
	_f=$1 _s=$2 _c=$3
	shift 3
	bad "http: upload: $*" "$_s {\"error\":{\"code\":\"$_c\"" http POST "$R/$TOK" -H 'Content-Type: application/json' --data-binary "@$T/$_f.up.json"
done
bad "http: upload with an override is 400" request_invalid http POST "$R/$TOK" -H 'Content-Type: application/json' --data-binary '{"type":"CERTIFICATE","value":"x","commonName":"fixed"}'
bad "http: a bad DNS SubjectAltName is 422 san_invalid" '422 {"error":{"code":"san_invalid"' http POST /certificate-request-tokens -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary '{"name":"x","san":{"dns":["bad_name.example"]}}'
bad "http: an unknown SubjectAltName kind is 400" request_invalid http POST /certificate-request-tokens -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary '{"name":"x","san":{"ip":"192.0.2.1"}}'
bad "http: a SubjectAltName value with a line break is san_invalid" san_invalid http POST /certificate-request-tokens -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary '{"name":"x","san":{"dns":"a.example\nupn=admin@corp.example"}}'
bad "http: san of the wrong type is 400" request_invalid http POST /certificate-request-tokens -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' --data-binary '{"name":"x","san":["dns=a.example"]}'
$PY -c 'import json,sys; print(json.dumps({"type":"CSR","value":open(sys.argv[1]).read()}))' "$T/good.csr" >"$T/p256.json"
bad "http: a key type the profile does not allow is 422 csr_unsupported_key" csr_unsupported_key http POST "$R/$STRICT" -H 'Content-Type: application/json' --data-binary "@$T/p256.json"
# A slow body: a client trickles half a body and stalls; others are served meanwhile.
$PY - "$PORT" "$TOK" >"$T/slow.out" 2>&1 <<'PYEOF' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(("POST /client-certificates/token/%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n" % sys.argv[2]).encode())
for i in range(30):
    s.sendall(b"{" if i == 0 else b" ")
    time.sleep(0.1)
s.close()
PYEOF
SLOW=$!
_before=$(sig)
_h=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL/healthz")
wait $SLOW
check_eq "http: a stalled slow body does not block other clients" 200 "$_h"
check_eq "http: ... and the abandoned request wrote nothing" "$_before" "$(sig)"
stop_crtokend

# ---------------------------------------------------------------- PAM
. "$TOP/tests/integration/pam_lib.sh"
"$A" otp enroll alice --json >"$T/alice.json"
B32=$(jget - "d['secret']" <"$T/alice.json")
service crtoken "auth required $PAM_SO config=$CRTOKEN_CONF" "account required $PAM_SO config=$CRTOKEN_CONF"
service typo "auth required $PAM_SO config=$CRTOKEN_CONF windw=3"
service badconf "auth required $PAM_SO config=$T/nonexistent.conf"
NOW=$(date +%s)
CODE=$(oathtool --totp -b "$B32" -N "@$NOW")
pam_code() { printf '%s\n' "$1" >"$T/code"; }
# pam_case ARGS... : pam_at, with pamtester's report on stdout for bad().
pam_case() {
	pam_at "$@"
	_prc=$?
	cat "$T/pam.out"
	return $_prc
}
pam_code "$CODE"
pam_at "$NOW" crtoken alice authenticate <"$T/code"
PAM=1 bad "pam: a replayed code is refused" "$PAM_AUTH_ERR" pam_case "$NOW" crtoken alice authenticate <"$T/code"
pam_code 000000
PAM=1 bad "pam: a wrong code is refused" "$PAM_AUTH_ERR" pam_case "$((NOW + 90))" crtoken alice authenticate <"$T/code"
pam_code "12ab56' OR 1=1"
PAM=1 bad "pam: a code that is not digits is refused" "$PAM_AUTH_ERR" pam_case "$((NOW + 120))" crtoken alice authenticate <"$T/code"
pam_code 123456
PAM=1 bad "pam: an unenrolled user is unknown" "$PAM_USER_UNKNOWN" pam_case "$NOW" crtoken mallory authenticate <"$T/code"
pam_code "$CODE"
PAM=1 bad "pam: a misspelt module option is a service error" "$PAM_SERVICE_ERR" pam_case "$NOW" typo alice authenticate <"$T/code"
PAM=1 bad "pam: a missing config fails closed" "$PAM_AUTHINFO_UNAVAIL" pam_case "$NOW" badconf alice authenticate <"$T/code"

# ---------------------------------------------------------------- RADIUS
RLM_SRC=$TOP/rlm_crtoken
. "$TOP/tests/integration/radius_lib.sh"
RLM_BUILD=$BUILD
RLM_PORT=18123
at_exit rlm_stop
rlm_lab_ca "$T" >/dev/null 2>&1
cat "$T/inst/ca.pem" >"$T/client-cas.pem"
RLM_SERVER_CERT=$T/server.pem RLM_SERVER_KEY=$T/server.key RLM_CLIENT_CAS=$T/client-cas.pem
RLM_CRTOKEN_CONF=$T/nonexistent.conf
rlm_write_config "$T/raddb-bad" crtoken >/dev/null 2>&1
bad "radius: module config pointing at a missing crtoken.conf" config_not_found /usr/sbin/freeradius -XC -d "$T/raddb-bad"
cp "$CRTOKEN_CONF" "$T/broken.conf"
printf '\n[ca]\ncert_days = forever\n' >>"$T/broken.conf"
RLM_CRTOKEN_CONF=$T/broken.conf
rlm_write_config "$T/raddb-broken" crtoken >/dev/null 2>&1
bad "radius: invalid value in crtoken.conf" config_invalid /usr/sbin/freeradius -XC -d "$T/raddb-broken"
# [radius] last_seen was documented but never written: it is gone, not ignored.
cp "$CRTOKEN_CONF" "$T/lastseen.conf"
printf '\n[radius]\nlast_seen = no\n' >>"$T/lastseen.conf"
RLM_CRTOKEN_CONF=$T/lastseen.conf
rlm_write_config "$T/raddb-lastseen" crtoken >/dev/null 2>&1
bad "radius: the removed [radius] last_seen key is an unknown key" "unknown key [radius] last_seen" \
	/usr/sbin/freeradius -XC -d "$T/raddb-lastseen"
RLM_CRTOKEN_CONF=$CRTOKEN_CONF
rlm_write_config "$T/raddb-attr" crtoken >/dev/null 2>&1
grep -rl 'serial_attribute = TLS-Client-Cert-Serial' "$T/raddb-attr" | xargs sed -i 's/serial_attribute = TLS-Client-Cert-Serial/serial_attribute = Crtoken-Bogus-Serial-Attr/'
bad "radius: unknown serial_attribute is a config error" "Unknown attribute" /usr/sbin/freeradius -XC -d "$T/raddb-attr"
# A certificate signed with the CA key but never issued by crtoken.
openssl req -new -key "$T/good.key" -subj "/CN=forged" -out "$T/forged.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n' >"$T/forged.ext"
openssl x509 -req -in "$T/forged.csr" -CA "$T/inst/ca.pem" -CAkey "$T/inst/ca.key" -set_serial 0x0badc0de \
	-days 30 -extfile "$T/forged.ext" -out "$T/forged.pem" 2>/dev/null
rlm_write_config "$T/raddb" crtoken >/dev/null 2>&1
if rlm_start "$T/raddb"; then
	ALLOW_RC0=1 bad "radius: a forged certificate from the CA key is rejected" reject \
		rlm_eapol "$T/forged.pem" "$T/good.key" "$T/eapol.out" "$T/lab-ca.pem"
	rlm_stop
else
	not_ok "radius: freeradius starts"
	tail -20 "$T/raddb/radiusd.log" | sed 's/^/#   /'
fi
finish
