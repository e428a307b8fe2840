#!/bin/sh
# t_attack_routes.sh — the security pass over issue 12's routes, as an
# attacker against the real crtokend (pam_matrix login gate, curl):
# scoped API keys walked over every admin route of the route table (a key
# of each single scope calling each route: 403 permission_denied outside
# its scope, nothing written), a key limited to some profiles on tokens of
# another (issue, update, delete), a poll secret (crq_...) on every route
# but the GET and cancel of its own request, /me serials in other spellings (case, colons,
# leading zeros, 0x) never reaching another user's certificate, and
# hostile request bodies (huge, deeply nested, duplicate keys, NUL).
# Port 19140.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

http_instance "$T/inst" 19140 || { not_ok "instance"; finish; exit 1; }
DB=$T/inst/crtoken.db
conf_set require_login yes
cat >>"$CRTOKEN_CONF" <<'CONF'

[profile guest]
days = 1

[profile staff]
days = 90
CONF
pam_matrix_service alice:alicepw bob:bobpw
PAM_SVC_DIR=$T/pam.d
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
apikey || { not_ok "api key"; finish; exit 1; }
count() { sqlite3 "$DB" "$1"; }
# state : what a refused request must leave alone (every table but audit).
state() {
	count "SELECT (SELECT count(*) || '/' || coalesce(sum(used_at IS NOT NULL), 0) || '/' || coalesce(sum(deleted_at IS NOT NULL), 0) FROM tokens),
		(SELECT count(*) || '/' || coalesce(sum(revoked_at IS NOT NULL), 0) FROM certificates),
		(SELECT group_concat(id || ':' || state, ',') FROM certificate_requests),
		(SELECT count(*) FROM api_keys)"
}
kreq() { # KEY METHOD PATH [curl args]
	_k=$1
	_m=$2
	_p=$3
	shift 3
	req "$_m" "$_p" -H "Authorization: Bearer $_k" "$@"
}

# ------------------------------------------------------------ fixtures
# A pending request of alice (A) and one of bob (B), each with its poll secret.
pending() { # NAME USER:PW [token create args] : the request id in $RQ, its poll secret in $POLL
	_pn=$1 _pu=$2
	shift 2
	"$ADMIN" token create --name "$_pn" --owner "${_pu%%:*}" --approval required "$@" --json |
		jget - "d['token']" >"$T/$_pn.tok"
	csr_body "$_pn" && redeem "$(cat "$T/$_pn.tok")" "$T/$_pn.json" -u "$_pu"
	RQ=$(jget "$T/body" "d.get('requestId')")
	POLL=$(jget "$T/body" "d.get('pollSecret')")
	[ "$STATUS" = 202 ] && [ -n "$POLL" ]
}
check "alice's pending request (202 with a poll secret)" pending pa alice:alicepw
RQA=$RQ POLLA=$POLL
check "bob's pending request" pending pb bob:bobpw
RQB=$RQ POLLB=$POLL
# An issued certificate of alice's.
"$ADMIN" token create --name laptop --owner alice --json | jget - "d['token']" >"$T/lap.tok"
csr_body lap && redeem "$(cat "$T/lap.tok")" "$T/lap.json" -u alice:alicepw
check_status "alice's certificate is issued" 201 -
SERIAL=$(jget "$T/body" "d['serial']")

# ------------------------------------------------------------ poll secrets at rest
check_eq "attack_poll_secret_read_from_the_store: no poll secret in the database files" 0 \
	"$(cat "$DB"* | grep -a -c -e "$POLLA" -e "$POLLB")"
check_eq "... the store holds its SHA-256 only" \
	"$(printf %s "$POLLA" | sha256sum | cut -d' ' -f1)" \
	"$(count "SELECT poll_hash FROM certificate_requests WHERE id = '$RQA'")"

# ------------------------------------------------------------ scopes x routes
"$CRTOKEND" --route-scopes >"$T/rs"
SCOPES=$(awk '$3 != "-" { print $3 }' "$T/rs" | sort -u)
check_eq "the route table names seven scopes" 7 "$(echo "$SCOPES" | wc -l)"
# path TEMPLATE : a concrete path (ids of nothing, so an allowed call changes nothing).
path() {
	echo "$1" | sed -e 's|{id}|nothing-0|' -e 's|{serial}|0a0b0c|' -e 's|{name}|nothing|'
}
# call KEY METHOD TEMPLATE : one call of the route, a JSON body where it takes one.
call() {
	if [ "$2" = POST ] || [ "$2" = PATCH ]; then
		kreq "$1" "$2" "$(path "$3")" -H 'Content-Type: application/json' --data-binary '{}'
	else
		kreq "$1" "$2" "$(path "$3")"
	fi
}
for sc in $SCOPES; do
	"$ADMIN" apikey create --name "only-$sc" --scope "$sc" --json | jget - "d['key']" >"$T/key.$sc"
done
BEFORE=$(state)
D0=$(count "SELECT count(*) FROM audit WHERE action = 'http.permission_denied'")
NDENIED=0
BAD=""
for sc in $SCOPES; do
	K=$(cat "$T/key.$sc")
	while read -r m p need; do
		[ "$need" = - ] && continue
		call "$K" "$m" "$p"
		if [ "$need" = "$sc" ]; then
			# inside the scope: past the check (the ids name nothing)
			[ "$STATUS" != 403 ] && [ "$STATUS" != 401 ] || BAD="$BAD $sc:$m:$p=$STATUS"
		else
			NDENIED=$((NDENIED + 1))
			{ [ "$STATUS" = 403 ] && [ "$(err_code)" = permission_denied ]; } ||
				BAD="$BAD $sc:$m:$p=$STATUS"
		fi
	done <"$T/rs"
done
check_eq "attack_key_outside_its_scope: each single-scope key on every admin route is 403 outside its scope, past the check inside" \
	"" "$BAD"
check_eq "... $NDENIED refusals, each with its http.permission_denied audit row" $((D0 + NDENIED)) \
	"$(count "SELECT count(*) FROM audit WHERE action = 'http.permission_denied'")"
check_eq "... and nothing else written" "$BEFORE" "$(state)"
NADMIN=$(grep -vc ' -$' "$T/rs")
check "... the walk covered every admin route ($NADMIN) with each of the 7 keys" \
	test "$NDENIED" -eq $((NADMIN * 6)) -a "$NADMIN" -ge 17

# ------------------------------------------------------------ a key limited to some profiles
# The limit (apikey create --profiles) holds for every token route that
# changes or uses a token, not only for creating one: a guest-only key
# neither issues a staff token's key to itself, nor updates, nor deletes it.
"$ADMIN" token create --name staff-laptop --owner alice --profile staff --json >"$T/staff.json"
STAFF_ID=$(jget "$T/staff.json" "d['id']")
"$ADMIN" token create --name guest-laptop --owner alice --profile guest --json >"$T/guest.json"
GUEST_TID=$(jget "$T/guest.json" "d['id']")
GK=$("$ADMIN" apikey create --name guest-only --scope tokens:read,tokens:write --profiles guest \
	--json | jget - "d['key']")
BEFORE=$(state)
SIG=$(count "SELECT * FROM tokens WHERE id = '$STAFF_ID'")
kreq "$GK" POST "/certificate-request-tokens/$STAFF_ID/issue" -H 'Content-Type: application/json' \
	--data-binary '{"type":"GENERATE"}'
check_status "attack_profile_limited_key_issues_other_profile: 403 permission_denied" 403 \
	permission_denied
check_eq "... no PKCS#12 in the answer" "" "$(jget "$T/body" "d.get('pkcs12')")"
kreq "$GK" PATCH "/certificate-request-tokens/$STAFF_ID" -H 'Content-Type: application/json' \
	--data-binary '{"replyAttributes":["Tunnel-Private-Group-Id=1"]}'
check_status "attack_profile_limited_key_updates_other_profile: 403 permission_denied" 403 \
	permission_denied
kreq "$GK" DELETE "/certificate-request-tokens/$STAFF_ID"
check_status "attack_profile_limited_key_deletes_other_profile: 403 permission_denied" 403 \
	permission_denied
check_contains "... the message names the token's profile" staff "$(cat "$T/body")"
check_eq "... the staff token is untouched, nothing issued" "$BEFORE $SIG" \
	"$(state) $(count "SELECT * FROM tokens WHERE id = '$STAFF_ID'")"
check_eq "... each refusal audited with the profile" "3 staff" \
	"$(count "SELECT count(*), min(json_extract(detail, '\$.profile')) FROM audit
		WHERE action = 'http.permission_denied' AND json_extract(detail, '\$.profile') = 'staff'" | tr '|' ' ')"
kreq "$GK" DELETE /certificate-request-tokens/token-00000000-0000-4000-8000-000000000000
check_status "... an unknown token is still 404 for it" 404 token_not_found
kreq "$GK" PATCH "/certificate-request-tokens/$GUEST_TID" -H 'Content-Type: application/json' \
	--data-binary '{"description":"the guest laptop"}'
check_status "the guest-only key updates a guest token" 200 -
kreq "$GK" POST "/certificate-request-tokens/$GUEST_TID/issue" -H 'Content-Type: application/json' \
	--data-binary '{"type":"GENERATE"}'
check_status "... and issues its key" 201 -

# The same for the decisions on requests: a guest-only approver decides
# no request of a staff token (approve would issue a staff certificate).
check "a pending request for a staff token" pending ps alice:alicepw --profile staff
RQS=$RQ
check "a pending request for a guest token" pending pg alice:alicepw --profile guest
RQG=$RQ
GA=$("$ADMIN" apikey create --name guest-approver --scope requests:read,requests:approve \
	--profiles guest --json | jget - "d['key']")
BEFORE=$(state)
BAD=""
for v in approve deny cancel; do
	kreq "$GA" POST "/certificate-requests/$RQS/$v" -H 'Content-Type: application/json' \
		--data-binary "$([ $v = deny ] && echo '{"reason":"no"}' || echo '{}')"
	{ [ "$STATUS" = 403 ] && [ "$(err_code)" = permission_denied ]; } || BAD="$BAD $v=$STATUS"
done
check_eq "attack_profile_limited_key_decides_other_profile: approve, deny, cancel of a staff request are 403" \
	"" "$BAD"
check_eq "... nothing decided, nothing issued" "$BEFORE" "$(state)"
kreq "$GA" POST "/certificate-requests/request-00000000-0000-4000-8000-000000000000/approve"
check_status "... an unknown request is still 404 for it" 404 request_unknown
kreq "$GA" POST "/certificate-requests/$RQG/approve"
check_status "the guest-only approver approves the guest request" 200 -

# ------------------------------------------------------------ poll secret on every route
kreq "$POLLA" GET "/certificate-requests/$RQA"
check_status "the poll secret reads its own request" 200 -
kreq "$POLLA" HEAD "/certificate-requests/$RQA" -I
check_eq "... and HEADs it" 200 "$STATUS"
kreq "$POLLA" GET "/certificate-requests/$RQB"
check_status "attack_poll_secret_of_a_on_request_b: 401" 401 authentication_failed
cp "$T/body" "$T/b_wrong"
kreq "$POLLA" GET "/certificate-requests/request-00000000-0000-4000-8000-000000000000"
check_status "... an unknown id is the same 401" 401 authentication_failed
check "... byte for byte (no oracle for which ids exist)" cmp -s "$T/body" "$T/b_wrong"
BEFORE=$(state)
BAD=""
while read -r m p need; do
	# what a poll secret is for: reading and cancelling its own request
	case "$m $p" in
	"GET /certificate-requests/{id}" | "POST /certificate-requests/{id}/cancel") continue ;;
	esac
	q=$(echo "$p" | sed -e "s|{id}|$RQA|" -e "s|{serial}|$SERIAL|" -e 's|{name}|default|' \
		-e 's|{token}|nothing|' -e 's|{format}|nothing|' -e 's|{request}|nothing|')
	if [ "$m" = POST ] || [ "$m" = PATCH ]; then
		kreq "$POLLA" "$m" "$q" -H 'Content-Type: application/json' --data-binary '{"reason":"x"}'
	else
		kreq "$POLLA" "$m" "$q"
	fi
	case "$need" in
	-) # not an admin route: a poll secret is no credential there either
		case "$p" in
		/me/* | /certificate-request-tokens/preview | /client-certificates/token/*)
			[ "$STATUS" = 401 ] || BAD="$BAD $m:$p=$STATUS" ;;
		esac ;;
	*) { [ "$STATUS" = 401 ] && [ "$(err_code)" = authentication_failed ]; } ||
		BAD="$BAD $m:$p=$STATUS" ;;
	esac
done <"$T/rs"
check_eq "attack_poll_secret_on_other_routes: 401 on every admin route and every login route" "" "$BAD"
check_eq "... nothing changed: both requests pending, alice's certificate valid" "$BEFORE" "$(state)"
check_eq "... request A is still pending" pending \
	"$("$ADMIN" request show "$RQA" --json | jget - "d['state']")"
kreq "$POLLA" GET /certificate-requests
check_status "attack_poll_secret_lists_requests: 401" 401 authentication_failed
kreq "$POLLA" POST "/certificate-requests/$RQB/cancel" -H 'Content-Type: application/json' \
	--data-binary '{}'
check_status "attack_poll_secret_of_a_cancels_request_b: 401" 401 authentication_failed
check_eq "... request B is still pending" pending \
	"$("$ADMIN" request show "$RQB" --json | jget - "d['state']")"
# The cancel route also takes the requester's PAM login (HTTP Basic).
req POST "/certificate-requests/$RQA/cancel" -u bob:bobpw
check_status "attack_login_of_b_cancels_request_of_a: 404 request_unknown (as if none)" 404 \
	request_unknown
req POST "/certificate-requests/$RQA/cancel" -u alice:wrong
check_status "... a wrong password: 401" 401 authentication_failed
check_eq "... request A is still pending" pending \
	"$("$ADMIN" request show "$RQA" --json | jget - "d['state']")"
req POST "/certificate-requests/$RQA/cancel" -u alice:alicepw
check_status "alice cancels her own with her login: 200" 200 -
kreq "$POLLA" GET "/certificate-requests/$RQA/"
check_eq "... a trailing slash is no route of it (404)" 404 "$STATUS"
req GET "/certificate-requests/$RQA" -H "Authorization: bearer   $POLLA"
check_status "... the scheme in lower case with extra blanks still reads only its own" 200 -
req GET "/certificate-requests/$RQB" -H "Authorization: Bearer ${POLLB}x"
check_status "attack_poll_secret_with_a_suffix: 401" 401 authentication_failed
req GET "/certificate-requests/$RQB" -H "Authorization: Bearer $(echo "$POLLB" | tr a-z A-Z | sed 's/^CRQ_/crq_/')"
check_status "attack_poll_secret_in_another_case: 401" 401 authentication_failed
req GET "/certificate-requests/$RQB" -H "Authorization: Basic $(printf 'x:%s' "$POLLB" | base64 -w0)"
check_status "attack_poll_secret_as_basic_credentials: 401 (no API key, no poll secret)" 401 \
	authentication_required

# ------------------------------------------------------------ /me serial spellings
UPPER=$(echo "$SERIAL" | tr a-f A-F)
COLONS=$(echo "$SERIAL" | sed 's/../&:/g; s/:$//')
SPELLINGS="$UPPER $COLONS 00$SERIAL 0x$SERIAL 0X$UPPER 000$SERIAL"
req GET /me/certificates/0123456789abcdef0123456789abcdef/pkcs12 -u bob:bobpw
cp "$T/body" "$T/never"
BAD=""
for s in $SPELLINGS; do
	req GET "/me/certificates/$s/pkcs12" -u bob:bobpw
	{ [ "$STATUS" = 404 ] && cmp -s "$T/body" "$T/never"; } || BAD="$BAD pkcs12:$s=$STATUS"
	req POST "/me/certificates/$s/revoke" -u bob:bobpw -H 'Content-Type: application/json' \
		--data-binary '{"reason":"keyCompromise"}'
	[ "$STATUS" = 404 ] && [ "$(err_code)" = cert_not_found ] || BAD="$BAD revoke:$s=$STATUS"
done
check_eq "attack_me_serial_spellings: bob reaches alice's certificate under no spelling of its serial" \
	"" "$BAD"
check_eq "... it is still valid" valid "$("$ADMIN" cert show "$SERIAL" --json | jget - "d['status']")"
req GET "/me/certificates/$SERIAL%0d%0aX-Injected:%20yes/pkcs12" -u alice:alicepw
check_eq "attack_me_serial_header_injection: a CR/LF in the serial is no header" "" \
	"$(header X-Injected)"
check "... and is refused (4xx)" test "$STATUS" -ge 400 -a "$STATUS" -lt 500
req POST "/me/certificates/0X$COLONS/revoke" -u alice:alicepw -H 'Content-Type: application/json' \
	--data-binary '{"reason":"cessationOfOperation"}'
check_status "alice revokes her own certificate under another spelling (0X, colons): 200" 200 -
check_eq "... the answer names the stored serial" "$SERIAL revoked" \
	"$(jget "$T/body" "d['serial'] + ' ' + d['status']")"

# ------------------------------------------------------------ hostile bodies
"$ADMIN" token create --name bodies --owner alice --json | jget - "d['token']" >"$T/bodies.tok"
TB=$(cat "$T/bodies.tok")
BEFORE=$(state)
$PY -c 'import json; print(json.dumps({"type":"CSR","value":"-----BEGIN CERTIFICATE REQUEST-----\n" + "A" * 70000 + "\n-----END CERTIFICATE REQUEST-----\n"}))' >"$T/huge.json"
redeem "$TB" "$T/huge.json" -u alice:alicepw
check_status "attack_huge_csr: 413 request_too_large" 413 request_too_large
redeem "$TB" "$T/huge.json" -u alice:alicepw -H 'Transfer-Encoding: chunked'
check_status "attack_huge_csr_chunked (no Content-Length): 413 request_too_large" 413 request_too_large
$PY -c 'print("{\"type\":\"CSR\",\"value\":" + "[" * 5000 + "]" * 5000 + "}")' >"$T/deep.json"
redeem "$TB" "$T/deep.json" -u alice:alicepw
check_status "attack_deeply_nested_json: 400 request_invalid" 400 request_invalid
$PY -c 'import json,sys; c=open(sys.argv[1]).read(); print("{\"type\":\"CSR\",\"value\":" + json.dumps(c) + ",\"type\":\"GENERATE\"}")' "$T/lap.csr" >"$T/dup.json"
redeem "$TB" "$T/dup.json" -u alice:alicepw
check_status "attack_duplicate_keys: 400 request_invalid" 400 request_invalid
check_contains "... the message says so" duplicate "$(cat "$T/body")"
$PY -c 'import json,sys; c=open(sys.argv[1]).read(); print(json.dumps({"type":"CSR","value":c,"name":"lap\u0000top"}))' "$T/lap.csr" >"$T/nul.json"
redeem "$TB" "$T/nul.json" -u alice:alicepw
check_status "attack_nul_in_a_string: 400 request_invalid" 400 request_invalid
$PY -c 'import json,sys; c=open(sys.argv[1]).read(); print(json.dumps({"type":"CSR","value":c.replace("-----END", "\u0000-----END")}))' "$T/lap.csr" >"$T/nulcsr.json"
redeem "$TB" "$T/nulcsr.json" -u alice:alicepw
check_status "attack_nul_in_the_csr: 400 request_invalid" 400 request_invalid
printf '{"type":"CSR","value":"\377\376"}' >"$T/utf.json"
redeem "$TB" "$T/utf.json" -u alice:alicepw
check_status "attack_invalid_utf8: 400 request_invalid" 400 request_invalid
ajreq POST /certificate-request-tokens "{\"name\":\"a\",\"name\":\"b\"}"
check_status "attack_duplicate_keys on token create: 400 request_invalid" 400 request_invalid
ajreq POST "/certificate-requests/$RQA/deny" "{\"reason\":\"ok\",\"reason\":\"other\"}"
check_status "attack_duplicate_keys on deny: 400 request_invalid" 400 request_invalid
check_eq "... none of the bodies changed anything (the token unused, A pending)" "$BEFORE" "$(state)"

# ------------------------------------------------------------ secrets at rest and in the log
# Every token string, poll secret and password this suite sent: none is in
# the database files or in crtokend's log (the access log names the route
# pattern, not the path; a 404 of a path that carried one included).
req GET "/client-certificates/token/$(cat "$T/bodies.tok")/x"
sleep 0.3
cat "$T"/*.tok >"$T/secrets"
printf '%s\n%s\nalicepw\nbobpw\n' "$POLLA" "$POLLB" >>"$T/secrets"
check_eq "attack_secrets_in_store_or_log: no token string, poll secret or password in the database or crtokend.log" \
	"0 0" "$(cat "$DB"* | grep -a -c -F -f "$T/secrets") $(grep -a -c -F -f "$T/secrets" "$T/crtokend.log")"
http_finish
