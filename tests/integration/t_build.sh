#!/bin/sh
# t_build.sh — the build switches and what each program links.
#
# make WITH_RADIUS=0 builds into a separate build dir (B=) on a machine
# without FreeRADIUS headers (FR_SYSTEM_HEADERS and the overlay point at empty
# dirs) and without the pkg-config modules only rlm_crtoken needs (talloc,
# libpcre: a pkg-config dir without them); make WITH_PAM=0 the same without
# pam and libmicrohttpd. Each leaves out its parts and nothing else. A plain
# make with a missing library stops before compiling, naming the pkg-config
# module and the Debian package, and never runs scripts/deps.sh.
# crtoken-enroll links no store: no libsqlite3, no libinih.
#
# The WITH_PAM=0 build reuses the WITH_RADIUS=0 build's objects (same flags),
# so the project is compiled once.
. "$(dirname "$0")/lib.sh"

# A make of its own: nothing from an outer make (make check's MAKEFLAGS, its
# jobserver) or a SANITIZE=1 run reaches it.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE make --no-print-directory -C "$TOP" "$@"; }

# A pkg-config search dir holding every installed module but the named ones.
pc_dir_without() { # DIR MODULE...
	_d=$1
	shift
	mkdir -p "$_d"
	for _p in $(pkg-config --variable pc_path pkg-config | tr ':' ' '); do
		for _f in "$_p"/*.pc; do
			[ -f "$_f" ] || continue
			_m=$(basename "$_f" .pc)
			_skip=0
			for _x in "$@"; do [ "$_m" = "$_x" ] && _skip=1; done
			[ $_skip = 1 ] || [ -e "$_d/$_m.pc" ] || ln -s "$_f" "$_d/$_m.pc"
		done
	done
}
mkdir -p "$T/empty" "$T/nopc"

# ---------------------------------------------------------------- missing deps
out=$(PKG_CONFIG_LIBDIR=$T/nopc PKG_CONFIG_PATH= mk B="$T/b0" build 2>&1)
rc=$?
check_eq "make with no pkg-config modules stops (status 2)" 2 "$rc"
check_contains "... naming the missing pkg-config module and its Debian package" \
	"pkg-config module openssl (Debian package libssl-dev)" "$out"
check_contains "... and how to install them" "apt-get install " "$out"
check "... before compiling anything" test ! -e "$T/b0"
out=$(mk B="$T/b0" FR_SYSTEM_HEADERS="$T/empty" build 2>&1)
check_contains "make without FreeRADIUS headers names libfreeradius-dev and WITH_RADIUS=0" \
	"$T/empty/radiusd.h (Debian package libfreeradius-dev)" "$out"
check_contains "... and how to build without rlm_crtoken" "make WITH_RADIUS=0" "$out"
check "... before compiling anything" test ! -e "$T/b0"
plan=$(mk -n B="$T/b0" all 2>&1)
case "$plan" in *deps.sh*) not_ok "a plain make does not run scripts/deps.sh" ;;
*) ok "a plain make does not run scripts/deps.sh" ;; esac

# The Debian packages a build needs follow the switches.
debs=$(mk -s print-debs-build)
check_contains "the full build needs libfreeradius-dev" libfreeradius-dev "$debs"
check_contains "the full build needs libpam0g-dev" libpam0g-dev "$debs"
debs=$(mk -s print-debs-build WITH_RADIUS=0)
case " $debs " in *" libfreeradius-dev "* | *" libtalloc-dev "*)
	not_ok "WITH_RADIUS=0 needs no FreeRADIUS or talloc package ($debs)" ;;
*) ok "WITH_RADIUS=0 needs no FreeRADIUS or talloc package" ;; esac
debs=$(mk -s print-debs-build WITH_PAM=0)
case " $debs " in *" libpam0g-dev "* | *" libmicrohttpd-dev "*)
	not_ok "WITH_PAM=0 needs no PAM or libmicrohttpd package ($debs)" ;;
*) ok "WITH_PAM=0 needs no PAM or libmicrohttpd package" ;; esac
out=$(mk -n check-run WITH_RADIUS=0 B="$T/b0" 2>&1)
check_contains "make check refuses WITH_RADIUS=0 (the suites test every part)" \
	"make check tests every part" "$out"

# ---------------------------------------------------------------- WITH_RADIUS=0
pc_dir_without "$T/pc-norad" talloc libpcre libpcre16 libpcre32 libpcrecpp libpcreposix
start=$(date +%s)
if PKG_CONFIG_LIBDIR=$T/pc-norad PKG_CONFIG_PATH= mk -j2 B="$T/b" WITH_RADIUS=0 \
	FR_SYSTEM_HEADERS="$T/empty" FR_OVERLAY="$T/overlay" build >"$T/norad.log" 2>&1; then
	ok "make WITH_RADIUS=0 builds without FreeRADIUS headers, talloc or libpcre"
else
	not_ok "make WITH_RADIUS=0 builds without FreeRADIUS headers, talloc or libpcre"
	tail -20 "$T/norad.log" | sed 's/^/#   /'
fi
diag "WITH_RADIUS=0 build: $(($(date +%s) - start)) s"
for f in bin/crtoken-admin bin/crtokend bin/crtoken-enroll lib/pam_crtoken.so lib/libcrtoken.a \
	lib/libcrtoken-client.a; do
	check "WITH_RADIUS=0 builds $f" test -f "$T/b/$f"
done
check "WITH_RADIUS=0 builds no rlm_crtoken.so" test ! -e "$T/b/lib/rlm_crtoken.so"
check "WITH_RADIUS=0 fetches no FreeRADIUS headers" test ! -e "$T/overlay"

# ---------------------------------------------------------------- WITH_PAM=0
rm -rf "$T/b/bin" "$T/b/lib"
pc_dir_without "$T/pc-nopam" pam pam_misc pamc libmicrohttpd
start=$(date +%s)
if PKG_CONFIG_LIBDIR=$T/pc-nopam PKG_CONFIG_PATH= mk -j2 B="$T/b" WITH_PAM=0 build \
	>"$T/nopam.log" 2>&1; then
	ok "make WITH_PAM=0 builds without PAM or libmicrohttpd"
else
	not_ok "make WITH_PAM=0 builds without PAM or libmicrohttpd"
	tail -20 "$T/nopam.log" | sed 's/^/#   /'
fi
diag "WITH_PAM=0 build: $(($(date +%s) - start)) s"
for f in bin/crtoken-admin bin/crtoken-enroll lib/rlm_crtoken.so; do
	check "WITH_PAM=0 builds $f" test -f "$T/b/$f"
done
check "WITH_PAM=0 builds no pam_crtoken.so" test ! -e "$T/b/lib/pam_crtoken.so"
check "WITH_PAM=0 builds no crtokend (its redeemer login is PAM)" test ! -e "$T/b/bin/crtokend"
for f in bin/crtoken-admin bin/crtoken-enroll; do
	l=$(ldd "$T/b/$f" 2>&1)
	case "$l" in *libpam.so*) not_ok "WITH_PAM=0: $f links no libpam" ;;
	*) ok "WITH_PAM=0: $f links no libpam" ;; esac
done

# ---------------------------------------------------------------- the client
for e in "$BUILD/bin/crtoken-enroll" "$T/b/bin/crtoken-enroll"; do
	l=$(ldd "$e" 2>&1)
	for lib in libsqlite3 libinih libmicrohttpd libpam; do
		case "$l" in *"$lib".so*) not_ok "$e links no $lib" ;;
		*) ok "$e links no $lib" ;; esac
	done
	check_contains "$e links libcurl" libcurl.so "$l"
done
finish
