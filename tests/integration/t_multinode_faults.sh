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
missing=""
for p in psql "$PGBIN/initdb" "$ADMIN" "$CRTOKEND" "$PAM_SO" "$PAM_WRAPPER_LIB"; do
	command -v "$p" >/dev/null 2>&1 || [ -f "$p" ] || missing="$missing $p"
done
if [ -n "$missing" ]; then
	not_ok "prerequisites present (missing:$missing)"
	finish
	exit 1
fi

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
	if [ -f "$PGW/data/postmaster.pid" ]; then
		_pg_as "$PGBIN/pg_ctl" -D "$PGW/data" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
			kill -9 "$(head -n 1 "$PGW/data/postmaster.pid")" 2>/dev/null
	fi
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
	_pg_as "$PGBIN/initdb" -D "$PGW/data" -A trust -U crtoken -E UTF8 --locale=C --no-sync \
		>"$PGW/initdb.log" 2>&1 || return 1
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
	_st=$(curl -s -o "$T/login.body" -w '%{http_code}' -u "$2:$3" \
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

check_eq "no 5xx on A or B" 0 "$(cat "$T/a.log" "$T/b.log" | grep -c '" 5[0-9][0-9]')"
finish
