#!/bin/sh
# t_events.sh — event notifications end to end, with real receivers on
# 127.0.0.1 (TCP 18850 webhook, 18851 SMTP, 18852 crtokend): an HTTPS
# webhook server that checks the HMAC signature (event_receivers.py, a
# throwaway certificate), an SMTP server (python3-aiosmtpd) that receives
# the mail, and a command sink. The approval workflow's request.* events
# reach the webhook and the approvers and token owner by mail. crtokend delivers what its own requests
# change at once and what crtoken-admin changes on its poll; a receiver that
# is down gets every event later, across a crtokend restart; `crtoken-admin
# events deliver` does a pass without crtokend; bad sink configurations are
# refused at load with config_invalid.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

HOOK_PORT=18850
SMTP_PORT=18851
$PY -c 'import aiosmtpd' 2>/dev/null ||
	{ not_ok "python3-aiosmtpd is installed (scripts/deps.sh check)"; finish; exit 1; }

http_instance "$T/i" 18852 || { not_ok "instance"; finish; exit 1; }
I=$T/i
# The receiver's throwaway certificate, the signature key, the command sink.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$T/hook.key" -out "$T/hook.pem" 2>/dev/null
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$I/webhook.key"
echo >>"$I/webhook.key"
chmod 600 "$I/webhook.key"
cat >"$T/sink.sh" <<EOS
#!/bin/sh
cat >>"$T/command.out"
echo " type=\$CRTOKEN_EVENT_TYPE" >>"$T/command.out"
EOS
chmod 755 "$T/sink.sh"
mkdir "$T/mail"
cat >>"$CRTOKEN_CONF" <<EOF2
poll_interval = 1s
lease = 10s
[events.sink hooks]
type = webhook
url = https://127.0.0.1:$HOOK_PORT/crtoken
secret_file = webhook.key
ca_file = $T/hook.pem
retry_base = 1s
retry_max = 2s
[events.sink mail]
type = email
smtp_url = smtp://127.0.0.1:$SMTP_PORT
from = crtoken@example.org
to = netadmin@example.org
to_owner = yes
events = token.created, certificate.*
subject = [crtoken] {type}: {tokenName}
body = Event {type} by {actor}.\nToken {tokenId} ({tokenName}), owner {owner}.\nSerial {serial}
[events.sink reqmail]
type = email
smtp_url = smtp://127.0.0.1:$SMTP_PORT
from = crtoken@example.org
to = approvers@example.org
to_owner = yes
events = request.*
subject = [crtoken] {type} {requestId}: {tokenName}
body = Request {requestId} of token {tokenName} ({tokenId}).\nOwner {owner} <{ownerEmail}>, requested by {user}.\nEvent by {actor}. Serial {serial}.\nReason: {reason}
[events.sink run]
type = command
command = $T/sink.sh
events = certificate.issued
EOF2
# [events] keys go into [events]: the appended text starts with them.
sed -i "s/^poll_interval = 1s$/[events]\npoll_interval = 1s/" "$CRTOKEN_CONF"
check "the instance with three sinks loads" "$ADMIN" events list

start_hook() {
	$PY "$TOP/tests/integration/event_receivers.py" webhook $HOOK_PORT "$T/hook.pem" \
		"$T/hook.key" "$I/webhook.key" "$T/hook.jsonl" "$T/hook.down" &
	HOOK_PID=$!
	wait_port 127.0.0.1 $HOOK_PORT 100
}
$PY "$TOP/tests/integration/event_receivers.py" smtp $SMTP_PORT "$T/mail" &
SMTP_PID=$!
at_exit 'stop_pid "$HOOK_PID"; stop_pid "$SMTP_PID"'
check "the webhook receiver (HTTPS) listens" start_hook
check "the SMTP receiver listens" wait_port 127.0.0.1 $SMTP_PORT 100

# The receiver's check is real: a request signed with another key is refused.
body='{"id":"x"}'
ts=$(date +%s)
bad=$(printf '%s.%s' "$ts" "$body" | openssl dgst -sha256 -hmac wrong-key-0123456789 | sed 's/.* //')
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/hook.pem" -H "X-Crtoken-Timestamp: $ts" \
	-H "X-Crtoken-Signature: sha256=$bad" --data-binary "$body" "https://127.0.0.1:$HOOK_PORT/x")
check_eq "the receiver refuses a wrong signature" 401 "$code"
: >"$T/hook.jsonl"

# wait_for FILE PYEXPR [TRIES] : until PYEXPR (over rows = the JSON lines of
# FILE) is true; every 0.1 s, up to TRIES (default 150) times.
wait_for() {
	_w=0
	while [ $_w -lt "${3:-150}" ]; do
		if [ -f "$1" ] && $PY -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" 2>/dev/null; then return 0; fi
		sleep 0.1
		_w=$((_w + 1))
	done
	return 1
}
mail_count() { ls "$T/mail" | grep -c '\.eml$'; }
# eventually TRIES CMD... : until CMD succeeds; every 0.1 s, up to TRIES times.
eventually() {
	_e=$1
	shift
	while [ "$_e" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		_e=$((_e - 1))
	done
	return 1
}
# hook_retrying N : N or more webhook deliveries pending after a failed attempt.
hook_retrying() {
	[ "$("$ADMIN" events list --pending --json | jget - "sum(1 for e in d for x in e['deliveries'] if x['sink'] == 'hooks' and x['attempts'] >= 1 and x['state'] == 'pending')")" -ge "$1" ]
}

start_crtokend || { not_ok "crtokend starts"; http_finish; exit 1; }
apikey || not_ok "api key"

# A change through crtokend: delivered at once, signed, no token string.
new_token laptop '"owner":"alice"' '"ownerEmail":"alice@example.org"' || not_ok "token created"
check_eq "the token answers with its ownerEmail" alice@example.org \
	"$(jget "$T/body" "d['ownerEmail']")"
check "token.created reaches the webhook" wait_for "$T/hook.jsonl" \
	"any(r['event']['type'] == 'token.created' for r in rows)"
check "with a valid HMAC-SHA256 signature" wait_for "$T/hook.jsonl" "all(r['sigOk'] for r in rows)"
check_eq "the signed body is the event: id, type, time, actor, subject" \
	"laptop alice alice@example.org $TOKEN_ID" \
	"$(jget - "' '.join([d['event']['subject'][k] for k in ('tokenName','owner','ownerEmail','tokenId')])" <"$T/hook.jsonl")"
check_eq "the headers name the event" "token.created application/json" \
	"$(jget - "d['headers']['X-Crtoken-Event'] + ' ' + d['headers']['Content-Type']" <"$T/hook.jsonl")"
if grep -q "$TOKEN" "$T/hook.jsonl" || grep -q 'crt_' "$T/hook.jsonl"; then
	not_ok "the event holds no token string"
else ok "the event holds no token string"; fi

_i=0
while [ "$(mail_count)" -lt 1 ] && [ $_i -lt 150 ]; do sleep 0.1; _i=$((_i + 1)); done
check_eq "token.created reached the SMTP server: one mail" 1 "$(mail_count)"
check_eq "to the fixed address and the token's owner" \
	'["netadmin@example.org", "alice@example.org"]' "$(jget "$T/mail/1.json" "d['to']")"
check_contains "with the subject template rendered" "Subject: [crtoken] token.created: laptop" \
	"$(cat "$T/mail/1.eml")"
check_contains "and the body template" "owner alice." "$(tr -d '\r' <"$T/mail/1.eml")"

# A change made by crtoken-admin (another process): crtokend's poll sends it.
"$ADMIN" token create --name phone --owner-email bob@example.org --json >"$T/phone.json"
make_csr "$T" phone
"$ADMIN" redeem "$(jget "$T/phone.json" "d['token']")" --csr "$T/phone.csr" --out "$T/phone.pem" \
	>/dev/null 2>"$T/redeem.err" || { not_ok "crtoken-admin redeem"; cat "$T/redeem.err"; }
SERIAL=$(openssl x509 -in "$T/phone.pem" -noout -serial | sed 's/serial=//' | tr A-F a-f)
check "certificate.issued (from crtoken-admin) reaches the webhook" wait_for "$T/hook.jsonl" \
	"any(r['event']['type'] == 'certificate.issued' and r['event']['subject']['serial'].lstrip('0') == '$SERIAL'.lstrip('0') for r in rows)"
_i=0
while ! grep -q certificate.issued "$T/command.out" 2>/dev/null && [ $_i -lt 150 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
check_contains "and the command sink got it on stdin, with its type in the environment" \
	"type=certificate.issued" "$(cat "$T/command.out" 2>/dev/null)"
check_eq "the command sink got only the type its filter takes" 1 "$(grep -c '"id":"event-' "$T/command.out")"

# Revocation through crtokend.
areq POST "/client-certificates/$SERIAL/revoke" -H 'Content-Type: application/json' \
	--data-binary '{"reason":"keyCompromise"}'
check_status "revoke through crtokend" 200 -
check "certificate.revoked reaches the webhook" wait_for "$T/hook.jsonl" \
	"any(r['event']['type'] == 'certificate.revoked' and r['event']['subject'].get('reason') == 'keyCompromise' for r in rows)"

# The approval workflow's events: request.pending, .approved, .denied and
# .expired reach the webhook (signed) and, through the reqmail sink, the
# approvers and the token's owner (its ownerEmail), with the request
# templates rendered ({requestId}, {reason}, {serial}, ...).
mail_with() { grep -l -F -- "$1" "$T"/mail/*.eml 2>/dev/null | head -1; }
has_mail() { [ -n "$(mail_with "$1")" ]; }
hook_has() { wait_for "$T/hook.jsonl" "any(r['event']['type'] == '$1' and r['event']['subject'].get('requestId') == '$2' and r['sigOk'] for r in rows)"; }
hook_subject() { jget - "[r['event']['subject'] for r in d if r['event']['type'] == '$1' and r['event']['subject'].get('requestId') == '$2'][0]$3" <"$T/hook.jsonl.all"; }
# request_for NAME OWNER : a token NAME that needs approval, for OWNER
# (OWNER@example.org), redeemed by OWNER's crtoken-admin redeem: its request id.
request_for() {
	"$ADMIN" token create --name "$1" --owner "$2" --owner-email "$2@example.org" \
		--approval required --json >"$T/$1.json" && make_csr "$T" "$1" &&
		"$ADMIN" redeem "$(jget "$T/$1.json" "d['token']")" --csr "$T/$1.csr" --user "$2" \
			>"$T/$1.out" 2>&1
	[ $? = 5 ] || { not_ok "the redemption of $1 waits for approval (exit 5)"; return 1; }
	"$ADMIN" request list --json | jget - "[r['requestId'] for r in d if r['tokenName'] == '$1'][0]"
}
# mail_of KIND ID : the .eml of the reqmail message for request ID's event KIND.
mail_of() {
	eventually 150 has_mail "[crtoken] request.$1 $2:" || return 1
	mail_with "[crtoken] request.$1 $2:"
}
snapshot_hook() { $PY -c '
import json, sys
print(json.dumps([json.loads(l) for l in open(sys.argv[1]) if l.strip()]))' "$T/hook.jsonl" >"$T/hook.jsonl.all"; }

RQ1=$(request_for rq-laptop carol)
check "request.pending reaches the webhook, signed" hook_has request.pending "$RQ1"
snapshot_hook
check_eq "... naming the request, its token, the owner and her address" \
	"$RQ1 rq-laptop carol carol@example.org" \
	"$(hook_subject request.pending "$RQ1" "" | jget - "' '.join([d['requestId'], d['tokenName'], d['owner'], d['ownerEmail']])")"
M=$(mail_of pending "$RQ1")
check "request.pending reaches the SMTP server" test -n "$M"
check_eq "... to the approvers and the token's owner" '["approvers@example.org", "carol@example.org"]' \
	"$(jget "${M%.eml}.json" "d['to']")"
check_contains "... the subject template rendered with {requestId}" \
	"Subject: [crtoken] request.pending $RQ1: rq-laptop" "$(cat "$M")"
check_contains "... and the body template" \
	"Owner carol <carol@example.org>, requested by carol." "$(tr -d '\r' <"$M")"

"$ADMIN" request approve "$RQ1" >/dev/null 2>"$T/approve.err" || not_ok "crtoken-admin request approve"
RQ1_SERIAL=$("$ADMIN" request show "$RQ1" --json | jget - "d['serial']")
check "request.approved reaches the webhook, signed" hook_has request.approved "$RQ1"
snapshot_hook
check_eq "... with the serial the approval issued" "$RQ1_SERIAL" \
	"$(hook_subject request.approved "$RQ1" "['serial']")"
M=$(mail_of approved "$RQ1")
check "request.approved reaches the SMTP server" test -n "$M"
check_eq "... to the approvers and the owner" '["approvers@example.org", "carol@example.org"]' \
	"$(jget "${M%.eml}.json" "d['to']")"
check_contains "... the body names who decided and the serial" \
	"Event by admin:$(id -un). Serial $RQ1_SERIAL." "$(tr -d '\r' <"$M")"

RQ2=$(request_for rq-phone dave)
"$ADMIN" request deny "$RQ2" --reason "no phones on this VLAN" >/dev/null ||
	not_ok "crtoken-admin request deny"
check "request.denied reaches the webhook, signed" hook_has request.denied "$RQ2"
snapshot_hook
check_eq "... with the reason and the token's owner" "no phones on this VLAN|dave|dave@example.org" \
	"$(hook_subject request.denied "$RQ2" "" | jget - "'|'.join([d['reason'], d['owner'], d['ownerEmail']])")"
M=$(mail_of denied "$RQ2")
check "request.denied reaches the SMTP server" test -n "$M"
check_eq "... to the approvers and the token's owner (ownerEmail)" \
	'["approvers@example.org", "dave@example.org"]' "$(jget "${M%.eml}.json" "d['to']")"
check_contains "... the body template with {reason}" "Reason: no phones on this VLAN" \
	"$(tr -d '\r' <"$M")"

RQ3=$(request_for rq-old erin)
# [requests] pending_lifetime passing: the request's deadline moved to the past.
sqlite3 "$I/crtoken.db" "UPDATE certificate_requests SET expires_at = created_at - 1 WHERE id = '$RQ3'"
"$ADMIN" maintain >/dev/null 2>"$T/maintain.err" || not_ok "crtoken-admin maintain"
check "request.expired (the maintenance run) reaches the webhook, signed" hook_has request.expired "$RQ3"
M=$(mail_of expired "$RQ3")
check "request.expired reaches the SMTP server" test -n "$M"
check_eq "... to the approvers and the token's owner" '["approvers@example.org", "erin@example.org"]' \
	"$(jget "${M%.eml}.json" "d['to']")"
check_eq "the request sink mailed the six request events (three pending, three decided), the certificate sink the approval's certificate.issued" \
	"6 1" "$(grep -l -F '[crtoken] request.' "$T"/mail/*.eml | wc -l) $(grep -l -F "[crtoken] certificate.issued: rq-laptop" "$T"/mail/*.eml | wc -l)"
check "no event or mail carries a poll secret" sh -c "! grep -q crq_ '$T/hook.jsonl' $T/mail/*.eml"
quiet() { [ "$("$ADMIN" events list --pending --json | jget - "len(d)")" = 0 ]; }
check "every request event is delivered before the next test" eventually 150 quiet

# The receiver down for a while, crtokend restarted meanwhile: nothing lost.
: >"$T/hook.down"
for n in 1 2 3 4 5; do "$ADMIN" token create --name "down-$n" >/dev/null; done
check "while the receiver is down the deliveries are tried and kept for a retry" \
	eventually 150 hook_retrying 5
stop_crtokend
"$ADMIN" events list --pending --json >"$T/pending.json"
check_eq "five events wait for the webhook" 5 \
	"$(jget "$T/pending.json" "sum(1 for e in d for x in e['deliveries'] if x['sink'] == 'hooks' and x['state'] == 'pending')")"
check_contains "their last attempt says why" "HTTP 503" "$(cat "$T/pending.json")"
rm -f "$T/hook.down"
start_crtokend || not_ok "crtokend restarts"
check "after the restart every waiting event reaches the receiver" wait_for "$T/hook.jsonl" \
	"set('down-%d' % i for i in range(1, 6)) <= set(r['event']['subject'].get('tokenName') for r in rows)" 300
# (the receiver logs an event before it answers: its attempt is recorded just after)
none_pending() { [ "$("$ADMIN" events list --pending --json | jget - "len(d)")" = 0 ]; }
check "nothing is pending any more" eventually 100 none_pending
ids=$("$ADMIN" events list --json --limit 1000 | jget - "' '.join(sorted(e['id'] for e in d if any(x['sink'] == 'hooks' for x in e['deliveries'])))")
got=$($PY -c '
import json, sys
print(" ".join(sorted(set(json.loads(l)["event"]["id"] for l in open(sys.argv[1]) if l.strip()))))' "$T/hook.jsonl")
check_eq "every event routed to the webhook arrived (by id)" "$ids" "$got"
first=$("$ADMIN" events list --json --limit 1000 | jget - "[e['id'] for e in d if e['event']['subject'].get('tokenName') == 'down-1'][0]")
"$ADMIN" events show "$first" >"$T/attempts"
check "each attempt is recorded (failures, then the success)" \
	grep -q "hooks.*FAIL.*HTTP 503" "$T/attempts"
check "the success too" grep -q "hooks .*ok .*HTTP 204" "$T/attempts"

# Two crtokend nodes on one store, both delivering (each polls every second):
# the lease gives every delivery to one of them, so each event arrives once.
"$CRTOKEND" --config "$CRTOKEN_CONF" --foreground --listen 127.0.0.1:18853 \
	>>"$T/crtokend2.log" 2>&1 &
NODE2_PID=$!
at_exit 'stop_pid "$NODE2_PID"'
check "a second crtokend node on the same store starts" wait_port 127.0.0.1 18853 100
for n in $(seq 1 20); do "$ADMIN" token create --name "two-$n" >/dev/null; done
check "the two nodes deliver all twenty events" wait_for "$T/hook.jsonl" \
	"set('two-%d' % i for i in range(1, 21)) <= set(r['event']['subject'].get('tokenName') for r in rows)" 300
# Both nodes stopped (each finishes its pass first): every send is done.
check "nothing is pending" eventually 100 none_pending
stop_pid "$NODE2_PID"
stop_crtokend
check_eq "each of them exactly once" 20 "$($PY -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(sum(1 for r in rows if (r["event"]["subject"].get("tokenName") or "").startswith("two-")))' "$T/hook.jsonl")"
diag "nodes that sent them: $(sqlite3 "$I/crtoken.db" "SELECT count(DISTINCT a.node) FROM event_attempts a JOIN events e ON e.seq = a.event_seq WHERE e.body LIKE '%\"two-%' AND a.sink = 'hooks'")"

# Without crtokend: one pass of crtoken-admin events deliver.
"$ADMIN" token delete "$TOKEN_ID" >/dev/null
check_eq "the deletion waits while nothing delivers" 1 "$("$ADMIN" events list --pending --json | jget - "len(d)")"
check "crtoken-admin events deliver makes the pass" "$ADMIN" events deliver
check "token.deleted reaches the webhook" wait_for "$T/hook.jsonl" \
	"any(r['event']['type'] == 'token.deleted' for r in rows)" 10

# certificate.expiring from the daily check: once per certificate.
"$ADMIN" token create --name soon --json >"$T/soon.json"
make_csr "$T" soon
"$ADMIN" redeem "$(jget "$T/soon.json" "d['token']")" --csr "$T/soon.csr" --out "$T/soon.pem" >/dev/null
VALID=$("$ADMIN" cert list --json | jget - "len([c for c in d if c['status'] == 'valid'])")
check_contains "check-expiring with a window past the validity raises it (every valid certificate)" \
	"for $VALID certificate" "$("$ADMIN" events check-expiring --window 400d)"
check_contains "and only once" "for 0 certificate" "$("$ADMIN" events check-expiring --window 400d)"
"$ADMIN" events deliver >/dev/null
check "certificate.expiring reaches the webhook" wait_for "$T/hook.jsonl" \
	"any(r['event']['type'] == 'certificate.expiring' for r in rows)" 10

# Bad sink configurations: refused at load, nothing else runs.
cp "$CRTOKEN_CONF" "$T/good.conf"
bad_conf() {
	cp "$T/good.conf" "$CRTOKEN_CONF"
	printf '%b' "$1" >>"$CRTOKEN_CONF"
}
bad_conf '[events.sink plain]\ntype = webhook\nurl = http://hooks.example.org/x\nsecret_file = webhook.key\n'
check_code "a webhook URL that is not https (and not loopback) is config_invalid" config_invalid \
	"$ADMIN" events list
check_contains "naming the rule" "must be https://" "$(cat "$T/.err")"
bad_conf '[events.sink m2]\ntype = email\nsmtp_url = smtp://127.0.0.1:1\nfrom = a@b.org\nto = c@d.org\nsubject = {type} {tokenSecret}\nbody = x\n'
check_code "a template with an unknown placeholder is config_invalid" config_invalid \
	"$ADMIN" events list
check_contains "naming the placeholder" "{tokenSecret}" "$(cat "$T/.err")"
bad_conf '[events.sink m3]\ntype = email\nsmtp_url = smtp://127.0.0.1:1\nfrom = a@b.org\nto = c@d.org\nevents = request.*\nsubject = {requestId}\nbody = poll with {pollSecret}\n'
check_code "attack_template_renders_poll_secret: a request template with {pollSecret} is config_invalid" \
	config_invalid "$ADMIN" events list
check_contains "naming the placeholder" "{pollSecret}" "$(cat "$T/.err")"
bad_conf '[events.sink c2]\ntype = command\ncommand = /bin/true\nevents = token.created, cert.issued\n'
check_code "an unknown event type in a filter is config_invalid" config_invalid "$ADMIN" events list
check_contains "naming the type" '"cert.issued"' "$(cat "$T/.err")"
PORT=18852
bad_conf '[events.sink c2]\ntype = command\ncommand = /bin/true\nevents = nope.*\n'
if "$CRTOKEND" --config "$CRTOKEN_CONF" --foreground >"$T/bad-crtokend.log" 2>&1; then
	not_ok "crtokend refuses to start with a bad sink"
else
	check_contains "crtokend refuses to start with a bad sink" config_invalid "$(cat "$T/bad-crtokend.log")"
fi
cp "$T/good.conf" "$CRTOKEN_CONF"
"$ADMIN" token create --name bad-email --owner-email 'x@y.org, evil@z.org' >/dev/null 2>"$T/.err"
check_contains "an ownerEmail with two addresses is field_invalid" field_invalid "$(cat "$T/.err")"

http_finish
