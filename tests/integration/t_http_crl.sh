#!/bin/sh
# t_http_crl.sh — one CRL rule everywhere: GET /crl (public) serves the CRL
# the store keeps and re-signs only when it is stale, even when [ca]
# crl_file cannot be written; revoking publishes a fresh CRL in the same
# call, over HTTP and in crtoken-admin alike.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

http_instance "$T/inst" 18550 || { not_ok "instance"; finish; exit 1; }
DB=$T/inst/crtoken.db
conf_set crl_file "$T/no/such/dir/crl.pem"
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
apikey || { not_ok "api key"; finish; exit 1; }

count() { sqlite3 "$DB" "$1"; }
# crl_number FILE [FORM] : the CRL number of a CRL file (DER unless FORM), decimal.
crl_number() { echo $(($(openssl crl -inform "${2:-DER}" -in "$1" -noout -crlnumber | cut -d= -f2))); }
# issue NAME : a certificate via crtoken-admin; serial in $SERIAL.
issue() {
	_j=$("$ADMIN" token create --name "$1" --json) &&
		make_csr "$T" "$1" &&
		SERIAL=$("$ADMIN" redeem "$(json_get "$_j" token)" --csr "$T/$1.csr" --json |
			jget - "d['serial']")
	[ -n "$SERIAL" ]
}
issue alice || not_ok "issue alice"
issue bob || not_ok "issue bob"

# ------------------------------------------------------------ unwritable crl_file
req GET /crl
check_status "GET /crl with an unwritable crl_file is 200" 200 -
N0=$(crl_number "$T/body")
AUDIT0=$(count "SELECT count(*) FROM audit")
META0=$(count "SELECT value FROM meta WHERE key = 'crl_number'")
i=0
: >"$T/numbers"
while [ $i -lt 100 ]; do
	curl -s -o "$T/crl.der" "$URL/crl"
	crl_number "$T/crl.der" >>"$T/numbers"
	i=$((i + 1))
done
check_eq "a hundred GET /crl all serve CRL number $N0" "100 1 $N0" \
	"$(wc -l <"$T/numbers" | tr -d ' ') $(sort -u "$T/numbers" | wc -l | tr -d ' ') $(sort -u "$T/numbers" | head -1)"
check_eq "... and write no audit row" "$AUDIT0" "$(count "SELECT count(*) FROM audit")"
check_eq "... and leave the CRL number in the store alone" "$META0" \
	"$(count "SELECT value FROM meta WHERE key = 'crl_number'")"
check_contains "the log says the file could not be written (once)" "was not written" \
	"$(cat "$T/crtokend.log")"

# ------------------------------------------------------------ revoke over HTTP
ajreq POST "/client-certificates/$SERIAL/revoke" '{"reason":"keyCompromise"}'
check_status "HTTP revoke is 200" 200 -
req GET /crl
N1=$(crl_number "$T/body")
check_eq "HTTP revoke published the next CRL" "$((N0 + 1))" "$N1"
check_contains "... listing bob's serial" "$(echo "$SERIAL" | tr a-f A-F)" \
	"$(openssl crl -inform DER -in "$T/body" -noout -text)"
check_eq "... signed by the revocation, not by a reader" 1 \
	"$(count "SELECT count(*) FROM audit WHERE action = 'crl.generate' AND actor != 'crtokend'")"

# ------------------------------------------------------------ revoke with crtoken-admin
conf_set crl_file "$T/crl.pem"
issue carol || not_ok "issue carol"
check "crtoken-admin cert revoke" "$ADMIN" cert revoke "$SERIAL" --reason superseded
check_eq "CLI revoke wrote the fresh CRL to crl_file at once" "$((N1 + 1))" \
	"$(crl_number "$T/crl.pem" PEM)"
check_contains "... listing carol's serial" "$(echo "$SERIAL" | tr a-f A-F)" \
	"$(openssl crl -in "$T/crl.pem" -noout -text)"
AUDIT1=$(count "SELECT count(*) FROM audit")
req GET /crl
check_eq "crtokend serves the CLI's CRL without re-signing" "$((N1 + 1))" "$(crl_number "$T/body")"
check_eq "... and without an audit row" "$AUDIT1" "$(count "SELECT count(*) FROM audit")"
check_eq "both revocations were published alike (one crl.generate each, why=revocation)" 2 \
	"$(count "SELECT count(*) FROM audit WHERE action = 'crl.generate' AND detail LIKE '%\"why\":\"revocation\"%'")"

# ------------------------------------------------------------ crtoken-admin crl
check "crtoken-admin crl writes the current CRL" "$ADMIN" crl --out "$T/c1.pem"
check_eq "... without re-signing a fresh one" "$((N1 + 1))" \
	"$(crl_number "$T/c1.pem" PEM)"
check "crtoken-admin crl --force re-signs" "$ADMIN" crl --force --out "$T/c2.pem"
check_eq "... with the next number" "$((N1 + 2))" \
	"$(crl_number "$T/c2.pem" PEM)"

http_finish
