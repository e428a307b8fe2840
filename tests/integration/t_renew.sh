#!/bin/sh
# t_renew.sh — renewal without a new token (POST /client-certificates/renew)
# against a real crtokend over HTTPS, with curl presenting client
# certificates: a good renewal (same subject, owner, reply attributes,
# renewedFrom, a new key), and the refusals with their codes, each writing
# nothing — no client certificate, a foreign one, a revoked one, an expired
# one, too early, the same key, renewed twice, a certificate crtoken never
# stored, renewal disabled; [renewal] require_otp. Then crtoken-enroll renew
# end to end. Port 18810 (the renew helper's range 18810-18829).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

http_instance "$T/inst" 18810 || { not_ok "instance"; finish; exit 1; }
URL=https://127.0.0.1:$PORT
conf_set plain_http no
conf_set cert_days 10
# renewal_set KEY VALUE : set KEY of the [renewal] section.
renewal_set() {
	$PY - "$CRTOKEN_CONF" "$1" "$2" <<'PY'
import re, sys
path, key, val = sys.argv[1:]
out, sect = [], None
for line in open(path):
    m = re.match(r"\[(\w+)\]", line)
    if m:
        sect = m.group(1)
    elif sect == "renewal" and re.match(r";?%s *=" % key, line):
        line = "%s = %s\n" % (key, val)
    out.append(line)
open(path, "w").write("".join(out))
PY
}
renewal_set enabled yes
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	-keyout "$T/inst/tls.key" -out "$T/inst/tls.pem" 2>/dev/null
conf_set tls_cert tls.pem
conf_set tls_key tls.key
D=$T/d
mkdir -p "$D"

# issue NAME [admin redeem options...] : certificate $D/NAME.pem for key $D/NAME.key
issue() {
	_nm=$1
	shift
	make_csr "$D" "$_nm" &&
		_tok=$("$ADMIN" token create --name "$_nm" --cn "$_nm" --owner "u-$_nm" \
			--reply "Tunnel-Private-Group-Id=42" --json | jget - "d['token']") &&
		"$ADMIN" redeem "$_tok" --csr "$D/$_nm.csr" --user "u-$_nm" --out "$D/$_nm.pem" "$@" >/dev/null
}
serial_of() { openssl x509 -in "$1" -noout -serial | sed 's/serial=//' | tr 'A-F' 'a-f' | sed 's/^\(00\)*//'; }
count() { sqlite3 "$T/inst/crtoken.db" "$1"; }

# renew CERT KEY CSR [curl args...] : POST the CSR presenting CERT/KEY.
renew() {
	_c=$1 _k=$2 _r=$3
	shift 3
	$PY -c 'import json,sys; print(json.dumps({"csr": open(sys.argv[1]).read()}))' "$_r" \
		>"$T/renew.json"
	if [ -n "$_c" ]; then set -- --cert "$_c" --key "$_k" "$@"; fi
	req POST /client-certificates/renew --cacert "$T/inst/tls.pem" \
		-H 'Content-Type: application/json' --data-binary @"$T/renew.json" "$@"
}
code() { jget "$T/body" "d['error']['code']"; }

check "alice's certificate issued" issue alice
start_crtokend || { not_ok "crtokend starts with [renewal] enabled"; finish; exit 1; }
check_contains "crtokend says it asks for client certificates" "asking for client certificates" \
	"$(cat "$T/crtokend.log")"
OLD=$(serial_of "$D/alice.pem")
ROWS0=$(count "SELECT count(*) FROM certificates")
AUD0=$(count "SELECT count(*) FROM audit")

# ------------------------------------------------------------ refusals
make_csr "$D" alice2
renew "" "" "$D/alice2.csr"
check_eq "no client certificate: 401" 401 "$STATUS"
check_eq "... client_certificate_required" client_certificate_required "$(code)"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 5 -subj /CN=alice \
	-keyout "$D/foreign.key" -out "$D/foreign.pem" 2>/dev/null
renew "$D/foreign.pem" "$D/foreign.key" "$D/alice2.csr"
check_eq "a certificate of another CA: 422" 422 "$STATUS"
check_eq "... cert_wrong_issuer" cert_wrong_issuer "$(code)"

renew "$D/alice.pem" "$D/alice.key" "$D/alice.csr"
check_eq "the same key: 422" 422 "$STATUS"
check_eq "... same_key" same_key "$(code)"

renewal_set window_days 5
reload_crtokend
renew "$D/alice.pem" "$D/alice.key" "$D/alice2.csr"
check_eq "before the renewal window (10-day certificate, 5-day window): 422" 422 "$STATUS"
check_eq "... renewal_too_early" renewal_too_early "$(code)"
check_contains "... saying when it opens" "opens at" "$(jget "$T/body" "d['error']['detail']")"
renewal_set window_days 30
reload_crtokend

# bob's 10-day certificate, redeemed 20 days ago: expired 10 days ago.
make_csr "$D" bob
TOK=$("$ADMIN" token create --name bob --cn bob --json | jget - "d['token']")
check "bob's certificate issued 20 days ago" \
	faketime -f '-20d' "$ADMIN" redeem "$TOK" --csr "$D/bob.csr" --out "$D/bob.pem"
make_csr "$D" bob2
renew "$D/bob.pem" "$D/bob.key" "$D/bob2.csr"
check_eq "an expired certificate: refused" 422 "$STATUS"
check_eq "... cert_expired" cert_expired "$(code)"

check "carol's certificate issued" issue carol
"$ADMIN" cert revoke "$(serial_of "$D/carol.pem")" --reason keyCompromise >/dev/null
make_csr "$D" carol2
renew "$D/carol.pem" "$D/carol.key" "$D/carol2.csr"
check_eq "a revoked certificate: 409" 409 "$STATUS"
check_eq "... cert_revoked" cert_revoked "$(code)"

# A certificate signed by the CA's key but never stored (as a stolen CA
# key would make): crtoken admits only what it stored.
openssl req -new -key "$D/alice2.key" -subj /CN=alice -out "$D/rogue.csr" 2>/dev/null
openssl x509 -req -in "$D/rogue.csr" -CA "$T/inst/ca.pem" -CAkey "$T/inst/ca.key" \
	-CAcreateserial -days 5 -out "$D/rogue.pem" 2>/dev/null
renew "$D/rogue.pem" "$D/alice2.key" "$D/alice.csr"
check_eq "attack_unstored_certificate_signed_by_the_ca_key: 404" 404 "$STATUS"
check_eq "... cert_not_found" cert_not_found "$(code)"

echo '{"value":"x"}' >"$T/bad.json"
req POST /client-certificates/renew --cacert "$T/inst/tls.pem" --cert "$D/alice.pem" \
	--key "$D/alice.key" -H 'Content-Type: application/json' --data-binary @"$T/bad.json"
check_eq "a body without csr: 400" 400 "$STATUS"

check_eq "no refusal wrote a certificate row" "$((ROWS0 + 2))" \
	"$(count "SELECT count(*) FROM certificates")"
check_eq "... nor an audit row (beyond bob's, carol's issue and carol's revoke)" \
	0 "$(count "SELECT count(*) FROM audit WHERE action = 'cert.renew'")"

# ------------------------------------------------------------ the renewal
renew "$D/alice.pem" "$D/alice.key" "$D/alice2.csr"
check_eq "a good renewal: 201" 201 "$STATUS"
cp "$T/body" "$T/renewed.json"
NEW=$(jget "$T/renewed.json" "d['serial']")
check_eq "... renewedFrom is the presented serial" "$OLD" "$(jget "$T/renewed.json" "d['renewedFrom']")"
check_eq "... the same subject" "/CN=alice" "$(jget "$T/renewed.json" "d['subject']")"
check_eq "... the same owner" "u-alice" "$(jget "$T/renewed.json" "d['user']")"
check_eq "... the same reply attributes" '["Tunnel-Private-Group-Id=42"]' \
	"$(jget "$T/renewed.json" "d['replyAttributes']")"
check_eq "... the same name" alice "$(jget "$T/renewed.json" "d['name']")"
jget "$T/renewed.json" "d['certificate']" >"$D/alice-new.pem"
check_eq "... for the CSR's new key" \
	"$(openssl pkey -in "$D/alice2.key" -pubout | sha256sum)" \
	"$(openssl x509 -in "$D/alice-new.pem" -noout -pubkey | sha256sum)"
check "... verifies against the CA" openssl verify -CAfile "$T/inst/ca.pem" "$D/alice-new.pem"
check_contains "... Location names it" "/client-certificates/$NEW" "$(cat "$T/hdrs")"
check_eq "... one cert.renew audit row" 1 \
	"$(count "SELECT count(*) FROM audit WHERE action = 'cert.renew' AND object = '$NEW'")"
check_eq "... the old certificate stays valid until superseded" valid \
	"$("$ADMIN" cert show "$OLD" --json | jget - "d['status']")"
check_contains "cert show prints the lineage" "renewed:  from $OLD" "$("$ADMIN" cert show "$NEW")"

make_csr "$D" alice3
renew "$D/alice.pem" "$D/alice.key" "$D/alice3.csr"
check_eq "renewing the same certificate again: 403" 403 "$STATUS"
check_eq "... renewal_not_allowed" renewal_not_allowed "$(code)"
renew "$D/alice-new.pem" "$D/alice2.key" "$D/alice3.csr"
check_eq "the renewed certificate renews in turn" 201 "$STATUS"
check_eq "... lineage" "$NEW" "$(jget "$T/body" "d['renewedFrom']")"
NEWEST=$(jget "$T/body" "d['serial']")

# ------------------------------------------------------------ superseded
check_eq "within grace_days (7) the scheduled run leaves the predecessors" 0 \
	"$(faketime -f +6d "$ADMIN" maintain --json | jget - "d['superseded']")"
check_eq "past grace_days it revokes both predecessors" 2 \
	"$(faketime -f +8d "$ADMIN" maintain --json | jget - "d['superseded']")"
check_eq "... the first one: revoked" revoked "$("$ADMIN" cert show "$OLD" --json | jget - "d['status']")"
check_eq "... with reason superseded" superseded \
	"$("$ADMIN" cert show "$OLD" --json | jget - "d['revocationReason']")"
check_eq "... the second one too" superseded \
	"$("$ADMIN" cert show "$NEW" --json | jget - "d['revocationReason']")"
check_eq "... the newest stays valid" valid "$("$ADMIN" cert show "$NEWEST" --json | jget - "d['status']")"
check_contains "... and the CRL lists the first" "$(echo "$OLD" | tr a-f A-F)" \
	"$(openssl crl -in "$T/inst/crl.pem" -noout -text)"
check_eq "a second run supersedes nothing more" 0 \
	"$(faketime -f +9d "$ADMIN" maintain --json | jget - "d['superseded']")"

# ------------------------------------------------------------ require_otp
renewal_set require_otp yes
reload_crtokend
check "dave's certificate issued" issue dave
make_csr "$D" dave2
renew "$D/dave.pem" "$D/dave.key" "$D/dave2.csr"
check_eq "require_otp without a login: 401" 401 "$STATUS"
check_eq "... authentication_required" authentication_required "$(code)"
renewal_set require_otp no
reload_crtokend

# ------------------------------------------------------------ first admission
# The renewed certificate admitted by RADIUS (the cert_seen row rlm_crtoken
# records, written here as it writes it) supersedes its predecessor at the
# next run, before grace_days.
renew "$D/dave.pem" "$D/dave.key" "$D/dave2.csr"
check_eq "dave renews" 201 "$STATUS"
DNEW=$(jget "$T/body" "d['serial']")
DOLD=$(serial_of "$D/dave.pem")
check_eq "not admitted yet: the run leaves dave's predecessor" valid \
	"$("$ADMIN" maintain >/dev/null && "$ADMIN" cert show "$DOLD" --json | jget - "d['status']")"
count "INSERT INTO cert_seen(serial, first_seen, last_seen) VALUES ('$DNEW', $(date +%s), $(date +%s))"
check_eq "once RADIUS admitted the renewed one, the run supersedes the predecessor" 1 \
	"$("$ADMIN" maintain --json | jget - "d['superseded']")"
check_eq "... reason superseded" superseded \
	"$("$ADMIN" cert show "$DOLD" --json | jget - "d['revocationReason']")"

# ------------------------------------------------------------ crtoken-enroll renew
check "erin's certificate issued" issue erin
cp "$D/erin.pem" "$D/erin-old.pem"
cp "$D/erin.key" "$D/erin-old.key"
setsid -w "$ENROLL" renew --cert "$D/erin.pem" --key "$D/erin.key" --server "$URL" \
	--cacert "$T/inst/tls.pem" >"$T/e.out" 2>&1 </dev/null
check_eq "crtoken-enroll renew succeeds (exit 0)" 0 "$?"
check_contains "... says so" "Renewed:" "$(cat "$T/e.out")"
check_eq "... the certificate file is the renewal of the old one" "$(serial_of "$D/erin-old.pem")" \
	"$("$ADMIN" cert show "$(serial_of "$D/erin.pem")" --json | jget - "d['renewedFrom']")"
check_eq "... the key file holds the new certificate's key" \
	"$(openssl pkey -in "$D/erin.key" -pubout | sha256sum)" \
	"$(openssl x509 -in "$D/erin.pem" -noout -pubkey | sha256sum)"
check "... a new key" sh -c "! cmp -s '$D/erin.key' '$D/erin-old.key'"
check_eq "... written 0600" 600 "$(stat -c %a "$D/erin.key")"
check "... no temporary file left" sh -c "! ls '$D'/*.new 2>/dev/null | grep -q ."
SUMS=$(cat "$D/erin-old.pem" "$D/erin-old.key" | sha256sum)
setsid -w "$ENROLL" renew --cert "$D/erin-old.pem" --key "$D/erin-old.key" --server "$URL" \
	--cacert "$T/inst/tls.pem" >"$T/e.out" 2>&1 </dev/null
check_eq "renewing the old one again: refused (exit 1)" 1 "$?"
check_contains "... renewal_not_allowed" renewal_not_allowed "$(cat "$T/e.out")"
check_eq "... and the files are left as they were" "$SUMS" "$(cat "$D/erin-old.pem" "$D/erin-old.key" | sha256sum)"

# ------------------------------------------------------------ the certificate's profile
# The window and the same-key permission are the profile's ([renewal]'s
# when it leaves them out); the renewal keeps the profile.
cp "$CRTOKEN_CONF" "$T/conf.before-profiles"
cat >>"$CRTOKEN_CONF" <<'EOF2'

[profile strict]
renew_days = 5

[profile samekey]
allow_same_key = yes

[profile never]
renew_days = 0

[profile gone]
description = removed again below
EOF2
reload_crtokend
# issue_p NAME PROFILE : certificate $D/NAME.pem of PROFILE for key $D/NAME.key
issue_p() {
	make_csr "$D" "$1" &&
		_tok=$("$ADMIN" token create --name "$1" --cn "$1" --profile "$2" --json |
			jget - "d['token']") &&
		"$ADMIN" redeem "$_tok" --csr "$D/$1.csr" --out "$D/$1.pem" >/dev/null
}
check "frank's certificate of profile strict" issue_p frank strict
make_csr "$D" frank2
renew "$D/frank.pem" "$D/frank.key" "$D/frank2.csr"
check_eq "profile strict (renew_days 5), a 10-day certificate: too early, 422" 422 "$STATUS"
check_eq "... renewal_too_early" renewal_too_early "$(code)"
check_contains "... naming the profile" "profile strict" "$(jget "$T/body" "d['error']['detail']")"

check "gail's certificate of profile never" issue_p gail never
make_csr "$D" gail2
renew "$D/gail.pem" "$D/gail.key" "$D/gail2.csr"
check_eq "profile never (renew_days 0): 403" 403 "$STATUS"
check_eq "... renewal_not_allowed" renewal_not_allowed "$(code)"

check "hank's certificate of profile samekey" issue_p hank samekey
renew "$D/hank.pem" "$D/hank.key" "$D/hank.csr"
check_eq "profile samekey (allow_same_key): the same key renews, 201" 201 "$STATUS"
jget "$T/body" "d['certificate']" >"$D/hank-new.pem"
check_eq "... for the very key" "$(openssl x509 -in "$D/hank.pem" -noout -pubkey | sha256sum)" \
	"$(openssl x509 -in "$D/hank-new.pem" -noout -pubkey | sha256sum)"
check_eq "... the renewal keeps profile samekey" samekey \
	"$("$ADMIN" cert show "$(jget "$T/body" "d['serial']")" --json | jget - "d['profile']")"
check "ivan's certificate of the default profile" issue_p ivan default
renew "$D/ivan.pem" "$D/ivan.key" "$D/ivan.csr"
check_eq "the default profile (allow_same_key from [renewal]: no): same_key, 422" 422 "$STATUS"
check_eq "... same_key" same_key "$(code)"

check "jane's certificate of profile gone" issue_p jane gone
cp "$T/conf.before-profiles" "$CRTOKEN_CONF"
reload_crtokend
make_csr "$D" jane2
ROWS1=$(count "SELECT count(*) FROM certificates")
renew "$D/jane.pem" "$D/jane.key" "$D/jane2.csr"
check_eq "its profile removed from the config: profile_unknown" profile_unknown "$(code)"
check_eq "... nothing written" "$ROWS1" "$(count "SELECT count(*) FROM certificates")"

# ------------------------------------------------------------ disabled
renewal_set enabled no
reload_crtokend
renew "$D/dave.pem" "$D/dave.key" "$D/dave2.csr"
check_eq "renewal disabled: 403" 403 "$STATUS"
check_eq "... renewal_not_allowed" renewal_not_allowed "$(code)"
renewal_set enabled yes
reload_crtokend

http_finish
