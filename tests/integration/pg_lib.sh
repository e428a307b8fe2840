# pg_lib.sh — a throwaway PostgreSQL for a suite (MULTINODE.md §6.1). Source
# it after lib.sh, then call pg_start: initdb in a scratch directory as the
# postgres user (PostgreSQL refuses to run as root), fsync off, listening on
# 127.0.0.1 only, on the first free port of 19650-19669; stopped (pg_ctl,
# then its directory removed) by the suite's exit hook, also when a check
# failed. Sets PG_PORT and PG_CONNINFO (database crtoken, role crtoken,
# trust authentication: nothing listens beyond loopback).

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PGD=""
PG_PORT=""
PG_CONNINFO=""

# Run a PostgreSQL server program as the postgres user when we are root.
_pg_as() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_stop() {
	[ -n "$PGD" ] || return 0
	if [ -f "$PGD/data/postmaster.pid" ]; then
		_pg_as "$PGBIN/pg_ctl" -D "$PGD/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
			kill -9 "$(head -n 1 "$PGD/data/postmaster.pid")" 2>/dev/null
	fi
	rm -rf "$PGD"
	PGD=""
}

pg_start() {
	[ -x "$PGBIN/initdb" ] || { diag "no PostgreSQL server programs (postgresql package)"; return 1; }
	PGD=$(mktemp -d "${TMPDIR:-/tmp}/crtoken-pg.XXXXXX") || return 1
	at_exit pg_stop
	[ "$(id -u)" -eq 0 ] && chown postgres: "$PGD"
	_pg_as "$PGBIN/initdb" -D "$PGD/data" -A trust -U crtoken -E UTF8 --locale=C --no-sync \
		>"$PGD/initdb.log" 2>&1 || { sed 's/^/#   /' "$PGD/initdb.log" | tail -5; return 1; }
	_i=0
	while [ $_i -lt 20 ]; do
		_p=$((19650 + ($$ + _i) % 20))
		if _pg_as "$PGBIN/pg_ctl" -D "$PGD/data" -l "$PGD/pg.log" -w -t 30 -o \
			"-c listen_addresses=127.0.0.1 -p $_p -c unix_socket_directories=$PGD -c shared_buffers=32MB -c max_connections=100 -c fsync=off -c full_page_writes=off" \
			start >/dev/null 2>&1; then
			PG_PORT=$_p
			break
		fi
		_i=$((_i + 1))
	done
	[ -n "$PG_PORT" ] || { diag "PostgreSQL did not start"; tail -5 "$PGD/pg.log" | sed 's/^/#   /'; return 1; }
	psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U crtoken -d postgres -c 'CREATE DATABASE crtoken' \
		>/dev/null || return 1
	PG_CONNINFO="host=127.0.0.1 port=$PG_PORT user=crtoken dbname=crtoken"
	export PG_CONNINFO
}

# pg_sql SQL: run SQL on the crtoken database, unaligned tuples only.
pg_sql() {
	psql -X -At -h 127.0.0.1 -p "$PG_PORT" -U crtoken -d crtoken -c "$1"
}
