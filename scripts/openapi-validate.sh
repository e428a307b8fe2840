#!/bin/sh
# openapi-validate.sh — validate OpenAPI 3.0 documents with third-party
# validators, not our own reading of the specification.
#
#   scripts/openapi-validate.sh FILE...               JSON::Validator (Debian)
#   scripts/openapi-validate.sh --swagger-cli FILE... swagger-cli (npm)
#
# The default is Perl's JSON::Validator (libjson-validator-perl, which
# scripts/deps.sh check installs) against the OpenAPI Initiative's 3.0 schema
# it ships: offline, so `make check` validates on every machine. It is what
# t_http_openapi runs.
#
# --swagger-cli: a second opinion, `make openapi-swagger-cli`. The validator
# (@apidevtools/swagger-cli, pinned in scripts/openapi-validator/: package.json
# and a package-lock.json of integrity hashes without registry URLs) is
# installed on first use under build/openapi-validator with the machine's own
# npm (and its configuration), and again only when the pinned lock changes.
# Needs npm and the npm registry; it fails, it never skips.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" != --swagger-cli ]; then
	[ $# -ge 1 ] || { echo "usage: $0 [--swagger-cli] FILE..." >&2; exit 2; }
	exec perl -MJSON::Validator::Schema::OpenAPIv3 -e '
		my $rc = 0;
		for my $f (@ARGV) {
			my @e = @{JSON::Validator::Schema::OpenAPIv3->new($f)->errors};
			if (@e) { print STDERR "$f: $_\n" for @e; print STDERR "$f: ", scalar(@e), " errors\n"; $rc = 1 }
			else { print "$f is valid OpenAPI 3.0 (JSON::Validator $JSON::Validator::VERSION)\n" }
		}
		exit $rc;' "$@"
fi
shift
[ $# -ge 1 ] || { echo "usage: $0 --swagger-cli FILE..." >&2; exit 2; }
pin=$top/scripts/openapi-validator
dir=$top/build/openapi-validator
bin=$dir/node_modules/.bin/swagger-cli
command -v npm >/dev/null 2>&1 || { echo "openapi-validate: npm not found" >&2; exit 1; }
mkdir -p "$dir"
(
	flock 9 # one installer at a time
	if [ -x "$bin" ] && cmp -s "$pin/package-lock.json" "$dir/package-lock.json"; then
		exit 0
	fi
	echo "openapi-validate: installing the pinned validator under $dir" >&2
	rm -rf "$dir/node_modules" "$dir/package-lock.json"
	cp "$pin/package.json" "$dir/"
	# The cache stays under build/ too; no install scripts run; an
	# unreachable registry fails within minutes instead of retrying for long.
	cp "$pin/package-lock.json" "$dir/package-lock.json.new"
	mv "$dir/package-lock.json.new" "$dir/package-lock.json"
	cd "$dir" && npm_config_cache=$dir/.npm-cache timeout 300 npm ci --ignore-scripts \
		--no-audit --no-fund --omit-lockfile-registry-resolved --fetch-retries=1 \
		--loglevel=error >&2 || { rm -f "$dir/package-lock.json"; exit 1; }
	[ -x "$bin" ] || { echo "openapi-validate: swagger-cli missing after install" >&2; exit 1; }
) 9>"$dir/.lock"
rc=0
for f in "$@"; do
	"$bin" validate "$f" || rc=1
done
exit $rc
