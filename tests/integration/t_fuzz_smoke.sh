#!/bin/sh
# t_fuzz_smoke.sh — every libFuzzer harness (tests/fuzz/) replays its seed
# corpus and runs 10,000 mutations without a crash, leak or failed property.
# The long runs are `make fuzz FUZZ_SECONDS=N` (see tests/fuzz/README.md).
# The harnesses are built by clang into build/fuzz/ whatever B is
# (CRTOKEN_FUZZ_BUILD overrides).
. "$(dirname "$0")/lib.sh"

FUZZ_B=${CRTOKEN_FUZZ_BUILD:-$TOP/build/fuzz}
for h in csr token config serial pam_opts json attest; do
	check "harness fuzz_$h is built" test -x "$FUZZ_B/bin/fuzz_$h"
done
# run.sh prints one TAP line per harness; renumber them into this suite.
FUZZ_B=$FUZZ_B "$TOP/tests/fuzz/run.sh" smoke 10000 >"$T/smoke.out" 2>&1
rc=$?
while IFS= read -r line; do
	case "$line" in
	"ok "*) ok "${line#ok * - }" ;;
	"not ok "*) not_ok "${line#not ok * - }" ;;
	"#"*) echo "$line" ;;
	esac
done <"$T/smoke.out"
check_eq "smoke run exit status" 0 "$rc"
finish
