#!/usr/bin/env bash
# test_workflow.sh — the security team's view of what came in (issue 13),
# through a real Postfix and textize-milter on a Japanese gateway (TZ
# Asia/Tokyo):
#  - 13.7: Subject, From and file names written as raw UTF-8, raw
#    Shift_JIS and in encoded-words whose label lies about their bytes are
#    listed by `queue list` exactly as written (one decoding path);
#  - 13.3: `queue list --format csv`, read back with Python's csv module,
#    shows a formula-looking Subject/sender/file name as text (leading ');
#    the JSON has numbers for part/size and the SHA-256 of each part;
#  - 13.6: the 参照番号 in the notice the recipient gets is the one listed,
#    carries the local (JST) date, and `queue show/export` accept it and
#    "参照番号#N"; stored times are shown with their +09:00 offset;
#  - 13.2 through the CLI: a rejected part goes only with --force --reason
#    and another operator's approve (exit 75 until then), with the
#    Japanese warning on top, and not again without --again.
# Ports 3000-3002 by default (TZ_PORT_BASE).
set -u
. "$(dirname "$0")/lib.sh"
TZ_PORT_BASE=${TZ_PORT_BASE:-3000}
export TZ=Asia/Tokyo
tz_init workflow

CTL=${TZ_CTL:-$TZ_BUILD/tools/textizectl}
[ -x "$CTL" ] || { tz_fail "no textizectl at $CTL"; tz_done; }
[ -f /usr/share/zoneinfo/Asia/Tokyo ] || { tz_skip "no tzdata for Asia/Tokyo"; tz_done; }

# ---- messages: raw bytes, written by hand (no library re-encodes them) ----
python3 - "$TZ_TMP" <<'EOF'
import sys, base64, hashlib, json
d = sys.argv[1]
sj = lambda s: s.encode("cp932")
def mail(name, subject, frm, fname_header, data):
    body = (b"From: " + frm + b"\r\nTo: user@city.example.lg.jp\r\nSubject: " + subject +
            b"\r\nMessage-ID: <" + name.encode() + b"@example.com>\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=BB\r\n\r\n--BB\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n--BB\r\n"
            b"Content-Type: application/octet-stream\r\nContent-Disposition: attachment; " +
            fname_header + b"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
            base64.encodebytes(data).replace(b"\n", b"\r\n") + b"--BB--\r\n")
    open(d + "/" + name + ".eml", "wb").write(body)
    return hashlib.sha256(data).hexdigest()
want = {}
# raw UTF-8
want["u8"] = dict(subject="請求書 u8", frm="山田 太郎 <yamada@example.com>", fname="請求書.pdf",
    sha=mail("u8", "請求書 u8".encode(), "山田 太郎 <yamada@example.com>".encode(),
             'filename="請求書.pdf"'.encode(), b"%PDF-1.4 u8\n"))
# raw Shift_JIS
want["sj"] = dict(subject="見積書 sj", frm="鈴木 <suzuki@example.com>", fname="見積書.xlsx",
    sha=mail("sj", sj("見積書 sj"), sj("鈴木 <suzuki@example.com>"),
             b'filename="' + sj("見積書.xlsx") + b'"', b"PK\x03\x04 sj\n"))
# labels that lie: ISO-8859-1 over UTF-8 bytes, UTF-8 over Shift_JIS bytes
ew = lambda cs, b: b"=?" + cs + b"?B?" + base64.b64encode(b) + b"?="
want["lie"] = dict(subject="納品書 lie", frm="佐藤 <sato@example.com>", fname="納品書.docx",
    sha=mail("lie", ew(b"ISO-8859-1", "納品書 lie".encode()),
             ew(b"UTF-8", sj("佐藤")) + b" <sato@example.com>",
             b'filename="' + ew(b"ISO-8859-1", "納品書.docx".encode()) + b'"', b"PK\x03\x04 lie\n"))
# spreadsheet formulas
want["csv"] = dict(subject='=HYPERLINK("http://evil.example/","x")', frm="+cmd <attacker@example.com>",
    fname="@SUM(A1).txt",
    sha=mail("csv", b'=HYPERLINK("http://evil.example/","x")', b"+cmd <attacker@example.com>",
             b'filename="@SUM(A1).txt"', b"-2+3\n"))
json.dump(want, open(d + "/want.json", "w"), ensure_ascii=False)
EOF

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TZ_TMP/release.key"
chmod 600 "$TZ_TMP/release.key"
tz_stack_start "LocalDomains city.example.lg.jp
ReleaseKeyFile $TZ_TMP/release.key
ReleaseCommand /usr/sbin/sendmail -C $TZ_PF -oi -t
ReleaseFrom security@city.example.lg.jp"
for m in u8 sj lie; do
	tz_assert "$m: accepted" tz_send_expect 250 "$TZ_TMP/$m.eml"
done
# an envelope sender that looks like a formula, too ("=" is a valid atext)
TZ_FROM='=cmd@example.com' tz_assert "csv: accepted" tz_send_expect 250 "$TZ_TMP/csv.eml"
tz_assert "all four delivered (text-ized)" tz_wait_count 4

CONF=$TZ_TMP/textize.conf
ctl() { "$CTL" queue -c "$CONF" "$@"; }
ctl list --format json >"$TZ_TMP/list.json" 2>"$TZ_TMP/list.err"
ctl list --format csv >"$TZ_TMP/list.csv" 2>>"$TZ_TMP/list.err"

# ---- 13.7: one decoding path ----
check_field() {   # check_field KEY FIELD(subject|from|filename)
	python3 - "$TZ_TMP" "$1" "$2" <<'EOF'
import sys, json
d, key, field = sys.argv[1:]
want = json.load(open(d + "/want.json"))[key]
rows = json.load(open(d + "/list.json"))
col = {"subject": "subject", "from": "from", "filename": "filename"}[field]
w = {"subject": want["subject"], "filename": want["fname"]}.get(field)
if field == "from":
    # the listed "from" is the envelope sender; the decoded From header is in show
    sys.exit(0)
got = [r[col] for r in rows if r["sha256"] == want["sha"]]
if got != [w]:
    print("want %r, got %r" % (w, got), file=sys.stderr)
    sys.exit(1)
EOF
}
for m in u8 sj lie; do
	tz_assert "$m: queue list shows the Subject as written" check_field $m subject
	tz_assert "$m: queue list shows the file name as written" check_field $m filename
done
show_from() {   # show_from KEY: queue show of that entry has the decoded From
	local id want
	id=$(python3 -c 'import json,sys; w=json.load(open(sys.argv[1]+"/want.json"))[sys.argv[2]]; print([r["id"] for r in json.load(open(sys.argv[1]+"/list.json")) if r["sha256"]==w["sha"]][0])' "$TZ_TMP" "$1")
	want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]+"/want.json"))[sys.argv[2]]["frm"])' "$TZ_TMP" "$1")
	ctl show "$id" --format json | python3 -c 'import json,sys; m=json.load(sys.stdin); sys.exit(0 if m["message"]["from"]==sys.argv[1] else print("got %r" % m["message"]["from"]) or 1)' "$want"
}
for m in u8 sj lie; do
	tz_assert "$m: meta.json has the From header as written" show_from $m
done

# ---- 13.3: CSV a spreadsheet cannot evaluate, JSON with numbers ----
csv_safe() {
	/usr/bin/python3 - "$TZ_TMP" <<'EOF'
import sys, csv, json
d = sys.argv[1]
want = json.load(open(d + "/want.json"))["csv"]
rows = list(csv.DictReader(open(d + "/list.csv", encoding="utf-8-sig", newline="")))
bad = [(k, v) for r in rows for k, v in r.items() if v and v[0] in "=+-@\t\r"]
if bad:
    print("cells a spreadsheet evaluates:", bad, file=sys.stderr); sys.exit(1)
r = [r for r in rows if r["sha256"] == want["sha"]]
if len(r) != 1 or r[0]["subject"] != "'" + want["subject"] or r[0]["filename"] != "'" + want["fname"]:
    print("row:", r, file=sys.stderr); sys.exit(1)
if r[0]["from"] != "'=cmd@example.com":
    print("from:", r[0]["from"], file=sys.stderr); sys.exit(1)
# the other rows are untouched
u8 = json.load(open(d + "/want.json"))["u8"]
if [x["subject"] for x in rows if x["sha256"] == u8["sha"]] != [u8["subject"]]:
    print("u8 row changed", file=sys.stderr); sys.exit(1)
EOF
}
tz_assert "CSV read by Python's csv module: formula cells start with '" csv_safe
json_types() {
	python3 - "$TZ_TMP" <<'EOF'
import sys, json
d = sys.argv[1]
rows = json.load(open(d + "/list.json"))
want = json.load(open(d + "/want.json"))
ok = all(type(r["part"]) is int and type(r["size"]) is int for r in rows)
ok = ok and sorted(w["sha"] for w in want.values()) == sorted(r["sha256"] for r in rows if r["part"] > 0)
sys.exit(0 if ok and len(rows) == 4 else 1)
EOF
}
tz_assert "JSON: part and size are numbers, every part has its SHA-256" json_types

# ---- 13.6: the 参照番号 ----
REF=$(python3 -c 'import json,sys; w=json.load(open(sys.argv[1]+"/want.json"))["u8"]; print([r["ref"] for r in json.load(open(sys.argv[1]+"/list.json")) if r["sha256"]==w["sha"]][0])' "$TZ_TMP")
ID=$(python3 -c 'import json,sys; w=json.load(open(sys.argv[1]+"/want.json"))["u8"]; print([r["id"] for r in json.load(open(sys.argv[1]+"/list.json")) if r["sha256"]==w["sha"]][0])' "$TZ_TMP")
tz_say "参照番号 $REF for $ID"
tz_assert "参照番号 is MMDD-CODE with today's local (JST) date" \
	sh -c "echo '$REF' | grep -Eq '^$(date +%m%d)-[0-9A-HJKMNP-TV-Z]{4}\$'"
stored_jst() { python3 -c 'import json,sys; rows=json.load(open(sys.argv[1])); sys.exit(0 if rows and all(r["stored"].endswith("+09:00") for r in rows) else 1)' "$TZ_TMP/list.json"; }
tz_assert "queue list shows stored times in local time with +09:00" stored_jst
notice_has_ref() {
	local f
	for f in $(tz_captured); do
		tz_captured_body "$f" >"$TZ_TMP/n.eml"
		python3 - "$TZ_TMP/n.eml" "$REF" <<'EOF' && return 0
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
text = m.get_body(("plain",)).get_content()
sys.exit(0 if "yamada" in str(m.get("From", "")) and sys.argv[2] + "#1" in text else 1)
EOF
	done
	return 1
}
tz_assert "the notice the recipient reads quotes that 参照番号 (#1 for the part)" notice_has_ref
tz_assert "queue show accepts the 参照番号" sh -c "'$CTL' queue -c '$CONF' show '$REF' | grep -q '$ID'"
tz_assert "queue show accepts it typed in lower case" \
	sh -c "'$CTL' queue -c '$CONF' show \"\$(echo '$REF' | tr A-Z a-z)\" | grep -q '$ID'"
tz_assert "queue export accepts 参照番号#1" ctl export "$REF#1" --out "$TZ_TMP/exp.pdf" --operator alice
tz_assert "the export is the attachment" \
	sh -c "printf '%%PDF-1.4 u8\n' | cmp -s - '$TZ_TMP/exp.pdf'"
tz_assert "an unknown 参照番号 is refused" sh -c "! '$CTL' queue -c '$CONF' show 0101-ZZZZ 2>/dev/null"

# ---- 13.2 through the CLI: rejected part, --force --reason, approve ----
tz_assert "reject $REF#1" sh -c "'$CTL' queue reject '$REF#1' --operator alice --reason test -c '$CONF' | grep -q '^rejected part 1 (.*) of $REF'"
rc_of() { "$@" >"$TZ_TMP/rc.out" 2>&1; echo $?; }
tz_assert "release of the rejected part without --force: refused (exit 1)" \
	test "$(rc_of ctl release "$REF#1" --operator alice)" = 1
tz_assert "--force without --reason: refused" test "$(rc_of ctl release "$REF#1" --operator alice --force)" = 1
tz_assert "--force --reason: recorded, waits for approval (exit 75)" \
	test "$(rc_of ctl release "$REF#1" --operator alice --force --reason 'sender confirmed by phone')" = 75
tz_assert "queue show says who asked and what is missing" sh -c \
	"'$CTL' queue -c '$CONF' show '$REF' | grep -q 'forced release requested by alice'"
tz_assert "the requester cannot approve (exit 1)" test "$(rc_of ctl approve "$REF#1" --operator alice)" = 1
n0=$(tz_captured_count)
tz_assert "another operator approves: sent (exit 0)" sh -c "'$CTL' queue approve '$REF#1' --operator bob -c '$CONF' >'$TZ_TMP/approve.out'"
tz_assert "approve says what it sent" grep -q "^released part 1 (.*) of $REF ($ID) to the original recipients$" "$TZ_TMP/approve.out"
tz_assert "the forced release reaches the sink" tz_wait_count $((n0 + 1))
MSGID=$(sed -n 's/.*, Message-ID \(<[^>]*>\)$/\1/p' "$TZ_TMP/approve.out")
tz_assert "approve prints the Message-ID that Postfix logs with the queue id (${MSGID:-none})" \
	sh -c "[ -n '$MSGID' ] && grep -qiF 'Message-ID: $MSGID' '$(tz_captured | tail -1)' &&
	       grep -qiF 'message-id=$MSGID' '$TZ_PF/maillog'"
forced_warning() {
	tz_captured_body "$(tz_captured | tail -1)" >"$TZ_TMP/rel.eml"
	python3 - "$TZ_TMP/rel.eml" <<'PY'
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
sys.exit(0 if m.get_body(("plain",)).get_content().startswith("【注意】") else 1)
PY
}
tz_assert "the released mail starts with the Japanese warning" forced_warning
tz_assert "releasing it again needs --again (exit 1)" test "$(rc_of ctl release "$REF#1" --operator alice)" = 1
audit_steps() {
	grep -q '"event":"release_requested","operator":"alice"' "$TZ_TMP/audit.log" &&
		grep -q '"event":"approved","operator":"bob"' "$TZ_TMP/audit.log" &&
		grep -q 'FORCED' "$TZ_TMP/audit.log"
}
tz_assert "audit log: requested, approved, released FORCED" audit_steps
tz_done
