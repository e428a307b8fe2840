#!/bin/sh
# t_nonroot.sh — crtokend as the crtoken system user, laid out as the README
# ("Running crtokend as crtoken") says: the instance directory owned by
# crtoken, group freerad, setgid; crtokend started as crtoken (as
# crtokend.service does) with its PAM stack = pam_crtoken, which reads and
# writes the same store; root's crtoken-admin still administers the
# crtoken-owned files; `crtoken-admin crl` as crtoken (crtoken-crl.service)
# publishes a CRL radiusd's group can read. Needs root (it creates the
# crtoken user with systemd-sysusers, as `make install` prepares it).
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

[ "$(id -u)" = 0 ] || { not_ok "t_nonroot needs root"; finish; exit 1; }
check "systemd-sysusers creates the crtoken user" systemd-sysusers "$TOP/enroll/crtoken.sysusers"
getent group freerad >/dev/null || { not_ok "the freerad group exists (freeradius)"; finish; exit 1; }

# crtoken must reach the instance and the programs: the suite's own dir is
# root's 0700 (and the build tree may be in a 0700 home), so stage them.
chmod 0711 "$T"
S=$T/srv
mkdir -p "$S/bin" "$S/lib" "$S/pam.d"
chmod 0755 "$S" "$S/bin" "$S/lib" "$S/pam.d"
cp "$CRTOKEND" "$BUILD/lib/pam_crtoken.so" "$S/lib/" && mv "$S/lib/crtokend" "$S/bin/"
http_instance "$S/inst" 18560 || { not_ok "instance"; finish; exit 1; }
conf_set require_login yes
conf_set rate_limit_failures 1000
printf 'auth required %s config=%s\naccount required %s config=%s\n' \
	"$S/lib/pam_crtoken.so" "$CRTOKEN_CONF" "$S/lib/pam_crtoken.so" "$CRTOKEN_CONF" \
	>"$S/pam.d/crtoken"
"$ADMIN" token list >/dev/null # the store's -wal and -shm exist

# The README's commands ("crtokend as the crtoken user"), as written there:
# from `cd /var/lib/crtoken` to the first systemctl, on this instance.
sed -n '/^### crtokend as the crtoken user/,/^| file/p' "$TOP/README.md" |
	sed -n '/^cd \/var\/lib\/crtoken$/,/systemctl/p' | grep -v systemctl |
	sed -e "s|^cd /var/lib/crtoken\$|cd '$S/inst'|" -e 's/^sudo //' >"$T/layout.sh"
check_eq "the README's layout is five commands" 5 "$(wc -l <"$T/layout.sh")"
check "the README's chown/chmod commands run" sh -e "$T/layout.sh"

SA=$("$ADMIN" otp enroll alice --json 2>"$T/enroll.err" | jget - "d['secret']")
check "root's crtoken-admin administers the crtoken-owned store" test -n "$SA"
[ -n "$SA" ] || sed 's/^/#   /' "$T/enroll.err"

# Started as crtokend.service does: User=crtoken, no capabilities.
setpriv --reuid=crtoken --regid=crtoken --init-groups --inh-caps=-all \
	env LD_PRELOAD="$PRELOAD_SAN$PAM_WRAPPER_LIB" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$S/pam.d" \
	"$S/bin/crtokend" --config "$CRTOKEN_CONF" --foreground >>"$T/crtokend.log" 2>&1 &
CRTOKEND_PID=$!
if ! wait_port 127.0.0.1 "$PORT" 100 || ! kill -0 "$CRTOKEND_PID" 2>/dev/null; then
	not_ok "crtokend starts as crtoken"
	sed 's/^/#   /' "$T/crtokend.log" | tail -20
	http_finish
	exit 1
fi
ok "crtokend starts as crtoken"
check_eq "crtokend runs as the crtoken user" "$(id -u crtoken)" \
	"$(awk '/^Uid:/ {print $3}' "/proc/$CRTOKEND_PID/status")"
apikey || not_ok "api key"

csr_body dev
new_token nonroot '"owner":"alice"'
CODE=$(oathtool --totp -b "$SA")
redeem "$TOKEN" "$T/dev.json" -u "alice:$CODE"
check_status "an OTP-gated redemption through pam_crtoken as crtoken (201)" 201 -
new_token replay '"owner":"alice"'
redeem "$TOKEN" "$T/dev.json" -u "alice:$CODE"
check_status "pam_crtoken as crtoken recorded the used step: a replay is refused" 401 authentication_failed

# The files crtokend and the CRL job write stay crtoken's, group freerad.
cp "$ADMIN" "$S/bin/crtoken-admin"
check "crtoken-admin crl as crtoken (crtoken-crl.service)" \
	setpriv --reuid=crtoken --regid=crtoken --init-groups sh -c 'umask 0027; exec "$@"' sh \
	"$S/bin/crtoken-admin" --config "$CRTOKEN_CONF" crl
for f in crtoken.db crtoken.db-wal crtoken.db-shm; do
	check_eq "$f is crtoken:freerad, no access for others" "crtoken:freerad ---" \
		"$(stat -c '%U:%G' "$S/inst/$f") $(stat -c '%A' "$S/inst/$f" | cut -c8-10)"
done
check_eq "crl.pem (public) is crtoken:freerad" crtoken:freerad "$(stat -c '%U:%G' "$S/inst/crl.pem")"
check "freerad can read the CRL" setpriv --reuid=freerad --regid=freerad --init-groups \
	openssl crl -in "$S/inst/crl.pem" -noout
http_finish
