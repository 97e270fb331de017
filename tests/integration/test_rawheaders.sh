#!/usr/bin/env bash
# test_rawheaders.sh — header hygiene through real Postfix (issue 12): raw
# bytes (bare CR, controls, raw Shift_JIS, a 1,500-octet line, Outlook's
# attachment signal) are sent by rawsend.py, which rewrites no line end as
# swaks would; what the next hop receives has no control byte in its
# header, no line over 998 octets, only UTF-8/7-bit, no X-MS-Has-Attach,
# the same sender fields as `textizectl convert` writes for the same bytes,
# and the summary line counts the fields fixed. Raw ISO-2022-JP fields
# arrive decoded, every address kept.
. "$(dirname "$0")/lib.sh"
TZ_PORT_BASE=${TZ_PORT_BASE:-2960}
tz_init rawheaders
# As for a client on the Internet: no header address rewriting. For a local
# client (127.0.0.1 here) Postfix rewrites the addresses of From/To/Cc
# before the milter sees them, and reads raw JIS as addresses to qualify
# ("\e$B"@gw.tz-test.example;, ...).
tz_sink_start || { tz_fail "smtp-sink did not start"; tz_done; }
tz_milter_conf ""
tz_milter_start || { tz_fail "textize-milter did not start"; tz_done; }
tz_postfix_start "local_header_rewrite_clients =" || { tz_fail "postfix did not start"; tz_done; }

raw=$TZ_TMP/raw.eml
/usr/bin/python3 - "$raw" <<'PY'
import sys
long = b" ".join([b"word"] * 300)
m = (b"From: Yamada \x01Taro <yamada@example.com>\r\n"
     b"To: user@city.example.lg.jp\r\n"
     b"Subject: \x90\xbf\x8b\x81\x8f\x91 bad\rX-Injected: yes\r\n"
     b"X-MS-Has-Attach: yes\r\n"
     b"X-Long: " + long + b"\r\n"
     b"Message-ID: <raw-1@example.com>\r\n"
     b"MIME-Version: 1.0\r\n"
     b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
     b"hello from the raw sender\r\n")
open(sys.argv[1], "wb").write(m)
PY
tz_assert "raw bytes accepted with 250" \
	/usr/bin/python3 "$TZ_IT_DIR/rawsend.py" "$TZ_SMTP_PORT" sender@example.com user@city.example.lg.jp "$raw"
tz_assert "delivered" tz_wait_count 1 30
f=$(tz_captured | tail -1)
tz_captured_body "$f" >"$TZ_TMP/got.eml"
TZ_CTL=${TZ_CTL:-$TZ_BUILD/tools/textizectl}
"$TZ_CTL" convert "$raw" >"$TZ_TMP/convert.eml" 2>"$TZ_TMP/convert.err"
tz_assert "next hop: header clean, same sender fields as convert" /usr/bin/python3 - "$TZ_TMP/got.eml" "$TZ_TMP/convert.eml" <<'PY'
import sys
got = open(sys.argv[1], "rb").read()
conv = open(sys.argv[2], "rb").read()
def head(b):
    return b.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
h = head(got)
bad = [c for c in h if (c < 0x20 and c not in (9, 10)) or c == 0x7f]
assert not bad, "control bytes in header: %r" % bad[:5]
h.decode("utf-8")   # raises on bytes that are not UTF-8
for line in h.split(b"\n"):
    assert len(line) <= 998, "line of %d octets" % len(line)
assert b"X-MS-Has-Attach" not in h, "X-MS-Has-Attach passed"
assert b"\nX-Injected" not in h, "bare CR started a header"
def fields(hb, names):
    out, cur = {}, None
    for line in hb.split(b"\n"):
        if line[:1] in (b" ", b"\t") and cur:
            out[cur] += b"\n" + line
            continue
        name = line.split(b":", 1)[0].lower()
        cur = name if name in names else None
        if cur and cur not in out:
            out[cur] = line
    return out
names = {b"from", b"subject", b"x-long", b"message-id"}
a, b = fields(h, names), fields(head(conv), names)
for n in sorted(names):
    assert a.get(n) == b.get(n), "%s differs:\n milter:  %r\n convert: %r" % (n, a.get(n), b.get(n))
assert b"=?UTF-8?B?" in a[b"subject"], "Subject not re-encoded: %r" % a[b"subject"]
print("ok")
PY
tz_assert "summary line counts the fixed fields" tz_log_grep -qE 'action=textized .* hdrfix=[1-9]'
tz_assert "body is text with the notice" tz_check "$f" --text-only --grep "hello from the raw sender"

# Raw ISO-2022-JP fields, as old Japanese mailers write them (山田 is JIS
# ";3ED", 宛先 "08@h", こんにちは "$3$s$K$A$O"): the next hop gets them
# decoded and encoded, every address kept (before stop 32: From "$B: ;",
# To and Cc dropped).
jis=$TZ_TMP/jis.eml
/usr/bin/python3 - "$jis" <<'PY'
import sys
m = (b"From: \x1b$B;3ED\x1b(B <yamada@example.com>\r\n"
     b"To: \x1b$B08@h\x1b(B <user@city.example.lg.jp>\r\n"
     b"Cc: \x1b$B08@h\x1b(B2 <other@city.example.lg.jp>, \x1b$B;3ED\x1b(B <third@example.com>\r\n"
     b"Subject: \x1b$B$3$s$K$A$O\x1b(B test\r\n"
     b"Message-ID: <raw-jis@example.com>\r\n"
     b"MIME-Version: 1.0\r\n"
     b"Content-Type: text/plain; charset=iso-2022-jp\r\n\r\n"
     b"\x1b$B$3$s$K$A$O\x1b(B\r\n")
open(sys.argv[1], "wb").write(m)
PY
tz_assert "raw JIS: accepted with 250" \
	/usr/bin/python3 "$TZ_IT_DIR/rawsend.py" "$TZ_SMTP_PORT" sender@example.com user@city.example.lg.jp "$jis"
tz_assert "raw JIS: delivered" tz_wait_count 2 30
f=$(tz_captured | tail -1)
tz_captured_body "$f" >"$TZ_TMP/got-jis.eml"
tz_assert "raw JIS: next hop reads the names, the addresses and the Subject" /usr/bin/python3 - "$TZ_TMP/got-jis.eml" <<'PY'
import sys, email, email.policy, email.header, email.utils
raw = open(sys.argv[1], "rb").read()
h = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
assert b"\x1b" not in h, "an escape byte in the header"
m = email.message_from_bytes(raw, policy=email.policy.default)
def boxes(name):
    return [(a.display_name, a.addr_spec) for a in m[name].addresses]
assert boxes("From") == [("山田", "yamada@example.com")], boxes("From")
assert boxes("To") == [("宛先", "user@city.example.lg.jp")], boxes("To")
assert boxes("Cc") == [("宛先2", "other@city.example.lg.jp"), ("山田", "third@example.com")], boxes("Cc")
assert str(m["Subject"]) == "こんにちは test", str(m["Subject"])
print("ok")
PY
tz_done
