#!/usr/bin/env bash
# test_textize.sh — inbound mail through a real Postfix comes out as one
# text/plain message: Japanese HTML with PDF + XLSX, ISO-2022-JP plain, a
# nested forwarded message. Threading headers survive byte for byte, no
# attachment byte reaches the recipient, the originals are in the
# quarantine. An internal client's (outbound) mail passes untouched.
. "$(dirname "$0")/lib.sh"
TZ_PORT_BASE=${TZ_PORT_BASE:-2530}
tz_init textize
tz_stack_start "InternalNetworks 127.0.0.2/32"

for kind in html-attach iso2022jp nested; do
	tz_gen $kind "$TZ_TMP/$kind.eml"
done

# --- Japanese HTML + PDF + XLSX
tz_assert "html+pdf+xlsx: accepted with 250" tz_send_expect 250 "$TZ_TMP/html-attach.eml"
tz_assert "html+pdf+xlsx: delivered" tz_wait_count 1
f=$(tz_captured | tail -1)
tz_assert "html+pdf+xlsx: text/plain only, Japanese readable, no attachment bytes" \
	tz_check "$f" --text-only --grep "会議資料を送付いたします" --grep "資料.pdf" \
	--grep "予算.xlsx" --no-grep "ATTACHMENT-MARKER" --no-grep "JVBERi0" --no-grep "<script" \
	--header "X-Textize: id="
tz_assert "html+pdf+xlsx: threading headers byte-identical" \
	tz_check "$f" --same-header Message-ID "$TZ_TMP/html-attach.eml" \
	--same-header In-Reply-To "$TZ_TMP/html-attach.eml" \
	--same-header References "$TZ_TMP/html-attach.eml" \
	--same-header Subject "$TZ_TMP/html-attach.eml"

# --- ISO-2022-JP
tz_assert "iso-2022-jp: accepted" tz_send_expect 250 "$TZ_TMP/iso2022jp.eml"
tz_assert "iso-2022-jp: delivered" tz_wait_count 2
f=$(tz_captured | tail -1)
tz_assert "iso-2022-jp: text/plain, Japanese readable" \
	tz_check "$f" --text-only --grep "市役所からのお知らせです" --same-header Message-ID "$TZ_TMP/iso2022jp.eml"

# --- nested forwarded message
tz_assert "nested: accepted" tz_send_expect 250 "$TZ_TMP/nested.eml"
tz_assert "nested: delivered" tz_wait_count 3
f=$(tz_captured | tail -1)
tz_assert "nested: text/plain only, no inner attachment" \
	tz_check "$f" --text-only --grep "以下のメールを転送します" --no-grep "ATTACHMENT-MARKER-INNER" \
	--same-header References "$TZ_TMP/nested.eml"

# --- the originals went to the quarantine, never to the recipient
n=$(tz_stored_entries)
tz_assert "quarantine holds 3 entries (found $n)" test "$n" -eq 3

# --- one summary line per message, starting with the queue id
tz_assert "summary lines: 3 inbound textized with queue ids" \
	test "$(tz_log_grep -c '^textize-milter: [0-9A-F]+: inbound client=.* action=textized ')" -eq 3

# --- outbound (client in InternalNetworks) passes unchanged
tz_assert "outbound: accepted" tz_send_expect 250 "$TZ_TMP/html-attach.eml" --local-interface 127.0.0.2
tz_assert "outbound: delivered" tz_wait_count 4
f=$(tz_captured | tail -1)
tz_assert "outbound: still multipart with its attachments" \
	bash -c "grep -q 'multipart/mixed' '$f' && ! grep -q '^X-Textize:' '$f'"
tz_assert "outbound: summary says passed" tz_log_grep -q 'outbound client=.*action=passed'
tz_done
