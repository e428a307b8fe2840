#!/bin/sh
# bench.sh — time EAP-TLS authentications with and without rlm_crtoken.
#
# Makes a scratch crtoken instance and one issued certificate, then runs
# N eapol_test authentications (default 20) against freeradius (no debug
# log, threaded) on 127.0.0.1:18121 in two configurations, alternating in
# rounds so both see the same machine state:
#   crtoken  check-eap-tls-crtoken virtual server calling rlm_crtoken
#   stock    no virtual_server (stock EAP-TLS: the chain check only)
# and prints the median and min/max wall time per authentication (ms).
# The wall time includes starting eapol_test (a few ms), equally for both.
#
# Usage: sh rlm_crtoken/bench.sh [N]       (from the repository top)
set -u
N=${1:-20}
ROUNDS=${ROUNDS:-4}
TOP=${CRTOKEN_TOP:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${CRTOKEN_BUILD:-$TOP/build}
ADMIN=$BUILD/bin/crtoken-admin
RLM_SRC=$TOP/rlm_crtoken
. "$TOP/rlm_crtoken/testenv.sh"
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

# run SITE COUNT : append COUNT per-authentication times (µs) to $T/SITE.times
run() {
	rlm_write_config "$T/raddb-$1" "$1" || die "config $1"
	rlm_start "$T/raddb-$1" || die "radiusd ($1) did not start: $(tail -5 "$T/raddb-$1/radiusd.log")"
	# wait until it answers, and warm up (first handshake loads things)
	_i=0
	until [ "$(rlm_eapol "$T/c.pem" "$T/c.key" "$T/out" "$T/lab-ca.pem")" = accept ]; do
		_i=$((_i + 1))
		[ $_i -lt 50 ] || die "radiusd ($1) never accepted: $(tail -20 "$T/out")"
		sleep 0.05
	done
	_k=0
	while [ $_k -lt "$2" ]; do
		_t0=$(now_ns)
		_r=$(rlm_eapol "$T/c.pem" "$T/c.key" "$T/out" "$T/lab-ca.pem")
		_t1=$(now_ns)
		[ "$_r" = accept ] || die "$1: authentication $_k: $_r"
		echo $(((_t1 - _t0) / 1000)) >>"$T/$1.times"
		_k=$((_k + 1))
	done
	rlm_stop
}

per=$(((N + ROUNDS - 1) / ROUNDS))
r=0
while [ $r -lt "$ROUNDS" ]; do
	run crtoken "$per"
	run none "$per"
	r=$((r + 1))
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
echo "EAP-TLS authentications (eapol_test wall time, P-256 client and server keys)"
stats crtoken "rlm_crtoken in check-eap-tls:"
stats none "stock EAP-TLS, no virtual_server:"
