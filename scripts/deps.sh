#!/bin/sh
# deps.sh — install the Debian 12 packages crtoken needs to build, demo and test.
# Installs only what is missing; does nothing (and needs no root) when all are present.
# Run by make deps, make demo, make check and make bench only (a plain make
# installs nothing: it names what is missing and stops).
# Usage: scripts/deps.sh [build|demo|check|bench]
#   build  the compilers and tools, and the libraries the parts declare in their
#          module.mk (BUILD_PKGS, BUILD_FILES: `make print-debs-build`, which
#          follows WITH_RADIUS= / WITH_PAM= when make passes them on)
#   demo   + the peers the demo's chapters drive (DEMO_DEBS: `make print-debs-demo`)
#   check  + the test tools (make check, which tests every part)
#   bench  + the load generator and the comparison servers (make bench)
# When rlm_crtoken is part of the build, the FreeRADIUS source package (its
# headers) is also made available to apt (scripts/fetch-freeradius-headers.sh
# --apt-source: a deb-src entry, as root).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

TOOL_PKGS="build-essential pkg-config sqlite3 openssl dpkg-dev xz-utils python3"
CHECK_PKGS="libcmocka-dev faketime valgrind libpam-oath clang libclang-rt-14-dev \
python3-yaml python3-jsonschema python3-aiosmtpd libjson-validator-perl iproute2 procps systemd \
wpasupplicant hostapd network-manager libxml2-utils chromium python3-websocket \
libpq-dev postgresql softhsm2 libengine-pkcs11-openssl golang-cfssl"

BENCH_PKGS="wrk hyperfine"

# The parts' own lists, from their module.mk files (make needs none of them
# to print these). Under make, WITH_RADIUS= / WITH_PAM= given to it are in
# the environment; its MAKEFLAGS (a jobserver) are not for this make.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} -s --no-print-directory -C "$top" "$@"; }
part_build=$(mk print-debs-build) || exit 1
part_demo=$(mk print-debs-demo) || exit 1

want="$TOOL_PKGS $part_build"
case "${1:-build}" in
build) ;;
demo) want="$want $part_demo" ;;
check) want="$want $part_demo $CHECK_PKGS" ;;
bench) want="$want $part_demo $CHECK_PKGS $BENCH_PKGS" ;;
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
# rlm_crtoken's header overlay comes from the FreeRADIUS source package.
fr_source() {
	case " $part_build " in *" libfreeradius-dev "*) ;; *) return 0 ;; esac
	"$top/scripts/fetch-freeradius-headers.sh" --apt-source
}
if [ -z "$missing" ]; then
	fr_source
	exit 0
fi

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
fr_source
