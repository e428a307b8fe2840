#!/bin/sh
# t_pg_frozen.sh — writers against a PostgreSQL primary that stops answering
# (issue 11's open gap; MULTINODE.md §6.3). A primary frozen with kill -STOP
# (postmaster and every backend) cannot answer, yet the kernel keeps
# acknowledging TCP: the server's own statement_timeout cannot fire in a
# stopped process and keepalives never fail, so only the writer's own
# deadline ([store] write_timeout_ms, 2000 ms here; common/store/pg.c) gets it
# back. Every answer below is asserted within BOUND = 3 x that deadline (a
# generous bound: the machine is shared), never timed more tightly.
#   primary 127.0.0.1:19060 (fsync off), a streaming standby (19061),
#   crtokend D (19062, plain HTTP) and D0 (19065, statement_timeout_ms = 0),
#   crtokend R (19063, HTTPS, renewal), radiusd (UDP 19064; pin_mac = first,
#   reading the standby, its MAC pins written to the primary).
#   F1  four clients redeeming through D, the primary frozen for 7 s: every
#       answer within BOUND (503 while frozen, workers never held), then
#       redemptions again after kill -CONT; every serial a client received
#       is stored, no token has two certificates, none is half-redeemed.
#   F2  crtoken-admin token create on a frozen primary (new connection:
#       connect_timeout) and frozen in its transaction (waiting for a row
#       lock, then frozen): store_unavailable within BOUND, nothing written.
#   F3  the COMMIT sent and never answered (a synchronous standby that does
#       not exist, no server statement_timeout): crtoken-admin says
#       store_commit_unknown within BOUND (and PostgreSQL then decides); a
#       redemption and a renewal resolve it — the session that received the
#       COMMIT is ended first (pg_terminate_backend), so the read-back is
#       final: 201 with the serial of phase 1.
#   F4  a renewal whose COMMIT is lost and cannot be read back (PostgreSQL
#       killed while the COMMIT waits): 503 store_commit_unknown with
#       Retry-After (it was a 500); sent again: renewed already (403).
#   F5  radiusd's MAC pin (pin_mac = first) on a frozen primary: the first
#       admission fails closed (Access-Reject) within BOUND, radiusd alive;
#       after kill -CONT nothing was pinned, and the next admission pins.
# Everything runs on loopback; every server is stopped by PID on exit (and
# continued first if a check failed while it was frozen).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
. "$(dirname "$0")/http_lib.sh"
RLM_SRC=$TOP/rlm_crtoken
. "$TOP/tests/integration/radius_lib.sh"
RLM_BUILD=$BUILD

if ! pkg-config --exists libpq; then
	ok "# SKIP built without libpq"
	finish
	exit 0
fi
require_programs psql /usr/sbin/freeradius eapol_test curl "$PGBIN/initdb" "$PGBIN/pg_basebackup" \
	"$ADMIN" "$CRTOKEND" "$BUILD/lib/rlm_crtoken.so"

P1=19060  # PostgreSQL primary
P2=19061  # its standby (radiusd reads it)
HD=19062  # crtokend D
HR=19063  # crtokend R (HTTPS)
RAD=19064 # radiusd
HD0=19065 # crtokend D0 (no server-side statement_timeout)
WT=2000   # [store] write_timeout_ms of every writer here
BOUND=6   # seconds: 3 x WT
PGW=$(mktemp -d "${TMPDIR:-/tmp}/crtoken-pgf.XXXXXX") || exit 1
chown postgres: "$PGW" 2>/dev/null
FROZEN=""
PIDS=""
thaw() {
	[ -z "$FROZEN" ] || kill -CONT $FROZEN 2>/dev/null
	FROZEN=""
}
pgf_stop() {
	thaw
	for _p in $PIDS; do stop_pid "$_p"; done
	for _d in "$PGW/standby" "$PGW/primary"; do
		[ -f "$_d/postmaster.pid" ] || continue
		_pg_as "$PGBIN/pg_ctl" -D "$_d" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
			kill -9 "$(head -n 1 "$_d/postmaster.pid")" 2>/dev/null
	done
	rm -rf "$PGW"
}
at_exit pgf_stop

sql() { psql -X -At -h 127.0.0.1 -p "$P1" -U crtoken -d crtoken -c "$1" 2>&1; }
sql2() { psql -X -At -h 127.0.0.1 -p "$P2" -U crtoken -d crtoken -c "$1" 2>&1; }
pg_up() {
	_pg_as "$PGBIN/pg_ctl" -D "$PGW/primary" -l "$PGW/primary.log" -w -t 30 -o \
		"-c listen_addresses=127.0.0.1 -p $P1 -c unix_socket_directories=$PGW -c shared_buffers=32MB -c fsync=off -c full_page_writes=off -c wal_level=replica -c max_wal_senders=4" \
		start >/dev/null 2>&1 || { tail -5 "$PGW/primary.log"; return 1; }
}
pg_primary() {
	pg_initdb "$PGW/primary" || return 1
	pg_up && psql -X -q -h 127.0.0.1 -p "$P1" -U crtoken -d postgres -c 'CREATE DATABASE crtoken' >/dev/null
}
pg_standby() {
	_pg_as "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$P1" -U crtoken -D "$PGW/standby" -R -c fast \
		-X stream >"$PGW/basebackup.log" 2>&1 || { cat "$PGW/basebackup.log"; return 1; }
	_pg_as "$PGBIN/pg_ctl" -D "$PGW/standby" -l "$PGW/standby.log" -w -t 30 -o \
		"-c listen_addresses=127.0.0.1 -p $P2 -c unix_socket_directories=$PGW -c hot_standby=on -c fsync=off" \
		start >/dev/null 2>&1 || { tail -5 "$PGW/standby.log"; return 1; }
}
check "PostgreSQL primary on 127.0.0.1:$P1" pg_primary
check "a streaming standby (pg_basebackup -R) on 127.0.0.1:$P2" pg_standby
CONN1="host=127.0.0.1 port=$P1 user=crtoken dbname=crtoken"
CONN2="host=127.0.0.1 port=$P2 user=crtoken dbname=crtoken"

# freeze : the primary's postmaster stopped (it starts no backend after
# that), then every process it had started.
freeze() {
	_pm=$(head -n 1 "$PGW/primary/postmaster.pid")
	kill -STOP "$_pm"
	FROZEN="$_pm $(awk '{ print $1, $4 }' /proc/[0-9]*/stat 2>/dev/null |
		awk -v pm="$_pm" '$2 == pm { printf "%s ", $1 }')"
	kill -STOP $FROZEN 2>/dev/null # one may have exited meanwhile
}
now_ms() { date +%s%3N; }
# within MS : MS (elapsed milliseconds) is at most BOUND seconds
within() { [ "$1" -le $((BOUND * 1000)) ]; }

check "crtoken instance (SQLite) copied to the primary (store copy)" sh -c \
	"'$ADMIN' init --dir '$T/inst' >/dev/null && '$ADMIN' --config '$T/inst/crtoken.conf' store copy --to postgresql --conninfo '$CONN1' >/dev/null"
# node NAME PORT [STORE-LINES] : NAME's config on the primary (its sessions
# named NAME in pg_stat_activity), write_timeout_ms = WT, the server's
# statement_timeout 1000 ms unless STORE-LINES say otherwise.
node() {
	sed -e "s|^\[store\]|[store]\nbackend = postgresql\nconninfo = $CONN1 application_name=$1\nwrite_timeout_ms = $WT\n${3:-statement_timeout_ms = 1000}|" \
		-e "s|^;*listen *=.*|listen = 127.0.0.1:$2|" \
		-e "s|^;*plain_http *=.*|plain_http = yes|" \
		-e "s|^;*require_login *=.*|require_login = no|" \
		-e "s|^;*rate_limit_failures *=.*|rate_limit_failures = 100000|" \
		-e "s|^;*cert_days *=.*|cert_days = 10|" \
		"$T/inst/crtoken.conf" >"$T/inst/$1.conf" && chmod 0640 "$T/inst/$1.conf"
}
node admin 0
node admin0 0 "statement_timeout_ms = 0"
A() { "$ADMIN" --config "$T/inst/admin.conf" "$@"; }
A0() { "$ADMIN" --config "$T/inst/admin0.conf" "$@"; }
# start NAME PORT : crtokend with NAME's config, log $T/NAME.log
start() {
	"$CRTOKEND" --config "$T/inst/$1.conf" --foreground >>"$T/$1.log" 2>&1 &
	NODE_PID=$!
	PIDS="$PIDS $NODE_PID"
	wait_port 127.0.0.1 "$2" 100 && kill -0 "$NODE_PID" 2>/dev/null
}
tokens() {
	A token create --name "$2" --cn dev --count "$1" --json |
		$PY -c 'import json,sys; print("\n".join(t["token"] for t in json.load(sys.stdin)))' >"$T/$2.tokens"
}
make_csr "$T" dev
$PY -c 'import json,sys; print(json.dumps({"type": "CSR", "value": open(sys.argv[1]).read()}))' \
	"$T/dev.csr" >"$T/dev.body"
consistent() {
	sql "SELECT (SELECT count(*) FROM (SELECT token_id FROM certificates WHERE token_id IS NOT NULL GROUP BY token_id HAVING count(*) > 1) d) || ' ' ||
		(SELECT count(*) FROM tokens t WHERE t.used_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.serial = t.serial AND c.token_id = t.id)) || ' ' ||
		(SELECT count(*) FROM certificates c JOIN tokens t ON t.id = c.token_id WHERE t.used_at IS NULL)"
}

# --- F1: redemptions while the primary is frozen ----------------------------
node d "$HD"
check "crtokend D on the primary (127.0.0.1:$HD, write_timeout_ms = $WT)" start d "$HD"
PID_D=$NODE_PID
tokens 600 load
STOP=$T/load.stop
MN_DELAY=0.05 $PY "$TOP/tests/integration/mn_faults.py" load "http://127.0.0.1:$HD" \
	"$T/load.tokens" "$T/dev.body" 4 "$T/load.events" "$STOP" &
LOAD_PID=$!
at_exit 'touch "$STOP"; stop_pid "$LOAD_PID"'
sleep 1.5
freeze
t_freeze=$(date +%s.%N)
sleep 7
t_thaw=$(date +%s.%N)
thaw
sleep 3
touch "$STOP"
wait "$LOAD_PID"
LOAD_PID=""
echo "$t_freeze $t_freeze $t_thaw $t_thaw" >"$T/cycles"
$PY "$TOP/tests/integration/mn_faults.py" summary "$T/load.events" "$T/cycles" >"$T/load.sum"
sget() { sed -n "s/^$1 //p" "$T/load.sum"; }
diag "F1: $(sget answers) answers ($(sget by_status)); codes: $(sget codes)"
diag "F1: slowest answer $(sget latency_max) s; answered while frozen: $(sget down_answers); first 201 after kill -CONT: $(sget resume) s"
$PY - "$T/load.events" "$t_freeze" "$t_thaw" <<'EOF' | sed 's/^/# F1: /'
import sys
ev = [l.split() for l in open(sys.argv[1]) if l.strip()]
f, t = float(sys.argv[2]), float(sys.argv[3])
inside = sorted(float(e[1]) - float(e[0]) for e in ev if float(e[1]) > f and float(e[0]) < t)
if inside:
    print("answers overlapping the freeze: %d, seconds min %.2f median %.2f max %.2f" %
          (len(inside), inside[0], inside[len(inside) // 2], inside[-1]))
EOF
check "crtokend D is still running" kill -0 "$PID_D"
check_eq "only 201 and 503 (409 token_used after a 503): no 500, no connection error" 0 \
	"$(sget bad | cut -d' ' -f1)"
[ "$(sget bad | cut -d' ' -f1)" = 0 ] || diag "other answers: $(sget bad)"
check "every answer within $BOUND s (3 x write_timeout_ms; slowest $(sget latency_max) s)" \
	$PY -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)' \
	"$(sget latency_max)" "$BOUND"
check "requests sent while frozen were answered while frozen (workers not held): $(sget down_answers)" \
	test "$(sget down_answers)" -ge 4
check_eq "... each with 503" 0 "$(sget down_non503)"
check "redemptions again after kill -CONT (first 201 $(sget resume) s after it)" \
	$PY -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)' \
	"$(sget resume)" "$BOUND"
check "... and the load went on ($(sget after_last) redemptions after kill -CONT)" \
	test "$(sget after_last)" -gt 0
check_contains "D's log names the writer's deadline" \
	"no answer from PostgreSQL within $WT ms ([store] write_timeout_ms" "$(cat "$T/d.log")"
cut -d' ' -f7 "$T/load.events" | grep -v '^-$' | sort >"$T/load.serials"
sql "SELECT serial FROM certificates" | sort >"$T/store.serials"
check_eq "every serial a client received is stored" "" "$(comm -23 "$T/load.serials" "$T/store.serials")"
check_eq "no serial was received twice" "" "$(uniq -d "$T/load.serials")"
check_eq "no token has two certificates, none half-redeemed (used without its certificate, or the reverse)" \
	"0 0 0" "$(consistent)"

# --- F2: crtoken-admin token create on a frozen primary -----------------------
freeze
t0=$(now_ms)
A token create --name frozen-a --cn dev >"$T/f2a.out" 2>"$T/f2a.err"
rc=$?
t1=$(now_ms)
thaw
diag "F2: token create on a frozen primary (a new connection): exit $rc after $((t1 - t0)) ms: $(head -c 200 "$T/f2a.err")"
check "... fails" test "$rc" -ne 0
check_contains "... with store_unavailable" store_unavailable "$(cat "$T/f2a.err")"
check "... within $BOUND s ($((t1 - t0)) ms; connect_timeout bounds a new connection)" within $((t1 - t0))
check_eq "... no such token after kill -CONT" 0 "$(sql "SELECT count(*) FROM tokens WHERE name = 'frozen-a'")"

# Frozen in its transaction: a row lock held elsewhere keeps token create
# waiting in its INSERT (statement_timeout_ms = 0: the server cancels
# nothing), then the primary is frozen.
PGAPPNAME=holder psql -X -q -h 127.0.0.1 -p "$P1" -U crtoken -d crtoken \
	-c "BEGIN; LOCK TABLE tokens IN SHARE MODE; SELECT pg_sleep(60); COMMIT" >/dev/null 2>&1 &
HOLDER=$!
wait_sql() { # SQL VALUE TRIES(x50 ms)
	_i=0
	while [ $_i -lt "$3" ]; do
		[ "$(sql "$1")" = "$2" ] && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	return 1
}
check "a session holds a SHARE lock on tokens" wait_sql \
	"SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE a.application_name = 'holder' AND l.mode = 'ShareLock' AND l.granted" 1 100
t0=$(now_ms)
A0 token create --name frozen-b --cn dev >"$T/f2b.out" 2>"$T/f2b.err" &
ADM=$!
check "token create waits for the lock in its transaction" wait_sql \
	"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'admin0' AND wait_event_type = 'Lock'" 1 100
freeze
wait "$ADM"
rc=$?
t1=$(now_ms)
thaw
diag "F2: token create frozen in its transaction: exit $rc after $((t1 - t0)) ms: $(head -c 200 "$T/f2b.err")"
check "... fails" test "$rc" -ne 0
check_contains "... with store_unavailable: no answer within write_timeout_ms" \
	"no answer from PostgreSQL within $WT ms" "$(cat "$T/f2b.err")"
check "... within $BOUND s ($((t1 - t0)) ms)" within $((t1 - t0))
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'holder'" >/dev/null
wait "$HOLDER" 2>/dev/null
check "its server session ends after kill -CONT (the connection was dropped)" wait_sql \
	"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'admin0'" 0 100
check_eq "... nothing written: no token, no audit row" "0 0" \
	"$(sql "SELECT (SELECT count(*) FROM tokens WHERE name = 'frozen-b') || ' ' || (SELECT count(*) FROM audit WHERE action = 'token.create' AND detail LIKE '%frozen-b%')")"
check_eq "crtoken-admin works again" 0 "$(A token create --name after-f2 --cn dev >/dev/null 2>&1; echo $?)"

# --- F3: the COMMIT sent and never answered ----------------------------------
# A synchronous standby that does not exist: every COMMIT (synchronous_commit
# on: [store] durability = full) waits for it after committing locally.
nosync() {
	sql "ALTER SYSTEM SET synchronous_standby_names = '$1'" >/dev/null &&
		sql "SELECT pg_reload_conf()" >/dev/null
}
nosync pgf_nosuch
t0=$(now_ms)
A0 token create --name commit-c --cn dev >"$T/f3.out" 2>"$T/f3.err"
rc=$?
t1=$(now_ms)
diag "F3: token create whose COMMIT is not answered: exit $rc after $((t1 - t0)) ms: $(head -c 200 "$T/f3.err")"
check_contains "... store_commit_unknown (the COMMIT was sent)" store_commit_unknown "$(cat "$T/f3.err")"
check "... within $BOUND s ($((t1 - t0)) ms)" within $((t1 - t0))
nosync ""
check "the server then decides: committed (the token and its audit row, once)" wait_sql \
	"SELECT (SELECT count(*) FROM tokens WHERE name = 'commit-c') || ' ' || (SELECT count(*) FROM audit WHERE action = 'token.create' AND detail LIKE '%commit-c%')" "1 1" 100

# A redemption through D0 (no statement_timeout): its COMMIT unanswered,
# the session that has it ended, the outcome read back: 201.
node d0 "$HD0" "statement_timeout_ms = 0"
check "crtokend D0 (127.0.0.1:$HD0, statement_timeout_ms = 0)" start d0 "$HD0"
PID_D0=$NODE_PID
tokens 1 f3
nosync pgf_nosuch
m=$(wc -l <"$PGW/primary.log")
t0=$(now_ms)
st=$(curl -s -m 30 -o "$T/f3r.body" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary @"$T/dev.body" "http://127.0.0.1:$HD0/client-certificates/token/$(cat "$T/f3.tokens")")
t1=$(now_ms)
nosync ""
diag "F3: redemption whose COMMIT is not answered: $st after $((t1 - t0)) ms"
check_eq "... 201 (resolved by the phase-1 serial)" 201 "$st"
check "... within $BOUND s ($((t1 - t0)) ms)" within $((t1 - t0))
check_eq "... the token is used by that serial" 1 \
	"$(sql "SELECT count(*) FROM tokens WHERE serial = '$(jget "$T/f3r.body" "d['serial']" 2>/dev/null)' AND used_at IS NOT NULL")"
check_contains "... the session of the lost COMMIT was ended first (committed locally)" \
	"has already committed locally" "$(tail -n "+$((m + 1))" "$PGW/primary.log")"
check_eq "the store is consistent" "0 0 0" "$(consistent)"

# --- renewal (crtokend R, HTTPS) ----------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	-keyout "$T/inst/tls.key" -out "$T/inst/tls.pem" 2>/dev/null
# rnode NAME WRITE_TIMEOUT : R's config (HTTPS, renewal on)
rnode() {
	node "$1" "$HR" "statement_timeout_ms = 0" &&
		sed -i -e "s|^write_timeout_ms = $WT\$|write_timeout_ms = $2|" \
			-e "s|^plain_http = yes|plain_http = no|" \
			-e "s|^;*tls_cert *=.*|tls_cert = tls.pem|" -e "s|^;*tls_key *=.*|tls_key = tls.key|" \
			"$T/inst/$1.conf" &&
		$PY - "$T/inst/$1.conf" <<'EOF'
import re, sys
p = sys.argv[1]
out, sect = [], None
for line in open(p):
    m = re.match(r"\[(\w+)\]", line)
    if m:
        sect = m.group(1)
    elif sect == "renewal" and re.match(r";?enabled *=", line):
        line = "enabled = yes\n"
    out.append(line)
open(p, "w").write("".join(out))
EOF
}
# issue NAME : NAME.pem / NAME.key, redeemed with crtoken-admin
issue() {
	make_csr "$T" "$1" &&
		_tok=$(A token create --name "$1" --cn "$1" --owner "u-$1" --json | jget - "d['token']") &&
		A redeem "$_tok" --csr "$T/$1.csr" --user "u-$1" --out "$T/$1.pem" >/dev/null
}
serial_of() { openssl x509 -in "$1" -noout -serial | sed 's/serial=//' | tr 'A-F' 'a-f' | sed 's/^\(00\)*//'; }
# renew NAME NEWKEY OUT : POST a CSR for NEWKEY presenting NAME's certificate
renew() {
	make_csr "$T" "$2" &&
		$PY -c 'import json,sys; print(json.dumps({"csr": open(sys.argv[1]).read()}))' "$T/$2.csr" \
			>"$T/$2.json" &&
		curl -s -m 30 --cacert "$T/inst/tls.pem" --cert "$T/$1.pem" --key "$T/$1.key" \
			-D "$T/$3.hdr" -o "$T/$3.body" -w '%{http_code}' -H 'Content-Type: application/json' \
			--data-binary @"$T/$2.json" "https://127.0.0.1:$HR/client-certificates/renew"
}
rcode() { jget "$T/$1.body" "d['error']['code']" 2>/dev/null; }
renewals_of() { sql "SELECT count(*) FROM certificates WHERE renewed_from = '$1'"; }

check "alice's and bob's certificates" sh -c 'true' && issue alice && issue bob
rnode r "$WT"
check "crtokend R (https://127.0.0.1:$HR, renewal, write_timeout_ms = $WT)" start r "$HR"
PID_R=$NODE_PID
nosync pgf_nosuch
t0=$(now_ms)
st=$(renew alice alice2 f3n)
t1=$(now_ms)
nosync ""
diag "F3: renewal whose COMMIT is not answered: $st after $((t1 - t0)) ms"
check_eq "... 201 (resolved: the session ended, the new certificate read back)" 201 "$st"
check "... within $BOUND s ($((t1 - t0)) ms)" within $((t1 - t0))
check_eq "... alice's certificate renewed once" 1 "$(renewals_of "$(serial_of "$T/alice.pem")")"

# --- F4: a renewal whose COMMIT is lost for good: 503, not 500 -----------------
# R without a client deadline (write_timeout_ms = 0), so that the COMMIT
# waits until PostgreSQL is killed under it; the read-back fails too.
stop_pid "$PID_R"
rnode r0 0
check "crtokend R again, write_timeout_ms = 0" start r0 "$HR"
PID_R=$NODE_PID
nosync pgf_nosuch
renew bob bob2 f4 >"$T/f4.st" &
RENEW=$!
check "bob's renewal waits in its COMMIT (for the synchronous standby)" wait_sql \
	"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'r0' AND wait_event = 'SyncRep'" 1 200
_pg_as "$PGBIN/pg_ctl" -D "$PGW/primary" -m immediate -w -t 30 stop >/dev/null 2>&1
wait "$RENEW"
check_eq "PostgreSQL killed during the renewal's COMMIT: 503 store_commit_unknown" \
	"503 store_commit_unknown" "$(cat "$T/f4.st") $(rcode f4)"
check_eq "... with Retry-After" 1 "$(grep -ci '^retry-after: 1' "$T/f4.hdr")"
_pg_as sed -i '/synchronous_standby_names/d' "$PGW/primary/postgresql.auto.conf"
check "PostgreSQL started again (no synchronous standby named)" pg_up
st=$(renew bob bob3 f4b)
check_eq "the renewal sent again: 403 renewal_not_allowed (it had committed)" \
	"403 renewal_not_allowed" "$st $(rcode f4b)"
check_eq "... bob's certificate renewed exactly once" 1 "$(renewals_of "$(serial_of "$T/bob.pem")")"
check "crtokend R is still running" kill -0 "$PID_R"

# --- F5: radiusd's MAC pin on a frozen primary --------------------------------
check "lab CA and radiusd server certificate" rlm_lab_ca "$T"
cat "$T/inst/ca.pem" "$T/lab-ca.pem" >"$T/client-cas.pem"
RLM_SERVER_CERT=$T/server.pem
RLM_SERVER_KEY=$T/server.key
RLM_CLIENT_CAS=$T/client-cas.pem
node rad 0
sed -i -e "s|^conninfo = .*|conninfo = $CONN1 application_name=rad-w\nread_conninfo = $CONN2 application_name=rad|" \
	-e 's|^;*pin_mac *=.*|pin_mac = first|' "$T/inst/rad.conf"
check_eq "radiusd's config: pin_mac = first, reads the standby" 2 \
	"$(grep -c -e '^pin_mac = first' -e "^read_conninfo = $CONN2" "$T/inst/rad.conf")"
check "carol's and dave's certificates" sh -c 'true' && issue carol && issue dave
check "the standby has them" sh -c "for i in \$(seq 100); do [ \"\$(psql -X -At -h 127.0.0.1 -p $P2 -U crtoken -d crtoken -c \"SELECT count(*) FROM certificates WHERE cn IN ('carol', 'dave')\")\" = 2 ] && exit 0; sleep 0.1; done; exit 1"
start_rad() {
	RLM_PORT=$RAD RLM_CRTOKEN_CONF=$T/inst/rad.conf
	RLM_MODULE_EXTRA="	on_store_failure = fail" rlm_write_config "$T/rad" crtoken &&
		rlm_start "$T/rad"
}
check "radiusd (UDP $RAD) with rlm_crtoken" start_rad
PID_RAD=$RLM_PID
PIDS="$PIDS $PID_RAD"
RLM_PID=""
# auth NAME MAC : EAP-TLS with NAME's certificate from MAC
auth() {
	RLM_PORT=$RAD RLM_EAPOL_EXTRA="-M $2 -t 20"
	rlm_eapol "$T/$1.pem" "$T/$1.key" "$T/$1.eap" "$T/lab-ca.pem"
}
pin() { sql "SELECT coalesce(first_mac, '-') FROM cert_seen WHERE serial = '$(serial_of "$T/$1.pem")'"; }
check_eq "carol's first admission from 02:00:00:00:00:c1: Access-Accept (pinned)" accept \
	"$(auth carol 02:00:00:00:00:c1)"
check_eq "... her pin is in the primary" 02:00:00:00:00:c1 "$(pin carol)"
m=$(wc -l <"$T/rad/radiusd.log")
freeze
t0=$(now_ms)
res=$(auth dave 02:00:00:00:00:d1)
t1=$(now_ms)
thaw
diag "F5: dave's first admission with the primary frozen: $res after $((t1 - t0)) ms (a whole EAP-TLS exchange)"
check_eq "... fails closed: Access-Reject" reject "$res"
check "... within $BOUND s ($((t1 - t0)) ms)" within $((t1 - t0))
check_contains "... radiusd's log: the pin write met the writer's deadline" \
	"no answer from PostgreSQL within $WT ms" "$(tail -n "+$((m + 1))" "$T/rad/radiusd.log")"
check "radiusd is still running" kill -0 "$PID_RAD"
check_eq "after kill -CONT: nothing pinned for dave" "" "$(pin dave | grep -v '^-$')"
check_eq "dave from 02:00:00:00:00:d1 again: Access-Accept" accept "$(auth dave 02:00:00:00:00:d1)"
check_eq "... now pinned to it" 02:00:00:00:00:d1 "$(pin dave)"
check_eq "... a clone from another MAC is rejected" reject "$(auth dave 02:00:00:00:00:d2)"
check_eq "the store is consistent" "0 0 0" "$(consistent)"
finish
