#!/bin/sh
# t_certprofile.sh — certificate profiles ([profile NAME] in crtoken.conf):
# loaded and checked at open (bad ones refused with config_invalid and the
# key named), listed by `crtoken-admin profile list|show` and GET /profiles,
# named by tokens (token create --profile, JSON "profile": its lifetime,
# reply attributes and locks become the token's defaults; unknown:
# profile_unknown), validDays / validYears capped by the profile, and the
# profile recorded on the certificate. Port 18790.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

A=$ADMIN
http_instance "$T/inst" 18790 || { not_ok "instance"; finish; exit 1; }
I=$T/inst
cp "$CRTOKEN_CONF" "$T/plain.conf"
cat >>"$CRTOKEN_CONF" <<'CONF'

[profile guest]
description = Visitors, one day
days = 1
max_days = 7
vlan = 30
lock = cn
lifetime = 1d
max_lifetime = 2d
key_types = ec-p256, rsa-3072

[profile staff]
days = 90
max_days = 730
reply = Filter-Id=staff
CONF

# ------------------------------------------------------------ the registry
check_eq "profile list names default first, then the file's" "default guest staff" \
	"$("$A" profile list | awk '{print $1}' | tr '\n' ' ' | sed 's/ $//')"
S=$("$A" profile show guest)
check_contains "profile show: validity" "1 days (tokens may ask up to 7)" "$S"
check_contains "profile show: the vlan shorthand's attributes" "Tunnel-Private-Group-Id=30" "$S"
check_contains "profile show: key types" "ec-p256, rsa-3072" "$S"
J=$("$A" profile show default --json)
check_eq "the implied default profile takes [ca] cert_days" 365 "$(echo "$J" | jget - "d['validDays']")"
check_eq "... and today's key usage (by key type)" auto "$(echo "$J" | jget - "d['keyUsage']")"
check_eq "... and clientAuth" '["clientAuth"]' "$(echo "$J" | jget - "d['extendedKeyUsage']")"
check_eq "... every key type" '["rsa", "ec", "ed25519"]' "$(echo "$J" | jget - "d['keyTypes']")"
check_eq "profile list --json lists three" 3 "$("$A" profile list --json | jget - "len(d)")"
"$A" profile show nope >/dev/null 2>"$T/err"
check_eq "profile show of an unknown name exits 3" 3 $?
check_contains "... with profile_unknown" profile_unknown "$(cat "$T/err")"

# bad_conf NAME NEEDLE LINES : a config with LINES appended is refused at open
# (config_invalid) and the message contains NEEDLE.
bad_conf() {
	cp "$T/plain.conf" "$T/bad.conf"
	printf '%b\n' "$3" >>"$T/bad.conf"
	CRTOKEN_CONF=$T/bad.conf "$A" profile list >/dev/null 2>"$T/err"
	_rc=$?
	if [ $_rc -eq 4 ] && grep -q config_invalid "$T/err" && grep -qF -- "$2" "$T/err"; then
		ok "$1"
	else
		not_ok "$1 (rc $_rc)"
		sed 's/^/#   /' "$T/err"
	fi
}
bad_conf "a SAN template with an unknown placeholder is refused at load" "unknown placeholder" \
	'[profile p]\nsan_email = {user}@example.com'
bad_conf "an unknown key in a profile is refused" "unknown key colour" '[profile p]\ncolour = red'
bad_conf "a profile name outside a-z0-9-_ is refused" "profile name" '[profile Guest]\ndays = 2'
bad_conf "max_days below days is refused" "max_days" '[profile p]\ndays = 30\nmax_days = 7'
cp "$T/plain.conf" "$T/bad.conf"
sed -i 's|^\[ca\]|[ca]\ncrl_url = file:///etc/passwd|' "$T/bad.conf"
CRTOKEN_CONF=$T/bad.conf "$A" profile list >/dev/null 2>"$T/err"
check_contains "a [ca] crl_url file:// URL is refused at load" "crl_url" "$(cat "$T/err")"

# ------------------------------------------------------------ tokens name profiles (CLI)
J=$("$A" token create --name visitor --profile guest --json)
check_eq "token create --profile: stored" guest "$(echo "$J" | jget - "d['profile']")"
check_eq "... the profile's reply attributes are the token's" \
	'["Tunnel-Type=VLAN", "Tunnel-Medium-Type=IEEE-802", "Tunnel-Private-Group-Id=30"]' \
	"$(echo "$J" | jget - "d['replyAttributes']")"
check_eq "... its locks" '["commonName"]' "$(echo "$J" | jget - "d['lockedFields']")"
EXP=$(echo "$J" | jget - "d['expiresAt']")
CRE=$(echo "$J" | jget - "d['createdAt']")
check_eq "... its token lifetime (1d)" 86400 \
	"$($PY -c 'import sys,datetime as D; f=lambda s: D.datetime.strptime(s,"%Y-%m-%dT%H:%M:%SZ"); print(int((f(sys.argv[1])-f(sys.argv[2])).total_seconds()))' "$EXP" "$CRE")"
VTOK=$(echo "$J" | jget - "d['token']")
check_contains "token show prints the profile" "profile:  guest" "$("$A" token show "$(echo "$J" | jget - "d['id']")")"
J=$("$A" token create --name visitor2 --profile guest --reply Filter-Id=own --lock none --json)
check_eq "an explicit --reply replaces the profile's" '["Filter-Id=own"]' \
	"$(echo "$J" | jget - "d['replyAttributes']")"
check_eq "an explicit --lock none replaces the profile's locks" '[]' \
	"$(echo "$J" | jget - "d['lockedFields']")"
check_code "the profile's max_lifetime caps --expires" lifetime_invalid \
	"$A" token create --name v3 --profile guest --expires 3d
check_eq "a token without --profile is the default profile's" default \
	"$("$A" token create --name plain --json | jget - "d['profile']")"
"$A" token create --name x --profile nope >/dev/null 2>"$T/err"
check_eq "token create --profile nope exits 3" 3 $?
check_contains "... profile_unknown" profile_unknown "$(cat "$T/err")"
check_code "--valid-days beyond the profile's max_days: validity_invalid" validity_invalid \
	"$A" token create --name v4 --profile guest --valid-days 8
check_eq "--valid-days within it is stored" 7 \
	"$("$A" token create --name v5 --profile guest --valid-days 7 --json | jget - "d['validDays']")"

# ------------------------------------------------------------ the certificate records it
make_csr "$T" visitor
SER=$("$A" redeem "$VTOK" --csr "$T/visitor.csr" --json | jget - "d['serial']")
check_eq "the certificate records the token's profile" guest \
	"$("$A" cert show "$SER" --json | jget - "d['profile']")"

# ------------------------------------------------------------ REST
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
apikey || not_ok "api key"
areq GET /profiles
check_status "GET /profiles" 200 -
check_eq "... lists the three" "default guest staff" "$(jget "$T/body" "' '.join(p['name'] for p in d)")"
areq GET /profiles/staff
check_status "GET /profiles/staff" 200 -
check_eq "... its reply attributes" '["Filter-Id=staff"]' "$(jget "$T/body" "d['replyAttributes']")"
areq GET /profiles/nope
check_status "GET /profiles/nope is 404 profile_unknown" 404 profile_unknown
req GET /profiles
check_status "GET /profiles needs the API key" 401 -
new_token laptop '"profile":"staff"' || not_ok "create with profile"
check_eq "POST with \"profile\": stored" staff "$(jget "$T/body" "d['profile']")"
check_eq "... with the profile's reply attributes" '["Filter-Id=staff"]' \
	"$(jget "$T/body" "d['replyAttributes']")"
LAPTOP_ID=$TOKEN_ID
ajreq POST /certificate-request-tokens '{"name":"x","profile":"nope"}'
check_status "POST with an unknown profile: 404 profile_unknown" 404 profile_unknown
ajreq POST /certificate-request-tokens '{"name":"x","profile":"staff","validDays":731}'
check_status "validDays beyond max_days: 422 validity_invalid" 422 validity_invalid
ajreq POST /certificate-request-tokens '{"name":"x","profile":"staff","validYears":2}'
check_status "Frontdoor's validYears accepted" 201 -
check_eq "... as 730 days" 730 "$(jget "$T/body" "d['validDays']")"
ajreq POST /certificate-request-tokens '{"name":"x","profile":"staff","validYears":3}'
check_status "validYears beyond max_days: 422 validity_invalid" 422 validity_invalid
ajreq POST /certificate-request-tokens '{"name":"x","validDays":5,"validYears":1}'
check_status "validDays and validYears together: 400" 400 request_invalid
ajreq POST /certificate-request-tokens '{"name":"x","validDays":"5"}'
check_status "validDays as a string: 400" 400 request_invalid
ajreq PATCH "/certificate-request-tokens/$LAPTOP_ID" '{"profile":"guest"}'
check_status "a token's profile cannot change: 422 field_invalid" 422 field_invalid
ajreq PATCH "/certificate-request-tokens/$LAPTOP_ID" '{"validDays":30}'
check_status "PATCH validDays" 200 -
check_eq "... stored" 30 "$(jget "$T/body" "d['validDays']")"

http_finish
