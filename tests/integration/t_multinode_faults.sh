#!/bin/sh
# t_multinode_faults.sh — the enrollment side of several servers on one
# PostgreSQL (MULTINODE.md §3.3, §3.4, §6.3): a primary on 127.0.0.1:19730
# (fsync off), crtokend A (19731) and B (19732) on it, both with the login
# gate (PAM: pam_crtoken on the same store, under pam_wrapper):
#   T2  one TOTP code sent to A and B at the same moment (two requests to
#       each, many rounds, one user per round) is accepted exactly once;
#       failures split between the nodes lock the user at the configured
#       max_failures, also when they arrive at the same moment (no lost
#       update of the counter).
#   T8  crtokend C on the same store with another otp.key: the right code
#       fails closed there (503 seal_error with Retry-After, no detail; the
#       reason in its log, and from crtoken-admin otp verify with C's
#       config), nothing is written, and the same code then redeems the same
#       token on A.
#   T4  crtokend D (19734) and E (19735) without the gate, four clients
#       redeeming through both: PostgreSQL killed (pg_ctl stop -m immediate)
#       and restarted 10 times. Only 503s while it is down (no 500, no
#       connection error, no answer slower than 5 s), redemptions again
#       within 2 s of it being ready, every serial a client received is
#       stored, no token has two certificates. Then the connection lost
#       during COMMIT, made to happen: (a) committed (the backend terminated
#       while waiting for an absent synchronous standby): 201, resolved by
#       the phase-1 serial; (c) the same with the server killed: 503
#       store_commit_unknown, then 409 token_used; (b) not committed
#       (terminated in a deferred trigger): 503, the token redeems later.
#   T5  a pg_basebackup standby (19736), synchronous; crtokend F (19737)
#       with both servers in its conninfo (target_session_attrs=read-write):
#       primary killed -> 503; standby promoted -> F redeems within 5 s and
#       every serial received before is on the new primary.
# PostgreSQL runs with fsync off: what is tested is the connection, not
# the disk (an immediate stop keeps what the kernel has).
# Everything runs on loopback; every server is stopped by PID on exit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
. "$(dirname "$0")/http_lib.sh"

if ! pkg-config --exists libpq; then
	ok "# SKIP built without libpq"
	finish
	exit 0
fi
PAM_SO=$BUILD/lib/pam_crtoken.so
require_programs psql "$PGBIN/initdb" "$ADMIN" "$CRTOKEND" "$PAM_SO" "$PAM_WRAPPER_LIB"

P1=19730 # PostgreSQL
HA=19731 # crtokend A
HB=19732 # crtokend B
MAXF=4   # [otp] max_failures on every node
# PostgreSQL runs as the postgres user, who cannot enter $T (0700).
PGW=$(mktemp -d "${TMPDIR:-/tmp}/crtoken-mnf.XXXXXX") || exit 1
chown postgres: "$PGW" 2>/dev/null
PID_A=""
PID_B=""
mnf_stop() {
	stop_pid "$PID_A"
	stop_pid "$PID_B"
	for _d in "$PGW/standby" "$PGW/data"; do
		[ -f "$_d/postmaster.pid" ] || continue
		_pg_as "$PGBIN/pg_ctl" -D "$_d" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
			kill -9 "$(head -n 1 "$_d/postmaster.pid")" 2>/dev/null
	done
	rm -rf "$PGW"
}
at_exit mnf_stop

sql() { psql -X -At -h 127.0.0.1 -p "$P1" -U crtoken -d crtoken -c "$1" 2>&1; }
pg_up() {
	_pg_as "$PGBIN/pg_ctl" -D "$PGW/data" -l "$PGW/pg.log" -w -t 30 -o \
		"-c listen_addresses=127.0.0.1 -p $P1 -c unix_socket_directories=$PGW -c shared_buffers=32MB -c max_connections=100 -c fsync=off -c full_page_writes=off" \
		start >/dev/null 2>&1 || { tail -5 "$PGW/pg.log"; return 1; }
}
pg_init() {
	pg_initdb "$PGW/data" || return 1
	pg_up && psql -X -q -h 127.0.0.1 -p "$P1" -U crtoken -d postgres -c 'CREATE DATABASE crtoken' >/dev/null
}
check "PostgreSQL on 127.0.0.1:$P1" pg_init
CONN="host=127.0.0.1 port=$P1 user=crtoken dbname=crtoken"

check "crtoken instance (SQLite) copied to PostgreSQL (store copy)" sh -c \
	"'$ADMIN' init --dir '$T/inst' >/dev/null && '$ADMIN' --config '$T/inst/crtoken.conf' store copy --to postgresql --conninfo '$CONN' >/dev/null"
# node NAME PORT SERVICE : the node's config on PostgreSQL, with the login
# gate through the PAM service SERVICE.
node() {
	sed -e "s|^\[store\]|[store]\nbackend = postgresql\nconninfo = $CONN|" \
		-e "s|^;*listen *=.*|listen = 127.0.0.1:$2|" \
		-e "s|^;*plain_http *=.*|plain_http = yes|" \
		-e "s|^;*require_login *=.*|require_login = yes|" \
		-e "s|^;*pam_service *=.*|pam_service = $3|" \
		-e "s|^;*max_failures *=.*|max_failures = $MAXF|" \
		-e "s|^;*rate_limit_failures *=.*|rate_limit_failures = 100000|" \
		"$T/inst/crtoken.conf" >"$T/inst/$1.conf" && chmod 0640 "$T/inst/$1.conf"
}
node a "$HA" crtoken-otp
node b "$HB" crtoken-otp
CA=$T/inst/a.conf
A() { "$ADMIN" --config "$CA" "$@"; }
mkdir -p "$T/pam.d"
printf 'auth required %s config=%s\naccount required %s config=%s\n' \
	"$PAM_SO" "$CA" "$PAM_SO" "$CA" >"$T/pam.d/crtoken-otp"

# start_node NAME PORT : crtokend with NAME's config under pam_wrapper, log
# $T/NAME.log (pam_crtoken's syslog lines too: PAM_WRAPPER_DEBUGLEVEL).
start_node() {
	LD_PRELOAD="$PRELOAD_SAN$PAM_WRAPPER_LIB" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/pam.d" \
		PAM_WRAPPER_DEBUGLEVEL=2 \
		"$CRTOKEND" --config "$T/inst/$1.conf" --foreground >>"$T/$1.log" 2>&1 &
	NODE_PID=$!
	wait_port 127.0.0.1 "$2" 100 && kill -0 "$NODE_PID" 2>/dev/null
}
check "crtokend A on PostgreSQL (127.0.0.1:$HA, login gate)" start_node a "$HA"
PID_A=$NODE_PID
check "crtokend B on PostgreSQL (127.0.0.1:$HB, login gate)" start_node b "$HB"
PID_B=$NODE_PID
UA=http://127.0.0.1:$HA
UB=http://127.0.0.1:$HB

make_csr "$T" dev
$PY -c 'import json,sys; print(json.dumps({"type": "CSR", "value": open(sys.argv[1]).read()}))' \
	"$T/dev.csr" >"$T/dev.body"
# tokens N FILE : N fresh tokens (no owner), one per line of FILE.
tokens() {
	A token create --name "$(basename "$2" .tokens)" --cn dev --count "$1" --json |
		$PY -c 'import json,sys; print("\n".join(t["token"] for t in json.load(sys.stdin)))' >"$2"
}
# enroll USER : USER's TOTP secret (enrolled through node A's config).
enroll() { A otp enroll "$1" --no-qr --json | jget - "d['secret']"; }
# burst FILE : mn_faults.py burst on the rounds in FILE (JSON), answers in $T/burst.out.
burst() { $PY "$TOP/tests/integration/mn_faults.py" burst "$1" "$T/dev.body" >"$T/burst.out"; }

# --- T2: one code, both nodes, the same moment: accepted once -----------------
ROUNDS=24
: >"$T/pairs"
i=1
while [ $i -le $ROUNDS ]; do
	echo "pair$i $(enroll "pair$i")" >>"$T/pairs"
	i=$((i + 1))
done
check_eq "$ROUNDS OTP rows in PostgreSQL" "$ROUNDS" "$(sql "SELECT count(*) FROM otp WHERE username LIKE 'pair%'")"
tokens $((ROUNDS * 4)) "$T/pair.tokens"
# Each round: the user's current code, two requests to A and two to B (each
# with a token of its own, so only the OTP decides), released together.
$PY - "$T/pairs" "$T/pair.tokens" "$UA" "$UB" >"$T/pairs.json" <<'EOF'
import json, sys
users = [l.split() for l in open(sys.argv[1]) if l.strip()]
toks = [l.strip() for l in open(sys.argv[2]) if l.strip()]
ua, ub = sys.argv[3], sys.argv[4]
print(json.dumps([[{"url": (ua, ub)[k % 2], "token": toks[4 * i + k], "user": u, "secret": s}
                   for k in range(4)] for i, (u, s) in enumerate(users)]))
EOF
burst "$T/pairs.json"
# per round: the number of 201s, and what the others got
$PY - "$T/burst.out" >"$T/pairs.sum" <<'EOF'
import json, sys
rounds = json.load(open(sys.argv[1]))
wins = [sum(1 for st, _ in r if st == 201) for r in rounds]
other = sorted({"%d %s" % (st, c) for r in rounds for st, c in r if st != 201})
print(" ".join(map(str, wins)))
print(";".join(other))
print(sum(1 for r in rounds for k, (st, _) in enumerate(r) if st == 201 and k % 2 == 0),
      sum(1 for r in rounds for k, (st, _) in enumerate(r) if st == 201 and k % 2 == 1))
EOF
check_eq "one code sent to A and B at once ($ROUNDS rounds of 4): one 201 per round" \
	"$(printf '1 %.0s' $(seq $ROUNDS) | sed 's/ $//')" "$(sed -n 1p "$T/pairs.sum")"
check_eq "the other three of each round: 401 authentication_failed" "401 authentication_failed" \
	"$(sed -n 2p "$T/pairs.sum")"
diag "201s by node (A B): $(sed -n 3p "$T/pairs.sum")"
check_eq "exactly $ROUNDS otp.success rows, one per user" "$ROUNDS $ROUNDS" \
	"$(sql "SELECT count(DISTINCT object) || ' ' || count(*) FROM audit WHERE action = 'otp.success' AND object LIKE 'pair%'")"
check_eq "three otp.replay rows per user (the losers, on either node)" "$((ROUNDS * 3))" \
	"$(sql "SELECT count(*) FROM audit WHERE action = 'otp.replay' AND object LIKE 'pair%'")"
check_eq "one certificate per round" "$ROUNDS" \
	"$(sql "SELECT count(*) FROM certificates WHERE username LIKE 'pair%'")"

# --- T2: lockout counts the failures of both nodes -----------------------------
S=$(enroll lock1)
tokens $((MAXF + 2)) "$T/lock1.tokens"
# wrong N : a wrong code (a right one by chance: about 3 in a million)
wrong() { printf '%06d' $((314150 + $1)); }
lt() { sed -n "${1}p" "$T/lock1.tokens"; }
# login URL USER CODE TOKEN : redeem TOKEN at URL logging in as USER with
# CODE; prints the status and the error code ("-" for a 201).
login() {
	_st=$(curl -s -o "$T/login.body" -D "$T/login.hdr" -w '%{http_code}' -u "$2:$3" \
		-H 'Content-Type: application/json' --data-binary @"$T/dev.body" \
		"$1/client-certificates/token/$4")
	[ "$_st" = 201 ] && echo "201 -" ||
		echo "$_st $(jget "$T/login.body" "d['error']['code']" 2>/dev/null)"
}
i=1
: >"$T/lock1.codes"
while [ $i -lt $MAXF ]; do
	[ $((i % 2)) -eq 1 ] && u=$UA || u=$UB
	login "$u" lock1 "$(wrong $i)" "$(lt $i)" >>"$T/lock1.codes"
	i=$((i + 1))
done
check_eq "$((MAXF - 1)) wrong codes alternated between A and B: 401 each" \
	"$(printf '401 authentication_failed,%.0s' $(seq $((MAXF - 1))))" "$(tr '\n' ',' <"$T/lock1.codes")"
check_eq "the store counts $((MAXF - 1)) failures, not locked yet" "$((MAXF - 1)) 0" \
	"$(sql "SELECT failures || ' ' || locked_until FROM otp WHERE username = 'lock1'")"
check_eq "failure $MAXF (on B) is refused" "401 authentication_failed" \
	"$(login "$UB" lock1 "$(wrong $MAXF)" "$(lt $MAXF)")"
check_eq "... and locks lock1 (max_failures = $MAXF across both nodes)" t \
	"$(sql "SELECT locked_until > extract(epoch FROM now()) FROM otp WHERE username = 'lock1'")"
code=$($PY -c 'import sys; sys.path.insert(0, sys.argv[1]); import mn_faults; print(mn_faults.totp(sys.argv[2]))' \
	"$TOP/tests/integration" "$S")
check_eq "then the right code on A is refused: 429 otp_locked" "429 otp_locked" \
	"$(login "$UA" lock1 "$code" "$(lt $((MAXF + 1)))")"
check_eq "... audited as otp.locked, the code not taken" "1 -1" \
	"$(sql "SELECT count(*) FROM audit WHERE action = 'otp.locked' AND object = 'lock1'") $(sql "SELECT last_step FROM otp WHERE username = 'lock1'")"

# attack_lost_failure_update: MAXF wrong codes at the same moment, split
# between A and B. Without the row lock two nodes read the same counter and
# both write failures + 1: fewer failures than attempts, no lockout.
enroll lock2 >/dev/null
tokens "$MAXF" "$T/lock2.tokens"
$PY - "$T/lock2.tokens" "$UA" "$UB" "$MAXF" >"$T/lock2.json" <<'EOF'
import json, sys
toks = [l.strip() for l in open(sys.argv[1]) if l.strip()]
n = int(sys.argv[4])
print(json.dumps([[{"url": sys.argv[2 + k % 2], "token": toks[k], "user": "lock2",
                    "code": "%06d" % (123457 + k)} for k in range(n)]]))
EOF
burst "$T/lock2.json"
check_eq "attack_lost_failure_update: $MAXF wrong codes at once on A and B: all 401" "$MAXF" \
	"$($PY -c 'import json,sys; print(sum(1 for st, _ in json.load(open(sys.argv[1]))[0] if st == 401))' "$T/burst.out")"
check_eq "attack_lost_failure_update: every failure counted, the user locked" "$MAXF 1" \
	"$(sql "SELECT failures || ' ' || (locked_until > extract(epoch FROM now()))::int FROM otp WHERE username = 'lock2'")"

# --- T8: a node with another OTP key: seal_error, nothing written -----------
HC=19733 # crtokend C: the same store, another otp.key
"$ADMIN" init --dir "$T/other" >/dev/null
node c "$HC" crtoken-otp-c
sed -i "s|^;*key_file *= *otp.key|key_file = $T/other/otp.key|" "$T/inst/c.conf"
check_eq "node C's config names another OTP key" 1 "$(grep -c "^key_file = $T/other/otp.key" "$T/inst/c.conf")"
printf 'auth required %s config=%s\naccount required %s config=%s\n' \
	"$PAM_SO" "$T/inst/c.conf" "$PAM_SO" "$T/inst/c.conf" >"$T/pam.d/crtoken-otp-c"
check "crtokend C (127.0.0.1:$HC) with another otp.key" start_node c "$HC"
PID_C=$NODE_PID
at_exit 'stop_pid "$PID_C"'
S8=$(enroll seal1)
tokens 2 "$T/seal.tokens"
# the store as the nodes share it, without the heartbeat (it moves)
snap() {
	sql "SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
		SELECT 'otp ' || username || ' ' || last_step || ' ' || failures || ' ' || locked_until AS x FROM otp
		UNION ALL SELECT 'tok ' || id || ' ' || coalesce(used_at, 0) || ' ' || coalesce(serial, '') FROM tokens
		UNION ALL SELECT 'cert ' || serial FROM certificates
		UNION ALL SELECT 'audit ' || id FROM audit) s"
}
before=$(snap)
code=$($PY -c 'import sys; sys.path.insert(0, sys.argv[1]); import mn_faults; print(mn_faults.totp(sys.argv[2]))' \
	"$TOP/tests/integration" "$S8")
check_code "crtoken-admin otp verify with node C's key: seal_error" seal_error \
	"$ADMIN" --config "$T/inst/c.conf" otp verify seal1 "$code"
check_contains "... saying the secret does not open with this key" "does not open with this key" \
	"$(cat "$T/.err")"
m=$(wc -l <"$T/c.log")
check_eq "seal1's right code through node C: 503 seal_error (fails closed, says why)" \
	"503 seal_error" "$(login "http://127.0.0.1:$HC" seal1 "$code" "$(sed -n 1p "$T/seal.tokens")")"
check_eq "... with Retry-After (another node may have the right key)" 1 \
	"$(grep -ci '^retry-after: 1' "$T/login.hdr")"
check_eq "... the client is told the status only, no detail" \
	"a sealed secret could not be opened|-" \
	"$(jget "$T/login.body" "d['error']['message'] + '|' + d['error'].get('detail', '-')")"
check_contains "node C's log names seal_error for seal1" \
	"OTP verification failed closed for seal1: seal_error" "$(tail -n "+$((m + 1))" "$T/c.log")"
check_contains "... and crtokend's line says the node's OTP key is not the one that sealed it" \
	"seal_error: pam_crtoken: the stored OTP secret does not open with this node's [otp] key_file" \
	"$(tail -n "+$((m + 1))" "$T/c.log")"
check_eq "nothing written: tokens, certificates, OTP counters and audit as before" "$before" "$(snap)"
check_eq "the same code on node A (the right key) redeems the same token: 201" "201 -" \
	"$(login "$UA" seal1 "$code" "$(sed -n 1p "$T/seal.tokens")")"


# --- T4: PostgreSQL killed and restarted 10 times under redemption load ------
# Two crtokend without the login gate (D, E); four clients, two on each,
# redeem a token after another and retry the same token after a 503.
stop_pid "$PID_A"
stop_pid "$PID_B"
stop_pid "$PID_C"
PID_A=""
PID_B=""
PID_C=""
HD=19734
HE=19735
for n in d:$HD e:$HE; do
	node "${n%%:*}" "${n#*:}" crtoken-otp
	sed -i 's|^require_login = yes|require_login = no|' "$T/inst/${n%%:*}.conf"
done
check "crtokend D (127.0.0.1:$HD), no login gate" start_node d "$HD"
PID_D=$NODE_PID
check "crtokend E (127.0.0.1:$HE), no login gate" start_node e "$HE"
PID_E=$NODE_PID
at_exit 'stop_pid "$PID_D"; stop_pid "$PID_E"'
UD=http://127.0.0.1:$HD
UE=http://127.0.0.1:$HE
NLOAD=2500
tokens "$NLOAD" "$T/load.tokens"
check_eq "$NLOAD tokens for the load" "$NLOAD" "$(wc -l <"$T/load.tokens")"
# a crash restart replays the WAL since the last checkpoint: keep it short
sql CHECKPOINT >/dev/null
STOP=$T/load.stop
MN_DELAY=0.05 $PY "$TOP/tests/integration/mn_faults.py" load "$UD,$UE" "$T/load.tokens" \
	"$T/dev.body" 4 "$T/load.events" "$STOP" &
LOAD_PID=$!
at_exit 'touch "$STOP"; stop_pid "$LOAD_PID"'
now() { date +%s.%N | cut -c1-14; }
sleep 1
: >"$T/cycles"
i=1
while [ $i -le 10 ]; do
	t_down=$(now)
	_pg_as "$PGBIN/pg_ctl" -D "$PGW/data" -m immediate -w -t 30 stop >/dev/null 2>&1
	t_stopped=$(now)
	sleep 0.5
	t_start=$(now)
	pg_up >/dev/null
	t_up=$(now)
	echo "$t_down $t_stopped $t_start $t_up" >>"$T/cycles"
	sleep 1.2
	i=$((i + 1))
done
sleep 1
touch "$STOP"
wait "$LOAD_PID"
LOAD_PID=""
check "crtokend D and E are still running" kill -0 "$PID_D" "$PID_E"
$PY "$TOP/tests/integration/mn_faults.py" summary "$T/load.events" "$T/cycles" >"$T/load.sum"
cut -d' ' -f7 "$T/load.events" | grep -v '^-$' | sort >"$T/load.serials"
sget() { sed -n "s/^$1 //p" "$T/load.sum"; }
diag "load: $(sget answers) answers ($(sget by_status)); codes: $(sget codes)"
diag "PostgreSQL ready after pg_ctl start (s): max $(sget restart_max); first 201 after ready (s): $(sget resume)"
diag "slowest answer $(sget latency_max) s; 409 token_used after a 503 (committed, answer lost): $(sget retried_409)"
check_eq "only 201 and 503 (and 409 token_used for a token retried after a 503): no 500" "0" \
	"$(sget bad | cut -d' ' -f1)"
[ "$(sget bad | cut -d' ' -f1)" = 0 ] || diag "other answers: $(sget bad)"
check_eq "every answer while PostgreSQL was down is a 503" "0" "$(sget down_non503)"
check "503s were answered while it was down (the load covered the outages)" \
	test "$(sget down_answers)" -ge 10
check "no connection error or timeout (no crash, no hang): slowest answer < 5 s" \
	$PY -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 5 else 1)' "$(sget latency_max)"
check "redemptions resume within 2 s after PostgreSQL is back (max $(sget resume_max) s)" \
	$PY -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 2 else 1)' "$(sget resume_max)"
check "the load ran past the last restart" test "$(sget after_last)" -gt 0
sql "SELECT serial FROM certificates" | sort >"$T/store.serials"
check_eq "every serial a client received is stored" "" "$(comm -23 "$T/load.serials" "$T/store.serials")"
check_eq "no serial was received twice" "" "$(uniq -d "$T/load.serials")"
check_eq "no token has two certificates; every used token has its certificate" "0 0 0" \
	"$(sql "SELECT (SELECT count(*) FROM (SELECT token_id FROM certificates GROUP BY token_id HAVING count(*) > 1) d) || ' ' ||
		(SELECT count(*) FROM tokens t WHERE t.used_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.serial = t.serial AND c.token_id = t.id)) || ' ' ||
		(SELECT count(*) FROM certificates c JOIN tokens t ON t.id = c.token_id WHERE t.used_at IS NULL)")"
diag "lost commits in the nodes' logs: $(cat "$T/d.log" "$T/e.log" | grep -c commit)"
cat "$T/d.log" "$T/e.log" | grep commit | head -5 | sed 's/^/#   /'


# --- T4: the connection lost during COMMIT, resolved by the serial ----------
# wait_backend WAIT_EVENT : the pid of the backend waiting on WAIT_EVENT
# with a lock on certificates (a redemption's, not a heartbeat's), polled
# for up to 5 s.
wait_backend() {
	_i=0
	while [ $_i -lt 100 ]; do
		_p=$(sql "SELECT a.pid FROM pg_stat_activity a WHERE a.wait_event = '$1' AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.relation = 'certificates'::regclass) LIMIT 1")
		[ -n "$_p" ] && { echo "$_p"; return 0; }
		sleep 0.05
		_i=$((_i + 1))
	done
	return 1
}
# post_bg URL TOKEN OUT : redeem in the background; "status code-or-serial" in OUT.
post_bg() {
	(
		_st=$(curl -s -m 20 -o "$3.body" -w '%{http_code}' -H 'Content-Type: application/json' \
			--data-binary @"$T/dev.body" "$1/client-certificates/token/$2")
		if [ "$_st" = 201 ]; then
			echo "201 $(jget "$3.body" "d['serial']")"
		else
			echo "$_st $(jget "$3.body" "d['error']['code']" 2>/dev/null)"
		fi >"$3"
	) &
	POST_PID=$!
}
tokens 3 "$T/cu.tokens"
tk() { sed -n "${1}p" "$T/cu.tokens"; }
tid() { sql "SELECT id FROM tokens WHERE used_at IS NOT NULL AND serial = '$1'"; }

# (a) The COMMIT reached the server, which committed it locally and then
# waited for a synchronous standby that does not exist; the backend is
# terminated in that wait, so crtokend loses the connection during COMMIT
# while the redemption is committed. Read back on a fresh connection, the
# token names the serial signed in phase 1: 201 with that certificate.
sql "ALTER SYSTEM SET synchronous_standby_names = 'mnf_nosuch'" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
m=$(wc -l <"$PGW/pg.log")
post_bg "$UD" "$(tk 1)" "$T/cu.a"
pid=$(wait_backend SyncRep)
check "a redemption's COMMIT waits for the (absent) synchronous standby" test -n "$pid"
sql "SELECT pg_terminate_backend($pid)" >/dev/null
wait "$POST_PID"
check_contains "... terminated after committing locally (the server says so)" \
	"has already committed locally" "$(tail -n "+$((m + 1))" "$PGW/pg.log")"
set -- $(cat "$T/cu.a")
check_eq "connection lost during a COMMIT that happened: 201" 201 "${1:-}"
check "... with the serial the store has for that token (resolved by the phase-1 serial)" \
	test -n "${2:-}" -a -n "$(tid "${2:-x}")"

# (c) The same wait, then PostgreSQL itself is killed: the connection is
# lost during COMMIT and the read-back fails too. 503 store_commit_unknown
# (not a 500): sent again once the server is back, the redemption answers
# 409 token_used, and the certificate is in the store (the commit record
# was flushed before the wait).
post_bg "$UD" "$(tk 2)" "$T/cu.c"
pid=$(wait_backend SyncRep)
check "a second redemption waits for the synchronous standby" test -n "$pid"
_pg_as "$PGBIN/pg_ctl" -D "$PGW/data" -m immediate -w -t 30 stop >/dev/null 2>&1
wait "$POST_PID"
check_eq "PostgreSQL killed during that COMMIT: 503 store_commit_unknown" \
	"503 store_commit_unknown" "$(cat "$T/cu.c")"
_pg_as sed -i '/synchronous_standby_names/d' "$PGW/data/postgresql.auto.conf"
check "PostgreSQL restarted (no synchronous standby named)" pg_up
post_bg "$UD" "$(tk 2)" "$T/cu.c2"
wait "$POST_PID"
check_eq "the redemption sent again: 409 token_used (it had committed)" "409 token_used" \
	"$(cat "$T/cu.c2")"
check_eq "... its certificate is stored" 1 \
	"$(sql "SELECT count(*) FROM tokens t JOIN certificates c ON c.serial = t.serial AND c.token_id = t.id WHERE t.name = 'cu-2'")"

# (b) The COMMIT runs a deferred trigger that sleeps; the backend is
# terminated in it, so the connection is lost during a COMMIT that did not
# happen: 503 (the token is unused), and the same token redeems afterwards.
sql "CREATE FUNCTION mnf_slow() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN PERFORM pg_sleep(20); RETURN NULL; END \$\$" >/dev/null
sql "CREATE CONSTRAINT TRIGGER mnf_slow AFTER INSERT ON certificates DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION mnf_slow()" >/dev/null
post_bg "$UD" "$(tk 3)" "$T/cu.b"
pid=$(wait_backend PgSleep)
check "a redemption's COMMIT runs the deferred trigger" test -n "$pid"
sql "SELECT pg_terminate_backend($pid)" >/dev/null
wait "$POST_PID"
sql "DROP TRIGGER mnf_slow ON certificates" >/dev/null
check_eq "connection lost during a COMMIT that did not happen: 503 store_unavailable" \
	"503 store_unavailable" "$(cat "$T/cu.b")"
check_eq "... the token is unused, no certificate for it" "0 0" \
	"$(sql "SELECT count(*) FILTER (WHERE used_at IS NOT NULL) || ' ' || (SELECT count(*) FROM certificates c WHERE c.token_id = t.id) FROM tokens t WHERE name = 'cu-3' GROUP BY t.id")"
post_bg "$UD" "$(tk 3)" "$T/cu.b2"
wait "$POST_PID"
set -- $(cat "$T/cu.b2")
check_eq "the same token then redeems: 201" 201 "${1:-}"
check "... with a stored serial" test -n "${2:-}" -a -n "$(tid "${2:-x}")"


# --- T5: failover to a synchronous standby ----------------------------------
# A standby made by pg_basebackup (127.0.0.1:19736), synchronous for the
# primary; crtokend F (19737) with both in its conninfo
# (target_session_attrs=read-write). Redemptions, then the primary killed
# and the standby promoted: F redeems on the new primary, and every serial a
# client received before is there (no commit lost).
P2=19736
HF=19737
pg_standby() {
	_pg_as "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$P1" -U crtoken -D "$PGW/standby" -R -c fast \
		-X stream >"$PGW/basebackup.log" 2>&1 || { cat "$PGW/basebackup.log"; return 1; }
	_pg_as "$PGBIN/pg_ctl" -D "$PGW/standby" -l "$PGW/standby.log" -w -t 30 -o \
		"-c listen_addresses=127.0.0.1 -p $P2 -c unix_socket_directories=$PGW -c hot_standby=on -c fsync=off -c cluster_name=mnf_standby" \
		start >/dev/null 2>&1 || { tail -5 "$PGW/standby.log"; return 1; }
}
check "a streaming standby (pg_basebackup -R) on 127.0.0.1:$P2" pg_standby
sql "ALTER SYSTEM SET synchronous_standby_names = 'mnf_standby'" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
sync_ok() {
	_i=0
	while [ $_i -lt 100 ]; do
		[ "$(sql "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'mnf_standby'")" = sync ] &&
			return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
check "... and synchronous (pg_stat_replication: sync)" sync_ok
CONN2="host=127.0.0.1,127.0.0.1 port=$P1,$P2 user=crtoken dbname=crtoken target_session_attrs=read-write"
node f "$HF" crtoken-otp
sed -i -e 's|^require_login = yes|require_login = no|' \
	-e "s|^conninfo = .*|conninfo = $CONN2|" "$T/inst/f.conf"
check "crtokend F (127.0.0.1:$HF) on primary,standby (read-write)" start_node f "$HF"
PID_F=$NODE_PID
at_exit 'stop_pid "$PID_F"'
UF=http://127.0.0.1:$HF
tokens 40 "$T/fo.tokens"
fo() { sed -n "${1}p" "$T/fo.tokens"; }
: >"$T/fo.serials"
i=1
while [ $i -le 10 ]; do
	post_bg "$UF" "$(fo $i)" "$T/fo.$i"
	wait "$POST_PID"
	set -- $(cat "$T/fo.$i")
	[ "${1:-}" = 201 ] && echo "$2" >>"$T/fo.serials"
	i=$((i + 1))
done
check_eq "ten redemptions through F before the failover: 201 each" 10 "$(wc -l <"$T/fo.serials")"
_pg_as "$PGBIN/pg_ctl" -D "$PGW/data" -m immediate -w -t 30 stop >/dev/null 2>&1
post_bg "$UF" "$(fo 11)" "$T/fo.down"
wait "$POST_PID"
check_eq "the primary killed, no standby promoted yet: 503 store_unavailable" \
	"503 store_unavailable" "$(cat "$T/fo.down")"
t_promote=$(now)
check "the standby promoted (pg_ctl promote)" \
	_pg_as "$PGBIN/pg_ctl" -D "$PGW/standby" -w -t 30 promote
# redeem until the first 201 (at most 10 s), each token once
i=12
first=""
while [ $i -le 40 ]; do
	post_bg "$UF" "$(fo $i)" "$T/fo.$i"
	wait "$POST_PID"
	set -- $(cat "$T/fo.$i")
	if [ "${1:-}" = 201 ]; then
		first=$($PY -c 'import sys, time; print("%.2f" % (time.time() - float(sys.argv[1])))' "$t_promote")
		echo "$2" >>"$T/fo.serials"
		break
	fi
	[ "${1:-}" = 503 ] || diag "during the failover: $*"
	sleep 0.25
	i=$((i + 1))
done
check "F redeems on the new primary after the promotion (first 201 ${first:-never} s after pg_ctl promote)" \
	test -n "$first"
check "... within 5 s" $PY -c 'import sys; sys.exit(0 if float(sys.argv[1] or 99) <= 5 else 1)' "${first:-}"
sort "$T/fo.serials" >"$T/fo.sorted"
psql -X -At -h 127.0.0.1 -p "$P2" -U crtoken -d crtoken -c "SELECT serial FROM certificates" |
	sort >"$T/fo.store"
check_eq "no commit lost: every serial received before and after is on the new primary" "" \
	"$(comm -23 "$T/fo.sorted" "$T/fo.store")"

check_eq "no 5xx on A or B" 0 "$(cat "$T/a.log" "$T/b.log" | grep -c '" 5[0-9][0-9]')"
finish
