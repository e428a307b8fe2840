#!/bin/sh
# t_radius_ocsp.sh — FreeRADIUS's own OCSP check pointed at crtokend's OCSP
# responder (issue 14): the real FreeRADIUS 3.2 server with the eap module's
# tls-config `ocsp { enable = yes  url = http://.../ocsp }` (no rlm_crtoken
# at all: the OCSP answer alone decides), eapol_test doing EAP-TLS, and
# crtokend answering the OCSP requests radiusd sends from the store: a good
# certificate is admitted, one revoked with crtoken-admin is refused by the
# OCSP check at the next authentication (no CRL to re-publish), and with the
# responder stopped (softfail = no) the check fails closed. Ports: crtokend
# 127.0.0.1:18980, radiusd 127.0.0.1:18981 (the lifecycle range 18980-18999).
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"
RLM_SRC=$TOP/rlm_crtoken
. "$TOP/tests/integration/radius_lib.sh"
RLM_BUILD=$BUILD
RLM_PORT=18981

require_programs /usr/sbin/freeradius eapol_test openssl "$ADMIN" "$CRTOKEND"
at_exit rlm_stop

http_instance "$T/inst" 18980 || { not_ok "instance"; finish; exit 1; }
I=$T/inst
R=$T/raddb
LOG=$R/radiusd.log
log_mark() { wc -l <"$LOG"; }
log_since() { tail -n "+$(($1 + 1))" "$LOG"; }

# issue NAME : certificate $T/NAME.pem (key $T/NAME.key), serial in $T/NAME.serial
issue() {
	_tok=$("$ADMIN" token create --name "$1" --cn "$1" --json) || return 1
	make_csr "$T" "$1" || return 1
	_j=$("$ADMIN" redeem "$(json_get "$_tok" token)" --csr "$T/$1.csr" --out "$T/$1.pem" \
		--json) || return 1
	json_get "$_j" serial >"$T/$1.serial"
}
serial() { cat "$T/$1.serial"; }
auth() { rlm_eapol "$T/$1.pem" "$T/$1.key" "$T/$1.out" "$T/lab-ca.pem"; }

check "crtokend started (127.0.0.1:18980)" start_crtokend
check "lab CA and radiusd server certificate (openssl)" rlm_lab_ca "$T"
RLM_SERVER_CERT=$T/server.pem
RLM_SERVER_KEY=$T/server.key
RLM_CLIENT_CAS=$I/ca.pem
# The OCSP block as README.md documents it: crtokend's responder for every
# client certificate (override_cert_url: whatever AIA the certificate names),
# the nonce checked, no soft failure.
RLM_OCSP="enable = yes
				override_cert_url = yes
				url = \"$URL/ocsp\"
				use_nonce = yes
				timeout = 5
				softfail = no"
check "alice: certificate issued" issue alice
check "bob: certificate issued" issue bob
check "radiusd with ocsp { } pointed at crtokend, no rlm_crtoken (127.0.0.1:18981)" \
	rlm_write_config "$R" none
check "radiusd started" rlm_start "$R"

m=$(log_mark)
check_eq "alice (good): Access-Accept" accept "$(auth alice)"
check_contains "... radiusd asked crtokend's OCSP responder" "$URL/ocsp" "$(log_since "$m")"
check_contains "... and was told good" "Cert status: good" "$(log_since "$m")"

check_eq "bob (good): Access-Accept" accept "$(auth bob)"

check "bob revoked with crtoken-admin" "$ADMIN" cert revoke "$(serial bob)" --reason keyCompromise
m=$(log_mark)
check_eq "bob (revoked): refused by the OCSP check, Access-Reject" reject "$(auth bob)"
check_contains "... OCSP said revoked" "Cert status: revoked" "$(log_since "$m")"
check_eq "alice is still admitted" accept "$(auth alice)"

stop_crtokend
m=$(log_mark)
check_eq "responder stopped (softfail = no): alice refused, fail closed" reject "$(auth alice)"
check_contains "... radiusd could not reach it" "ocsp" "$(log_since "$m" | tr 'A-Z' 'a-z')"
check "crtokend started again" start_crtokend
check_eq "responder back: alice admitted" accept "$(auth alice)"

rlm_stop
http_finish
