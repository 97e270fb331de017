#!/usr/bin/env bash
# test_cluster_refs.sh — 参照番号 shared by a cluster's gateways (issue 18;
# docs/cluster.md "参照番号 across gateways"). Two gateways that share NO
# QuarantineDir (blobs in the shared PostgreSQL, as test_cluster_blobs_pg)
# and a third host's textizectl (C), one PostgreSQL started by the test.
#
# Checked: a code given by A is a row of table refs (none in any
# QuarantineDir/refs) and resolves via B and via C (show and export: the
# same entry, the original byte for byte); another tenant's code is "not
# found" for a tenant-limited textizectl; with the day's 4-character space
# filled in the table (all 32^4 codes but two, generate_series), mail sent
# through A and B at once gets distinct codes of 5 characters, each
# resolving on A and on B to its own entry, and the filler rows are
# untouched (a collision on every short draw, not luck); the refs table
# unreachable: A tempfails and no local code is made; PostgreSQL stopped:
# A and B tempfail, a code does not resolve; back: mail flows; purge
# removes the rows of past days and keeps today's. Ports TZ_PORT_BASE..+6
# (A: SMTP base, sink +1, milter +2; B: SMTP +3, milter +4; PostgreSQL's
# socket +5; C +6).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"
TZ_PORT_BASE=${TZ_PORT_BASE:-3420}
tz_init cluster-refs

CTL=${TZ_CTL:-$TZ_BUILD/tools/textizectl}
[ -x "$CTL" ] || { tz_fail "no textizectl at $CTL"; tz_done; }
SMTP_B=$((TZ_PORT_BASE + 3)) MILTER_B=$((TZ_PORT_BASE + 4))
PF_A=$TZ_PF PF_B=$TZ_TMP/postfix-b
B_PID= PF_B_STARTED=

cluster_cleanup() {
	local rc=$?
	[ -n "$PF_B_STARTED" ] && postfix -c "$PF_B" stop >/dev/null 2>&1
	tz_pg_cleanup
	TZ_PF=$PF_A
	(exit $rc)
	tz_cleanup
}
trap cluster_cleanup EXIT

tz_pg_setup $((TZ_PORT_BASE + 5))

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TZ_TMP/quarantine.key"
chmod 600 "$TZ_TMP/quarantine.key"
conf_for() {   # conf_for NAME SOCKET
	mkdir -p "$TZ_TMP/$1/spool" "$TZ_TMP/$1/state" "$TZ_TMP/$1/quarantine"
	cat <<EOF
Socket $2
SocketMode 0666
SpoolDir $TZ_TMP/$1/spool
QuarantineDir $TZ_TMP/$1/quarantine
QuarantineKeyFile $TZ_TMP/quarantine.key
ReportDatabase $TZ_TMP/$1/report.db
AuditLog $TZ_TMP/$1/audit.log
StateDir $TZ_TMP/$1/state
LogLevel debug
$([ "$(id -u)" -ne 0 ] || echo "UserID root")
StoreBackend postgresql
DatabaseURL $URL
BlobStore postgresql
LocalDomains city.example.lg.jp town.example.lg.jp

Tenant city
LocalDomains city.example.lg.jp

Tenant town
LocalDomains town.example.lg.jp
EOF
}
CONF_A=$TZ_TMP/textize.conf CONF_B=$TZ_TMP/b.conf CONF_C=$TZ_TMP/c.conf
conf_for a "inet:$TZ_MILTER_PORT@127.0.0.1" >"$CONF_A"
conf_for b "inet:$MILTER_B@127.0.0.1" >"$CONF_B"
conf_for c "inet:$((TZ_PORT_BASE + 6))@127.0.0.1" >"$CONF_C"
"$CTL" db migrate -c "$CONF_C" >"$TZ_TMP/db.out" 2>&1
tz_assert "db migrate makes table refs (migration 7)" \
	test "$(tz_psql "SELECT count(*) FROM information_schema.tables WHERE table_name = 'refs'")" = 1
tz_assert "-n accepts the schema" "$TZ_MILTER" -n -c "$CONF_A"

tz_cluster_up
tz_pass "gateways A and B up, each with its own QuarantineDir"

tz_gen html-attach "$TZ_TMP/attach.eml"
local_codes() { find "$TZ_TMP"/[abc]/quarantine -path '*/refs/*' -type f | wc -l; }

# ---- a code given by A resolves via B and C, same entry ----
tz_assert "mail with attachments through A: 250" send_a 250 "$TZ_TMP/attach.eml"
tz_wait_count 1 || true
ID=$(tz_psql "SELECT id FROM entries" | head -1)
REF=$(tz_psql "SELECT ref FROM entries WHERE id = '$ID'")
DAY=$(tz_psql "SELECT day FROM refs WHERE id = '$ID'")
tz_assert "A's entry $ID has a code ($REF)" test -n "$ID" -a -n "$REF"
tz_assert "the code is A's row of table refs (day $DAY)" \
	test "$(tz_psql "SELECT substr(day::text, 5) || '-' || code FROM refs WHERE id = '$ID'")" = "$REF"
tz_assert "no code was reserved in any QuarantineDir/refs" test "$(local_codes)" -eq 0
shown_id() {   # shown_id CODE CONF [TENANT]: the id textizectl shows for CODE
	"$CTL" queue show "$1" --format json -c "$2" ${3:+--tenant "$3"} 2>"$TZ_TMP/show.err" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])' 2>/dev/null
}
tz_assert "queue show $REF via B: entry $ID" test "$(shown_id "$REF" "$CONF_B")" = "$ID"
tz_assert "queue show $REF via C: entry $ID" test "$(shown_id "$REF" "$CONF_C")" = "$ID"
low=$(echo "$REF" | tr 'A-Z' 'a-z')
tz_assert "typed back in lower case via C ($low): entry $ID" test "$(shown_id "$low" "$CONF_C")" = "$ID"
"$CTL" queue export "$REF" original --out "$TZ_TMP/orig.c" --operator bob -c "$CONF_C" >"$TZ_TMP/export.c" 2>&1
tz_assert "queue export $REF original via C: the message as sent" \
	cmp -s -n "$(stat -c %s "$TZ_TMP/attach.eml")" "$TZ_TMP/attach.eml" "$TZ_TMP/orig.c"
"$CTL" queue export "$REF#1" --out "$TZ_TMP/part1.b" --operator bob -c "$CONF_B" >"$TZ_TMP/export.b" 2>&1
tz_assert "queue export $REF#1 via B: part 1" test -s "$TZ_TMP/part1.b"

# ---- tenant isolation: the city's code is not found for the town ----
"$CTL" queue show "$REF" -c "$CONF_C" --tenant town >"$TZ_TMP/town.out" 2>&1
tz_assert "the city's code via C --tenant town: not found" \
	test $? -ne 0 -a "$(grep -c 'not found' "$TZ_TMP/town.out")" -ge 1
tz_assert "via C --tenant city: entry $ID" test "$(shown_id "$REF" "$CONF_C" city)" = "$ID"

# ---- a real collision: the day's 4-character space full but two ----
tz_psql "INSERT INTO refs(day, code, id)
	SELECT $DAY, c, 'fill-' || c FROM (
	SELECT substr(a, (n >> 15) % 32 + 1, 1) || substr(a, (n >> 10) % 32 + 1, 1) ||
	       substr(a, (n >> 5) % 32 + 1, 1) || substr(a, n % 32 + 1, 1) AS c
	FROM generate_series(0, 32 * 32 * 32 * 32 - 1) AS n,
	     (SELECT '0123456789ABCDEFGHJKMNPQRSTVWXYZ'::text AS a) AS alphabet) AS codes
	ON CONFLICT DO NOTHING" >/dev/null
tz_psql "DELETE FROM refs WHERE day = $DAY AND code IN (SELECT code FROM refs WHERE day = $DAY
	AND id LIKE 'fill-%' ORDER BY code LIMIT 2)" >/dev/null
FILL=$(tz_psql "SELECT count(*) FROM refs WHERE day = $DAY AND id LIKE 'fill-%'")
tz_assert "the day's 4-character codes all taken but two ($FILL filler rows and A's)" \
	test "$(tz_psql "SELECT count(*) FROM refs WHERE day = $DAY AND length(code) = 4")" -eq $((32 ** 4 - 2))
N=4
send_bg() {   # send_bg PORT OUT: one message; its final reply code into OUT
	swaks --server "127.0.0.1:$1" --from sender@example.com --to user@city.example.lg.jp \
		--data "$TZ_TMP/attach.eml" --timeout 120 >"$2.log" 2>&1
	grep -E '^<[-~*]+ +[0-9]{3}[ -]' "$2.log" | grep -vE '^<[-~*]+ +221[ -]' | tail -1 |
		sed -E 's/^<[-~*]+ +([0-9]{3}).*/\1/' >"$2"
}
senders=()
for i in $(seq $N); do
	send_bg "$TZ_PORT_BASE" "$TZ_TMP/par.a$i" &
	senders+=($!)
	send_bg "$SMTP_B" "$TZ_TMP/par.b$i" &
	senders+=($!)
done
wait "${senders[@]}"   # only these: the milters and the sink are children too
tz_assert "$((2 * N)) messages through A and B at once: all 250" \
	test "$(cat "$TZ_TMP"/par.a[0-9] "$TZ_TMP"/par.b[0-9] 2>/dev/null | grep -c '^250$')" -eq $((2 * N))
tz_wait_count $((2 * N + 1)) || true
tz_psql "SELECT ref, id, gateway FROM entries WHERE id <> '$ID' ORDER BY ref" >"$TZ_TMP/new.refs"
tz_assert "$((2 * N)) new entries with $((2 * N)) distinct codes" \
	test "$(wc -l <"$TZ_TMP/new.refs")" -eq $((2 * N)) -a \
	"$(cut -d'|' -f1 "$TZ_TMP/new.refs" | sort -u | wc -l)" -eq $((2 * N))
# a draw may still hit one of the two free short codes (2 in 2^20 a draw)
tz_assert "codes of 5 characters: $(cut -d'|' -f1 "$TZ_TMP/new.refs" | tr '\n' ' ')" \
	test "$(cut -d'|' -f1 "$TZ_TMP/new.refs" | grep -c '^[0-9]\{4\}-[0-9A-Z]\{5\}$')" -ge $((2 * N - 2))
tz_assert "the filler rows are untouched" \
	test "$(tz_psql "SELECT count(*) FROM refs WHERE day = $DAY AND id LIKE 'fill-%'")" -eq "$FILL"
ok=0
while IFS='|' read -r code id _; do
	[ "$(shown_id "$code" "$CONF_A")" = "$id" ] && [ "$(shown_id "$code" "$CONF_B")" = "$id" ] && ok=$((ok + 1))
done <"$TZ_TMP/new.refs"
tz_assert "each new code resolves on A and on B to its own entry ($ok of $((2 * N)))" test "$ok" -eq $((2 * N))
tz_assert "still no code in any QuarantineDir/refs" test "$(local_codes)" -eq 0
tz_psql "DELETE FROM refs WHERE id LIKE 'fill-%'" >/dev/null

# ---- the registry unreachable: tempfail, never a local code ----
rows_before=$(tz_psql "SELECT count(*) FROM entries") before=$(tz_captured_count)
tz_psql "ALTER TABLE refs RENAME TO refs_away" >/dev/null
tz_assert "the refs table unreachable: inbound via A tempfails" send_a 451 "$TZ_TMP/attach.eml"
tz_assert "(A's log names the 参照番号 registry)" grep -q 'database: 参照番号' "$TZ_MILTER_LOG"
"$CTL" queue show "$REF" -c "$CONF_C" >"$TZ_TMP/away.out" 2>&1
rc=$?
tz_assert "a code does not resolve via C: exit 69 (unavailable), not 66 (no entry)" \
	test $rc -eq 69 -a "$(grep -c 'database: 参照番号' "$TZ_TMP/away.out")" -eq 1
tz_assert "no code was made in a QuarantineDir/refs instead" test "$(local_codes)" -eq 0
tz_assert "no entry added, nothing delivered" \
	test "$(tz_psql "SELECT count(*) FROM entries")" -eq "$rows_before" -a "$(tz_captured_count)" -eq "$before"
tz_psql "ALTER TABLE refs_away RENAME TO refs" >/dev/null
tz_assert "the table back: inbound via A flows (connected again)" send_a 250 "$TZ_TMP/attach.eml"
tz_pg_stop && tz_pass "PostgreSQL stopped" || tz_fail "PostgreSQL did not stop"
tz_assert "PostgreSQL stopped: inbound via A tempfails" send_a 451 "$TZ_TMP/attach.eml"
tz_assert "PostgreSQL stopped: inbound via B tempfails" send_b 451 "$TZ_TMP/attach.eml"
tz_assert "PostgreSQL stopped: no local code anywhere" test "$(local_codes)" -eq 0
"$CTL" queue show "$REF" -c "$CONF_C" >"$TZ_TMP/down.out" 2>&1
rc=$?
tz_assert "PostgreSQL stopped: a code does not resolve via C (exit $rc: $(head -1 "$TZ_TMP/down.out"))" \
	test $rc -ne 0 -a "$(grep -c 'database' "$TZ_TMP/down.out")" -ge 1
tz_pg_start && tz_pass "PostgreSQL back" || tz_fail "PostgreSQL did not start again"
# B's other connections (blob store, audit chain) were idle through the
# outage (the registry failed first): each is found broken at its BEGIN
# and opened again (tz_pg_begin), so the first message already flows.
tz_assert "PostgreSQL back: inbound via B flows at once (connections idle through the outage opened again)" \
	send_b 250 "$TZ_TMP/attach.eml"

# ---- purge: past days' rows go; today's stay (their entries may) ----
tz_psql "INSERT INTO refs(day, code, id) VALUES (20200101, 'AAAA', 'old-1'),
	($(date -d '-3 days' +%Y%m%d), 'AAAA', 'old-2')" >/dev/null
today=$(tz_psql "SELECT count(*) FROM refs WHERE day = $DAY")
"$CTL" queue purge --older-than 1 --operator erin -c "$CONF_B" >"$TZ_TMP/purge.out" 2>&1
tz_assert "purge via B ($(tr '\n' ' ' <"$TZ_TMP/purge.out"))" test $? -eq 0
tz_assert "the rows of past days are gone" test "$(tz_psql "SELECT count(*) FROM refs WHERE id LIKE 'old-%'")" -eq 0
tz_assert "today's $today rows stay" test "$(tz_psql "SELECT count(*) FROM refs WHERE day = $DAY")" -eq "$today"

# ---- TZ_REFS_MEASURE=N: a reservation's cost, table refs vs
# QuarantineDir/refs (bench/refs-reserve.c; figures only, no assertion) ----
if [ -n "${TZ_REFS_MEASURE:-}" ]; then
	if "$(dirname "$0")/../../bench/refs-reserve-run" "$TZ_BUILD" "$TZ_TMP/bench" "$URL" "$TZ_REFS_MEASURE" \
		>"$TZ_TMP/bench.out" 2>&1; then
		tz_say "measured: $(tail -1 "$TZ_TMP/bench.out")"
	else
		tail -5 "$TZ_TMP/bench.out"
		tz_say "bench/refs-reserve-run failed"
	fi
fi

tz_done
