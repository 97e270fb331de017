#!/usr/bin/env bash
# test_crashpoints.sh — kill at every step of a commit, through the real
# Postfix and the real milter, on the segment store (StoreFormat segment):
# the milter runs with TZ_SEG_CRASH_STEP=N/2, so that step N of its third
# commit _exits (1 staged, 2 locked, 3 header written, 4 half the payload
# written, 5 written but not synced, 6 synced but not yet acknowledged).
# For each step: the milter dies there, the SMTP client has 250 for the
# two messages before and 451 for the rest; what the queue lists right
# after is complete (meta and original read back, authenticated) and every
# acknowledged message has its entry; after a restart (recovery: the torn
# tail cut off) the client's retries are accepted; at the end every
# message is delivered exactly once, converted, with its entry, `queue
# migrate` has nothing to do, and the audit chain is intact. (Step 6 may
# leave an entry for a message that was tempfailed and sent again: kept,
# never lost, as with the directory layout.)
# Ports: TZ_PORT_BASE (default 2870) .. +2.
. "$(dirname "$0")/lib.sh"
TZ_PORT_BASE=${TZ_PORT_BASE:-2870}
tz_init crashpoints
CTL=${TZ_CTL:-$TZ_BUILD/tools/textizectl}
[ -x "$CTL" ] || { tz_fail "no textizectl at $CTL"; tz_done; }
head -c 32 /dev/urandom >"$TZ_TMP/q.key"
chmod 0600 "$TZ_TMP/q.key"
tz_stack_start "StoreFormat segment
QuarantineKeyFile $TZ_TMP/q.key
ScannerSocket $TZ_TMP/no-clamd.sock"
ctl() { local group=$1; shift; "$CTL" "$group" -c "$TZ_TMP/textize.conf" "$@"; }

captured_ids() {
	for f in $(tz_captured); do
		sed -n 's/^X-Textize:.*id=\([0-9a-f-]*\).*/\1/p' "$f" | head -1
	done | sort -u
}
listed_ids() { ctl queue list --format json | python3 -c 'import json,sys; print("\n".join(sorted({x["id"] for x in json.load(sys.stdin)})))'; }
all_stored() { [ -z "$(comm -23 <(captured_ids) <(listed_ids))" ]; }
all_converted() {
	local f bad=0
	for f in $(tz_captured); do
		tz_check "$f" --text-only --header "X-Textize: id=" >/dev/null 2>&1 || bad=$((bad + 1))
	done
	[ "$bad" -eq 0 ]
}
# Every listed entry reads back: its metadata and its original (sealed:
# every chunk authenticated on the way).
all_complete() {
	local id bad=0
	for id in $(listed_ids); do
		ctl queue show "$id" --format json >/dev/null 2>&1 &&
		ctl queue export "$id" original --out "$TZ_TMP/x.eml" --force --operator crashtest \
			>/dev/null 2>&1 && [ -s "$TZ_TMP/x.eml" ] || bad=$((bad + 1))
		rm -f "$TZ_TMP/x.eml"
	done
	[ "$bad" -eq 0 ]
}
submit() { /usr/sbin/sendmail -C "$TZ_PF" -f sender@example.com user@city.example.lg.jp <"$1"; }

tz_gen html-attach "$TZ_TMP/w.eml"
tz_assert "warm-up message accepted" tz_send_expect 250 "$TZ_TMP/w.eml"
tz_wait_count 1 30
tz_assert "the entry is a record in store/, not a directory" \
	test -s "$TZ_QUARANTINE/store/00000001.tzs" -a -z "$(ls "$TZ_QUARANTINE/entries")"

total=1
for step in 1 2 3 4 5 6; do
	tz_milter_stop
	TZ_SEG_CRASH_STEP=$step/2 tz_milter_start || { tz_fail "step $step: milter start"; continue; }
	pid=$TZ_MILTER_PID
	acked=0
	pending=()
	# SMTP, one after the other: the first two are committed and
	# acknowledged, the third dies at the fault point (the client gets
	# 451: milter_default_action tempfail), the fourth finds no milter.
	for i in 1 2 3 4; do
		tz_gen html-attach "$TZ_TMP/s$step-$i.eml"
		tz_send "$TZ_TMP/s$step-$i.eml"
		if [ "$(tz_last_reply)" = 250 ]; then acked=$((acked + 1)); else pending+=("$TZ_TMP/s$step-$i.eml"); fi
	done
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	wait "$pid" 2>/dev/null
	rc=$?
	TZ_MILTER_PID=
	tz_assert "step $step: the milter died at the fault point (exit $rc)" test "$rc" -eq 9
	tz_assert "step $step: 2 acknowledged before it ($acked)" test "$acked" -eq 2
	total=$((total + acked))
	tz_wait_count "$total" 30
	tz_assert "step $step: every entry listed after the crash is complete" all_complete
	tz_assert "step $step: every acknowledged message has its entry" all_stored
	tz_assert "step $step: milter restarts (recovery)" tz_milter_start
	for f in "${pending[@]}"; do   # the client's retry
		tz_assert "step $step: retry accepted" tz_send_expect 250 "$f"
		total=$((total + 1))
	done
	tz_assert "step $step: all delivered" tz_wait_count "$total" 60
done
sleep 2
tz_assert "none delivered twice ($(tz_captured_count) for $total)" test "$(tz_captured_count)" -eq "$total"
tz_assert "every delivered message converted" all_converted
tz_assert "every delivered message has its entry" all_stored
tz_assert "every listed entry is complete" all_complete
tz_assert "queue migrate: nothing left to move" \
	sh -c "'$CTL' queue -c '$TZ_TMP/textize.conf' migrate | grep -q '^migrated 0 entries.*0 left'"
tz_assert "audit chain intact" sh -c "'$CTL' audit -c '$TZ_TMP/textize.conf' verify >/dev/null"
tz_done
