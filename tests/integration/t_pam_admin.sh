#!/bin/sh
# t_pam_admin.sh — `crtoken-admin otp`: enrollment output (JSON, URI, PNG),
# the secret shown once, and the admin commands that change OTP state.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pam_lib.sh"

NOW=1800000015
new_instance "$T/inst" || { not_ok "instance created"; finish; exit 1; }
DB=$T/inst/crtoken.db

# at AT CMD... : run CMD with the clock frozen at AT.
at() {
	_at=$1
	shift
	LD_PRELOAD="$FAKETIME_LIB" FAKETIME_FMT=%s FAKETIME="$_at" "$@"
}

out=$("$ADMIN" otp enroll alice --json)
check_eq "enroll --json names the user" alice "$(json_get "$out" user)"
check_eq "enroll --json has the default algorithm" SHA1 "$(json_get "$out" algorithm)"
check_eq "enroll --json has the default digits" 6 "$(json_get "$out" digits)"
check_eq "enroll --json has the default period" 30 "$(json_get "$out" period)"
SECRET=$(json_get "$out" secret)
check_eq "enroll --json gives the otpauth URI" \
	"otpauth://totp/crtoken:alice?secret=$SECRET&issuer=crtoken&algorithm=SHA1&digits=6&period=30" \
	"$(json_get "$out" uri)"
check_eq "the secret is 160 bits of base32" 32 "${#SECRET}"

check_code "enrolling a user twice is refused" already_exists "$ADMIN" otp enroll alice
"$ADMIN" otp enroll alice >/dev/null 2>&1
check_eq "... with exit status 1 (refused)" 1 $?

check "otp verify accepts oathtool's code" at $NOW "$ADMIN" otp verify alice "$(totp "$SECRET" $NOW)"
check_code "otp verify counts like a login: the same code again is a replay" otp_replayed \
	at $((NOW + 1)) "$ADMIN" otp verify alice "$(totp "$SECRET" $NOW)"
check_code "otp verify refuses a wrong code" otp_bad_code \
	at $((NOW + 2)) "$ADMIN" otp verify alice "$(wrong "$(totp "$SECRET" $((NOW + 30)))")"
check_contains "otp show counts the failures" '"failures": 2' "$("$ADMIN" otp show alice --json)"

show=$("$ADMIN" otp show alice; "$ADMIN" otp show alice --json; "$ADMIN" otp list; "$ADMIN" otp list --json)
check_contains "otp show gives the parameters" "algorithm:    SHA1" "$show"
check_fails "otp show and list never print the secret" sh -c 'case "$1" in *"$2"*) exit 0;; esac; exit 1' \
	- "$show" "$SECRET"
check_fails "the store does not hold the secret in clear" grep -q "$SECRET" "$DB"

i=0
while [ $i -lt 3 ]; do
	at $((NOW + 3)) "$ADMIN" otp verify alice 000000 >/dev/null 2>&1
	i=$((i + 1))
done
check_contains "otp list shows a locked user" "locked until" "$("$ADMIN" otp list)"
check_code "a locked user is refused by otp verify" otp_locked \
	at $((NOW + 4)) "$ADMIN" otp verify alice "$(totp "$SECRET" $((NOW + 30)))"
check "otp unlock ends the lockout" "$ADMIN" otp unlock alice
check "after unlock the next code is accepted" at $((NOW + 30)) "$ADMIN" otp verify alice \
	"$(totp "$SECRET" $((NOW + 30)))"

check "otp remove deletes the OTP" "$ADMIN" otp remove alice
check_code "removing it again reports otp_not_enrolled" otp_not_enrolled "$ADMIN" otp remove alice
"$ADMIN" otp show alice >/dev/null 2>&1
check_eq "otp show of a removed user exits 3 (not found)" 3 $?
check_eq "enroll, unlock and remove are audited with the admin as actor" 3 \
	"$(sqlite3 "$DB" "SELECT count(*) FROM audit WHERE actor LIKE 'admin:%' AND action IN
		('otp.enroll','otp.unlock','otp.remove')")"

out=$("$ADMIN" otp enroll bob --algorithm SHA512 --digits 8 --period 60 --issuer "Acme Corp" --json)
check_contains "enroll options reach the URI" \
	"otpauth://totp/Acme%20Corp:bob?secret=$(json_get "$out" secret)&issuer=Acme%20Corp&algorithm=SHA512&digits=8&period=60" \
	"$(json_get "$out" uri)"
check "a SHA512/8/60 s code from oathtool verifies" at $NOW "$ADMIN" otp verify bob \
	"$(oathtool --totp=sha512 -d 8 -s 60 -b -N "@$NOW" "$(json_get "$out" secret)")"
check_code "an unsupported algorithm is refused" otp_parameters_invalid \
	"$ADMIN" otp enroll carol --algorithm MD5
check_code "7 digits are refused" otp_parameters_invalid "$ADMIN" otp enroll carol --digits 7

# --png: a well-formed image holding a QR code, readable by its owner only.
"$ADMIN" otp enroll dave --png "$T/dave.png" >"$T/dave.txt" 2>&1
check_eq "enroll --png writes the image with mode 0600" 600 "$(stat -c %a "$T/dave.png")"
check "the PNG is well-formed and shows a QR code (finder pattern, quiet zone)" python3 - "$T/dave.png" <<'EOF'
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n"
pos, chunks = 8, []
while pos < len(d):
    n, = struct.unpack(">I", d[pos:pos + 4])
    t, body = d[pos + 4:pos + 8], d[pos + 8:pos + 8 + n]
    crc, = struct.unpack(">I", d[pos + 8 + n:pos + 12 + n])
    assert zlib.crc32(t + body) & 0xffffffff == crc, "bad CRC"
    chunks.append((t, body))
    pos += 12 + n
assert [c[0] for c in chunks] == [b"IHDR", b"IDAT", b"IEND"]
w, h, depth, ctype = struct.unpack(">IIBB", chunks[0][1][:10])
assert w == h and depth == 1 and ctype == 0
raw = zlib.decompress(chunks[1][1])
stride = 1 + (w + 7) // 8
assert len(raw) == stride * h and all(raw[y * stride] == 0 for y in range(h))
px = lambda x, y: (raw[y * stride + 1 + x // 8] >> (7 - x % 8)) & 1  # 1 = light
mod = lambda x, y: px((x + 4) * 8 + 4, (y + 4) * 8 + 4)
size = w // 8 - 8
assert size >= 21 and (size - 17) % 4 == 0, size
for ox, oy in ((0, 0), (size - 7, 0), (0, size - 7)):
    for i in range(7):
        assert mod(ox + i, oy) == mod(ox + i, oy + 6) == mod(ox, oy + i) == mod(ox + 6, oy + i) == 0
    for i in range(1, 6):
        assert mod(ox + i, oy + 1) == mod(ox + i, oy + 5) == mod(ox + 1, oy + i) == mod(ox + 5, oy + i) == 1
    assert all(mod(ox + x, oy + y) == 0 for x in range(2, 5) for y in range(2, 5))
assert all(px(x, y) == 1 for x in range(w) for y in range(32))
EOF
check_contains "enroll prints the URI once" "uri:    otpauth://totp/crtoken:dave?secret=" \
	"$(cat "$T/dave.txt")"

# L5: a PNG file another user created beforehand (here: nobody, mode 0666,
# with a second hard link it keeps) must never receive the QR code of the
# secret; the image goes to a new file of ours, 0600.
mkdir "$T/shared" && chmod 0777 "$T/shared" && chmod 0711 "$T"
su -s /bin/sh nobody -c "umask 0; : >'$T/shared/erin.png' && ln '$T/shared/erin.png' '$T/shared/kept'"
"$ADMIN" otp enroll png-victim --png "$T/shared/erin.png" >/dev/null 2>&1
check_eq "otp enroll --png into a file another user created: that file never receives the secret" \
	0 "$(stat -c %s "$T/shared/kept")"
check_eq "... the image is a new file of ours, mode 0600" "root 600 1" \
	"$(stat -c '%U %a %h' "$T/shared/erin.png")"
ln -s "$T/victim" "$T/shared/link.png"
check_code "otp enroll --png onto a symlink is refused before enrolling" unsafe_permissions \
	"$ADMIN" otp enroll frank --png "$T/shared/link.png"
check_fails "... the symlink's target was not created" test -e "$T/victim"
check_code "... and frank was not enrolled" otp_not_enrolled "$ADMIN" otp show frank
chmod 0700 "$T"

# On a terminal the QR code is drawn with half blocks in explicit colours.
tty_out=$(script -qc "'$ADMIN' otp enroll erin" /dev/null)
check_contains "enroll on a terminal draws the QR code" "$(printf '\033[97;40m\342\226\210\342\226\210 ')" \
	"$tty_out"
script -qc "'$ADMIN' otp enroll frank --json" /dev/null >"$T/frank.json"
check_fails "enroll --json on a terminal does not draw it" grep -q "$(printf '\342\226\210')" \
	"$T/frank.json"
check_fails "enroll --no-qr on a terminal does not draw it" sh -c \
	"script -qc \"'$ADMIN' otp enroll gina --no-qr\" /dev/null | grep -q '$(printf '\342\226\210')'"

# --help and usage errors
for sub in enroll list show remove unlock verify; do
	check "otp $sub --help exits 0" "$ADMIN" otp $sub --help
done
"$ADMIN" otp frobnicate >/dev/null 2>&1
check_eq "an unknown otp command is a usage error (2)" 2 $?
"$ADMIN" otp verify alice >/dev/null 2>&1
check_eq "a missing argument is a usage error (2)" 2 $?

finish
