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
#   tz_cluster_up      smtp-sink, gateway A (lib.sh's milter and Postfix)
#                      and gateway B (textize-milter -c $CONF_B on $MILTER_B,
#                      Postfix in $PF_B on $SMTP_B; B_PID); fails the test
#                      when one does not start. send_a / send_b send
#                      through A / B (tz_send_expect's arguments)

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

tz_cluster_up() {
	tz_sink_start || { tz_fail "smtp-sink did not start"; tz_done; }
	tz_milter_start || { tz_fail "gateway A's milter did not start"; tz_done; }
	tz_postfix_start || { tz_fail "gateway A's postfix did not start"; tz_done; }
	"$TZ_MILTER" -f -c "$CONF_B" >>"$TZ_TMP/milter-b.log" 2>&1 &
	B_PID=$!
	TZ_PIDS+=("$B_PID")
	tz_wait_port "$MILTER_B" 10 || { tz_fail "gateway B's milter did not start"; tail -5 "$TZ_TMP/milter-b.log"; tz_done; }
	# lib.sh's postfix helper with B's ports and directory
	TZ_PF=$PF_B TZ_SMTP_PORT=$SMTP_B TZ_MILTER_PORT=$MILTER_B TZ_MILTER_SOCKET=inet:$MILTER_B@127.0.0.1 \
		tz_postfix_start || { tz_fail "gateway B's postfix did not start"; tz_done; }
	TZ_PF_STARTED=1 PF_B_STARTED=1
}
send_a() { TZ_SMTP_PORT=$TZ_PORT_BASE tz_send_expect "$@"; }
send_b() { TZ_SMTP_PORT=$SMTP_B tz_send_expect "$@"; }
