#!/bin/sh
# t_reliability_race.sh — single use at scale over HTTP: 10,000 redemption
# attempts from 32 concurrent clients over 300 tokens. Every token yields
# exactly one certificate; every other attempt is a 409 token_used; the
# store agrees (one certificate per token, every used token has one).
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

TOKENS=300 CLIENTS=32 ATTEMPTS=10000
http_instance "$T/inst" 18451 || { not_ok "instance"; finish; exit 1; }
DB=$T/inst/crtoken.db
start_crtokend --workers 8 || { not_ok "crtokend starts"; finish; exit 1; }
csr_body dev
i=0
while [ $i -lt $TOKENS ]; do
	"$ADMIN" token create --name "race-$i" --json | tr -d '\n'
	echo
	i=$((i + 1))
done | $PY -c 'import json,sys; [print(json.loads(l)["token"]) for l in sys.stdin]' >"$T/tokens"
check_eq "$TOKENS tokens made" $TOKENS "$(wc -l <"$T/tokens")"

$PY "$TOP/tests/integration/http_load.py" race "$URL" "$T/tokens" "$T/dev.json" $CLIENTS $ATTEMPTS >"$T/race.json"
R=$(cat "$T/race.json")
diag "$(echo "$R" | jget - "{k: v for k, v in d.items() if k != 'serials'}")"
check_eq "every token gave exactly one 201" $TOKENS "$(echo "$R" | jget - "d['tokens_with_201']")"
check_eq "no token gave two" 1 "$(echo "$R" | jget - "d['max_201_per_token']")"
check_eq "$ATTEMPTS - $TOKENS attempts were 409" $((ATTEMPTS - TOKENS)) "$(echo "$R" | jget - "d['counts'].get('409', 0)")"
check_eq "every 409 said token_used" $((ATTEMPTS - TOKENS)) "$(echo "$R" | jget - "d['codes'].get('token_used', 0)")"
check_eq "no other status" $ATTEMPTS "$(echo "$R" | jget - "d['counts'].get('201', 0) + d['counts'].get('409', 0)")"
check_eq "the store holds one certificate per token" $TOKENS "$(sqlite3 "$DB" 'SELECT count(DISTINCT token_id) FROM certificates')"
check_eq "and no more" $TOKENS "$(sqlite3 "$DB" 'SELECT count(*) FROM certificates')"
check_eq "every token is used and points at its certificate" $TOKENS \
	"$(sqlite3 "$DB" 'SELECT count(*) FROM tokens t JOIN certificates c ON c.serial = t.serial AND c.token_id = t.id WHERE t.used_at IS NOT NULL')"
echo "$R" | jget - "'\n'.join(sorted(d['serials']))" >"$T/got"
sqlite3 "$DB" 'SELECT serial FROM certificates ORDER BY serial' >"$T/stored"
check "the serials the clients received are exactly those stored" cmp -s "$T/got" "$T/stored"
check_eq "every refusal is audited" $((ATTEMPTS - TOKENS)) \
	"$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE action = 'token.redeem_refused'")"
check_eq "integrity_check" ok "$(sqlite3 "$DB" 'PRAGMA integrity_check')"
finish
