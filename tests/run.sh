#!/bin/sh
# run.sh — run every test suite and print one summary line.
#
# Suites: the cmocka unit binaries ($B/tests/unit/test_*) and the integration
# scripts (tests/integration/t_*.sh). Every suite prints TAP lines
# ("ok ..." / "not ok ..."); a suite that exits non-zero without reporting a
# failure counts as one failure. Logs: $B/tests/logs/<suite>.log.
# TESTS=pattern limits the run to suites whose name contains pattern.
set -u
B=${B:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
logs=$B/tests/logs
mkdir -p "$logs"
export CMOCKA_MESSAGE_OUTPUT=TAP
export CRTOKEN_TOP="$top" CRTOKEN_BUILD="$top/$B"

passed=0
failed=0
failed_suites=""

# SANITIZE=1: every sanitizer report of every process — daemons and hosts
# whose stderr a suite discards included — goes to $logs/sanitizer, and a
# suite that leaves a report there fails. Suites preload test tools
# (libfaketime via faketime, cwrap) ahead of the ASan runtime, so ASan's
# "runtime comes first" check is off.
san_dir=""
san_seen=0
if [ "${SANITIZE:-}" = 1 ]; then
	san_dir=$top/$logs/sanitizer
	case "$logs" in /*) san_dir=$logs/sanitizer ;; esac
	rm -rf "$san_dir"
	mkdir -p "$san_dir"
	ASAN_OPTIONS="log_path=$san_dir/asan:verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
	UBSAN_OPTIONS="log_path=$san_dir/ubsan:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
	export ASAN_OPTIONS UBSAN_OPTIONS
fi
suite_timeout=${SUITE_TIMEOUT:-600}
# Interrupted (^C, TERM): pass it on to the running suite, whose exit hook
# stops what it started (tests/integration/lib.sh), wait for it, stop.
suite_pid=""
suite_tmp=""
remove_suite_tmp() {
	[ -n "$suite_tmp" ] || return 0
	if [ "${KEEP:-0}" = 1 ]; then echo "# kept $suite_tmp" >>"$log"; else rm -rf "$suite_tmp"; fi
	suite_tmp=""
}
interrupted() {
	trap '' INT TERM HUP
	if [ -n "$suite_pid" ]; then
		kill -TERM "$suite_pid" 2>/dev/null
		wait "$suite_pid" 2>/dev/null
	fi
	remove_suite_tmp
	echo
	echo "interrupted: $passed passed, $failed failed before${failed_suites:+ (failing:$failed_suites)}"
	exit 130
}
trap interrupted INT TERM HUP

run_suite() { # name command...
	name=$1
	shift
	case "$name" in *"${TESTS:-}"*) ;; *) return ;; esac
	log=$logs/$name.log
	mkdir -p "$(dirname "$log")"
	start=$(date +%s)
	# A TMPDIR of its own, removed when the suite ends: nothing it wrote
	# there stays in /tmp, also when a check failed or it was killed.
	# 0711: radiusd's freerad user reaches what a suite stages below it.
	suite_tmp=$(mktemp -d "${TMPDIR:-/tmp}/crtoken-suite.XXXXXX") && chmod 711 "$suite_tmp" ||
		exit 1
	# In the background, so that an interrupt reaches the suite: timeout runs
	# it in a process group of its own, which a terminal's ^C does not reach.
	TMPDIR=$suite_tmp timeout -k 10 "$suite_timeout" "$@" >"$log" 2>&1 </dev/null &
	suite_pid=$!
	wait "$suite_pid"
	rc=$?
	suite_pid=""
	remove_suite_tmp
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $rc" >>"$log"
	fi
	if [ -n "$san_dir" ] && [ "$(ls "$san_dir" | wc -l)" -gt "$san_seen" ]; then
		new=$(($(ls "$san_dir" | wc -l) - san_seen))
		san_seen=$((san_seen + new))
		f=$((f + 1))
		echo "not ok - $name: $new sanitizer report(s) in $san_dir" >>"$log"
		for r in $(ls -t "$san_dir" | head -n "$new"); do
			sed -n '1,/^SUMMARY/p' "$san_dir/$r" | head -40 | sed 's/^/# /' >>"$log"
		done
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	secs=$(($(date +%s) - start))
	if [ "$f" -eq 0 ]; then
		printf '%-40s %4d passed            (%ss)\n' "$name" "$p" "$secs"
	else
		printf '%-40s %4d passed %4d FAILED (%ss)\n' "$name" "$p" "$f" "$secs"
		failed_suites="$failed_suites $name"
		grep '^not ok ' "$log" | head -20 | sed 's/^/    /'
		echo "    log: $log (last lines below)"
		tail -15 "$log" | sed 's/^/    | /'
	fi
}

for t in "$B"/tests/unit/test_*; do
	[ -x "$t" ] || continue
	run_suite "unit/$(basename "$t")" "$t"
done
for t in tests/integration/t_*.sh; do
	[ -f "$t" ] || continue
	run_suite "integration/$(basename "$t" .sh)" sh "$t"
done

echo
[ -n "$failed_suites" ] && echo "failing suites:$failed_suites"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
