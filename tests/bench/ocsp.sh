#!/bin/sh
# ocsp.sh — OCSP responses/s for `make bench` (sourced by run.sh): crtokend
# on loopback (port 18695) under wrk at 8 connections, every request one
# CertID of an issued certificate with a nonce, signed by the CA (EC P-256).
# Prints one "ocsp ..." result line.

ocsp_bench() {
	_ob=$BENCH_DIR/ocsp
	mkdir -p "$_ob"
	"$BUILD/bin/crtoken-admin" init --dir "$_ob/inst" >/dev/null || return 1
	_conf=$_ob/inst/crtoken.conf
	sed -i -e 's|^;listen =.*|listen = 127.0.0.1:18695|' -e 's|^;plain_http =.*|plain_http = yes|' \
		"$_conf"
	_tok=$("$BUILD/bin/crtoken-admin" --config "$_conf" token create --name ocsp-bench --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])') || return 1
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$_ob/k.pem" \
		-subj /CN=ocsp-bench -out "$_ob/r.csr" 2>/dev/null
	_serial=$("$BUILD/bin/crtoken-admin" --config "$_conf" redeem "$_tok" --csr "$_ob/r.csr" \
		--json | python3 -c 'import json,sys; print(json.load(sys.stdin)["serial"])') || return 1
	openssl ocsp -issuer "$_ob/inst/ca.pem" -serial "0x$_serial" -reqout "$_ob/req.der" \
		>/dev/null 2>&1 || return 1
	"$BUILD/bin/crtokend" --config "$_conf" --foreground >"$_ob/crtokend.log" 2>&1 &
	_pid=$!
	bench_wait_port 18695 || { kill $_pid; return 1; }
	_r=$(wrk -t 2 -c 8 -d "${HTTP_SECONDS:-5}s" --latency -s "$CRTOKEN_TOP/tests/bench/ocsp.lua" \
		http://127.0.0.1:18695 -- "$_ob/req.der" | grep WRKRESULT)
	kill $_pid
	wait $_pid 2>/dev/null
	echo "ocsp target=crtokend conns=8 $(echo "$_r" | cut -d' ' -f2-)"
}
