#!/bin/sh
# demo.sh — `make demo`: the crtoken story, step by step, in a fresh state
# directory ($B/demo, recreated on every run and left for you to explore).
#
# The one demo script: the story below, and a chapter function per part
# (defined first, run in the middle of the story when that part was built —
# make WITH_PAM=0 / WITH_RADIUS=0 leave theirs out):
#   demo_pam      OTP enrollment and the PAM gate     (needs lib/pam_crtoken.so)
#   demo_http     the REST service and crtoken-enroll (needs bin/crtokend and the PAM module)
#   demo_radius   EAP-TLS through FreeRADIUS          (needs lib/rlm_crtoken.so)
# Chapters use CRTOKEN_TOP, B, BUILD, ADMIN, DEMO (state dir), CRTOKEN_CONF and
# the helpers step/say/run/jget.
set -eu

CRTOKEN_TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$CRTOKEN_TOP"
B=${B:-build}
BUILD=$CRTOKEN_TOP/$B
ADMIN=$BUILD/bin/crtoken-admin
DEMO=$BUILD/demo
export CRTOKEN_TOP B BUILD ADMIN DEMO

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '   %s\n' "$*"; }
# run CMD...: show the command as a user would type it, then run it.
run() {
	printf '$ %s\n' "$(echo "$*" | sed "s|$ADMIN|crtoken-admin|g; s|$DEMO/||g")" >&2
	"$@"
}
# chapter FUNC ARGS...: run a part's chapter (written for plain sh, not set -e).
chapter() {
	set +e
	"$@"
	_rc=$?
	set -e
	if [ "$_rc" -ne 0 ]; then
		echo "demo: $1 failed (status $_rc)" >&2
		exit 1
	fi
}
jget() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# ---- chapter: OTP (pam_crtoken)
#
# demo_pam
#   Enrolls alice's authenticator (URI, QR code as PNG), computes her current
#   code with oathtool like her phone would, logs in through the real PAM
#   stack (pamtester with pam_wrapper, so /etc/pam.d stays untouched), shows
#   the replayed code being refused and the audit trail. Returns non-zero if
#   any step does not behave.
#
# Uses ADMIN, BUILD, DEMO, CRTOKEN_CONF and run/say from above.

demo_pam() {
	_dp_ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
	_dp_svc=$DEMO/pam.d
	mkdir -p "$_dp_svc" || return 1

	say "The admin enrolls alice's authenticator app; the secret is shown only now."
	run "$ADMIN" otp enroll alice --png "$DEMO/alice-otp.png" --json | tee "$DEMO/otp.json" ||
		return 1
	_dp_secret=$(jget secret <"$DEMO/otp.json") || return 1
	say "alice scans alice-otp.png (or the uri) with Google Authenticator, FreeOTP, ..."

	say "The PAM service crtokend asks before every redemption (/etc/pam.d/crtoken):"
	printf 'auth     required  %s config=%s\naccount  required  %s config=%s\n' \
		"$BUILD/lib/pam_crtoken.so" "$CRTOKEN_CONF" "$BUILD/lib/pam_crtoken.so" \
		"$CRTOKEN_CONF" >"$_dp_svc/crtoken"
	echo "auth required pam_deny.so" >"$_dp_svc/other"
	sed 's/^/   | /' "$_dp_svc/crtoken"

	_dp_code=$(oathtool --totp -b "$_dp_secret") || return 1
	say "Her phone shows $_dp_code right now (oathtool --totp computes the same)."
	_dp_pam() {
		printf '%s\n' "$_dp_code" | run env LD_PRELOAD="/usr/lib/$_dp_ma/libpam_wrapper.so" \
			PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$_dp_svc" pamtester crtoken alice authenticate
	}
	_dp_pam || return 1
	echo
	say "The same code a second time is a replay and is refused:"
	if _dp_pam; then
		echo "demo_pam: the replayed code was accepted" >&2
		return 1
	fi
	echo
	run "$ADMIN" otp show alice || return 1
	run "$ADMIN" audit --action otp --limit 3 || return 1
}

# ---- chapter: HTTP (crtokend, crtoken-enroll)
#
# demo_http
#   Starts crtokend on 127.0.0.1:18496 (plain HTTP, loopback only) with the
#   PAM gate on: pam_crtoken through pam_wrapper, so /etc/pam.d stays
#   untouched. The admin makes an API key and creates a token for bob with
#   curl; bob enrolls his authenticator, then redeems with crtoken-enroll
#   (key made on his side, one-time password from oathtool as his phone
#   would show it); a second try is refused; the admin lists certificates;
#   then carol's token requires approval: crtoken-enroll waits, the admin
#   approves with the CLI, the certificate arrives, a local SMTP server
#   (aiosmtpd) shows the mail carol and the approvers got, and a command
#   sink the request.* events; crtokend and the SMTP server are stopped. Returns non-zero if a step misbehaves.
#
# Uses ADMIN, BUILD, DEMO, CRTOKEN_CONF and run/say/jget from above.

demo_http() {
	_dh_rc=0
	_dh_pid=""
	_dh_smtp_pid=""
	demo_http_steps || _dh_rc=1
	if [ -n "$_dh_pid" ]; then
		say "The admin stops the service: SIGTERM lets in-flight requests finish."
		kill -TERM "$_dh_pid" 2>/dev/null
		wait "$_dh_pid" 2>/dev/null
	fi
	if [ -n "$_dh_smtp_pid" ]; then
		kill -TERM "$_dh_smtp_pid" 2>/dev/null
		wait "$_dh_smtp_pid" 2>/dev/null
	fi
	return $_dh_rc
}

demo_http_steps() {
	_dh_port=18496
	_dh_smtp_port=18497
	_dh_url=http://127.0.0.1:$_dh_port
	_dh_ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
	_dh_svc=$DEMO/pam-http.d
	mkdir -p "$_dh_svc" "$DEMO/bob" || return 1
	PATH=$BUILD/bin:$PATH # crtoken-enroll as bob would call it

	say "[server] in crtoken.conf: plain HTTP is accepted on loopback only (use tls_cert/tls_key"
	say "for anything else); redemption needs a PAM login (require_login = yes)."
	sed -i -e "s|^;*listen *=.*|listen = 127.0.0.1:$_dh_port|" \
		-e 's|^;*plain_http *=.*|plain_http = yes|' \
		-e 's|^;*require_login *=.*|require_login = yes|' "$CRTOKEN_CONF" || return 1
	grep -A9 '^\[server\]' "$CRTOKEN_CONF" | grep -v '^;' | sed 's/^/   | /'
	say "Event sinks for the approval part below: a command that gets each event on stdin,"
	say "and mail through an SMTP relay (here a local aiosmtpd that prints what it gets) to the"
	say "approvers and to the token's owner (its ownerEmail):"
	printf '#!/bin/sh\n{ cat; echo; } >>"%s/events.log"\n' "$DEMO" >"$DEMO/event-sink.sh"
	chmod 755 "$DEMO/event-sink.sh"
	printf '\n[events]\npoll_interval = 1s\n[events.sink demo]\ntype = command\ncommand = %s\nevents = request.*, certificate.issued\n' \
		"$DEMO/event-sink.sh" >>"$CRTOKEN_CONF"
	cat >>"$CRTOKEN_CONF" <<-EOF
		[events.sink mail]
		type = email
		smtp_url = smtp://127.0.0.1:$_dh_smtp_port
		from = crtoken@example.org
		to = netadmin@example.org
		to_owner = yes
		events = request.*
		subject = [crtoken] {type}: {tokenName} ({requestId})
		body = Request {requestId} for {tokenName}: {type} at {time} by {actor}.{reason}
	EOF
	sed -n '/^\[events.sink mail\]/,$p' "$CRTOKEN_CONF" | sed 's/^/   | /'
	/usr/bin/python3 -u -m aiosmtpd -n -l "127.0.0.1:$_dh_smtp_port" >"$DEMO/smtp.log" 2>&1 &
	_dh_smtp_pid=$!
	_dh_i=0
	until /usr/bin/python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' \
		"$_dh_smtp_port" 2>/dev/null; do
		_dh_i=$((_dh_i + 1))
		if [ $_dh_i -gt 50 ] || ! kill -0 "$_dh_smtp_pid" 2>/dev/null; then
			cat "$DEMO/smtp.log" >&2
			return 1
		fi
		sleep 0.1
	done
	printf 'auth required %s config=%s\naccount required %s config=%s\n' \
		"$BUILD/lib/pam_crtoken.so" "$CRTOKEN_CONF" "$BUILD/lib/pam_crtoken.so" \
		"$CRTOKEN_CONF" >"$_dh_svc/crtoken"
	LD_PRELOAD=/usr/lib/$_dh_ma/libpam_wrapper.so PAM_WRAPPER=1 \
		PAM_WRAPPER_SERVICE_DIR="$_dh_svc" \
		"$BUILD/bin/crtokend" --config "$CRTOKEN_CONF" --foreground \
		>"$DEMO/crtokend.log" 2>&1 &
	_dh_pid=$!
	_dh_i=0
	until curl -sf "$_dh_url/healthz" >/dev/null 2>&1; do
		_dh_i=$((_dh_i + 1))
		if [ $_dh_i -gt 50 ] || ! kill -0 "$_dh_pid" 2>/dev/null; then
			cat "$DEMO/crtokend.log" >&2
			return 1
		fi
		sleep 0.1
	done
	say "crtokend is up ($(head -1 "$DEMO/crtokend.log" | sed 's/.*notice: //'))"

	echo
	say "The admin makes an API key for the REST API (shown once, stored hashed):"
	run "$ADMIN" apikey create --name demo-admin --json | tee "$DEMO/apikey.json" || return 1
	_dh_key=$(jget key <"$DEMO/apikey.json") || return 1

	echo
	say "... and creates a token for bob with curl (Frontdoor's request shape):"
	printf '$ curl -H "Authorization: Bearer crk_..." -H "Content-Type: application/json" \\\n'
	printf '    -d %s %s/certificate-request-tokens\n' \
		"'{\"name\":\"bob-phone\",\"commonName\":\"bob\",\"organization\":\"Example Corp\",\"owner\":\"bob\",\"expiresIn\":\"1d\",\"lockedFields\":[\"organization\"]}'" \
		"$_dh_url"
	curl -sf -H "Authorization: Bearer $_dh_key" -H 'Content-Type: application/json' \
		-d '{"name":"bob-phone","commonName":"bob","organization":"Example Corp","owner":"bob","expiresIn":"1d","lockedFields":["organization"]}' \
		"$_dh_url/certificate-request-tokens" >"$DEMO/bob-token.json" || return 1
	python3 -m json.tool "$DEMO/bob-token.json"
	_dh_token=$(jget token <"$DEMO/bob-token.json") || return 1
	say "The admin sends bob the token (mail, chat, printed QR code)."

	echo
	say "bob has an authenticator app (enrolled by the admin, as in the OTP chapter):"
	run "$ADMIN" otp enroll bob --no-qr --json >"$DEMO/bob-otp.json" || return 1
	_dh_code=$(oathtool --totp -b "$(jget secret <"$DEMO/bob-otp.json")") || return 1
	say "Right now it shows $_dh_code."

	echo
	say "A typo in the token is caught on bob's machine by its checksum, before any request:"
	_dh_typo=$(printf '%s' "$_dh_token" | sed 's/^\(crt_....\)./\1X/')
	[ "$_dh_typo" = "$_dh_token" ] && _dh_typo=$(printf '%s' "$_dh_token" | sed 's/^\(crt_....\)./\1Y/')
	(umask 077 && printf '%s\n' "$_dh_typo" >"$DEMO/bob-typo.txt" &&
		printf '%s\n' "$_dh_token" >"$DEMO/bob-token.txt") || return 1
	if run crtoken-enroll --server "$_dh_url" --token-file "$DEMO/bob-typo.txt" --user bob \
		--out-dir "$DEMO/bob"; then
		echo "demo: the mistyped token was accepted" >&2
		return 1
	fi

	echo
	say "bob redeems with crtoken-enroll: the key is made on his device, the CSR sent, and the"
	say "one-time password (typed at the prompt; here given as CRTOKEN_OTP) checked by PAM."
	say "The token comes from a file (or the prompt), never the command line."
	run env CRTOKEN_OTP="$_dh_code" CRTOKEN_P12_PASSPHRASE=demo-p12 \
		crtoken-enroll --server "$_dh_url" --token-file "$DEMO/bob-token.txt" --user bob \
		--out-dir "$DEMO/bob" --p12 "$DEMO/bob/bob-phone.p12" || return 1
	run ls -l "$DEMO/bob"
	run openssl verify -CAfile "$DEMO/bob/bob-phone-chain.pem" "$DEMO/bob/bob-phone.crt" || return 1

	echo
	say "The token was single use; trying again is refused with a clear message:"
	_dh_code=$(oathtool --totp -b -N "now + 30 seconds" "$(jget secret <"$DEMO/bob-otp.json")")
	if run env CRTOKEN_OTP="$_dh_code" crtoken-enroll --server "$_dh_url" \
		--token-file "$DEMO/bob-token.txt" --user bob \
		--out-dir "$DEMO/bob" --name again; then
		echo "demo: the second redemption was NOT refused" >&2
		return 1
	fi

	echo
	say "The admin sees the certificate through the API:"
	printf '$ curl -H "Authorization: Bearer crk_..." %s/client-certificates?status=valid\n' "$_dh_url"
	curl -sf -H "Authorization: Bearer $_dh_key" "$_dh_url/client-certificates?status=valid" |
		python3 -c 'import json,sys
for c in json.load(sys.stdin):
    print("   %-34s %-16s %-6s %s" % (c["serial"], c["name"], c["user"] or "-", c["notAfter"]))' ||
		return 1
	say "Access log (no token or code in it):"
	grep '"' "$DEMO/crtokend.log" | sed 's/^/   | /'
	demo_http_approval
}

# The approval part of the HTTP chapter: a token that waits for the admin.
demo_http_approval() {
	echo
	say "Approval: carol's token needs an administrator's OK before a certificate is made."
	printf '$ curl ... -d %s %s/certificate-request-tokens\n' \
		"'{\"name\":\"carol-laptop\",\"owner\":\"carol\",\"ownerEmail\":\"carol@example.org\",\"approval\":\"required\"}'" "$_dh_url"
	curl -sf -H "Authorization: Bearer $_dh_key" -H 'Content-Type: application/json' \
		-d '{"name":"carol-laptop","owner":"carol","ownerEmail":"carol@example.org","approval":"required"}' \
		"$_dh_url/certificate-request-tokens" >"$DEMO/carol-token.json" || return 1
	(umask 077 && jget token <"$DEMO/carol-token.json" >"$DEMO/carol-token.txt") || return 1
	"$ADMIN" otp enroll carol --no-qr --json >"$DEMO/carol-otp.json" || return 1
	_dh_code=$(oathtool --totp -b "$(jget secret <"$DEMO/carol-otp.json")") || return 1
	mkdir -p "$DEMO/carol" || return 1
	say "carol redeems as usual; the server stores a request (202) and crtoken-enroll waits,"
	say "polling with the request's poll secret (no second login):"
	printf '$ crtoken-enroll --server %s --token-file carol-token.txt --user carol --out-dir carol --poll-interval 1 &\n' "$_dh_url"
	CRTOKEN_OTP="$_dh_code" crtoken-enroll --server "$_dh_url" \
		--token-file "$DEMO/carol-token.txt" --user carol --out-dir "$DEMO/carol" \
		--poll-interval 1 >"$DEMO/carol-enroll.out" 2>"$DEMO/carol-enroll.err" </dev/null &
	_dh_epid=$!
	_dh_i=0
	until [ "$("$ADMIN" request list --state pending --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ]; do
		_dh_i=$((_dh_i + 1))
		if [ $_dh_i -gt 100 ] || ! kill -0 "$_dh_epid" 2>/dev/null; then
			cat "$DEMO/carol-enroll.out" "$DEMO/carol-enroll.err" >&2
			return 1
		fi
		sleep 0.1
	done
	sed 's/^/   | /' "$DEMO/carol-enroll.out"
	say "The admin looks at the pending request and approves it:"
	run "$ADMIN" request list --state pending || return 1
	_dh_rq=$("$ADMIN" request list --state pending --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["requestId"])')
	run "$ADMIN" request approve "$_dh_rq" || return 1
	wait "$_dh_epid" || { cat "$DEMO/carol-enroll.err" >&2; return 1; }
	say "crtoken-enroll saw the approval and saved the certificate:"
	sed 's/^/   | /' "$DEMO/carol-enroll.out"
	run openssl verify -CAfile "$DEMO/instance/ca.pem" "$DEMO/carol/carol-laptop.crt" || return 1
	say "The command sink received the workflow's events (delivered by crtokend):"
	_dh_i=0
	until grep -q '"request.approved"' "$DEMO/events.log" 2>/dev/null; do
		_dh_i=$((_dh_i + 1))
		[ $_dh_i -gt 100 ] && { echo "demo: no request.approved event delivered" >&2; return 1; }
		sleep 0.1
	done
	python3 -c 'import json,sys
for l in open(sys.argv[1]):
    if l.strip():
        e = json.loads(l); s = e["subject"]
        print("   %-20s %-18s %s" % (e["type"], s.get("tokenName", ""), s.get("requestId", s.get("serial", ""))))' \
		"$DEMO/events.log"
	say "The SMTP server got the mail (request.pending, then request.approved) for the approvers"
	say "and for carol:"
	_dh_i=0
	until [ "$(grep -c '^Subject: \[crtoken\] request\.' "$DEMO/smtp.log" 2>/dev/null)" -ge 2 ]; do
		_dh_i=$((_dh_i + 1))
		[ $_dh_i -gt 100 ] && { echo "demo: the request mail did not arrive" >&2; cat "$DEMO/smtp.log" >&2; return 1; }
		sleep 0.1
	done
	grep -E '^(To|Subject): |^Request ' "$DEMO/smtp.log" | sed 's/^/   | /'
	grep -q '^To: .*carol@example.org' "$DEMO/smtp.log" ||
		{ echo "demo: no mail to the token's owner" >&2; return 1; }
}

# ---- chapter: RADIUS (rlm_crtoken)
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
#   Stops the server if it still runs (demo_cleanup calls it at exit).
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
	. "$_dr_top/tests/integration/radius_lib.sh"
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

# Whatever happens (a chapter fails, ^C), nothing stays running and nothing
# stays in /tmp: every process the demo starts inherits CRTOKEN_DEMO_RUN, and
# the exit trap stops the chapters' servers, then any marked process left, by
# PID, and removes the /tmp/pam.X copies pam_wrapper leaves when a process it
# was preloaded into does not exit normally (scripts/procs.sh).
CRTOKEN_DEMO_RUN=$DEMO.$$
export CRTOKEN_DEMO_RUN
. "$CRTOKEN_TOP/scripts/procs.sh"
demo_cleanup() {
	set +e
	trap '' INT TERM HUP
	demo_radius_stop
	stop_marked CRTOKEN_DEMO_RUN quiet
	pam_wrapper_sweep
	return 0
}
trap demo_cleanup EXIT
trap 'exit 130' INT TERM HUP

rm -rf "$DEMO"
mkdir -p "$DEMO"
chmod 700 "$DEMO"
cd "$DEMO"

step "1. The admin creates a crtoken instance with its own CA"
run "$ADMIN" init --dir "$DEMO/instance" --ca-subject "/CN=Example Corp 802.1X CA/O=Example Corp"
CRTOKEN_CONF=$DEMO/instance/crtoken.conf
export CRTOKEN_CONF

step "2. The admin pre-approves a certificate: a certificate request token"
say "name, CN, O, OU and the VLAN FreeRADIUS should assign; valid for 2 days, single use"
run "$ADMIN" token create --name "alice-laptop" --cn alice --org "Example Corp" --ou Staff \
	--lock org --expires 2d --reply Tunnel-Type=VLAN --reply Tunnel-Medium-Type=IEEE-802 \
	--reply Tunnel-Private-Group-Id=42 --reply "Reply-Message=Welcome to VLAN 42" \
	--json | tee token.json
TOKEN=$(jget token <token.json)
say "The token string is shown only this once; the store keeps its SHA-256 only."

step "3. Alice makes her own key pair and CSR (the private key never leaves her device)"
run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$DEMO/alice.key"
run openssl req -new -key "$DEMO/alice.key" -subj "/CN=whatever-alice-types" -out "$DEMO/alice.csr"

step "4. She redeems the token with her CSR"
run "$ADMIN" redeem "$TOKEN" --csr "$DEMO/alice.csr" --out "$DEMO/alice.pem" --chain-out "$DEMO/chain.pem"

step "5. The certificate checks out against the CA"
run openssl verify -CAfile "$DEMO/instance/ca.pem" "$DEMO/alice.pem"
run openssl x509 -in "$DEMO/alice.pem" -noout -subject -serial -startdate -enddate -ext extendedKeyUsage,basicConstraints
say "The subject came from the token, not from the CSR's \"whatever-alice-types\"."
SERIAL=$(openssl x509 -in "$DEMO/alice.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')

step "6. The token is single use: a second redemption is refused"
if run "$ADMIN" redeem "$TOKEN" --csr "$DEMO/alice.csr"; then
	echo "demo: the second redemption was NOT refused" >&2
	exit 1
fi
say "refused with token_used, as it must be"

# The parts' chapters run here, while the certificate is still valid.
HAVE_PAM=0 HAVE_HTTP=0 HAVE_RADIUS=0
[ -f "$BUILD/lib/pam_crtoken.so" ] && HAVE_PAM=1
[ "$HAVE_PAM" = 1 ] && [ -x "$BUILD/bin/crtokend" ] && HAVE_HTTP=1
[ -f "$BUILD/lib/rlm_crtoken.so" ] && HAVE_RADIUS=1
if [ "$HAVE_PAM" = 1 ]; then
	step "7. Two-factor gate: OTP enrollment and a PAM login (pam_crtoken)"
	chapter demo_pam
else
	say "(pam_crtoken and crtokend were not built (WITH_PAM=0): chapters 7 and 8 left out)"
fi
if [ "$HAVE_HTTP" = 1 ]; then
	step "8. The enrollment service: crtokend and crtoken-enroll over HTTP"
	chapter demo_http
fi
if [ "$HAVE_RADIUS" = 1 ]; then
	step "9. FreeRADIUS admits exactly the issued certificate over EAP-TLS"
	chapter demo_radius "$DEMO/alice.pem" "$DEMO/alice.key"
else
	say "(rlm_crtoken was not built (WITH_RADIUS=0): chapter 9 left out)"
fi

step "10. The admin revokes the certificate and publishes a CRL"
run "$ADMIN" cert revoke "$SERIAL" --reason keyCompromise
run "$ADMIN" crl --out "$DEMO/crl.pem"
run openssl crl -in "$DEMO/crl.pem" -noout -text
if openssl crl -in "$DEMO/crl.pem" -noout -text | grep -qi "$SERIAL"; then
	say "The CRL lists serial $SERIAL."
else
	echo "demo: the CRL does not list $SERIAL" >&2
	exit 1
fi
if [ "$HAVE_RADIUS" = 1 ]; then
	chapter demo_radius_revoked "$DEMO/alice.pem" "$DEMO/alice.key"
fi

step "11. Everything above is in the audit trail"
run "$ADMIN" audit --limit 12

printf '\n\033[1mDemo complete.\033[0m State kept in %s (CRTOKEN_CONF=%s)\n' "$DEMO" "$CRTOKEN_CONF"

# Without crtokend (make WITH_PAM=0) there is no page to show.
[ "$HAVE_HTTP" = 1 ] || exit 0

# The self-service page: the chapters stopped crtokend, so the demo writes a
# script that starts it again on the demo's state (PAM through pam_wrapper,
# as in the HTTP chapter), makes a fresh token and says how to sign in.
PORTAL_LISTEN=$(sed -n 's/^listen = //p' "$CRTOKEN_CONF" | head -1)
if [ -z "$PORTAL_LISTEN" ]; then
	PORTAL_LISTEN=127.0.0.1:18496
	sed -i -e "s|^;*listen *=.*|listen = $PORTAL_LISTEN|" -e 's|^;*plain_http *=.*|plain_http = yes|' \
		"$CRTOKEN_CONF"
fi
PORTAL_URL=http://$PORTAL_LISTEN/enroll
PORTAL_MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
PORTAL_PAM=$DEMO/pam-portal.d
mkdir -p "$PORTAL_PAM"
printf 'auth required %s config=%s\naccount required %s config=%s\n' \
	"$BUILD/lib/pam_crtoken.so" "$CRTOKEN_CONF" "$BUILD/lib/pam_crtoken.so" "$CRTOKEN_CONF" \
	>"$PORTAL_PAM/$(sed -n 's/^pam_service = //p' "$CRTOKEN_CONF" | head -1 | grep . || echo crtoken)"
"$ADMIN" otp enroll visitor --no-qr --json >"$DEMO/visitor-otp.json"
cat >"$DEMO/portal.sh" <<PORTAL
#!/bin/sh
# portal.sh — written by make demo: crtokend on the demo's state, in the
# foreground, serving the self-service page at $PORTAL_URL (Ctrl-C stops it).
set -eu
TOKEN=\$("$ADMIN" --config "$CRTOKEN_CONF" token create --name "portal-\$(date +%s)" --cn visitor-laptop --json |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
SECRET=\$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["secret"])' "$DEMO/visitor-otp.json")
echo "The page:  $PORTAL_URL"
echo "A token:   \$TOKEN"
echo "Sign in as visitor with the code of: oathtool --totp -b \$SECRET"
if [ -n "\${DISPLAY:-}\${WAYLAND_DISPLAY:-}" ] && command -v xdg-open >/dev/null; then
	(sleep 1; xdg-open "$PORTAL_URL") >/dev/null 2>&1 &
fi
LD_PRELOAD=/usr/lib/$PORTAL_MA/libpam_wrapper.so PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$PORTAL_PAM" \\
	exec "$BUILD/bin/crtokend" --config "$CRTOKEN_CONF" --foreground
PORTAL
chmod 755 "$DEMO/portal.sh"
printf '\n\033[1mThe self-service page:\033[0m %s\n' "$PORTAL_URL"
printf 'Open it: sh %s   (starts crtokend on this state, prints a token and the sign-in; then open the URL in a browser)\n' \
	"$B/demo/portal.sh"
