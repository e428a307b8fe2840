#!/bin/sh
# t_http_scopes.sh — scoped API keys (crtoken-admin apikey create --scope,
# --profiles): every admin route names the scope it needs (crtokend
# --route-scopes, the same table as openapi.yaml's x-scope), a key outside
# its scope is answered 403 permission_denied with an audit row and nothing
# else written, a key limited to some profiles creates tokens of those
# only, and the keys made without --scope keep every power. Port 18940.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

A=$ADMIN
http_instance "$T/inst" 18940 || { not_ok "instance"; finish; exit 1; }
DB=$T/inst/crtoken.db
cat >>"$CRTOKEN_CONF" <<'CONF'

[profile guest]
days = 1

[profile staff]
days = 90
CONF
count() { sqlite3 "$DB" "$1"; }

# ------------------------------------------------------------ the route table
"$CRTOKEND" --route-scopes >"$T/rs"
check_eq "crtokend --route-scopes: every admin route names a scope" 0 $?
check_eq "... seventeen admin routes, none without a scope" "17 0" \
	"$(grep -vc ' -$' "$T/rs") $(grep -c '(none)' "$T/rs")"
check "openapi.yaml's x-scope of each operation is the route table's" $PY -c '
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
want = {}
for line in open(sys.argv[2]):
    m, p, s = line.split()
    want[(m.lower(), p)] = s
for p, item in doc["paths"].items():
    for m, op in item.items():
        if m not in ("get", "post", "put", "patch", "delete"):
            continue
        admin = {"apiKey": []} in op.get("security", [])
        got = op.get("x-scope", "-")
        assert want[(m, p)] == (got if admin else "-"), (m, p, got, want[(m, p)])
        if admin:
            assert "403" in op["responses"], (m, p)' "$TOP/enroll/openapi.yaml" "$T/rs"

# ------------------------------------------------------------ keys from the CLI
mkkey() { # NAME ARGS... : a key; its string in $K, id in $KID
	_kn=$1
	shift
	"$A" apikey create --name "$_kn" "$@" --json >"$T/key.json" || return 1
	K=$(jget "$T/key.json" "d['key']")
	KID=$(jget "$T/key.json" "d['id']")
}
mkkey reader --scope tokens:read || not_ok "reader key"
READER=$K READER_ID=$KID
check_eq "apikey create --json shows the scopes" tokens:read "$(jget "$T/key.json" "d['scopes']")"
mkkey writer --scope tokens:write || not_ok "writer key"
WRITER=$K WRITER_ID=$KID
mkkey guestonly --scope 'tokens:write, tokens:read' --profiles guest || not_ok "guest key"
GUEST=$K GUEST_ID=$KID
check_eq "... and the profiles" "tokens:read,tokens:write guest" \
	"$(jget "$T/key.json" "d['scopes'] + ' ' + d['profiles']")"
mkkey auditor --scope audit:read || not_ok "auditor key"
AUDITOR=$K
mkkey revoker --scope certs:revoke || not_ok "revoker key"
REVOKER=$K
mkkey full || not_ok "key without --scope"
FULL=$K
check_eq "a key without --scope has every scope" all "$(jget "$T/key.json" "d['scopes']")"
check_eq "... and no profile limit" None "$(jget "$T/key.json" "str(d['profiles'])")"

NKEYS=$(count "SELECT count(*) FROM api_keys")
NAUDIT=$(count "SELECT count(*) FROM audit")
check_code "an unknown scope name is refused at create: scope_unknown" scope_unknown \
	"$A" apikey create --name bad --scope tokens:read,tokens:admin
check_code "an empty scope list is refused" scope_unknown "$A" apikey create --name bad --scope ''
check_code "an unknown profile is refused at create: profile_unknown" profile_unknown \
	"$A" apikey create --name bad --profiles guest,nope
check_code "a malformed profile list is refused: field_invalid" field_invalid \
	"$A" apikey create --name bad --profiles 'guest,,staff'
check_eq "... none of them wrote a key or an audit row" "$NKEYS $NAUDIT" \
	"$(count "SELECT count(*) FROM api_keys") $(count "SELECT count(*) FROM audit")"

"$A" apikey list --json >"$T/keys.json"
check "apikey list --json shows scopes and profiles" $PY -c '
import json, sys
ks = {k["name"]: k for k in json.load(open(sys.argv[1]))}
assert ks["reader"]["scopes"] == "tokens:read" and ks["reader"]["profiles"] is None, ks["reader"]
assert ks["guestonly"]["profiles"] == "guest", ks["guestonly"]
assert ks["full"]["scopes"] == "all", ks["full"]' "$T/keys.json"
check_contains "apikey list shows them as text" "tokens:read,tokens:write profiles=guest" \
	"$("$A" apikey list)"
check_contains "apikey show ID" "scopes:     tokens:read" "$("$A" apikey show "$READER_ID")"
check_eq "apikey show --json" "guest" "$("$A" apikey show "$GUEST_ID" --json | jget - "d['profiles']")"
check_code "apikey show of an unknown id: apikey_not_found" apikey_not_found \
	"$A" apikey show apikey-nope

start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
kreq() { # KEY METHOD PATH [curl args]
	_k=$1
	shift
	_m=$1
	_p=$2
	shift 2
	req "$_m" "$_p" -H "Authorization: Bearer $_k" "$@"
}
kjreq() { # KEY METHOD PATH JSON
	kreq "$1" "$2" "$3" -H 'Content-Type: application/json' --data-binary "$4"
}
denials() { count "SELECT count(*) FROM audit WHERE action = 'http.permission_denied'"; }

# ------------------------------------------------------------ attacks
NTOK=$(count "SELECT count(*) FROM tokens")
D0=$(denials)
kjreq "$READER" POST /certificate-request-tokens '{"name":"sneaky"}'
check_status "attack_readonly_key_creates_token: 403 permission_denied" 403 permission_denied
check_contains "... the message names the missing scope" tokens:write "$(cat "$T/body")"
check_eq "... no token written" "$NTOK" "$(count "SELECT count(*) FROM tokens")"
check_eq "... one audit row http.permission_denied" $((D0 + 1)) "$(denials)"
check_eq "... by the key, naming route and scope" \
	"apikey:$READER_ID|$READER_ID|POST|/certificate-request-tokens|tokens:write" \
	"$(count "SELECT actor, object, json_extract(detail, '\$.method'), json_extract(detail, '\$.route'),
		json_extract(detail, '\$.scope') FROM audit WHERE action = 'http.permission_denied'
		ORDER BY id DESC LIMIT 1")"
kreq "$READER" GET /certificate-request-tokens
check_status "the reader lists tokens" 200 -
kreq "$READER" GET /profiles
check_status "... and profiles (tokens:read)" 200 -
kreq "$READER" GET /client-certificates
check_status "... but not certificates (certs:read)" 403 permission_denied
kreq "$READER" DELETE /certificate-request-tokens/token-x
check_status "... nor delete a token" 403 permission_denied

kjreq "$WRITER" POST /certificate-request-tokens '{"name":"by-writer"}'
check_status "the writer creates a token" 201 -
WTOK_ID=$(jget "$T/body" "d['id']")
kreq "$WRITER" GET "/certificate-request-tokens/$WTOK_ID"
check_status "... but cannot read it back (tokens:read is a scope of its own)" 403 permission_denied
kjreq "$WRITER" PATCH "/certificate-request-tokens/$WTOK_ID" '{"name":"renamed"}'
check_status "... and updates it" 200 -

NTOK=$(count "SELECT count(*) FROM tokens")
D0=$(denials)
kjreq "$GUEST" POST /certificate-request-tokens '{"name":"x","profile":"staff"}'
check_status "attack_key_limited_to_profile_creates_other_profile: 403" 403 permission_denied
check_contains "... the message names the profile" staff "$(cat "$T/body")"
kjreq "$GUEST" POST /certificate-request-tokens '{"name":"x"}'
check_status "... nor the default profile (not in its list)" 403 permission_denied
check_eq "... no token written, both audited" "$NTOK $((D0 + 2))" \
	"$(count "SELECT count(*) FROM tokens") $(denials)"
check_eq "... the audit row names the profile" staff \
	"$(count "SELECT json_extract(detail, '\$.profile') FROM audit
		WHERE action = 'http.permission_denied' ORDER BY id DESC LIMIT 1 OFFSET 1")"
kjreq "$GUEST" POST /certificate-request-tokens '{"name":"visitor","profile":"guest"}'
check_status "the guest-only key creates a guest token" 201 -
check_eq "... of profile guest" guest "$(jget "$T/body" "d['profile']")"
GTOK_ID=$(jget "$T/body" "d['id']")
kjreq "$GUEST" PATCH "/certificate-request-tokens/$GTOK_ID" '{"profile":"staff"}'
check_status "... and cannot move it to another profile by update" 422 -
check_eq "... it stays guest" guest \
	"$(count "SELECT profile FROM tokens WHERE id = '$GTOK_ID'")"

# Keys are managed with crtoken-admin only: there is no REST route through
# which a key could widen its own scope.
kjreq "$WRITER" PATCH "/certificate-request-tokens/$WTOK_ID" '{"scopes":"all"}'
check_status "attack_scope_escalation_via_update: a scopes member is refused" 400 request_invalid
for p in /api-keys "/api-keys/$WRITER_ID" /apikeys "/apikeys/$WRITER_ID"; do
	kjreq "$WRITER" PATCH "$p" '{"scopes":"all"}'
	check_status "... PATCH $p is no route (404)" 404 not_found
done
kreq "$WRITER" GET /certificate-request-tokens
check_status "... and the key still lacks tokens:read" 403 permission_denied
check_eq "... its stored scopes are unchanged" tokens:write \
	"$(count "SELECT scopes FROM api_keys WHERE id = '$WRITER_ID'")"

kreq "$REVOKER" POST /client-certificates/0a0b/revoke
check_status "a certs:revoke key passes the scope check (the serial is unknown)" 404 cert_not_found
kreq "$REVOKER" GET /client-certificates/0a0b
check_status "... but may not read certificates" 403 permission_denied
kreq "$AUDITOR" GET /certificate-request-tokens
check_status "an audit:read key cannot list tokens" 403 permission_denied
kreq "$AUDITOR" GET /audit
check_status "... but lists the audit trail" 200 -
kreq "$READER" GET /audit
check_status "... which a tokens:read key may not" 403 permission_denied
mkkey approver --scope requests:read,requests:approve || not_ok "approver key"
APPROVER=$K
kreq "$APPROVER" GET /certificate-requests
check_status "a requests:read key lists certificate requests" 200 -
kreq "$READER" GET /certificate-requests
check_status "... a tokens:read key may not" 403 permission_denied
kreq "$READER" POST /certificate-requests/req-x/approve
check_status "... nor approve one" 403 permission_denied
kreq "$APPROVER" POST /certificate-requests/req-x/approve
check_status "a requests:approve key passes the scope check (the request is unknown)" 404 -

# ------------------------------------------------------------ paging (token list)
kreq "$FULL" GET '/certificate-request-tokens?page=1&size=2&sort=-createdAt'
check_status "a page of tokens" 200 -
check_eq "... two items, page 1, size 2, the total of all" "2 1 2 $(count "SELECT count(*) FROM tokens")" \
	"$(jget "$T/body" "'%d %d %d %d' % (len(d['items']), d['page'], d['size'], d['total'])")"
kreq "$FULL" GET '/certificate-request-tokens?sort=name&size=500'
check "... sort=name orders by name" $PY -c '
import json, sys
names = [t["name"] for t in json.load(open(sys.argv[1]))["items"]]
assert names == sorted(names), names' "$T/body"
kreq "$FULL" GET '/certificate-request-tokens?page=1000&size=500'
check_eq "... a page past the end is empty, with the total" "0 $(count "SELECT count(*) FROM tokens")" \
	"$(jget "$T/body" "'%d %d' % (len(d['items']), d['total'])")"
kreq "$FULL" GET /certificate-request-tokens
check_eq "... without page, size or sort: the bare array of before" list "$(jget "$T/body" "type(d).__name__")"
for q in page=0 page=x size=501 size=0 'size=-1'; do
	kreq "$FULL" GET "/certificate-request-tokens?$q"
	check_status "... $q is 400 page_invalid" 400 page_invalid
done
for q in 'sort=hash' 'sort=name%3B%20DROP%20TABLE%20tokens' 'sort=created_at'; do
	kreq "$FULL" GET "/certificate-request-tokens?$q"
	check_status "... $q is 400 sort_invalid" 400 sort_invalid
done

kreq "$FULL" GET '/client-certificates?page=1&size=5&sort=-notAfter'
check_status "a page of certificates" 200 -
check_eq "... with the total" "$(count "SELECT count(*) FROM certificates")" "$(jget "$T/body" "d['total']")"
kreq "$FULL" GET '/client-certificates?sort=pem'
check_status "... sort=pem is 400 sort_invalid" 400 sort_invalid
kreq "$FULL" GET '/client-certificates?size=9999'
check_status "... size=9999 is 400 page_invalid" 400 page_invalid

# ------------------------------------------------------------ the keys of before
for r in "GET /certificate-request-tokens" "GET /client-certificates" "GET /profiles"; do
	kreq "$FULL" $r
	check_status "a key without --scope: $r" 200 -
done
kjreq "$FULL" POST /certificate-request-tokens '{"name":"any","profile":"staff"}'
check_status "... creates tokens of any profile" 201 -
sqlite3 "$DB" "UPDATE api_keys SET scopes = NULL WHERE id = '$READER_ID'"
kjreq "$READER" POST /certificate-request-tokens '{"name":"migrated"}'
check_status "a key whose row has no scopes (made before the migration) has every scope" 201 -

http_finish
