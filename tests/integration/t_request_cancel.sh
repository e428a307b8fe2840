#!/bin/sh
# t_request_cancel.sh — issue 12, the requester cancels a pending request,
# end to end with the real programs: POST /certificate-requests/{id}/cancel
# with the poll secret, with the PAM login that submitted it (HTTP Basic),
# and with an admin key (requests:approve; a read-only key is 403);
# crtoken-admin request cancel; cancelled then approve/deny/cancel again is
# request_state with nothing changed; another user's request, a guessed
# poll secret, an unknown id; the token stays used; the listing filters
# (--state cancelled, ?state=cancelled, /me/requests); the audit rows with
# the requester as actor and the request.cancelled event at a command sink;
# an approval and a cancel sent at once: exactly one wins; crtoken-enroll
# cancel REQUEST_ID (login or poll secret), what Ctrl-C while it waits says
# and does, a wait that sees the request cancelled (exit 8), list
# --requests. crtokend with a
# pam_matrix login gate, curl, crtoken-enroll, crtoken-admin. Ports
# 19100-19101.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

approval_instance 19100 "request.cancelled" ||
	{ not_ok "instance, crtokend and an api key"; finish; exit 1; }

# wait_for CMD... : up to 15 s for CMD to succeed (a condition, not a delay).
wait_for() {
	_w=0
	while ! "$@" >/dev/null 2>&1 && [ $_w -lt 150 ]; do
		sleep 0.1
		_w=$((_w + 1))
	done
	"$@" >/dev/null 2>&1
}
count() { sqlite3 -cmd ".timeout 5000" "$DB" "$1"; }
# submit NAME USER:PW : a pending request of a fresh approval token redeemed
# by USER; its id in $RQ, poll secret in $POLL, token id in $TID.
submit() {
	"$ADMIN" token create --name "$1" --owner "${2%%:*}" --approval required --json \
		>"$T/$1.tok.json"
	TID=$(jget "$T/$1.tok.json" "d['id']")
	csr_body "$1" && redeem "$(jget "$T/$1.tok.json" "d['token']")" "$T/$1.json" -u "$2"
	RQ=$(jget "$T/body" "d['requestId']")
	POLL=$(jget "$T/body" "d['pollSecret']")
	[ "$STATUS" = 202 ] && [ -n "$RQ" ] && [ -n "$POLL" ]
}
state_of() { "$ADMIN" request show "$1" --json | jget - "d['state']"; }

# ------------------------------------------------------------ the poll secret
check "alice's request is pending" submit cancel-poll alice:alicepw
RQ1=$RQ
POLL1=$POLL
TID1=$TID
CERTS=$(count "SELECT count(*) FROM certificates")
jreq POST "/certificate-requests/$RQ1/cancel" '{}' -H "Authorization: Bearer crq_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
check_status "attack_cancel_with_a_guessed_poll_secret: 401 authentication_failed" 401 \
	authentication_failed
check_eq "... and it is still pending" pending "$(state_of "$RQ1")"
req POST "/certificate-requests/$RQ1/cancel" -H "Authorization: Bearer $POLL1"
check_status "POST .../cancel with the poll secret is 200" 200 -
check_eq "the answer is the cancelled request, decided by alice" "cancelled alice" \
	"$(jget "$T/body" "d['state'] + ' ' + d['decidedBy']")"
check_eq "crtoken-admin request show says cancelled" cancelled "$(state_of "$RQ1")"
check_contains "... in its text too" "state:     cancelled" "$("$ADMIN" request show "$RQ1")"
check_eq "the request.cancel audit row names alice as actor" "alice" \
	"$(count "SELECT actor FROM audit WHERE action = 'request.cancel' AND object = '$RQ1'")"
check_eq "the token stays used" used \
	"$("$ADMIN" token show "$TID1" --json | jget - "d['state']")"
req GET "/certificate-requests/$RQ1" -H "Authorization: Bearer $POLL1"
check_eq "polling reads it cancelled" cancelled "$(jget "$T/body" "d['state']")"

# ------------------------------------------------------------ refusals (bad input)
ajreq POST "/certificate-requests/$RQ1/approve" '{}'
check_status "approving a cancelled request is 409 request_state" 409 request_state
"$ADMIN" request approve "$RQ1" 2>"$T/err"
check_eq "crtoken-admin request approve of a cancelled request exits 1" 1 $?
check_contains "... with request_state" request_state "$(cat "$T/err")"
ajreq POST "/certificate-requests/$RQ1/deny" '{"reason":"late"}'
check_status "denying a cancelled request is 409 request_state" 409 request_state
req POST "/certificate-requests/$RQ1/cancel" -H "Authorization: Bearer $POLL1"
check_status "cancelling twice is 409 request_state" 409 request_state
check_eq "nothing was issued for it" "$CERTS" "$(count "SELECT count(*) FROM certificates")"
check_eq "one request.cancel row only" 1 \
	"$(count "SELECT count(*) FROM audit WHERE action = 'request.cancel' AND object = '$RQ1'")"
csr_body again && redeem "$(jget "$T/cancel-poll.tok.json" "d['token']")" "$T/again.json" \
	-u alice:alicepw
check_status "a redemption of the token after the cancel is token_used (single use)" 409 \
	token_used

# ------------------------------------------------------------ the login
check "bob's request is pending" submit cancel-login bob:bobpw
RQ2=$RQ
jreq POST "/certificate-requests/$RQ2/cancel" '{}' -u alice:alicepw
check_status "attack_cancel_another_users_request: alice's login gets 404 request_unknown" \
	404 request_unknown
check_eq "... and it is still pending" pending "$(state_of "$RQ2")"
jreq POST "/certificate-requests/$RQ2/cancel" '{}' -u bob:wrong
check_status "a wrong password is 401 authentication_failed" 401 authentication_failed
jreq POST "/certificate-requests/$RQ2/cancel" '{}' -u bob:bobpw
check_status "bob's own login cancels it (200)" 200 -
check_eq "decided by bob" "cancelled bob" "$(jget "$T/body" "d['state'] + ' ' + d['decidedBy']")"
req POST "/certificate-requests/$RQ2/cancel"
check_status "without any credentials: 401 authentication_required" 401 \
	authentication_required
jreq POST "/certificate-requests/$RQ2/cancel" '{"reason":"x"}' -u bob:bobpw
check_status "a body with members is 400 request_invalid" 400 request_invalid
req POST "/certificate-requests/$RQ2/cancel" -H 'Content-Type: text/plain' --data 'x' \
	-u bob:bobpw
check_status "a body that is not JSON is 415" 415 unsupported_media_type

# ------------------------------------------------------------ an admin
check "a third request is pending" submit cancel-admin alice:alicepw
RQ3=$RQ
READER=$("$ADMIN" apikey create --name reader --scope requests:read --json | jget - "d['key']")
req POST "/certificate-requests/$RQ3/cancel" -H "Authorization: Bearer $READER"
check_status "a key without requests:approve is 403 permission_denied" 403 permission_denied
ajreq POST "/certificate-requests/$RQ3/cancel" '{}'
check_status "an admin key with requests:approve cancels it" 200 -
check_contains "decided by the key" "apikey:" "$(jget "$T/body" "d['decidedBy']")"
ajreq POST /certificate-requests/request-00000000-0000-4000-8000-000000000000/cancel '{}'
check_status "cancelling an unknown request is 404 request_unknown" 404 request_unknown
check "a fourth request is pending" submit cancel-cli alice:alicepw
RQ4=$RQ
"$ADMIN" request cancel "$RQ4" >"$T/cancel.out" 2>&1
check_eq "crtoken-admin request cancel exits 0" 0 $?
check_contains "and says so" "Cancelled request $RQ4" "$(cat "$T/cancel.out")"
"$ADMIN" request cancel "$RQ4" 2>"$T/err"
check_eq "crtoken-admin request cancel twice exits 1" 1 $?
check_contains "... with request_state" request_state "$(cat "$T/err")"
"$ADMIN" request cancel request-nope 2>/dev/null
check_eq "crtoken-admin request cancel of an unknown id exits 3" 3 $?

# an issued request cannot be cancelled
check "a fifth request is pending" submit cancel-issued alice:alicepw
RQ5=$RQ
POLL5=$POLL
"$ADMIN" request approve "$RQ5" >/dev/null
req POST "/certificate-requests/$RQ5/cancel" -H "Authorization: Bearer $POLL5"
check_status "cancelling an issued request is 409 request_state" 409 request_state
check_eq "... it stays issued" issued "$(state_of "$RQ5")"

# ------------------------------------------------------------ listings
check_eq "crtoken-admin request list --state cancelled: the four" 4 \
	"$("$ADMIN" request list --state cancelled --json | jget - "len(d)")"
check_contains "... the text list shows the state" cancelled \
	"$("$ADMIN" request list --state cancelled)"
areq GET "/certificate-requests?state=cancelled&page=1&size=2"
check_eq "GET /certificate-requests?state=cancelled pages them: total 4, 2 on the page" "4 2" \
	"$(jget "$T/body" "str(d['total']) + ' ' + str(len(d['items']))")"
req GET "/me/requests?state=cancelled" -u bob:bobpw
check_eq "GET /me/requests?state=cancelled: bob's one" "$RQ2" \
	"$(jget "$T/body" "' '.join(r['requestId'] for r in d)")"
req GET /me -u bob:bobpw
check_status "GET /me as bob is 200" 200 -
check_eq "... his certificates and his one request, cancelled" "bob 0 $RQ2:cancelled" \
	"$(jget "$T/body" "d['user'] + ' ' + str(len(d['certificates'])) + ' ' + ' '.join(r['requestId'] + ':' + r['state'] for r in d['requests'])")"
req GET /me
check_status "GET /me without the login is 401" 401 authentication_required
"$ADMIN" request list --state withdrawn 2>/dev/null
check_eq "an unknown --state is a usage error (exit 2)" 2 $?
areq GET "/certificate-requests?state=withdrawn"
check_status "an unknown ?state= is 400 request_invalid" 400 request_invalid

# ------------------------------------------------------------ approve and cancel at once
WON_A=0
WON_C=0
i=0
while [ $i -lt 5 ]; do
	i=$((i + 1))
	submit "race-$i" alice:alicepw || not_ok "race $i: a pending request"
	curl -s -o "$T/race-a" -w '%{http_code}' -X POST -H "Authorization: Bearer $KEY" \
		"$URL/certificate-requests/$RQ/approve" >"$T/race-a.code" &
	_pa=$!
	curl -s -o "$T/race-c" -w '%{http_code}' -X POST -H "Authorization: Bearer $POLL" \
		"$URL/certificate-requests/$RQ/cancel" >"$T/race-c.code" &
	_pc=$!
	wait "$_pa" "$_pc"
	pair="$(cat "$T/race-a.code") $(cat "$T/race-c.code")"
	st=$(state_of "$RQ")
	case "$pair $st" in
	"200 409 issued") WON_A=$((WON_A + 1)) ;;
	"409 200 cancelled") WON_C=$((WON_C + 1)) ;;
	*) not_ok "race $i: approve/cancel answered $pair, the request is $st" ;;
	esac
done
check_eq "approve and cancel at once, five times: exactly one won each time" 5 \
	$((WON_A + WON_C))
check_eq "... and the certificates are the approvals that won" "$WON_A" \
	"$(count "SELECT count(*) FROM certificates c JOIN certificate_requests r ON r.serial = c.serial WHERE r.token_id IN (SELECT id FROM tokens WHERE name LIKE 'race-%')")"
diag "races won: approve $WON_A, cancel $WON_C"

# ------------------------------------------------------------ crtoken-enroll
mkdir -p "$T/out"
# enroll_bg NAME USER PW : crtoken-enroll redeeming a fresh approval token of
# USER's in the background, waiting; its pid in $EPID once the request is
# pending (its id in $RQ).
enroll_bg() {
	"$ADMIN" token create --name "$1" --owner "$2" --approval required --json |
		jget - "d['token']" >"$T/$1.tok"
	CRTOKEN_OTP=$3 "$ENROLL" --server "$URL" --user "$2" --token-file "$T/$1.tok" \
		--out-dir "$T/out" --name "$1" --poll-interval 1 >"$T/$1.out" 2>"$T/$1.err" </dev/null &
	EPID=$!
	wait_for grep -q "waiting for approval of" "$T/$1.err" &&
		RQ=$(sed -n 's/^certificate request \(request-[a-z0-9-]*\) is waiting.*/\1/p' "$T/$1.out") &&
		[ -n "$RQ" ]
}
check "crtoken-enroll waits for approval" enroll_bg ctrl-c alice alicepw
kill -INT "$EPID"
wait "$EPID"
check_eq "Ctrl-C while crtoken-enroll waits ends it with exit 5 (pending)" 5 $?
check_contains "... saying the key made by this run is gone: cancel the request" \
	"The key this run made is gone" "$(cat "$T/ctrl-c.err")"
check_contains "... how to cancel it" "crtoken-enroll cancel $RQ --server $URL --poll-secret-file FILE" \
	"$(cat "$T/ctrl-c.err")"
sed -n 's/^  poll secret: \(crq_[^ ]*\).*/\1/p' "$T/ctrl-c.err" >"$T/ctrl-c.poll"
check "... and the poll secret it needs" grep -q '^crq_' "$T/ctrl-c.poll"
check "... and wrote no key" test ! -e "$T/out/ctrl-c.key"
check_eq "the request is still pending" pending "$(state_of "$RQ")"
"$ENROLL" cancel "$RQ" --server "$URL" --poll-secret-file "$T/ctrl-c.poll" >"$T/c.out" 2>"$T/c.err"
check_eq "crtoken-enroll cancel --poll-secret-file exits 0" 0 $?
check_contains "... and says so" "Cancelled request $RQ" "$(cat "$T/c.out")"
check_eq "... the request is cancelled by alice" "cancelled alice" \
	"$("$ADMIN" request show "$RQ" --json | jget - "d['state'] + ' ' + d['decidedBy']")"
"$ENROLL" cancel "$RQ" --server "$URL" --poll-secret-file "$T/ctrl-c.poll" 2>"$T/c.err"
check_eq "crtoken-enroll cancel twice exits 1" 1 $?
check_contains "... with request_state" request_state "$(cat "$T/c.err")"

check "a request crtoken-enroll waits for, cancelled by an admin meanwhile" \
	enroll_bg admin-cancelled bob bobpw
"$ADMIN" request cancel "$RQ" >/dev/null
wait "$EPID"
check_eq "crtoken-enroll sees it cancelled and exits 8" 8 $?
check_contains "... saying so" "request $RQ was cancelled" "$(cat "$T/admin-cancelled.err")"

check "a request for the login cancel" submit cancel-enroll alice:alicepw
CRTOKEN_OTP=bobpw "$ENROLL" cancel "$RQ" --server "$URL" --user bob 2>"$T/c.err"
check_eq "crtoken-enroll cancel of alice's request with bob's login exits 1" 1 $?
check_contains "... request_unknown" request_unknown "$(cat "$T/c.err")"
CRTOKEN_OTP=alicepw "$ENROLL" cancel "$RQ" --server "$URL" --user alice >"$T/c.out"
check_eq "crtoken-enroll cancel with alice's own login exits 0" 0 $?
check_eq "... cancelled" cancelled "$(state_of "$RQ")"
"$ENROLL" cancel "request-x/../../audit" --server "$URL" --user alice --otp-file /dev/null 2>/dev/null
check_eq "crtoken-enroll cancel of something that is no request id: usage error (exit 2)" 2 $?
CRTOKEN_OTP=alicepw "$ENROLL" list --requests --size 2 --server "$URL" --user alice >"$T/l.out"
check_eq "crtoken-enroll list --requests exits 0" 0 $?
check_contains "... one page of alice's requests" "page 1 of" "$(cat "$T/l.out")"
check_contains "... the newest first: the one just cancelled" "$RQ cancelled" \
	"$(sed -n 2p "$T/l.out" | tr -s ' ')"

# ------------------------------------------------------------ the event
check "the command sink received request.cancelled" wait_for grep -q \
	"\"requestId\":\"$RQ1\"" "$T/events.out"
check_contains "it is a request.cancelled" "type=request.cancelled" "$(cat "$T/events.out")"
check "no event carries a poll secret" sh -c "! grep -q crq_ '$T/events.out'"

http_finish
