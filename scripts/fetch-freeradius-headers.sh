#!/bin/sh
# fetch-freeradius-headers.sh — build the FreeRADIUS header overlay for rlm_crtoken.
#
# Debian's libfreeradius-dev ships radiusd.h but not ~23 headers it includes
# (log.h, connection.h, xlat.h, ...). This script takes them from Debian's own
# source package of exactly the installed version and writes an include tree:
#
#   OUT/include/freeradius/*.h   installed headers (configure-generated ones
#                                such as features.h win) + the missing ones
#                                from the source package, with
#                                the source tree's -devel include prefix
#                                rewritten to <freeradius/...>
#   OUT/stamp                    the version the overlay was made from
#
# Nothing is downloaded when OUT/stamp matches the installed version. The
# build (make) changes nothing on the machine: it only downloads the source
# package into OUT, and stops with what to do when apt cannot give it.
#
# --apt-source (run by scripts/deps.sh, i.e. make deps/demo/check/bench, as
# root): make the source package available to apt. When no deb-src line for
# bookworm is configured, one is added
# (/etc/apt/sources.list.d/crtoken-deb-src.sources) mirroring the URIs, suites
# and components of the existing deb entries in
# /etc/apt/sources.list.d/debian.sources, followed by apt-get update.
#
# Usage: scripts/fetch-freeradius-headers.sh OUT    (e.g. build/freeradius)
#        scripts/fetch-freeradius-headers.sh --apt-source
# FR_SYSTEM_HEADERS: the installed headers (default /usr/include/freeradius).
set -eu

out=${1:?usage: $0 OUTDIR | --apt-source}
sys_headers=${FR_SYSTEM_HEADERS:-/usr/include/freeradius}
pkg=libfreeradius-dev
srcpkg=freeradius
debsrc=/etc/apt/sources.list.d/crtoken-deb-src.sources
debian_sources=/etc/apt/sources.list.d/debian.sources

die() {
	echo "fetch-freeradius-headers: $*" >&2
	exit 1
}

version=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null) ||
	die "$pkg is not installed (make deps installs it; or build without rlm_crtoken: make WITH_RADIUS=0)"
[ -n "$version" ] || die "$pkg is not installed"
[ -f "$sys_headers/radiusd.h" ] || die "no $sys_headers/radiusd.h (Debian package $pkg)"

if [ "$out" != --apt-source ] && [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$version" ] &&
	[ -f "$out/include/freeradius/radiusd.h" ]; then
	exit 0
fi

# A deb-src entry for bookworm anywhere in apt's configuration?
have_debsrc() {
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		grep -Eq '^[[:space:]]*deb-src[[:space:]].*[[:space:]]bookworm([[:space:]]|$)' "$f" &&
			return 0
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		# deb822: a stanza whose Types include deb-src and Suites include bookworm.
		awk '
			BEGIN { RS = ""; FS = "\n"; found = 0 }
			{
				t = 0; s = 0
				for (i = 1; i <= NF; i++) {
					if ($i ~ /^Types:/ && $i ~ /deb-src/) t = 1
					if ($i ~ /^Suites:/ && $i ~ /[[:space:]]bookworm([[:space:]]|$)/) s = 1
				}
				if (t && s) found = 1
			}
			END { exit found ? 0 : 1 }' "$f" && return 0
	done
	return 1
}

# Write deb-src stanzas mirroring the deb stanzas of debian.sources.
add_debsrc() {
	[ -f "$debian_sources" ] ||
		die "no deb-src line and no $debian_sources to mirror; add a deb-src line for bookworm"
	tmp=$debsrc.tmp.$$
	{
		echo "# Added by crtoken scripts/fetch-freeradius-headers.sh: source packages"
		echo "# (FreeRADIUS headers missing from libfreeradius-dev). Mirrors $debian_sources."
		echo
		awk '
			BEGIN { RS = ""; FS = "\n" }
			{
				deb = 0
				for (i = 1; i <= NF; i++)
					if ($i ~ /^Types:/ && $i ~ /[[:space:]]deb([[:space:]]|$)/) deb = 1
				if (!deb) next
				for (i = 1; i <= NF; i++) {
					if ($i ~ /^#/) continue
					if ($i ~ /^Types:/) print "Types: deb-src"
					else print $i
				}
				print ""
			}' "$debian_sources"
	} >"$tmp"
	grep -q '^URIs:' "$tmp" || {
		rm -f "$tmp"
		die "found no deb entries in $debian_sources"
	}
	chmod 644 "$tmp"
	mv "$tmp" "$debsrc"
	echo "fetch-freeradius-headers: added $debsrc" >&2
}

have_source() { apt-cache showsrc "$srcpkg" 2>/dev/null | grep -q "^Version: $version\$"; }

if [ "$out" = --apt-source ]; then
	have_source && exit 0
	if [ "$(id -u)" -ne 0 ]; then
		# Not ours to change; the build says what to do if it needs the source.
		echo "fetch-freeradius-headers: the source package $srcpkg $version is not available" \
			"to apt (needed only to make a new header overlay); run 'make deps' as root to add it" >&2
		exit 0
	fi
	have_debsrc || add_debsrc
	echo "fetch-freeradius-headers: apt-get update" >&2
	apt-get update -qq >&2 || die "apt-get update failed"
	have_source || die "apt has no source package $srcpkg $version"
	exit 0
fi
have_source ||
	die "the FreeRADIUS headers rlm_crtoken needs come from the source package $srcpkg $version,
  which apt cannot give: run 'make deps' as root (adds a deb-src entry for it), or add a deb-src
  line for bookworm and run apt-get update; or build without rlm_crtoken: make WITH_RADIUS=0"

work=$out.work
rm -rf "$work"
mkdir -p "$work/dl"
# Let apt's sandbox user write the download (avoids apt's "unsandboxed" warning).
[ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1 && chown _apt "$work/dl" 2>/dev/null
(

	cd "$work/dl"
	apt-get source --download-only -qq "$srcpkg=$version" >&2
) || die "apt-get source $srcpkg=$version failed"

dsc=$(ls "$work/dl"/*.dsc 2>/dev/null | head -1)
[ -n "$dsc" ] || die "no .dsc downloaded"
# Unpack with Debian's patches applied: the same tree Debian built from.
dpkg-source --no-check -x "$dsc" "$work/src" >/dev/null 2>&1 ||
	die "dpkg-source -x $dsc failed"
[ -f "$work/src/src/include/radiusd.h" ] || die "source tree lacks src/include/radiusd.h"

inc=$work/include/freeradius
mkdir -p "$inc"
cp "$sys_headers"/*.h "$inc/"
# The source tree includes its headers under a "-devel" directory name.
devel="freeradius-devel"
for h in "$work/src/src/include"/*.h; do
	b=$(basename "$h")
	[ -f "$inc/$b" ] && continue
	sed "s|$devel/|freeradius/|g" "$h" >"$inc/$b"
done
# Installed headers may still use that prefix in places.
for h in "$inc"/*.h; do
	grep -q "$devel/" "$h" || continue
	sed -i "s|$devel/|freeradius/|g" "$h"
done

rm -rf "$out.new"
mkdir -p "$out.new"
mv "$work/include" "$out.new/include"
printf '%s\n' "$version" >"$out.new/stamp"
rm -rf "$out" "$work"
mv "$out.new" "$out"
echo "fetch-freeradius-headers: overlay for freeradius $version in $out/include" >&2
