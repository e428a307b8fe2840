# demo.sh — the HTTP chapter of `make demo` (POSIX sh fragment, sourced by
# scripts/demo.sh, which calls demo_http when it is defined).
#
# demo_http
#   Starts crtokend on 127.0.0.1:18496 (plain HTTP, loopback only) with the
#   PAM gate on: pam_crtoken through pam_wrapper, so /etc/pam.d stays
#   untouched. The admin makes an API key and creates a token for bob with
#   curl; bob enrolls his authenticator, then redeems with crtoken-enroll
#   (key made on his side, one-time password from oathtool as his phone
#   would show it); a second try is refused; the admin lists certificates;
#   crtokend is stopped with SIGTERM. Returns non-zero if a step misbehaves.
#
# Uses ADMIN, BUILD, DEMO, CRTOKEN_CONF and run/say/jget from scripts/demo.sh.

demo_http() {
	_dh_rc=0
	_dh_pid=""
	demo_http_steps || _dh_rc=1
	if [ -n "$_dh_pid" ]; then
		say "The admin stops the service: SIGTERM lets in-flight requests finish."
		kill -TERM "$_dh_pid" 2>/dev/null
		wait "$_dh_pid" 2>/dev/null
	fi
	return $_dh_rc
}

demo_http_steps() {
	_dh_port=18496
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
}
