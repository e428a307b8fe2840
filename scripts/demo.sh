#!/bin/sh
# demo.sh — `make demo`: the crtoken story, step by step, in a fresh state
# directory ($B/demo, recreated on every run and left for you to explore).
#
# Chapters from the other parts are shell fragments sourced below when they
# exist; each defines one function:
#   enroll/demo.sh        demo_http     — the REST service and crtoken-enroll
#   pam_crtoken/demo.sh   demo_pam      — OTP enrollment and the PAM gate
#   rlm_crtoken/demo.sh   demo_radius   — EAP-TLS through FreeRADIUS
# They may use: CRTOKEN_TOP, B, BUILD, ADMIN, DEMO (state dir), CRTOKEN_CONF.
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
	command -v demo_radius_stop >/dev/null 2>&1 && demo_radius_stop
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

# The other chapters run here, while the certificate is still valid.
for part in enroll pam_crtoken rlm_crtoken; do
	[ -f "$CRTOKEN_TOP/$part/demo.sh" ] && . "$CRTOKEN_TOP/$part/demo.sh"
done
if command -v demo_pam >/dev/null 2>&1; then
	step "7. Two-factor gate: OTP enrollment and a PAM login (pam_crtoken)"
	chapter demo_pam
fi
if command -v demo_http >/dev/null 2>&1; then
	step "8. The enrollment service: crtokend and crtoken-enroll over HTTP"
	chapter demo_http
fi
if command -v demo_radius >/dev/null 2>&1; then
	step "9. FreeRADIUS admits exactly the issued certificate over EAP-TLS"
	chapter demo_radius "$DEMO/alice.pem" "$DEMO/alice.key"
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
if command -v demo_radius_revoked >/dev/null 2>&1; then
	chapter demo_radius_revoked "$DEMO/alice.pem" "$DEMO/alice.key"
fi

step "11. Everything above is in the audit trail"
run "$ADMIN" audit --limit 12

printf '\n\033[1mDemo complete.\033[0m State kept in %s (CRTOKEN_CONF=%s)\n' "$DEMO" "$CRTOKEN_CONF"
