#!/bin/sh
# t_pam_gate.sh — the two-factor gate end to end: crtokend (under
# pam_wrapper) asks the PAM service crtoken = pam_crtoken before a
# redemption. A fresh TOTP redeems; no credentials, a replayed code, a wrong
# code or a locked-out user are refused — and each refused token stays
# unused. Real time; codes from oathtool (the default window of ±1 step
# absorbs a step boundary between computing and checking).
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

http_instance "$T/inst" 18461 || { not_ok "instance"; finish; exit 1; }
conf_set require_login yes
conf_set rate_limit_failures 1000 # the OTP lockout is what this suite tests
PAM_SO=$BUILD/lib/pam_crtoken.so
mkdir -p "$T/pam.d"
printf 'auth required %s config=%s\naccount required %s config=%s\n' \
	"$PAM_SO" "$CRTOKEN_CONF" "$PAM_SO" "$CRTOKEN_CONF" >"$T/pam.d/crtoken"
PAM_SVC_DIR=$T/pam.d
SA=$("$ADMIN" otp enroll alice --json | jget - "d['secret']")
SL=$("$ADMIN" otp enroll lucy --json | jget - "d['secret']")
[ -n "$SA" ] && [ -n "$SL" ] || { not_ok "users enrolled"; finish; exit 1; }
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
apikey || { not_ok "api key"; finish; exit 1; }
csr_body dev

state() {
	areq GET "/certificate-request-tokens/$1"
	jget "$T/body" "d['state']"
}
code() { oathtool --totp -b -N "now + ${2:-0} seconds" "$1"; }
wrong_code() {
	_c=$(code "$1" 60)
	printf '%s%d' "${_c%?}" $(((${_c#"${_c%?}"} + 1) % 10))
}

new_token nocred '"owner":"alice"'
redeem "$TOKEN" "$T/dev.json"
check_status "without credentials the redemption is refused (401)" 401 authentication_required
check_eq "... and the token stays unused" active "$(state "$TOKEN_ID")"

new_token fresh '"owner":"alice"'
CODE=$(code "$SA")
redeem "$TOKEN" "$T/dev.json" -u "alice:$CODE"
check_status "user + fresh TOTP redeems (201)" 201 -
check_eq "... the certificate names the user" alice "$(jget "$T/body" "d['user']")"
check_eq "... and the token is used" used "$(state "$TOKEN_ID")"

new_token replay '"owner":"alice"'
redeem "$TOKEN" "$T/dev.json" -u "alice:$CODE"
check_status "a replayed code is refused (401)" 401 authentication_failed
check_eq "... and the token stays unused" active "$(state "$TOKEN_ID")"
check_eq "... and pam_crtoken audited the replay with the client address" 1 \
	"$(sqlite3 "$T/inst/crtoken.db" "SELECT count(*) FROM audit WHERE action='otp.replay'
		AND detail LIKE '%\"rhost\":\"127.0.0.1\"%'")"

redeem "$TOKEN" "$T/dev.json" -u "alice:$(wrong_code "$SA")"
check_status "a wrong code is refused (401)" 401 authentication_failed
check_eq "... and the token stays unused" active "$(state "$TOKEN_ID")"

new_token locked '"owner":"lucy"'
for i in 1 2 3 4 5; do redeem "$TOKEN" "$T/dev.json" -u "lucy:$(wrong_code "$SL")"; done
check_status "the failure that starts a lockout is still 401 authentication_failed" 401 \
	authentication_failed
redeem "$TOKEN" "$T/dev.json" -u "lucy:$(code "$SL")"
check_status "a locked-out user is refused even with the right code: 429 otp_locked" 429 \
	otp_locked
check_eq "... without Retry-After (PAM does not say for how long)" "" "$(header Retry-After)"
check_eq "... and the token stays unused" active "$(state "$TOKEN_ID")"
check_contains "... and the user shows as locked" '"locked": true' \
	"$("$ADMIN" otp show lucy --json)"
redeem "$TOKEN" "$T/dev.json" -u "lucy:$(wrong_code "$SL")"
check_status "while locked a wrong code gets the same answer (no guessing oracle)" 429 \
	otp_locked
check_eq "... both audited as failed logins with the reason" 2 \
	"$(sqlite3 "$T/inst/crtoken.db" "SELECT count(*) FROM audit WHERE action='http.login_failed'
		AND object='lucy' AND detail LIKE '%\"reason\":\"otp_locked\"%'")"
mkdir -p "$T/out"
CRTOKEN_OTP=$(code "$SL") setsid -w "$ENROLL" --server "$URL" --token "$TOKEN" --user lucy \
	--out-dir "$T/out" </dev/null >"$T/enroll.out" 2>"$T/enroll.err"
check_eq "crtoken-enroll for a locked user exits 1 (refused)" 1 "$?"
check_contains "... and says the account is locked" \
	"error: otp_locked: login refused: too many wrong one-time passwords" "$(cat "$T/enroll.err")"
# A name without OTP never locks: the lockout answer cannot be had for it.
new_token nobody
for i in 1 2 3 4 5 6 7; do redeem "$TOKEN" "$T/dev.json" -u "nobody:$(wrong_code "$SL")"; done
check_status "a user name without OTP is 401 authentication_failed however often it fails" \
	401 authentication_failed
"$ADMIN" otp unlock lucy >/dev/null
redeem "$TOKEN" "$T/dev.json" -u "lucy:$(code "$SL" 30)"
check_status "after crtoken-admin otp unlock the next code redeems (201)" 201 -
check_eq "... and the token is used" used "$(state "$TOKEN_ID")"

# Between logins crtokend holds a handle of its PAM service open, so libpam
# does not unload the stack at each pam_end and pam_crtoken keeps its store
# sessions (pamgate.c: pam_gate_hold).
check_contains "between logins pam_crtoken stays loaded in crtokend" "$PAM_SO" \
	"$(cat "/proc/$CRTOKEND_PID/maps")"

check_eq "no 5xx in this suite" 0 "$(grep -c '" 5[0-9][0-9]' "$T/crtokend.log")"
check_responses
finish
