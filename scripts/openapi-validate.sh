#!/bin/sh
# openapi-validate.sh — validate OpenAPI documents with a third-party
# validator (swagger-cli, from npm), installed on first use under
# build/openapi-validator from the versions pinned in scripts/openapi-validator/
# (package.json + a package-lock.json holding integrity hashes, no registry
# URLs). Idempotent: reinstalls only when the pinned lock changes. Needs npm
# (scripts/deps.sh check installs it) and, the first time, the npm registry.
# There is no offline skip: a document that was not validated fails.
#
#   scripts/openapi-validate.sh enroll/openapi.yaml
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
pin=$top/scripts/openapi-validator
dir=$top/build/openapi-validator
bin=$dir/node_modules/.bin/swagger-cli

[ $# -ge 1 ] || { echo "usage: $0 FILE..." >&2; exit 2; }
command -v npm >/dev/null 2>&1 ||
	{ echo "openapi-validate: npm not found (scripts/deps.sh check installs it)" >&2; exit 1; }

mkdir -p "$dir"
(
	# One installer at a time (suites of two runs may start together).
	flock 9
	if [ -x "$bin" ] && cmp -s "$pin/package-lock.json" "$dir/package-lock.json"; then
		exit 0
	fi
	echo "openapi-validate: installing the pinned validator under $dir" >&2
	rm -rf "$dir/node_modules"
	cp "$pin/package.json" "$pin/package-lock.json" "$dir/"
	# The cache stays under build/ too; no install scripts run.
	cd "$dir" && npm_config_cache=$dir/.npm-cache npm ci --ignore-scripts --no-audit \
		--no-fund --omit-lockfile-registry-resolved --loglevel=error >&2
	[ -x "$bin" ] || { echo "openapi-validate: swagger-cli missing after install" >&2; exit 1; }
) 9>"$dir/.lock"

rc=0
for f in "$@"; do
	"$bin" validate "$f" || rc=1
done
exit $rc
