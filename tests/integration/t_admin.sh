#!/bin/sh
# t_admin.sh — crtoken-admin driven as an administrator would, with the
# results checked by the openssl command line tool.
. "$(dirname "$0")/lib.sh"

A=$ADMIN
new_instance "$T/inst" --ca-subject "/CN=Test Corp Network CA/O=Test Corp" || { not_ok "init"; finish; exit 1; }
ok "init creates an instance"
CA=$T/inst/ca.pem

check "ca show prints the subject" sh -c "$A ca show | grep -q 'Test Corp Network CA'"
check "the CA certificate is a CA (openssl)" sh -c "openssl x509 -in $CA -noout -text | grep -q 'CA:TRUE'"

for c in init ca token redeem cert crl audit otp; do
	check "$c --help exits 0" "$A" "$c" --help
done
check_fails "an unknown command is a usage error" "$A" frobnicate
"$A" token show >/dev/null 2>&1
check_eq "a missing argument exits 2 (usage)" 2 $?

# --- create, redeem, verify -------------------------------------------------
J=$("$A" token create --name laptop-alice --cn alice --org "Test Corp" --ou Staff \
	--reply Tunnel-Type=VLAN --reply Tunnel-Medium-Type=IEEE-802 \
	--reply Tunnel-Private-Group-Id=42 --expires 2d --json)
TOK=$(json_get "$J" token)
ID=$(json_get "$J" id)
check_contains "token create --json shows the token once" "crt_" "$TOK"
check_contains "ids look like token-<uuid>" "token-" "$ID"
for k in name commonName organization organizationalUnit owner createdAt expiresAt; do
	check_contains "token create --json has $k" "\"$k\"" "$J"
done
check_contains "token list shows it active" "active" "$("$A" token list)"
check_fails "token show never prints the token string" sh -c "$A token show $ID --json | grep -q crt_"

make_csr "$T" alice
check "redeem writes the certificate" "$A" redeem "$TOK" --csr "$T/alice.csr" --out "$T/alice.pem" --chain-out "$T/chain.pem"
check "openssl verify accepts it against the CA" openssl verify -CAfile "$CA" "$T/alice.pem"

# L5: output files are never written through a symlink (a victim file of
# root's stays as it was), and a refused --out does not spend the token.
printf 'precious\n' >"$T/victim"
ln -s "$T/victim" "$T/out-link.pem"
J5=$("$A" token create --name l5 --json)
make_csr "$T" l5
check_code "redeem --out onto a symlink to a victim file is refused" unsafe_permissions \
	"$A" redeem "$(json_get "$J5" token)" --csr "$T/l5.csr" --out "$T/out-link.pem"
check_code "redeem --chain-out onto a symlink to a victim file is refused" unsafe_permissions \
	"$A" redeem "$(json_get "$J5" token)" --csr "$T/l5.csr" --out "$T/l5.pem" \
	--chain-out "$T/out-link.pem"
check_eq "... the victim file is untouched" precious "$(cat "$T/victim")"
check_contains "... and the token was not spent" active "$("$A" token show "$(json_get "$J5" id)")"
check_code "crl --out onto a symlink to a victim file is refused" unsafe_permissions \
	"$A" crl --out "$T/out-link.pem"
check_eq "... the victim file is still untouched" precious "$(cat "$T/victim")"
check "redeem --out replaces an existing regular file" sh -c \
	"printf old >'$T/l5.pem' && '$A' redeem '$(json_get "$J5" token)' --csr '$T/l5.csr' --out '$T/l5.pem' >/dev/null && grep -q 'BEGIN CERTIFICATE' '$T/l5.pem'"
TXT=$(openssl x509 -in "$T/alice.pem" -noout -text)
check_contains "clientAuth EKU" "TLS Web Client Authentication" "$TXT"
check_contains "CA:FALSE" "CA:FALSE" "$TXT"
check_contains "subject from the token, not the CSR" "O = Test Corp, OU = Staff, CN = alice" "$TXT"
check_contains "issuer is the CA" "Issuer: CN = Test Corp Network CA, O = Test Corp" "$TXT"
check "the key in the certificate is the CSR's key" sh -c \
	"[ \"\$(openssl x509 -in $T/alice.pem -noout -pubkey)\" = \"\$(openssl pkey -in $T/alice.key -pubout)\" ]"
SERIAL=$(openssl x509 -in "$T/alice.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
check_eq "the serial has 16 bytes" 32 "${#SERIAL}"

check_code "a second redemption is refused as token_used" token_used "$A" redeem "$TOK" --csr "$T/alice.csr"
"$A" redeem "$TOK" --csr "$T/alice.csr" >/dev/null 2>&1
check_eq "a refusal exits 1" 1 $?
BAD=$(printf '%s' "$TOK" | sed 's/^\(crt_.\{10\}\)./\1#/')
check_code "a mistyped token is reported as mistyped" token_mistyped "$A" redeem "$BAD" --csr "$T/alice.csr"
check_code "a string that is no token is malformed" token_malformed "$A" redeem hello --csr "$T/alice.csr"

# --- certificates ---------------------------------------------------------------
check_contains "cert list shows the serial" "$SERIAL" "$("$A" cert list)"
check_contains "cert show says RADIUS would admit it" "admitted" "$("$A" cert show "$SERIAL")"
check_contains "cert show accepts colon-separated upper-case serials" "$SERIAL" \
	"$("$A" cert show "$(echo "$SERIAL" | tr a-f A-F | sed 's/../&:/g;s/:$//')")"
CJ=$("$A" cert show "$SERIAL" --json)
check_contains "reply attributes are copied to the certificate" "Tunnel-Private-Group-Id=42" "$CJ"
check_code "an unknown serial is cert_not_found" cert_not_found "$A" cert show 0102
"$A" cert show 0102 >/dev/null 2>&1
check_eq "not found exits 3" 3 $?
check_code "a bad reason is refused" revocation_reason_invalid "$A" cert revoke "$SERIAL" --reason because
check "revoke with an RFC 5280 reason" "$A" cert revoke "$SERIAL" --reason keyCompromise
check_contains "the certificate is now revoked" "revoked" "$("$A" cert show "$SERIAL")"
check_contains "RADIUS would now reject it" "cert_revoked" "$("$A" cert show "$SERIAL")"
check_code "revoking twice is refused" cert_revoked "$A" cert revoke "$SERIAL"
check "crl writes a CRL" "$A" crl --out "$T/crl.pem"
CRL=$(openssl crl -in "$T/crl.pem" -noout -text)
check_contains "the CRL lists the serial" "$(echo "$SERIAL" | tr a-f A-F)" "$CRL"
check_contains "the CRL carries the reason" "Key Compromise" "$CRL"
check "the CRL is signed by the CA" openssl crl -in "$T/crl.pem" -CAfile "$CA" -noout
check_fails "openssl verify -crl_check rejects the revoked certificate" \
	openssl verify -crl_check -CAfile "$CA" -CRLfile "$T/crl.pem" "$T/alice.pem"
N1=$(openssl crl -in "$T/crl.pem" -noout -crlnumber | cut -d= -f2)
"$A" crl --out "$T/crl2.pem" >/dev/null
N2=$(openssl crl -in "$T/crl2.pem" -noout -crlnumber | cut -d= -f2)
check_eq "a fresh CRL is not re-signed" "$((N1))" "$((N2))"
"$A" crl --force --out "$T/crl3.pem" >/dev/null
N3=$(openssl crl -in "$T/crl3.pem" -noout -crlnumber | cut -d= -f2)
check_eq "crl --force re-signs with the next CRL number" "$((N1 + 1))" "$((N3))"

# --- token life cycle -------------------------------------------------------------
J=$("$A" token create --name deleted-one --json)
TOK2=$(json_get "$J" token)
ID2=$(json_get "$J" id)
check "token update changes metadata while unused" sh -c "$A token update $ID2 --cn new-cn --json | grep -q new-cn"
check "token delete" "$A" token delete "$ID2"
check_code "redeeming a deleted token says deleted" token_deleted "$A" redeem "$TOK2" --csr "$T/alice.csr"
check_code "a deleted token can't be updated" token_not_active "$A" token update "$ID2" --cn x
check_contains "token list --state deleted" "$ID2" "$("$A" token list --state deleted)"

J=$("$A" token create --name locked --cn fixed --lock cn --json)
TOK3=$(json_get "$J" token)
check_code "a locked field can't be overridden" field_locked "$A" redeem "$TOK3" --csr "$T/alice.csr" --cn other
make_csr "$T" weak -algorithm RSA -pkeyopt rsa_keygen_bits:1024
check_code "an RSA-1024 CSR is a weak key" csr_weak_key "$A" redeem "$TOK3" --csr "$T/weak.csr"
check_contains "refused redemptions leave the token active" active "$("$A" token list --state active)"
openssl req -new -key "$T/alice.key" -subj /CN=x -outform DER -out "$T/alice.der" 2>/dev/null
check "a DER CSR is accepted, unlocked fields overridable" "$A" redeem "$TOK3" --csr "$T/alice.der" --org "Other Org" --out "$T/der.pem"
check_contains "the override is in the subject" "O = Other Org, CN = fixed" "$(openssl x509 -in "$T/der.pem" -noout -subject)"
J=$("$A" token create --name alice-laptop --owner alice --org Example --json)
TOK4=$(json_get "$J" token)
check_code "alice's token can't be redeemed as CN=bob" field_locked "$A" redeem "$TOK4" --user alice --csr "$T/alice.csr" --cn bob
check_code "a field the admin filled is fixed by default" field_locked "$A" redeem "$TOK4" --user alice --csr "$T/alice.csr" --org Other
check_code "a trailing backslash in a subject field is refused" field_invalid "$A" redeem "$TOK4" --user alice --csr "$T/alice.csr" --ou 'IT\'
check "token update --open opens a filled field" "$A" token update "$(json_get "$J" id)" --open org,cn
check "... which the redeemer may then set" "$A" redeem "$TOK4" --user alice --csr "$T/alice.csr" --cn alice-2 --org Other --out "$T/open.pem"
check_contains "the opened fields are in the subject" "O = Other, CN = alice-2" "$(openssl x509 -in "$T/open.pem" -noout -subject)"

J=$("$A" token create --name owned --owner alice --json)
TOK4=$(json_get "$J" token)
check_code "an owned token refuses another user" token_owner_mismatch "$A" redeem "$TOK4" --csr "$T/alice.csr" --user bob
check "the owner may redeem it" "$A" redeem "$TOK4" --csr "$T/alice.csr" --user alice
check_code "lifetimes past the maximum are refused" lifetime_invalid "$A" token create --name x --expires 365d
check_code "a token needs a name" name_required "$A" token create --cn x
check_code "reply attributes must be Attribute=value" reply_attribute_invalid "$A" token create --name x --reply novalue
check "purge runs" "$A" token purge --older-than 0

AU=$("$A" audit --limit 200)
for a in token.create token.redeem token.redeem_refused cert.revoke crl.generate token.delete token.update; do
	check_contains "the audit trail records $a" "$a" "$AU"
done

# --- safety ----------------------------------------------------------------------
chmod 644 "$T/inst/ca.key"
check_code "a CA key readable by others is refused" unsafe_permissions "$A" crl
chmod 600 "$T/inst/ca.key"
check_code "a missing config is config_not_found" config_not_found "$A" --config "$T/nope.conf" token list
check_code "init refuses an existing instance" already_exists "$A" init --dir "$T/inst"

# --- other CA key types and an imported intermediate -----------------------------
for kt in ec-p384 rsa-3072; do
	"$A" init --dir "$T/$kt" --ca-key "$kt" >/dev/null 2>&1
	J=$(CRTOKEN_CONF=$T/$kt/crtoken.conf "$A" token create --name k --json)
	CRTOKEN_CONF=$T/$kt/crtoken.conf "$A" redeem "$(json_get "$J" token)" --csr "$T/alice.csr" --out "$T/$kt.pem" >/dev/null 2>&1
	check "a $kt CA issues verifiable certificates" openssl verify -CAfile "$T/$kt/ca.pem" "$T/$kt.pem"
done

# An intermediate under an external root, imported with its chain.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/root.key" \
	-subj "/CN=Corp Root" -days 30 -out "$T/root.pem" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/int.key" \
	-subj "/CN=Corp WiFi Intermediate" -out "$T/int.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n' >"$T/int.ext"
openssl x509 -req -in "$T/int.csr" -CA "$T/root.pem" -CAkey "$T/root.key" -CAcreateserial \
	-days 20 -extfile "$T/int.ext" -out "$T/int.pem" 2>/dev/null
chmod 600 "$T/int.key"
check "init imports an intermediate CA with its chain" "$A" init --dir "$T/imp" \
	--import-cert "$T/int.pem" --import-key "$T/int.key" --import-chain "$T/root.pem"
J=$(CRTOKEN_CONF=$T/imp/crtoken.conf "$A" token create --name via-int --json)
CRTOKEN_CONF=$T/imp/crtoken.conf "$A" redeem "$(json_get "$J" token)" --csr "$T/alice.csr" --out "$T/imp.pem" --chain-out "$T/imp-chain.pem" >/dev/null
check "its certificates verify up to the external root" openssl verify -CAfile "$T/root.pem" -untrusted "$T/int.pem" "$T/imp.pem"
check_eq "the chain handed out holds intermediate and root" 2 "$(grep -c 'BEGIN CERTIFICATE' "$T/imp-chain.pem")"
D=$(CRTOKEN_CONF=$T/imp/crtoken.conf "$A" cert show "$(openssl x509 -in "$T/imp.pem" -noout -serial | cut -d= -f2)" --json)
check_contains "validity is capped at the intermediate's notAfter" "$(openssl x509 -in "$T/int.pem" -noout -enddate | cut -d= -f2 | awk '{print $4}')" \
	"$(openssl x509 -in "$T/imp.pem" -noout -enddate)"
check_code "ca import refuses a key that does not match" ca_key_mismatch \
	env CRTOKEN_CONF="$T/imp/crtoken.conf" "$A" ca import --cert "$T/int.pem" --key "$T/root.key"
finish
