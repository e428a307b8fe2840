#!/bin/sh
# t_pam_valgrind.sh — pamtester runs through pam_crtoken under valgrind:
# no invalid accesses and no definite/indirect leaks on the success, refusal,
# unknown-user, forward_pass, bad-option and fail-closed paths.
# The baseline (pamtester + pam_wrapper + libpam with pam_permit) is clean,
# so no suppressions are needed; real time, so codes come from oathtool now.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pam_lib.sh"

if [ "${SANITIZE:-}" = 1 ]; then
	ok "valgrind runs skipped: the ASan build cannot run under valgrind # SKIP"
	finish
	exit 0
fi

new_instance "$T/inst" || { not_ok "instance created"; finish; exit 1; }
CONF=$CRTOKEN_CONF
OTP="auth required $PAM_SO config=$CONF"
service crtoken "$OTP" "account required $PAM_SO config=$CONF"
service fwd "$OTP forward_pass" "auth required pam_permit.so"
service bogus "$OTP bogus"
service noconf "auth required $PAM_SO config=$T/missing.conf"
service baseline "auth required pam_permit.so"
SECRET=$(enroll alice) || { not_ok "user enrolled"; finish; exit 1; }

# vg NAME MESSAGE INPUT SERVICE USER [OP] : pamtester under valgrind, INPUT as
# its stdin; ok when valgrind found nothing and pamtester printed MESSAGE.
vg() {
	_name=$1 _msg=$2 _in=$3 _svc=$4 _user=$5 _op=${6:-authenticate}
	rm -f "$T"/vg.*
	printf '%s\n' "$_in" | LD_PRELOAD="$WRAPPER" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$SVC" \
		valgrind -q --error-exitcode=99 --leak-check=full --keep-debuginfo=yes \
		--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
		--log-file="$T/vg.%p" pamtester "$_svc" "$_user" "$_op" >"$T/pam.out" 2>&1
	_rc=$?
	if [ $_rc -ne 99 ] && ! cat "$T"/vg.* 2>/dev/null | grep -q . &&
		grep -qF "$_msg" "$T/pam.out"; then
		ok "$_name"
	else
		not_ok "$_name (pamtester/valgrind status $_rc)"
		cat "$T/pam.out" "$T"/vg.* 2>/dev/null | sed 's/^/#   /' | head -40
	fi
}

# Real time: each code is computed right before its run (valgrind is slow).
vg "baseline: pamtester with pam_permit is valgrind-clean" "$PAM_OK" x baseline alice
code=$(totp "$SECRET" "$(date +%s)")
vg "a successful login is valgrind-clean" "$PAM_OK" "$code" crtoken alice
vg "a replayed code is valgrind-clean" "$PAM_AUTH_ERR" "$code" crtoken alice
vg "a wrong code is valgrind-clean" "$PAM_AUTH_ERR" \
	"$(wrong "$(totp "$SECRET" "$(date +%s)" 3)")" crtoken alice
vg "an unconfigured user is valgrind-clean" "$PAM_USER_UNKNOWN" 123456 crtoken nobody
vg "forward_pass is valgrind-clean" "$PAM_OK" "pw$(totp "$SECRET" "$(date +%s)" 1)" fwd alice
vg "an unknown option is valgrind-clean" "$PAM_SERVICE_ERR" 123456 bogus alice
vg "a missing config is valgrind-clean" "$PAM_AUTHINFO_UNAVAIL" 123456 noconf alice
vg "acct_mgmt is valgrind-clean" "account management done" "" crtoken alice acct_mgmt

# A long-running PAM host (sshd, crtokend) logs many users in one process:
# memory must not grow with the number of logins (libpam dlcloses modules at
# every pam_end, and pam_crtoken's destructor releases its instance). What
# stays reachable is the dynamic loader's own bookkeeping, a little less
# after twelve unloads than after one (glibc reuses a dlclose buffer).
cat >"$T/loop.c" <<'EOF'
#include <security/pam_appl.h>
#include <stdlib.h>
#include <string.h>
static int conv(int n, const struct pam_message **m, struct pam_response **r, void *d)
{
	struct pam_response *p = calloc((size_t)n, sizeof(*p));
	for (int i = 0; p != NULL && i < n; i++)
		if (m[i]->msg_style == PAM_PROMPT_ECHO_OFF)
			p[i].resp = strdup("000000");
	*r = p;
	return p ? PAM_SUCCESS : PAM_BUF_ERR;
}
int main(int argc, char **argv)
{
	struct pam_conv c = {conv, NULL};
	for (int i = 0; i < atoi(argv[1]); i++) {
		pam_handle_t *h = NULL;
		if (pam_start("crtoken", "alice", &c, &h) != PAM_SUCCESS)
			return 1;
		pam_end(h, pam_authenticate(h, 0));
	}
	return 0;
}
EOF
# leaked LOGINS : valgrind's lost + still reachable bytes after LOGINS logins.
leaked() {
	LD_PRELOAD="$WRAPPER" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$SVC" \
		valgrind --leak-check=full --log-file="$T/loop.vg" "$T/loop" "$1" >/dev/null 2>&1
	sed -n 's/.*\(definitely lost\|indirectly lost\|still reachable\): \([0-9,]*\) bytes.*/\2/p' \
		"$T/loop.vg" | tr -d , | awk '{s += $1} END {print s + 0}'
}
if ${CC:-cc} -o "$T/loop" "$T/loop.c" -lpam; then
	one=$(leaked 1)
	many=$(leaked 12)
	"$ADMIN" otp unlock alice >/dev/null
	if [ "$many" -le "$one" ]; then
		ok "12 logins in one process hold no more memory than 1"
	else
		not_ok "12 logins in one process hold no more memory than 1"
		diag "after 1: $one bytes, after 12: $many bytes"
	fi
else
	not_ok "the login loop helper compiles"
fi

finish
