#!/usr/bin/env bash
# test_big.sh — a 20 MB message goes through with bounded memory: the body
# is spooled to an unlinked file in SpoolDir (summary says spool=disk), the
# milter's peak RSS stays far below the message size, and the recipient
# gets text only.
. "$(dirname "$0")/lib.sh"
TZ_PORT_BASE=${TZ_PORT_BASE:-2535}
tz_init big
tz_stack_start "SpoolMemoryLimit 1m"

tz_gen big "$TZ_TMP/big.eml" 20
size=$(stat -c %s "$TZ_TMP/big.eml")
tz_say "message size: $size bytes"
# Warm up on the same shape, 2 MB (also spooled to disk): what is loaded
# once — libmagic's database at the first sniffed attachment, the spool
# and store paths, thread stacks — must not count as growth. A plain-text
# warm-up left 6.5-8.1 MiB of those to the big message, at 2, 10, 20 or
# 40 MB alike; after this one the growth is 0.8-0.9 MiB at 20 and 40 MB.
tz_gen big "$TZ_TMP/warm.eml" 2
tz_send_expect 250 "$TZ_TMP/warm.eml"
tz_wait_count 1 30
hwm_before=$(tz_hwm_kb "$TZ_MILTER_PID")
tz_assert "20 MB: accepted with 250" tz_send_expect 250 "$TZ_TMP/big.eml"
tz_assert "20 MB: delivered" tz_wait_count 2 60
f=$(tz_captured | tail -1)
tz_assert "20 MB: text/plain only, no attachment bytes" \
	tz_check "$f" --text-only --grep "大きなファイルを添付します" --no-grep "ATTACHMENT-MARKER-BIG" \
	--grep "big.bin"
tz_assert "20 MB: delivered message is small ($(stat -c %s "$f") bytes)" test "$(stat -c %s "$f")" -lt 100000
tz_assert "20 MB: summary says spool=disk" tz_log_grep -q 'action=textized .*spool=disk'
hwm=$(tz_hwm_kb "$TZ_MILTER_PID")
tz_say "milter peak RSS: before ${hwm_before} KiB, after ${hwm} KiB"
# The message is 20 MiB (27 MiB raw with base64); after the warm-up the
# peak may grow by buffers, never by the message: 4 MiB is a fifth of it.
tz_assert "20 MB: milter peak RSS grew by less than 4 MiB ($(( hwm - hwm_before )) KiB)" \
	test $((hwm - hwm_before)) -lt 4096
tz_assert "20 MB: spool directory left empty" test -z "$(ls -A "$TZ_TMP/spool")"
n=$(tz_stored_entries)
tz_assert "20 MB: original kept in the quarantine" test "$n" -eq 2
tz_done
