#!/bin/sh
# t_approval.sh — issue 12, the approval workflow end to end with the real
# programs: a token that requires approval, crtoken-enroll redeeming it (202)
# and waiting with its poll secret, the admin approving (CLI) or denying
# (REST), the certificate arriving; --no-wait; expiry by maintain; single
# use; the refusals (approve twice, deny an issued one, approve a denied or
# expired one, an unknown id, a wrong poll secret); GET /me/requests behind
# the PAM login; and a command sink of crtokend receiving the request.*
# events. crtokend with a pam_matrix login gate, curl, crtoken-enroll,
# crtoken-admin, openssl. Ports 18880-18899.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

approval_instance 18880 "request.*, certificate.issued" ||
	{ not_ok "instance, crtokend and an api key"; finish; exit 1; }
mkdir -p "$T/out"

# wait_for CMD... : up to 15 s for CMD to succeed (a condition, not a delay).
wait_for() {
	_w=0
	while ! "$@" >/dev/null 2>&1 && [ $_w -lt 150 ]; do
		sleep 0.1
		_w=$((_w + 1))
	done
	"$@" >/dev/null 2>&1
}
pending_count() {
	"$ADMIN" request list --state pending --json | jget - "len(d)"
}
has_pending() { [ "$(pending_count)" = "$1" ]; }
# newest_request : the id of the newest request.
newest_request() {
	"$ADMIN" request list --json --limit 1 | jget - "d[0]['requestId']"
}

# ------------------------------------------------------------ the token
"$ADMIN" token create --name laptop-alice --owner alice --approval required --json >"$T/tok.json"
check_eq "token create --approval required shows it" required "$(jget "$T/tok.json" "d['approval']")"
jget "$T/tok.json" "d['token']" >"$T/tok"
check_contains "token show says it" "approval: required" \
	"$("$ADMIN" token show "$(jget "$T/tok.json" "d['id']")")"
new_token plain-token
check_eq "a token without --approval needs none" none "$(jget "$T/body" "d['approval']")"

# ------------------------------------------------------------ wait, approve, certificate
CRTOKEN_OTP=alicepw "$ENROLL" --server "$URL" --user alice --token-file "$T/tok" \
	--out-dir "$T/out" --name laptop --poll-interval 1 >"$T/enroll.out" 2>"$T/enroll.err" \
	</dev/null &
EPID=$!
at_exit 'stop_pid "$EPID"'
check "the redemption stores a pending request" wait_for has_pending 1
RQ=$(newest_request)
check_contains "crtoken-enroll prints the request id" "$RQ" "$(cat "$T/enroll.out")"
check_contains "and waits with a progress line" "waiting for approval of $RQ" \
	"$(cat "$T/enroll.err")"
check_eq "the token is used by the request" used \
	"$("$ADMIN" token show "$(jget "$T/tok.json" "d['id']")" --json | jget - "d['state']")"

make_csr "$T" again
$PY -c 'import json,sys; print(json.dumps({"type":"CSR","value":open(sys.argv[1]).read()}))' \
	"$T/again.csr" >"$T/again.json"
redeem "$(cat "$T/tok")" "$T/again.json" -u alice:alicepw
check_status "a second redemption of the requested token is token_used" 409 token_used

req GET /me/requests -u alice:alicepw
check_status "GET /me/requests as alice is 200" 200 -
check_eq "alice sees her one request, pending" "$RQ pending" \
	"$(jget "$T/body" "d[0]['requestId'] + ' ' + d[0]['state'] if len(d) == 1 else len(d)")"
req GET /me/requests -u bob:bobpw
check_eq "bob sees none of alice's requests" 0 "$(jget "$T/body" "len(d)")"
req GET "/me/requests?page=1&size=10" -u alice:alicepw
check_eq "GET /me/requests pages: alice's one request, total 1" "1 $RQ" \
	"$(jget "$T/body" "str(d['total']) + ' ' + ' '.join(r['requestId'] for r in d['items'])")"
req GET "/me/requests?page=1" -u bob:bobpw
check_eq "... bob's page counts none of alice's" "0 0" \
	"$(jget "$T/body" "str(d['total']) + ' ' + str(len(d['items']))")"
req GET "/me/requests?page=1&limit=5" -u alice:alicepw
check_status "... limit is for the unpaged list (400)" 400 request_invalid
req GET "/me/requests?sort=reason" -u alice:alicepw
check_status "... an unknown sort field is 400 sort_invalid" 400 sort_invalid
req GET /me/requests
check_status "GET /me/requests without the login is 401" 401 authentication_required

req GET "/certificate-requests/$RQ" -H "Authorization: Bearer crq_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
check_status "attack_poll_with_a_guessed_secret: 401 authentication_failed" 401 \
	authentication_failed
areq GET "/certificate-requests/$RQ"
check_status "the admin reads it with the API key" 200 -
check_eq "it holds the CN the token fixed (the owner's token name)" laptop-alice \
	"$(jget "$T/body" "d['commonName'] or d['tokenName']")"

"$ADMIN" request approve "$RQ" >"$T/approve.out" 2>&1
check_eq "crtoken-admin request approve exits 0" 0 $?
wait "$EPID"
check_eq "crtoken-enroll exits 0 once approved" 0 $?
check_contains "and says so" "request $RQ was approved" "$(cat "$T/enroll.out")"
check "the certificate arrived" test -s "$T/out/laptop.crt"
check "it verifies against the CA" openssl verify -CAfile "$T/inst/ca.pem" "$T/out/laptop.crt"
check_eq "it is for the key crtoken-enroll made" \
	"$(openssl pkey -in "$T/out/laptop.key" -pubout 2>/dev/null | sha256sum)" \
	"$(openssl x509 -in "$T/out/laptop.crt" -noout -pubkey | sha256sum)"
SERIAL=$("$ADMIN" request show "$RQ" --json | jget - "d['serial']")
check_eq "the request is issued with the certificate's serial" "issued $SERIAL" \
	"$("$ADMIN" request show "$RQ" --json | jget - "d['state'] + ' ' + d['serial']")"
check_eq "the certificate is alice's" alice "$("$ADMIN" cert show "$SERIAL" --json | jget - "d['user']")"

# ------------------------------------------------------------ refusals (bad input)
ajreq POST "/certificate-requests/$RQ/approve" '{}'
check_status "approving twice is 409 request_state" 409 request_state
"$ADMIN" request approve "$RQ" 2>"$T/err"
check_eq "crtoken-admin request approve twice exits 1" 1 $?
check_contains "with request_state" request_state "$(cat "$T/err")"
ajreq POST "/certificate-requests/$RQ/deny" '{"reason":"too late"}'
check_status "denying an issued request is 409 request_state" 409 request_state
ajreq POST /certificate-requests/request-00000000-0000-4000-8000-000000000000/approve '{}'
check_status "approving an unknown request is 404 request_unknown" 404 request_unknown
"$ADMIN" request deny request-nope --reason x 2>/dev/null
check_eq "crtoken-admin request deny of an unknown id exits 3" 3 $?

# ------------------------------------------------------------ deny
"$ADMIN" token create --name printer --approval required --json | jget - "d['token']" >"$T/tok2"
CRTOKEN_OTP=bobpw "$ENROLL" --server "$URL" --user bob --token-file "$T/tok2" \
	--out-dir "$T/out" --name printer --poll-interval 1 >"$T/enroll2.out" \
	2>"$T/enroll2.err" </dev/null &
EPID=$!
check "the second request is pending" wait_for has_pending 1
RQ2=$(newest_request)
ajreq POST "/certificate-requests/$RQ2/deny" '{}'
check_status "a denial without a reason is 400" 400 request_invalid
ajreq POST "/certificate-requests/$RQ2/deny" '{"reason":"no printers on this VLAN"}'
check_status "POST .../deny with a reason is 200" 200 -
check_eq "the answer is the denied request" "denied no printers on this VLAN" \
	"$(jget "$T/body" "d['state'] + ' ' + d['reason']")"
wait "$EPID"
check_eq "crtoken-enroll exits 6 when denied" 6 $?
check_contains "and shows the reason" "no printers on this VLAN" "$(cat "$T/enroll2.err")"
check "and wrote no certificate" test ! -e "$T/out/printer.crt"
ajreq POST "/certificate-requests/$RQ2/approve" '{}'
check_status "approving a denied request is 409 request_state" 409 request_state

# ------------------------------------------------------------ --no-wait, the poll secret
"$ADMIN" token create --name kiosk --approval required --json | jget - "d['token']" >"$T/tok3"
CRTOKEN_OTP=alicepw "$ENROLL" --server "$URL" --user alice --token-file "$T/tok3" \
	--out-dir "$T/out" --name kiosk --no-wait >"$T/enroll3.out" 2>"$T/enroll3.err" </dev/null
check_eq "crtoken-enroll --no-wait exits 5" 5 $?
RQ3=$(newest_request)
POLL=$(sed -n 's/^  poll secret: \(crq_[^ ]*\).*/\1/p' "$T/enroll3.out")
check "it printed the request id and the poll secret" test -n "$POLL"
check_eq "and kept the key (0600)" 600 "$(stat -c %a "$T/out/kiosk.key" 2>/dev/null)"
req GET "/certificate-requests/$RQ3" -H "Authorization: Bearer $POLL"
check_status "the requester polls with its poll secret (no login)" 200 -
check_eq "pending" pending "$(jget "$T/body" "d['state']")"
req GET "/certificate-requests/$RQ" -H "Authorization: Bearer $POLL"
check_status "attack_poll_another_request: its secret does not open another request" 401 \
	authentication_failed
ajreq POST "/certificate-requests/$RQ3/approve" '{}'
check_status "POST .../approve is 200" 200 -
req GET "/certificate-requests/$RQ3" -H "Authorization: Bearer $POLL"
jget "$T/body" "d['issued']['certificate']" >"$T/kiosk.crt"
check_eq "the issued request carries the certificate for the kept key" \
	"$(openssl pkey -in "$T/out/kiosk.key" -pubout 2>/dev/null | sha256sum)" \
	"$(openssl x509 -in "$T/kiosk.crt" -noout -pubkey | sha256sum)"

# ------------------------------------------------------------ expiry
"$ADMIN" token create --name stale --approval required --json | jget - "d['token']" >"$T/tok4"
csr_body stale && redeem "$(cat "$T/tok4")" "$T/stale.json" -u alice:alicepw
check_status "a redemption of a token requiring approval is 202" 202 -
RQ4=$(jget "$T/body" "d['requestId']")
check_eq "with Location to poll" "/certificate-requests/$RQ4" "$(header Location)"
# The request's expiry moved into the past (instead of waiting a week).
$PY -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("UPDATE certificate_requests SET expires_at = created_at - 1 WHERE id = ?", (sys.argv[2],)); c.commit()' "$DB" "$RQ4"
ajreq POST "/certificate-requests/$RQ4/approve" '{}'
check_status "approving a request past its expiry is 409 request_state" 409 request_state
"$ADMIN" maintain --json >"$T/maintain.json"
check_eq "crtoken-admin maintain expires it" 1 "$(jget "$T/maintain.json" "d.get('requestsExpired')")"
check_eq "it is stored expired" expired "$("$ADMIN" request show "$RQ4" --json | jget - "d['state']")"
check_eq "with its request.expire audit row" 1 \
	"$("$ADMIN" audit --json --action request.expire | jget - "len(d)")"

# ------------------------------------------------------------ other ways in
"$ADMIN" token create --name gen --approval required --json | jget - "d['token']" >"$T/tok5"
jreq POST "/client-certificates/token/$(cat "$T/tok5")" '{"type":"GENERATE"}' -u alice:alicepw
check_status "GENERATE on a token requiring approval is 422 approval_required" 422 \
	approval_required
"$ADMIN" redeem "$(cat "$T/tok5")" --csr "$T/again.csr" >"$T/redeem.out" 2>&1
check_eq "crtoken-admin redeem stores a request and exits 5" 5 $?
check_contains "printing its id" "pending approval" "$(cat "$T/redeem.out")"

# ------------------------------------------------------------ the events
check "the command sink received request.pending" wait_for grep -q "type=request.pending" \
	"$T/events.out"
check "request.approved" wait_for grep -q "type=request.approved" "$T/events.out"
check "request.denied" wait_for grep -q "type=request.denied" "$T/events.out"
check "request.expired" wait_for grep -q "type=request.expired" "$T/events.out"
check_contains "the approved event names the request and the serial" "\"serial\":\"$SERIAL\"" \
	"$(grep "\"requestId\":\"$RQ\"" "$T/events.out" | grep request.approved)"
check_contains "the denied event carries the reason" "no printers on this VLAN" \
	"$(grep request.denied "$T/events.out")"
check "no event carries a poll secret" sh -c "! grep -q crq_ '$T/events.out'"

http_finish
