#!/bin/sh
# pam.sh — wall time of one successful `pamtester SERVICE USER authenticate`
# through pam_crtoken, and through Debian's pam_oath with an equivalent
# usersfile (TOTP, HMAC-SHA1, 6 digits, 30 s, window ±1), both under
# pam_wrapper on this machine. Each run logs in a different user with its
# current code, so no run is refused as a replay. Prints min/median/max.
#
#   tests/bench/pam.sh [RUNS]        (default 25; needs a built tree)
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${CRTOKEN_BUILD:-$TOP/build}
N=${1:-25}
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
OATH=/usr/lib/$MA/security/pam_oath.so
W=$(mktemp -d "${TMPDIR:-/tmp}/crtoken-pambench.XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir "$W/pam.d"

"$BUILD/bin/crtoken-admin" init --dir "$W/inst" >/dev/null
export CRTOKEN_CONF="$W/inst/crtoken.conf"
printf 'auth required %s config=%s\n' "$BUILD/lib/pam_crtoken.so" "$CRTOKEN_CONF" \
	>"$W/pam.d/crtoken"
printf 'auth required %s usersfile=%s window=1 digits=6\n' "$OATH" "$W/users.oath" \
	>"$W/pam.d/oath"
echo "auth required pam_deny.so" >"$W/pam.d/other"
: >"$W/users.oath"
i=0
while [ $i -lt "$N" ]; do
	b32=$("$BUILD/bin/crtoken-admin" otp enroll "u$i" --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
	echo "$b32" >"$W/u$i.b32"
	hex=$(python3 -c 'import base64,sys; print(base64.b32decode(sys.argv[1]).hex())' "$b32")
	echo "HOTP/T30 u$i - $hex" >>"$W/users.oath"
	i=$((i + 1))
done

# Time N logins per service (user uI with its current code), alternating
# the two services so background load affects both alike.
python3 - "$N" "$W" "/usr/lib/$MA/libpam_wrapper.so" <<'EOF'
import os, statistics, subprocess, sys, time
n, w, wrapper = int(sys.argv[1]), sys.argv[2], sys.argv[3]
env = dict(os.environ, LD_PRELOAD=wrapper, PAM_WRAPPER="1", PAM_WRAPPER_SERVICE_DIR=w + "/pam.d")
times = {"crtoken": [], "oath": []}
for i in range(n):
    b32 = open(f"{w}/u{i}.b32").read().strip()
    for svc in times:
        code = subprocess.run(["oathtool", "--totp", "-b", b32], capture_output=True,
                              text=True, check=True).stdout
        t0 = time.perf_counter()
        p = subprocess.run(["pamtester", svc, f"u{i}", "authenticate"], input=code,
                           capture_output=True, text=True, env=env)
        times[svc].append((time.perf_counter() - t0) * 1000)
        if p.returncode != 0 or "successfully authenticated" not in p.stderr + p.stdout:
            sys.exit(f"{svc}: login of u{i} failed: {p.stderr.strip()}")
for svc, t in times.items():
    print(f"{svc:8} n={n}  median {statistics.median(t):6.2f} ms  "
          f"min {min(t):6.2f} ms  max {max(t):6.2f} ms")
EOF
