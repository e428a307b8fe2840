#!/bin/sh
# t_ocsp.sh — crtokend's OCSP responder (RFC 6960) with the real `openssl
# ocsp` client: good for an issued certificate, revoked (time and reason)
# right after `crtoken-admin revoke`, unknown for a serial never issued and
# for a request naming another CA (even one with the same name), the nonce
# echoed, malformed requests answered malformedRequest (never a 500),
# several CertIDs in one request, POST and GET (base64 with '/' literal or
# %2F), signed by the CA and by the delegated signer of
# `crtoken-admin ocsp-signer create` (verified with -CAfile and -VAfile).
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

http_instance "$T/inst" 18690 || { not_ok "instance"; finish; exit 1; }
I=$T/inst
DB=$I/crtoken.db
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }

# issue NAME : a certificate via crtoken-admin; serial in $SERIAL.
issue() {
	_j=$("$ADMIN" token create --name "$1" --json) &&
		make_csr "$T" "$1" &&
		SERIAL=$("$ADMIN" redeem "$(json_get "$_j" token)" --csr "$T/$1.csr" --json |
			jget - "d['serial']")
	[ -n "$SERIAL" ]
}
# ocsp OUT ARGS... : `openssl ocsp` against crtokend (POST), output in $T/OUT.
ocsp() {
	_o=$1
	shift
	openssl ocsp -url "$URL/ocsp" -resp_text "$@" >"$T/$_o" 2>&1
}
# status_of FILE SERIAL : the status openssl printed for SERIAL.
status_of() { sed -n "s/^0x$2: //p" "$T/$1" | head -1; }

issue alice || not_ok "issue alice"
ALICE=$SERIAL
issue bob || not_ok "issue bob"
BOB=$SERIAL

# ------------------------------------------------------------ CA as signer
ocsp good -issuer "$I/ca.pem" -serial "0x$ALICE" -CAfile "$I/ca.pem"
check_eq "an issued certificate is good" good "$(status_of good "$ALICE")"
check_contains "... the response verifies against the CA (-CAfile)" "Response verify OK" \
	"$(cat "$T/good")"
check_contains "... the nonce is echoed" "OCSP Nonce" "$(cat "$T/good")"
check_eq "... and matches (openssl warns on none or a mismatch)" 0 "$(grep -ci warning "$T/good")"
check_contains "... signed by the CA" "Responder Id: CN = crtoken CA" "$(cat "$T/good")"
check_contains "... with a nextUpdate" "Next Update:" "$(cat "$T/good")"
check_contains "... and producedAt" "Produced At:" "$(cat "$T/good")"

ocsp nononce -issuer "$I/ca.pem" -serial "0x$ALICE" -CAfile "$I/ca.pem" -no_nonce
check_eq "a request without a nonce gets a response without one" 0 \
	"$(grep -c 'OCSP Nonce' "$T/nononce")"

ocsp unknown -issuer "$I/ca.pem" -serial 0x0badc0ffee -CAfile "$I/ca.pem"
check_eq "ocsp_serial_never_issued_is_unknown_not_good" unknown \
	"$(status_of unknown 0badc0ffee)"

# Several CertIDs in one request: each answered.
ocsp multi -issuer "$I/ca.pem" -serial "0x$ALICE" -serial 0x0badc0ffee -serial "0x$BOB" \
	-CAfile "$I/ca.pem"
check_eq "three CertIDs in one request: good, unknown, good" "good unknown good" \
	"$(status_of multi "$ALICE") $(status_of multi 0badc0ffee) $(status_of multi "$BOB")"

# ------------------------------------------------------------ revocation
check "crtoken-admin cert revoke --reason keyCompromise" \
	"$ADMIN" cert revoke "$ALICE" --reason keyCompromise
ocsp revoked -issuer "$I/ca.pem" -serial "0x$ALICE" -CAfile "$I/ca.pem"
check_eq "revoked right after the revoke" revoked "$(status_of revoked "$ALICE")"
check_contains "... with its reason" "Reason: keyCompromise" "$(cat "$T/revoked")"
RAT=$(sqlite3 "$DB" "SELECT revoked_at FROM certificates WHERE serial = '$ALICE'")
check_contains "... and the stored revocation time" \
	"Revocation Time: $(LC_ALL=C date -u -d "@$RAT" '+%b %e %H:%M:%S %Y GMT')" "$(cat "$T/revoked")"
check "crtoken-admin cert revoke (no reason: unspecified)" "$ADMIN" cert revoke "$BOB"
ocsp revoked2 -issuer "$I/ca.pem" -serial "0x$BOB" -CAfile "$I/ca.pem"
check_eq "revoked without a reason: revoked, no reason given (as in the CRL)" "revoked 0" \
	"$(status_of revoked2 "$BOB") $(grep -c 'Reason:' "$T/revoked2")"
issue carol || not_ok "issue carol"
CAROL=$SERIAL

# ------------------------------------------------------------ another issuer
# A second CA with the very same name: issuerNameHash matches, issuerKeyHash not.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/other.key" \
	-subj "/CN=crtoken CA" -days 30 -out "$T/other.pem" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign 2>/dev/null
ocsp other -issuer "$T/other.pem" -serial "0x$CAROL" -CAfile "$I/ca.pem"
check_eq "ocsp_request_for_another_issuers_serial_is_not_answered_good (same name, other key)" \
	unknown "$(status_of other "$CAROL")"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/third.key" \
	-subj "/CN=Another CA" -days 30 -out "$T/third.pem" 2>/dev/null
ocsp third -issuer "$T/third.pem" -serial "0x$CAROL" -CAfile "$I/ca.pem"
check_eq "ocsp_request_for_another_issuers_serial_is_not_answered_good (other name)" \
	unknown "$(status_of third "$CAROL")"
# A request signed by a stranger's key changes nothing (requests need no signature).
ocsp signed -issuer "$T/other.pem" -serial "0x$CAROL" -signer "$T/other.pem" \
	-signkey "$T/other.key" -CAfile "$I/ca.pem"
check_eq "ocsp_request_signed_by_a_stranger_is_not_answered_good" unknown \
	"$(status_of signed "$CAROL")"

# ------------------------------------------------------------ malformed requests
openssl ocsp -issuer "$I/ca.pem" -serial "0x$CAROL" -reqout "$T/req.der" >/dev/null 2>&1
# resp_status FILE : the responseStatus openssl reads in a DER response.
resp_status() { openssl ocsp -respin "$1" -resp_text -noverify 2>&1 | sed -n 's/.*Responder Error: //p;s/.*OCSP Response Status: //p' | head -1; }
printf 'not an OCSP request' >"$T/garbage"
req POST /ocsp -H 'Content-Type: application/ocsp-request' --data-binary "@$T/garbage"
check_eq "ocsp_garbage_request_is_malformedRequest_not_a_500" \
	"200 application/ocsp-response" "$STATUS $(header Content-Type)"
check_contains "... answering malformedRequest" "malformedrequest" "$(resp_status "$T/body")"
head -c 40 "$T/req.der" >"$T/trunc.der"
req POST /ocsp -H 'Content-Type: application/ocsp-request' --data-binary "@$T/trunc.der"
check_contains "ocsp_truncated_request_is_malformedRequest" "malformedrequest" \
	"$(resp_status "$T/body")"
{ cat "$T/req.der"; printf 'x'; } >"$T/trail.der"
req POST /ocsp -H 'Content-Type: application/ocsp-request' --data-binary "@$T/trail.der"
check_contains "ocsp_request_with_trailing_bytes_is_malformedRequest" "malformedrequest" \
	"$(resp_status "$T/body")"
req POST /ocsp -H 'Content-Type: application/ocsp-request'
check_contains "an empty POST /ocsp is malformedRequest" "malformedrequest" \
	"$(resp_status "$T/body")"
set --
i=0
while [ $i -lt 17 ]; do set -- "$@" -serial "0x$i$i"; i=$((i + 1)); done
openssl ocsp -issuer "$I/ca.pem" "$@" -reqout "$T/many.der" >/dev/null 2>&1
req POST /ocsp -H 'Content-Type: application/ocsp-request' --data-binary "@$T/many.der"
check_contains "seventeen CertIDs (more than sixteen) are refused: malformedRequest" \
	"malformedrequest" "$(resp_status "$T/body")"
req POST /ocsp -H 'Content-Type: application/json' --data-binary "@$T/req.der"
check_status "POST /ocsp with another Content-Type is 415" 415 unsupported_media_type
head -c 20000 /dev/zero >"$T/big"
req POST /ocsp -H 'Content-Type: application/ocsp-request' --data-binary "@$T/big"
check_status "a request body over 16 KiB is 413" 413 request_too_large
check "crtokend still answers" openssl ocsp -url "$URL/ocsp" -issuer "$I/ca.pem" \
	-serial "0x$CAROL" -CAfile "$I/ca.pem"

# ------------------------------------------------------------ GET (RFC 6960 A.1)
# A request whose base64 holds a '/', sent with '/' as %2F and as a literal slash.
i=0
while [ $i -lt 40 ]; do
	openssl ocsp -issuer "$I/ca.pem" -serial "0x$CAROL" -reqout "$T/g.der" >/dev/null 2>&1
	B64=$(base64 -w0 "$T/g.der")
	case $B64 in */*) break ;; esac
	i=$((i + 1))
done
ENC=$(printf '%s' "$B64" | sed 's|%|%25|g; s|/|%2F|g; s|+|%2B|g; s|=|%3D|g')
req GET "/ocsp/$ENC"
check_eq "GET /ocsp/{percent-encoded base64} is 200 application/ocsp-response" \
	"200 application/ocsp-response" "$STATUS $(header Content-Type)"
cp "$T/body" "$T/g1.der"
# getcheck N : response $T/gN.der verified against the request (its nonce
# included) and the CA; the status of carol's serial in $T/gN.
getcheck() {
	openssl ocsp -reqin "$T/g.der" -respin "$T/g$1.der" -VAfile "$I/ca.pem" >"$T/g$1.v" 2>&1
	openssl ocsp -respin "$T/g$1.der" -issuer "$I/ca.pem" -serial "0x$CAROL" -no_nonce \
		-CAfile "$I/ca.pem" >"$T/g$1" 2>&1
}
getcheck 1
check_eq "... good" good "$(status_of g1 "$CAROL")"
check_eq "... verified, the request's nonce echoed (openssl checks it)" "1 0" \
	"$(grep -c 'Response verify OK' "$T/g1.v") $(grep -ci -e warning -e error "$T/g1.v")"
curl -s -o "$T/g2.der" "$URL/ocsp/$B64"
getcheck 2
check_eq "GET with the base64's '/' left as a literal slash: good, verified" "good 1" \
	"$(status_of g2 "$CAROL") $(grep -c 'Response verify OK' "$T/g2.v")"
req GET "/ocsp/@@not-base64@@"
check_contains "GET /ocsp/{not base64} is malformedRequest" "malformedrequest" \
	"$(resp_status "$T/body")"
req GET /ocsp
check_status "GET /ocsp (no request) is 405, POST only" 405 method_not_allowed

# ------------------------------------------------------------ delegated signer
check "crtoken-admin ocsp-signer create --days 30" \
	sh -c "\"$ADMIN\" ocsp-signer create --days 30 --json >\"$T/signer.json\""
check_eq "... writes ocsp-signer.pem beside the CA, its key 0600" "$I/ocsp-signer.pem 600" \
	"$(jget "$T/signer.json" "d['certificate']") $(stat -c %a "$I/ocsp-signer.key")"
check_contains "... with OCSP Signing and OCSP No Check" "OCSP Signing" \
	"$(openssl x509 -in "$I/ocsp-signer.pem" -noout -ext extendedKeyUsage,noCheck)"
check "... issued by the CA" openssl verify -CAfile "$I/ca.pem" -purpose ocsphelper \
	"$I/ocsp-signer.pem"
check_eq "... audited as ocsp.signer.create" 1 \
	"$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE action = 'ocsp.signer.create'")"
check_eq "... and not a client certificate (not stored, RADIUS never admits it)" 0 \
	"$(sqlite3 "$DB" "SELECT count(*) FROM certificates WHERE serial = '$(jget "$T/signer.json" "d['serial']")'")"
conf_set signer_cert ocsp-signer.pem && conf_set signer_key ocsp-signer.key ||
	not_ok "set [ocsp] signer"
# reload : SIGHUP crtokend, wait for its log line.
reload() {
	_c=$(grep -c 'reloaded configuration' "$T/crtokend.log")
	kill -HUP "$CRTOKEND_PID"
	_i=0
	while [ $_i -lt 100 ] && [ "$(grep -c 'reloaded configuration' "$T/crtokend.log")" = "$_c" ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
}
reload
ocsp dgood -issuer "$I/ca.pem" -serial "0x$CAROL" -CAfile "$I/ca.pem"
check_eq "delegated signer: good, verified against the CA (-CAfile)" "good 1" \
	"$(status_of dgood "$CAROL") $(grep -c 'Response verify OK' "$T/dgood")"
check_contains "... signed by the delegated signer" "Responder Id: CN = crtoken CA OCSP" \
	"$(cat "$T/dgood")"
ocsp dva -issuer "$I/ca.pem" -serial "0x$ALICE" -VAfile "$I/ocsp-signer.pem"
check_eq "delegated signer: revoked, verified with -VAfile" "revoked 1" \
	"$(status_of dva "$ALICE") $(grep -c 'Response verify OK' "$T/dva")"
ocsp dother -issuer "$T/other.pem" -serial "0x$CAROL" -CAfile "$I/ca.pem"
check_eq "delegated signer: another issuer's request is unknown" unknown \
	"$(status_of dother "$CAROL")"

# A signer the CA did not issue is never used: the responder answers
# internalError (and logs why) rather than sign with it.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/rogue.key" \
	-subj "/CN=crtoken CA OCSP" -days 30 -out "$T/rogue.pem" \
	-addext extendedKeyUsage=OCSPSigning 2>/dev/null
chmod 600 "$T/rogue.key"
conf_set signer_cert "$T/rogue.pem" && conf_set signer_key "$T/rogue.key"
reload
req POST /ocsp -H 'Content-Type: application/ocsp-request' --data-binary "@$T/req.der"
check_contains "ocsp_signer_not_issued_by_the_ca_is_never_used (internalError)" "internalerror" \
	"$(resp_status "$T/body")"
check_contains "... and the log says why" "not issued by the CA" "$(cat "$T/crtokend.log")"

http_finish
