# demo.sh — the RADIUS chapter of `make demo` (POSIX sh fragment; sourced by
# scripts/demo.sh, which calls demo_radius when this file exists).
#
# demo_radius CERT KEY [DIR]
#   Starts FreeRADIUS (freeradius -X, private config in DIR/radius, log in
#   DIR/radius/radiusd.log) on 127.0.0.1:18121 with rlm_crtoken in the
#   check-eap-tls-crtoken virtual server, authenticates CERT/KEY (the demo's
#   issued certificate) with eapol_test over EAP-TLS, shows the
#   Access-Accept and the VLAN attributes it carries, and stops the server.
#   Reads CRTOKEN_CONF (the demo instance; its ca.pem signs CERT),
#   CRTOKEN_TOP (repository, default: current directory) and B (build dir,
#   default build). DIR defaults to the directory of CRTOKEN_CONF.
#   Returns non-zero unless the certificate was accepted.

demo_radius() {
	_dr_cert=$1
	_dr_key=$2
	_dr_top=${CRTOKEN_TOP:-$(pwd)}
	_dr_dir=${3:-$(dirname "${CRTOKEN_CONF:?demo_radius: CRTOKEN_CONF is not set}")}/radius
	_dr_inst=$(dirname "$CRTOKEN_CONF")
	case "${B:-build}" in /*) RLM_BUILD=${B:-build} ;; *) RLM_BUILD=$_dr_top/${B:-build} ;; esac

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

	echo "== RADIUS: 802.1X EAP-TLS with FreeRADIUS and rlm_crtoken"
	echo "   server certificate for radiusd from a lab CA (openssl); client"
	echo "   certificates are trusted from the crtoken CA ($_dr_inst/ca.pem)"
	rlm_lab_ca "$_dr_dir" || return 1
	cat "$_dr_inst/ca.pem" >"$_dr_dir/client-cas.pem"
	[ -f "$_dr_inst/chain.pem" ] && cat "$_dr_inst/chain.pem" >>"$_dr_dir/client-cas.pem"
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
	echo "   freeradius -X -d $_dr_dir/raddb (pid $RLM_PID) on 127.0.0.1:$RLM_PORT"
	echo "\$ eapol_test -c eapol.conf -a 127.0.0.1 -p $RLM_PORT -s $RLM_SECRET -t 10 -r 0"
	_dr_res=$(rlm_eapol "$_dr_cert" "$_dr_key" "$_dr_dir/eapol.out" "$_dr_dir/lab-ca.pem")
	rlm_stop

	# The final RADIUS message and its attributes, as eapol_test decoded them.
	awk '/^RADIUS message: code=(2|3) /{p=1; print; next}
		p && /^(STA|RADIUS packet)/ {exit}
		p && /^   Attribute/ {show = ($0 ~ /\((Tunnel-|Reply-Message|Class)/)}
		p && show' "$_dr_dir/eapol.out" | sed 's/^/   /'
	grep -E 'crtoken: (Certificate|&reply)' "$_dr_dir/raddb/radiusd.log" | sed 's/^/   radiusd: /'
	tail -1 "$_dr_dir/eapol.out" | sed 's/^/   eapol_test: /'
	if [ "$_dr_res" != accept ]; then
		echo "demo_radius: the certificate was not accepted ($_dr_res); see $_dr_dir" >&2
		return 1
	fi
	echo "   Access-Accept: Tunnel-Type 0x0d = VLAN, Tunnel-Medium-Type 6 = IEEE-802,"
	echo "   Tunnel-Private-Group-Id is the VLAN id (ASCII hex), Reply-Message as stored"
	return 0
}
