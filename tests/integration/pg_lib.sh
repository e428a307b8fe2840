# pg_lib.sh — a throwaway PostgreSQL for a suite (MULTINODE.md §6.1). Source
# it after lib.sh, then call pg_start: a cluster in a scratch directory
# (pg_initdb) run as the postgres user (PostgreSQL refuses to run as root),
# fsync off, listening on 127.0.0.1 only, on the first free port of
# 19650-19669; stopped (pg_ctl, then its directory removed) by the suite's
# exit hook, also when a check failed. Sets PG_PORT and PG_CONNINFO (database crtoken, role crtoken,
# trust authentication: nothing listens beyond loopback).

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PGD=""
PG_PORT=""
PG_CONNINFO=""

# Run a PostgreSQL server program as the postgres user when we are root.
_pg_as() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_initdb DIR : a new cluster in DIR (initdb -A trust -U crtoken -E UTF8
# --locale=C, owned by the postgres user). initdb runs once per build dir
# and PostgreSQL version, into $BUILD/tests/pg-initdb; each cluster is a
# copy of that one (a never-started initdb output is a plain
# directory: the copy is the same cluster initdb would make again, in a
# fraction of its seconds). Suites side by side make it once (flock).
pg_initdb() {
	_pgi_c=$BUILD/tests/pg-initdb
	_pgi_key="$("$PGBIN/initdb" --version) -A trust -U crtoken -E UTF8 --locale=C"
	mkdir -p "$BUILD/tests" || return 1
	(
		flock 9 || exit 1
		[ -f "$_pgi_c/key" ] && [ "$(cat "$_pgi_c/key")" = "$_pgi_key" ] && exit 0
		rm -rf "$_pgi_c" "$_pgi_c.new"
		_pgi_w=$(mktemp -d "${TMPDIR:-/tmp}/crtoken-initdb.XXXXXX") || exit 1
		[ "$(id -u)" -eq 0 ] && chown postgres: "$_pgi_w"
		if ! _pg_as "$PGBIN/initdb" -D "$_pgi_w/data" -A trust -U crtoken -E UTF8 --locale=C \
			--no-sync >"$_pgi_w/initdb.log" 2>&1; then
			sed 's/^/#   /' "$_pgi_w/initdb.log" | tail -5
			rm -rf "$_pgi_w"
			exit 1
		fi
		mkdir "$_pgi_c.new" && cp -a "$_pgi_w/data" "$_pgi_c.new/data" &&
			echo "$_pgi_key" >"$_pgi_c.new/key" && mv "$_pgi_c.new" "$_pgi_c"
		_pgi_rc=$?
		rm -rf "$_pgi_w"
		exit $_pgi_rc
	) 9>"$BUILD/tests/pg-initdb.lock" || return 1
	cp -a "$_pgi_c/data" "$1"
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
	pg_initdb "$PGD/data" || return 1
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
