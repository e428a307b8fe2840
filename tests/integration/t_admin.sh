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
# --- each action takes only its own options ------------------------------------------
# check_usage NAME MESSAGE CMD... : CMD exits 2 (usage) with MESSAGE on stderr.
check_usage() {
	_name=$1
	_msg=$2
	shift 2
	"$@" >"$T/.out" 2>"$T/.err"
	_rc=$?
	if [ "$_rc" = 2 ] && grep -q -F -- "$_msg" "$T/.err"; then ok "$_name"; else
		not_ok "$_name (exit $_rc, expected 2 and: $_msg)"
		sed 's/^/#   /' "$T/.err" | tail -5
	fi
}
new_instance "$T/opts" || not_ok "instance for the option checks"
TJ=$("$A" token create --name opt-a --json)
TID=$(json_get "$TJ" id)
make_csr "$T" opt
"$A" redeem "$(json_get "$TJ" token)" --csr "$T/opt.csr" --out "$T/opt.pem" >/dev/null
OSER=$(openssl x509 -in "$T/opt.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
UJ=$("$A" token create --name opt-b --json)
UID_=$(json_get "$UJ" id)
KJ=$("$A" apikey create --name opt-key --json)
KID=$(json_get "$KJ" id)
AUDIT0=$("$A" audit --limit 100000 --json | grep -c '"id"')

CREATE_TAKES="(it takes --name, --cn, --org, --ou, --owner, --owner-email, --expires, --lock, --open, --reply, --attestation, --attest-pin-policy, --attest-touch-policy, --attest-min-firmware, --valid-days, --san-email, --san-upn, --san-dns, --san-uri, --description, --profile, --count, --ca, --approval, --pin-mac, --json)"
UPDATE_TAKES="(it takes --name, --cn, --org, --ou, --owner, --owner-email, --expires, --lock, --open, --reply, --attestation, --attest-pin-policy, --attest-touch-policy, --attest-min-firmware, --valid-days, --san-email, --san-upn, --san-dns, --san-uri, --description, --clear-reply, --clear-san, --json)"
check_usage "token create refuses list's --state" \
	"crtoken-admin token create: --state does not apply $CREATE_TAKES" \
	"$A" token create --name never --state active
check_usage "token create refuses update's --clear-reply" \
	"crtoken-admin token create: --clear-reply does not apply $CREATE_TAKES" \
	"$A" token create --name never --clear-reply
check_usage "token list refuses create's --cn" \
	"crtoken-admin token list: --cn does not apply (it takes --state, --json, --page, --size, --sort)" \
	"$A" token list --cn x
check_usage "token show refuses create's --count" \
	"crtoken-admin token show: --count does not apply (it takes --json)" \
	"$A" token show "$TID" --count 2
check_usage "token update refuses list's --state" \
	"crtoken-admin token update: --state does not apply $UPDATE_TAKES" \
	"$A" token update "$UID_" --state active --cn never
check_usage "token update refuses create's --count" \
	"crtoken-admin token update: --count does not apply $UPDATE_TAKES" \
	"$A" token update "$UID_" --count 2
check_usage "token delete refuses purge's --older-than" \
	"crtoken-admin token delete: --older-than does not apply (it takes --json)" \
	"$A" token delete "$UID_" --older-than 3
check_usage "token purge refuses create's --cn" \
	"crtoken-admin token purge: --cn does not apply (it takes --older-than, --json)" \
	"$A" token purge --cn x
check_usage "an option no action takes is unknown" \
	"crtoken-admin token list: unknown option '--frobnicate' (it takes --state, --json, --page, --size, --sort)" \
	"$A" token list --frobnicate
check_usage "an option that takes no value refuses one" \
	"crtoken-admin token list: --json takes no value" "$A" token list --json=yes
check_usage "a missing value is named" \
	"crtoken-admin token list: --state needs a value" "$A" token list --state
check_usage "the action comes first" \
	"crtoken-admin token: expected an action before '--json'" "$A" token --json list
check_usage "cert list refuses show's --pem" \
	"crtoken-admin cert list: --pem does not apply (it takes --status, --token, --expiring-within, --never-seen, --stale-days, --json, --page, --size, --sort)" \
	"$A" cert list --pem
check_usage "cert show refuses revoke's --reason" \
	"crtoken-admin cert show: --reason does not apply (it takes --pem, --json)" \
	"$A" cert show "$OSER" --reason keyCompromise
check_usage "cert revoke refuses list's --status" \
	"crtoken-admin cert revoke: --status does not apply (it takes --reason, --json)" \
	"$A" cert revoke "$OSER" --status valid
check_usage "cert revoke refuses show's --pem" \
	"crtoken-admin cert revoke: --pem does not apply (it takes --reason, --json)" \
	"$A" cert revoke "$OSER" --pem
check_usage "ca show refuses import's --cert" \
	"crtoken-admin ca show: --cert does not apply (it takes --ca, --json)" \
	"$A" ca show --cert "$T/int.pem"
check_usage "ca import refuses an option of no action" \
	"crtoken-admin ca import: unknown option '--pem' (it takes --cert, --key, --chain, --json)" \
	"$A" ca import --cert "$T/int.pem" --key "$T/int.key" --pem
check_usage "apikey list refuses create's --name" \
	"crtoken-admin apikey list: --name does not apply (it takes --json)" \
	"$A" apikey list --name x
check_usage "apikey list refuses create's -n" \
	"crtoken-admin apikey list: -n does not apply (it takes --json)" \
	"$A" apikey list -n x
check_usage "apikey revoke refuses create's --name" \
	"crtoken-admin apikey revoke: --name does not apply (it takes --json)" \
	"$A" apikey revoke "$KID" --name x
check_usage "apikey create refuses an option of no action" \
	"crtoken-admin apikey create: unknown option '--state' (it takes --name, --scope, --profiles, --json)" \
	"$A" apikey create --name never --state x
check_usage "init refuses --ca-days for an imported CA" \
	"crtoken-admin init: --import-* and --ca-key/--ca-subject/--ca-days exclude each other" \
	"$A" init --dir "$T/never" --import-cert "$T/int.pem" --import-key "$T/int.key" --ca-days 30
check_usage "init refuses --import-chain without an imported CA" \
	"crtoken-admin init: --import-chain does not apply without --import-cert and --import-key" \
	"$A" init --dir "$T/never" --import-chain "$T/root.pem"
check "... and made no instance" test ! -e "$T/never"
check_eq "refused command lines changed nothing (no audit row)" "$AUDIT0" \
	"$("$A" audit --limit 100000 --json | grep -c '"id"')"
check_contains "... the token delete refused is still active" '"state": "active"' \
	"$("$A" token show "$UID_" --json)"
check_contains "... the certificate cert revoke refused is still valid" '"status": "valid"' \
	"$("$A" cert show "$OSER" --json)"
check_contains "... the key apikey revoke refused is still accepted" '"revokedAt": null' \
	"$("$A" apikey list --json)"

# Every documented option of every action still works.
for act in create list show update delete purge; do
	check "token $act --help exits 0" "$A" token "$act" --help
done
J=$("$A" token create --name all-opts --cn all-cn --org all-o --ou all-ou --owner bob \
	--expires 1d --lock ou --open org --reply Tunnel-Type=VLAN --reply Filter-Id=x --json)
for v in '"name": "all-opts"' '"commonName": "all-cn"' '"organization": "all-o"' \
	'"organizationalUnit": "all-ou"' '"owner": "bob"' '"Tunnel-Type=VLAN"' '"Filter-Id=x"' \
	'"openFields": [' '"token": "crt_'; do
	check_contains "token create takes every metadata option ($v)" "$v" "$J"
done
check_contains "... --lock ou locks the OU" '"organizationalUnit"' \
	"$(printf '%s' "$J" | $PY -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["lockedFields"]))')"
check_eq "... --expires 1d" 86400 "$(printf '%s' "$J" | $PY -c 'import json,sys,datetime as d
j=json.load(sys.stdin); p=lambda s: d.datetime.strptime(s,"%Y-%m-%dT%H:%M:%SZ")
print(int((p(j["expiresAt"])-p(j["createdAt"])).total_seconds()))')"
AID=$(json_get "$J" id)
J=$("$A" token create --name described --description 'Printer room, 3rd floor' --json)
DID=$(json_get "$J" id)
check_contains "token create --description" '"description": "Printer room, 3rd floor"' "$J"
check_contains "token show prints the description" 'description: Printer room, 3rd floor' \
	"$("$A" token show "$DID")"
check_contains "token list --json carries the description" '"description": "Printer room, 3rd floor"' \
	"$("$A" token list --json)"
check_contains "token update --description changes it" '"description": "Lab"' \
	"$("$A" token update "$DID" --description Lab --json)"
check_contains "token update --description '' clears it" '"description": null' \
	"$("$A" token update "$DID" --description '' --json)"
check_contains "token update without --description leaves it" '"description": null' \
	"$("$A" token update "$DID" --ou x --json)"
check_eq "token create --count 3 --json makes three" 3 \
	"$("$A" token create --name batch --count 3 --json | grep -c '"token": "crt_')"
check_eq "token create --count 2 prints two token strings" 2 \
	"$("$A" token create --name batch2 --count 2 | grep -c '^crt_')"
BIGDB=$(dirname "$CRTOKEN_CONF")/crtoken.db
AUD0=$(sqlite3 "$BIGDB" "SELECT count(*) FROM audit WHERE action = 'token.create'")
EV0=$(sqlite3 "$BIGDB" "SELECT count(*) FROM events WHERE type = 'token.created'")
check_eq "token create --count 1001 makes 1001 (1000 per transaction)" 1001 \
	"$("$A" token create --name big --count 1001 | grep -c '^crt_')"
check_eq "... named big-1..big-1001" "big-1001" \
	"$("$A" token list --json | $PY -c 'import json,sys; print(max((t["name"] for t in json.load(sys.stdin) if t["name"].startswith("big-")), key=lambda n: int(n[4:])))')"
check_eq "... each with its token.create audit row" $((AUD0 + 1001)) \
	"$(sqlite3 "$BIGDB" "SELECT count(*) FROM audit WHERE action = 'token.create'")"
check_eq "... and its token.created event" $((EV0 + 1001)) \
	"$(sqlite3 "$BIGDB" "SELECT count(*) FROM events WHERE type = 'token.created'")"
check_contains "token list --state active --json" "\"$AID\"" "$("$A" token list --state active --json)"
check_contains "token show --json" '"name": "all-opts"' "$("$A" token show "$AID" --json)"
J=$("$A" token update "$AID" --name all-2 --cn cn-2 --org o-2 --ou '' --owner carol --expires 2h \
	--lock cn --open ou --reply Filter-Id=y --json)
for v in '"name": "all-2"' '"commonName": "cn-2"' '"organization": "o-2"' \
	'"organizationalUnit": null' '"owner": "carol"' '"Filter-Id=y"'; do
	check_contains "token update takes every metadata option ($v)" "$v" "$J"
done
check_contains "token update --clear-reply --json" '"replyAttributes": []' \
	"$("$A" token update "$AID" --clear-reply --json)"
check_contains "token delete --json" '"deleted": true' "$("$A" token delete "$AID" --json)"
check_contains "token purge --older-than 0 --json" '"purged": ' \
	"$("$A" token purge --older-than 0 --json)"
for act in list show revoke; do
	check "cert $act --help exits 0" "$A" cert "$act" --help
done
check_contains "cert list --status --token --expiring-within --json" "\"$OSER\"" \
	"$("$A" cert list --status valid --token "$TID" --expiring-within 36500 --json)"
check_eq "cert list --expiring-within 0 leaves it out" "[]" \
	"$("$A" cert list --status valid --token "$TID" --expiring-within 0 --json)"
check "cert show --pem prints the certificate" sh -c \
	"'$A' cert show '$OSER' --pem | openssl x509 -noout"
check_contains "cert show --json" '"certificate": "-----BEGIN CERTIFICATE' \
	"$("$A" cert show "$OSER" --json)"
check_contains "cert revoke --reason --json" '"revocationReason": "superseded"' \
	"$("$A" cert revoke "$OSER" --reason superseded --json)"
check_contains "ca show --json" '"subject": "' "$("$A" ca show --json)"
new_instance "$T/opts-ca" || not_ok "instance for ca import"
check_contains "ca import --cert --key --chain --json" 'Corp WiFi Intermediate' \
	"$("$A" ca import --cert "$T/int.pem" --key "$T/int.key" --chain "$T/root.pem" --json)"
CRTOKEN_CONF=$T/opts/crtoken.conf
check_contains "apikey create -n NAME -j" '"name": "short-opts"' "$("$A" apikey create -n short-opts -j)"
check_contains "apikey list --json" "\"$KID\"" "$("$A" apikey list --json)"
check_contains "apikey revoke --json" '"revoked": true' "$("$A" apikey revoke "$KID" --json)"
finish
