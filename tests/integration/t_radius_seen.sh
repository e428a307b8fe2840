#!/bin/sh
# t_radius_seen.sh — what RADIUS saw, end to end (issue 14): the real
# FreeRADIUS 3.2 server with rlm_crtoken.so on 127.0.0.1:18830 (this suite's
# ports: 18830-18849) and eapol_test doing EAP-TLS with a chosen
# Calling-Station-Id (-M), NAS-Identifier and Acct-Session-Id (-N):
#   - admissions are recorded in batches (seen_flush_interval = 1) and
#     crtoken-admin cert show / cert list --never-seen / --stale-days and
#     the JSON report first/last seen, the MAC and the NAS;
#   - Session-Timeout in the Access-Accept never runs past notAfter and is
#     capped by [radius] max_session_timeout (a stored one only shortens it);
#   - [radius] pin_mac = first: the certificate's first MAC sticks at once
#     (before any flush) and a clone from another MAC is rejected;
#   - revocation reaches live sessions: crtoken-admin cert revoke sends an
#     RFC 5176 Disconnect-Request to the recorded NAS — a second radiusd
#     listening for CoA/Disconnect on 127.0.0.1:18832 — with the session's
#     attributes; an unreachable NAS or a wrong secret never fails the
#     revocation, and each outcome is audited (cert.disconnect).
. "$(dirname "$0")/lib.sh"
RLM_SRC=$TOP/rlm_crtoken
. "$TOP/tests/integration/radius_lib.sh"
RLM_BUILD=$BUILD
RLM_PORT=18830

require_programs /usr/sbin/freeradius eapol_test openssl sqlite3 "$ADMIN" "$BUILD/lib/rlm_crtoken.so"
at_exit rlm_stop

I=$T/inst
R=$T/raddb
LOG=$R/radiusd.log
log_mark() { wc -l <"$LOG"; }
log_since() { tail -n "+$(($1 + 1))" "$LOG"; }
out() { cat "$T/$1.out"; }

# auth NAME MAC [eapol_test -N ...] : EAP-TLS with $T/NAME.pem from MAC.
auth() {
	_nm=$1
	_mac=$2
	shift 2
	RLM_EAPOL_EXTRA="-M $_mac $*" rlm_eapol "$T/$_nm.pem" "$T/$_nm.key" "$T/$_nm.out" \
		"$T/lab-ca.pem"
}
issue() {
	_nm=$1
	shift
	_tok=$("$ADMIN" token create --name "$_nm" --cn "$_nm" "$@" --json) || return 1
	make_csr "$T" "$_nm" || return 1
	_j=$("$ADMIN" redeem "$(json_get "$_tok" token)" --csr "$T/$_nm.csr" \
		--out "$T/$_nm.pem" --json) || return 1
	json_get "$_j" serial >"$T/$_nm.serial"
}
serial() { cat "$T/$1.serial"; }
# show_field NAME KEY : KEY of cert show --json
show_field() { json_get "$("$ADMIN" cert show "$(serial "$1")" --json)" "$2"; }
# wait_seen NAME : until the flusher recorded NAME's session (up to 15 s; the
# NAS is written by the flush only, a MAC pin sets the times at once)
wait_seen() {
	_i=0
	while [ $_i -lt 150 ]; do
		[ -n "$(show_field "$1" nasIpAddress)" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
# reply_int NAME ATTRNO : the integer value of attribute ATTRNO in the last
# Access-Accept eapol_test printed (Session-Timeout: in decimal)
reply_int() {
	_h=$(awk -v a="Attribute $2 " 'index($0, a) { getline; sub(/.*Value: /, ""); v = $0 }
		END { print v }' "$T/$1.out")
	printf '%s\n' "$_h"
}
# server : (re)start radiusd with the crtoken sample site, flushing every second
server() {
	rlm_stop
	RLM_MODULE_EXTRA="	seen_flush_interval = 1" rlm_write_config "$R" crtoken &&
		rlm_start "$R"
}

# ---------------------------------------------------------------- setup
check "crtoken instance" "$ADMIN" init --dir "$I"
CRTOKEN_CONF=$I/crtoken.conf
export CRTOKEN_CONF
check "lab CA and radiusd server certificate (openssl)" rlm_lab_ca "$T"
cat "$I/ca.pem" "$T/lab-ca.pem" >"$T/client-cas.pem"
RLM_CRTOKEN_CONF=$CRTOKEN_CONF
RLM_SERVER_CERT=$T/server.pem
RLM_SERVER_KEY=$T/server.key
RLM_CLIENT_CAS=$T/client-cas.pem

check "alice: certificate issued" issue alice
check "bob: certificate issued, never used" issue bob
check "carol: token with a Session-Timeout of 60 s" issue carol --reply 'Session-Timeout=60'
check "dave: token with a Session-Timeout past notAfter" issue dave \
	--reply 'Session-Timeout=4000000000'
check "radiusd started (127.0.0.1:$RLM_PORT)" server

# ---------------------------------------------------------------- recording
check_eq "never admitted: cert show says never" "" "$(show_field alice lastSeen)"
m=$(log_mark)
check_eq "alice from 02:00:00:00:00:0a: Access-Accept" accept \
	"$(auth alice 02:00:00:00:00:0a -N 32:s:ap-east -N 44:s:sess-1)"
check_eq "alice again: Access-Accept" accept "$(auth alice 02:00:00:00:00:0a -N 32:s:ap-east)"
check_eq "alice from 02:00:00:00:00:0b (no pinning): Access-Accept" accept \
	"$(auth alice 02:00:00:00:00:0b -N 32:s:ap-west -N 44:s:sess-2)"
check "the flusher records alice" wait_seen alice
check_eq "first MAC is the first admission's" 02:00:00:00:00:0a "$(show_field alice firstMac)"
check_eq "last MAC is the last admission's" 02:00:00:00:00:0b "$(show_field alice lastMac)"
check_eq "NAS-Identifier of the last session" ap-west "$(show_field alice nasIdentifier)"
check_eq "NAS-IP-Address (eapol_test sends 127.0.0.1)" 127.0.0.1 \
	"$(show_field alice nasIpAddress)"
check_eq "Acct-Session-Id of the last session (cert_seen)" sess-2 \
	"$(sqlite3 "$I/crtoken.db" "SELECT acct_session_id FROM cert_seen WHERE serial = '$(serial alice)'")"
check_eq "three admissions, one first-seen audit row" 1 \
	"$(sqlite3 "$I/crtoken.db" "SELECT count(*) FROM audit WHERE action = 'cert.first_seen' AND object = '$(serial alice)'")"
check_contains "cert show: the session" "session:  NAS 127.0.0.1 (ap-west), MAC 02:00:00:00:00:0b" \
	"$("$ADMIN" cert show "$(serial alice)")"
check_contains "cert list --never-seen: bob" "$(serial bob)" "$("$ADMIN" cert list --never-seen)"
check_eq "cert list --never-seen: not alice" 0 \
	"$("$ADMIN" cert list --never-seen | grep -c "$(serial alice)")"
check_eq "cert list --stale-days 1: nobody yet" 1 "$("$ADMIN" cert list --stale-days 1 | wc -l)"
sqlite3 "$I/crtoken.db" "UPDATE cert_seen SET last_seen = last_seen - 3 * 86400 WHERE serial = '$(serial alice)'"
check_contains "cert list --stale-days 2: alice, last seen 3 days ago" "$(serial alice)" \
	"$("$ADMIN" cert list --stale-days 2)"

# ---------------------------------------------------------------- Session-Timeout
left=$(($(date -d "$(show_field alice notAfter)" +%s) - $(date +%s)))
check_eq "alice: Access-Accept" accept "$(auth alice 02:00:00:00:00:0a)"
st=$(reply_int alice 27)
if [ -n "$st" ] && [ "$st" -le "$left" ] && [ "$st" -ge $((left - 60)) ]; then
	ok "Session-Timeout ($st s) ends at the certificate's notAfter ($left s left)"
else
	not_ok "Session-Timeout ($st s) ends at the certificate's notAfter ($left s left)"
fi
check_eq "carol: Access-Accept" accept "$(auth carol 02:00:00:00:00:0c)"
check_eq "a stored, shorter Session-Timeout is kept" 60 "$(reply_int carol 27)"
left=$(($(date -d "$(show_field dave notAfter)" +%s) - $(date +%s)))
check_eq "dave: Access-Accept" accept "$(auth dave 02:00:00:00:00:0d)"
st=$(reply_int dave 27)
if [ -n "$st" ] && [ "$st" -le "$left" ]; then
	ok "a stored Session-Timeout past notAfter is cut to notAfter ($st s)"
else
	not_ok "a stored Session-Timeout past notAfter is cut to notAfter ($st s, $left s left)"
fi
printf '\n[radius]\nmax_session_timeout = 600\n' >>"$CRTOKEN_CONF"
check "radiusd restarted with max_session_timeout = 600" server
check_eq "alice: Access-Accept" accept "$(auth alice 02:00:00:00:00:0a)"
check_eq "Session-Timeout capped by max_session_timeout" 600 "$(reply_int alice 27)"
check_eq "carol's 60 s stays below the cap" accept "$(auth carol 02:00:00:00:00:0c)"
check_eq "carol: Session-Timeout 60" 60 "$(reply_int carol 27)"

# ---------------------------------------------------------------- pin_mac per token and profile
# [radius] pin_mac is off here: the token's --pin-mac first, or its profile's
# pin_mac = first, pins its certificate all the same (the value comes with
# the admission row); the profile's session_timeout caps Session-Timeout.
printf '\n[profile guests]\npin_mac = first\nsession_timeout = 2m\n' >>"$CRTOKEN_CONF"
check "frank: token with --pin-mac first" issue frank --pin-mac first
check_eq "... the certificate carries it" first "$(show_field frank pinMac)"
check "gina: token without --pin-mac (the site default: off)" issue gina
check "hank: token of profile guests (pin_mac = first, session_timeout = 2m)" issue hank \
	--profile guests
check "radiusd restarted with profile guests" server
check_eq "frank's first admission from 02:00:00:00:00:f1: Access-Accept" accept \
	"$(auth frank 02:00:00:00:00:f1)"
m=$(log_mark)
check_eq "attack_cloned_cert_from_other_mac: refused for a pinned token" reject \
	"$(auth frank 02:00:00:00:00:f2)"
check_contains "... cert_mac_pinned in the log" "(cert_mac_pinned)" "$(log_since "$m")"
check_eq "... frank from his own MAC again: Access-Accept" accept "$(auth frank 02:00:00:00:00:f1)"
check_eq "gina from 02:00:00:00:00:a1: Access-Accept" accept "$(auth gina 02:00:00:00:00:a1)"
check_eq "attack_cloned_cert_from_other_mac: admitted for an unpinned token" accept \
	"$(auth gina 02:00:00:00:00:a2)"
check_eq "hank (profile guests) from 02:00:00:00:00:b1: Access-Accept" accept \
	"$(auth hank 02:00:00:00:00:b1)"
check_eq "... Session-Timeout capped by the profile's session_timeout" 120 "$(reply_int hank 27)"
check_eq "... and the profile's pin refuses another MAC" reject "$(auth hank 02:00:00:00:00:b2)"
check_eq "... while alice (default profile) keeps [radius] max_session_timeout" accept \
	"$(auth alice 02:00:00:00:00:0a)"
check_eq "... 600" 600 "$(reply_int alice 27)"

# ---------------------------------------------------------------- pin_mac = first
sed -i 's/^max_session_timeout = 600$/max_session_timeout = 600\npin_mac = first/' "$CRTOKEN_CONF"
check "erin: certificate issued" issue erin
check "radiusd restarted with pin_mac = first" server
m=$(log_mark)
check_eq "erin's first admission from 02:00:00:00:00:e1: Access-Accept" accept \
	"$(auth erin 02:00:00:00:00:e1)"
check_eq "the first MAC is in the store at once (before any flush)" 02:00:00:00:00:e1 \
	"$(sqlite3 "$I/crtoken.db" "SELECT first_mac FROM cert_seen WHERE serial = '$(serial erin)'")"
check_eq "attack: cloned certificate from another MAC is rejected" reject \
	"$(auth erin 02:00:00:00:00:e2)"
check_contains "cloned certificate: reason cert_mac_pinned in the log" "(cert_mac_pinned)" \
	"$(log_since "$m")"
check_eq "erin from her own MAC again: Access-Accept" accept "$(auth erin 02:00:00:00:00:e1)"
check_eq "one cert.pin audit row" 1 \
	"$(sqlite3 "$I/crtoken.db" "SELECT count(*) FROM audit WHERE action = 'cert.pin' AND object = '$(serial erin)'")"
# alice was first seen from ...:0a before pinning was switched on: that MAC is her pin.
check_eq "alice from her first MAC: Access-Accept" accept "$(auth alice 02:00:00:00:00:0a)"
check_eq "alice from ...:0b (seen before pinning, not her first): Access-Reject" reject \
	"$(auth alice 02:00:00:00:00:0b)"
check "the flusher records erin" wait_seen erin
check_eq "erin's pin survives the flushes" 02:00:00:00:00:e1 "$(show_field erin firstMac)"
check "ivan: token with --pin-mac off under [radius] pin_mac = first" issue ivan --pin-mac off
check "radiusd restarted" server
check_eq "ivan from 02:00:00:00:00:c1: Access-Accept" accept "$(auth ivan 02:00:00:00:00:c1)"
check_eq "ivan from 02:00:00:00:00:c2: the token's off wins over the site's first" accept \
	"$(auth ivan 02:00:00:00:00:c2)"

# ---------------------------------------------------------------- Disconnect-Request
# The NAS: a second radiusd with a CoA listener that acknowledges every
# Disconnect-Request (its debug log shows what arrived).
C=$T/coa-nas
coa_nas_config() {
	mkdir -p "$C/log" "$C/run" && chmod 700 "$C" "$C/log" "$C/run" || return 1
	(
		umask 077
		cat >"$C/radiusd.conf" <<CONF
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = \${exec_prefix}/sbin
logdir = $C/log
raddbdir = $C
radacctdir = $C
name = freeradius
confdir = \${raddbdir}
run_dir = $C/run
libdir = /usr/lib/freeradius
pidfile = \${run_dir}/radiusd.pid
hostname_lookups = no
proxy_requests = no
log {
	destination = files
	file = \${logdir}/radius.log
}
security {
	allow_core_dumps = no
}
client localhost {
	ipaddr = 127.0.0.1
	secret = coasecret
}
modules {
	always ok {
		rcode = ok
	}
}
instantiate {
}
server coa-nas {
	listen {
		type = coa
		ipaddr = 127.0.0.1
		port = 18832
	}
	recv-coa {
		ok
	}
	send-coa {
		ok
	}
}
CONF
	)
}
COA_PID=""
at_exit 'stop_pid "$COA_PID"'
coa_start() {
	_saved=$RLM_PID
	rlm_start "$C" || return 1
	COA_PID=$RLM_PID
	RLM_PID=$_saved
}
coa_stop() {
	stop_pid "$COA_PID"
	COA_PID=""
}
CLOG=$C/radiusd.log
# revoked_result NAME : the result of NAME's cert.disconnect audit row
disconnect_result() {
	sqlite3 "$I/crtoken.db" "SELECT json_extract(detail, '\$.result') FROM audit WHERE action = 'cert.disconnect' AND object = '$(serial "$1")' ORDER BY id DESC LIMIT 1"
}
check "the NAS's CoA listener configured" coa_nas_config
check "freeradius -XC accepts it" /usr/sbin/freeradius -XC -d "$C"
check "the NAS listens for Disconnect-Request on 127.0.0.1:18832" coa_start
printf 'coasecret\n' >"$T/coa.secret"
chmod 600 "$T/coa.secret"
printf '\n[coa]\nsecret_file = %s\nport = 18832\ntimeout_ms = 500\nretries = 1\n' \
	"$T/coa.secret" >>"$CRTOKEN_CONF"

check "frank: certificate issued" issue frank
check_eq "frank's session from 02:00:00:00:00:f1: Access-Accept" accept \
	"$(auth frank 02:00:00:00:00:f1 -N 44:s:sess-frank -N 32:s:ap-north)"
check "the flusher records frank's session" wait_seen frank
check "frank revoked with crtoken-admin" "$ADMIN" cert revoke "$(serial frank)" \
	--reason keyCompromise
check_eq "the revocation is committed" revoked "$(show_field frank status)"
check_eq "the NAS acknowledged the Disconnect-Request (audited)" ack \
	"$(disconnect_result frank)"
check_contains "the NAS received a Disconnect-Request" "Received Disconnect-Request" "$(cat "$CLOG")"
check_contains "... naming the session's User-Name" 'User-Name = "crtoken-test"' "$(cat "$CLOG")"
check_contains "... its Acct-Session-Id" 'Acct-Session-Id = "sess-frank"' "$(cat "$CLOG")"
check_contains "... its Calling-Station-Id" 'Calling-Station-Id = "02:00:00:00:00:f1"' \
	"$(cat "$CLOG")"
check_contains "... its NAS-IP-Address" 'NAS-IP-Address = 127.0.0.1' "$(cat "$CLOG")"
check_contains "... its NAS-Identifier" 'NAS-Identifier = "ap-north"' "$(cat "$CLOG")"
check_contains "... with a Message-Authenticator" 'Message-Authenticator = ' "$(cat "$CLOG")"
check_contains "the NAS answered Disconnect-ACK" "Sent Disconnect-ACK" "$(cat "$CLOG")"
check_eq "frank: Access-Reject after the revocation" reject "$(auth frank 02:00:00:00:00:f1)"

check "gina: certificate issued" issue gina
check_eq "gina's session: Access-Accept" accept "$(auth gina 02:00:00:00:00:a1)"
check "the flusher records gina's session" wait_seen gina
printf 'not-the-secret\n' >"$T/coa.secret"
check "gina revoked while the NAS does not share the secret" "$ADMIN" cert revoke "$(serial gina)"
check_eq "wrong secret: revoked anyway" revoked "$(show_field gina status)"
check_eq "wrong secret: the NAS ignores it, audited as timeout" timeout "$(disconnect_result gina)"
printf 'coasecret\n' >"$T/coa.secret"

# The same through crtokend's REST revoke (127.0.0.1:18834, plain HTTP).
CRTOKEND_PID=""
at_exit 'stop_pid "$CRTOKEND_PID"'
rest_start() {
	sed -i -e "s|^;*listen *=.*|listen = 127.0.0.1:18834|" \
		-e "s|^;*plain_http *=.*|plain_http = yes|" "$CRTOKEN_CONF" || return 1
	"$BUILD/bin/crtokend" --config "$CRTOKEN_CONF" --foreground >>"$T/crtokend.log" 2>&1 &
	CRTOKEND_PID=$!
	wait_port 127.0.0.1 18834 100
}
check "crtokend started (127.0.0.1:18834)" rest_start
KEY=$(json_get "$("$ADMIN" apikey create --name radius-seen --json)" key)
check "jill: certificate issued" issue jill
check_eq "jill's session: Access-Accept" accept \
	"$(auth jill 02:00:00:00:00:c1 -N 44:s:sess-jill)"
check "the flusher records jill's session" wait_seen jill
check_eq "REST revoke: 200" 200 "$(curl -s -o "$T/revoke.json" -w '%{http_code}' \
	-X POST -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
	-d '{"reason":"keyCompromise"}' \
	"http://127.0.0.1:18834/client-certificates/$(serial jill)/revoke")"
check_eq "REST revoke: the NAS acknowledged the Disconnect-Request" ack \
	"$(disconnect_result jill)"
check_contains "REST revoke: the NAS received jill's session" 'Acct-Session-Id = "sess-jill"' \
	"$(cat "$CLOG")"
stop_pid "$CRTOKEND_PID"
CRTOKEND_PID=""

check "hank: certificate issued" issue hank
check_eq "hank's session: Access-Accept" accept "$(auth hank 02:00:00:00:00:b1)"
check "the flusher records hank's session" wait_seen hank
coa_stop
check "hank revoked while the NAS is down" "$ADMIN" cert revoke "$(serial hank)"
check_eq "NAS down: revoked anyway" revoked "$(show_field hank status)"
r=$(disconnect_result hank)
case $r in
"unreachable: Connection refused" | timeout) ok "NAS down: audited ($r)" ;;
*) not_ok "NAS down: audited ($r)" ;;
esac
check "ivy: certificate issued, never admitted" issue ivy
check "ivy revoked: no session, no Disconnect-Request" "$ADMIN" cert revoke "$(serial ivy)"
check_eq "ivy: no cert.disconnect row" "" "$(disconnect_result ivy)"
rlm_stop
finish
