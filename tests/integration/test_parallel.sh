#!/usr/bin/env bash
# test_parallel.sh — 50 messages over 10 parallel SMTP sessions: every one
# arrives exactly once, converted, with its own Message-ID.
. "$(dirname "$0")/lib.sh"
TZ_PORT_BASE=${TZ_PORT_BASE:-2540}
tz_init parallel
tz_stack_start

for i in $(seq 1 50); do tz_gen simple "$TZ_TMP/m$i.eml" "$i"; done
# 10 senders, 5 messages each; each sender keeps one SMTP session per message
pids=()
for s in $(seq 0 9); do
	(
		for k in 1 2 3 4 5; do
			i=$((s * 5 + k))
			swaks --server "127.0.0.1:$TZ_SMTP_PORT" --from sender@example.com \
				--to "user$i@city.example.lg.jp" --data "$TZ_TMP/m$i.eml" \
				>"$TZ_TMP/swaks.$i" 2>&1 || echo "send $i failed" >>"$TZ_TMP/send-errors"
		done
	) &
	pids+=($!)
done
wait "${pids[@]}"
tz_assert "50 messages: every send accepted" test ! -s "$TZ_TMP/send-errors"
tz_assert "50 messages: 50 delivered" tz_wait_count 50 60
sleep 1
tz_assert "50 messages: no more than 50 delivered" test "$(tz_captured_count)" -eq 50
bad=0
for f in $(tz_captured); do
	tz_check "$f" --text-only --grep "会議資料を送付いたします" --header "X-Textize: id=" \
		>/dev/null 2>&1 || bad=$((bad + 1))
done
tz_assert "50 messages: all text/plain with the Japanese text ($bad bad)" test "$bad" -eq 0
ids=$(for f in $(tz_captured); do grep -m1 -i '^Message-ID:' "$f"; done | sort -u | wc -l)
tz_assert "50 messages: 50 distinct Message-IDs" test "$ids" -eq 50
tz_assert "50 messages: 50 summary lines" test "$(tz_log_grep -c 'action=textized')" -eq 50
tz_done
