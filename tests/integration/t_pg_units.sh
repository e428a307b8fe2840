#!/bin/sh
# t_pg_units.sh — the backend-neutral cmocka suites, run against a real
# PostgreSQL that this suite starts (pg_lib.sh) and stops: every instance a
# test makes gets a schema of its own on that server (testutil.h,
# CRTOKEN_TEST_BACKEND=postgresql). Skipped (one ok line saying so) in a
# build without libpq.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"

# The suites that pass on PostgreSQL as they are (the others read or write
# the SQLite file directly; see issue 11).
PG_SUITES=${PG_SUITES:-"test_otp test_fault_otp test_cert test_race test_events test_attest test_fault_copy test_seen test_fault_events test_preview test_staleness test_certprofile test_cas test_renew test_fault_renew test_import test_request test_fault_request test_fault_import test_apikey test_selfservice test_fault_pkcs12 test_token_store test_store_paging test_fault_bulk test_attack_pkcs12"}

if ! pkg-config --exists libpq; then
	ok "# SKIP built without libpq"
	finish
fi
if ! pg_start; then
	not_ok "a throwaway PostgreSQL starts"
	finish
fi
ok "a throwaway PostgreSQL on 127.0.0.1:$PG_PORT"

for s in $PG_SUITES; do
	bin=$BUILD/tests/unit/$s
	if [ ! -x "$bin" ]; then
		not_ok "$s on PostgreSQL (not built)"
		continue
	fi
	start=$(date +%s)
	if CRTOKEN_TEST_BACKEND=postgresql CRTOKEN_TEST_CONNINFO="$PG_CONNINFO" \
		CMOCKA_MESSAGE_OUTPUT=TAP "$bin" >"$T/$s.out" 2>&1; then
		ok "$s on PostgreSQL: $(grep -c '^ok ' "$T/$s.out") tests ($(($(date +%s) - start))s)"
	else
		not_ok "$s on PostgreSQL"
		grep -E '^not ok|error|Error' "$T/$s.out" | head -20 | sed 's/^/#   /'
		tail -n 15 "$T/$s.out" | sed 's/^/#   /'
	fi
done
finish
