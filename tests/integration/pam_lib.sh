# pam_lib.sh — helpers for the pam_crtoken suites (POSIX sh), sourced after lib.sh.
#
# A real PAM stack without touching /etc/pam.d: libpam_wrapper (cwrap) reads
# service files from $SVC, pamtester drives the conversation from stdin, and
# libfaketime freezes the clock at the Unix time given to pam_at, so codes are
# computed for exactly that time with oathtool.

MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
PAM_SO=$BUILD/lib/pam_crtoken.so
WRAPPER=/usr/lib/$MULTIARCH/libpam_wrapper.so
MATRIX=/usr/lib/$MULTIARCH/pam_wrapper/pam_matrix.so
SET_ITEMS=/usr/lib/$MULTIARCH/pam_wrapper/pam_set_items.so
FAKETIME_LIB=/usr/lib/$MULTIARCH/faketime/libfaketime.so.1
SVC=$T/pam.d
mkdir -p "$SVC"

# Under SANITIZE=1 the module carries ASan, which must be preloaded. ASan
# wants to come first, but libfaketime loaded after it hangs at start-up, so
# libfaketime goes first and ASan's link-order check is switched off.
PRELOAD_SAN=""
if [ "${SANITIZE:-}" = 1 ]; then
	PRELOAD_SAN="$(${CC:-cc} -print-file-name=libasan.so) "
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}:verify_asan_link_order=0
	export ASAN_OPTIONS
fi

# pamtester's renderings of the PAM codes we expect (pam_strerror).
PAM_OK="successfully authenticated"
PAM_AUTH_ERR="Authentication failure"
PAM_USER_UNKNOWN="User not known to the underlying authentication module"
PAM_MAXTRIES="Have exhausted maximum number of retries for service"
PAM_SERVICE_ERR="Error in service module"
PAM_AUTHINFO_UNAVAIL="Authentication service cannot retrieve authentication info"

# service NAME LINE... : write the PAM service file $SVC/NAME, one line per argument.
service() {
	_f=$SVC/$1
	shift
	: >"$_f"
	for _l in "$@"; do printf '%s\n' "$_l" >>"$_f"; done
}

# pam_at AT SERVICE USER [OP] [pamtester options...] : run pamtester (OP
# default authenticate) at frozen time AT, stdin passed through. Output in
# $T/pam.out; returns pamtester's status.
pam_at() {
	_at=$1 _svc=$2 _user=$3
	shift 3
	_op=authenticate
	if [ $# -gt 0 ]; then _op=$1; shift; fi
	LD_PRELOAD="$FAKETIME_LIB $PRELOAD_SAN$WRAPPER" FAKETIME_FMT=%s FAKETIME="$_at" \
		PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$SVC" \
		pamtester -v "$@" "$_svc" "$_user" "$_op" >"$T/pam.out" 2>&1
}

# expect NAME RC MESSAGE : the last pam_at exited with status 0 (RC=0) or
# non-zero (RC=1), and pamtester printed MESSAGE.
expect() {
	_rc=$?
	if [ "$2" = 0 ]; then _rc_ok=$((_rc == 0)); else _rc_ok=$((_rc != 0)); fi
	if [ $_rc_ok = 1 ] && grep -qF "$3" "$T/pam.out"; then
		ok "$1"
	else
		not_ok "$1"
		diag "expected: $3 (status $2), got status $_rc:"
		sed 's/^/#   /' "$T/pam.out" | tail -8
	fi
}

# totp SECRET AT [STEPS [MODE [DIGITS]]] : the code for time AT + STEPS periods
# (MODE sha1/sha256/sha512, as oathtool --totp=MODE).
totp() {
	oathtool --totp="${4:-sha1}" -d "${5:-6}" -b -N "@$(($2 + 30 * ${3:-0}))" "$1"
}

# enroll USER [options] : enroll through crtoken-admin, print the base32 secret.
enroll() {
	_out=$("$ADMIN" otp enroll "$@" --json) || return 1
	json_get "$_out" secret
}

# audit_count ACTION [LIKE] : audit rows of ACTION whose detail contains LIKE.
audit_count() {
	sqlite3 "$(dirname "$CRTOKEN_CONF")/crtoken.db" \
		"SELECT count(*) FROM audit WHERE action = '$1' AND detail LIKE '%${2:-}%'"
}

# wrong CODE : CODE with its last digit changed (a wrong code of the same length).
wrong() {
	_c=$1
	_last=${_c#"${_c%?}"}
	printf '%s%d\n' "${_c%?}" $(((_last + 1) % 10))
}
