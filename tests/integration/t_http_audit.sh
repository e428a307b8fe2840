#!/bin/sh
# t_http_audit.sh — GET /audit (scope audit:read): filters (actor, action
# exact or dotted prefix, object, since, until), pages cut by the store
# (page, size, sort, total), newest first by default; refusals with their
# stable codes (permission_denied, time_invalid, filter_invalid,
# page_invalid, sort_invalid), and the attacks on the query: a sort naming
# SQL never reaches it, quotes and % in a filter are literal. Then the
# other lists paged by the store: GET /certificate-requests (with its state
# filter) and GET /certificate-request-tokens. Port 19020.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

A=$ADMIN
http_instance "$T/inst" 19020 || { not_ok "instance"; finish; exit 1; }
DB=$T/inst/crtoken.db
count() { sqlite3 "$DB" "$1"; }
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
apikey || { not_ok "api key"; finish; exit 1; }
mkkey() { # NAME ARGS... : a key's string in $K
	"$A" apikey create --name "$1" --scope "$2" --json >"$T/key.json" || return 1
	K=$(jget "$T/key.json" "d['key']")
}
mkkey auditor audit:read || not_ok "auditor key"
AUDITOR=$K
mkkey reader tokens:read,certs:read,requests:read || not_ok "reader key"
READER=$K
# kreq KEY METHOD PATH : a request with that key
kreq() {
	_k=$1
	_m=$2
	_p=$3
	req "$_m" "$_p" -H "Authorization: Bearer $_k"
}
# summary : "<items> <total> <page> <size>" of the last page
summary() { jget "$T/body" "'%d %d %d %d' % (len(d['items']), d['total'], d['page'], d['size'])"; }

# Rows of known times, actors and objects (the 2020s: before anything the
# instance wrote), written as a writer would (the audit table is the trail).
sqlite3 "$DB" <<'SQL'
INSERT INTO audit(at, actor, action, object, detail) VALUES
 (1577836800, 'admin:alice', 'token.create', 'token-a', NULL),          -- 2020-01-01T00:00:00Z
 (1577836801, 'admin:alice', 'token.delete', 'token-a', NULL),          -- 2020-01-01T00:00:01Z
 (1577923200, 'admin:bob', 'cert.revoke', '0a0b', '{"reason":1}'),     -- 2020-01-02T00:00:00Z
 (1578009600, 'admin:bob', 'token', 'token-b', NULL),                   -- 2020-01-03T00:00:00Z
 (1578096000, 'ev%il', 'tokenize', 'x_y', NULL),                        -- 2020-01-04T00:00:00Z
 (1578096000, 'evXil', 'token_x', 'xzy', NULL),                         -- 2020-01-04T00:00:00Z
 (1578182400, 'o''brien', 'token.create', 'it''s', NULL);               -- 2020-01-05T00:00:00Z
SQL
for i in 1 2 3; do new_token "audited-$i" || not_ok "token $i"; done
TOTAL=$(count "SELECT count(*) FROM audit")

# ------------------------------------------------------------ who may read it
kreq "$AUDITOR" GET /audit
check_status "an audit:read key lists the audit trail" 200 -
check_eq "... one page of everything: items, total, page 1, size 100" "$TOTAL $TOTAL 1 100" "$(summary)"
check "... newest first (at, then id, descending)" $PY -c '
import json, sys
items = json.load(open(sys.argv[1]))["items"]
keys = [(i["at"], i["id"]) for i in items]
assert keys == sorted(keys, reverse=True), keys' "$T/body"
check_eq "... the newest is the last token.create, by the API key" "token.create" \
	"$(jget "$T/body" "d['items'][0]['action']")"
kreq "$READER" GET /audit
check_status "a key without audit:read is refused: 403 permission_denied" 403 permission_denied
req GET /audit
check_status "... and no key at all: 401" 401 authentication_required
check_eq "... the refusal is audited" 1 \
	"$(count "SELECT count(*) FROM audit WHERE action = 'http.permission_denied'")"
TOTAL=$(count "SELECT count(*) FROM audit")

# ------------------------------------------------------------ filters
kreq "$AUDITOR" GET '/audit?actor=admin:alice'
check_eq "actor= is exact: alice's two rows" "2 2" "$(jget "$T/body" "'%d %d' % (len(d['items']), d['total'])")"
kreq "$AUDITOR" GET '/audit?actor=admin'
check_eq "... not a prefix" "0 0" "$(jget "$T/body" "'%d %d' % (len(d['items']), d['total'])")"
kreq "$AUDITOR" GET '/audit?action=token&since=2020-01-01T00:00:00Z&until=2021-01-01T00:00:00Z'
check_eq "action=token: token and token.*, not tokenize nor token_x" \
	"token token.create token.create token.delete" \
	"$(jget "$T/body" "' '.join(sorted(i['action'] for i in d['items']))")"
kreq "$AUDITOR" GET '/audit?action=token.&since=2020-01-01T00:00:00Z&until=2021-01-01T00:00:00Z'
check_eq "action=token. : token.* only" "token.create token.create token.delete" \
	"$(jget "$T/body" "' '.join(sorted(i['action'] for i in d['items']))")"
kreq "$AUDITOR" GET '/audit?action=token.create'
check_eq "action=token.create: the exact action (2 of 2020 and the 3 tokens)" 5 \
	"$(jget "$T/body" "d['total']")"
kreq "$AUDITOR" GET '/audit?object=token-a'
check_eq "object= is exact" "2 token-a" \
	"$(jget "$T/body" "'%d %s' % (d['total'], d['items'][0]['object'])")"
kreq "$AUDITOR" GET '/audit?object=0a0b'
check_eq "... detail is the JSON value written" 1 "$(jget "$T/body" "d['items'][0]['detail']['reason']")"
kreq "$AUDITOR" GET '/audit?since=2020-01-02T00:00:00Z&until=2020-01-04T00:00:00Z'
check_eq "since is inclusive, until exclusive" "cert.revoke token" \
	"$(jget "$T/body" "' '.join(i['action'] for i in reversed(d['items']))")"
kreq "$AUDITOR" GET '/audit?since=2020-01-01T00:00:00.999Z&until=2020-01-01T00:00:01%2B00:00'
check_eq "... fractional seconds are dropped, +00:00 is UTC" "1 token.create" \
	"$(jget "$T/body" "'%d %s' % (d['total'], d['items'][0]['action'])")"
kreq "$AUDITOR" GET '/audit?actor=admin:bob&action=cert&since=2020-01-01T00:00:00Z'
check_eq "filters combine (all must hold)" "1 0a0b" \
	"$(jget "$T/body" "'%d %s' % (d['total'], d['items'][0]['object'])")"
kreq "$AUDITOR" GET '/audit?since=2021-01-01T00:00:00Z&action=token.create'
check_eq "since after the 2020 rows: the three token.create of today" 3 "$(jget "$T/body" "d['total']")"

for q in since=yesterday 'since=2026-12-01' 'since=2026-12-01T10:00:00' \
	'since=2026-12-01T10:00:00%2B02:00' 'until=2026-02-30T00:00:00Z' 'until=2026-12-01T24:00:00Z' \
	'since=1969-12-31T23:59:59Z' 'since=2026-12-01T10:00:00Zjunk' \
	'since=2021-01-02T00:00:00Z&until=2021-01-01T00:00:00Z'; do
	kreq "$AUDITOR" GET "/audit?$q"
	check_status "$q is 400 time_invalid" 400 time_invalid
done
LONG=$($PY -c 'print("a" * 257)')
for q in 'actor=' 'action=' "object=$LONG" 'actor=a%0Ab'; do
	kreq "$AUDITOR" GET "/audit?$q"
	check_status "$(printf '%.30s' "$q") is 400 filter_invalid" 400 filter_invalid
done

# ------------------------------------------------------------ pages
kreq "$AUDITOR" GET '/audit?size=3'
check_eq "size=3: three items, the total of all" "3 $TOTAL 1 3" "$(summary)"
FIRST=$(jget "$T/body" "','.join(str(i['id']) for i in d['items'])")
kreq "$AUDITOR" GET '/audit?size=3&page=2'
SECOND=$(jget "$T/body" "','.join(str(i['id']) for i in d['items'])")
check "... page 2 continues page 1 without overlap" $PY -c '
import sys
a, b = [list(map(int, x.split(","))) for x in sys.argv[1:3]]
assert not set(a) & set(b) and len(b) == 3, (a, b)' "$FIRST" "$SECOND"
LAST=$(((TOTAL + 2) / 3))
kreq "$AUDITOR" GET "/audit?size=3&page=$LAST"
check_eq "... the last page has the rest" "$((TOTAL - (LAST - 1) * 3)) $TOTAL $LAST 3" "$(summary)"
kreq "$AUDITOR" GET "/audit?size=3&page=$((LAST + 1))"
check_status "... a page past the end is 200" 200 -
check_eq "... with no items and the total" "0 $TOTAL $((LAST + 1)) 3" "$(summary)"
kreq "$AUDITOR" GET '/audit?size=500&page=1000000'
check_eq "... the largest page and size" "0 $TOTAL 1000000 500" "$(summary)"
kreq "$AUDITOR" GET '/audit?size=1&since=2020-01-01T00:00:00Z&until=2020-01-02T00:00:00Z&page=2'
check_eq "... a filtered page 2 of size 1" "1 2 2 1 token.create" \
	"$(jget "$T/body" "'%d %d %d %d %s' % (len(d['items']), d['total'], d['page'], d['size'], d['items'][0]['action'])")"
for q in page=0 page=x size=0 size=501 'size=-1' 'page=1000001'; do
	kreq "$AUDITOR" GET "/audit?$q"
	check_status "$q is 400 page_invalid" 400 page_invalid
done
kreq "$AUDITOR" GET '/audit?sort=at&until=2021-01-01T00:00:00Z'
check_eq "sort=at: oldest first" "token.create token.delete cert.revoke" \
	"$(jget "$T/body" "' '.join(i['action'] for i in d['items'][:3])")"
kreq "$AUDITOR" GET '/audit?sort=actor&until=2021-01-01T00:00:00Z'
check "sort=actor orders by actor (bytewise), id breaking ties" $PY -c '
import json, sys
items = json.load(open(sys.argv[1]))["items"]
keys = [(i["actor"].encode(), i["id"]) for i in items]
assert keys == sorted(keys), keys' "$T/body"
kreq "$AUDITOR" GET '/audit?sort=-object&until=2021-01-01T00:00:00Z&size=1'
check_eq "sort=-object: the greatest object first" xzy "$(jget "$T/body" "d['items'][0]['object']")"

# ------------------------------------------------------------ attacks on the query
BEFORE=$(count "SELECT count(*) FROM audit")
for q in 'sort=name%3BDROP%20TABLE%20audit' 'sort=at%3B%20DROP%20TABLE%20audit--' \
	'sort=at%20DESC' 'sort=(SELECT%201)' 'sort=detail'; do
	kreq "$AUDITOR" GET "/audit?$q"
	check_status "attack_sort_sql_injection: $q is 400 sort_invalid" 400 sort_invalid
done
check_eq "... the audit table is intact" "$BEFORE" \
	"$(count "SELECT count(*) FROM audit")"
kreq "$AUDITOR" GET "/audit?actor=x'%20OR%20'1'%3D'1"
check_eq "attack_audit_filter_injection: a quote in actor is literal (no rows)" "0 0" \
	"$(jget "$T/body" "'%d %d' % (len(d['items']), d['total'])")"
kreq "$AUDITOR" GET "/audit?actor=o'brien"
check_eq "... a real actor with a quote is found" "1 it's" \
	"$(jget "$T/body" "'%d %s' % (d['total'], d['items'][0]['object'])")"
kreq "$AUDITOR" GET '/audit?actor=ev%25il'
check_eq "... % in actor is literal: ev%il, not evXil" "1 ev%il" \
	"$(jget "$T/body" "'%d %s' % (d['total'], d['items'][0]['actor'])")"
kreq "$AUDITOR" GET '/audit?action=tok%25'
check_eq "... % in action matches nothing" 0 "$(jget "$T/body" "d['total']")"
kreq "$AUDITOR" GET '/audit?object=x_y'
check_eq "... _ in object is literal: x_y, not xzy" "1 x_y" \
	"$(jget "$T/body" "'%d %s' % (d['total'], d['items'][0]['object'])")"
kreq "$AUDITOR" GET '/audit?action=token_'
check_eq "... and in action" 0 "$(jget "$T/body" "d['total']")"
kreq "$AUDITOR" GET "/audit?object=%27%29%20OR%201%3D1%20--"
check_eq "... a closing parenthesis and comment in object change nothing" 0 "$(jget "$T/body" "d['total']")"
check_eq "... and the table is still intact" "$BEFORE" "$(count "SELECT count(*) FROM audit")"

# ------------------------------------------------------------ the other lists, paged by the store
N=0
for i in 1 2 3 4; do
	new_token "appr-$i" '"approval":"required"' || not_ok "approval token"
	csr_body "appr-$i" && redeem "$TOKEN" "$T/appr-$i.json"
	[ "$STATUS" = 202 ] && N=$((N + 1))
done
check_eq "four pending certificate requests" 4 "$N"
kreq "$READER" GET '/certificate-requests?size=3'
check_eq "GET /certificate-requests?size=3: a page of 3 of 4, newest first" "3 4 1 3" "$(summary)"
check "... newest first" $PY -c '
import json, sys
c = [i["createdAt"] for i in json.load(open(sys.argv[1]))["items"]]
assert c == sorted(c, reverse=True), c' "$T/body"
kreq "$READER" GET '/certificate-requests?size=3&page=2&state=pending'
check_eq "... page 2 with the state filter: the last one" "1 4 2 3" "$(summary)"
kreq "$READER" GET '/certificate-requests?page=9&state=denied'
check_eq "... a page past the end: no items, the total (none denied)" "0 0 9 100" "$(summary)"
kreq "$READER" GET '/certificate-requests?state=pending'
check_eq "... without page, size or sort: the bare array of before" "list 4" \
	"$(jget "$T/body" "type(d).__name__ + ' %d' % len(d)")"
kreq "$READER" GET '/certificate-requests?sort=csr'
check_status "... sort=csr is 400 sort_invalid" 400 sort_invalid
kreq "$READER" GET '/certificate-requests?sort=createdAt%3BDELETE%20FROM%20certificate_requests'
check_status "attack_sort_sql_injection on the request list: 400 sort_invalid" 400 sort_invalid
check_eq "... the requests are intact" 4 "$(count "SELECT count(*) FROM certificate_requests")"
kreq "$READER" GET '/certificate-requests?size=2&limit=5'
check_status "... limit with a page is 400 request_invalid" 400 request_invalid
kreq "$READER" GET '/certificate-requests?size=0'
check_status "... size=0 is 400 page_invalid" 400 page_invalid

NT=$(count "SELECT count(*) FROM tokens")
kreq "$READER" GET '/certificate-request-tokens?size=4&sort=-createdAt'
check_eq "GET /certificate-request-tokens?size=4: four of all, with the total" "4 $NT 1 4" "$(summary)"
kreq "$READER" GET "/certificate-request-tokens?size=4&page=$(((NT + 3) / 4))"
check_eq "... the last page" "$((NT - (NT + 3) / 4 * 4 + 4)) $NT" \
	"$(jget "$T/body" "'%d %d' % (len(d['items']), d['total'])")"
kreq "$READER" GET '/certificate-request-tokens?state=used&size=500'
check_eq "... the state filter is the store's too (the redeemed approval tokens)" "4 4" \
	"$(jget "$T/body" "'%d %d' % (len(d['items']), d['total'])")"
kreq "$READER" GET '/certificate-request-tokens?sort=name;DROP%20TABLE%20tokens'
check_status "attack_sort_sql_injection on the token list: 400 sort_invalid" 400 sort_invalid
check_eq "... the tokens are intact" "$NT" "$(count "SELECT count(*) FROM tokens")"

# ------------------------------------------------------------ crtoken-admin: the same filters and pages
# jlen CMD... : "<len or items/total>" of the JSON CMD prints
check_eq "audit --actor: exact, the rows as an array without paging" "list 2" \
	"$("$A" audit --actor admin:alice --json | jget - "type(d).__name__ + ' %d' % len(d)")"
check_eq "audit --actor --size 1 --page 2: one page with the total" "1 2 2 1 token.create" \
	"$("$A" audit --actor admin:alice --size 1 --page 2 --json |
		jget - "'%d %d %d %d %s' % (len(d['items']), d['total'], d['page'], d['size'], d['items'][0]['action'])")"
check_eq "audit --subject, --since (inclusive), --until (exclusive)" "token.delete" \
	"$("$A" audit --subject token-a --since 2020-01-01T00:00:01Z --until 2020-01-02T00:00:00Z --json |
		jget - "' '.join(i['action'] for i in d)")"
check_eq "audit --object is --subject" 2 "$("$A" audit --object token-a --json | jget - "len(d)")"
check_eq "audit --action token. --until: token.* only" "token.create token.create token.delete" \
	"$("$A" audit --action token. --until 2021-01-01T00:00:00Z --json | jget - "' '.join(sorted(i['action'] for i in d))")"
check_eq "audit --actor with % is literal" "1 ev%il" \
	"$("$A" audit --actor 'ev%il' --json | jget - "'%d %s' % (len(d), d[0]['actor'])")"
check_eq "audit --sort actor --until --size 2: the smallest actors" "admin:alice admin:alice" \
	"$("$A" audit --sort actor --until 2021-01-01T00:00:00Z --size 2 --json | jget - "' '.join(i['actor'] for i in d['items'])")"
"$A" audit --actor admin:bob --page 1 >"$T/cli.out" 2>"$T/cli.err"
check_eq "... text: one line per row, the page line on stderr" "2 page 1 (size 50): 2 of 2" \
	"$(wc -l <"$T/cli.out") $(cat "$T/cli.err")"
check_eq "audit --action --limit without filters: the newest rows as before" "list 3" \
	"$("$A" audit --action token --limit 3 --json | jget - "type(d).__name__ + ' %d' % len(d)")"
check_code "audit --since that is not RFC 3339: time_invalid" time_invalid "$A" audit --since 2020-01-01
check_code "audit --since after --until: time_invalid" time_invalid "$A" audit \
	--since 2020-01-02T00:00:00Z --until 2020-01-01T00:00:00Z
check_code "audit --actor '': filter_invalid" filter_invalid "$A" audit --actor ''
check_code "attack_sort_sql_injection through the CLI: sort_invalid" sort_invalid "$A" audit --sort 'at;DROP TABLE audit'
check_code "audit --size 501: page_invalid" page_invalid "$A" audit --size 501
"$A" audit --limit 5 --size 5 >/dev/null 2>&1
check_eq "audit --limit with --size is a usage error" 2 $?
"$A" audit --since 2020-01-01 >/dev/null 2>&1
check_eq "... and a bad time exits 2" 2 $?

NT=$(count "SELECT count(*) FROM tokens")
check_eq "token list without paging: every token, an array" "$NT" "$("$A" token list --json | jget - "len(d)")"
check_eq "token list --page 2 --size 3 --sort name: a page with the total" "3 $NT 2 3" \
	"$("$A" token list --page 2 --size 3 --sort name --json | jget - "'%d %d %d %d' % (len(d['items']), d['total'], d['page'], d['size'])")"
check_eq "token list --state used --size 500" "4 4" \
	"$("$A" token list --state used --size 500 --json | jget - "'%d %d' % (len(d['items']), d['total'])")"
check_code "token list --size 0: page_invalid" page_invalid "$A" token list --size 0
check_code "token list --sort hash: sort_invalid" sort_invalid "$A" token list --sort hash
check_eq "cert list --size 1: a page of none with the total 0" "0 0" \
	"$("$A" cert list --size 1 --json | jget - "'%d %d' % (len(d['items']), d['total'])")"
check_code "cert list --sort pem: sort_invalid" sort_invalid "$A" cert list --sort pem
check_eq "request list --state pending --page 2 --size 3: the oldest" "1 4" \
	"$("$A" request list --state pending --page 2 --size 3 --json | jget - "'%d %d' % (len(d['items']), d['total'])")"
check_eq "request list without paging: the array of before" "list 4" \
	"$("$A" request list --json | jget - "type(d).__name__ + ' %d' % len(d)")"
"$A" request list --limit 2 --size 2 >/dev/null 2>&1
check_eq "request list --limit with --size is a usage error" 2 $?

http_finish
