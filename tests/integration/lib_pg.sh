# lib_pg.sh — a private PostgreSQL for the cluster tests (sourced after
# lib.sh and tz_init). initdb into $TZ_TMP/pg as the postgres user, unix
# socket only (listen_addresses ''), trust authentication, one database
# "textize". Sets PGDIR, PGPORT and URL (the DatabaseURL the gateways use);
# tz_pg_cleanup stops the server and belongs in the test's EXIT trap.
#
#   tz_pg_setup PORT   skip the test when the server binaries are missing,
#                      fail it when the server does not start
#   tz_pg_start / tz_pg_stop   start or stop the server (0 or not)
#   tz_psql SQL        one query, unaligned, tuples only

tz_pg() { su postgres -s /bin/sh -c "$*"; }
tz_pg_start() { tz_pg "'$PGBIN/pg_ctl' -D '$PGDIR/data' -w -l '$PGDIR/log' -o \"-k $PGDIR -p $PGPORT -c listen_addresses=''\" start" >/dev/null; }
tz_pg_stop() { tz_pg "'$PGBIN/pg_ctl' -D '$PGDIR/data' -w -m fast stop" >/dev/null; }
tz_psql() { psql -X -A -t -h "$PGDIR" -p "$PGPORT" -U postgres -d textize -c "$1"; }

tz_pg_cleanup() {
	[ -n "${PGDIR:-}" ] && [ -f "$PGDIR/data/postmaster.pid" ] && tz_pg_stop
	return 0
}

tz_pg_setup() {
	PGPORT=$1
	PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ] || ! id postgres >/dev/null 2>&1; then
		tz_skip "PostgreSQL server not installed (scripts/deps installs postgresql)"
		tz_done
	fi
	PGDIR=$TZ_TMP/pg
	URL="postgresql:///textize?host=$PGDIR&port=$PGPORT&user=postgres"
	mkdir -p "$PGDIR" && chown postgres "$PGDIR"
	if ! tz_pg "'$PGBIN/initdb' -D '$PGDIR/data' -A trust -U postgres" >"$TZ_TMP/initdb.log" 2>&1 ||
		! tz_pg_start || ! tz_pg "'$PGBIN/createdb' -h '$PGDIR' -p $PGPORT textize"; then
		tail -5 "$TZ_TMP/initdb.log" "$PGDIR/log" 2>/dev/null
		tz_fail "PostgreSQL did not start"
		tz_done
	fi
	tz_pass "PostgreSQL started ($PGBIN, socket $PGDIR/.s.PGSQL.$PGPORT)"
}
