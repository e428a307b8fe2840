#!/bin/sh
# t_pam.sh — pam_crtoken through a real PAM stack (pam_wrapper + pamtester),
# codes from oathtool, time frozen with libfaketime.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pam_lib.sh"

NOW=1800000015 # 15 s into time step 60000000
new_instance "$T/inst" || { not_ok "instance created"; finish; exit 1; }
CONF=$CRTOKEN_CONF
OTP="auth required $PAM_SO config=$CONF"
service crtoken "$OTP" "account required $PAM_SO config=$CONF"

ALICE=$(enroll alice) && WENDY=$(enroll wendy) && LUCY=$(enroll lucy) && FRED=$(enroll fred) ||
	{ not_ok "users enrolled"; finish; exit 1; }

# --- the code itself
totp "$ALICE" $NOW | pam_at $NOW crtoken alice
expect "right code is accepted" 0 "$PAM_OK"

totp "$ALICE" $NOW | pam_at $((NOW + 5)) crtoken alice
expect "the same code again is refused (replay)" 1 "$PAM_AUTH_ERR"
check_eq "the replay is audited as otp.replay" 1 "$(audit_count otp.replay)"

totp "$ALICE" $NOW -1 | pam_at $((NOW + 6)) crtoken alice
expect "an older step's code after a success is refused (replay)" 1 "$PAM_AUTH_ERR"

wrong "$(totp "$ALICE" $NOW)" | pam_at $((NOW + 7)) crtoken alice
expect "a wrong code is refused" 1 "$PAM_AUTH_ERR"
check_contains "a refused login leaves its failure counter committed" '"failures": 3' \
	"$("$ADMIN" otp show alice --json)"

printf 'abcdef\n' | pam_at $((NOW + 8)) crtoken alice
expect "a non-numeric code is refused" 1 "$PAM_AUTH_ERR"

# --- window edges (default window=1)
totp "$WENDY" $NOW -1 | pam_at $NOW crtoken wendy
expect "a code one step old is accepted" 0 "$PAM_OK"
t=$((NOW + 300))
totp "$WENDY" $t 1 | pam_at $t crtoken wendy
expect "a code one step ahead is accepted" 0 "$PAM_OK"
t=$((NOW + 600))
totp "$WENDY" $t -2 | pam_at $t crtoken wendy
expect "a code two steps old is refused" 1 "$PAM_AUTH_ERR"
totp "$WENDY" $t 2 | pam_at $t crtoken wendy
expect "a code two steps ahead is refused" 1 "$PAM_AUTH_ERR"
service win0 "$OTP window=0"
t=$((NOW + 900))
totp "$WENDY" $t -1 | pam_at $t win0 wendy
expect "window=0 refuses a code one step old" 1 "$PAM_AUTH_ERR"
service win2 "$OTP window=2"
t=$((NOW + 1200))
totp "$WENDY" $t -2 | pam_at $t win2 wendy
expect "window=2 accepts a code two steps old" 0 "$PAM_OK"

# --- lockout (max_failures 5, lockout_seconds 300) and unlock
i=0
while [ $i -lt 4 ]; do
	wrong "$(totp "$LUCY" $NOW)" | pam_at $NOW crtoken lucy
	i=$((i + 1))
done
wrong "$(totp "$LUCY" $NOW)" | pam_at $NOW crtoken lucy
expect "five wrong codes are each refused" 1 "$PAM_AUTH_ERR"
totp "$LUCY" $NOW | pam_at $((NOW + 1)) crtoken lucy
expect "a locked user is refused with PAM_MAXTRIES even with the right code" 1 "$PAM_MAXTRIES"
check_eq "the refusal while locked is audited as otp.locked" 1 "$(audit_count otp.locked)"
check "crtoken-admin otp unlock succeeds" "$ADMIN" otp unlock lucy
totp "$LUCY" $NOW | pam_at $((NOW + 2)) crtoken lucy
expect "after unlock the right code is accepted" 0 "$PAM_OK"
t=$((NOW + 3000))
i=0
while [ $i -lt 5 ]; do
	wrong "$(totp "$LUCY" $t)" | pam_at $t crtoken lucy
	i=$((i + 1))
done
totp "$LUCY" $((t + 300)) | pam_at $((t + 300)) crtoken lucy
expect "the lockout ends by itself after lockout_seconds" 0 "$PAM_OK"

# --- users without OTP
printf '123456\n' | pam_at $NOW crtoken nobody
expect "an unconfigured user is refused as PAM_USER_UNKNOWN" 1 "$PAM_USER_UNKNOWN"
check_contains "an unconfigured user sees the same prompt" "Verification code: " \
	"$(cat "$T/pam.out")"
service nullok "$OTP nullok" "auth required pam_permit.so"
pam_at $NOW nullok nobody </dev/null
expect "nullok passes an unconfigured user on to the next module" 0 "$PAM_OK"
check_fails "nullok does not prompt an unconfigured user" grep -q "Verification code" "$T/pam.out"
wrong "$(totp "$FRED" $NOW)" | pam_at $NOW nullok fred
expect "nullok still refuses an enrolled user's wrong code" 1 "$PAM_AUTH_ERR"
service nullok_alone "$OTP nullok"
pam_at $NOW nullok_alone nobody </dev/null
check_fails "nullok alone never authenticates an unconfigured user" \
	grep -qF "$PAM_OK" "$T/pam.out"

# --- forward_pass: password and code in one answer
cat >"$T/checkpw" <<'EOF'
#!/bin/sh
# pam_exec expose_authtok: the token arrives on stdin
[ "$(cat)" = "hunter2" ]
EOF
chmod 755 "$T/checkpw"
service fwd "$OTP forward_pass" "auth required pam_exec.so expose_authtok quiet $T/checkpw"
t=$((NOW + 30))
printf 'hunter2%s\n' "$(totp "$FRED" $t)" | pam_at $t fwd fred
expect "forward_pass hands the password part on as PAM_AUTHTOK" 0 "$PAM_OK"
check_contains "forward_pass prompts for password and code together" \
	"Password & verification code: " "$(cat "$T/pam.out")"
t=$((NOW + 60))
printf 'hunter3%s\n' "$(totp "$FRED" $t)" | pam_at $t fwd fred
expect "forward_pass with a wrong password fails in the next module" 1 "pamtester:"
check_fails "... and is not reported as a success" grep -qF "$PAM_OK" "$T/pam.out"
t=$((NOW + 90))
printf 'hunter2%s\n' "$(wrong "$(totp "$FRED" $t)")" | pam_at $t fwd fred
expect "forward_pass with a wrong code fails despite the right password" 1 "$PAM_AUTH_ERR"

# pam_matrix as the password module. pam_matrix (cwrap 1.1.x) always asks
# for its password itself, so it gets a second answer; the handoff above is
# what proves PAM_AUTHTOK.
echo "fred:matrixpw:fwdmatrix" >"$T/passdb"
service fwdmatrix "$OTP forward_pass" "auth required $MATRIX passdb=$T/passdb"
t=$((NOW + 120))
printf 'matrixpw%s\nmatrixpw\n' "$(totp "$FRED" $t)" | pam_at $t fwdmatrix fred
expect "forward_pass stacked with pam_matrix: right code and password pass" 0 "$PAM_OK"
t=$((NOW + 150))
printf 'matrixpw%s\nwrong\n' "$(totp "$FRED" $t)" | pam_at $t fwdmatrix fred
expect "forward_pass stacked with pam_matrix: a wrong matrix password fails" 1 "$PAM_AUTH_ERR"
t=$((NOW + 180))
printf 'matrixpw%s\nmatrixpw\n' "$(wrong "$(totp "$FRED" $t)")" | pam_at $t fwdmatrix fred
expect "forward_pass stacked with pam_matrix: a wrong code fails" 1 "$PAM_AUTH_ERR"

# --- codes handed over by the application / an earlier module (PAM_AUTHTOK)
service first "auth optional $SET_ITEMS" "$OTP use_first_pass"
t=$((NOW + 210))
PAM_AUTHTOK=$(totp "$FRED" $t)
export PAM_AUTHTOK
pam_at $t first fred </dev/null
expect "use_first_pass takes the code from PAM_AUTHTOK" 0 "$PAM_OK"
unset PAM_AUTHTOK
pam_at $t first fred </dev/null
expect "use_first_pass without PAM_AUTHTOK fails" 1 "$PAM_AUTH_ERR"
check_fails "use_first_pass never prompts" grep -q "Verification code" "$T/pam.out"
service try "auth optional $SET_ITEMS" "$OTP try_first_pass"
t=$((NOW + 240))
totp "$FRED" $t | pam_at $t try fred
expect "try_first_pass prompts when there is no PAM_AUTHTOK" 0 "$PAM_OK"
service fwdfirst "auth optional $SET_ITEMS" "$OTP use_first_pass forward_pass" \
	"auth required pam_exec.so expose_authtok quiet $T/checkpw"
t=$((NOW + 270))
PAM_AUTHTOK=hunter2$(totp "$FRED" $t)
export PAM_AUTHTOK
pam_at $t fwdfirst fred </dev/null
expect "use_first_pass + forward_pass split a password+code PAM_AUTHTOK" 0 "$PAM_OK"
unset PAM_AUTHTOK

# --- options and failing closed
service bogus "$OTP bogus"
totp "$FRED" $((NOW + 300)) | pam_at $((NOW + 300)) bogus fred
expect "an unknown option is refused with PAM_SERVICE_ERR" 1 "$PAM_SERVICE_ERR"
check_contains "the unknown option is logged" "unknown option: bogus" "$(cat "$T/pam.out")"
service badwin "$OTP window=x"
totp "$FRED" $((NOW + 300)) | pam_at $((NOW + 300)) badwin fred
expect "a malformed window= is refused with PAM_SERVICE_ERR" 1 "$PAM_SERVICE_ERR"
chmod 0644 "$T/inst/otp.key"
totp "$FRED" $((NOW + 300)) | pam_at $((NOW + 300)) crtoken fred
expect "a sealing key readable by others fails closed" 1 "$PAM_AUTHINFO_UNAVAIL"
chmod 0600 "$T/inst/otp.key"
service noconf "auth required $PAM_SO config=$T/missing.conf nullok"
totp "$FRED" $((NOW + 300)) | pam_at $((NOW + 300)) noconf fred
expect "a missing config fails closed, even with nullok" 1 "$PAM_AUTHINFO_UNAVAIL"
sqlite3 "$T/inst/crtoken.db" "CREATE TRIGGER no_writes BEFORE UPDATE ON otp BEGIN SELECT RAISE(ABORT, 'read-only'); END;"
totp "$FRED" $((NOW + 330)) | pam_at $((NOW + 330)) crtoken fred
expect "a store that cannot record the login fails closed" 1 "$PAM_AUTHINFO_UNAVAIL"
sqlite3 "$T/inst/crtoken.db" "DROP TRIGGER no_writes;"

# --- H2: the caller's environment never picks the store. In a setuid
# su/sudo with the shipped service line (no config=), CRTOKEN_CONF is the
# unprivileged caller's: pointing it at a store they made with `root`
# enrolled must not log them in as root.
"$ADMIN" init --dir "$T/evil" >/dev/null &&
	EVIL=$(CRTOKEN_CONF=$T/evil/crtoken.conf enroll root) ||
	not_ok "attacker's instance with root enrolled"
evil_rows() { sqlite3 "$T/evil/crtoken.db" "SELECT count(*) FROM audit"; }
before=$(evil_rows)
service shipped "auth required $PAM_SO" "account required $PAM_SO"
t=$((NOW + 480))
PAM_WRAPPER_DEBUGLEVEL=3
export PAM_WRAPPER_DEBUGLEVEL
(
	CRTOKEN_CONF=$T/evil/crtoken.conf
	export CRTOKEN_CONF
	totp "$EVIL" $t | pam_at $t shipped root
)
rc=$?
unset PAM_WRAPPER_DEBUGLEVEL
if [ $rc -ne 0 ] && ! grep -qF "$PAM_OK" "$T/pam.out"; then
	ok "CRTOKEN_CONF in the caller's environment cannot authenticate root from the caller's store"
else
	not_ok "CRTOKEN_CONF in the caller's environment cannot authenticate root from the caller's store"
	sed 's/^/#   /' "$T/pam.out" | tail -8
fi
check_eq "... the module never opened the caller's store" "$before" "$(evil_rows)"
check_contains "... it used the system config instead" "/etc/crtoken/crtoken.conf" \
	"$(cat "$T/pam.out")"

# Files the module trusts must belong to root (or the user it runs as).
cp "$CONF" "$T/inst/nobody.conf" && chown nobody "$T/inst/nobody.conf"
service nobodyconf "auth required $PAM_SO config=$T/inst/nobody.conf"
PAM_WRAPPER_DEBUGLEVEL=3
export PAM_WRAPPER_DEBUGLEVEL
GINA=$(enroll gina)
totp "$GINA" $NOW | pam_at $NOW nobodyconf gina
expect "a config owned by another user fails closed" 1 "$PAM_AUTHINFO_UNAVAIL"
unset PAM_WRAPPER_DEBUGLEVEL
check_contains "... with unsafe_permissions and the owner in the log" \
	"unsafe_permissions: $T/inst/nobody.conf is owned by uid $(id -u nobody)" "$(cat "$T/pam.out")"

# --- account management, audit details
pam_at $NOW crtoken fred acct_mgmt </dev/null
expect "acct_mgmt accepts an enrolled user" 0 "account management done"
pam_at $NOW crtoken nobody acct_mgmt </dev/null
expect "acct_mgmt reports an unconfigured user as unknown" 1 "$PAM_USER_UNKNOWN"
t=$((NOW + 360))
totp "$FRED" $t | pam_at $t crtoken fred authenticate -I rhost=192.0.2.7
expect "a login with a remote host is accepted" 0 "$PAM_OK"
check_eq "the success is audited with service and rhost" 1 \
	"$(audit_count otp.success '"service":"crtoken","rhost":"192.0.2.7"')"

# --- prompt= and debug
service dbg "$OTP debug [prompt=One-time code: ]"
t=$((NOW + 420))
PAM_WRAPPER_DEBUGLEVEL=3
export PAM_WRAPPER_DEBUGLEVEL
totp "$FRED" $t -1 | pam_at $t dbg fred
expect "prompt= with spaces (PAM's [...] syntax) sets the prompt" 0 "One-time code: "
unset PAM_WRAPPER_DEBUGLEVEL
check_contains "debug logs the clock skew (matched step offset)" \
	"OTP accepted for fred (step offset -1)" "$(cat "$T/pam.out")"

# --- other algorithms agree with oathtool
S256=$(enroll sha256 --algorithm SHA256 --digits 8)
totp "$S256" $NOW 0 sha256 8 | pam_at $NOW crtoken sha256
expect "an 8-digit HMAC-SHA256 code from oathtool is accepted" 0 "$PAM_OK"
S512=$(enroll sha512 --algorithm SHA512)
totp "$S512" $NOW 0 sha512 | pam_at $NOW crtoken sha512
expect "an HMAC-SHA512 code from oathtool is accepted" 0 "$PAM_OK"

# --- racing logins: replay check and update are one transaction
RACER=$(enroll racer)
t=$((NOW + 450))
c=$(totp "$RACER" $t)
i=0
while [ $i -lt 8 ]; do
	(printf '%s\n' "$c" | LD_PRELOAD="$FAKETIME_LIB $PRELOAD_SAN$WRAPPER" FAKETIME_FMT=%s \
		FAKETIME=$t PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$SVC" \
		pamtester crtoken racer authenticate >"$T/race.$i" 2>&1) &
	i=$((i + 1))
done
wait
check_eq "8 simultaneous logins with one code: exactly one succeeds" 1 \
	"$(cat "$T"/race.* | grep -c "$PAM_OK")"
check_eq "... the others are refused one by one: 5 replays, then locked out" \
	"otp.success otp.replay otp.replay otp.replay otp.replay otp.replay otp.locked otp.locked" \
	"$(sqlite3 "$T/inst/crtoken.db" "SELECT action FROM audit WHERE object = 'racer'
		AND action != 'otp.enroll' ORDER BY id" | tr '\n' ' ' | sed 's/ $//')"

# --- the module's shape
check_eq "the module exports only the pam_sm_* entry points" \
	"pam_sm_acct_mgmt pam_sm_authenticate pam_sm_setcred" \
	"$(nm -D --defined-only "$PAM_SO" | awk '{print $3}' | sort | tr '\n' ' ' | sed 's/ $//')"

finish
