#!/bin/sh
# t_multinode_radius.sh — what radiusd does when the PostgreSQL store it reads
# fails (issue 11; MULTINODE.md §6.3 T6/T7): rlm_crtoken's on_store_failure.
# A PostgreSQL primary (127.0.0.1:19700) and a streaming hot standby made by
# pg_basebackup -R (19701), crtokend on the primary (19702, it keeps the
# heartbeat), radiusd reading the standby through read_conninfo with
# [store] max_staleness = 5: F with on_store_failure = fail (UDP 19704) and
# N with on_store_failure = no_response (UDP 19705), O with no_response and
# the module in the outer post-auth section instead (UDP 19708), Z with
# no_response and cleanup_delay = 0 (UDP 19709); eapol_test does EAP-TLS
# (the module in the check-eap-tls-crtoken virtual server, as shipped,
# unless said otherwise).
#   - both admit a certificate redeemed on the primary;
#   - replay paused on the standby until its heartbeat is older than 5 s:
#     F answers Access-Reject (store_stale), N sends nothing at all (the
#     client sees no reply before its timeout; N's log: "Not sending reply");
#     replay resumed: both admit again;
#   - the standby stopped (pg_ctl stop -m immediate): F rejects, N is
#     silent; the standby started again: both admit again (the pool
#     reconnects), and how long that took is reported; O (outer post-auth)
#     is silent too; Z's first transmission gets no reply but eapol_test's
#     retransmit finds no EAP session and is rejected (cleanup_delay);
#   - T6: radiusd T (threaded, 8 threads) on the primary, its backends
#     stopped with kill -STOP: 16 concurrent authentications all answered
#     (the reader's 1 s deadline), radiusd alive, recovers after kill -CONT;
#   - T5: the primary stopped: radiusd P, reading "primary, then standby"
#     (a two-host read_conninfo), admits again from the standby; the standby
#     promoted, a crtokend on a two-host read-write conninfo keeps its
#     heartbeat fresh: P still admits past max_staleness, and admits a
#     certificate redeemed on the new primary.
# radiusd ignores a retransmit of a request it did not answer for
# cleanup_delay seconds (process.c: "No reply. Ignoring retransmit"); after
# that a retransmit finds no EAP session and is rejected. The servers here
# run with cleanup_delay = 5, longer than eapol_test's first retransmit (3 s)
# and its timeout here (4 s) — README "Several servers" has the NAS side.
# Everything runs on loopback; every server is stopped by PID on exit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
RLM_SRC=$TOP/rlm_crtoken
. "$TOP/tests/integration/radius_lib.sh"
RLM_BUILD=$BUILD

if ! pkg-config --exists libpq; then
	ok "# SKIP built without libpq"
	finish
	exit 0
fi
require_programs /usr/sbin/freeradius eapol_test openssl psql "$PGBIN/initdb" "$PGBIN/pg_basebackup" \
	"$ADMIN" "$BUILD/bin/crtokend" "$BUILD/lib/rlm_crtoken.so"

P1=19700 # PostgreSQL primary
P2=19701 # PostgreSQL standby
HTTP1=19702
RAD_F=19704 # on_store_failure = fail
RAD_N=19705 # on_store_failure = no_response
# PostgreSQL runs as the postgres user, who cannot enter $T (0700).
PGW=$(mktemp -d "${TMPDIR:-/tmp}/crtoken-mnr.XXXXXX") || exit 1
chown postgres: "$PGW" 2>/dev/null
PID_F=""
PID_N=""
CRTOKEND_PID=""

mn_stop() {
	stop_pid "$PID_F"
	stop_pid "$PID_N"
	stop_pid "$CRTOKEND_PID"
	for _d in "$PGW/standby" "$PGW/primary"; do
		[ -f "$_d/postmaster.pid" ] || continue
		_pg_as "$PGBIN/pg_ctl" -D "$_d" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
			kill -9 "$(head -n 1 "$_d/postmaster.pid")" 2>/dev/null
	done
	rm -rf "$PGW"
}
at_exit mn_stop

# sql PORT SQL : unaligned tuples from the crtoken database at PORT.
sql() { psql -X -At -h 127.0.0.1 -p "$1" -U crtoken -d crtoken -c "$2" 2>&1; }

pg_primary() {
	pg_initdb "$PGW/primary" || return 1
	_pg_as "$PGBIN/pg_ctl" -D "$PGW/primary" -l "$PGW/primary.log" -w -t 30 -o \
		"-c listen_addresses=127.0.0.1 -p $P1 -c unix_socket_directories=$PGW -c shared_buffers=32MB -c fsync=off -c wal_level=replica -c max_wal_senders=4" \
		start >/dev/null 2>&1 || { tail -5 "$PGW/primary.log"; return 1; }
	psql -X -q -h 127.0.0.1 -p "$P1" -U crtoken -d postgres -c 'CREATE DATABASE crtoken' >/dev/null
}
standby_start() {
	_pg_as "$PGBIN/pg_ctl" -D "$PGW/standby" -l "$PGW/standby.log" -w -t 30 -o \
		"-c listen_addresses=127.0.0.1 -p $P2 -c unix_socket_directories=$PGW -c hot_standby=on -c wal_receiver_status_interval=1 -c fsync=off" \
		start >/dev/null 2>&1 || { tail -5 "$PGW/standby.log"; return 1; }
}
pg_standby() {
	_pg_as "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$P1" -U crtoken -D "$PGW/standby" -R -c fast \
		-X stream >"$PGW/basebackup.log" 2>&1 || { cat "$PGW/basebackup.log"; return 1; }
	standby_start
}
check "PostgreSQL primary on 127.0.0.1:$P1" pg_primary
check "streaming standby from pg_basebackup -R on 127.0.0.1:$P2" pg_standby

CONN1="host=127.0.0.1 port=$P1 user=crtoken dbname=crtoken"
CONN2="host=127.0.0.1 port=$P2 user=crtoken dbname=crtoken"

check "crtoken instance (SQLite), copied to the primary (store copy)" sh -c \
	"'$ADMIN' init --dir '$T/inst' >/dev/null && '$ADMIN' --config '$T/inst/crtoken.conf' store copy --to postgresql --conninfo '$CONN1' >/dev/null"
# conf NAME EXTRA : the instance config on PostgreSQL, with EXTRA [store] lines.
conf() {
	sed -e "s|^\[store\]|[store]\nbackend = postgresql\nconninfo = $CONN1\nmax_staleness = 5$2|" \
		-e "s|^;*listen *=.*|listen = 127.0.0.1:$HTTP1|" \
		-e "s|^;*plain_http *=.*|plain_http = yes|" \
		-e "s|^;*require_login *=.*|require_login = no|" \
		"$T/inst/crtoken.conf" >"$T/inst/$1.conf" && chmod 0640 "$T/inst/$1.conf"
}
conf primary ""
conf standby "\nread_conninfo = $CONN2"
C1=$T/inst/primary.conf
A() { "$ADMIN" --config "$C1" "$@"; }

"$BUILD/bin/crtokend" --config "$C1" --foreground >>"$T/crtokend.log" 2>&1 &
CRTOKEND_PID=$!
check "crtokend on the primary (127.0.0.1:$HTTP1, keeps the heartbeat)" wait_port 127.0.0.1 "$HTTP1" 100

check "lab CA and radiusd server certificate" rlm_lab_ca "$T"
cat "$T/inst/ca.pem" "$T/lab-ca.pem" >"$T/client-cas.pem"
RLM_SERVER_CERT=$T/server.pem
RLM_SERVER_KEY=$T/server.key
RLM_CLIENT_CAS=$T/client-cas.pem
# start_radiusd NAME PORT MODE [SITE [CLEANUP_DELAY]] : radiusd NAME on UDP
# PORT reading the standby, on_store_failure = MODE, the module in SITE
# (crtoken: the check-eap-tls-crtoken virtual server; outer: the outer
# post-auth), cleanup_delay 5 s unless given (see the top).
start_radiusd() {
	RLM_PORT=$2 RLM_CRTOKEN_CONF=$T/inst/standby.conf
	RLM_MODULE_EXTRA="	on_store_failure = $3" rlm_write_config "$T/rad$1" "${4:-crtoken}" &&
		sed -i "s/^cleanup_delay = 0\$/cleanup_delay = ${5:-5}/" "$T/rad$1/radiusd.conf" &&
		grep -q "^cleanup_delay = ${5:-5}\$" "$T/rad$1/radiusd.conf" && rlm_start "$T/rad$1"
}
check "radiusd F (on_store_failure = fail) on the standby (UDP $RAD_F)" start_radiusd F "$RAD_F" fail
PID_F=$RLM_PID
check "radiusd N (on_store_failure = no_response) on the standby (UDP $RAD_N)" \
	start_radiusd N "$RAD_N" no_response
PID_N=$RLM_PID
RAD_O=19708 # no_response, the module in the outer post-auth section
RAD_Z=19709 # no_response, cleanup_delay = 0
check "radiusd O (no_response, module in the outer post-auth) on the standby (UDP $RAD_O)" \
	start_radiusd O "$RAD_O" no_response outer
PID_O=$RLM_PID
check "radiusd Z (no_response, cleanup_delay = 0) on the standby (UDP $RAD_Z)" \
	start_radiusd Z "$RAD_Z" no_response crtoken 0
PID_Z=$RLM_PID
RLM_PID=""
at_exit 'stop_pid "$PID_O"; stop_pid "$PID_Z"'
LOGF=$T/radF/radiusd.log
LOGN=$T/radN/radiusd.log
LOGO=$T/radO/radiusd.log
LOGZ=$T/radZ/radiusd.log
bad_mode() {
	RLM_PORT=19707 RLM_CRTOKEN_CONF=$T/inst/standby.conf
	RLM_MODULE_EXTRA="	on_store_failure = reject" rlm_write_config "$T/radX" crtoken || return 1
	/usr/sbin/freeradius -XC -d "$T/radX" >"$T/radX.out" 2>&1 && return 1
	grep -q "on_store_failure must be fail or no_response, not 'reject'" "$T/radX.out"
}
check "on_store_failure = reject: radiusd refuses the config (fail or no_response)" bad_mode

# auth PORT NAME : EAP-TLS with $T/NAME.pem against the radiusd at PORT
# (eapol_test waits 4 s): accept | reject | error (no answer).
auth() {
	RLM_PORT=$1 RLM_EAPOL_EXTRA="-t 4"
	rlm_eapol "$T/$2.pem" "$T/$2.key" "$T/$2.$1.out" "$T/lab-ca.pem"
}
# dropped PORT NAME : the last auth against PORT saw no reply at all to its
# last Access-Request: eapol_test timed out, no Access-Accept or -Reject in
# its output, and it sent that request more than once (it retransmitted).
dropped() {
	_o=$T/$2.$1.out
	grep -q 'EAPOL test timed out' "$_o" && ! grep -q 'Access-Reject' "$_o" &&
		! grep -q 'Access-Accept' "$_o"
}
# since LOG MARK : LOG's lines after line MARK.
since() { tail -n "+$(($2 + 1))" "$1"; }
wait_sql() {
	_i=0
	while [ $_i -lt "$4" ]; do
		[ "$(sql "$1" "$2")" = "$3" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
hb_age() { # PORT : seconds since the heartbeat that PORT has (empty if none)
	_hb=$(sql "$1" "SELECT value FROM meta WHERE key = 'heartbeat'")
	case "$_hb" in '' | *[!0-9]*) ;; *) echo $(($(date +%s) - _hb)) ;; esac
}
# wait_hb PORT CMP N TENTHS : until the heartbeat's age at PORT is CMP N.
wait_hb() {
	_i=0
	while [ $_i -lt "$4" ]; do
		_a=$(hb_age "$1")
		[ -n "$_a" ] && [ "$_a" "$2" "$3" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

issue() {
	_j=$(A token create --name "$1" --cn "$1" --json) && make_csr "$T" "$1" &&
		_r=$(A redeem "$(json_get "$_j" token)" --csr "$T/$1.csr" --out "$T/$1.pem" --json) &&
		json_get "$_r" serial >"$T/$1.serial"
}
check "alice redeemed on the primary" issue alice
S=$(cat "$T/alice.serial")
check "the standby has alice's certificate" \
	wait_sql "$P2" "SELECT count(*) FROM certificates WHERE serial = '$S'" 1 50
check "the standby has a fresh heartbeat" wait_hb "$P2" -le 3 100
check_eq "F admits alice" accept "$(auth $RAD_F alice)"
check_eq "N admits alice" accept "$(auth $RAD_N alice)"
check_eq "O admits alice" accept "$(auth $RAD_O alice)"
check_eq "Z admits alice" accept "$(auth $RAD_Z alice)"

# --- a stale standby ---------------------------------------------------------
check_eq "replay paused on the standby" "" "$(sql "$P2" 'SELECT pg_wal_replay_pause()')"
check "the standby's heartbeat is older than max_staleness (5 s)" wait_hb "$P2" -gt 6 150
mf=$(wc -l <"$LOGF")
mn=$(wc -l <"$LOGN")
check_eq "stale: F (fail) answers Access-Reject" reject "$(auth $RAD_F alice)"
check_contains "stale: F's log names store_stale" store_stale "$(since "$LOGF" "$mf")"
r=$(auth $RAD_N alice)
check_eq "stale: N (no_response) sends no reply (eapol_test times out)" error "$r"
check "stale: no Access-Accept or Access-Reject reached eapol_test" dropped $RAD_N alice
diag "eapol_test against N sent $(grep -c 'Sending RADIUS message to authentication server' "$T/alice.$RAD_N.out") RADIUS messages, got $(grep -c 'Received RADIUS packet matched' "$T/alice.$RAD_N.out") answers (challenges)"
check_contains "stale: N's log names store_stale" store_stale "$(since "$LOGN" "$mn")"
check_contains "stale: N did not send a reply" "Not sending reply to client" "$(since "$LOGN" "$mn")"
check_contains "stale: N ignored eapol_test's retransmit" "Ignoring retransmit" "$(since "$LOGN" "$mn")"
check_eq "replay resumed on the standby" "" "$(sql "$P2" 'SELECT pg_wal_replay_resume()')"
check "the standby's heartbeat is fresh again" wait_hb "$P2" -le 3 100
check_eq "fresh again: F admits alice" accept "$(auth $RAD_F alice)"
check_eq "fresh again: N admits alice" accept "$(auth $RAD_N alice)"

# --- the standby stopped -------------------------------------------------------
check "standby stopped (pg_ctl stop -m immediate)" \
	_pg_as "$PGBIN/pg_ctl" -D "$PGW/standby" -m immediate -w -t 30 stop
mf=$(wc -l <"$LOGF")
mn=$(wc -l <"$LOGN")
check_eq "down: F (fail) answers Access-Reject" reject "$(auth $RAD_F alice)"
check_contains "down: F's log names store_unavailable" store_unavailable "$(since "$LOGF" "$mf")"
check_eq "down: N (no_response) sends no reply" error "$(auth $RAD_N alice)"
check "down: no Access-Accept or Access-Reject reached eapol_test" dropped $RAD_N alice
check_contains "down: N did not send a reply" "Not sending reply to client" "$(since "$LOGN" "$mn")"
mo=$(wc -l <"$LOGO")
check_eq "down: O (no_response, outer post-auth) sends no reply" error "$(auth $RAD_O alice)"
check "down: nothing reached eapol_test from O" dropped $RAD_O alice
check_contains "down: O did not send a reply" "Not sending reply to client" "$(since "$LOGO" "$mo")"
# cleanup_delay = 0: the request is forgotten at once, so eapol_test's
# retransmit (after 3 s) is a new request of an EAP session that no longer
# exists, and that is answered with an Access-Reject — which ends a NAS's
# failover. What cleanup_delay is for.
mz=$(wc -l <"$LOGZ")
check_eq "down: Z (cleanup_delay = 0) rejects eapol_test's retransmit" reject "$(auth $RAD_Z alice)"
check_contains "down: Z did not answer the first transmission" "Not sending reply to client" \
	"$(since "$LOGZ" "$mz")"
check_contains "down: Z's reject: the retransmit's EAP session is gone" \
	"No EAP session matching state" "$(since "$LOGZ" "$mz")"
# A request while no connection can be made (the pool has none left).
check_eq "down, second request: F rejects" reject "$(auth $RAD_F alice)"
check "standby started again" standby_start
t0=$(date +%s%N)
back() { # PORT : until PORT admits alice (30 tries)
	_i=0
	while [ $_i -lt 30 ]; do
		[ "$(auth "$1" alice)" = accept ] && return 0
		sleep 0.2
		_i=$((_i + 1))
	done
	return 1
}
check "back: F admits alice again" back $RAD_F
diag "F admitted again $((($(date +%s%N) - t0) / 1000000)) ms after the standby was ready"
check "back: N admits alice again" back $RAD_N
check "back: O admits alice again" back $RAD_O
diag "refusals by F meanwhile: $(since "$LOGF" "$mf" | grep -o 'store_[a-z]*' | sort | uniq -c | tr -s ' \n' ' ')"
check "F still running" kill -0 "$PID_F"
check "N still running" kill -0 "$PID_N"
for p in "$PID_F" "$PID_N" "$PID_O" "$PID_Z"; do stop_pid "$p"; done
PID_F=""
PID_N=""
PID_O=""
PID_Z=""

# --- T6: the PostgreSQL backends of one radiusd frozen -------------------------
# radiusd T (threaded: 8 threads at most, on_store_failure = fail) reads the
# primary; its sessions name themselves rad-t (readers) and rad-t-w (the
# writer of what RADIUS saw) in pg_stat_activity. Its backends stopped with
# SIGSTOP: PostgreSQL's own statement_timeout cannot fire in a stopped
# process and the kernel keeps acknowledging TCP, so only the reader's own
# deadline (1 s, common/store/pg.c) gets the thread back. Twice as many
# concurrent authentications as radiusd has threads: each is answered
# (admitted on a fresh connection, or rejected by a dropped one).
RAD_T=19706
sed -e "s|^conninfo = .*|conninfo = $CONN1 application_name=rad-t-w\nread_conninfo = $CONN1 application_name=rad-t|" \
	"$C1" >"$T/inst/t.conf" && chmod 0640 "$T/inst/t.conf"
PIDS_STOPPED=""
at_exit '[ -z "$PIDS_STOPPED" ] || kill -CONT $PIDS_STOPPED 2>/dev/null'
start_t() {
	RLM_PORT=$RAD_T RLM_CRTOKEN_CONF=$T/inst/t.conf RLM_DEBUG="-xx"
	RLM_MODULE_EXTRA="	on_store_failure = fail" rlm_write_config "$T/radT" crtoken &&
		rlm_start "$T/radT"
}
check "radiusd T (threaded, at most 8 threads) on the primary (UDP $RAD_T)" start_t
PID_T=$RLM_PID
RLM_PID=""
RLM_DEBUG=-X
at_exit 'stop_pid "$PID_T"'
LOGT=$T/radT/radiusd.log
# burst K TAG : K concurrent EAP-TLS authentications of alice against T;
# $T/TAG.res has one line per authentication: result wall-time-ms.
burst() {
	: >"$T/$2.res"
	_k=0
	_pids=""
	while [ $_k -lt "$1" ]; do
		(
			_t0=$(date +%s%N)
			RLM_PORT=$RAD_T RLM_EAPOL_EXTRA="-t 4"
			_r=$(rlm_eapol "$T/alice.pem" "$T/alice.key" "$T/$2.$_k.out" "$T/lab-ca.pem")
			echo "$_r $((($(date +%s%N) - _t0) / 1000000))" >>"$T/$2.res"
		) &
		_pids="$_pids $!"
		_k=$((_k + 1))
	done
	for _p in $_pids; do wait "$_p"; done
}
count() { grep -c "^$2 " "$T/$1.res"; }
maxms() { sort -k2 -n "$T/$1.res" | tail -n 1 | cut -d' ' -f2; }
burst 8 warm
check_eq "T admits 8 concurrent authentications (its pool opens connections)" 8 "$(count warm accept)"
diag "warm-up: slowest of 8 concurrent authentications $(maxms warm) ms"
PIDS_STOPPED=$(sql "$P1" "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE application_name IN ('rad-t', 'rad-t-w')")
NREAD=$(sql "$P1" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'rad-t'")
diag "T's backends: $NREAD readers (rad-t), $(sql "$P1" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'rad-t-w'") writer; pids $PIDS_STOPPED"
check "T has reader backends on the primary" test "${NREAD:-0}" -ge 1
m=$(wc -l <"$LOGT")
check "T's backends stopped (kill -STOP)" kill -STOP $PIDS_STOPPED
burst 16 frozen
diag "frozen: $(count frozen accept) admitted, $(count frozen reject) rejected, $(count frozen error) unanswered; wall times (ms): $(sort -k2 -n "$T/frozen.res" | cut -d' ' -f2 | tr '\n' ' ')"
check_eq "frozen: all 16 concurrent authentications answered within eapol_test's 4 s (twice T's threads)" 16 \
	"$(($(count frozen accept) + $(count frozen reject)))"
check "frozen: some were answered by dropped connections (rejected)" test "$(count frozen reject)" -ge 1
check_contains "frozen: T's log names the reader's deadline" \
	"no answer from PostgreSQL within 1000 ms" "$(since "$LOGT" "$m")"
diag "lookups cut off by the deadline: $(since "$LOGT" "$m" | grep -c 'ERROR: crtoken lookup of .* no answer from PostgreSQL within')"
check "frozen: radiusd T still running" kill -0 "$PID_T"
check "T's backends continued (kill -CONT)" kill -CONT $PIDS_STOPPED
STOPPED=$PIDS_STOPPED
PIDS_STOPPED=""
burst 8 after
check_eq "after: T admits 8 concurrent authentications" 8 "$(count after accept)"
diag "after: slowest of 8 $(maxms after) ms"
gone() { # the dropped readers' backends have ended
	_l=$(echo "$STOPPED" | tr ' ' ',')
	wait_sql "$P1" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'rad-t' AND pid IN ($_l)" 0 50
}
check "the backends T dropped have exited once continued" gone
check "radiusd T still running" kill -0 "$PID_T"
stop_pid "$PID_T"
PID_T=""

# --- T5: the primary dies, the standby is promoted -----------------------------
# radiusd P (on_store_failure = fail) reads "the first of primary, standby
# that answers" (a two-host read_conninfo); a second crtokend writes through
# a two-host conninfo with target_session_attrs=read-write, so after the
# promotion it keeps the heartbeat fresh on the new primary.
RAD_P=19713
HTTP2=19703
TWO="host=127.0.0.1,127.0.0.1 port=$P1,$P2 user=crtoken dbname=crtoken"
sed -e "s|^conninfo = .*|conninfo = $TWO target_session_attrs=read-write\nread_conninfo = $TWO|" \
	-e "s|^listen = 127.0.0.1:$HTTP1|listen = 127.0.0.1:$HTTP2|" \
	"$C1" >"$T/inst/two.conf" && chmod 0640 "$T/inst/two.conf"
"$BUILD/bin/crtokend" --config "$T/inst/two.conf" --foreground >>"$T/crtokend2.log" 2>&1 &
CRTOKEND2_PID=$!
at_exit 'stop_pid "$CRTOKEND2_PID"'
check "a second crtokend through the two-host conninfo (127.0.0.1:$HTTP2)" \
	wait_port 127.0.0.1 "$HTTP2" 100
start_p() {
	RLM_PORT=$RAD_P RLM_CRTOKEN_CONF=$T/inst/two.conf
	RLM_MODULE_EXTRA="	on_store_failure = fail" rlm_write_config "$T/radP" crtoken &&
		rlm_start "$T/radP"
}
check "radiusd P reading primary-then-standby (UDP $RAD_P)" start_p
PID_P=$RLM_PID
RLM_PID=""
at_exit 'stop_pid "$PID_P"'
LOGP=$T/radP/radiusd.log
check_eq "P admits alice (from the primary)" accept "$(auth $RAD_P alice)"
check "primary stopped (pg_ctl stop -m immediate)" \
	_pg_as "$PGBIN/pg_ctl" -D "$PGW/primary" -m immediate -w -t 30 stop
t0=$(date +%s%N)
# until P admits again (from the standby): its answers in order
seq=""
_i=0
while [ $_i -lt 20 ]; do
	r=$(auth $RAD_P alice)
	seq="$seq $r"
	[ "$r" = accept ] && break
	_i=$((_i + 1))
	sleep 0.1
done
diag "primary down: P's answers until admitted again:$seq ($((($(date +%s%N) - t0) / 1000000)) ms)"
check_eq "primary down: P admits alice again, from the standby" accept "$r"
# Each pooled connection to the dead primary fails at once; the module
# replaces it and looks up once more: no reject while the standby answers.
check_eq "primary down: P's first answer is an admission (lookup retried on a new connection)" \
	accept "${seq# }"
check_contains "P's log: the retry" "failed at once" "$(cat "$LOGP")"
check "the standby promoted (pg_ctl promote)" _pg_as "$PGBIN/pg_ctl" -D "$PGW/standby" -w -t 30 promote
check_eq "the promoted standby is a primary" f "$(sql "$P2" 'SELECT pg_is_in_recovery()')"
# the second crtokend's heartbeat on the new primary, and past the
# staleness window since the old primary died
after_window() {
	wait_hb "$P2" -le 3 100 || return 1
	while [ $((($(date +%s%N) - t0) / 1000000)) -lt 7000 ]; do sleep 0.2; done
	wait_hb "$P2" -le 3 100
}
check "the new primary's heartbeat is fresh, 7 s after the old one died" after_window
check_eq "after the failover: P admits alice (not stale)" accept "$(auth $RAD_P alice)"
A2() { "$ADMIN" --config "$T/inst/two.conf" "$@"; }
carol() {
	_j=$(A2 token create --name carol --cn carol --json) && make_csr "$T" carol &&
		A2 redeem "$(json_get "$_j" token)" --csr "$T/carol.csr" --out "$T/carol.pem" --json \
		>/dev/null
}
check "carol redeemed on the new primary (two-host conninfo)" carol
check_eq "P admits carol" accept "$(auth $RAD_P carol)"
check "P still running" kill -0 "$PID_P"

finish
