#!/bin/sh
# deps.sh — install the Debian 12 packages crtoken needs to build, demo and test.
# Installs only what is missing; does nothing (and needs no root) when all are present.
# Usage: scripts/deps.sh [build|demo|check|bench]
#   build  the compilers and libraries (make)
#   demo   + the peers the demo drives (make demo): oathtool, pamtester, pam_wrapper,
#          curl, eapol_test
#   check  + the test tools (make check)
#   bench  + the load generator and the comparison servers (make bench)
set -eu

BUILD_PKGS="build-essential pkg-config libssl-dev libsqlite3-dev sqlite3 libinih-dev \
libpam0g-dev libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev libqrencode-dev zlib1g-dev \
libtalloc-dev libpcre3-dev libfreeradius-dev freeradius openssl dpkg-dev xz-utils python3"
DEMO_PKGS="curl oathtool pamtester libpam-wrapper eapoltest"
CHECK_PKGS="$DEMO_PKGS libcmocka-dev faketime valgrind libpam-oath clang libclang-rt-14-dev \
python3-yaml python3-jsonschema libjson-validator-perl iproute2 procps systemd \
wpasupplicant hostapd network-manager libxml2-utils chromium python3-websocket"

BENCH_PKGS="wrk golang-cfssl hyperfine"

want="$BUILD_PKGS"
case "${1:-build}" in
build) ;;
demo) want="$want $DEMO_PKGS" ;;
check) want="$want $CHECK_PKGS" ;;
bench) want="$want $CHECK_PKGS $BENCH_PKGS" ;;
*)
	echo "usage: $0 [build|demo|check|bench]" >&2
	exit 2
	;;
esac

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing — run as root or install them" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# In a root with no init system running (a chroot, a container), maintainer
# scripts would start daemons (freeradius) that nothing stops: forbid that for
# this install, as Debian's own images do, unless a policy-rc.d exists.
policy=/usr/sbin/policy-rc.d
if [ ! -d /run/systemd/system ] && [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing </dev/null
