#!/bin/sh
# http.sh — HTTP redemption throughput for `make bench` (sourced by run.sh):
# crtokend on loopback under wrk at 8 and 32 connections, PAM gate off and
# on (pam_crtoken through pam_wrapper, a fresh user + TOTP code per request),
# and, in the same run, cfssl's /api/v1/cfssl/sign with a P-256 CA.
# Prints "http ..." result lines (fixtures= says how many tokens / OTP users
# the row had; a row with other > 0 is a failed row, not a result).
#
# Fixtures are sized to the run, so that no row runs out on a faster machine:
#   gate off  HTTP_SECONDS x HTTP_RATE_BOUND x 1.2 tokens. HTTP_RATE_BOUND is
#             the crypto floor of this run on every core (P-256 CSR verify +
#             certificate sign, run.sh row 1): every redemption does at least
#             that much work, so no row can go faster.
#   gate on   tokens and OTP users for 1.5 x the gate-off rate measured at the
#             same connection count (the gate adds a PAM login to the same
#             redemption), at most the gate-off fixture.
# HTTP_TOKENS / HTTP_OTP_USERS fix the sizes instead. The TOTP codes are
# those of the run's middle (bench_core mkotp AT), valid throughout runs of
# up to a minute.

# _hb_size SECONDS RATE FACTOR : ceil(SECONDS x RATE x FACTOR), at least 1000.
_hb_size() {
	python3 -c 'import math,sys; s,r,f=map(float,sys.argv[1:]); print(max(1000, math.ceil(s*r*f)))' \
		"$1" "$2" "$3"
}

http_bench() {
	_hb=$BENCH_DIR/http
	mkdir -p "$_hb"
	_secs=${HTTP_SECONDS:-5}
	_bound=${HTTP_RATE_BOUND:-5000}
	_noff=${HTTP_TOKENS:-$(_hb_size "$_secs" "$_bound" 1.2)}
	MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)

	# One P-256 CSR, as crtoken's JSON body and as cfssl's.
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$_hb/k.pem" \
		-subj /CN=bench -out "$_hb/r.csr" 2>/dev/null
	python3 -c 'import json,sys; print(json.dumps({"type":"CSR","value":open(sys.argv[1]).read()}))' \
		"$_hb/r.csr" >"$_hb/crtoken.json"
	python3 -c 'import json,sys; print(json.dumps({"certificate_request":open(sys.argv[1]).read()}))' \
		"$_hb/r.csr" >"$_hb/cfssl.json"

	# The rows measure what the service can redeem, not how it sheds load:
	# every wrk connection comes from 127.0.0.1 and, gate on, is a PAM login,
	# so the per-address connection cap and max_logins (default 32 and 8,
	# beyond them 503) are raised above the 32 connections of the last row.
	"$BUILD/bin/crtoken-admin" init --dir "$_hb/inst" >/dev/null || return 1
	_conf=$_hb/inst/crtoken.conf
	sed -i -e 's|^;listen =.*|listen = 127.0.0.1:18480|' -e 's|^;plain_http =.*|plain_http = yes|' \
		-e 's|^;max_lifetime =.*|max_lifetime = 3650d|' \
		-e 's|^;rate_limit_failures =.*|rate_limit_failures = 100000|' \
		-e 's|^;max_logins =.*|max_logins = 32|' \
		-e 's|^;max_connections_per_address =.*|max_connections_per_address = 64|' "$_conf"
	printf 'auth required %s config=%s\naccount required %s config=%s\n' \
		"$BUILD/lib/pam_crtoken.so" "$_conf" "$BUILD/lib/pam_crtoken.so" "$_conf" \
		>"$_hb/crtoken.pam"
	mkdir -p "$_hb/pam.d" && cp "$_hb/crtoken.pam" "$_hb/pam.d/crtoken"

	for _gate in off on; do
		if [ $_gate = off ]; then
			sed -i 's|^;*require_login =.*|require_login = no|' "$_conf"
		else
			sed -i 's|^;*require_login =.*|require_login = yes|' "$_conf"
		fi
		for _c in 8 32; do
			_n=$_noff
			if [ $_gate = on ]; then
				# 1.5 x the gate-off rate at these connections (the
				# bound if that row failed), at most the gate-off fixture.
				_rate=$(cat "$_hb/rate.$_c" 2>/dev/null || echo "$_bound")
				_n=${HTTP_OTP_USERS:-$(_hb_size "$_secs" "$_rate" 1.5)}
				[ -z "${HTTP_OTP_USERS:-}" ] && [ "$_n" -gt "$_noff" ] && _n=$_noff
			fi
			# Fixtures are made with durability = normal (quicker); the
			# measured service runs with the durable default.
			sed -i 's|^;*durability =.*|durability = normal|' "$_conf"
			"$BUILD/bench/bench_core" mktokens "$_conf" "$_n" "$_hb/tokens" || return 1
			_creds=""
			if [ $_gate = on ]; then
				# Codes of the middle of the run (it starts in a second or two).
				_at=$(($(date +%s) + 2 + _secs / 2))
				"$BUILD/bench/bench_core" mkotp "$_conf" "$_n" "$_hb/creds.$_c" "$_at" ||
					return 1
				_creds=$_hb/creds.$_c
			fi
			sed -i 's|^durability =.*|durability = full|' "$_conf"
			if [ $_gate = on ]; then
				LD_PRELOAD=/usr/lib/$MULTIARCH/libpam_wrapper.so PAM_WRAPPER=1 \
					PAM_WRAPPER_SERVICE_DIR=$_hb/pam.d \
					"$BUILD/bin/crtokend" --config "$_conf" --foreground >"$_hb/crtokend.log" 2>&1 &
			else
				"$BUILD/bin/crtokend" --config "$_conf" --foreground >"$_hb/crtokend.log" 2>&1 &
			fi
			_pid=$!
			bench_wait_port 18480 || { kill $_pid; return 1; }
			_r=$(wrk -t 2 -c $_c -d "${_secs}s" --latency -s "$CRTOKEN_TOP/tests/bench/redeem.lua" \
				http://127.0.0.1:18480 -- crtoken "$_hb/crtoken.json" 2 "$_hb/tokens" "$_creds" |
				grep WRKRESULT)
			kill $_pid
			wait $_pid 2>/dev/null
			_certs=$(sqlite3 "$_hb/inst/crtoken.db" "SELECT count(*) FROM certificates")
			echo "http target=crtokend gate=$_gate conns=$_c $(echo "$_r" | cut -d' ' -f2-) stored=$_certs fixtures=$_n"
			# The gate-off rate sizes the gate-on fixture (only from a clean row).
			if [ $_gate = off ]; then
				echo "$_r" | tr ' ' '\n' | sed -n 's/^other=//p' | grep -qx 0 &&
					python3 -c 'import sys; d=dict(x.split("=") for x in sys.argv[1:] if "=" in x); print(int(d["ok"])/float(d["seconds"]))' $_r \
						>"$_hb/rate.$_c"
			fi
			# Start the next run from an empty certificates table.
			sqlite3 "$_hb/inst/crtoken.db" "DELETE FROM certificates; DELETE FROM tokens; DELETE FROM otp; DELETE FROM audit"
		done
	done

	# cfssl serve with a P-256 CA, same CSR, same load.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$_hb/cf-ca-key.pem" \
		-out "$_hb/cf-ca.pem" -subj "/CN=cfssl bench CA" -days 30 2>/dev/null
	echo '{"signing":{"default":{"expiry":"8760h","usages":["digital signature","client auth"]}}}' >"$_hb/cf.json"
	for _c in 8 32; do
		cfssl serve -address=127.0.0.1 -port=18490 -ca="$_hb/cf-ca.pem" -ca-key="$_hb/cf-ca-key.pem" \
			-config="$_hb/cf.json" -loglevel=2 >"$_hb/cfssl.log" 2>&1 &
		_pid=$!
		bench_wait_port 18490 || { kill $_pid; return 1; }
		_r=$(wrk -t 2 -c $_c -d "${_secs}s" --latency -s "$CRTOKEN_TOP/tests/bench/redeem.lua" \
			http://127.0.0.1:18490 -- cfssl "$_hb/cfssl.json" 2 | grep WRKRESULT)
		kill $_pid
		wait $_pid 2>/dev/null
		echo "http target=cfssl gate=- conns=$_c $(echo "$_r" | cut -d' ' -f2-) stored=0"
	done
}

# http_bench_pg : the gate-off rows again with crtokend on PostgreSQL (run.sh
# calls it with the throwaway server of pg_lib.sh running: PG_PORT), 8 and 32
# connections, a database of its own per row (the instance copied into it
# with store copy). Durable like the SQLite rows (durability = full): fsync
# and full_page_writes on for these rows (the server runs with them off),
# synchronous_commit on. Prints "http target=crtokend store=postgresql ..."
# lines.
_hb_pg_durable() { # on | off
	_set="SET fsync = on|SET full_page_writes = on"
	[ "$1" = on ] || _set="RESET fsync|RESET full_page_writes"
	for _s in "ALTER SYSTEM ${_set%%|*}" "ALTER SYSTEM ${_set#*|}" "SELECT pg_reload_conf()"; do
		psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U crtoken -d postgres -c "$_s" >/dev/null || return 1
	done
}
http_bench_pg() {
	_hb=$BENCH_DIR/httppg
	mkdir -p "$_hb"
	_secs=${HTTP_SECONDS:-5}
	_bound=${HTTP_RATE_BOUND:-5000}
	_noff=${HTTP_TOKENS:-$(_hb_size "$_secs" "$_bound" 1.2)}
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$_hb/k.pem" \
		-subj /CN=bench -out "$_hb/r.csr" 2>/dev/null
	python3 -c 'import json,sys; print(json.dumps({"type":"CSR","value":open(sys.argv[1]).read()}))' \
		"$_hb/r.csr" >"$_hb/crtoken.json"
	for _c in 8 32; do
		_ci="host=127.0.0.1 port=$PG_PORT user=crtoken dbname=http$_c"
		psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U crtoken -d postgres -c "CREATE DATABASE http$_c" ||
			return 1
		"$BUILD/bin/crtoken-admin" init --dir "$_hb/inst$_c" >/dev/null || return 1
		_conf=$_hb/inst$_c/crtoken.conf
		"$BUILD/bin/crtoken-admin" --config "$_conf" store copy --to postgresql --conninfo "$_ci" \
			>/dev/null || return 1
		sed -i -e "s|^\[store\]|[store]\nbackend = postgresql\nconninfo = $_ci|" \
			-e 's|^;listen =.*|listen = 127.0.0.1:19750|' -e 's|^;plain_http =.*|plain_http = yes|' \
			-e 's|^;max_lifetime =.*|max_lifetime = 3650d|' \
			-e 's|^;*require_login =.*|require_login = no|' \
			-e 's|^;rate_limit_failures =.*|rate_limit_failures = 100000|' \
			-e 's|^;max_connections_per_address =.*|max_connections_per_address = 64|' "$_conf"
		"$BUILD/bench/bench_core" mktokens "$_conf" "$_noff" "$_hb/tokens" || return 1
		_hb_pg_durable on || return 1
		"$BUILD/bin/crtokend" --config "$_conf" --foreground >"$_hb/crtokend.log" 2>&1 &
		_pid=$!
		bench_wait_port 19750 || { kill $_pid; return 1; }
		_r=$(wrk -t 2 -c $_c -d "${_secs}s" --latency -s "$CRTOKEN_TOP/tests/bench/redeem.lua" \
			http://127.0.0.1:19750 -- crtoken "$_hb/crtoken.json" 2 "$_hb/tokens" | grep WRKRESULT)
		kill $_pid
		wait $_pid 2>/dev/null
		_hb_pg_durable off
		_certs=$(psql -X -At -h 127.0.0.1 -p "$PG_PORT" -U crtoken -d "http$_c" \
			-c "SELECT count(*) FROM certificates")
		echo "http target=crtokend store=postgresql fsync=on gate=off conns=$_c $(echo "$_r" | cut -d' ' -f2-) stored=$_certs fixtures=$_noff"
	done
}
