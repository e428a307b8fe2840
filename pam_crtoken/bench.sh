#!/bin/sh
# bench.sh — wall time of one successful `pamtester SERVICE USER authenticate`
# through pam_crtoken, and through Debian's pam_oath with an equivalent
# usersfile (TOTP, HMAC-SHA1, 6 digits, 30 s, window ±1), both under
# pam_wrapper on this machine. Each run logs in a different user with its
# current code, so no run is refused as a replay. Prints min/median/max.
#
#   pam_crtoken/bench.sh [RUNS]      (default 25; needs a built tree)
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
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

# run SERVICE : time N logins (one per user) in Python, print the summary.
run() {
	python3 - "$1" "$N" "$W" "/usr/lib/$MA/libpam_wrapper.so" <<'EOF'
import os, statistics, subprocess, sys, time
svc, n, w, wrapper = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
env = dict(os.environ, LD_PRELOAD=wrapper, PAM_WRAPPER="1", PAM_WRAPPER_SERVICE_DIR=w + "/pam.d")
times = []
for i in range(n):
    b32 = open(f"{w}/u{i}.b32").read().strip()
    code = subprocess.run(["oathtool", "--totp", "-b", b32], capture_output=True,
                          text=True, check=True).stdout
    t0 = time.perf_counter()
    p = subprocess.run(["pamtester", svc, f"u{i}", "authenticate"], input=code,
                       capture_output=True, text=True, env=env)
    times.append((time.perf_counter() - t0) * 1000)
    if p.returncode != 0 or "successfully authenticated" not in p.stderr + p.stdout:
        sys.exit(f"{svc}: login of u{i} failed: {p.stderr.strip()}")
print(f"{svc:8} n={n}  median {statistics.median(times):6.2f} ms  "
      f"min {min(times):6.2f} ms  max {max(times):6.2f} ms")
EOF
}
run crtoken
run oath
