#!/bin/sh
# run.sh — run every test suite and print one summary line.
#
# Suites: the cmocka unit binaries ($B/tests/unit/test_*) and the integration
# scripts (tests/integration/t_*.sh). Every suite prints TAP lines
# ("ok ..." / "not ok ..."); a suite that exits non-zero without reporting a
# failure counts as one failure. Logs: $B/tests/logs/<suite>.log.
# TESTS=pattern limits the run to suites whose name contains pattern (several
# patterns, space-separated: suites whose name contains any of them).
# JOBS=N runs N suites at a time (default 1; make check: nproc).
#
# Each integration suite runs in a network namespace of its own (as root,
# with unshare and ip): its servers' fixed ports on 127.0.0.1 are then its
# own, so suites run side by side and a service of this host on the same
# port (a demo's crtokend, a real radiusd) neither breaks a suite nor gets
# its packets. NETNS=0 turns that off, and then JOBS is 1.
set -u
B=${B:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
logs=$B/tests/logs
mkdir -p "$logs"
export CMOCKA_MESSAGE_OUTPUT=TAP
export CRTOKEN_TOP="$top" CRTOKEN_BUILD="$top/$B"

jobs=${JOBS:-1}
case "$jobs" in '' | *[!0-9]* | 0) echo "run.sh: JOBS must be a positive number" >&2; exit 2 ;; esac
netns=0
if [ "${NETNS:-1}" != 0 ] && unshare -n sh -c 'ip link set lo up' 2>/dev/null; then
	netns=1
elif [ "$jobs" -gt 1 ]; then
	echo "# no network namespaces here (NETNS=0, not root, or no unshare/ip): one suite at a time"
	jobs=1
fi

# The suites that take longest go first, so that the last one to finish
# does not start late. Each run records every suite's seconds in
# $logs/suite-times (per build dir, so SANITIZE=1 keeps its own), and the
# next run queues the suites by those, longest first (a suite without a
# record — new — goes first: it may be slow). Without a record (a fresh
# build dir, as in CI) this static list goes first, in the order of a full
# run on a loaded 2-core machine, then the other integration suites, then
# the units.
times=$logs/suite-times
slow_first="integration/t_portal integration/t_build integration/t_pam_valgrind
integration/t_pg_units integration/t_http_openapi integration/t_multinode_faults
integration/t_pg_frozen integration/t_multinode_radius integration/t_store_copy
integration/t_multinode integration/t_fuzz_smoke integration/t_bad_inputs
integration/t_reliability_race integration/t_http_bulk integration/t_http_api
integration/t_http_gate integration/t_events integration/t_renew integration/t_http_audit"

# SANITIZE=1: every sanitizer report of every process — daemons and hosts
# whose stderr a suite discards included — goes to a directory of the
# suite's own below $logs/sanitizer, and a suite that leaves a report there
# fails. Suites preload test tools (libfaketime via faketime, cwrap) ahead
# of the ASan runtime, so ASan's "runtime comes first" check is off.
san_dir=""
if [ "${SANITIZE:-}" = 1 ]; then
	san_dir=$top/$logs/sanitizer
	case "$logs" in /*) san_dir=$logs/sanitizer ;; esac
	rm -rf "$san_dir"
	mkdir -p "$san_dir"
	asan_user=${ASAN_OPTIONS:+:$ASAN_OPTIONS}
	ubsan_user=${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}
fi
suite_timeout=${SUITE_TIMEOUT:-600}

# Bookkeeping of this run: the queue of suites, one result file per suite.
work=$(mktemp -d "${TMPDIR:-/tmp}/crtoken-run.XXXXXX") || exit 1
mkdir "$work/res"

# One suite: its log, its TMPDIR, its sanitizer directory; the result
# ("passed failed name") to $work/res, its lines for the terminal to stdout.
run_suite() { # name command...
	name=$1
	shift
	log=$logs/$name.log
	mkdir -p "$(dirname "$log")"
	start=$(date +%s)
	flat=$(echo "$name" | tr / _)
	# A TMPDIR of its own, removed when the suite ends: nothing it wrote
	# there stays in /tmp, also when a check failed or it was killed.
	# 0711: radiusd's freerad user reaches what a suite stages below it.
	suite_tmp=$(mktemp -d "${TMPDIR:-/tmp}/crtoken-suite.XXXXXX") && chmod 711 "$suite_tmp" ||
		return 1
	if [ -n "$san_dir" ]; then
		mkdir -p "$san_dir/$flat"
		ASAN_OPTIONS="log_path=$san_dir/$flat/asan:verify_asan_link_order=0$asan_user"
		UBSAN_OPTIONS="log_path=$san_dir/$flat/ubsan:print_stacktrace=1$ubsan_user"
		export ASAN_OPTIONS UBSAN_OPTIONS
	fi
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
	if [ -n "$san_dir" ] && [ -n "$(ls "$san_dir/$flat")" ]; then
		new=$(ls "$san_dir/$flat" | wc -l)
		f=$((f + 1))
		echo "not ok - $name: $new sanitizer report(s) in $san_dir/$flat" >>"$log"
		for r in $(ls -t "$san_dir/$flat"); do
			sed -n '1,/^SUMMARY/p' "$san_dir/$flat/$r" | head -40 | sed 's/^/# /' >>"$log"
		done
	fi
	secs=$(($(date +%s) - start))
	echo "$p $f $secs $name" >"$work/res/$flat"
	# One write per suite, so that lines of suites side by side do not mix.
	{
		if [ "$f" -eq 0 ]; then
			printf '%-40s %4d passed            (%ss)\n' "$name" "$p" "$secs"
		else
			printf '%-40s %4d passed %4d FAILED (%ss)\n' "$name" "$p" "$f" "$secs"
			# each failure with the first lines of its diagnostics ("# ...")
			awk '/^not ok /{n=4; print; next} n&&/^#/{n--; print; next} {n=0}' "$log" |
				head -60 | sed 's/^/    /'
			echo "    log: $log (last lines below)"
			tail -15 "$log" | sed 's/^/    | /'
		fi
	} >"$work/out.$flat"
	cat "$work/out.$flat"
	rm -f "$work/out.$flat"
}

suite_pid=""
suite_tmp=""
remove_suite_tmp() {
	[ -n "$suite_tmp" ] || return 0
	if [ "${KEEP:-0}" = 1 ]; then echo "# kept $suite_tmp" >>"$log"; else rm -rf "$suite_tmp"; fi
	suite_tmp=""
}

# The next line of the queue ("name path"), or failure when empty.
next_suite() {
	flock "$work/queue" sh -c 'IFS= read -r l <"$1" || exit 1; sed -i 1d "$1"; printf "%s\n" "$l"' \
		_ "$work/queue"
}

# A lane takes suites from the queue until it is empty. Stopped (TERM from
# the interrupt below), it passes the signal on to its suite, whose exit
# hook stops what it started (tests/integration/lib.sh), and waits for it.
lane() {
	trap 'trap "" TERM INT HUP; [ -z "$suite_pid" ] || { kill -TERM "$suite_pid" 2>/dev/null; wait "$suite_pid" 2>/dev/null; }; remove_suite_tmp; exit 130' TERM
	trap '' INT HUP
	while line=$(next_suite); do
		name=${line%% *}
		path=${line#* }
		case "$name" in
		unit/*) run_suite "$name" "$path" ;;
		*) if [ "$netns" = 1 ]; then
			run_suite "$name" unshare -n sh -c 'ip link set lo up && exec "$0" "$@"' sh "$path"
		else
			run_suite "$name" sh "$path"
		fi ;;
		esac
	done
}

queue_add() { # name path
	for _p in ${TESTS:-""}; do
		case "$1" in *"$_p"*)
			printf '%s %s\n' "$1" "$2" >>"$work/queue.all"
			return 0
			;;
		esac
	done
}
: >"$work/queue.all"
for t in tests/integration/t_*.sh; do
	[ -f "$t" ] || continue
	queue_add "integration/$(basename "$t" .sh)" "$t"
done
for t in "$B"/tests/unit/test_*; do
	[ -x "$t" ] || continue
	queue_add "unit/$(basename "$t")" "$t"
done
# The slow ones first, then the other integration suites, then the units.
: >"$work/queue"
for n in $slow_first; do
	grep "^$n " "$work/queue.all" >>"$work/queue"
done
for n in $slow_first; do
	grep -v "^$n " "$work/queue.all" >"$work/queue.rest"
	mv "$work/queue.rest" "$work/queue.all"
done
cat "$work/queue.all" >>"$work/queue"
# With a record of the last runs: longest first by it (a stable sort, so
# suites of equal time keep the order above).
if [ -s "$times" ]; then
	awk 'NR == FNR { t[$2] = $1; next } { print (($1 in t) ? t[$1] : 1000000), $0 }' \
		"$times" "$work/queue" | sort -s -k1,1nr | cut -d' ' -f2- >"$work/queue.sorted"
	mv "$work/queue.sorted" "$work/queue"
fi

summary() { # word
	passed=0
	failed=0
	failed_suites=""
	for r in "$work"/res/*; do
		[ -f "$r" ] || continue
		read -r p f _ name <"$r"
		passed=$((passed + p))
		failed=$((failed + f))
		[ "$f" -eq 0 ] || failed_suites="$failed_suites $name"
	done
}

lanes=""
interrupted() {
	trap '' INT TERM HUP
	for l in $lanes; do kill -TERM "$l" 2>/dev/null; done
	wait
	summary
	rm -rf "$work"
	echo
	echo "interrupted: $passed passed, $failed failed before${failed_suites:+ (failing:$failed_suites)}"
	exit 130
}
trap interrupted INT TERM HUP

i=0
while [ "$i" -lt "$jobs" ]; do
	lane &
	lanes="$lanes $!"
	i=$((i + 1))
done
# wait returns early when a trapped signal arrives; the trap then runs.
for l in $lanes; do wait "$l"; done

summary
# This run's seconds per suite replace the recorded ones (the others stay).
{
	for r in "$work"/res/*; do
		[ -f "$r" ] || continue
		read -r _ _ secs name <"$r"
		echo "$secs $name"
	done
	[ -f "$times" ] && cat "$times"
} | awk '!seen[$2]++' >"$times.$$" && mv "$times.$$" "$times"
rm -rf "$work"
echo
[ -n "$failed_suites" ] && echo "failing suites:$failed_suites"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
