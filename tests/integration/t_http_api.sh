#!/bin/sh
# t_http_api.sh — crtokend's endpoints with curl: success shapes and every
# error status (400, 401, 404, 405, 409, 410, 413, 415, 422), and that a
# refused request changes nothing. The login gate is off here (t_http_gate).
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

http_instance "$T/inst" 18443 || { not_ok "instance"; finish; exit 1; }
DB=$T/inst/crtoken.db
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
apikey || { not_ok "api key"; finish; exit 1; }

count() { sqlite3 "$DB" "$1"; }

# ------------------------------------------------------------ public
req GET /healthz
check_status "GET /healthz is 200" 200 -
check_eq "healthz says ok" ok "$(jget "$T/body" "d['status']")"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' --head "$URL/healthz")
check_eq "HEAD /healthz is 200" 200 "$STATUS"

req GET /ca.pem
check_status "GET /ca.pem is 200" 200 -
check_eq "ca.pem is served as PEM" application/x-pem-file "$(header Content-Type)"
check_eq "ca.pem is the instance CA" \
	"$(openssl x509 -in "$T/inst/ca.pem" -noout -fingerprint -sha256)" \
	"$(openssl x509 -in "$T/body" -noout -fingerprint -sha256)"

req GET /crl
check_status "GET /crl is 200" 200 -
check_eq "CRL is DER by default" application/pkix-crl "$(header Content-Type)"
check "CRL parses as DER, signed by the CA" \
	openssl crl -inform DER -in "$T/body" -CAfile "$T/inst/ca.pem" -noout
req GET '/crl?format=pem'
check_contains "CRL as PEM with ?format=pem" "BEGIN X509 CRL" "$(cat "$T/body")"
req GET /crl -H 'Accept: application/x-pem-file'
check_contains "CRL as PEM with Accept" "BEGIN X509 CRL" "$(cat "$T/body")"
req GET '/crl?format=xml'
check_status "CRL format xml is 400" 400 request_invalid

# ------------------------------------------------------------ routing
req GET /nope
check_status "unknown path is 404" 404 not_found
req PUT /certificate-request-tokens
check_status "PUT on the token collection is 405" 405 method_not_allowed
check_eq "405 lists the allowed methods" "POST, GET, HEAD" "$(header Allow)"
req GET /client-certificates/token/crt_x
check_status "GET on a redemption URL is 405" 405 method_not_allowed
check_eq "405 Allow: POST" POST "$(header Allow)"

# ------------------------------------------------------------ admin auth
req GET /certificate-request-tokens
check_status "admin endpoint without a key is 401" 401 authentication_required
check_contains "401 asks for a Bearer key" 'Bearer realm="crtoken"' "$(header WWW-Authenticate)"
req GET /certificate-request-tokens -H 'Authorization: Bearer crk_notakey'
check_status "a wrong API key is 401" 401 authentication_failed
K2=$("$ADMIN" apikey create --name other --json)
K2ID=$(printf '%s' "$K2" | jget - "d['id']")
K2KEY=$(printf '%s' "$K2" | jget - "d['key']")
req GET /certificate-request-tokens -H "Authorization: Bearer $K2KEY"
check_status "a second API key works" 200 -
"$ADMIN" apikey revoke "$K2ID" >/dev/null
req GET /certificate-request-tokens -H "Authorization: Bearer $K2KEY"
check_status "a revoked API key is 401" 401 authentication_failed
"$ADMIN" apikey list --json >"$T/keys.json"
check "apikey list --json: id, name, times; the revoked key has revokedAt, the used one lastUsedAt" $PY -c '
import json, sys
ks = {k["name"]: k for k in json.load(open(sys.argv[1]))}
assert set(ks) == {"test-%s" % sys.argv[2], "other"}, ks
assert ks["other"]["revokedAt"] and ks["other"]["lastUsedAt"]
assert ks["test-%s" % sys.argv[2]]["revokedAt"] is None
assert all(k["id"].startswith("apikey-") and k["createdAt"] for k in ks.values())
assert "key" not in json.dumps(list(ks.values())).replace("apikey", "")
' "$T/keys.json" "$$"
check_eq "the key itself is not stored, only its hash" 0 "$(count "SELECT count(*) FROM api_keys WHERE hash='$K2KEY' OR id='$K2KEY'")"
check_eq "key creation and revocation are audited" 2 \
	"$(count "SELECT count(*) FROM audit WHERE object='$K2ID' AND action IN ('apikey.create','apikey.revoke')")"
check_code "revoking an unknown key id is apikey_not_found" apikey_not_found "$ADMIN" apikey revoke apikey-nope
check_fails "apikey create without --name is a usage error" "$ADMIN" apikey create
check_eq "failed API key attempts are audited with the address" 2 \
	"$(count "SELECT count(*) FROM audit WHERE action='http.apikey_failed' AND detail LIKE '%127.0.0.1%'")"

# ------------------------------------------------------------ tokens
ajreq POST /certificate-request-tokens \
	'{"name":"laptop","commonName":"alice","organization":"Example","organizationalUnit":"IT","expiresIn":"2h","replyAttributes":{"Tunnel-Type":"VLAN","Tunnel-Private-Group-Id":"42"}}'
check_status "create token is 201" 201 -
cp "$T/body" "$T/created.json"
check "created token has every documented field with its type" $PY -c '
import json, re, sys
d = json.load(open(sys.argv[1]))
rfc = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
assert d["id"].startswith("token-"), d["id"]
assert re.match(r"^crt_[A-Za-z0-9_-]{49}$", d["token"]), d["token"]
assert (d["name"], d["commonName"], d["organization"], d["organizationalUnit"], d["owner"]) == \
    ("laptop", "alice", "Example", "IT", None)
assert rfc.match(d["createdAt"]) and rfc.match(d["expiresAt"])
assert d["state"] == "active" and d["usedAt"] is None and d["serial"] is None
assert sorted(d["replyAttributes"]) == ["Tunnel-Private-Group-Id=42", "Tunnel-Type=VLAN"]
' "$T/created.json"
ID=$(jget "$T/created.json" "d['id']")
TOK=$(jget "$T/created.json" "d['token']")
check_eq "Location names the new token" "/certificate-request-tokens/$ID" "$(header Location)"
check "expiresIn 2h sets expiresAt two hours after createdAt" $PY -c '
import json, sys, datetime
d = json.load(open(sys.argv[1]))
p = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
assert (p(d["expiresAt"]) - p(d["createdAt"])).total_seconds() == 7200
' "$T/created.json"
check_eq "the token string is not stored" 0 "$(count "SELECT count(*) FROM tokens WHERE hash='$TOK' OR id='$TOK'")"
check_eq "creation is audited with the API key as actor" 1 \
	"$(count "SELECT count(*) FROM audit WHERE object='$ID' AND actor LIKE 'apikey:%'")"

AT=$($PY -c 'import datetime; print((datetime.datetime.utcnow() + datetime.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ"))')
ajreq POST /certificate-request-tokens "{\"name\":\"fixed\",\"expiresAt\":\"$AT\"}"
check_status "create with expiresAt is 201" 201 -
check_eq "expiresAt is kept" "$AT" "$(jget "$T/body" "d['expiresAt']")"
ajreq POST /certificate-request-tokens '{"name":"x","expiresAt":"tomorrow"}'
check_status "expiresAt not RFC 3339 is 400" 400 request_invalid
ajreq POST /certificate-request-tokens '{"name":"x","expiresIn":"1000d"}'
check_status "lifetime over the maximum is 422" 422 lifetime_invalid
ajreq POST /certificate-request-tokens "{\"name\":\"x\",\"expiresIn\":\"1h\",\"expiresAt\":\"$AT\"}"
check_status "expiresIn with expiresAt is 422, the library's rule" 422 lifetime_invalid
ajreq POST /certificate-request-tokens '{"commonName":"nameless"}'
check_status "create without name is 422" 422 name_required
ajreq POST /certificate-request-tokens '{"name":"x","colour":"blue"}'
check_status "unknown field is 400" 400 request_invalid
ajreq POST /certificate-request-tokens '{"name":"x",'
check_status "malformed JSON is 400" 400 request_invalid
ajreq POST /certificate-request-tokens '["name"]'
check_status "a JSON array body is 400" 400 request_invalid
ajreq POST /certificate-request-tokens '{"name":42}'
check_status "a number for name is 400" 400 request_invalid
ajreq POST /certificate-request-tokens '{"name":"x","lockedFields":["colour"]}'
check_status "unknown locked field is 400" 400 request_invalid
areq POST /certificate-request-tokens -H 'Content-Type: text/plain' --data '{"name":"x"}'
check_status "wrong Content-Type is 415" 415 unsupported_media_type
$PY -c 'import json; print(json.dumps({"name": "big", "commonName": "x" * 70000}))' >"$T/big.json"
areq POST /certificate-request-tokens -H 'Content-Type: application/json' --data-binary "@$T/big.json"
check_status "body over max_body (Content-Length) is 413" 413 request_too_large
areq POST /certificate-request-tokens -H 'Content-Type: application/json' \
	-H 'Transfer-Encoding: chunked' --data-binary "@$T/big.json"
check_status "chunked body over max_body is 413" 413 request_too_large
check_eq "refused creations stored nothing" 2 "$(count "SELECT count(*) FROM tokens")"

areq GET /certificate-request-tokens
check_status "list tokens is 200" 200 -
check_eq "list holds both tokens" 2 "$(jget "$T/body" "len(d)")"
check_eq "list never shows token strings" 0 "$(jget "$T/body" "sum('token' in t for t in d)")"
areq GET '/certificate-request-tokens?state=active'
check_eq "state=active lists the active tokens" 2 "$(jget "$T/body" "len(d)")"
areq GET '/certificate-request-tokens?state=used'
check_eq "state=used lists none yet" 0 "$(jget "$T/body" "len(d)")"
areq GET '/certificate-request-tokens?state=bogus'
check_status "unknown state is 400" 400 request_invalid

areq GET "/certificate-request-tokens/$ID"
check_status "get token is 200" 200 -
check_eq "get token by id" laptop "$(jget "$T/body" "d['name']")"
check_eq "get token hides the token string" false "$(jget "$T/body" "'token' in d")"
areq GET /certificate-request-tokens/token-00000000-0000-4000-8000-000000000000
check_status "unknown token id is 404" 404 token_not_found

ajreq PATCH "/certificate-request-tokens/$ID" '{"name":"laptop-2","organization":null,"lockedFields":["commonName"],"openFields":["organizationalUnit"]}'
check_status "update token is 200" 200 -
check_eq "update renames" laptop-2 "$(jget "$T/body" "d['name']")"
check_eq "update with null clears a field" "" "$(jget "$T/body" "d['organization']")"
check_eq "update sets lockedFields" '["commonName"]' "$(jget "$T/body" "d['lockedFields']")"
check_eq "update opens the filled OU to the redeemer" '["organizationalUnit"]' "$(jget "$T/body" "d['openFields']")"
check_eq "update keeps fields not mentioned" alice "$(jget "$T/body" "d['commonName']")"
ajreq PATCH /certificate-request-tokens/token-00000000-0000-4000-8000-000000000000 '{"name":"x"}'
check_status "update of an unknown id is 404" 404 token_not_found

# ------------------------------------------------------------ redemption
csr_body dev
req POST "/client-certificates/token/$TOK" -H 'Content-Type: text/plain' --data-binary "@$T/dev.json"
check_status "redemption with wrong Content-Type is 415" 415 unsupported_media_type
req POST "/client-certificates/token/$TOK" -H 'Content-Type: application/json'
check_status "redemption without body is 400" 400 request_invalid
jreq POST "/client-certificates/token/$TOK" '{"value":"x"}'
check_status "redemption without type is 400" 400 request_invalid
jreq POST "/client-certificates/token/$TOK" '{"type":"CSR"}'
check_status "CSR redemption without value is 400" 400 request_invalid
jreq POST "/client-certificates/token/$TOK" '{"type":"CSR","value":"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"}'
check_status "malformed CSR is 400" 400 csr_malformed
# Flip the last byte of the DER: still parses, the signature no longer verifies.
openssl req -in "$T/dev.csr" -outform DER -out "$T/bad.der"
$PY -c '
import base64, json, sys
b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 0x01
pem = "-----BEGIN CERTIFICATE REQUEST-----\n" + base64.encodebytes(bytes(b)).decode() + "-----END CERTIFICATE REQUEST-----\n"
print(json.dumps({"type": "CSR", "value": pem}))' "$T/bad.der" >"$T/bad.json"
redeem "$TOK" "$T/bad.json"
check_status "CSR with a bad signature is 400" 400 csr_bad_signature
csr_body weak -algorithm RSA -pkeyopt rsa_keygen_bits:1024
redeem "$TOK" "$T/weak.json"
check_status "RSA-1024 CSR is 422" 422 csr_weak_key
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); d["commonName"]="mallory"; print(json.dumps(d))' \
	"$T/dev.json" >"$T/override.json"
redeem "$TOK" "$T/override.json"
check_status "overriding a locked field is 422" 422 field_locked
check_eq "refused redemptions issued nothing" 0 "$(count "SELECT count(*) FROM certificates")"
areq GET "/certificate-request-tokens/$ID"
check_eq "refused redemptions left the token active" active "$(jget "$T/body" "d['state']")"

$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); d["organizationalUnit"]="Lab"; print(json.dumps(d))' \
	"$T/dev.json" >"$T/ou.json"
redeem "$TOK" "$T/ou.json"
check_status "redemption is 201" 201 -
cp "$T/body" "$T/issued.json"
check "issued certificate has every documented field with its type" $PY -c '
import json, re, sys
d = json.load(open(sys.argv[1]))
rfc = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
assert re.match(r"^[0-9a-f]+$", d["serial"]) and d["id"] == d["serial"]
assert d["name"] == "laptop-2" and d["commonName"] == "alice"
assert d["organization"] is None and d["organizationalUnit"] == "Lab"
assert "BEGIN CERTIFICATE" in d["certificate"] and "BEGIN CERTIFICATE" in d["chain"]
assert rfc.match(d["notBefore"]) and rfc.match(d["notAfter"])
' "$T/issued.json"
SERIAL=$(jget "$T/issued.json" "d['serial']")
check_eq "Location names the certificate" "/client-certificates/$SERIAL" "$(header Location)"
jget "$T/issued.json" "d['certificate']" >"$T/issued.pem"
check "issued certificate verifies against the CA" \
	openssl verify -CAfile "$T/inst/ca.pem" "$T/issued.pem"
check_eq "issued certificate carries the CSR's key" \
	"$(openssl pkey -in "$T/dev.key" -pubout)" "$(openssl x509 -in "$T/issued.pem" -noout -pubkey)"
SUBJ=$(openssl x509 -in "$T/issued.pem" -noout -subject -nameopt oneline)
check_contains "subject CN from the token" "CN = alice" "$SUBJ"
check_contains "subject OU from the allowed override" "OU = Lab" "$SUBJ"
check_eq "the CSR's own subject is not copied" "" "$(printf '%s' "$SUBJ" | grep 'CN = dev')"

redeem "$TOK" "$T/dev.json"
check_status "second redemption is 409" 409 token_used
check_eq "the used token issued exactly one certificate" 1 "$(count "SELECT count(*) FROM certificates")"
MISTYPED=$(printf '%s' "$TOK" | $PY -c 'import sys; t=sys.stdin.read(); print(t[:10] + ("A" if t[10] != "A" else "B") + t[11:])')
redeem "$MISTYPED" "$T/dev.json"
check_status "mistyped token is 404 token_mistyped" 404 token_mistyped
redeem hello "$T/dev.json"
check_status "not a token at all is 404 token_malformed" 404 token_malformed
new_instance "$T/other" >/dev/null
FOREIGN=$("$ADMIN" --config "$T/other/crtoken.conf" token create --name f --json | jget - "d['token']")
CRTOKEN_CONF=$T/inst/crtoken.conf
redeem "$FOREIGN" "$T/dev.json"
check_status "well-formed unknown token is 404 token_unknown" 404 token_unknown

new_token owned '"owner":"alice"'
redeem "$TOKEN" "$T/dev.json"
check_status "an owned token without a login (require_login = no) is 403" 403 token_owner_mismatch
new_token short '"expiresIn":1'
SHORT=$TOKEN
new_token gone
GONE=$TOKEN
GONE_ID=$TOKEN_ID
areq DELETE "/certificate-request-tokens/$GONE_ID"
check_eq "delete token is 204" 204 "$STATUS"
areq GET "/certificate-request-tokens/$GONE_ID"
check_eq "a deleted token shows state deleted" deleted "$(jget "$T/body" "d['state']")"
redeem "$GONE" "$T/dev.json"
check_status "deleted token is 410" 410 token_deleted
sleep 2
redeem "$SHORT" "$T/dev.json"
check_status "expired token is 410" 410 token_expired
areq DELETE "/certificate-request-tokens/$ID"
check_status "deleting a used token is 409" 409 token_used
check_eq "refusals are audited" 1 \
	"$(count "SELECT count(*) > 0 FROM audit WHERE action LIKE '%refused%' AND detail LIKE '%127.0.0.1%'")"

# ------------------------------------------------------------ certificates
areq GET /client-certificates
check_status "list certificates is 200" 200 -
check_eq "list holds the issued certificate" "$SERIAL" "$(jget "$T/body" "d[0]['serial']")"
check_eq "the list leaves out PEM" false "$(jget "$T/body" "'certificate' in d[0]")"
areq GET '/client-certificates?status=valid&expiringWithinDays=400'
check_eq "status=valid&expiringWithinDays=400 finds it" 1 "$(jget "$T/body" "len(d)")"
areq GET '/client-certificates?status=revoked'
check_eq "status=revoked finds none yet" 0 "$(jget "$T/body" "len(d)")"
areq GET '/client-certificates?status=bogus'
check_status "unknown status is 400" 400 request_invalid
areq GET '/client-certificates?expiringWithinDays=soon'
check_status "non-numeric expiringWithinDays is 400" 400 request_invalid
areq GET "/client-certificates/$SERIAL"
check_status "get certificate is 200" 200 -
check_contains "get certificate includes the PEM" "BEGIN CERTIFICATE" "$(jget "$T/body" "d['certificate']")"
areq GET /client-certificates/00aa00aa00aa00aa
check_status "unknown serial is 404" 404 cert_not_found
areq GET /client-certificates/not-hex
check_status "invalid serial is 400" 400 serial_invalid

areq POST "/client-certificates/$SERIAL/revoke" -H 'Content-Type: text/plain' --data 'x'
check_status "revoke with wrong Content-Type is 415" 415 unsupported_media_type
ajreq POST "/client-certificates/$SERIAL/revoke" '{"reason":"bored"}'
check_status "unknown revocation reason is 400" 400 revocation_reason_invalid
ajreq POST "/client-certificates/$SERIAL/revoke" '{"reason":"keyCompromise"}'
check_status "revoke is 200" 200 -
check_eq "revoked status" revoked "$(jget "$T/body" "d['status']")"
check_eq "revocation reason" keyCompromise "$(jget "$T/body" "d['revocationReason']")"
ajreq POST "/client-certificates/$SERIAL/revoke" '{}'
check_status "revoking twice is 409" 409 cert_revoked
req GET /crl
check_contains "the CRL lists the revoked serial at once" \
	"$(printf '%s' "$SERIAL" | tr 'a-f' 'A-F')" \
	"$(openssl crl -inform DER -in "$T/body" -noout -text)"

check_eq "no 5xx in this suite" 0 "$(grep -c '" 5[0-9][0-9]' "$T/crtokend.log")"
http_finish
