#!/bin/sh
# t_multinode.sh — crtoken on several servers (MULTINODE.md §3.5, §3.8, §6.3):
# a PostgreSQL primary (127.0.0.1:19670) and a streaming hot standby made by
# pg_basebackup -R (19671), crtokend on the primary (19672, it keeps the
# heartbeat), radiusd A reading the primary (UDP 19674) and radiusd B
# reading the standby through read_conninfo (UDP 19675), eapol_test doing
# EAP-TLS against each:
#   - a certificate redeemed on the primary is admitted by A and by B;
#   - revoked through crtoken-admin on the primary: the standby has the
#     revocation within 2 s and B rejects;
#   - [store] max_staleness = 5, replay paused on the standby until its
#     heartbeat is older than 5 s: B refuses (store_stale in its log,
#     Access-Reject) while A still admits; replay resumed: B admits again.
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

P1=19670 # PostgreSQL primary
P2=19671 # PostgreSQL standby
HTTP1=19672
RAD_A=19674
RAD_B=19675
# PostgreSQL runs as the postgres user, who cannot enter $T (0700).
PGW=$(mktemp -d "${TMPDIR:-/tmp}/crtoken-mn.XXXXXX") || exit 1
chown postgres: "$PGW" 2>/dev/null
PID_A=""
PID_B=""
CRTOKEND_PID=""

mn_stop() {
	stop_pid "$PID_A"
	stop_pid "$PID_B"
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
pg_standby() {
	_pg_as "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$P1" -U crtoken -D "$PGW/standby" -R -c fast \
		-X stream >"$PGW/basebackup.log" 2>&1 || { cat "$PGW/basebackup.log"; return 1; }
	_pg_as "$PGBIN/pg_ctl" -D "$PGW/standby" -l "$PGW/standby.log" -w -t 30 -o \
		"-c listen_addresses=127.0.0.1 -p $P2 -c unix_socket_directories=$PGW -c hot_standby=on -c wal_receiver_status_interval=1" \
		start >/dev/null 2>&1 || { tail -5 "$PGW/standby.log"; return 1; }
}
check "PostgreSQL primary on 127.0.0.1:$P1" pg_primary
check "streaming standby from pg_basebackup -R on 127.0.0.1:$P2" pg_standby
check_eq "the standby is in recovery (hot standby)" t "$(sql "$P2" 'SELECT pg_is_in_recovery()')"

CONN1="host=127.0.0.1 port=$P1 user=crtoken dbname=crtoken"
CONN2="host=127.0.0.1 port=$P2 user=crtoken dbname=crtoken"

# --- one instance on the primary ------------------------------------------
check "crtoken instance (SQLite), copied to the primary (store copy)" sh -c \
	"'$ADMIN' init --dir '$T/inst' >/dev/null && '$ADMIN' --config '$T/inst/crtoken.conf' store copy --to postgresql --conninfo '$CONN1' >/dev/null"
# conf NAME EXTRA : the instance config on PostgreSQL, with EXTRA [store] lines.
conf() {
	sed -e "s|^\[store\]|[store]\nbackend = postgresql\nconninfo = $CONN1\nmax_staleness = 5$2|" \
		-e "s|^;*listen *=.*|listen = 127.0.0.1:$HTTP1|" \
		-e "s|^;*plain_http *=.*|plain_http = yes|" \
		-e "s|^;*require_login *=.*|require_login = no|" \
		-e "s|^;*rate_limit_failures *=.*|rate_limit_failures = 1000|" \
		"$T/inst/crtoken.conf" >"$T/inst/$1.conf" && chmod 0640 "$T/inst/$1.conf"
}
conf primary ""
conf standby "\nread_conninfo = $CONN2"
C1=$T/inst/primary.conf
A() { "$ADMIN" --config "$C1" "$@"; }
check_contains "crtoken-admin store status on the primary" primary "$(A store status --json)"

"$BUILD/bin/crtokend" --config "$C1" --foreground >>"$T/crtokend.log" 2>&1 &
CRTOKEND_PID=$!
check "crtokend on the primary (127.0.0.1:$HTTP1, keeps the heartbeat)" wait_port 127.0.0.1 "$HTTP1" 100

# --- two radiusd -------------------------------------------------------------
check "lab CA and radiusd server certificate" rlm_lab_ca "$T"
cat "$T/inst/ca.pem" "$T/lab-ca.pem" >"$T/client-cas.pem"
RLM_SERVER_CERT=$T/server.pem
RLM_SERVER_KEY=$T/server.key
RLM_CLIENT_CAS=$T/client-cas.pem
start_radiusd() { # NAME PORT CONF
	RLM_PORT=$2 RLM_CRTOKEN_CONF=$3
	rlm_write_config "$T/rad$1" crtoken && rlm_start "$T/rad$1"
}
check "radiusd A on the primary (UDP $RAD_A)" start_radiusd A "$RAD_A" "$C1"
PID_A=$RLM_PID
check "radiusd B on the standby via read_conninfo (UDP $RAD_B)" start_radiusd B "$RAD_B" \
	"$T/inst/standby.conf"
PID_B=$RLM_PID
LOGB=$T/radB/radiusd.log

# auth PORT NAME : EAP-TLS with $T/NAME.pem against the radiusd at PORT.
auth() {
	RLM_PORT=$1
	rlm_eapol "$T/$2.pem" "$T/$2.key" "$T/$2.$1.out" "$T/lab-ca.pem"
}
# wait_sql PORT SQL WANT TENTHS : poll until SQL answers WANT.
wait_sql() {
	_i=0
	while [ $_i -lt "$4" ]; do
		[ "$(sql "$1" "$2")" = "$3" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# --- redeemed on the primary, admitted by both --------------------------------
issue() {
	_j=$(A token create --name "$1" --cn "$1" --json) && make_csr "$T" "$1" &&
		_r=$(A redeem "$(json_get "$_j" token)" --csr "$T/$1.csr" --out "$T/$1.pem" --json) &&
		json_get "$_r" serial >"$T/$1.serial"
}
check "alice redeemed on the primary" issue alice
S=$(cat "$T/alice.serial")
check "the standby has alice's certificate (streamed)" \
	wait_sql "$P2" "SELECT count(*) FROM certificates WHERE serial = '$S'" 1 50
check_eq "radiusd A (primary) admits alice" accept "$(auth $RAD_A alice)"
check_eq "radiusd B (standby) admits alice" accept "$(auth $RAD_B alice)"
check_contains "B's module admitted her serial" "Certificate $S issued by crtoken: admitted" \
	"$(cat "$LOGB")"

# --- revoked on the primary: B rejects within 2 s ------------------------------
check "bob redeemed on the primary" issue bob
SB=$(cat "$T/bob.serial")
check "the standby has bob's certificate" \
	wait_sql "$P2" "SELECT count(*) FROM certificates WHERE serial = '$SB'" 1 50
check_eq "B admits bob before the revocation" accept "$(auth $RAD_B bob)"
check "bob revoked through crtoken-admin on the primary" A cert revoke "$SB"
check "the standby has the revocation within 2 s" \
	wait_sql "$P2" "SELECT count(*) FROM certificates WHERE serial = '$SB' AND revoked_at IS NOT NULL" 1 20
check_eq "B rejects bob (revoked)" reject "$(auth $RAD_B bob)"
check_eq "A rejects bob (revoked)" reject "$(auth $RAD_A bob)"

# --- a standby that stopped replaying: store_stale --------------------------
check "heartbeat present on the standby" \
	wait_sql "$P2" "SELECT count(*) > 0 FROM meta WHERE key = 'heartbeat'" t 50
check_eq "replay paused on the standby" "" "$(sql "$P2" 'SELECT pg_wal_replay_pause()')"
# older than 5 s: the standby's heartbeat (frozen) against the clock
stale() {
	_i=0
	while [ $_i -lt 150 ]; do
		_hb=$(sql "$P2" "SELECT value FROM meta WHERE key = 'heartbeat'")
		case "$_hb" in '' | *[!0-9]*) ;; *) [ $(($(date +%s) - _hb)) -gt 6 ] && return 0 ;; esac
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
check "the standby's heartbeat is older than max_staleness (5 s)" stale
m=$(wc -l <"$LOGB")
check_eq "B refuses alice on the stale standby (Access-Reject)" reject "$(auth $RAD_B alice)"
check_contains "B's log names store_stale" store_stale "$(tail -n "+$((m + 1))" "$LOGB")"
check_eq "A (primary, fresh heartbeat) still admits alice" accept "$(auth $RAD_A alice)"
check_eq "replay resumed on the standby" "" "$(sql "$P2" 'SELECT pg_wal_replay_resume()')"
fresh() {
	_i=0
	while [ $_i -lt 100 ]; do
		_hb=$(sql "$P2" "SELECT value FROM meta WHERE key = 'heartbeat'")
		case "$_hb" in '' | *[!0-9]*) ;; *) [ $(($(date +%s) - _hb)) -le 3 ] && return 0 ;; esac
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
check "the standby's heartbeat is fresh again" fresh
check_eq "B admits alice again" accept "$(auth $RAD_B alice)"


# --- T1: each token redeemed by 8 concurrent clients split across two
# crtokend on the primary: exactly one certificate each (the losers' refusals
# would reach the per-address limit on loopback: rate_limit_failures = 1000)
HTTP2=19673
sed -e "s|^listen = 127.0.0.1:$HTTP1|listen = 127.0.0.1:$HTTP2|" "$C1" >"$T/inst/node2.conf" &&
	chmod 0640 "$T/inst/node2.conf"
"$BUILD/bin/crtokend" --config "$T/inst/node2.conf" --foreground >>"$T/crtokend2.log" 2>&1 &
CRTOKEND2_PID=$!
at_exit 'stop_pid "$CRTOKEND2_PID"'
check "a second crtokend on the primary (127.0.0.1:$HTTP2)" wait_port 127.0.0.1 "$HTTP2" 100
make_csr "$T" race
$PY -c 'import json,sys; print(json.dumps({"type": "CSR", "value": open(sys.argv[1]).read()}))' \
	"$T/race.csr" >"$T/race.body"
wins=""
for k in 1 2 3 4 5; do
	tok=$(json_get "$(A token create --name "race-$k" --cn "race$k" --json)" token)
	pids=""
	for c in 1 2 3 4 5 6 7 8; do
		port=$HTTP1
		[ $((c % 2)) -eq 0 ] && port=$HTTP2
		curl -sS -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
			--data-binary @"$T/race.body" \
			"http://127.0.0.1:$port/client-certificates/token/$tok" >"$T/race.$k.$c" 2>&1 &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p"; done
	wins="$wins $(cat "$T"/race.$k.* | grep -c '^201$')"
	diag "token $k: $(cat "$T"/race.$k.* | sort | uniq -c | tr -s ' \n' ' ')"
done
check_eq "8 concurrent redemptions per token on two nodes: one 201 each" " 1 1 1 1 1" "$wins"
check_eq "exactly one certificate per token in the store" "1 1 1 1 1" \
	"$(sql "$P1" "SELECT string_agg(n::text, ' ' ORDER BY name) FROM (SELECT name, count(*) AS n FROM certificates WHERE name LIKE 'race-%' GROUP BY name) x")"

finish
