#!/bin/sh
# t_http_hardening.sh — crtokend's HTTPS offers only TLS 1.2+ with forward
# secrecy (issue 9, L2), and its log escapes control characters from
# clients, so a URL cannot forge log lines (L3).
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

http_instance "$T/inst" 18542 || { not_ok "instance"; finish; exit 1; }
# HTTPS with a self-signed RSA certificate: an RSA key is what makes
# static-RSA suites possible at all.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tls.key" -out "$T/tls.pem" \
	-subj /CN=127.0.0.1 -days 2 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
conf_set plain_http no && conf_set tls_cert "$T/tls.pem" && conf_set tls_key "$T/tls.key"
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }

# The client must be willing to speak old protocols, or a refusal proves
# nothing: no system configuration, security level 0.
hello() {
	OPENSSL_CONF=/dev/null openssl s_client -connect "127.0.0.1:$PORT" \
		-servername 127.0.0.1 "$@" </dev/null >"$T/hello.out" 2>&1
	_rc=$?
	# "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384"; "(NONE)" without a session
	sed -n 's/^New, \([^,]*\), Cipher is \(.*\)/\1 \2/p' "$T/hello.out" | head -1 | tr '\n' ' '
	echo "rc=$_rc"
}
OUT=$(hello -tls1_2)
diag "TLS 1.2 default: $OUT"
check_contains "a TLS 1.2 client is served with a forward-secret suite" "TLSv1.2 ECDHE-" "$OUT"
OUT=$(hello -tls1_3)
diag "TLS 1.3: $OUT"
check_contains "a TLS 1.3 client is served" "TLSv1.3 TLS_" "$OUT"
OUT=$(hello -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0')
diag "TLS 1.1: $OUT"
check_eq "TLS 1.1 is refused (openssl s_client -tls1_1)" "(NONE) (NONE) rc=1" "$OUT"
OUT=$(hello -tls1 -cipher 'DEFAULT:@SECLEVEL=0')
diag "TLS 1.0: $OUT"
check_eq "TLS 1.0 is refused" "(NONE) (NONE) rc=1" "$OUT"
OUT=$(hello -tls1_2 -cipher 'AES128-SHA:@SECLEVEL=0')
diag "static RSA AES128-SHA: $OUT"
check_eq "a static-RSA suite (-cipher AES128-SHA, no forward secrecy) is refused" \
	"(NONE) (NONE) rc=1" "$OUT"
OUT=$(hello -tls1_2 -cipher 'AES256-GCM-SHA384:@SECLEVEL=0')
diag "static RSA AES256-GCM-SHA384: $OUT"
check_eq "a static-RSA GCM suite is refused as well" "(NONE) (NONE) rc=1" "$OUT"

# ------------------------------------------------------------ log lines
FORGED='2026-01-01T00:00:00Z crtokend info: 10.9.9.9 "POST /client-certificates/token/x" 201'
ENC=$($PY -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$FORGED")
curl -s -o /dev/null --cacert "$T/tls.pem" "https://127.0.0.1:$PORT/healthz%0A$ENC"
curl -s -o /dev/null --cacert "$T/tls.pem" "https://127.0.0.1:$PORT/x%1B%5B2J%0D"
sleep 0.3
check_eq "a %0A in the URL cannot forge an access-log line" 0 \
	"$(grep -c '^2026-01-01T00:00:00Z crtokend' "$T/crtokend.log")"
check_contains "the newline is logged escaped" '/healthz\x0a2026-01-01' "$(cat "$T/crtokend.log")"
check_eq "no control character from a URL reaches the log (ESC, CR)" 0 \
	"$(tr -d '\n' <"$T/crtokend.log" | tr -cd '\000-\037\177' | wc -c)"
http_finish
