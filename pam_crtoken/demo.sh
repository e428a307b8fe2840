# demo.sh — the OTP chapter of `make demo` (POSIX sh fragment, sourced by
# scripts/demo.sh, which calls demo_pam when it is defined).
#
# demo_pam
#   Enrolls alice's authenticator (URI, QR code as PNG), computes her current
#   code with oathtool like her phone would, logs in through the real PAM
#   stack (pamtester with pam_wrapper, so /etc/pam.d stays untouched), shows
#   the replayed code being refused and the audit trail. Returns non-zero if
#   any step does not behave.
#
# Uses ADMIN, BUILD, DEMO, CRTOKEN_CONF and run/say from scripts/demo.sh.

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
