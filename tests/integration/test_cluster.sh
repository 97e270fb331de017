#!/usr/bin/env bash
# test_cluster.sh — two gateways sharing one queue on PostgreSQL (issue 18,
# first slice; docs/cluster.md). The test starts its own PostgreSQL
# (initdb into the temp dir as the postgres user, unix socket only), two
# textize-milter + private Postfix pairs on loopback (A and B) and uses a
# third configuration for textizectl (host C). For this slice the gateways
# share one local QuarantineDir (the object-store backend is the next
# slice); everything else they share goes through the database: the index,
# the audit chain, the breaker and release claims. Each gateway has its own
# StateDir and ReportDatabase, so nothing passes through those files.
#
# Checked: the schema migrates from empty and from version N-1 and -n
# refuses an old schema; mail through both gateways is listed from A, B and
# C; the one audit chain verifies and stops verifying when a record is
# edited; an entry stored via A and released via A and B at the same time
# is delivered exactly once (one claim row); the rate counts are shared and
# BreakerTrip counts the senders over on all gateways (one over on B and
# one on A trip it) and a trip on A stops outbound mail on B; a sender
# blocked in the database is refused by both (and still by A while the
# database is down; B, restarted then, tempfails every sender); stale release
# claims (a lease, a holder, a state) are taken over as tz_pgclaim.h says; PostgreSQL stopped: both gateways
# tempfail inbound and outbound mail and nothing reaches the sink, and mail
# flows again when it is back. Ports TZ_PORT_BASE..+4 (A: SMTP base,
# sink +1, milter +2; B: SMTP +3, milter +4; PostgreSQL's socket +5).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"
TZ_PORT_BASE=${TZ_PORT_BASE:-3300}
tz_init cluster

CTL=${TZ_CTL:-$TZ_BUILD/tools/textizectl}
[ -x "$CTL" ] || { tz_fail "no textizectl at $CTL"; tz_done; }
SMTP_B=$((TZ_PORT_BASE + 3)) MILTER_B=$((TZ_PORT_BASE + 4)) PGPORT=$((TZ_PORT_BASE + 5))
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

tz_pg_setup "$PGPORT"

# ---- configurations: A, B (gateways) and C (a third host's textizectl) ----
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TZ_TMP/release.key"
chmod 600 "$TZ_TMP/release.key"
cat >"$TZ_TMP/capture-release" <<EOF
#!/bin/sh
# ReleaseCommand: keep each released mail as one file
cat >"\$(mktemp "$TZ_TMP/released/mail.XXXXXX")"
EOF
chmod 755 "$TZ_TMP/capture-release"
mkdir -p "$TZ_TMP/released"
SHARED="StoreBackend postgresql
DatabaseURL $URL
LocalDomains city.example.lg.jp
InternalNetworks 127.0.0.2/31 127.0.0.4/30
OutboundRateLimit 3/10m
RecipientRateLimit 0
BreakerTrip 2/1h
ReleaseKeyFile $TZ_TMP/release.key
ReleaseCommand $TZ_TMP/capture-release
ForceReleaseApprovals 1"
conf_for() {   # conf_for NAME SOCKET
	mkdir -p "$TZ_TMP/$1/spool" "$TZ_TMP/$1/state"
	cat <<EOF
Socket $2
SocketMode 0666
SpoolDir $TZ_TMP/$1/spool
QuarantineDir $TZ_QUARANTINE
ReportDatabase $TZ_TMP/$1/report.db
AuditLog $TZ_TMP/$1/audit.log
StateDir $TZ_TMP/$1/state
LogLevel debug
$([ "$(id -u)" -ne 0 ] || echo "UserID root")
$SHARED
EOF
}
CONF_A=$TZ_TMP/textize.conf CONF_B=$TZ_TMP/b.conf CONF_C=$TZ_TMP/c.conf
conf_for a "inet:$TZ_MILTER_PORT@127.0.0.1" >"$CONF_A"
conf_for b "inet:$MILTER_B@127.0.0.1" >"$CONF_B"
conf_for c "inet:$((TZ_PORT_BASE + 6))@127.0.0.1" >"$CONF_C"

# ---- schema: from empty, from N-1 ----
"$CTL" db status -c "$CONF_C" >"$TZ_TMP/db.out" 2>&1
tz_assert "db status on an empty database says version 0 and exits 1" \
	test $? -eq 1 -a "$(grep -c '^schema version 0 ' "$TZ_TMP/db.out")" -eq 1
NEWEST=$(sed -n 's/.*this textize needs \([0-9]*\).*/\1/p' "$TZ_TMP/db.out")
"$CTL" db migrate 1 -c "$CONF_C" >"$TZ_TMP/db.out" 2>&1
tz_assert "db migrate 1 (from empty)" grep -q 'from version 0 to 1' "$TZ_TMP/db.out"
"$TZ_MILTER" -n -c "$CONF_A" >"$TZ_TMP/n.out" 2>&1
tz_assert "-n refuses schema version 1, naming the fix" \
	test $? -ne 0 -a "$(grep -c 'DatabaseURL: database schema is version 1.*textizectl db migrate' "$TZ_TMP/n.out")" -eq 1
"$CTL" db migrate -c "$CONF_C" >"$TZ_TMP/db.out" 2>&1
tz_assert "db migrate (from version 1 to ${NEWEST:-?})" grep -q "from version 1 to $NEWEST" "$TZ_TMP/db.out"
"$CTL" db migrate -c "$CONF_C" >"$TZ_TMP/db.out" 2>&1
tz_assert "db migrate again: nothing to do" grep -q 'nothing to do' "$TZ_TMP/db.out"
versions() { [ "$(tz_psql "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_version")" = "$(seq -s, 1 "$NEWEST")" ]; }
tz_assert "schema_version has one row per migration" versions
tz_assert "-n connects and accepts the schema" "$TZ_MILTER" -n -c "$CONF_A"

# ---- the two gateways ----
tz_cluster_up
tz_pass "gateways A (smtp $TZ_SMTP_PORT) and B (smtp $SMTP_B) up"

tz_gen html-attach "$TZ_TMP/attach.eml"
tz_assert "inbound mail with attachments through A: 250" send_a 250 "$TZ_TMP/attach.eml"
tz_assert "inbound mail with attachments through B: 250" send_b 250 "$TZ_TMP/attach.eml"
tz_wait_count 2 || true

# ---- listed from either ----
rows() { "$CTL" queue list --format csv -c "$1" 2>/dev/null | awk -F, 'NR > 1 {print $2}' | tr -d '"'; }
ids() { rows "$1" | sort -u; }
ids "$CONF_C" >"$TZ_TMP/ids.c"
tz_assert "C lists both entries" test "$(wc -l <"$TZ_TMP/ids.c")" -eq 2
tz_assert "A lists the same entries as C" test "$(ids "$CONF_A")" = "$(cat "$TZ_TMP/ids.c")"
tz_assert "B lists the same entries as C" test "$(ids "$CONF_B")" = "$(cat "$TZ_TMP/ids.c")"
NPARTS=$(rows "$CONF_C" | wc -l)
tz_assert "the index rows are in PostgreSQL (2 entries, $NPARTS parts as listed)" \
	test "$(tz_psql 'SELECT count(*) FROM entries')/$(tz_psql 'SELECT count(*) FROM parts')" = "2/$NPARTS"
tz_assert "no gateway wrote its local ReportDatabase" test ! -s "$TZ_TMP/a/report.db" -a ! -s "$TZ_TMP/b/report.db"

# ---- one audit chain ----
"$CTL" audit verify -c "$CONF_C" >"$TZ_TMP/verify.out" 2>&1
tz_assert "audit verify from C: intact, both gateways' records ($(cat "$TZ_TMP/verify.out"))" \
	grep -q '^audit log intact: [2-9][0-9]* records' "$TZ_TMP/verify.out"
tz_assert "no gateway wrote its local AuditLog" test ! -s "$TZ_TMP/a/audit.log" -a ! -s "$TZ_TMP/b/audit.log"

# ---- stored via A, released via A and B at once: delivered once ----
ID=$(head -1 "$TZ_TMP/ids.c")
rel() { "$CTL" queue release "$ID" 1 --force --reason cluster-test --operator "$1" -c "$2"; }
rel alice "$CONF_A" >"$TZ_TMP/rel.a" 2>&1 & RA=$!
rel bob "$CONF_B" >"$TZ_TMP/rel.b" 2>&1 & RB=$!
wait $RA; ra=$?
wait $RB; rb=$?
tz_assert "concurrent release: one succeeds, one is refused (A $ra, B $rb)" \
	test $(( (ra == 0) + (rb == 0) )) -eq 1
sed 's/^/    | /' "$TZ_TMP/rel.a" "$TZ_TMP/rel.b" | head -6
released() { ls "$TZ_TMP/released" | wc -l; }
tz_assert "the part was delivered exactly once" test "$(released)" -eq 1
tz_assert "one release claim row for it" \
	test "$(tz_psql "SELECT count(*) FROM release_claims WHERE id = '$ID' AND part = 1")" = 1
rel carol "$CONF_C" >"$TZ_TMP/rel.c" 2>&1
tz_assert "released once more via C: refused as already released" \
	test $? -ne 0 -a "$(released)" -eq 1
# The entry lock refused B above (the gateways share QuarantineDir in this
# slice); a claim alone refuses too: another host's claim on part 2, as a
# gateway whose entry lock is not shared would have left it.
tz_psql "INSERT INTO release_claims(request, id, part, host) VALUES('first', '$ID', 2, 'gw-other')" >/dev/null
"$CTL" queue release "$ID" 2 --force --reason cluster-test --operator bob -c "$CONF_B" >"$TZ_TMP/rel.b2" 2>&1
tz_assert "a part another host claimed is not sent: refused, naming that host" \
	test $? -ne 0 -a "$(grep -c 'host=gw-other pid=0 state=claimed' "$TZ_TMP/rel.b2")" -eq 1 -a "$(released)" -eq 1

# ---- stale claims: a lease, a holder, a state (tz_pgclaim.h) ----
# Each case plants the claim a dead or live holder would have left on the
# first release of a fresh part, then releases that part via B.
tz_assert "two more entries via A for the claim cases" send_a 250 "$TZ_TMP/attach.eml"
tz_assert "(second)" send_a 250 "$TZ_TMP/attach.eml"
tz_wait_count 3 || true
PARTS=()   # "ID PART" of every part of the new entries
for id in $(ids "$CONF_C" | grep -vxF -f "$TZ_TMP/ids.c"); do
	for p in $(tz_psql "SELECT idx FROM parts WHERE id = '$id' ORDER BY idx"); do PARTS+=("$id $p"); done
done
tz_assert "the new entries have at least 6 parts (${#PARTS[@]})" test "${#PARTS[@]}" -ge 6
BOOT=$(cat /proc/sys/kernel/random/boot_id) HOST=$(hostname)
sh -c 'exit 0' & DEAD=$!; wait $DEAD   # a pid that no longer runs
plant() {   # plant "ID PART" STATE HOST PID BOOT IDLE_SECONDS
	set -- $1 "${@:2}"
	tz_psql "INSERT INTO release_claims(request, id, part, host, pid, boot_id, state, claimed_at, updated_at)
		 VALUES('first', '$1', $2, '$4', $5, '$6', '$3', now() - interval '$7 s', now() - interval '$7 s')" >/dev/null
}
relb() {   # relb "ID PART" [--reclaim]: release via B, output in rel.out
	set -- $1 "${@:2}"
	"$CTL" queue release "$1" "$2" --force --reason stale-claim --operator bob -c "$CONF_B" "${@:3}" >"$TZ_TMP/rel.out" 2>&1
}
state_of() { set -- $1; tz_psql "SELECT state || ' ' || host || ' ' || pid FROM release_claims WHERE id = '$1' AND part = $2"; }
audited() { set -- $1; tz_psql "SELECT count(*) FROM audit WHERE record LIKE '%\"event\":\"reclaimed\"%' AND record LIKE '%\"id\":\"$1\",\"part\":$2,%'"; }
n0=$(released)

P=${PARTS[0]}; plant "$P" claimed "$HOST" "$DEAD" "$BOOT" 5
relb "$P"
tz_assert "claimed by a process of this host that is gone: taken over at once and sent ($(head -1 "$TZ_TMP/rel.out"))" \
	test $? -eq 0 -a "$(released)" -eq $((n0 + 1))
st=$(state_of "$P")
tz_assert "the claim is now this run's and sent ($st)" test "${st% *}" = "sent $HOST" -a "${st##* }" != "$DEAD"
tz_assert "the takeover is audited 'reclaimed'" test "$(audited "$P")" -eq 1

P=${PARTS[1]}; plant "$P" claimed "$HOST" "$DEAD" "not-this-boot" 5
relb "$P"
tz_assert "claimed on this host before a reboot: taken over and sent" test $? -eq 0 -a "$(released)" -eq $((n0 + 2))

P=${PARTS[2]}; plant "$P" claimed gw-other 4242 x 60
relb "$P"
tz_assert "claimed by another host a minute ago: refused, the lease runs" \
	test $? -ne 0 -a "$(grep -c 'may still be at work' "$TZ_TMP/rel.out")" -eq 1 -a "$(released)" -eq $((n0 + 2))
tz_psql "UPDATE release_claims SET updated_at = now() - interval '901 s' WHERE id = '${P% *}' AND part = ${P#* }" >/dev/null
relb "$P"
tz_assert "the same claim past the lease (900 s): taken over and sent" \
	test $? -eq 0 -a "$(released)" -eq $((n0 + 3)) -a "$(audited "$P")" -eq 1

P=${PARTS[3]}; plant "$P" sending gw-other 4242 x 901
relb "$P"
tz_assert "'sending' past the lease: refused without --reclaim, naming it" \
	test $? -ne 0 -a "$(grep -c 'with --reclaim' "$TZ_TMP/rel.out")" -eq 1 -a "$(released)" -eq $((n0 + 3))
relb "$P" --reclaim
tz_assert "'sending' past the lease with --reclaim: taken over, sent once, audited" \
	test $? -eq 0 -a "$(released)" -eq $((n0 + 4)) -a "$(audited "$P")" -eq 1
relb "$P" --reclaim
tz_assert "and not sent again" test $? -ne 0 -a "$(released)" -eq $((n0 + 4))

P=${PARTS[4]}; plant "$P" sending gw-other 4242 x 30
relb "$P" --reclaim
tz_assert "'sending' within the lease: refused even with --reclaim" \
	test $? -ne 0 -a "$(grep -c 'may still be at work' "$TZ_TMP/rel.out")" -eq 1 -a "$(released)" -eq $((n0 + 4))

P=${PARTS[5]}; plant "$P" sent gw-other 4242 x 86400
relb "$P" --reclaim
tz_assert "'sent' (a day old): refused even with --reclaim" \
	test $? -ne 0 -a "$(grep -c 'it was sent for this request' "$TZ_TMP/rel.out")" -eq 1 -a "$(released)" -eq $((n0 + 4))

# ---- the daily report from the database ----
"$CTL" report daily --format json -c "$CONF_C" >"$TZ_TMP/report.json" 2>"$TZ_TMP/report.err"
tz_assert "report daily on postgresql ($(head -c 200 "$TZ_TMP/report.err"))" test $? -eq 0
rj() { /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($1)" "$TZ_TMP/report.json"; }
tz_assert "the report counts today's entries and parts from the tables" \
	test "$(rj "r['entries'], r['parts']")" = "$(tz_psql 'SELECT count(*) FROM entries') $(tz_psql 'SELECT count(*) FROM parts')"
tz_assert "and the releases from the audit table (those of both gateways)" test \
	"$(rj "[x['count'] for x in r['events'] if x['label'] == 'force_released'][0]")" = \
	"$(tz_psql "SELECT count(*) FROM audit WHERE record LIKE '%\"event\":\"released\"%' AND record LIKE '%FORCED%'")"
tz_assert "with no unreadable records" test "$(rj "r['unreadable_audit_records']")" = 0

# ---- the breaker, shared ----
printf 'From: a@city.example.lg.jp\r\nTo: someone@example.net\r\nSubject: out\r\n\r\nhello\r\n' >"$TZ_TMP/out.eml"
OUT=(--from user@city.example.lg.jp --to someone@example.net)
tz_assert "outbound 1/3 of 127.0.0.2 via A" send_a 250 "$TZ_TMP/out.eml" --local-interface 127.0.0.2 "${OUT[@]}"
tz_assert "outbound 2/3 of 127.0.0.2 via B" send_b 250 "$TZ_TMP/out.eml" --local-interface 127.0.0.2 "${OUT[@]}"
tz_assert "outbound 3/3 of 127.0.0.2 via A" send_a 250 "$TZ_TMP/out.eml" --local-interface 127.0.0.2 "${OUT[@]}"
tz_assert "4th via B is over the shared 3/10m: 451" \
	send_b 451 "$TZ_TMP/out.eml" --local-interface 127.0.0.2 "${OUT[@]}"
sleep 1
tz_assert "one sender over is not BreakerTrip 2: a fresh sender flows via A" \
	send_a 250 "$TZ_TMP/out.eml" --local-interface 127.0.0.4 "${OUT[@]}"
for i in 1 2 3; do
	tz_assert "outbound $i/3 of 127.0.0.3 via A" send_a 250 "$TZ_TMP/out.eml" --local-interface 127.0.0.3 "${OUT[@]}"
done
tz_assert "4th of 127.0.0.3 via A: 451, the second sender over across A and B: trips" \
	send_a 451 "$TZ_TMP/out.eml" --local-interface 127.0.0.3 "${OUT[@]}"
tz_assert "breaker_senders holds both senders" test "$(tz_psql 'SELECT count(*) FROM breaker_senders')" -eq 2
sleep 1   # the poll interval (TZ_BREAKER_POLL_MS) has passed on every gateway
tz_assert "tripped via A stops a fresh sender on B" send_b 451 "$TZ_TMP/out.eml" --local-interface 127.0.0.5 "${OUT[@]}"
"$CTL" breaker status -c "$CONF_C" >"$TZ_TMP/breaker.out" 2>&1
tz_assert "C's breaker status: TRIPPED" grep -q TRIPPED "$TZ_TMP/breaker.out"
tz_assert "inbound mail still flows via A" send_a 250 "$TZ_TMP/attach.eml"
tz_assert "breaker reset from C" "$CTL" breaker reset -c "$CONF_C"
sleep 1
tz_assert "outbound flows again on A after the reset" send_a 250 "$TZ_TMP/out.eml" --local-interface 127.0.0.5 "${OUT[@]}"
tz_assert "the reset cleared breaker_senders" test "$(tz_psql 'SELECT count(*) FROM breaker_senders')" -eq 0

# ---- the sender list, shared (sender_list; tz_senderlist_shared.h) ----
printf 'From: x@spammer.example\r\nTo: user@city.example.lg.jp\r\nSubject: plain\r\n\r\nhello\r\n' >"$TZ_TMP/plain.eml"
SPAM=(--from x@spammer.example) OKS=(--from friend@example.org)
tz_assert "before: a sender from spammer.example via A: 250" send_a 250 "$TZ_TMP/plain.eml" "${SPAM[@]}"
# from a third host, as the console would (both call tz_senders_add)
tz_assert "sender block from C" "$CTL" sender block spammer.example --operator carol --reason test -c "$CONF_C"
tz_assert "one row in sender_list, by carol" \
	test "$(tz_psql "SELECT kind || ' ' || pattern || ' ' || added_by FROM sender_list")" = "block spammer.example carol"
tz_assert "audited sender_blocked" test "$(tz_psql "SELECT count(*) FROM audit WHERE record LIKE '%\"event\":\"sender_blocked\"%'")" -eq 1
tz_assert "sender list from A shows it" sh -c "'$CTL' sender list -c '$CONF_A' | grep -qx 'block spammer.example'"
sleep 6   # the list's cache (TZ_SENDERLIST_SHARED_TTL_MS, 5 s)
tz_assert "blocked in the database: refused via A (550)" send_a 550 "$TZ_TMP/plain.eml" "${SPAM[@]}"
tz_assert "and via B (550)" send_b 550 "$TZ_TMP/plain.eml" "${SPAM[@]}"
tz_assert "another sender flows via B" send_b 250 "$TZ_TMP/plain.eml" "${OKS[@]}"

# ---- PostgreSQL down: both tempfail, nothing accepted; back: mail flows ----
tz_wait_count 4 || true
before=$(tz_captured_count)
tz_pg_stop
tz_pass "PostgreSQL stopped"
sleep 1
tz_assert "inbound via A tempfails while the database is down" send_a 451 "$TZ_TMP/attach.eml"
tz_assert "inbound via B tempfails while the database is down" send_b 451 "$TZ_TMP/attach.eml"
tz_assert "the blocked sender stays blocked via A (the last list read)" \
	send_a 550 "$TZ_TMP/plain.eml" "${SPAM[@]}"
tz_assert "outbound via B tempfails (breaker fails safe)" send_b 451 "$TZ_TMP/out.eml" --local-interface 127.0.0.6 "${OUT[@]}"
sleep 2
# a gateway (re)started while the database is down runs, and tempfails
kill -TERM "$B_PID"; wait "$B_PID" 2>/dev/null
"$TZ_MILTER" -f -c "$CONF_B" >>"$TZ_TMP/milter-b.log" 2>&1 &
B_PID=$!
TZ_PIDS+=("$B_PID")
tz_assert "B restarted while the database is down: it starts" tz_wait_port "$MILTER_B" 10
tz_assert "and tempfails inbound mail" send_b 451 "$TZ_TMP/attach.eml"
tz_assert "even a plain message of an unlisted sender: the sender list was never read (451)" \
	send_b 451 "$TZ_TMP/plain.eml" "${OKS[@]}"
tz_assert "nothing reached the sink while it was down" test "$(tz_captured_count)" -eq "$before"
"$TZ_MILTER" -n -c "$CONF_A" >"$TZ_TMP/n.out" 2>&1
tz_assert "-n fails: the database cannot be reached" \
	test $? -ne 0 -a "$(grep -c 'DatabaseURL: database: cannot connect' "$TZ_TMP/n.out")" -eq 1
tz_pg_start && tz_pass "PostgreSQL started again" || tz_fail "PostgreSQL did not restart"
sleep 6   # B retries the sender list after its cache interval
tz_assert "inbound via A flows again" send_a 250 "$TZ_TMP/attach.eml"
tz_assert "inbound via B flows again" send_b 250 "$TZ_TMP/attach.eml"
tz_assert "outbound via B flows again" send_b 250 "$TZ_TMP/out.eml" --local-interface 127.0.0.6 "${OUT[@]}"
tz_assert "B has read the list: the blocked sender refused (550)" send_b 550 "$TZ_TMP/plain.eml" "${SPAM[@]}"
"$CTL" audit verify -c "$CONF_C" >"$TZ_TMP/verify.out" 2>&1
tz_assert "audit chain still intact after the outage ($(cat "$TZ_TMP/verify.out"))" \
	grep -q '^audit log intact' "$TZ_TMP/verify.out"

# ---- an edited record breaks the chain ----
tz_psql "UPDATE audit SET record = replace(record, '\"operator\":\"milter\"', '\"operator\":\"mallory\"') WHERE seq = 1" >/dev/null
"$CTL" audit verify -c "$CONF_C" >"$TZ_TMP/verify.out" 2>&1
tz_assert "audit verify finds the edited record ($(cat "$TZ_TMP/verify.out"))" \
	grep -q 'BROKEN at line 1:' "$TZ_TMP/verify.out"

tz_done
