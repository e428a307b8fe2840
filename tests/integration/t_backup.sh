#!/bin/sh
# t_backup.sh — crtoken-admin backup / restore: a backup taken while another
# process keeps writing restores into a new instance where an unused token
# redeems and an OTP user logs in (oathtool codes, pamtester through
# pam_wrapper); a truncated or corrupt backup is refused and leaves nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pam_lib.sh"

A=$ADMIN
new_instance "$T/live" || { not_ok "instance"; finish; exit 1; }
# an absolute store path, as a system install has: restore must not keep it
sed -i "s|^\[store\]\$|[store]\ndatabase = $T/live/crtoken.db|" "$CRTOKEN_CONF"
ALICE=$(enroll alice) || not_ok "alice enrolled"
J=$("$A" token create --name laptop --cn laptop --json)
TOK=$(json_get "$J" token)
ID=$(json_get "$J" id)
make_csr "$T" laptop

# A writer keeps changing the store while the backup is taken.
(
	i=0
	while [ ! -e "$T/stop" ] && [ $i -lt 300 ]; do
		"$A" token create --name "w$i" >/dev/null 2>&1
		i=$((i + 1))
	done
) &
WPID=$!
at_exit "touch '$T/stop'; kill $WPID 2>/dev/null; wait $WPID 2>/dev/null"
"$A" token create --name w-first >/dev/null
check "backup of a live instance while another process writes" "$A" backup --out "$T/b.tar"
touch "$T/stop"
wait $WPID
check_eq "the backup is readable by its owner only" 600 "$(stat -c %a "$T/b.tar")"
check_eq "tar lists the manifest, store, config, CA, keys and CRL" \
	"MANIFEST crtoken.conf crtoken.db ca.pem ca.key otp.key" \
	"$(tar tf "$T/b.tar" | tr '\n' ' ' | sed 's/ $//')"
check_eq "the backup is audited in the live store" 1 \
	"$(sqlite3 "$T/live/crtoken.db" "SELECT count(*) FROM audit WHERE action = 'instance.backup'")"

# --- restore and use the copy
check "restore into a new directory" "$A" restore --in "$T/b.tar" --dir "$T/copy"
CP=$T/copy/crtoken.conf
check_eq "the restored store is intact" ok "$(sqlite3 "$T/copy/crtoken.db" 'PRAGMA integrity_check')"
check_eq "the copy's modes: keys 0600, store and config 0640" "600 600 640 640" \
	"$(stat -c %a "$T/copy/ca.key" "$T/copy/otp.key" "$T/copy/crtoken.db" "$T/copy/crtoken.conf" | tr '\n' ' ' | sed 's/ $//')"
check_contains "the restored config no longer names the old store" \
	"# (restored: the default in this directory applies) database = $T/live/crtoken.db" "$(cat "$CP")"
check "the unused token redeems against the copy" \
	"$A" --config "$CP" redeem "$TOK" --csr "$T/laptop.csr" --out "$T/laptop.pem"
check "... its certificate verifies against the original CA (the same key)" \
	openssl verify -CAfile "$T/live/ca.pem" "$T/laptop.pem"
check_contains "... the copy is its own store: the live token is still unused" active \
	"$("$A" token show "$ID")"
check "the OTP user's code from oathtool verifies against the copy" \
	"$A" --config "$CP" otp verify alice "$(oathtool --totp -b "$ALICE")"
service copy "auth required $PAM_SO config=$CP"
totp "$ALICE" 1800000015 | pam_at 1800000015 copy alice
expect "the OTP user logs in through PAM against the copy" 0 "$PAM_OK"
check_eq "the restore is audited in the copy" 1 \
	"$(sqlite3 "$T/copy/crtoken.db" "SELECT count(*) FROM audit WHERE action = 'instance.restore'")"

# --- refusals: nothing is written, nothing half-written
left() { ls -A "$T" | grep -c '\.restore-' ; }
check_code "restore over an existing instance is refused" already_exists \
	"$A" restore --in "$T/b.tar" --dir "$T/live"
size=$(stat -c %s "$T/b.tar")
head -c $((size / 2)) "$T/b.tar" >"$T/half.tar"
check_code "a truncated backup is refused (backup_invalid)" backup_invalid \
	"$A" restore --in "$T/half.tar" --dir "$T/r1"
check_contains "... saying it is truncated" "truncated" "$(cat "$T/.err")"
check_fails "... and leaves no instance directory" test -e "$T/r1"
head -c $((size - 512)) "$T/b.tar" >"$T/cut.tar"
check_code "a backup missing its end marker is refused" backup_invalid \
	"$A" restore --in "$T/cut.tar" --dir "$T/r2"
$PY - "$T/b.tar" "$T/flip.tar" <<'PYEOF'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
# flip one byte inside the store member's data (the member after crtoken.conf)
off = 0
while d[off:off + 10].rstrip(b"\0") != b"crtoken.db":
    size = int(d[off + 124:off + 136].strip(b"\0 ") or b"0", 8)
    off += 512 + (size + 511) // 512 * 512
d[off + 512 + 4000] ^= 0x01
open(sys.argv[2], "wb").write(d)
PYEOF
check_code "a backup with a flipped byte in the store is refused" backup_invalid \
	"$A" restore --in "$T/flip.tar" --dir "$T/r3"
check_contains "... naming the corrupt member" "crtoken.db in the backup is corrupt" "$(cat "$T/.err")"
check_fails "... and leaves no instance directory" test -e "$T/r3"
head -c 4096 /dev/urandom >"$T/noise.tar"
check_code "a file that is not a backup is refused" backup_invalid \
	"$A" restore --in "$T/noise.tar" --dir "$T/r4"
check_eq "no partial restore directories are left behind" 0 "$(left)"
check_code "backup to stdout is refused (it holds the keys)" "not stdout" "$A" backup --out -
finish
