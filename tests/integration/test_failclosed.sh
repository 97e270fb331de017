#!/usr/bin/env bash
# test_failclosed.sh — nothing ever reaches the recipient unconverted:
#  - milter down: SMTP clients get 4xx, mail submitted locally stays in the
#    Postfix queue, and after a restart it is delivered converted;
#  - milter stopped in the middle of a stream of messages: every message
#    either got 250 and arrives converted, or got 4xx and arrives not at all;
#  - a conversion error (a limit; a header of encoded words left open)
#    tempfails with 451 4.3.0, or with
#    OnError reject rejects with 550 5.7.0, and is logged with the queue id.
. "$(dirname "$0")/lib.sh"
TZ_PORT_BASE=${TZ_PORT_BASE:-2545}
tz_init failclosed
tz_stack_start
tz_gen html-attach "$TZ_TMP/h.eml"

# --- milter down
tz_milter_stop
tz_assert "milter down: SMTP client gets 451" tz_send_expect 451 "$TZ_TMP/h.eml"
/usr/sbin/sendmail -C "$TZ_PF" -f sender@example.com user@city.example.lg.jp <"$TZ_TMP/h.eml"
sleep 3
tz_assert "milter down: nothing delivered" test "$(tz_captured_count)" -eq 0
tz_assert "milter down: local submission stays queued ($(tz_queue_count))" test "$(tz_queue_count)" -ge 1

# --- restart: the queued message is delivered converted
tz_milter_start
tz_postqueue -f
tz_assert "restart: queued message delivered" tz_wait_count 1 30
f=$(tz_captured | tail -1)
tz_assert "restart: it was converted" tz_check "$f" --text-only --no-grep ATTACHMENT-MARKER \
	--grep "会議資料を送付いたします"
tz_assert "restart: the sender's retry is accepted" tz_send_expect 250 "$TZ_TMP/h.eml"
tz_assert "restart: and delivered" tz_wait_count 2 30

# --- stop in the middle of a stream
for i in $(seq 1 20); do tz_gen simple "$TZ_TMP/m$i.eml" "$i"; done
: >"$TZ_TMP/replies"
(
	for i in $(seq 1 20); do
		tz_send "$TZ_TMP/m$i.eml" --to "user$i@city.example.lg.jp"
		echo "$i $(tz_last_reply)" >>"$TZ_TMP/replies"
		cp "$TZ_TMP/swaks.last" "$TZ_TMP/swaks.$i"
		sleep 0.2
	done
) &
sender=$!
while [ "$(wc -l <"$TZ_TMP/replies")" -lt 5 ]; do sleep 0.05; done
tz_milter_stop
sleep 1
tz_milter_start
wait $sender
ok=$(awk '$2 == 250' "$TZ_TMP/replies" | wc -l)
tf=$(awk '$2 ~ /^4/' "$TZ_TMP/replies" | wc -l)
tz_say "stream: $ok accepted, $tf tempfailed, $((20 - ok - tf)) other"
tz_assert "stream: every message got 250 or 4xx" test $((ok + tf)) -eq 20
tz_assert "stream: some were tempfailed while the milter was down" test "$tf" -ge 1
tz_assert "stream: accepted again after the restart" test "$(tail -1 "$TZ_TMP/replies" | cut -d' ' -f2)" = 250
tz_wait_count $((2 + ok)) 30
sleep 1
tz_assert "stream: delivered == accepted ($((2 + ok)))" test "$(tz_captured_count)" -eq $((2 + ok))
bad=0
for f in $(tz_captured); do
	tz_check "$f" --text-only --header "X-Textize: id=" >/dev/null 2>&1 || bad=$((bad + 1))
done
tz_assert "stream: every delivered message converted ($bad not)" test "$bad" -eq 0

# --- conversion error: tempfail, then OnError reject
before=$(tz_captured_count)
tz_milter_stop
tz_milter_conf "MaxParts 2"
tz_milter_start
tz_assert "limit: 451 4.3.0" tz_send_expect 451 "$TZ_TMP/h.eml"
tz_assert "limit: reply text is 4.3.0" grep -q '451 4.3.0' "$TZ_TMP/swaks.last"
tz_assert "limit: error logged with the queue id" tz_log_grep -q '^textize-milter: [0-9A-F]+: error: conversion:'
tz_assert "limit: summary says tempfail" tz_log_grep -q 'action=tempfail .*error='
tz_milter_stop
tz_milter_conf $'MaxParts 2\nOnError reject'
tz_milter_start
tz_assert "OnError reject: 550 5.7.0" tz_send_expect 550 "$TZ_TMP/h.eml"
tz_assert "OnError reject: reply text is 5.7.0" grep -q '550 5.7.0' "$TZ_TMP/swaks.last"

# --- a From of 3,000 encoded words left open (GMime's decoder is quadratic
# in them: 120,000 took 77 s) is refused like a limit, before the policy or
# the engine hands it to GMime (docs/security.md, "Bounded cost")
python3 - "$TZ_TMP/words.eml" <<'PY'
import sys
words = ["=?a?q?x"] * 3000
lines = [" ".join(words[i:i + 8]) for i in range(0, len(words), 8)]
m = ("From: " + "\r\n ".join(lines) + " <a@evil.example>\r\n"
     "To: user@city.example.lg.jp\r\nSubject: t\r\n\r\nhello\r\n")
open(sys.argv[1], "w").write(m)
PY
tz_milter_stop
tz_milter_conf ""
tz_milter_start
tz_assert "open encoded words: 451 4.3.0" tz_send_expect 451 "$TZ_TMP/words.eml"
tz_assert "open encoded words: the reason logged" tz_log_grep -q 'too many encoded words left open'
sleep 2
tz_assert "errors: nothing delivered" test "$(tz_captured_count)" -eq "$before"
tz_done
