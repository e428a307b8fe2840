# radius_lib.sh — a private FreeRADIUS 3.2 + eapol_test environment for rlm_crtoken
# (POSIX sh fragment; source it). Used by tests/integration/t_radius.sh,
# scripts/demo.sh (the RADIUS chapter) and tests/bench/radius.sh.
#
# Functions:
#   rlm_lab_ca DIR                 make a "lab" CA (DIR/lab-ca.pem, .key) with
#                                  openssl and a server certificate it signs
#                                  (DIR/server.pem, .key) for 127.0.0.1
#   rlm_write_config DIR SITE      write a radiusd config dir DIR (0700) and
#                                  stage rlm_crtoken.so into DIR/lib
#   rlm_start DIR                  start freeradius -X -d DIR; RLM_PID, log DIR/radiusd.log
#   rlm_stop                       stop it (by PID)
#   rlm_eapol CERT KEY OUT         one EAP-TLS authentication with eapol_test;
#                                  prints accept | reject | error (OUT: its output);
#                                  RLM_EAPOL_EXTRA: more eapol_test options
#                                  (-M MAC = Calling-Station-Id, -N attributes)
#
# rlm_write_config reads:
#   RLM_BUILD        build dir holding lib/rlm_crtoken.so (required)
#   RLM_CRTOKEN_CONF crtoken.conf the module reads (required unless SITE=none)
#   RLM_SERVER_CERT, RLM_SERVER_KEY   radiusd's certificate and key
#   RLM_CLIENT_CAS   PEM file of CAs radiusd accepts client certificates from
#   RLM_PORT (18121), RLM_SECRET (testing123), RLM_DEBUG (-X; "" = -f, no debug log)
#   RLM_MODULE_EXTRA extra lines for the crtoken module section
#   RLM_SITE_EXTRA   extra lines at the top of the check-eap-tls-crtoken
#                    server's authorize section (SITE=crtoken)
#   RLM_USER         run as this user and group (e.g. freerad; default: stay root)
#   RLM_OCSP         the body of tls-config's ocsp { } section (default
#                    "enable = no"), e.g. enable = yes + url of crtokend's /ocsp
# SITE selects the certificate check after the TLS handshake:
#   crtoken   rlm_crtoken/check-eap-tls (the shipped sample) as virtual_server
#   stock     the stock check-eap-tls shape (Auth-Type := Accept) calling
#             crtoken without the notfound/noop overrides
#   none      no virtual_server at all (the stock EAP-TLS baseline)
#   outer     no virtual_server; crtoken in the outer post-auth section
# The server listens on 127.0.0.1:$RLM_PORT only, proxy_requests = no.
#
# radiusd loads the module from a copy in DIR/lib, not from RLM_BUILD: with
# RLM_USER the server drops to that user before it loads modules, and a
# build tree inside a 0700 home (a clone in /root) is out of its reach. So
# everything radiusd reads must live where RLM_USER can reach it: DIR and,
# for the files named in RLM_*, the caller's own scratch directory.

RLM_PORT=${RLM_PORT:-18121}
RLM_SECRET=${RLM_SECRET:-testing123}
RLM_DEBUG=${RLM_DEBUG--X}
RLM_PID=""
RLM_DIR=""
_rlm_here=${RLM_SRC:-$(cd "$(dirname "${RLM_TESTENV:-$0}")/../../rlm_crtoken" 2>/dev/null && pwd)}

# Find rlm_crtoken/ (where the samples live) relative to the repository.
_rlm_src() {
	if [ -n "${CRTOKEN_TOP:-}" ] && [ -f "$CRTOKEN_TOP/rlm_crtoken/check-eap-tls" ]; then
		echo "$CRTOKEN_TOP/rlm_crtoken"
	elif [ -n "${TOP:-}" ] && [ -f "$TOP/rlm_crtoken/check-eap-tls" ]; then
		echo "$TOP/rlm_crtoken"
	else
		echo "$_rlm_here"
	fi
}

rlm_lab_ca() {
	_d=$1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
		-subj "/CN=crtoken test lab CA/O=crtoken tests" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		-keyout "$_d/lab-ca.key" -out "$_d/lab-ca.pem" 2>/dev/null || return 1
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=radius.test/O=crtoken tests" -keyout "$_d/server.key" \
		-out "$_d/server.csr" 2>/dev/null || return 1
	printf '%s\n' "basicConstraints=critical,CA:FALSE" \
		"keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" \
		"subjectAltName=DNS:radius.test,IP:127.0.0.1" >"$_d/server.ext"
	openssl x509 -req -in "$_d/server.csr" -CA "$_d/lab-ca.pem" -CAkey "$_d/lab-ca.key" \
		-set_serial "0x$(openssl rand -hex 12)" -days 30 -extfile "$_d/server.ext" \
		-out "$_d/server.pem" 2>/dev/null
}

rlm_write_config() {
	_d=$1
	_site=$2
	_src=$(_rlm_src)
	mkdir -p "$_d/log" "$_d/run" "$_d/radacct" "$_d/lib" || return 1
	chmod 700 "$_d" "$_d/log" "$_d/run"
	cp "$RLM_BUILD/lib/rlm_crtoken.so" "$_d/lib/rlm_crtoken.so" || return 1
	chmod 0644 "$_d/lib/rlm_crtoken.so"

	_vs=""
	_post=""
	_sitecfg=""
	case "$_site" in
	crtoken)
		_vs="virtual_server = check-eap-tls-crtoken"
		_sitecfg=$(cat "$_src/check-eap-tls") || return 1
		if [ -n "${RLM_SITE_EXTRA:-}" ]; then
			_sitecfg=$(printf '%s\n' "$_sitecfg" | RLM_SITE_EXTRA=$RLM_SITE_EXTRA awk \
				'{ print } /^authorize \{$/ && !d { print ENVIRON["RLM_SITE_EXTRA"]; d = 1 }')
		fi
		;;
	stock)
		_vs="virtual_server = check-eap-tls"
		_sitecfg='server check-eap-tls {
authorize {
	crtoken
	update config {
		&Auth-Type := Accept
	}
}
}'
		;;
	none) ;;
	outer) _post="crtoken" ;;
	*)
		echo "rlm_write_config: unknown site $_site" >&2
		return 1
		;;
	esac

	_sec=""
	[ -z "${RLM_USER:-}" ] || _sec="	user = $RLM_USER
	group = $RLM_USER"

	_mod=""
	if [ "$_site" != none ]; then
		# The shipped sample, pointed at the test instance's config.
		_mod=$(sed -e "s|^\([[:space:]]*config = \).*|\1$RLM_CRTOKEN_CONF|" \
			-e "s|^crtoken {|crtoken {\n${RLM_MODULE_EXTRA:-}|" \
			"$_src/crtoken.mod") || return 1
	fi

	(
		umask 077
		cat >"$_d/radiusd.conf" <<EOF
# Private radiusd configuration for rlm_crtoken tests (written by tests/integration/radius_lib.sh).
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = \${exec_prefix}/sbin
logdir = $_d/log
raddbdir = $_d
radacctdir = $_d/radacct
name = freeradius
confdir = \${raddbdir}
modconfdir = \${confdir}/mods-config
certdir = \${confdir}
cadir = \${confdir}
run_dir = $_d/run
db_dir = \${raddbdir}
libdir = $_d/lib:/usr/lib/freeradius
pidfile = \${run_dir}/radiusd.pid
max_request_time = 30
cleanup_delay = 0
max_requests = 16384
hostname_lookups = no
proxy_requests = no

log {
	destination = files
	file = \${logdir}/radius.log
	colourise = no
	auth = yes
	auth_badpass = no
	auth_goodpass = no
}

security {
$_sec
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 0
	status_server = no
}

thread pool {
	start_servers = 4
	max_servers = 8
	min_spare_servers = 2
	max_spare_servers = 4
	max_requests_per_server = 0
	auto_limit_acct = no
}

client localhost {
	ipaddr = 127.0.0.1
	secret = $RLM_SECRET
	require_message_authenticator = no
}

modules {
	eap {
		default_eap_type = tls
		timer_expire = 60
		ignore_unknown_eap_types = no
		cisco_accounting_username_bug = no
		max_sessions = 4096

		tls-config tls-common {
			private_key_file = $RLM_SERVER_KEY
			certificate_file = $RLM_SERVER_CERT
			ca_file = $RLM_CLIENT_CAS
			cipher_list = "DEFAULT"
			cipher_server_preference = no
			tls_min_version = "1.2"
			tls_max_version = "1.2"
			ecdh_curve = ""
			cache {
				enable = no
			}
			verify {
			}
			ocsp {
				${RLM_OCSP:-enable = no}
			}
		}

		tls {
			tls = tls-common
			$_vs
		}
	}

$_mod
}

instantiate {
}

server default {
	listen {
		type = auth
		ipaddr = 127.0.0.1
		port = $RLM_PORT
	}

	authorize {
		eap {
			ok = return
		}
	}

	authenticate {
		eap
	}

	post-auth {
		$_post
		Post-Auth-Type REJECT {
			eap
		}
	}
}

$_sitecfg
EOF
	)
}

rlm_start() {
	RLM_DIR=$1
	: >"$RLM_DIR/radiusd.log"
	# shellcheck disable=SC2086
	/usr/sbin/freeradius $RLM_DEBUG -f -l stdout -d "$RLM_DIR" >"$RLM_DIR/radiusd.log" 2>&1 &
	RLM_PID=$!
	_i=0
	while [ $_i -lt 400 ]; do # up to 20 s on a loaded machine; ~0.15 s idle
		if grep -q "Ready to process requests" "$RLM_DIR/radiusd.log" 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$RLM_PID" 2>/dev/null; then
			RLM_PID=""
			return 1
		fi
		sleep 0.05
		_i=$((_i + 1))
	done
	# Without -X nothing says "Ready": accept a live process that listens.
	[ -z "$RLM_DEBUG" ] && kill -0 "$RLM_PID" 2>/dev/null && return 0
	return 1
}

rlm_stop() {
	[ -n "$RLM_PID" ] || return 0
	kill "$RLM_PID" 2>/dev/null || {
		RLM_PID=""
		return 0
	}
	_i=0
	while kill -0 "$RLM_PID" 2>/dev/null && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -9 "$RLM_PID" 2>/dev/null
	wait "$RLM_PID" 2>/dev/null
	RLM_PID=""
	return 0
}

# rlm_eapol CERT KEY OUT [SERVER_CA]
rlm_eapol() {
	_cert=$1
	_key=$2
	_out=$3
	_ca=${4:-${RLM_SERVER_CA:-}}
	cat >"$_out.conf" <<EOF
network={
	key_mgmt=WPA-EAP
	eap=TLS
	identity="crtoken-test"
	ca_cert="$_ca"
	client_cert="$_cert"
	private_key="$_key"
	eapol_flags=0
}
EOF
	# shellcheck disable=SC2086
	eapol_test -c "$_out.conf" -a 127.0.0.1 -p "$RLM_PORT" -s "$RLM_SECRET" -t 10 -r 0 \
		${RLM_EAPOL_EXTRA:-} >"$_out" 2>&1
	_rc=$?
	if [ $_rc -eq 0 ] && grep -q "Access-Accept" "$_out" && tail -1 "$_out" | grep -q '^SUCCESS'; then
		echo accept
	elif grep -q "Access-Reject" "$_out"; then
		echo reject
	else
		echo error
	fi
}
