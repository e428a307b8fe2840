#!/bin/sh
# t_attack_events.sh — the security pass over the event sinks (issue 12),
# as an attacker, against the real crtokend's deliverer and real receivers
# on 127.0.0.1 (event_receivers.py): a webhook that answers 307 to another
# URL (https or plain http) is not followed with the signed body; CR/LF and
# extra addresses in template values (token name, owner, ownerEmail, deny
# reason) are refused at the door and, in an event already stored, give
# neither an extra header nor an extra recipient at the SMTP server; a
# command sink gets the event only on stdin (no shell, only its three
# environment variables), and a command that hangs is killed together with
# everything it started. Ports 19145-19149.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

REDIR_PORT=19146
PLAIN_PORT=19147
SMTP_PORT=19148
$PY -c 'import aiosmtpd' 2>/dev/null ||
	{ not_ok "python3-aiosmtpd is installed (scripts/deps.sh check)"; finish; exit 1; }
http_instance "$T/i" 19145 || { not_ok "instance"; finish; exit 1; }
I=$T/i
DB=$I/crtoken.db
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$T/hook.key" -out "$T/hook.pem" 2>/dev/null
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$I/webhook.key"
chmod 600 "$I/webhook.key"
mkdir "$T/mail" "$T/cmd"
# The command sink records its environment exactly as exec'd, its argv and stdin.
cat >"$T/sink.sh" <<EOS
#!/bin/sh
n=\$\$
tr '\\000' '\\n' </proc/\$\$/environ >"$T/cmd/\$n.env"
printf '%s\\n' "\$0" "\$@" >"$T/cmd/\$n.argv"
cat >"$T/cmd/\$n.stdin"
EOS
# The command that hangs: a child of its own that sleeps (a copy of sleep
# under a name of this suite, so it can be found and nothing else is).
cp "$(command -v sleep)" "$T/hang-sleep"
cat >"$T/hang.sh" <<EOS
#!/bin/sh
"$T/hang-sleep" 300
echo finished >"$T/hang.finished"
EOS
chmod 755 "$T/sink.sh" "$T/hang.sh"
GO="https://127.0.0.1:$REDIR_PORT/go"
cat >>"$CRTOKEN_CONF" <<EOF2
[events]
poll_interval = 1s
[events.sink to-https]
type = webhook
url = $GO?https://127.0.0.1:$REDIR_PORT/stolen
secret_file = webhook.key
ca_file = $T/hook.pem
events = token.created
retry_base = 1s
retry_max = 1s
[events.sink to-http]
type = webhook
url = $GO?http://127.0.0.1:$PLAIN_PORT/stolen
secret_file = webhook.key
ca_file = $T/hook.pem
events = token.created
retry_base = 1s
retry_max = 1s
[events.sink mail]
type = email
smtp_url = smtp://127.0.0.1:$SMTP_PORT
from = crtoken@example.org
to = netadmin@example.org
to_owner = yes
events = token.created, request.denied
subject = [crtoken] {type}: {tokenName} of {owner} {reason}
body = Token {tokenName} of {owner} <{ownerEmail}>.\nReason: {reason}\nUser: {user}
[events.sink run]
type = command
command = $T/sink.sh {tokenName} \$(id)
events = token.created
[events.sink hang]
type = command
command = $T/hang.sh
events = token.deleted
timeout = 1s
retry_base = 1h
EOF2
check "the instance with five sinks loads" "$ADMIN" events list

# ------------------------------------------------------------ sinks refused at load
# A webhook URL that would leave the machine in the clear, dressed up as
# loopback; a command that is not an absolute path (it would be found in
# the working directory). Each: config_invalid, naming the sink.
cp "$CRTOKEN_CONF" "$T/good.conf"
BAD=""
for u in 'http://evil.example/hook' 'HTTP://evil.example/hook' 'http://127.0.0.1.evil.example/' \
	'http://localhost.evil.example/' 'http://127.0.0.1@evil.example/' \
	'http://127.0.0.1:80@evil.example/' 'http://user:pw@127.0.0.1/' 'http://127.0.0.1%2eevil.example/' \
	'http://[::ffff:192.0.2.1]/' 'http://0x7f000001.evil.example/' 'ftp://127.0.0.1/' \
	'http:/evil.example/' 'file:///etc/passwd' 'gopher://127.0.0.1:25/'; do
	cp "$T/good.conf" "$CRTOKEN_CONF"
	printf '[events.sink sneaky]\ntype = webhook\nurl = %s\nsecret_file = webhook.key\n' "$u" >>"$CRTOKEN_CONF"
	if "$ADMIN" events list >/dev/null 2>"$T/load.err" || ! grep -q config_invalid "$T/load.err" ||
		! grep -q sneaky "$T/load.err"; then
		BAD="$BAD $u"
	fi
done
check_eq "attack_webhook_url_dressed_as_loopback: 14 URLs refused at load (config_invalid)" "" "$BAD"
cp "$T/good.conf" "$CRTOKEN_CONF"
printf '[events.sink sneaky]\ntype = webhook\nurl = http://127.0.0.1:9/hook\nsecret_file = webhook.key\n' >>"$CRTOKEN_CONF"
check "... while plain http to 127.0.0.1 itself loads" "$ADMIN" events list
cp "$T/good.conf" "$CRTOKEN_CONF"
printf '[events.sink sneaky]\ntype = command\ncommand = sink.sh --flag\n' >>"$CRTOKEN_CONF"
check_code "attack_command_relative_path: config_invalid" config_invalid "$ADMIN" events list
cp "$T/good.conf" "$CRTOKEN_CONF"

EV=$TOP/tests/integration/event_receivers.py
$PY "$EV" redirect $REDIR_PORT "$T/hook.pem" "$T/hook.key" "$T/redir.jsonl" &
REDIR_PID=$!
$PY "$EV" redirect $PLAIN_PORT - - "$T/plain.jsonl" &
PLAIN_PID=$!
$PY "$EV" smtp $SMTP_PORT "$T/mail" &
SMTP_PID=$!
# Whatever the hanging command left behind is found by its name and ended by its pid.
leftovers() { pgrep -f "^$T/hang-sleep" 2>/dev/null; }
sleeping() { [ -n "$(leftovers)" ]; }
none_left() { [ -z "$(leftovers)" ]; }
at_exit 'stop_pid "$REDIR_PID"; stop_pid "$PLAIN_PID"; stop_pid "$SMTP_PID"; for p in $(leftovers); do kill "$p"; done'
check "the redirecting webhook listens" wait_port 127.0.0.1 $REDIR_PORT 100
check "the plain HTTP receiver listens" wait_port 127.0.0.1 $PLAIN_PORT 100
check "the SMTP receiver listens" wait_port 127.0.0.1 $SMTP_PORT 100
rows() { [ -f "$1" ] && grep -c . "$1" || echo 0; }
# eventually TRIES CMD... : until CMD succeeds; every 0.1 s, up to TRIES times.
eventually() {
	_ev=$1
	shift
	while [ "$_ev" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		_ev=$((_ev - 1))
	done
	"$@" >/dev/null 2>&1
}
mails() { ls "$T/mail" | grep -c '\.eml$'; }

# ------------------------------------------------------------ refused at the door
# Each value that reaches a mail header or the envelope, with CR/LF or a
# second address, is refused before anything is stored.
NTOK=$(sqlite3 "$DB" "SELECT count(*) FROM tokens")
NEV=$(sqlite3 "$DB" "SELECT count(*) FROM events")
check_code "attack_crlf_in_token_name: field_invalid" field_invalid \
	"$ADMIN" token create --name "$(printf 'x\r\nBcc: evil@attacker.example')"
check_code "attack_crlf_in_owner: field_invalid" field_invalid \
	"$ADMIN" token create --name y --owner "$(printf 'bob\r\nBcc: evil@attacker.example')"
check_code "attack_crlf_in_owner_email: field_invalid" field_invalid \
	"$ADMIN" token create --name y --owner-email "$(printf 'bob@example.org\r\nRCPT TO:<evil@attacker.example>')"
check_code "attack_comma_in_owner_email (a second recipient): field_invalid" field_invalid \
	"$ADMIN" token create --name y --owner-email 'bob@example.org,evil@attacker.example'
check_code "attack_angle_brackets_in_owner_email: field_invalid" field_invalid \
	"$ADMIN" token create --name y --owner-email 'bob@example.org> <evil@attacker.example'
check_eq "... none of them stored a token or an event" "$NTOK $NEV" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM tokens") $(sqlite3 "$DB" "SELECT count(*) FROM events")"

# ------------------------------------------------------------ stored events with hostile values
# An event already in the outbox (written by an older version, or by hand)
# carrying CR/LF and extra addresses: the deliverer must still send one
# message with one subject line to the fixed recipient only.
"$ADMIN" token create --name laptop --owner bob --owner-email bob@example.org \
	--description 'see $(touch '"$T"'/pwned) and `touch '"$T"'/pwned`' --json >"$T/tok.json"
check_eq "a token with an owner address (created while crtokend is down)" 0 $?
$PY - "$DB" "$T" <<'EOF'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
seq, body = db.execute("SELECT seq, body FROM events WHERE type = 'token.created'").fetchone()
ev = json.loads(body)
s = ev["subject"]
s["tokenName"] = "laptop\r\nBcc: evil-bcc@attacker.example\r\nX-Injected: yes"
s["owner"] = "bob\nTo: evil-to@attacker.example"
s["ownerEmail"] = "bob@example.org>\r\nRCPT TO:<evil-rcpt@attacker.example"
s["reason"] = "$(touch " + sys.argv[2] + "/pwned)"
# SMTP smuggling: an end of data a lenient relay might take (bare CR/LF around a dot)
s["user"] = "u\r.\rMAIL FROM:<evil@attacker.example>\r.\r\nRCPT TO:<evil-smuggled@attacker.example>\n.\nend"
db.execute("UPDATE events SET body = ? WHERE seq = ?", (json.dumps(ev), seq))
db.commit()
EOF
# A second stored event whose own id and type carry CR/LF: they go into
# headers (X-Crtoken-Event, X-Crtoken-Event-Id, Message-ID) and the
# command's environment, so such an event is sent nowhere.
"$ADMIN" token create --name tablet --json >/dev/null
$PY - "$DB" <<'EOF'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
seq, body = db.execute("SELECT seq, body FROM events WHERE type = 'token.created' ORDER BY seq DESC").fetchone()
ev = json.loads(body)
ev["id"] = ev["id"] + "\r\nX-Injected: yes"
ev["type"] = "token.created\r\nX-Injected: yes"
db.execute("UPDATE events SET body = ? WHERE seq = ?", (json.dumps(ev), seq))
db.commit()
EOF
BADSEQ=$(sqlite3 "$DB" "SELECT max(seq) FROM events")
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
some_mail() { [ "$(mails)" -ge 1 ]; }
check "the tampered event reaches the SMTP server" eventually 150 some_mail
sqlite3 "$DB" "SELECT sink, result FROM event_attempts" | sed 's/^/# attempt: /'
M=$(ls "$T/mail"/*.eml | head -1)
check_eq "attack_crlf_in_stored_event_values: the envelope names the fixed recipient only" \
	'["netadmin@example.org"]' "$(jget "${M%.eml}.json" "d['to']")"
$PY - "$M" >"$T/headers" <<'EOF'
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
for k, v in m.items():
    print("%s: %s" % (k, v.replace("\r", "\\r").replace("\n", "\\n")))
EOF
diag "headers: $(tr '\n' '|' <"$T/headers")"
check_eq "... no Bcc, X-Injected or second To header" "0 1" \
	"$(grep -ci -e '^bcc:' -e '^x-injected:' "$T/headers") $(grep -ci '^to:' "$T/headers")"
check_eq "... one To: the fixed recipient" "To: netadmin@example.org" "$(grep -i '^to:' "$T/headers")"
check_contains "... the subject is one line, the CR/LF made blanks" \
	"Subject: [crtoken] token.created: laptop  Bcc: evil-bcc@attacker.example  X-Injected: yes of bob To: evil-to@attacker.example" \
	"$(grep -i '^subject:' "$T/headers")"
check_eq "... and no recipient of the attacker's got anything" 0 \
	"$(cat "$T/mail"/*.json | grep -c attacker)"
check "attack_smtp_smuggling_bare_cr_lf: every line of the message ends in CRLF (no bare CR or LF around a dot)" \
	$PY -c '
import re, sys
m = open(sys.argv[1], "rb").read()
assert not re.search(rb"\r(?!\n)|(?<!\r)\n", m), m
assert b"MAIL FROM:<evil@attacker.example>" in m, m' "$M"

# ------------------------------------------------------------ the command sink
ran() { [ -s "$(ls "$T/cmd"/*.stdin 2>/dev/null | head -1)" ]; }
check "the command sink ran" eventually 150 ran
C=$(ls "$T/cmd"/*.stdin | head -1)
C=${C%.stdin}
check_eq "attack_command_environment: only PATH and the two CRTOKEN_EVENT_ variables" \
	"CRTOKEN_EVENT_ID CRTOKEN_EVENT_TYPE PATH" \
	"$(sed 's/=.*//' "$C.env" | sort | tr '\n' ' ' | sed 's/ $//')"
check_eq "... CRTOKEN_EVENT_TYPE is the type" "CRTOKEN_EVENT_TYPE=token.created" \
	"$(grep '^CRTOKEN_EVENT_TYPE=' "$C.env")"
check_eq "attack_command_argv_placeholders: the command line is split, never rendered nor run by a shell" \
	"$T/sink.sh|{tokenName}|\$(id)" "$(tr '\n' '|' <"$C.argv" | sed 's/|$//')"
check_eq "... the event JSON only on stdin, the hostile values as data" \
	'$(touch '"$T"'/pwned)' "$(jget "$C.stdin" "d['subject']['reason']")"
check "attack_command_shell_injection: nothing ran the values (no file made)" \
	test ! -e "$T/pwned"

# ------------------------------------------------------------ webhook redirects
tried() { [ "$(rows "$T/redir.jsonl")" -ge 2 ]; }
check "both redirecting webhooks were tried" eventually 150 tried
sleep 1.5 # a second attempt of each (retry_base 1s), had the first been followed
check_eq "attack_webhook_redirect_followed: only /go was asked, never the 307's https target" \
	0 "$(grep -c '"/stolen"' "$T/redir.jsonl")"
check_eq "... nor its plain http:// target" 0 "$(rows "$T/plain.jsonl")"
check_eq "... a 307 is no delivery: both still pending" "pending pending" \
	"$(sqlite3 "$DB" "SELECT group_concat(state, ' ') FROM (SELECT d.state FROM event_deliveries d
		JOIN events e ON e.seq = d.event_seq WHERE d.sink LIKE 'to-%' AND d.event_seq != $BADSEQ
		ORDER BY d.sink)")"
check_eq "... each attempt recorded as HTTP 307" "HTTP 307" \
	"$(sqlite3 "$DB" "SELECT DISTINCT result FROM event_attempts WHERE sink LIKE 'to-%'
		AND event_seq != $BADSEQ")"

# ------------------------------------------------------------ a command that hangs
apikey || { not_ok "api key"; finish; exit 1; }
TID=$(jget "$T/tok.json" "d['id']")
areq DELETE "/certificate-request-tokens/$TID"
check_status "deleting the token raises token.deleted for the hanging command" 204 -
check "the hanging command started its sleeper" eventually 100 sleeping
killed() {
	[ -n "$(sqlite3 "$DB" "SELECT result FROM event_attempts WHERE sink = 'hang' AND result LIKE 'killed%'")" ]
}
check "the attempt is recorded as killed after the timeout" eventually 100 killed
check "attack_hanging_command_leaves_children: the command's sleeper is killed with it" \
	eventually 20 none_left
check "... and the rest of the command never ran" test ! -e "$T/hang.finished"
bad_refused() {
	[ "$(sqlite3 "$DB" "SELECT count(DISTINCT sink) FROM event_attempts WHERE event_seq = $BADSEQ
		AND result LIKE '%not a plain word%'")" = 4 ]
}
check "attack_crlf_in_stored_event_id_and_type: each of its four sinks refuses to send it" \
	eventually 50 bad_refused
check_eq "... no webhook request carried an injected header" 0 \
	"$(grep -c '"injected": true' "$T/redir.jsonl")"
check_eq "... the SMTP server got one message (the first event's, its headers checked above)" 1 \
	"$(mails)"
check_eq "... the command ran once (the first event)" 1 "$(ls "$T/cmd" | grep -c '\.stdin$')"
check "crtokend still answers" curl -sf -o /dev/null "$URL/healthz"
http_finish
