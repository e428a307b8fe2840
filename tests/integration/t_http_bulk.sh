#!/bin/sh
# t_http_bulk.sh — bulk token creation over REST (POST
# /certificate-request-tokens with "count") and token descriptions, against a
# real crtokend (port 19000): a bulk of 50 answers every token string once,
# each redeems exactly once; a bulk with one invalid field, a count out of
# bounds or of the wrong type writes nothing (no token, no audit row, no
# event); without "count" the answer is the single token as before.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

http_instance "$T/inst" 19000 || { not_ok "instance"; finish; exit 1; }
DB=$T/inst/crtoken.db
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
apikey || { not_ok "api key"; finish; exit 1; }

count() { sqlite3 "$DB" "$1"; }
# The store without the API key's own rows: tokens, their audit rows, events.
state() { count "SELECT count(*) FROM tokens; SELECT count(*) FROM audit WHERE action LIKE 'token.%';
	SELECT count(*) FROM events;" | tr '\n' ' '; }

# ------------------------------------------------------------ description
ajreq POST /certificate-request-tokens '{"name":"printer","description":"Printer room – 3rd floor"}'
check_status "a token with a description is 201" 201 -
ID=$(jget "$T/body" "d['id']")
check_eq "the 201 shows the description" "Printer room – 3rd floor" "$(jget "$T/body" "d['description']")"
areq GET "/certificate-request-tokens/$ID"
check_eq "GET one shows it" "Printer room – 3rd floor" "$(jget "$T/body" "d['description']")"
areq GET /certificate-request-tokens
check_eq "the list shows it" "Printer room – 3rd floor" \
	"$(jget "$T/body" "[t['description'] for t in d if t['id'] == '$ID'][0]")"
ajreq PATCH "/certificate-request-tokens/$ID" '{"description":"moved to the lab"}'
check_eq "PATCH changes it" "moved to the lab" "$(jget "$T/body" "d['description']")"
ajreq PATCH "/certificate-request-tokens/$ID" '{"organizationalUnit":"IT"}'
check_eq "PATCH without it leaves it" "moved to the lab" "$(jget "$T/body" "d['description']")"
ajreq PATCH "/certificate-request-tokens/$ID" '{"description":null}'
check_eq "PATCH null clears it" "None" "$(jget "$T/body" "str(d['description'])")"
check_contains "the token.update audit row carries the change" '"description":null' \
	"$(count "SELECT detail FROM audit WHERE action = 'token.update' AND object = '$ID' ORDER BY id DESC LIMIT 1")"
ajreq POST /certificate-request-tokens '{"name":"plain"}'
check_eq "a token without one shows null" "None" "$(jget "$T/body" "str(d['description'])")"
check_eq "... and the single create answers one token, as before" "true" \
	"$(jget "$T/body" "'token' in d and 'tokens' not in d and 'count' not in d")"
check "... with its Location" test -n "$(header Location)"

# ------------------------------------------------------------ a bulk of 50
csr_body dev || not_ok "a CSR"
BEFORE_T=$(count "SELECT count(*) FROM tokens")
BEFORE_A=$(count "SELECT count(*) FROM audit WHERE action = 'token.create'")
BEFORE_E=$(count "SELECT count(*) FROM events WHERE type = 'token.created'")
ajreq POST /certificate-request-tokens '{"name":"guest","organizationalUnit":"Guests","description":"conference","count":50}'
check_status "a bulk of 50 is 201" 201 -
cp "$T/body" "$T/bulk.json"
check_eq "... count 50" 50 "$(jget "$T/bulk.json" "d['count']")"
check_eq "... 50 tokens in the answer" 50 "$(jget "$T/bulk.json" "len(d['tokens'])")"
check_eq "... 50 distinct token strings" 50 "$(jget "$T/bulk.json" "len(set(t['token'] for t in d['tokens']))")"
check_eq "... named guest-1..guest-50, in order" "true" \
	"$(jget "$T/bulk.json" "[t['name'] for t in d['tokens']] == ['guest-%d' % i for i in range(1, 51)]")"
check_eq "... with the same metadata" "true" \
	"$(jget "$T/bulk.json" "all(t['organizationalUnit'] == 'Guests' and t['description'] == 'conference' and t['state'] == 'active' for t in d['tokens'])")"
check_eq "50 token rows stored" $((BEFORE_T + 50)) "$(count "SELECT count(*) FROM tokens")"
check_eq "one token.create audit row each" $((BEFORE_A + 50)) \
	"$(count "SELECT count(*) FROM audit WHERE action = 'token.create'")"
check_eq "one token.created event each" $((BEFORE_E + 50)) \
	"$(count "SELECT count(*) FROM events WHERE type = 'token.created'")"
FIRST=$(jget "$T/bulk.json" "d['tokens'][0]['token']")
check_eq "no token string is stored (tokens, audit, events)" 0 \
	"$(sqlite3 "$DB" .dump | grep -c "$FIRST")"
ok_once=0 second_used=0
for t in $(jget "$T/bulk.json" "' '.join(t['token'] for t in d['tokens'])"); do
	redeem "$t" "$T/dev.json"
	[ "$STATUS" = 201 ] && ok_once=$((ok_once + 1))
	redeem "$t" "$T/dev.json"
	[ "$STATUS" = 409 ] && [ "$(err_code)" = token_used ] && second_used=$((second_used + 1))
done
check_eq "each of the 50 redeems once" 50 "$ok_once"
check_eq "... and a second time is 409 token_used" 50 "$second_used"
check_eq "50 certificates" 50 "$(count "SELECT count(*) FROM certificates WHERE name LIKE 'guest-%'")"

# ------------------------------------------------------------ bulks that write nothing
# bulk_refused NAME HTTP CODE JSON : the bulk is refused with HTTP/CODE and the
# store keeps its tokens, audit rows and events.
bulk_refused() {
	_before=$(state)
	ajreq POST /certificate-request-tokens "$4"
	check_status "$1 is $2 $3" "$2" "$3"
	check_eq "... nothing written" "$_before" "$(state)"
}
bulk_refused "a bulk with one invalid field (description)" 422 description_invalid \
	'{"name":"bad","description":"a\tb","count":10}'
bulk_refused "a bulk whose 10th name is too long a CN" 422 field_invalid \
	"{\"name\":\"$(head -c 62 /dev/zero | tr '\0' c)\",\"count\":10}"
bulk_refused "a bulk with a bad SubjectAltName" 422 san_invalid \
	'{"name":"bad","san":{"dns":"bad_name.example"},"count":5}'
bulk_refused "a bulk without a name" 422 name_required '{"count":5}'
bulk_refused "count 0" 400 count_invalid '{"name":"bad","count":0}'
bulk_refused "count -1" 400 count_invalid '{"name":"bad","count":-1}'
bulk_refused "count 1001 (over CRT_BULK_MAX)" 400 count_invalid '{"name":"bad","count":1001}'
bulk_refused "count 2^63" 400 count_invalid '{"name":"bad","count":9223372036854775807}'
bulk_refused "count as a string" 400 count_invalid '{"name":"bad","count":"5"}'
bulk_refused "count as a fraction" 400 count_invalid '{"name":"bad","count":2.5}'
bulk_refused "count as true" 400 count_invalid '{"name":"bad","count":true}'
bulk_refused "a bulk with a token string field" 400 request_invalid \
	'{"name":"bad","count":3,"token":"crt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}'
ajreq PATCH "/certificate-request-tokens/$ID" '{"count":3}'
check_status "count in a PATCH is 400 request_invalid" 400 request_invalid
ajreq POST /certificate-request-tokens '{"name":"null-count","count":null}'
check_eq "count null is a single create" "true" "$(jget "$T/body" "'token' in d and 'tokens' not in d")"
ajreq POST /certificate-request-tokens '{"name":"one","count":1}'
check_status "count 1 is a bulk of one" 201 -
check_eq "... in the bulk shape" "one-1 1" "$(jget "$T/body" "d['tokens'][0]['name'] + ' ' + str(d['count'])")"

# A read-only key cannot make a bulk either.
RO=$("$ADMIN" apikey create --name ro --scope tokens:read --json | jget - "d['key']")
_before=$(state)
req POST /certificate-request-tokens -H "Authorization: Bearer $RO" -H 'Content-Type: application/json' \
	--data-binary '{"name":"ro","count":5}'
check_status "a tokens:read key's bulk is 403" 403 permission_denied
check_eq "... nothing written" "$_before" "$(state)"

# ------------------------------------------------------------ the maximum
ajreq POST /certificate-request-tokens '{"name":"max","count":1000}'
check_status "a bulk of 1000 (CRT_BULK_MAX) is 201" 201 -
check_eq "... 1000 tokens" 1000 "$(jget "$T/body" "len(d['tokens'])")"
check_eq "... 1000 rows" 1000 "$(count "SELECT count(*) FROM tokens WHERE name LIKE 'max-%'")"

http_finish
