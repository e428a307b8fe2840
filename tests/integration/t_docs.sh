#!/bin/sh
# t_docs.sh — the manual pages and the README say what the programs do: every
# crtoken-admin command and option in its --help is in crtoken-admin(8); the
# key types crtoken-enroll --help offers are those of crtoken-enroll(1) and the
# README; the unit crtokend(8) names is where `make install` puts it; the
# store permissions crtoken.conf and the README state are the ones the
# library enforces.
. "$(dirname "$0")/lib.sh"
ENROLL=$BUILD/bin/crtoken-enroll
MAN8=$TOP/admin/crtoken-admin.8

# Man pages escape '-' as '\-'.
man_has() { grep -q -F -- "$(printf '%s' "$2" | sed 's/-/\\-/g')" "$1"; }

cmds=$("$ADMIN" --help 2>&1 | sed -n '/^commands:/,/^$/p' | awk 'NF && !/:$/ {print $1}')
check_contains "crtoken-admin --help lists apikey" apikey "$cmds"
for c in $cmds; do
	if grep -q "^\.B $c\b" "$MAN8"; then ok "crtoken-admin(8) describes $c"; else
		not_ok "crtoken-admin(8) describes $c"; fi
	for o in $("$ADMIN" "$c" --help 2>&1 | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
		if man_has "$MAN8" "$o"; then ok "crtoken-admin(8) has $c $o"; else
			not_ok "crtoken-admin(8) has $c $o"; fi
	done
done

# Key types: --help, the man page and the README name the same list.
help_types=$("$ENROLL" --help 2>&1 | sed -n '/--key-type/,/--p12/p' | grep -o -E '(ec|rsa)-[a-z0-9]+|ed25519' | sort -u | paste -sd' ')
man_types=$(sed -n '/key\\-type/,/^\.TP/p' "$TOP/enroll/crtoken-enroll.1" | grep -o -E '(ec|rsa)-[a-z0-9]+|ed25519' | sort -u | paste -sd' ')
readme_types=$(grep -o -E -- '--key-type [a-z0-9|-]+' "$TOP/README.md" | head -1 | sed 's/--key-type //' | tr '|' '\n' | sort -u | paste -sd' ')
check_eq "crtoken-enroll --help and crtoken-enroll(1) offer the same key types" "$man_types" "$help_types"
check_eq "the README offers the same key types" "$help_types" "$readme_types"
check_eq "the offered key types are the ones the generator makes" \
	"ec-p256 ec-p384 ed25519 rsa-2048 rsa-3072" "$help_types"

# The unit crtokend(8) names is where make install puts it.
unit=$(sed -n 's/^\.I PREFIX\(\/lib\/systemd\/system\/crtokend\.service\)$/\1/p' "$TOP/enroll/crtokend.8")
check_eq "crtokend(8) names the unit under PREFIX" /lib/systemd/system/crtokend.service "$unit"
if make -s -C "$TOP" install DESTDIR="$T/root" PREFIX=/usr/local FR_MODDIR=/usr/lib/freeradius \
	>"$T/install.log" 2>&1; then
	ok "make install DESTDIR=..."
else
	not_ok "make install DESTDIR=..."
	tail -n 10 "$T/install.log" | sed 's/^/#   /'
fi
check "make install puts crtokend.service where crtokend(8) says" \
	test -f "$T/root/usr/local$unit"

# The installed units pass systemd-analyze verify (offline: no systemd needs
# to run). Their programs are looked up in the DESTDIR tree; any warning
# about our units (an unknown or misspelt key is only a warning) fails.
sd=$T/root/usr/local/lib/systemd/system
mkdir -p "$T/units"
for u in crtokend.service crtoken-crl.service crtoken-crl.timer crtoken-maintain.service \
	crtoken-maintain.timer; do
	check "make install installs $u" test -f "$sd/$u"
	sed "s|/usr/local/|$T/root/usr/local/|g" "$sd/$u" >"$T/units/$u"
done
check "make install installs the crtoken system user for systemd-sysusers" \
	grep -q '^u crtoken ' "$T/root/usr/local/lib/sysusers.d/crtoken.conf"
check_eq "crtokend.service runs as crtoken" crtoken "$(sed -n 's/^User=//p' "$sd/crtokend.service")"
check_eq "crtoken-crl.service runs crtoken-admin crl as crtoken" \
	"crtoken /usr/local/bin/crtoken-admin --config /etc/crtoken/crtoken.conf crl" \
	"$(sed -n 's/^User=//p' "$sd/crtoken-crl.service") $(sed -n 's/^ExecStart=//p' "$sd/crtoken-crl.service")"
check_eq "crtoken-maintain.service runs crtoken-admin maintain as crtoken" \
	"crtoken /usr/local/bin/crtoken-admin --config /etc/crtoken/crtoken.conf maintain" \
	"$(sed -n 's/^User=//p' "$sd/crtoken-maintain.service") $(sed -n 's/^ExecStart=//p' "$sd/crtoken-maintain.service")"
if command -v systemd-analyze >/dev/null 2>&1; then
	(cd "$T/units" && systemd-analyze verify --man=no ./crtokend.service ./crtoken-crl.service \
		./crtoken-crl.timer ./crtoken-maintain.service ./crtoken-maintain.timer) \
		>"$T/verify.log" 2>&1
	rc=$?
	if [ "$rc" = 0 ] && ! grep -q -e "$T/units" -e '^crtoken' "$T/verify.log"; then
		ok "systemd-analyze verify accepts the units"
	else
		not_ok "systemd-analyze verify accepts the units (exit $rc)"
		sed 's/^/#   /' "$T/verify.log" | head -20
	fi
else
	not_ok "systemd-analyze is installed (package systemd)"
fi

# Store permissions as crtoken.conf and the README state them: 0600 and 0640
# open; group-writable or any access for others is refused.
new_instance "$T/inst" || not_ok "instance"
DB=$T/inst/crtoken.db
for mode in 0600 0640; do
	chmod "$mode" "$DB"
	check "a store of mode $mode opens" "$ADMIN" token list
done
for mode in 0660 0644 0604 0602; do
	chmod "$mode" "$DB"
	check_code "a store of mode $mode is refused" unsafe_permissions "$ADMIN" token list
done
chmod 0640 "$DB"
grep -q "refused if its group can" "$TOP/crtoken.conf" && grep -q "its group can write or others" "$TOP/README.md"
check_eq "crtoken.conf and the README state that rule" 0 $?
finish
