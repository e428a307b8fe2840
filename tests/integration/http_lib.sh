# http_lib.sh — helpers for the crtokend suites (tests/integration/t_http*.sh),
# sourced after tests/integration/lib.sh. POSIX sh.
#
# Each suite runs its own crtokend on 127.0.0.1 with a fixed port of its own,
# plain HTTP (allowed on loopback only), started here and stopped by PID.

CRTOKEND=$BUILD/bin/crtokend
ENROLL=$BUILD/bin/crtoken-enroll
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
PAM_WRAPPER_LIB=/usr/lib/$MULTIARCH/libpam_wrapper.so
PAM_MATRIX=/usr/lib/$MULTIARCH/pam_wrapper/pam_matrix.so
CRTOKEND_PID=""
# The system interpreter: version-manager shims cost a large fraction of a
# second per call, and the suites call it often.
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi

# Under SANITIZE=1 the binaries carry ASan, which must be preloaded first.
PRELOAD_SAN=""
if [ "${SANITIZE:-}" = 1 ]; then
	PRELOAD_SAN="$(${CC:-cc} -print-file-name=libasan.so) "
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
	export ASAN_OPTIONS
fi

# conf_set KEY VALUE : set a key of $CRTOKEN_CONF (the sample has each key,
# commented out, in its section).
conf_set() {
	sed -i -e "s|^;*$1 *=.*|$1 = $2|" "$CRTOKEN_CONF"
	grep -q "^$1 = " "$CRTOKEN_CONF"
}
# conf_set_in SECTION KEY VALUE : conf_set for a key more than one section
# has ([ca] and [network] both have ca_file): only SECTION's line changes.
conf_set_in() {
	$PY - "$CRTOKEN_CONF" "$@" <<'EOF'
import re, sys
path, sec, key, val = sys.argv[1:]
out, cur, done = [], None, False
for line in open(path).read().split("\n"):
    m = re.match(r"^\[(.+)\]\s*$", line)
    if m:
        cur = m.group(1)
    elif cur == sec and not done and re.match(r"^;*" + re.escape(key) + r" *=", line):
        line, done = key + " = " + val, True
    out.append(line)
open(path, "w").write("\n".join(out))
sys.exit(0 if done else 1)
EOF
}

# http_instance DIR PORT : a fresh instance serving plain HTTP on 127.0.0.1:PORT
# with require_login = no (suites that test the gate turn it on) and no
# practical per-address failure limit: the suites send many refused
# requests from 127.0.0.1 (suites that test the limit set their own).
http_instance() {
	new_instance "$1" || return 1
	PORT=$2
	URL=http://127.0.0.1:$PORT
	conf_set listen "127.0.0.1:$PORT" && conf_set plain_http yes &&
		conf_set require_login no && conf_set rate_limit_failures 100000
}

# pam_matrix_service USER:PASSWORD... : a PAM service "crtoken" in $T/pam.d
# authenticating against a pam_matrix password file.
pam_matrix_service() {
	mkdir -p "$T/pam.d"
	: >"$T/passdb"
	for _up in "$@"; do echo "$_up:crtoken" >>"$T/passdb"; done
	printf 'auth required %s passdb=%s\naccount required %s passdb=%s\n' \
		"$PAM_MATRIX" "$T/passdb" "$PAM_MATRIX" "$T/passdb" >"$T/pam.d/crtoken"
}

# start_crtokend [options...] : run crtokend in the foreground (log in
# $T/crtokend.log), wait until it listens. With PAM_SVC_DIR set, under
# pam_wrapper with that service directory.
start_crtokend() {
	# Another suite (or another checkout's test run) on this port would
	# answer in our place: refuse clearly instead.
	if wait_port 127.0.0.1 "$PORT" 1; then
		diag "port $PORT is already in use by another process"
		return 1
	fi
	if [ -n "${PAM_SVC_DIR:-}" ]; then
		LD_PRELOAD="$PRELOAD_SAN$PAM_WRAPPER_LIB" PAM_WRAPPER=1 \
			PAM_WRAPPER_SERVICE_DIR="$PAM_SVC_DIR" \
			"$CRTOKEND" --config "$CRTOKEN_CONF" --foreground "$@" \
			>>"$T/crtokend.log" 2>&1 &
	else
		"$CRTOKEND" --config "$CRTOKEN_CONF" --foreground "$@" >>"$T/crtokend.log" 2>&1 &
	fi
	CRTOKEND_PID=$!
	if ! wait_port 127.0.0.1 "$PORT" 100 || ! kill -0 "$CRTOKEND_PID" 2>/dev/null; then
		diag "crtokend did not start; log:"
		sed 's/^/#   /' "$T/crtokend.log" | tail -20
		return 1
	fi
}
# reload_crtokend : SIGHUP to crtokend, then wait (up to 10 s) until its log
# says the reload was done or refused — the new configuration is in effect
# (or refused) when it logs that, so no fixed sleep is needed.
_reloads() { grep -c -e 'reloaded configuration and CA' -e 'reload refused' "$T/crtokend.log"; }
reload_crtokend() {
	_rl=$(_reloads)
	kill -HUP "$CRTOKEND_PID" || return 1
	_i=0
	while [ "$(_reloads)" -le "$_rl" ]; do
		[ $_i -lt 200 ] || { diag "crtokend did not log a reload within 10 s of SIGHUP"; return 1; }
		sleep 0.05
		_i=$((_i + 1))
	done
}
stop_crtokend() {
	stop_pid "$CRTOKEND_PID"
	CRTOKEND_PID=""
}
# http_finish : stop crtokend, fail on any sanitizer report in its log, check
# the recorded responses against the OpenAPI document, finish.
http_finish() {
	stop_crtokend
	check_responses
	if grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error:' -e 'ERROR: LeakSanitizer' \
		"$T/crtokend.log" 2>/dev/null; then
		not_ok "crtokend ran clean under the sanitizers"
		grep -A12 -e 'ERROR: AddressSanitizer' -e 'runtime error:' -e 'ERROR: LeakSanitizer' \
			"$T/crtokend.log" | head -30 | sed 's/^/#   /'
	fi
	finish
}
at_exit 'stop_pid "$CRTOKEND_PID"'

# approval_instance PORT EVENTS : the approval suites' instance on PORT:
# crtokend logs in alice:alicepw and bob:bobpw (pam_matrix, require_login)
# and hands the events EVENTS to a command sink that appends each one and
# its type to $T/events.out; crtokend started, an admin key in $KEY, the
# store in $DB.
approval_instance() {
	http_instance "$T/inst" "$1" || return 1
	DB=$T/inst/crtoken.db
	conf_set require_login yes
	pam_matrix_service alice:alicepw bob:bobpw
	PAM_SVC_DIR=$T/pam.d
	cat >"$T/sink.sh" <<EOS
#!/bin/sh
cat >>"$T/events.out"
echo " type=\$CRTOKEN_EVENT_TYPE" >>"$T/events.out"
EOS
	chmod 755 "$T/sink.sh"
	cat >>"$CRTOKEN_CONF" <<EOF2
[events]
poll_interval = 1s
[events.sink requests]
type = command
command = $T/sink.sh
events = $2
EOF2
	start_crtokend && apikey
}

# apikey : a fresh admin API key in $KEY.
apikey() {
	KEY=$("$ADMIN" apikey create --name "test-$$" --json | jget - "d['key']")
	[ -n "$KEY" ]
}

# jget FILE|- EXPR : evaluate EXPR (Python) with d = the JSON in FILE.
jget() {
	$PY -c '
import json, sys
f = sys.stdin if sys.argv[1] == "-" else open(sys.argv[1])
d = json.load(f)
v = eval(sys.argv[2])
print("" if v is None else (json.dumps(v) if isinstance(v, (dict, list, bool)) else v))
' "$1" "$2"
}

# req METHOD PATH [curl args...] : one request. Sets STATUS; body in
# $T/body, headers in $T/hdrs.
req() {
	_m=$1
	_p=$2
	shift 2
	STATUS=$(curl -s -o "$T/body" -D "$T/hdrs" -w '%{http_code}' -X "$_m" "$@" "$URL$_p")
	record_response "$_m" "$_p"
}

# record_response METHOD PATH : keep the last response for check_responses
# (numbered by the index's length, so a req in a subshell counts too).
record_response() {
	mkdir -p "$T/responses"
	_rn=1
	[ -f "$T/responses/index" ] && _rn=$(($(wc -l <"$T/responses/index") + 1))
	cp "$T/body" "$T/responses/$_rn.body" 2>/dev/null || : >"$T/responses/$_rn.body"
	cp "$T/hdrs" "$T/responses/$_rn.hdrs" 2>/dev/null || : >"$T/responses/$_rn.hdrs"
	echo "$_rn $1 $STATUS $2" >>"$T/responses/index"
}

# check_responses : every response req recorded matches enroll/openapi.yaml
# (documented path, method and status; Content-Type; the JSON body valid
# against the response's schema, with no undocumented fields). One check.
check_responses() {
	[ -s "$T/responses/index" ] || return 0
	if $PY "$TOP/tests/integration/openapi_check.py" "$TOP/enroll/openapi.yaml" \
		"$T/responses" >"$T/.openapi" 2>&1; then
		ok "$(tail -1 "$T/.openapi") against enroll/openapi.yaml"
	else
		not_ok "responses match enroll/openapi.yaml"
		head -40 "$T/.openapi" | sed 's/^/#   /'
	fi
}
# areq METHOD PATH [curl args...] : req with the admin API key.
areq() {
	_m=$1
	_p=$2
	shift 2
	req "$_m" "$_p" -H "Authorization: Bearer $KEY" "$@"
}
# jreq METHOD PATH JSON [curl args...] : req with a JSON body.
jreq() {
	_m=$1
	_p=$2
	_j=$3
	shift 3
	req "$_m" "$_p" -H 'Content-Type: application/json' --data-binary "$_j" "$@"
}
# ajreq METHOD PATH JSON : admin request with a JSON body.
ajreq() {
	_m=$1
	_p=$2
	_j=$3
	shift 3
	jreq "$_m" "$_p" "$_j" -H "Authorization: Bearer $KEY" "$@"
}

# header NAME : value of a response header of the last request.
header() {
	tr -d '\r' <"$T/hdrs" | sed -n "s/^$1: *//Ip" | head -1
}
# err_code : the error code in the last response body.
err_code() {
	jget "$T/body" "d['error']['code']" 2>/dev/null
}

# check_status NAME HTTP CODE : the last response had status HTTP and (if
# CODE is not "-") error code CODE.
check_status() {
	if [ "$STATUS" = "$2" ] && { [ "$3" = - ] || [ "$(err_code)" = "$3" ]; }; then
		ok "$1"
	else
		not_ok "$1"
		diag "expected: $2 $3"
		diag "actual:   $STATUS $(head -c 300 "$T/body")"
	fi
}

# new_token NAME [JSON fields...] : create a token via the API; token string
# in $TOKEN, id in $TOKEN_ID.
new_token() {
	_tn=$1
	shift
	_extra=""
	for _f in "$@"; do _extra="$_extra,$_f"; done
	ajreq POST /certificate-request-tokens "{\"name\":\"$_tn\"$_extra}"
	TOKEN=$(jget "$T/body" "d.get('token')" 2>/dev/null)
	TOKEN_ID=$(jget "$T/body" "d.get('id')" 2>/dev/null)
	[ "$STATUS" = 201 ] && [ -n "$TOKEN" ]
}

# csr_body NAME [genpkey args...] : a CSR redemption body in $T/NAME.json
# (key in $T/NAME.key).
csr_body() {
	_nm=$1
	shift
	make_csr "$T" "$_nm" "$@" || return 1
	$PY -c 'import json,sys; print(json.dumps({"type":"CSR","value":open(sys.argv[1]).read()}))' \
		"$T/$_nm.csr" >"$T/$_nm.json"
}

# redeem TOKEN BODYFILE [curl args...] : POST the redemption.
redeem() {
	_tok=$1
	_bf=$2
	shift 2
	req POST "/client-certificates/token/$_tok" -H 'Content-Type: application/json' \
		--data-binary "@$_bf" "$@"
}
