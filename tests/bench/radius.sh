#!/bin/sh
# radius.sh — time EAP-TLS authentications with and without rlm_crtoken.
#
# Makes a scratch crtoken instance and one issued certificate, then runs
# N eapol_test authentications (default 20) against each of two freeradius
# servers (no debug log, threaded), running side by side and used in
# alternation so both see the same machine load:
#   127.0.0.1:18121  check-eap-tls-crtoken virtual server calling rlm_crtoken
#   127.0.0.1:18122  no virtual_server (stock EAP-TLS: the chain check only)
# and prints the median and min/max wall time per authentication (ms).
# The wall time includes starting eapol_test (a few ms), equally for both.
#
# RADIUS_BENCH=pg: the same as the default, with the crtoken store on
# PostgreSQL (RADIUS_PG_CONNINFO, a database this script may fill: the
# instance is copied there with crtoken-admin store copy, the certificate
# redeemed there, and rlm_crtoken reads it through the connection pool).
#
# RADIUS_BENCH=seen compares rlm_crtoken with last-seen recording on
# (record_seen = yes, the default) against the same module with it off
# (record_seen = no), both in the check-eap-tls-crtoken server, instead of
# rlm_crtoken against the stock server. RADIUS_PORT_A / RADIUS_PORT_B move
# the two servers (defaults 18121, 18122).
#
# Usage: sh tests/bench/radius.sh [N]       (from the repository top)
set -u
N=${1:-20}
MODE=${RADIUS_BENCH:-module}
PA=${RADIUS_PORT_A:-18121}
PB=${RADIUS_PORT_B:-18122}
TOP=${CRTOKEN_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${CRTOKEN_BUILD:-$TOP/build}
ADMIN=$BUILD/bin/crtoken-admin
RLM_SRC=$TOP/rlm_crtoken
. "$TOP/tests/integration/radius_lib.sh"
RLM_BUILD=$BUILD
RLM_DEBUG=""

T=$(mktemp -d "${TMPDIR:-/tmp}/crtoken-bench.XXXXXX")
chmod 700 "$T"
trap 'rlm_stop; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

die() {
	echo "bench: $*" >&2
	exit 1
}

"$ADMIN" init --dir "$T/inst" >/dev/null || die "crtoken-admin init failed"
CRTOKEN_CONF=$T/inst/crtoken.conf
if [ "$MODE" = pg ]; then
	[ -n "${RADIUS_PG_CONNINFO:-}" ] || die "RADIUS_BENCH=pg needs RADIUS_PG_CONNINFO"
	"$ADMIN" --config "$CRTOKEN_CONF" store copy --to postgresql \
		--conninfo "$RADIUS_PG_CONNINFO" >/dev/null || die "store copy to PostgreSQL failed"
	sed -e "s|^\[store\]|[store]\nbackend = postgresql\nconninfo = $RADIUS_PG_CONNINFO|" \
		"$CRTOKEN_CONF" >"$T/inst/pg.conf" || die "pg.conf"
	chmod 0640 "$T/inst/pg.conf"
	CRTOKEN_CONF=$T/inst/pg.conf
	"$ADMIN" --config "$CRTOKEN_CONF" store status | grep -q postgresql ||
		die "the instance is not on PostgreSQL"
fi
export CRTOKEN_CONF
rlm_lab_ca "$T" || die "lab CA failed"
cat "$T/inst/ca.pem" "$T/lab-ca.pem" >"$T/client-cas.pem"
tok=$("$ADMIN" token create --name bench --cn bench --reply 'Tunnel-Type=VLAN' \
	--reply 'Tunnel-Medium-Type=IEEE-802' --reply 'Tunnel-Private-Group-Id=42' --json) ||
	die "token create failed"
tok=$(printf '%s' "$tok" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/c.key" 2>/dev/null
openssl req -new -key "$T/c.key" -subj /CN=bench -out "$T/c.csr" 2>/dev/null
"$ADMIN" redeem "$tok" --csr "$T/c.csr" --out "$T/c.pem" --json >/dev/null || die "redeem failed"

RLM_CRTOKEN_CONF=$CRTOKEN_CONF
RLM_SERVER_CERT=$T/server.pem
RLM_SERVER_KEY=$T/server.key
RLM_CLIENT_CAS=$T/client-cas.pem

now_ns() { date +%s%N; }

# server NAME SITE PORT [MODULE_EXTRA] : start radiusd NAME for SITE on
# PORT; its PID in PID_<NAME>.
server() {
	RLM_PORT=$3
	RLM_MODULE_EXTRA=${4:-} rlm_write_config "$T/raddb-$1" "$2" || die "config $1"
	rlm_start "$T/raddb-$1" || die "radiusd ($1) did not start: $(tail -5 "$T/raddb-$1/radiusd.log")"
	eval "PID_$1=\$RLM_PID"
	RLM_PID=""
}
# once SITE PORT : one authentication; appends its wall time (µs) to $T/SITE.times
once() {
	RLM_PORT=$2
	_t0=$(now_ns)
	_r=$(rlm_eapol "$T/c.pem" "$T/c.key" "$T/out" "$T/lab-ca.pem")
	_t1=$(now_ns)
	[ "$_r" = accept ] || die "$1: $_r: $(grep -E 'Access-|FAIL' "$T/out" | tail -3)"
	[ -n "${3:-}" ] || echo $(((_t1 - _t0) / 1000)) >>"$T/$1.times"
}

# Both servers run at once on two ports; authentications alternate between
# them so both see the same machine load.
if [ "$MODE" = seen ]; then
	server crtoken crtoken "$PA" "	record_seen = yes"
	server none crtoken "$PB" "	record_seen = no"
	LABEL_A="rlm_crtoken, last-seen recording on"
	LABEL_B="rlm_crtoken, recording off"
	RATE_A="recording on" RATE_B="recording off"
elif [ "$MODE" = pg ]; then
	server crtoken crtoken "$PA"
	server none none "$PB"
	LABEL_A="rlm_crtoken on PostgreSQL"
	LABEL_B="stock EAP-TLS, no virtual_server"
	RATE_A="with rlm_crtoken on PostgreSQL" RATE_B="stock"
else
	server crtoken crtoken "$PA"
	server none none "$PB"
	LABEL_A="rlm_crtoken in check-eap-tls"
	LABEL_B="stock EAP-TLS, no virtual_server"
	RATE_A="with rlm_crtoken" RATE_B="stock"
fi
trap 'for p in "$PID_crtoken" "$PID_none"; do RLM_PID=$p; rlm_stop; done; rm -rf "$T"' EXIT
_i=0
while [ $_i -lt 50 ]; do # until both answer; also warms them up
	RLM_PORT=$PA
	[ "$(rlm_eapol "$T/c.pem" "$T/c.key" "$T/out" "$T/lab-ca.pem")" = accept ] &&
		RLM_PORT=$PB &&
		[ "$(rlm_eapol "$T/c.pem" "$T/c.key" "$T/out" "$T/lab-ca.pem")" = accept ] && break
	_i=$((_i + 1))
	sleep 0.05
done
[ $_i -lt 50 ] || die "servers did not accept the certificate: $(tail -5 "$T/out")"
k=0
while [ $k -lt "$N" ]; do
	if [ $((k % 2)) -eq 0 ]; then
		once crtoken $PA
		once none $PB
	else
		once none $PB
		once crtoken $PA
	fi
	k=$((k + 1))
done

stats() {
	sort -n "$T/$1.times" | awk -v name="$2" '
		{ v[NR] = $1 }
		END {
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%-34s n=%d  median %.2f ms  min %.2f  max %.2f\n", name, NR,
				m / 1000, v[1] / 1000, v[NR] / 1000
		}'
}
# Throughput: C concurrent eapol_test loops of M authentications each, per
# server, in alternating rounds (crtoken, none, none, crtoken) so drift in
# the machine's load hits both alike.
C=${RADIUS_LOOPS:-4}
M=${RADIUS_PER_LOOP:-8}
burst() { # SITE PORT : C loops of M; appends elapsed seconds to $T/SITE.burst
	_b0=$(now_ns)
	_l=0
	_pids=""
	while [ $_l -lt "$C" ]; do
		(
			_m=0
			while [ $_m -lt "$M" ]; do
				RLM_PORT=$2
				rlm_eapol "$T/c.pem" "$T/c.key" "$T/out.$1.$_l" "$T/lab-ca.pem" >>"$T/res.$1"
				_m=$((_m + 1))
			done
		) &
		_pids="$_pids $!"
		_l=$((_l + 1))
	done
	for _p in $_pids; do wait "$_p"; done
	echo "$(($(now_ns) - _b0))" >>"$T/$1.burst"
}
# RADIUS_ROUNDS of them (default 1): more rounds average out a loaded machine.
_r=0
while [ $_r -lt "${RADIUS_ROUNDS:-1}" ]; do
	for site in crtoken none none crtoken; do
		if [ $site = crtoken ]; then burst crtoken $PA; else burst none $PB; fi
	done
	_r=$((_r + 1))
done
rate() { # SITE : authentications per second over all its bursts
	awk -v n="$(grep -c . "$T/res.$1")" -v acc="$(grep -c '^accept$' "$T/res.$1")" '
		{ ns += $1 } END { printf "%.1f %d %d\n", n / (ns / 1e9), acc, n }' "$T/$1.burst"
}
set -- $(rate crtoken)
r_mod=$1 acc_mod=$2 n_mod=$3
set -- $(rate none)
r_none=$1 acc_none=$2 n_none=$3

echo "EAP-TLS authentications (eapol_test wall time, P-256 client and server keys)"
# A rate over authentications that were not all accepted is no result.
if [ "$acc_mod" = "$n_mod" ] && [ "$acc_none" = "$n_none" ]; then
	printf 'throughput, %d concurrent eapol_test loops: %s %s/s (%d/%d accepted), %s %s/s (%d/%d accepted), ratio %s%%\n' \
		"$C" "$RATE_A" "$r_mod" "$acc_mod" "$n_mod" "$RATE_B" "$r_none" "$acc_none" "$n_none" \
		"$(awk -v a="$r_mod" -v b="$r_none" 'BEGIN { printf "%.1f", 100 * a / b }')"
else
	printf 'throughput, %d concurrent eapol_test loops: FAILED (with rlm_crtoken %d/%d accepted, stock %d/%d accepted)\n' \
		"$C" "$acc_mod" "$n_mod" "$acc_none" "$n_none"
fi
stats crtoken "$LABEL_A:"
stats none "$LABEL_B:"
