#!/bin/sh
# t_http_race.sh — single use under contention: 64 concurrent HTTP
# redemptions of one token give exactly one 201 and 63 × 409 token_used,
# and exactly one certificate in the store.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

N=64
http_instance "$T/inst" 18447 || { not_ok "instance"; finish; exit 1; }
DB=$T/inst/crtoken.db
# All $N clients share one address: let them all in.
conf_set max_connections_per_address $N
# More workers than CPUs so that requests really overlap in the store.
start_crtokend --workers 8 || { not_ok "crtokend starts"; finish; exit 1; }
apikey || { not_ok "api key"; finish; exit 1; }
csr_body dev
new_token contested

i=0
pids=""
while [ $i -lt $N ]; do
	curl -s -o "$T/r$i.body" -w '%{http_code}\n' -X POST -H 'Content-Type: application/json' \
		--data-binary "@$T/dev.json" "$URL/client-certificates/token/$TOKEN" >"$T/r$i.code" &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do wait "$p"; done
cat "$T"/r*.code | sort | uniq -c | sed 's/^/# /'
check_eq "all $N requests were answered" $N "$(cat "$T"/r*.code | wc -l)"
check_eq "exactly one 201" 1 "$(cat "$T"/r*.code | grep -c '^201$')"
check_eq "the other $((N - 1)) are 409" $((N - 1)) "$(cat "$T"/r*.code | grep -c '^409$')"
check_eq "every 409 says token_used" $((N - 1)) "$(grep -l '"code":"token_used"' "$T"/r*.body | wc -l)"
check_eq "exactly one certificate was issued" 1 "$(sqlite3 "$DB" 'SELECT count(*) FROM certificates')"
check_eq "the token points at that certificate" \
	"$(sqlite3 "$DB" 'SELECT serial FROM certificates')" \
	"$(sqlite3 "$DB" "SELECT serial FROM tokens WHERE id='$TOKEN_ID'")"
http_finish
