#!/bin/sh
# run.sh — run the libFuzzer harnesses (build/fuzz/bin/fuzz_*).
#
#   tests/fuzz/run.sh fuzz SECONDS [FILTER]   each harness for SECONDS (make fuzz)
#   tests/fuzz/run.sh smoke [RUNS]            replay each seed corpus, then RUNS
#                                             mutations in all (default 4000); TAP
#
# New inputs go to build/fuzz/corpus/<harness>/ (the seeds in
# tests/fuzz/corpus/<harness>/ are only read); crashes, leaks and timeouts
# to build/fuzz/crashes/<harness>/. Prints one line per harness (executions,
# executions per second, crashes); exits non-zero if any harness crashed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
FUZZ_B=${FUZZ_B:-build/fuzz}
case "$FUZZ_B" in /*) ;; *) FUZZ_B=$top/$FUZZ_B ;; esac
mode=${1:-fuzz}
bad=0
n=0

# run_one HARNESS WORKDIR ARGS... : sets execs, rate, crashes, log
run_one() {
	h=$1 work=$2
	shift 2
	crashdir=$FUZZ_B/crashes/$h
	mkdir -p "$work" "$crashdir"
	log=$FUZZ_B/logs/$h.log
	mkdir -p "$(dirname "$log")"
	before=$(ls "$crashdir" | wc -l)
	"$FUZZ_B/bin/fuzz_$h" -print_final_stats=1 -timeout=20 -rss_limit_mb=2048 \
		-artifact_prefix="$crashdir/" "$@" "$work" "$top/tests/fuzz/corpus/$h" \
		>"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	crashes=$(($(ls "$crashdir" | wc -l) - before))
	[ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes=1
	return 0
}

harnesses=$(cd "$FUZZ_B/bin" 2>/dev/null && ls fuzz_* 2>/dev/null | sed 's/^fuzz_//')
if [ -z "$harnesses" ]; then
	echo "no harnesses in $FUZZ_B/bin (make fuzz-build)" >&2
	exit 1
fi

case "$mode" in
fuzz)
	secs=${2:-10}
	filter=${3:-}
	printf '%-10s %12s %10s %8s\n' harness execs exec/s crashes
	for h in $harnesses; do
		case "$h" in *"$filter"*) ;; *) continue ;; esac
		run_one "$h" "$FUZZ_B/corpus/$h" -max_total_time="$secs"
		printf '%-10s %12s %10s %8s\n' "$h" "${execs:-?}" "${rate:-?}" "$crashes"
		if [ "$crashes" -ne 0 ]; then
			bad=1
			grep -E '^(==[0-9]+==ERROR|SUMMARY|.*property failed)' "$log" | head -3 |
				sed 's/^/    /'
			echo "    log: $log; inputs: $FUZZ_B/crashes/$h/"
		fi
	done
	;;
smoke)
	runs=${2:-4000}
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/crtoken-fuzz-smoke.XXXXXX")
	trap 'rm -rf "$scratch"' EXIT
	for h in $harnesses; do
		seeds=$(ls "$top/tests/fuzz/corpus/$h" | wc -l)
		run_one "$h" "$scratch/$h" -runs="$runs" -seed=1
		n=$((n + 1))
		if [ "$crashes" -eq 0 ] && [ "${execs:-0}" -ge "$runs" ]; then
			echo "ok $n - fuzz_$h: $seeds seeds replayed, $execs executions, no crash"
		else
			bad=1
			echo "not ok $n - fuzz_$h: $crashes crash(es) after ${execs:-?} executions"
			grep -E '^(==[0-9]+==ERROR|SUMMARY|.*property failed)' "$log" | head -5 |
				sed 's/^/# /'
			echo "# log: $log; inputs: $FUZZ_B/crashes/$h/"
		fi
	done
	echo "1..$n"
	;;
*)
	echo "usage: $0 fuzz SECONDS [FILTER] | smoke [RUNS]" >&2
	exit 2
	;;
esac
exit "$bad"
