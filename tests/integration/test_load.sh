#!/usr/bin/env bash
# test_load.sh — load through the real Postfix: TZ_LOAD_SESSIONS concurrent
# SMTP sessions (default 20) send TZ_LOAD_MESSAGES messages (default 500)
# of the three bench shapes (bench/gen-messages: 5 KB ISO-2022-JP text,
# 24 KB text+HTML, 376 KB HTML + two attachments), in two equal halves.
# `make loadtest` runs the long form: 200 sessions, 10,000 messages.
#
# Checks: every message accepted (250) and accounted for at the sink exactly
# once (by its X-Load-Seq), each text only with no attachment byte, each with
# its own quarantine entry (one entry per inbound message); the milter's
# open file descriptors are the same before and after; its RSS after the
# second half is not above its RSS after the first half by more than
# RSS_SLACK_MB (growth with message count would show there). The peak RSS
# (VmHWM) and the RSS after each half are printed. Ports 2810-2812.
. "$(dirname "$0")/lib.sh"
TZ_PORT_BASE=${TZ_PORT_BASE:-2810}
SESSIONS=${TZ_LOAD_SESSIONS:-20}
MESSAGES=${TZ_LOAD_MESSAGES:-500}
RSS_SLACK_MB=${TZ_LOAD_RSS_SLACK_MB:-48}
tz_init load
CTL=${TZ_CTL:-$TZ_BUILD/tools/textizectl}
[ -x "$CTL" ] || { tz_fail "no textizectl at $CTL"; tz_done; }
tz_sink_start || { tz_fail "smtp-sink did not start"; tz_done; }
# SPF off: the load must not depend on (or measure) the resolver
tz_milter_conf "SPFCheck no"
tz_milter_start || { tz_fail "textize-milter did not start"; tz_done; }
tz_postfix_start "default_process_limit = $((SESSIONS + 50))
smtpd_client_connection_count_limit = 0" || { tz_fail "postfix did not start"; tz_done; }
python3 "$TZ_TOP/bench/gen-messages" "$TZ_TMP/shapes" >/dev/null || { tz_fail "gen-messages failed"; tz_done; }
pid=$TZ_MILTER_PID
fds() { ls "/proc/$pid/fd" | wc -l; }

# warm-up: the store, index and audit log are open before "before" is taken
python3 "$TZ_IT_DIR/load-client.py" "$TZ_SMTP_PORT" 1 1 "$TZ_TMP/shapes" "$TZ_TMP/warm.txt" 0
tz_assert "warm-up delivered" tz_wait_count 1 60
sleep 1
fd_before=$(fds)

half=$((MESSAGES / 2))
run_half() {   # run_half FIRST COUNT DELIVERED_AFTER
	python3 "$TZ_IT_DIR/load-client.py" "$TZ_SMTP_PORT" "$SESSIONS" "$2" "$TZ_TMP/shapes" \
		"$TZ_TMP/replies.$1" "$1"
	tz_assert "$2 messages from $1: all accepted ($(grep -vc ' 250$' "$TZ_TMP/replies.$1") not)" \
		test "$(grep -c ' 250$' "$TZ_TMP/replies.$1")" -eq "$2"
	tz_assert "delivered: $3 at the sink" tz_wait_count "$3" $((60 + $2 / 5))
}
run_half 1 "$half" $((1 + half))
sleep 2
rss1=$(tz_rss_kb "$pid")
run_half $((1 + half)) $((MESSAGES - half)) $((1 + MESSAGES))
sleep 2
rss2=$(tz_rss_kb "$pid")
hwm=$(tz_hwm_kb "$pid")
tz_say "milter RSS: $((rss1 / 1024)) MB after $half messages, $((rss2 / 1024)) MB after $MESSAGES; peak $((hwm / 1024)) MB"
tz_assert "exactly $((1 + MESSAGES)) delivered" test "$(tz_captured_count)" -eq $((1 + MESSAGES))

# one pass over the sink: seqs, text-only, no attachment bytes, our header
python3 - "$TZ_SINK_DIR" "$MESSAGES" "$TZ_TMP/delivered-ids" >"$TZ_TMP/account.txt" <<'EOF'
import email, email.policy, os, re, sys
d, n, ids_out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
seqs, bad, ids = {}, [], []
for name in os.listdir(d):
    raw = open(os.path.join(d, name), "rb").read()
    m = email.message_from_bytes(raw, policy=email.policy.compat32)
    seq = m.get("X-Load-Seq")
    seqs[seq] = seqs.get(seq, 0) + 1
    xt = m.get("X-Textize") or ""
    mid = re.search(r"id=([0-9a-f-]+)", xt)
    if mid:
        ids.append(mid.group(1))
    if (m.is_multipart() or m.get_content_type() != "text/plain" or not mid
            or b"BENCH-ATTACHMENT-MARKER" in raw):
        bad.append(name)
    elif b"BENCH-ATTACHMENT-MARKER" in (m.get_payload(decode=True) or b""):
        bad.append(name)
want = {str(i) for i in range(1, n + 1)}
dups = sum(1 for s, c in seqs.items() if c > 1)
missing = len(want - set(seqs))
open(ids_out, "w").write("\n".join(sorted(set(ids))) + "\n")
print(missing, dups, len(bad))
EOF
read -r missing dups bad <"$TZ_TMP/account.txt"
tz_assert "every message at the sink: $missing missing" test "${missing:-1}" -eq 0
tz_assert "none twice: $dups duplicated" test "${dups:-1}" -eq 0
tz_assert "each text only, no attachment byte, X-Textize: $bad bad" test "${bad:-1}" -eq 0

"$CTL" queue -c "$TZ_TMP/textize.conf" list --format json 2>"$TZ_TMP/list.err" |
	python3 -c 'import json,sys; print("\n".join(sorted({x["id"] for x in json.load(sys.stdin)})))' \
	>"$TZ_TMP/listed-ids"
stored=$(tz_stored_entries)   # after the list: its catch-up is under test
tz_assert "one quarantine entry per message: $stored for $((1 + MESSAGES))" test "$stored" -eq $((1 + MESSAGES))
tz_assert "every delivered message's entry is listed" \
	test -z "$(comm -23 "$TZ_TMP/delivered-ids" "$TZ_TMP/listed-ids")"

# connections close asynchronously after the clients quit: poll, no timing
for _ in $(seq 100); do [ "$(fds)" -le "$fd_before" ] && break; sleep 0.1; done
tz_assert "milter fds before and after: $fd_before, $(fds)" test "$(fds)" -eq "$fd_before"
tz_assert "milter RSS does not grow with message count ($(printf '%+d' $(((rss2 - rss1) / 1024))) MB, slack $RSS_SLACK_MB)" \
	test $((rss2 - rss1)) -le $((RSS_SLACK_MB * 1024))
tz_assert "every message has its summary line" test "$(tz_log_grep -c 'action=textized')" -eq $((1 + MESSAGES))
tz_done
