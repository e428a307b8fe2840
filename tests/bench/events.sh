#!/bin/sh
# events.sh — event delivery latency for `make bench` (sourced by run.sh):
# crtokend on loopback (port 18854) with one webhook sink, an HTTPS receiver
# that checks every signature (tests/integration/event_receivers.py, port
# 18853, a throwaway certificate); EVENTS_N (1000) tokens created through the
# REST API at EVENTS_RATE (50) per second; the time from each POST to its
# token.created arriving at the receiver. Prints one "events ..." line.

events_bench() {
	_eb=$BENCH_DIR/events
	mkdir -p "$_eb"
	"$BUILD/bin/crtoken-admin" init --dir "$_eb/inst" >/dev/null || return 1
	_conf=$_eb/inst/crtoken.conf
	sed -i -e 's|^;listen =.*|listen = 127.0.0.1:18854|' -e 's|^;plain_http =.*|plain_http = yes|' \
		-e 's|^;require_login =.*|require_login = no|' "$_conf"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		-keyout "$_eb/hook.key" -out "$_eb/hook.pem" 2>/dev/null
	openssl rand -hex 32 >"$_eb/inst/webhook.key"
	chmod 600 "$_eb/inst/webhook.key"
	printf '[events.sink bench]\ntype = webhook\nurl = https://127.0.0.1:18853/bench\nsecret_file = webhook.key\nca_file = %s\nevents = token.created\n' \
		"$_eb/hook.pem" >>"$_conf"
	_key=$("$BUILD/bin/crtoken-admin" --config "$_conf" apikey create --name bench --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])') || return 1
	/usr/bin/python3 "$CRTOKEN_TOP/tests/integration/event_receivers.py" webhook 18853 \
		"$_eb/hook.pem" "$_eb/hook.key" "$_eb/inst/webhook.key" "$_eb/hook.jsonl" &
	_rpid=$!
	"$BUILD/bin/crtokend" --config "$_conf" --foreground >"$_eb/crtokend.log" 2>&1 &
	_pid=$!
	if bench_wait_port 18853 && bench_wait_port 18854; then
		/usr/bin/python3 "$CRTOKEN_TOP/tests/bench/events_latency.py" 18854 "$_key" \
			"$_eb/hook.jsonl" "${EVENTS_N:-1000}" "${EVENTS_RATE:-50}"
	fi
	kill $_pid $_rpid 2>/dev/null
	wait $_pid $_rpid 2>/dev/null
}
