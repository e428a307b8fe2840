#!/bin/sh
# t_store_copy.sh — `crtoken-admin store copy` and `store status` against a
# real PostgreSQL this suite starts (pg_lib.sh): a SQLite instance with
# every kind of row (tokens used, unused and deleted, certificates issued,
# revoked and 10,000 bulk ones, OTP, API keys, audit, the CRL) goes to
# PostgreSQL, works there (the same certificates, an OTP login, an API
# key), and comes back to SQLite identical; refusals leave nothing behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"

if ! pkg-config --exists libpq; then
	ok "# SKIP built without libpq"
	finish
	exit 0
fi
A=$ADMIN
new_instance "$T/inst" || { not_ok "init"; finish; exit 1; }
DB=$T/inst/crtoken.db
q() { sqlite3 "$1" "$2"; }

# --- a store with every kind of row ----------------------------------------
"$A" otp enroll alice --no-qr --json >"$T/otp.json" || not_ok "otp enroll"
SECRET=$(json_get "$(cat "$T/otp.json")" secret)
KEY=$(json_get "$("$A" apikey create --name ops --json)" key)
for n in 1 2 3; do
	J=$("$A" token create --name "dev-$n" --cn "dev$n" --owner alice --reply Tunnel-Private-Group-Id=4$n --json)
	eval "TOK$n=\$(json_get \"\$J\" token); ID$n=\$(json_get \"\$J\" id)"
done
make_csr "$T" dev1 && make_csr "$T" dev2
"$A" redeem "$TOK1" --csr "$T/dev1.csr" --out "$T/dev1.pem" >/dev/null || not_ok "redeem 1"
"$A" redeem "$TOK2" --csr "$T/dev2.csr" --out "$T/dev2.pem" >/dev/null || not_ok "redeem 2"
S2=$(openssl x509 -in "$T/dev2.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
"$A" cert revoke "$S2" --reason keyCompromise >/dev/null || not_ok "revoke"
"$A" crl --out "$T/crl.pem" >/dev/null || not_ok "crl"
"$A" token create --name gone --json >"$T/gone.json" && "$A" token delete "$(json_get "$(cat "$T/gone.json")" id)" >/dev/null
# 10,000 more certificates and audit rows, straight into the file (a copy
# moves rows; it does not care how they were made)
q "$DB" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
 INSERT INTO certificates(serial, issuer, name, subject, cn, username, reply, key_type,
  pubkey_sha256, pem, not_before, not_after, issued_at, revoked_at, reason, ski, aki,
  cert_sha256, revoked_seq)
 SELECT printf('7f%030x', i), 'CN=bulk CA', 'bulk-' || i, 'CN=bulk' || i, 'bulk' || i,
  CASE WHEN i % 3 = 0 THEN 'user' || i END, CASE WHEN i % 2 = 0 THEN 'Tunnel-Private-Group-Id=7' END,
  'ec-p256', hex(randomblob(32)), '-----BEGIN CERTIFICATE-----' || hex(randomblob(600)) || '-----END CERTIFICATE-----',
  1700000000 + i, 1800000000 + i, 1700000000 + i, CASE WHEN i % 10 = 0 THEN 1750000000 END,
  CASE WHEN i % 10 = 0 THEN 1 END, hex(randomblob(20)), hex(randomblob(20)), hex(randomblob(32)),
  CASE WHEN i % 10 = 0 THEN 2 END FROM n;
 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
 INSERT INTO audit(at, actor, action, object, detail)
 SELECT 1700000000 + i, 'bulk', 'cert.issue', printf('7f%030x', i), '{\"n\":' || i || ', \"é\":\"ü\"}' FROM n;" ||
	not_ok "bulk rows"
NCERT=$(q "$DB" "SELECT count(*) FROM certificates")
check_eq "the source holds 10,002 certificates" 10002 "$NCERT"

# --- status on SQLite --------------------------------------------------------
ST=$("$A" store status --json)
check_eq "store status: backend sqlite" sqlite "$(json_get "$ST" backend)"
check_eq "store status: role file" file "$(json_get "$ST" role)"
check_eq "store status: the certificates counted" 10002 "$(json_get "$ST" certificates)"
check_eq "store status: no warning for a file" "" "$(json_get "$ST" warning)"
check_contains "store status (text) names the file" "$DB" "$("$A" store status)"

if ! pg_start; then
	not_ok "a throwaway PostgreSQL starts"
	finish
	exit 1
fi
ok "a throwaway PostgreSQL on 127.0.0.1:$PG_PORT"

# --- refusals that leave nothing --------------------------------------------
check_code "a conninfo with a password is refused" invalid_argument \
	"$A" store copy --to postgresql --conninfo "$PG_CONNINFO password=secret"
check_code "an unreachable PostgreSQL is store_unavailable" store_unavailable \
	"$A" store copy --to postgresql --conninfo "host=127.0.0.1 port=1 dbname=x user=crtoken connect_timeout=2"
check_code "copy --to mysql is a usage error naming the backends" "the backends are" \
	"$A" store copy --to mysql --database x
: >"$T/exists.db"
check_code "a SQLite target that exists is refused" already_exists \
	"$A" store copy --to sqlite --database "$T/exists.db"
check_eq "... and left as it was (empty)" 0 "$(stat -c %s "$T/exists.db")"
mkdir -m 0777 "$T/open"
check_code "a SQLite target in a world-writable directory is refused" unsafe_permissions \
	"$A" store copy --to sqlite --database "$T/open/x.db"
check_eq "... and no file is left there" "" "$(ls "$T/open")"
check_eq "the refused copies wrote no store.copy audit row" 0 \
	"$(q "$DB" "SELECT count(*) FROM audit WHERE action LIKE 'store.copy%'")"

# --- SQLite -> PostgreSQL, while a writer keeps redeeming ------------------
"$A" token create --name busy --count 40 --json >"$T/busy.json"
$PY -c 'import json,sys; [print(t["token"]) for t in json.load(open(sys.argv[1]))]' "$T/busy.json" >"$T/busy.tok"
make_csr "$T" busy
( while read -r t; do "$A" redeem "$t" --csr "$T/busy.csr" --out "$T/busy.pem" >/dev/null 2>&1; done <"$T/busy.tok" ) &
WRITER=$!
OUT=$("$A" store copy --to postgresql --conninfo "$PG_CONNINFO" --json 2>"$T/copy.err")
RC=$?
wait $WRITER
check_eq "store copy --to postgresql succeeds while redemptions go on" 0 $RC
[ $RC -eq 0 ] || sed 's/^/#   /' "$T/copy.err"
printf '%s' "$OUT" >"$T/to_pg.json"
PGCERTS=$(pg_sql "SELECT count(*) FROM certificates")
check "the copy holds one snapshot: its certificate count is the report's" \
	$PY -c 'import json,sys; r=json.load(open(sys.argv[1])); c=[t for t in r["tables"] if t["name"]=="certificates"][0]; sys.exit(0 if c["rows"]==int(sys.argv[2]) else 1)' "$T/to_pg.json" "$PGCERTS"
check "every table of the schema is in the report" \
	$PY -c 'import json,sys; n={t["name"] for t in json.load(open(sys.argv[1]))["tables"]}; sys.exit(0 if {"meta","tokens","certificates","otp","api_keys","audit","crl"} <= n else 1)' "$T/to_pg.json"
check_eq "the source audited store.copy.out" 1 \
	"$(q "$DB" "SELECT count(*) FROM audit WHERE action = 'store.copy.out'")"
check_eq "the target audited store.copy.in" 1 \
	"$(pg_sql "SELECT count(*) FROM audit WHERE action = 'store.copy.in'")"
check_eq "the CRL number came along" "$(q "$DB" "SELECT value FROM meta WHERE key='crl_number'")" \
	"$(pg_sql "SELECT value FROM meta WHERE key='crl_number'")"
check_eq "the audit identity goes on after the copied ids" 1 \
	"$(pg_sql "SELECT (SELECT max(id) FROM audit WHERE action = 'store.copy.in') = (SELECT max(id) FROM audit)::bigint AND (SELECT max(id) FROM audit WHERE action <> 'store.copy.in') < (SELECT max(id) FROM audit)" | sed 's/t/1/')"
check_code "a second copy into the same database is refused (not empty)" already_exists \
	"$A" store copy --to postgresql --conninfo "$PG_CONNINFO"

# --- the instance works on the copy ----------------------------------------
sed -e "s|^\[store\]|[store]\nbackend = postgresql\nconninfo = $PG_CONNINFO|" \
	"$T/inst/crtoken.conf" >"$T/inst/pg.conf"
chmod 0640 "$T/inst/pg.conf"
PA() { "$A" --config "$T/inst/pg.conf" "$@"; }
check_eq "on PostgreSQL: cert list has the same certificates" "$PGCERTS" \
	"$(PA cert list --json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')"
check_contains "on PostgreSQL: the revoked certificate is revoked" revoked "$(PA cert show "$S2")"
check "on PostgreSQL: alice's OTP secret opens (same sealing key)" \
	PA otp verify alice "$(oathtool --totp -b "$SECRET")"
check_code "on PostgreSQL: the redeemed token stays used" token_used \
	PA redeem "$TOK1" --csr "$T/dev1.csr" --out "$T/again.pem"
check "on PostgreSQL: the unused token redeems" PA redeem "$TOK3" --csr "$T/dev1.csr" --out "$T/dev3.pem"
check_contains "on PostgreSQL: the API key is listed" ops "$(PA apikey list)"
PST=$(PA store status --json)
check_eq "store status on PostgreSQL: backend" postgresql "$(json_get "$PST" backend)"
check_eq "store status on PostgreSQL: a primary" primary "$(json_get "$PST" role)"
check_eq "store status on PostgreSQL: no standby" 0 "$(json_get "$PST" standbys)"
check_contains "store status warns: no synchronous standby" "no synchronous standby" \
	"$(json_get "$PST" warning)"
check_eq "store status on PostgreSQL: the schema version is SQLite's" \
	"$(q "$DB" "PRAGMA user_version")" "$(json_get "$PST" schemaVersion)"

# --- the heartbeat: crtokend on PostgreSQL keeps it fresh ------------------
check "store heartbeat writes meta('heartbeat')" PA store heartbeat
HB1=$(pg_sql "SELECT value FROM meta WHERE key = 'heartbeat'")
check "... with the time now" sh -c "[ $(( $(date +%s) - ${HB1:-0} )) -le 2 ]"
sed -e "s|^;*listen *=.*|listen = 127.0.0.1:18870|; s|^;*plain_http *=.*|plain_http = yes|" \
	"$T/inst/pg.conf" >"$T/inst/pgd.conf"
chmod 0640 "$T/inst/pgd.conf"
pg_sql "UPDATE meta SET value = 1 WHERE key = 'heartbeat'" >/dev/null
"$BUILD/bin/crtokend" --config "$T/inst/pgd.conf" --foreground >"$T/crtokend.log" 2>&1 &
D=$!
at_exit "stop_pid $D"
HB2=1
for i in $(seq 1 50); do
	HB2=$(pg_sql "SELECT value FROM meta WHERE key = 'heartbeat'")
	[ "$HB2" -gt 1 ] && break
	sleep 0.1
done
check "crtokend on PostgreSQL writes the heartbeat" sh -c "[ $(( $(date +%s) - HB2 )) -le 3 ]"
sleep 2.5
HB3=$(pg_sql "SELECT value FROM meta WHERE key = 'heartbeat'")
check "... and keeps it fresh (again within 2.5 s)" sh -c "[ $HB3 -gt $HB2 ]"
stop_pid $D
check_eq "the heartbeat is not audited (liveness, not a change)" 0 \
	"$(pg_sql "SELECT count(*) FROM audit WHERE action LIKE '%heartbeat%'")"

# --- SQLite -> PostgreSQL -> SQLite on a quiet store: identical ----------
# (the writer above has stopped; the copy above was taken while it ran)
psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U crtoken -d postgres -c 'CREATE DATABASE round' >/dev/null
RT="host=127.0.0.1 port=$PG_PORT user=crtoken dbname=round"
check "round trip: store copy --to postgresql (quiet source)" "$A" store copy --to postgresql --conninfo "$RT" --json
sed -e "s|^\[store\]|[store]\nbackend = postgresql\nconninfo = $RT|" "$T/inst/crtoken.conf" >"$T/inst/rt.conf"
chmod 0640 "$T/inst/rt.conf"
check "round trip: store copy --to sqlite back from PostgreSQL" \
	"$A" --config "$T/inst/rt.conf" store copy --to sqlite --database "$T/back.db" --json
check_eq "the copy back is a 0640 file" 640 "$(stat -c %a "$T/back.db")"
# The round trip adds audit rows only: store.copy.out in the source,
# store.copy.in and store.copy.out on PostgreSQL, store.copy.in in back.db.
rows() { q "$1" "SELECT * FROM $2 ORDER BY $3" | sha256sum; }
for tbl in "tokens id" "certificates serial" "otp username" "api_keys id" "crl id" "meta key"; do
	set -- $tbl
	check_eq "round trip: table $1 is identical" "$(rows "$DB" "$1" "$2")" "$(rows "$T/back.db" "$1" "$2")"
done
check_eq "round trip: 10,000+ certificates came back" "$(q "$DB" "SELECT count(*) FROM certificates")" \
	"$(q "$T/back.db" "SELECT count(*) FROM certificates")"
NOCOPY="WHERE action NOT LIKE 'store.copy.%' ORDER BY id"
check_eq "round trip: the audit trail is identical but the copies' own rows" \
	"$(q "$DB" "SELECT * FROM audit $NOCOPY" | sha256sum)" "$(q "$T/back.db" "SELECT * FROM audit $NOCOPY" | sha256sum)"
check_eq "round trip: back.db records where it came from (store.copy.in)" 1 \
	"$(q "$T/back.db" "SELECT count(*) FROM audit WHERE action = 'store.copy.in' AND object LIKE '%dbname=round%'")"
check_eq "round trip: the non-ASCII audit detail survived" '{"n":7, "é":"ü"}' \
	"$(q "$T/back.db" "SELECT detail FROM audit WHERE actor='bulk' AND object = printf('7f%030x', 7)")"
check "the copy back passes SQLite's integrity check" \
	sh -c "[ \"\$(sqlite3 '$T/back.db' 'PRAGMA integrity_check')\" = ok ]"
check_contains "the copy back works as a store (crtoken-admin cert show)" revoked \
	"$(sed -e "s|^database = .*||; s|^\[store\]|[store]\ndatabase = $T/back.db|" "$T/inst/crtoken.conf" >"$T/inst/back.conf"; chmod 0640 "$T/inst/back.conf"; "$A" --config "$T/inst/back.conf" cert show "$S2")"
finish
