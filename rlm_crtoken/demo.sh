# demo.sh — the RADIUS chapter of `make demo` (POSIX sh fragment, sourced by
# scripts/demo.sh, which calls these functions when they are defined).
#
# demo_radius CERT KEY
#   Starts FreeRADIUS (freeradius -X with a private config in $DEMO/radius,
#   log in $DEMO/radius/raddb/radiusd.log) on 127.0.0.1:18121 with
#   rlm_crtoken in the check-eap-tls-crtoken virtual server, authenticates
#   CERT/KEY (the demo's issued certificate) with eapol_test over EAP-TLS,
#   shows the Access-Accept with its VLAN attributes, and leaves the server
#   running (RLM_PID). Returns non-zero unless the certificate was accepted.
# demo_radius_revoked CERT KEY
#   The same after `crtoken-admin cert revoke`, on the radiusd that is still
#   running (no restart, no CRL reload): shows the Access-Reject and the
#   reason rlm_crtoken logged, then stops the server. Returns non-zero
#   unless rejected.
# demo_radius_stop
#   Stops the server if it still runs (scripts/demo.sh calls it at exit).
#
# Uses CRTOKEN_CONF (the demo instance; its ca.pem signs CERT), CRTOKEN_TOP,
# BUILD (or B) and DEMO (state dir; default: the directory of CRTOKEN_CONF).

# _demo_radius_run CERT KEY EXPECT : one authentication; EXPECT accept|reject.
# Starts the server unless it is already running.
_demo_radius_run() {
	if [ -n "${RLM_PID:-}" ] && kill -0 "$RLM_PID" 2>/dev/null; then
		echo "   freeradius is still running (pid $RLM_PID, started before the revocation)"
		_demo_radius_auth "$@"
		return
	fi
	_dr_top=${CRTOKEN_TOP:-$(pwd)}
	_dr_inst=$(dirname "${CRTOKEN_CONF:?demo_radius: CRTOKEN_CONF is not set}")
	_dr_dir=${DEMO:-$_dr_inst}/radius
	if [ -n "${BUILD:-}" ]; then
		RLM_BUILD=$BUILD
	else
		RLM_BUILD=$_dr_top/${B:-build}
	fi

	[ -x /usr/sbin/freeradius ] || {
		echo "demo_radius: freeradius is not installed" >&2
		return 1
	}
	command -v eapol_test >/dev/null || {
		echo "demo_radius: eapol_test (package eapoltest) is not installed" >&2
		return 1
	}

	RLM_SRC=$_dr_top/rlm_crtoken
	. "$_dr_top/rlm_crtoken/testenv.sh"
	mkdir -p "$_dr_dir" && chmod 700 "$_dr_dir" || return 1

	if [ ! -f "$_dr_dir/server.pem" ]; then
		echo "   radiusd's server certificate comes from a lab CA made with openssl;"
		echo "   client certificates are trusted from the crtoken CA only."
		rlm_lab_ca "$_dr_dir" || return 1
	fi
	cat "$_dr_inst/ca.pem" >"$_dr_dir/client-cas.pem"
	RLM_CRTOKEN_CONF=$CRTOKEN_CONF
	RLM_SERVER_CERT=$_dr_dir/server.pem
	RLM_SERVER_KEY=$_dr_dir/server.key
	RLM_CLIENT_CAS=$_dr_dir/client-cas.pem
	RLM_PORT=18121
	rlm_write_config "$_dr_dir/raddb" crtoken || return 1
	if ! rlm_start "$_dr_dir/raddb"; then
		echo "demo_radius: freeradius did not start; log: $_dr_dir/raddb/radiusd.log" >&2
		tail -20 "$_dr_dir/raddb/radiusd.log" >&2
		return 1
	fi
	echo "   freeradius -X -d radius/raddb  (pid $RLM_PID, 127.0.0.1:$RLM_PORT, module crtoken"
	echo "   in the check-eap-tls-crtoken virtual server)"
	_demo_radius_auth "$@"
}

# _demo_radius_auth CERT KEY EXPECT : eapol_test against the running server.
_demo_radius_auth() {
	_dr_from=$(($(wc -l <"$_dr_dir/raddb/radiusd.log") + 1))
	echo "\$ eapol_test -c eapol.conf -a 127.0.0.1 -p $RLM_PORT -s $RLM_SECRET -t 10 -r 0"
	_dr_res=$(rlm_eapol "$1" "$2" "$_dr_dir/eapol.out" "$_dr_dir/lab-ca.pem")

	# The final RADIUS message and the attributes that matter, as eapol_test
	# decoded them; then what rlm_crtoken logged; then eapol_test's verdict.
	awk '/^RADIUS message: code=(2|3) /{p=1; print; next}
		p && /^(STA|RADIUS packet)/ {exit}
		p && /^   Attribute/ {show = ($0 ~ /\((Tunnel-|Reply-Message|Class)/)}
		p && show' "$_dr_dir/eapol.out" | sed 's/^/   /'
	tail -n "+$_dr_from" "$_dr_dir/raddb/radiusd.log" |
		grep -E '^\([0-9]+\) crtoken: (Certificate|&reply|ERROR)' | sed 's/^/   radiusd: /'
	tail -1 "$_dr_dir/eapol.out" | sed 's/^/   eapol_test: /'
	if [ "$_dr_res" != "$3" ]; then
		echo "demo_radius: expected $3, got $_dr_res; see $_dr_dir" >&2
		return 1
	fi
	return 0
}

demo_radius() {
	_demo_radius_run "$1" "$2" accept || return 1
	echo "   Access-Accept: Tunnel-Type 0x0d = VLAN, Tunnel-Medium-Type 6 = IEEE-802,"
	echo "   Tunnel-Private-Group-Id \"42\" (ASCII 0x3432), and the token's Reply-Message."
}

demo_radius_revoked() {
	echo "   The same certificate over EAP-TLS again, a moment after the revocation:"
	_demo_radius_run "$1" "$2" reject || {
		demo_radius_stop
		return 1
	}
	demo_radius_stop
	echo "   Access-Reject: rlm_crtoken found the serial revoked in the store, on the"
	echo "   next login, without a restart of radiusd or a CRL reload."
}

demo_radius_stop() {
	[ -n "${RLM_PID:-}" ] || return 0
	rlm_stop
}
