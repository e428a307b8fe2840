#!/bin/sh
# t_maintain.sh — the scheduled work, `crtoken-admin maintain`: the CRL is
# re-signed before its nextUpdate (in its last quarter) and not while fresh,
# tokens are purged per [tokens] purge_after, every run is audited
# (maintain.run), certificate.expiring is raised once per certificate within
# [events] expiring_window, two runs at the same moment have one effect;
# crtokend runs it by itself every [maintenance] interval. Time moves with faketime, always
# forward. Port 18811 (the renew helper's range 18810-18829).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/http_lib.sh"

http_instance "$T/inst" 18811 || { not_ok "instance"; finish; exit 1; }
conf_set crl_days 4
conf_set purge_after 1d
DB=$T/inst/crtoken.db
q() { sqlite3 "$DB" "$1"; }
# at OFFSET CMD... : CMD with the clock OFFSET ahead (faketime).
at() {
	_o=$1
	shift
	faketime -f "$_o" "$@"
}

check "the first run signs the CRL (none published)" "$ADMIN" maintain
N0=$(q "SELECT number FROM crl")
NEXT0=$(q "SELECT next_update FROM crl")
check_eq "... one maintain.run audit row" 1 "$(q "SELECT count(*) FROM audit WHERE action = 'maintain.run'")"

at +1d "$ADMIN" maintain --json >"$T/m1.json"
check_eq "a day later (4-day CRL, fresh): not re-signed" false "$(jget "$T/m1.json" "d['crlResigned']")"
check_eq "... the same CRL number" "$N0" "$(q "SELECT number FROM crl")"

at +74h "$ADMIN" maintain --json >"$T/m2.json"
check_eq "in the CRL's last quarter: re-signed" true "$(jget "$T/m2.json" "d['crlResigned']")"
NEXT1=$(q "SELECT next_update FROM crl")
THIS1=$(q "SELECT this_update FROM crl")
check "... before the old nextUpdate" test "$THIS1" -lt "$NEXT0"
check "... with a later nextUpdate" test "$NEXT1" -gt "$NEXT0"
check "... and written to crl_file, verifying against the CA" \
	openssl crl -in "$T/inst/crl.pem" -CAfile "$T/inst/ca.pem" -noout
check_eq "... crl_file is the new CRL number" "$(q "SELECT number FROM crl")" \
	"$(openssl crl -in "$T/inst/crl.pem" -noout -crlnumber | $PY -c 'import sys; print(int(sys.stdin.read().split("=")[1], 16))')"

# ------------------------------------------------------------ purge
ID=$(at +75h "$ADMIN" token create --name gone --json | jget - "d['id']")
at +75h "$ADMIN" token delete "$ID" >/dev/null
KEEP=$(at +75h "$ADMIN" token create --name kept --expires 30d --json | jget - "d['id']")
at +76h "$ADMIN" maintain --json >"$T/m3.json"
check_eq "a token deleted an hour ago stays ([tokens] purge_after = 1d)" 0 \
	"$(jget "$T/m3.json" "d['tokensPurged']")"
check_eq "... and no token.purge row is written for nothing" 0 \
	"$(q "SELECT count(*) FROM audit WHERE action = 'token.purge'")"

# Two runs at the same moment, past purge_after and in the CRL's last
# quarter: one purge, one new CRL, two maintain.run rows.
CRL0=$(q "SELECT count(*) FROM audit WHERE action = 'crl.generate'")
at +150h "$ADMIN" maintain --json >"$T/c1.json" 2>"$T/c1.err" &
P1=$!
at +150h "$ADMIN" maintain --json >"$T/c2.json" 2>"$T/c2.err" &
P2=$!
wait "$P1"
R1=$?
wait "$P2"
R2=$?
check_eq "two concurrent runs both succeed" "0 0" "$R1 $R2"
check_eq "... purge the deleted token once" 1 \
	"$(($(jget "$T/c1.json" "d['tokensPurged']") + $(jget "$T/c2.json" "d['tokensPurged']")))"
check_eq "... one token.purge audit row" 1 "$(q "SELECT count(*) FROM audit WHERE action = 'token.purge'")"
check_eq "... sign one CRL" "$((CRL0 + 1))" "$(q "SELECT count(*) FROM audit WHERE action = 'crl.generate'")"
check_eq "... exactly one of them says it signed" 1 \
	"$($PY -c 'import json,sys; print(sum(json.load(open(f))["crlResigned"] for f in sys.argv[1:]))' \
		"$T/c1.json" "$T/c2.json")"
check_eq "... both audited (six runs so far)" 6 "$(q "SELECT count(*) FROM audit WHERE action = 'maintain.run'")"
check_eq "the token still valid is kept" 1 "$(q "SELECT count(*) FROM tokens WHERE id = '$KEEP'")"
check_eq "the deleted one is gone" 0 "$(q "SELECT count(*) FROM tokens WHERE id = '$ID'")"

# ------------------------------------------------------------ expiry reminders
# certificate.expiring for what ends within [events] expiring_window (14d):
# raised by the scheduled run, once per certificate, however many runs and
# nodes.
conf_set cert_days 20
# issue_at OFFSET NAME : a certificate for NAME, issued with the clock OFFSET ahead
issue_at() {
	make_csr "$T" "$2" &&
		_tok=$(at "$1" "$ADMIN" token create --name "$2" --cn "$2" --json | jget - "d['token']") &&
		at "$1" "$ADMIN" redeem "$_tok" --csr "$T/$2.csr" --out "$T/$2.pem" >/dev/null
}
check "a 20-day certificate issued" issue_at +150h soon
SOON=$(openssl x509 -in "$T/soon.pem" -noout -serial | sed 's/serial=//' | tr 'A-F' 'a-f' | sed 's/^\(00\)*//')
ev() { q "SELECT count(*) FROM events WHERE type = 'certificate.expiring' AND dedup = 'certificate.expiring:$1'"; }
at +151h "$ADMIN" maintain --json >"$T/e0.json"
check_eq "20 days before its end: no reminder yet" 0 "$(jget "$T/e0.json" "d['expiringRaised']")"
check_eq "... no event" 0 "$(ev "$SOON")"
check_eq "... and no events.check_expiring row for nothing" 0 \
	"$(q "SELECT count(*) FROM audit WHERE action = 'events.check_expiring'")"
# 13 days before its end, two nodes' runs at the same moment.
at +318h "$ADMIN" maintain --json >"$T/e1.json" 2>"$T/e1.err" &
P1=$!
at +318h "$ADMIN" maintain --json >"$T/e2.json" 2>"$T/e2.err" &
P2=$!
wait "$P1"
R1=$?
wait "$P2"
R2=$?
check_eq "within expiring_window: two concurrent runs both succeed" "0 0" "$R1 $R2"
check_eq "... one reminder between them" 1 \
	"$(($(jget "$T/e1.json" "d['expiringRaised']") + $(jget "$T/e2.json" "d['expiringRaised']")))"
check_eq "... one certificate.expiring event for the certificate" 1 "$(ev "$SOON")"
check_eq "... one events.check_expiring audit row" 1 \
	"$(q "SELECT count(*) FROM audit WHERE action = 'events.check_expiring'")"
check_contains "... the run's audit row counts it" '"expiringRaised":1' \
	"$(q "SELECT detail FROM audit WHERE action = 'maintain.run' AND detail LIKE '%expiringRaised\":1%'")"
at +330h "$ADMIN" maintain --json >"$T/e3.json"
check_eq "a later run raises nothing again" 0 "$(jget "$T/e3.json" "d['expiringRaised']")"
check_eq "... still one event" 1 "$(ev "$SOON")"
check_contains "the text output says so" "expiring:      0 reminders raised" "$(at +331h "$ADMIN" maintain)"

# ------------------------------------------------------------ crtokend runs it
# The CRL's thisUpdate lies ahead of the real clock now (the runs above were
# ahead of it): the freshness rule re-signs such a CRL.
conf_set interval 2h
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
check_contains "crtokend says it runs the scheduled work" "scheduled work every 7200 s" \
	"$(cat "$T/crtokend.log")"
kill -USR1 "$CRTOKEND_PID"
i=0
while [ "$(q "SELECT count(*) FROM audit WHERE action = 'maintain.run' AND actor = 'crtokend'")" = 0 ] &&
	[ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
check_eq "SIGUSR1: crtokend runs it now, audited as crtokend" 1 \
	"$(q "SELECT count(*) FROM audit WHERE action = 'maintain.run' AND actor = 'crtokend'")"
check_eq "... and re-signs the CRL from the future" 1 \
	"$(q "SELECT count(*) FROM audit WHERE action = 'crl.generate' AND actor = 'crtokend'")"
check "... this_update is the real time again" test "$(q "SELECT this_update FROM crl")" -le "$(date +%s)"
check "crtokend still serves" curl -sf "$URL/healthz"
# crtokend's own run raises the reminders too: a 5-day certificate, SIGUSR1.
conf_set cert_days 5
check "a 5-day certificate issued" issue_at +0 brief
BRIEF=$(openssl x509 -in "$T/brief.pem" -noout -serial | sed 's/serial=//' | tr 'A-F' 'a-f' | sed 's/^\(00\)*//')
kill -USR1 "$CRTOKEND_PID"
i=0
while [ "$(ev "$BRIEF")" = 0 ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
check_eq "SIGUSR1: crtokend's run raises certificate.expiring for it" 1 "$(ev "$BRIEF")"
check_contains "... and logs it" "1 expiry reminders raised" "$(cat "$T/crtokend.log")"
kill -USR1 "$CRTOKEND_PID"
i=0
while [ "$(q "SELECT count(*) FROM audit WHERE action = 'maintain.run' AND actor = 'crtokend'")" -lt 3 ] &&
	[ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
check_eq "... its next run does not raise it again" 1 "$(ev "$BRIEF")"
stop_crtokend

http_finish
