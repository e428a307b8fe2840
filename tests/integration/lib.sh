# lib.sh — shared helpers for integration suites (POSIX sh). Source it:
#   . "$(dirname "$0")/lib.sh"
# Every check prints one TAP line: "ok N - name" or "not ok N - name".
# Suites end with `finish`, which exits non-zero if any check failed.

set -u
TOP=${CRTOKEN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${CRTOKEN_BUILD:-$TOP/build}
ADMIN=$BUILD/bin/crtoken-admin
# The system interpreter: version-manager shims cost a fraction of a second per call.
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
_n=0
_failed=0

# The sqlite3 shell on a suite's live store waits up to 10 s for a writer's
# lock (as crtoken's own programs do) instead of failing at once with
# "database is locked" when crtokend happens to be writing under load.
sqlite3() { command sqlite3 -cmd ".timeout 10000" "$@"; }

# Private scratch dir for this suite, removed at exit (kept with KEEP=1).
# Not under /tmp itself: radiusd refuses world-writable parents.
T=$(mktemp -d "${TMPDIR:-/tmp}/crtoken-test.XXXXXX")
chmod 700 "$T"

# Every process the suite starts inherits CRTOKEN_TEST_RUN=$T, so the exit
# hook finds by PID whatever is still running — a daemon that detached, one
# started before an assertion failed — and stops it (no ps or ss needed).
CRTOKEN_TEST_RUN=$T
export CRTOKEN_TEST_RUN
. "$TOP/scripts/procs.sh"

_cleanup_hooks=""
at_exit() { _cleanup_hooks="$_cleanup_hooks
$*"; }
_on_exit() {
	trap '' INT TERM
	eval "$_cleanup_hooks"
	stop_marked CRTOKEN_TEST_RUN
	pam_wrapper_sweep
	[ "${KEEP:-0}" = 1 ] && echo "# kept $T" || rm -rf "$T"
}
trap _on_exit EXIT
trap 'exit 130' INT TERM HUP

ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); _failed=$((_failed + 1)); echo "not ok $_n - $*"; }
diag() { echo "# $*"; }

# check NAME CMD... : ok if CMD succeeds.
# require_programs PROG... : each a program on PATH (not one of this file's
# functions: a fresh shell looks) or an existing file; otherwise one failed
# check naming the missing ones, and the suite ends.
require_programs() {
	_missing=""
	for _p in "$@"; do
		sh -c 'command -v "$1"' _ "$_p" >/dev/null 2>&1 || [ -x "$_p" ] || [ -f "$_p" ] ||
			_missing="$_missing $_p"
	done
	[ -z "$_missing" ] && return 0
	not_ok "prerequisites present (missing:$_missing)"
	finish
	exit 1
}

check() {
	_name=$1
	shift
	if "$@" >"$T/.out" 2>&1; then ok "$_name"; else
		not_ok "$_name"
		sed 's/^/#   /' "$T/.out" | tail -20
	fi
}
# check_fails NAME CMD... : ok if CMD fails.
check_fails() {
	_name=$1
	shift
	if "$@" >"$T/.out" 2>&1; then
		not_ok "$_name (unexpectedly succeeded)"
		sed 's/^/#   /' "$T/.out" | tail -20
	else ok "$_name"; fi
}
# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else
		not_ok "$1"
		diag "expected: $2"
		diag "actual:   $3"
	fi
}
# check_contains NAME NEEDLE HAYSTACK
check_contains() {
	case "$3" in *"$2"*) ok "$1" ;; *)
		not_ok "$1"
		diag "missing: $2"
		printf '%s\n' "$3" | head -20 | sed 's/^/#   /'
		;;
	esac
}
# check_code NAME CODE CMD... : CMD must fail and print machine code CODE on stderr.
check_code() {
	_name=$1
	_code=$2
	shift 2
	if "$@" >"$T/.out" 2>"$T/.err"; then
		not_ok "$_name (succeeded; expected $_code)"
	elif grep -q "$_code" "$T/.err"; then ok "$_name"; else
		not_ok "$_name (expected $_code)"
		sed 's/^/#   /' "$T/.err" | tail -5
	fi
}

finish() {
	echo "1..$_n"
	[ "$_failed" -eq 0 ]
}

# new_instance DIR [init options...] : a fresh crtoken instance; exports CRTOKEN_CONF.
new_instance() {
	_dir=$1
	shift
	"$ADMIN" init --dir "$_dir" "$@" >/dev/null || return 1
	CRTOKEN_CONF=$_dir/crtoken.conf
	export CRTOKEN_CONF
}

# json_get JSON KEY : value of a top-level string/number key (jq-free).
json_get() {
	printf '%s' "$1" | $PY -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else v)' "$2"
}

# make_csr DIR NAME [openssl genpkey args...] : key DIR/NAME.key, CSR DIR/NAME.csr
make_csr() {
	_d=$1
	_nm=$2
	shift 2
	[ $# -eq 0 ] && set -- -algorithm EC -pkeyopt ec_paramgen_curve:P-256
	openssl genpkey "$@" -out "$_d/$_nm.key" 2>/dev/null &&
		openssl req -new -key "$_d/$_nm.key" -subj "/CN=$_nm" -out "$_d/$_nm.csr" 2>/dev/null
}

# wait_port HOST PORT [TRIES] : wait until a TCP port accepts connections.
wait_port() {
	_i=0
	while [ $_i -lt "${3:-100}" ]; do
		if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then return 0; fi
		$PY -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(0 if s.connect_ex(('$1',$2))==0 else 1)" 2>/dev/null && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# stop_pid PID : TERM, wait up to 5 s, then KILL.
stop_pid() {
	[ -n "${1:-}" ] || return 0
	kill "$1" 2>/dev/null || return 0
	_i=0
	while kill -0 "$1" 2>/dev/null && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
	kill -9 "$1" 2>/dev/null || true
}

# db_dump : stable dump of the instance's DB (for "store unchanged" checks).
db_dump() {
	sqlite3 "$(dirname "$CRTOKEN_CONF")/crtoken.db" .dump
}
