#!/bin/sh
# t_portal.sh — the self-service page (/enroll) in a real browser: Debian's
# chromium, headless, driven over the DevTools protocol by portal_drive.py
# (python3-websocket). crtokend logs users in through PAM (pam_wrapper +
# pam_crtoken, real TOTP codes from oathtool). The page checks the token's
# checksum itself (against the C rule, and a typo sends nothing), then both
# key paths: a key made in the browser (WebCrypto, the CSR and the PKCS#12
# built in the page; openssl opens the PKCS#12 with the chosen passphrase and
# finds the certificate's key) and one made by the server (its passphrase
# shown once); a wpa_supplicant profile that wpa_supplicant reads; and the
# error paths (mistyped, wrong code, used, expired, the OTP lockout after
# [otp] max_failures wrong codes, the per-address limit); a token that needs
# approval (the page waits, polling with the poll secret, while crtoken-admin
# approves — the PKCS#12 then built for the key kept in memory — denies, lets
# it expire, or after a reload), and "My certificates" (the kept PKCS#12
# downloaded, a certificate revoked). Screenshots of
# every step in build/tests/portal/ (a phone's width, 375 px). The page's HTTP headers
# (CSP, nosniff, no-referrer) and [portal] enabled = no are checked with curl.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

CDP_PORT=18601
SHOTS=$BUILD/tests/portal
http_instance "$T/inst" 18600 || { not_ok "instance"; finish; exit 1; }
PAM_SO=$BUILD/lib/pam_crtoken.so
for prog in chromium oathtool; do
	command -v "$prog" >/dev/null || { not_ok "$prog is installed (scripts/deps.sh check)"; finish; exit 1; }
done
$PY -c 'import websocket' 2>/dev/null || { not_ok "python3-websocket is installed (scripts/deps.sh check)"; finish; exit 1; }

# [portal] texts with markup in them: the page must show them as text.
TITLE='Wi-Fi certificate'
ORG='Example & Sons <IT>'
HELP='Questions? <b>Call</b> the help desk & ask for "Net".'
$PY - "$CRTOKEN_CONF" "$TITLE" "$ORG" "$HELP" <<'EOF'
import sys
p, title, org, hlp = sys.argv[1:]
s = open(p).read()
s = s.replace("\n;title = Network certificate\n", "\ntitle = " + title + "\n")
s = s.replace("\n;organization =\n", "\norganization = " + org + "\n")
s = s.replace("\n;help =\n", "\nhelp = " + hlp + "\n")
s = s.replace("\n;ssid =\n", "\nssid = Corp WLAN\n")
open(p, "w").write(s)
EOF
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/CN=radius lab CA" -keyout "$T/lab-ca.key" -out "$T/lab-ca.pem" 2>/dev/null
conf_set_in network ca_file "$T/lab-ca.pem" && conf_set server_names radius.test &&
	conf_set name "Corp 802.1X" && conf_set require_login yes &&
	conf_set pam_service crtoken-otp || { not_ok "configure the instance"; finish; exit 1; }
# The lockout after 3 wrong codes; the address blocked after 10 failed logins
# in an hour (the whole run is one window: the count is the suite's own).
MAX_FAILURES=3
RATE_LIMIT=10
conf_set max_failures $MAX_FAILURES && conf_set rate_limit_failures $RATE_LIMIT &&
	conf_set rate_limit_seconds 3600 || { not_ok "configure the limits"; finish; exit 1; }
# The PKCS#12 of a server-made key is kept for "My certificates".
conf_set keep_pkcs12 yes || { not_ok "configure keep_pkcs12"; finish; exit 1; }
mkdir -p "$T/pam.d"
printf 'auth required %s config=%s\naccount required %s config=%s\n' \
	"$PAM_SO" "$CRTOKEN_CONF" "$PAM_SO" "$CRTOKEN_CONF" >"$T/pam.d/crtoken-otp"
# A stack that asks for a password, then the code (used at the end; pam_wrapper
# reads the service directory once, at start).
printf "erin:erin's pw:crtoken-pw-otp\n" >"$T/passdb"
printf 'auth required %s passdb=%s\nauth required %s config=%s\naccount required %s config=%s\n' \
	"$PAM_MATRIX" "$T/passdb" "$PAM_SO" "$CRTOKEN_CONF" "$PAM_SO" "$CRTOKEN_CONF" \
	>"$T/pam.d/crtoken-pw-otp"
PAM_SVC_DIR=$T/pam.d
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
apikey || { not_ok "api key"; finish; exit 1; }

# ------------------------------------------------------------ HTTP headers
for p in /enroll /enroll/app.js /enroll/app.css /enroll/portal.json; do
	req GET "$p"
	check_status "GET $p is 200" 200 -
	csp=$(header Content-Security-Policy)
	check_eq "GET $p: strict Content-Security-Policy" \
		"default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'" "$csp"
	check_eq "GET $p: nosniff, no-referrer, no cookie" "nosniff no-referrer 0" \
		"$(header X-Content-Type-Options) $(header Referrer-Policy) $(grep -ci '^set-cookie' "$T/hdrs")"
done
req GET /enroll
check "the page is the file in enroll/web/ (embedded at build time)" cmp "$T/body" "$TOP/enroll/web/index.html"
check_fails "the page has no inline script or style" grep -E -i '<script>|<script [^s]*>|<style|style=| on[a-z]+=' "$T/body"
req GET /enroll/portal.json
check_eq "portal.json carries the [portal] texts as JSON strings" "$ORG|$HELP|True" \
	"$(jget "$T/body" "d['organization'] + '|' + d['help'] + '|' + str(d['loginRequired'])")"

# ------------------------------------------------------------ users, tokens
for u in alice bob carol dave erin frank gina hank ivy jack lena kim mia nora olga; do
	"$ADMIN" otp enroll "$u" --no-qr --json >"$T/otp-$u.json" || { not_ok "otp enroll $u"; finish; exit 1; }
done
secret() { jget "$T/otp-$1.json" "d['secret']"; }
new_token expiring '"commonName":"old-laptop"' '"expiresIn":1' && EXPIRED=$TOKEN
new_token laptop '"commonName":"alice-laptop"' && TOK_A=$TOKEN && TOK_A_ID=$TOKEN_ID
new_token phone '"commonName":"bob-phone"' && TOK_B=$TOKEN
new_token tablet '"commonName":"erin-tablet"' && TOK_C=$TOKEN
new_token frank '"commonName":"frank-laptop"' && TOK_F=$TOKEN
new_token gina '"commonName":"gina-phone"' && TOK_G=$TOKEN
[ -n "${EXPIRED:-}" ] && [ -n "${TOK_A:-}" ] && [ -n "${TOK_B:-}" ] && [ -n "${TOK_C:-}" ] &&
	[ -n "${TOK_F:-}" ] && [ -n "${TOK_G:-}" ] || { not_ok "tokens"; finish; exit 1; }
# Tokens that need an administrator's approval (one per way it ends).
for w in approve deny expire reload cancel cancelreload; do
	new_token "approval-$w" "\"commonName\":\"$w-laptop\"" '"approval":"required"' ||
		{ not_ok "approval token $w"; finish; exit 1; }
	eval "TOK_AP_$w=\$TOKEN"
done
# kim's certificates for "My certificates": one issued by an admin (its
# PKCS#12 kept), one made from a CSR on her device (none kept).
"$ADMIN" token create --name kim-laptop --owner kim --json >"$T/kim-tok.json" &&
	printf 'kim passphrase\n' >"$T/kim-pass" &&
	"$ADMIN" token issue "$(jget "$T/kim-tok.json" "d['id']")" --generate ec-p256 \
		--p12 "$T/kim.p12" --passphrase-file "$T/kim-pass" --json >"$T/kim-issue.json" &&
	"$ADMIN" token create --name kim-phone --owner kim --json >"$T/kim-tok2.json" &&
	make_csr "$T" kimphone &&
	"$ADMIN" redeem "$(jget "$T/kim-tok2.json" "d['token']")" --csr "$T/kimphone.csr" --user kim \
		--json >"$T/kim-redeem.json" || { not_ok "kim's certificates"; finish; exit 1; }
# olga's certificate requests for "My certificates": pending, denied, cancelled.
# olga_request NAME : a request of a fresh approval token of olga's, redeemed
# by crtoken-admin for her (exit 5: pending); its id printed.
olga_request() {
	"$ADMIN" token create --name "$1" --owner olga --approval required --json >"$T/$1.json" &&
		make_csr "$T" "$1" || return 1
	"$ADMIN" redeem "$(jget "$T/$1.json" "d['token']")" --csr "$T/$1.csr" --user olga --json \
		>"$T/$1-rq.json"
	[ $? = 5 ] && jget "$T/$1-rq.json" "d['requestId']"
}
OLGA_PENDING=$(olga_request olga-laptop) && OLGA_DENIED=$(olga_request olga-phone) &&
	OLGA_CANCELLED=$(olga_request olga-tablet) &&
	"$ADMIN" request deny "$OLGA_DENIED" --reason 'No <personal> devices' >/dev/null &&
	"$ADMIN" request cancel "$OLGA_CANCELLED" >/dev/null ||
	{ not_ok "olga's requests"; finish; exit 1; }
KIM_KEPT=$(jget "$T/kim-issue.json" "d['serial']")
KIM_DEVICE=$(jget "$T/kim-redeem.json" "d['serial']")

# ------------------------------------------------------------ the browser
rm -rf "$SHOTS"
mkdir -p "$SHOTS" "$T/chrome" "$T/dl"
chromium --headless=new --no-sandbox --disable-gpu --user-data-dir="$T/chrome" \
	--remote-debugging-address=127.0.0.1 --remote-debugging-port=$CDP_PORT \
	--no-first-run --no-default-browser-check --disable-extensions --disable-sync \
	--disable-background-networking --disable-component-update --disable-default-apps \
	--metrics-recording-only --password-store=basic --use-mock-keychain \
	about:blank >"$T/chromium.log" 2>&1 &
CHROME_PID=$!
at_exit 'stop_pid "$CHROME_PID"'
PASSPHRASE='correct horse battery'
UTF8_PASSPHRASE='Grüße κλειδί 🔑 pass'
$PY - "$T/plan.json" <<EOF
import json, sys
json.dump({"cdp": "http://127.0.0.1:$CDP_PORT", "url": "$URL/enroll", "shots": "$SHOTS",
           "downloads": "$T/dl", "enroll": "$ENROLL", "out": "$T/result.json",
           "out_approval": "$T/result-approval.json", "out_mine": "$T/result-mine.json",
           "admin": "$ADMIN", "db": "$T/inst/crtoken.db",
           "tokens": {"a": "$TOK_A", "b": "$TOK_B", "c": "$TOK_C", "f": "$TOK_F", "g": "$TOK_G", "expired": "$EXPIRED"},
           "approval": {"approve": "$TOK_AP_approve", "deny": "$TOK_AP_deny", "expire": "$TOK_AP_expire", "reload": "$TOK_AP_reload", "cancel": "$TOK_AP_cancel", "cancelreload": "$TOK_AP_cancelreload"},
           "mine": {"kept": "$KIM_KEPT", "device": "$KIM_DEVICE", "requests": {"pending": "$OLGA_PENDING", "denied": "$OLGA_DENIED", "cancelled": "$OLGA_CANCELLED"}},
           "otp": {u: json.load(open("$T/otp-%s.json" % u))["secret"] for u in ("alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank", "ivy", "jack", "lena", "kim", "mia", "nora", "olga")},
           "max_failures": $MAX_FAILURES, "rate_limit_failures": $RATE_LIMIT,
           "password": "erin's pw",
           "passphrase": "$PASSPHRASE", "utf8_passphrase": "$UTF8_PASSPHRASE", "title": "$TITLE", "org": """$ORG""", "help": """$HELP""",
           "cn": "alice-laptop", "network": "Corp WLAN"}, open(sys.argv[1], "w"))
EOF
# drive MODE WHAT : one run of the browser driver (MODE main, password or
# limits), its checks as TAP.
drive() {
	_mode=$1
	[ "$_mode" = main ] && _mode=""
	$PY "$TOP/tests/integration/portal_drive.py" "$T/plan.json" $_mode >"$T/drive-$1.out" 2>"$T/drive-$1.err"
	DRIVE_RC=$?
	while IFS= read -r line; do
		case "$line" in
		"ok "*) ok "browser: ${line#ok }" ;;
		"not ok "*) not_ok "browser: ${line#not ok }" ;;
		"#"*) echo "$line" ;;
		esac
	done <"$T/drive-$1.out"
	check_eq "the browser driver ran $2 to its end" 0 "$DRIVE_RC"
	# the exception first (the summary shows a failure's first lines), then its traceback
	[ "$DRIVE_RC" = 0 ] || { tail -1 "$T/drive-$1.err" | sed 's/^/#   /'; sed 's/^/#   /' "$T/drive-$1.err" | tail -20; }
}
drive main "the page flows"
# A token that needs approval: the page waits while crtoken-admin decides.
drive approval "the approval flows"
# "My certificates": the list, the kept PKCS#12, a revocation.
drive mine "My certificates"
# A PAM stack that asks for a password and then the code (pam_matrix +
# pam_crtoken): the page's "also asks for a password" answers both prompts.
# reload_pam SERVICE : crtokend logs in through SERVICE from now on.
reload_pam() {
	conf_set pam_service "$1"
	_reloads=$(grep -c 'reloaded configuration' "$T/crtokend.log")
	kill -HUP "$CRTOKEND_PID"
	_i=0
	while [ "$(grep -c 'reloaded configuration' "$T/crtokend.log")" = "$_reloads" ] && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}
reload_pam crtoken-pw-otp
drive password "the password case"
# The OTP lockout and the address limit (last: the address stays blocked).
reload_pam crtoken-otp
drive limits "the lockout and the limit"
check_eq "frank is locked (crtoken-admin otp show)" true \
	"$("$ADMIN" otp show frank --json | jget - "d['locked']")"
check_eq "the locked attempt was audited as a failed login with its reason" 1 \
	"$(sqlite3 "$T/inst/crtoken.db" "SELECT count(*) FROM audit WHERE action='http.login_failed' AND object='frank' AND detail LIKE '%otp_locked%'")"
check_eq "the address block was audited once" 1 \
	"$(sqlite3 "$T/inst/crtoken.db" "SELECT count(*) FROM audit WHERE action='http.rate_limited'")"
stop_pid "$CHROME_PID"
CHROME_PID=""
chrome_left() {
	for _f in /proc/[0-9]*/cmdline; do
		grep -q -a "user-data-dir=$T/chrom[e]" "$_f" 2>/dev/null && echo "$_f"
	done
}
_i=0
while [ -n "$(chrome_left)" ] && [ $_i -lt 30 ]; do sleep 0.1; _i=$((_i + 1)); done
check_eq "no chromium process is left" "" "$(chrome_left)"

# ------------------------------------------------------------ the files
r() { jget "$T/result.json" "$1" 2>/dev/null; }
P12=$(r "d['browser']['p12']")
CRT=$(r "d['browser']['crt']")
INFO=$(openssl pkcs12 -in "$P12" -passin "pass:$PASSPHRASE" -info -noout 2>&1)
check "the page's PKCS#12 opens with the chosen passphrase (MAC verified)" \
	openssl pkcs12 -in "$P12" -passin "pass:$PASSPHRASE" -noout
check_contains "... its MAC is HMAC-SHA-256" "MAC: sha256" "$INFO"
check_contains "... its key is PBES2 / PBKDF2-HMAC-SHA-256 / AES-256-CBC" \
	"Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 210000, PRF hmacWithSHA256" "$INFO"
check_fails "... and a wrong passphrase does not open it" \
	openssl pkcs12 -in "$P12" -passin "pass:wrong passphrase" -noout
openssl pkcs12 -in "$P12" -passin "pass:$PASSPHRASE" -nocerts -nodes 2>/dev/null |
	openssl pkey -pubout >"$T/p12.pub" 2>/dev/null
openssl x509 -in "$CRT" -noout -pubkey >"$T/crt.pub" 2>/dev/null
check "the PKCS#12 holds the key of the issued certificate" test -s "$T/p12.pub"
check "... the same key as the certificate's" cmp "$T/p12.pub" "$T/crt.pub"
openssl pkcs12 -in "$P12" -passin "pass:$PASSPHRASE" -nokeys -clcerts 2>/dev/null |
	openssl x509 -noout -fingerprint -sha256 >"$T/p12.fp" 2>/dev/null
check_eq "... and that certificate" "$(openssl x509 -in "$CRT" -noout -fingerprint -sha256)" "$(cat "$T/p12.fp")"
openssl pkcs12 -in "$P12" -passin "pass:$PASSPHRASE" -nokeys -cacerts 2>/dev/null >"$T/p12.ca"
check "... with the chain that verifies it" openssl verify -CAfile "$T/p12.ca" "$CRT"
U12=$(r "d.get('utf8_p12')")
check "a PKCS#12 the page makes with a non-ASCII passphrase (UTF-8, and a character beyond UTF-16's BMP) opens in openssl" \
	sh -c 'test -n "$1" && openssl pkcs12 -in "$1" -passin "pass:$2" -nocerts -nodes 2>/dev/null | grep -q "BEGIN PRIVATE KEY"' - "$U12" "$UTF8_PASSPHRASE"
check_contains "the certificate has the token's subject" "CN = alice-laptop" \
	"$(openssl x509 -in "$CRT" -noout -subject)"
check_eq "the certificate records alice as the redeemer" alice \
	"$("$ADMIN" cert list --json | jget - "[c['user'] for c in d if c['commonName'] == 'alice-laptop'][0]")"

PROF=$(r "d['browser']['profile']")
check "the wpa_supplicant profile names the downloaded PKCS#12 as its key" \
	grep -q 'private_key="/etc/crtoken/network/alice-laptop.p12"' "$PROF"
check "... with the chosen passphrase" grep -q "private_key_passwd=\"$PASSPHRASE\"" "$PROF"
{ printf 'ctrl_interface=\nap_scan=1\n'; cat "$PROF"; } >"$T/w.conf"
wpa_supplicant -D wired -i crtnoif0 -c "$T/w.conf" -dd >"$T/w.log" 2>&1
check_fails "wpa_supplicant reads the profile without error" \
	grep -e 'Failed to read or parse' -e 'failed to parse' -e 'Invalid' "$T/w.log"
check "... as the SSID Corp WLAN with EAP-TLS" sh -c "grep -q \"ssid='Corp WLAN'\" '$T/w.log' &&
	grep -q 'eap methods - hexdump(len=16): 00 00 00 00 0d 00' '$T/w.log'"
check "the RADIUS CA the page saved is [network] ca_file" cmp "$T/lab-ca.pem" "$(r "d['browser']['ca']")"
check_eq "a profile that embeds the legacy PKCS#12 is not offered for a browser key" true \
	"$(r "d['browser_p12_disabled']")"

# ------------------------------------------------------------ approval, My certificates
ra() { jget "$T/result-approval.json" "$1" 2>/dev/null; }
AP12=$(ra "d['approved']['p12']")
ACRT=$(ra "d['approved']['crt']")
RQ=$(ra "d['approved']['request']")
openssl pkcs12 -in "$AP12" -passin "pass:$PASSPHRASE" -nocerts -nodes 2>/dev/null |
	openssl pkey -pubout >"$T/ap12.pub" 2>/dev/null
openssl x509 -in "$ACRT" -noout -pubkey >"$T/acrt.pub" 2>/dev/null
check "approved in the page: the PKCS#12 opens with the chosen passphrase and holds a key" \
	test -s "$T/ap12.pub"
check "... the key made in the browser before the approval, the certificate's" cmp "$T/ap12.pub" "$T/acrt.pub"
check_eq "... the certificate is the one the approval issued" \
	"$("$ADMIN" request show "$RQ" --json | jget - "d['serial']")" \
	"$(openssl x509 -in "$ACRT" -noout -serial | cut -d= -f2 | tr A-F a-f)"
check_contains "... for the approved token's subject" "CN = approve-laptop" \
	"$(openssl x509 -in "$ACRT" -noout -subject)"
check_eq "the denied, expired and reloaded requests are as crtoken-admin decided" "denied expired issued" \
	"$("$ADMIN" request list --json | jget - "' '.join(r['state'] for r in sorted(d, key=lambda r: r['tokenName']) if r['tokenName'] in ('approval-deny', 'approval-expire', 'approval-reload'))")"
check "My certificates: the downloaded PKCS#12 is the one kept at issue, byte for byte" \
	cmp "$(jget "$T/result-mine.json" "d['p12']")" "$T/kim.p12"
check_eq "... the download is audited for kim" 1 \
	"$("$ADMIN" audit --json --action cert.pkcs12_download | jget - "len([a for a in d if a['actor'] == 'kim' and a['object'] == '$KIM_KEPT'])")"
check_eq "... the certificate revoked in the page is revoked, keyCompromise, by kim" "revoked keyCompromise" \
	"$("$ADMIN" cert show "$KIM_KEPT" --json | jget - "d['status'] + ' ' + d['revocationReason']")"
check_eq "... its kept PKCS#12 is gone with the revocation" 0 \
	"$(sqlite3 "$T/inst/crtoken.db" "SELECT count(*) FROM kept_pkcs12 WHERE serial = '$KIM_KEPT'")"
check_eq "the requests cancelled in the page are cancelled by their requesters (poll secret, login)" \
	"cancelled:mia cancelled:nora cancelled:olga" \
	"$("$ADMIN" request list --state cancelled --json | jget - "' '.join(sorted(r['state'] + ':' + (r['decidedBy'] or '-') for r in d if r['tokenName'] in ('approval-cancel', 'approval-cancelreload', 'olga-laptop')))")"
check_eq "... and nothing was issued for them" "" \
	"$("$ADMIN" request list --json | jget - "' '.join(r['serial'] for r in d if r['tokenName'] in ('approval-cancel', 'approval-cancelreload', 'olga-laptop') and r['serial'])")"
check_eq "... and the other one is still valid" valid \
	"$("$ADMIN" cert show "$KIM_DEVICE" --json | jget - "d['status']")"

SP12=$(r "d['server']['p12']")
SPASS=$(r "d['server']['passphrase']")
openssl pkcs12 -in "$SP12" -passin "pass:$SPASS" -nocerts -nodes 2>/dev/null |
	openssl pkey -pubout >"$T/s.pub" 2>/dev/null
openssl x509 -in "$(r "d['server']['crt']")" -noout -pubkey >"$T/s-crt.pub" 2>/dev/null
check "server key: the PKCS#12 opens with the passphrase the page showed" test -s "$T/s.pub"
check "... and holds the certificate's key" cmp "$T/s.pub" "$T/s-crt.pub"

# The error paths left the store as they should: the failed attempts did not use a token.
check_eq "the refusals were audited (wrong code; used and expired, at the preview)" "1 1 1" \
	"$(sqlite3 "$T/inst/crtoken.db" "SELECT (SELECT count(*) FROM audit WHERE action='http.login_failed' AND object='alice'), (SELECT count(*) FROM audit WHERE detail LIKE '%token_used%'), (SELECT count(*) FROM audit WHERE detail LIKE '%token_expired%')" | tr '|' ' ')"
check_eq "the mistyped token reached the server never (no token_mistyped in its log)" 0 \
	"$(grep -c token_mistyped "$T/crtokend.log")"
for s in 01-start 02-mistyped-token 03-sign-in 04-wrong-otp 05-preview 05-preview-390px 06-issued-browser-key \
	07-profile-downloaded 08-issued-server-key 09-used-token 10-expired-token \
	11-password-and-code 12-otp-locked 13-rate-limited 14-waiting-for-approval 15-approved \
	16-denied 17-expired 18-approved-after-reload 18b-cancelled-while-waiting 18c-reloaded-offers-cancel \
	19-my-certificates 20-revoked 20b-my-requests; do
	check "screenshot $s.png is a PNG" sh -c "head -c 8 '$SHOTS/$s.png' | od -An -tx1 | grep -q '89 50 4e 47'"
done
check_eq "no secret in the server log" 0 \
	"$(grep -c -e "$PASSPHRASE" -e "$TOK_A" -e "$SPASS" -e "erin's pw" "$T/crtokend.log")"

# ------------------------------------------------------------ [portal] off
stop_crtokend
conf_set enabled no
start_crtokend || { not_ok "crtokend restarts"; finish; exit 1; }
for p in /enroll /enroll/app.js /enroll/portal.json; do
	req GET "$p"
	check_status "[portal] enabled = no: GET $p is 404" 404 not_found
done
req GET /network-profiles
check_status "... the REST profile listing stays" 200 -
http_finish
