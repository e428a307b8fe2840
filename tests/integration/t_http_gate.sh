#!/bin/sh
# t_http_gate.sh — the redemption login gate: HTTP Basic checked through PAM
# (pam_start/pam_authenticate/pam_acct_mgmt), owner check, audit of failed
# logins with the remote address, per-address rate limit (429 + Retry-After).
# First against pam_matrix (libpam-wrapper), then against pam_crtoken with
# real TOTP codes (oathtool), including a two-prompt password + OTP stack.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

http_instance "$T/inst" 18444 || { not_ok "instance"; finish; exit 1; }
DB=$T/inst/crtoken.db
conf_set require_login yes
conf_set rate_limit_failures 3
conf_set rate_limit_seconds 3
pam_matrix_service alice:alicepw bob:bobpw
# pam_wrapper reads the service directory once, at process start.
PAM_SO=$BUILD/lib/pam_crtoken.so
if [ ! -f "$PAM_SO" ]; then
	not_ok "pam_crtoken.so is built ($PAM_SO)"
	finish
	exit 1
fi
printf 'auth required %s config=%s\naccount required %s config=%s\n' \
	"$PAM_SO" "$CRTOKEN_CONF" "$PAM_SO" "$CRTOKEN_CONF" >"$T/pam.d/crtoken-otp"
printf 'auth required %s passdb=%s\nauth required %s config=%s\naccount required %s config=%s\n' \
	"$PAM_MATRIX" "$T/passdb" "$PAM_SO" "$CRTOKEN_CONF" "$PAM_SO" "$CRTOKEN_CONF" \
	>"$T/pam.d/crtoken-pw-otp"
PAM_SVC_DIR=$T/pam.d
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
apikey || { not_ok "api key"; finish; exit 1; }
csr_body dev

count() { sqlite3 "$DB" "$1"; }
token_state() {
	areq GET "/certificate-request-tokens/$1"
	jget "$T/body" "d['state']"
}

# ------------------------------------------------------------ pam_matrix
new_token owned '"owner":"alice"'
OWNED=$TOKEN
OWNED_ID=$TOKEN_ID

redeem "$OWNED" "$T/dev.json"
check_status "no credentials is 401 authentication_required" 401 authentication_required
check_contains "401 carries WWW-Authenticate: Basic" 'Basic realm="crtoken"' "$(header WWW-Authenticate)"
redeem "$OWNED" "$T/dev.json" -u alice:wrong
check_status "wrong password is 401 authentication_failed" 401 authentication_failed
check_contains "failed login asks again (WWW-Authenticate)" Basic "$(header WWW-Authenticate)"
cp "$T/body" "$T/wrongpw.body"
redeem "$OWNED" "$T/dev.json" -u nosuchuser:x
check_status "unknown user is 401 authentication_failed" 401 authentication_failed
check "unknown user and wrong password get the same answer" cmp "$T/wrongpw.body" "$T/body"
check_eq "failed logins are audited with user and remote address" 2 \
	"$(count "SELECT count(*) FROM audit WHERE action='http.login_failed' AND detail LIKE '%\"remote\":\"127.0.0.1\"%'")"
check_eq "the audit names the claimed user" 1 \
	"$(count "SELECT count(*) FROM audit WHERE action='http.login_failed' AND object='alice'")"
sleep 3 # the rate-limit window (3 s) passes

redeem "$OWNED" "$T/dev.json" -u bob:bobpw
check_status "the wrong owner is 403 token_owner_mismatch" 403 token_owner_mismatch
check_eq "the refused owner left the token active" active "$(token_state "$OWNED_ID")"
redeem "$OWNED" "$T/dev.json" -u alice:alicepw
check_status "the owner with the right password redeems (201)" 201 -
check_eq "the certificate records the authenticated user" alice "$(jget "$T/body" "d['user']")"
new_token anyone
redeem "$TOKEN" "$T/dev.json" -u bob:bobpw
check_status "a token without owner: any authenticated user (201)" 201 -
new_token crlf
CRLF_CRED=$(printf 'alice:alicepw\r\nextra' | base64 -w0)
redeem "$TOKEN" "$T/dev.json" -H "Authorization: Basic $CRLF_CRED"
check_status "\"password<CR><LF>...\" answers with the password (CR dropped)" 201 -
new_token malformed
redeem "$TOKEN" "$T/dev.json" -H 'Authorization: Basic %%%notbase64'
check_status "malformed Basic credentials are 401" 401 authentication_failed

sleep 3
new_token limited
LIMITED=$TOKEN
for i in 1 2 3; do redeem "$LIMITED" "$T/dev.json" -u alice:bad$i; done
check_status "three failures are three 401s" 401 authentication_failed
redeem "$LIMITED" "$T/dev.json" -u alice:alicepw
check_status "the fourth attempt, even with the right password, is 429" 429 rate_limited
RA=$(header Retry-After)
check "Retry-After is 1..3 seconds" test "$RA" -ge 1 -a "$RA" -le 3
redeem "$LIMITED" "$T/dev.json" -u alice:alicepw
check_status "still 429 inside the window" 429 rate_limited
check_eq "the block is audited once per window" 1 \
	"$(count "SELECT count(*) FROM audit WHERE action='http.rate_limited' AND object='127.0.0.1'")"
sleep "$RA"
redeem "$LIMITED" "$T/dev.json" -u alice:alicepw
check_status "after Retry-After the right password works again" 201 -

# ------------------------------------------------------------ pam_crtoken
sed -i 's/:crtoken$/:crtoken-pw-otp/' "$T/passdb"
SA=$("$ADMIN" otp enroll alice --no-qr --json | jget - "d['secret']")
SB=$("$ADMIN" otp enroll bob --no-qr --json | jget - "d['secret']")

conf_set pam_service crtoken-otp
reload_crtokend
new_token otp '"owner":"alice"'
CODE=$(oathtool --totp -b "$SA")
redeem "$TOKEN" "$T/dev.json" -u "alice:$CODE"
check_status "pam_crtoken (service from a reloaded config): a valid TOTP redeems" 201 -
new_token otp2 '"owner":"alice"'
redeem "$TOKEN" "$T/dev.json" -u "alice:$CODE"
check_status "the same code again is refused (replay)" 401 authentication_failed
redeem "$TOKEN" "$T/dev.json" -u "alice:000000"
check_status "a wrong code is refused" 401 authentication_failed

conf_set pam_service crtoken-pw-otp
reload_crtokend
new_token both '"owner":"bob"'
CODE=$(oathtool --totp -b "$SB")
redeem "$TOKEN" "$T/dev.json" -u "bob:$CODE"
check_status "password + OTP stack: only one answer is refused" 401 authentication_failed
sleep 3 # keep the failure counter below the limit
redeem "$TOKEN" "$T/dev.json" -u "bob:wrongpw
$CODE"
check_status "password + OTP stack: a wrong password is refused" 401 authentication_failed
# The refused attempt above still let pam_crtoken (required) take CODE;
# the next time step's code is inside the default window.
CODE=$(oathtool --totp -b -N "now + 30 seconds" "$SB")
redeem "$TOKEN" "$T/dev.json" -u "bob:bobpw
$CODE"
check_status "password + OTP stack: \"password<LF>OTP\" answers both prompts" 201 -

check_eq "no 5xx in this suite" 0 "$(grep -c '" 5[0-9][0-9]' "$T/crtokend.log")"
check_eq "no secret in the server log" 0 \
	"$(grep -c -e alicepw -e bobpw -e "$CODE" "$T/crtokend.log")"
http_finish
