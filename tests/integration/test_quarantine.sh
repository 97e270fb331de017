#!/usr/bin/env bash
# test_quarantine.sh — the sanitization queue end to end (issue 9): mail
# with an EICAR attachment and mail with a clean PDF go in through Postfix
# and textize-milter; every attachment is listed by `textizectl queue
# list`, exported byte-identical, scanned by a real clamd (Debian's
# clamav-daemon with a one-line .hdb database this test writes: no download),
# the PDF is released to the capture sink, the audit log verifies and stops
# verifying when a record is edited, the report's CSV reads as a table, and
# the HTML report renders in headless
# Chromium. Ports 2700-2799.
set -u
. "$(dirname "$0")/lib.sh"
TZ_PORT_BASE=${TZ_PORT_BASE:-2700}
tz_init quarantine

CTL=${TZ_CTL:-$TZ_BUILD/tools/textizectl}
[ -x "$CTL" ] || { tz_fail "no textizectl at $CTL"; tz_done; }
CLAMD=$(command -v clamd || echo /usr/sbin/clamd)
[ -x "$CLAMD" ] || { tz_skip "clamd not installed (scripts/deps installs clamav-daemon)"; tz_done; }

EICAR='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'

# ---- keys (hex, 0600) ----
for k in quarantine audit release; do
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TZ_TMP/$k.key"
	chmod 600 "$TZ_TMP/$k.key"
done

# ---- clamd with a local signature database ----
start_clamd() {
	mkdir -p "$TZ_TMP/clamdb"
	printf '%s:%s:Textize.Test.EICAR\n' \
		"$(printf '%s' "$EICAR" | md5sum | cut -d' ' -f1)" "$(printf '%s' "$EICAR" | wc -c)" \
		>"$TZ_TMP/clamdb/local.hdb"
	cat >"$TZ_TMP/clamd.conf" <<EOF
Foreground yes
LocalSocket $TZ_TMP/clamd.sock
DatabaseDirectory $TZ_TMP/clamdb
TemporaryDirectory $TZ_TMP
LogFile $TZ_TMP/clamd.log
StreamMaxLength 100M
EOF
	"$CLAMD" -c "$TZ_TMP/clamd.conf" >>"$TZ_TMP/clamd.out" 2>&1 &
	CLAMD_PID=$!
	TZ_PIDS+=("$CLAMD_PID")
	for _ in $(seq 600); do
		[ -S "$TZ_TMP/clamd.sock" ] && return 0
		kill -0 "$CLAMD_PID" 2>/dev/null || break
		sleep 0.1
	done
	tail -5 "$TZ_TMP/clamd.out" "$TZ_TMP/clamd.log" >&2
	return 1
}
if ! start_clamd; then
	tz_fail "clamd did not start"
	tz_done
fi
tz_pass "clamd started with a local .hdb database"

# ---- messages ----
python3 - "$TZ_TMP" "$EICAR" <<'EOF'
import sys, email.message, email.policy
d, eicar = sys.argv[1], sys.argv[2]
pdf = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")
open(d + "/clean.pdf", "wb").write(pdf)
def mail(name, subject, data, ctype, fname):
    m = email.message.EmailMessage(policy=email.policy.SMTP)
    m["From"] = "sender@example.com"
    m["To"] = "user@city.example.lg.jp"
    m["Subject"] = subject
    m["Message-ID"] = "<%s@example.com>" % name
    m.set_content("本文です。\n")
    maintype, subtype = ctype.split("/")
    m.add_attachment(data, maintype=maintype, subtype=subtype, filename=fname)
    open(d + "/" + name + ".eml", "wb").write(bytes(m))
mail("eicar", "ウイルス入り", eicar.encode(), "application/octet-stream", "eicar.com")
mail("pdf", "見積書", pdf, "application/pdf", "見積書.pdf")
mail("eicar2", "clamd down", eicar.encode(), "application/octet-stream", "again.com")
EOF

# ---- the stack ----
EXTRA="LocalDomains city.example.lg.jp
QuarantineKeyFile $TZ_TMP/quarantine.key
AuditLog $TZ_TMP/audit.log
AuditKeyFile $TZ_TMP/audit.key
ScannerSocket $TZ_TMP/clamd.sock
ScannerTimeout 30s
ReleaseKeyFile $TZ_TMP/release.key
ReleaseCommand /usr/sbin/sendmail -C $TZ_PF -oi -t
ReleaseFrom security@city.example.lg.jp"
CONF=$TZ_TMP/textize.conf
ctl() { "$CTL" "$1" -c "$CONF" "${@:2}"; }
tz_stack_start "$EXTRA"
tz_assert "EICAR mail accepted" tz_send_expect 250 "$TZ_TMP/eicar.eml"
tz_assert "PDF mail accepted" tz_send_expect 250 "$TZ_TMP/pdf.eml"
tz_assert "both messages delivered (text-ized)" tz_wait_count 2

# ---- list ----
ctl queue list --format json >"$TZ_TMP/list.json" 2>"$TZ_TMP/list.err"
ids() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("\n".join(x["id"] for x in r if x["filename"]==sys.argv[2]))' "$TZ_TMP/list.json" "$1"; }
EICAR_ID=$(ids eicar.com)
PDF_ID=$(ids 見積書.pdf)
tz_assert "queue list shows the EICAR attachment" test -n "$EICAR_ID"
tz_assert "queue list shows the PDF attachment" test -n "$PDF_ID"
PDF_PART=$(python3 -c 'import json,sys; print([x["part"] for x in json.load(open(sys.argv[1])) if x["id"]==sys.argv[2] and x["filename"]==sys.argv[3]][0])' "$TZ_TMP/list.json" "$PDF_ID" 見積書.pdf 2>/dev/null)
EICAR_PART=$(python3 -c 'import json,sys; print([x["part"] for x in json.load(open(sys.argv[1])) if x["id"]==sys.argv[2] and x["filename"]=="eicar.com"][0])' "$TZ_TMP/list.json" "$EICAR_ID" 2>/dev/null)
ctl queue list --format csv >"$TZ_TMP/list.csv"
tz_assert "CSV starts with a UTF-8 BOM" sh -c "head -c 3 '$TZ_TMP/list.csv' | od -An -tx1 | grep -q 'ef bb bf'"
# Layout-neutral: the whole queue (entries/ of the directory layout, store/
# of the segment store), whichever StoreFormat wrote it.
tz_assert "stored files are encrypted (no plaintext PDF on disk)" \
	sh -c "! grep -rqa 'PDF-1.4' '$TZ_QUARANTINE'"
tz_assert "queue dirs are 0700 and files 0600" sh -c \
	"test -z \"\$(find '$TZ_QUARANTINE' -mindepth 1 -type d ! -perm 0700; find '$TZ_QUARANTINE' -type f ! -perm 0600)\""

# ---- scan ----
tz_assert "queue scan succeeds" sh -c "'$CTL' queue scan -c '$CONF' >'$TZ_TMP/scan.out'"
tz_assert "queue scan says what it found (one infected)" grep -q '^scanned [0-9]* parts: 1 infected, 0 could not be scanned$' "$TZ_TMP/scan.out"
state_of() { ctl queue list --format json | python3 -c 'import json,sys; print([x["state"]+" "+(x["verdict"] or "") for x in json.load(sys.stdin) if x["id"]==sys.argv[1] and str(x["part"])==sys.argv[2]][0])' "$1" "$2"; }
tz_assert "EICAR part is infected" sh -c "echo '$(state_of "$EICAR_ID" "$EICAR_PART")' | grep -q '^infected Textize.Test.EICAR'"
tz_assert "PDF part is clean" test "$(state_of "$PDF_ID" "$PDF_PART")" = "clean OK"
tz_assert "queue list --state infected finds it" sh -c "'$CTL' queue -c '$CONF' list --state infected --flag executable --format csv | grep -q eicar.com || '$CTL' queue -c '$CONF' list --state infected --format csv | grep -q eicar.com"

# ---- export ----
tz_assert "export writes the PDF" ctl queue export "$PDF_ID" "$PDF_PART" --out "$TZ_TMP/exported.pdf" --operator alice
tz_assert "exported PDF is byte-identical (sha256)" test \
	"$(sha256sum <"$TZ_TMP/exported.pdf")" = "$(sha256sum <"$TZ_TMP/clean.pdf")"
tz_assert "export of the original message works" ctl queue export "$PDF_ID" original --out "$TZ_TMP/orig.eml" --operator alice
tz_assert "hostile ids are refused" sh -c "! '$CTL' queue -c '$CONF' show ../../etc/passwd"

# ---- release ----
tz_assert "releasing the infected part is refused" sh -c "! '$CTL' queue -c '$CONF' release '$EICAR_ID' '$EICAR_PART' --operator alice"
tz_assert "release of the clean PDF" sh -c "'$CTL' queue release '$PDF_ID#$PDF_PART' --operator alice -c '$CONF' >'$TZ_TMP/release.out'"
tz_assert "release names the part it sent" grep -q "^released part $PDF_PART (見積書.pdf) of .*$PDF_ID" "$TZ_TMP/release.out"
tz_assert "released mail reaches the capture sink" tz_wait_count 3
REL=$(tz_captured | tail -1)
MSGID=$(sed -n 's/^mail accepted by ReleaseCommand (.*), Message-ID \(<[^>]*>\)$/\1/p' "$TZ_TMP/release.out")
tz_assert "release prints the Message-ID of the mail that arrived (${MSGID:-none})" \
	sh -c "[ -n '$MSGID' ] && grep -qiF 'Message-ID: $MSGID' '$REL'"
tz_assert "released mail carries X-Textize-Release" grep -q "^X-Textize-Release: $PDF_ID $PDF_PART " "$REL"
tz_captured_body "$REL" >"$TZ_TMP/released.eml"
tz_assert "released PDF arrives intact (not text-ized again)" python3 - "$TZ_TMP/released.eml" "$TZ_TMP/clean.pdf" <<'EOF'
import sys, email, email.policy
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
want = open(sys.argv[2], "rb").read()
got = [p.get_content() for p in m.iter_attachments()]
sys.exit(0 if want in got else 1)
EOF
tz_assert "milter logged the verified release marker" tz_log_grep "release marker verified"
tz_assert "released mail passed unchanged (action=released, not stored again)" tz_log_grep "action=released"
# A sender who copies a valid marker onto another body gets no pass: the
# MAC covers the body. With the original internal From the spoofing rule
# (held until the marker is checked) rejects it; with an outside From it is
# text-ized like any mail.
python3 - "$TZ_TMP/released.eml" "$TZ_TMP/forged" <<'EOF'
import sys
raw = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
head, body = raw.split(b"\n\n", 1)
body = body.replace(b"\n--", b"\nextra line the attacker added\n--", 1)
open(sys.argv[2] + "-internal.eml", "wb").write(head + b"\n\n" + body)
head = head.replace(b"From: security@city.example.lg.jp", b"From: mallory@example.net")
open(sys.argv[2] + "-external.eml", "wb").write(head + b"\n\n" + body)
EOF
tz_assert "forged marker with an internal From: rejected as spoofing (550)" \
	tz_send_expect 550 "$TZ_TMP/forged-internal.eml"
NCAP=$(tz_captured_count)
tz_assert "forged marker with an outside From: accepted" tz_send_expect 250 "$TZ_TMP/forged-external.eml"
tz_wait_count $((NCAP + 1)) >/dev/null
FORGED=$(tz_captured | tail -1)
tz_assert "forged release marker: the mail is text-ized, the PDF stripped" tz_check "$FORGED" --text-only
tz_assert "milter logged the refused marker" tz_log_grep "release marker not accepted"
tz_assert "PDF part is released" sh -c "echo '$(state_of "$PDF_ID" "$PDF_PART")' | grep -q '^released'"

# ---- sanitizer (CDR): a clean part gets a sanitized copy ----
# /bin/cp stands in for a CDR tool: it exercises %i/%o, the time limit and
# storing the copy; the copy is what a release sends.
sed 's|^ReleaseFrom .*|&\nSanitizerCommand /bin/cp %i %o\nSanitizerTimeout 20s|' "$CONF" >"$TZ_TMP/cdr.conf"
tz_assert "PDF mail for the sanitizer accepted" tz_send_expect 250 "$TZ_TMP/pdf.eml"
tz_wait_count 5 >/dev/null
"$CTL" queue -c "$TZ_TMP/cdr.conf" scan >/dev/null 2>&1
CDR_ID=$(ctl queue list --state sanitized --format json | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r[0]["id"] if r else "")')
tz_assert "scan with SanitizerCommand marks the part sanitized" test -n "$CDR_ID"
if [ -n "$CDR_ID" ]; then
	# The copy is a stored file of the entry (a file in its directory or a
	# blob of its segment record): meta.json names it with its hash, which
	# a release checks when it reads the copy back.
	tz_assert "sanitized copy stored next to the part" sh -c "'$CTL' queue -c '$CONF' show '$CDR_ID' --format json |
		python3 -c 'import json,sys; p=json.load(sys.stdin)[\"parts\"][0]; sys.exit(0 if p.get(\"sanitized_file\")==\"part-001.sanitized.bin\" and len(p.get(\"sanitized_sha256\") or \"\")==64 else 1)'"
	tz_assert "sanitized copy encrypted (no plaintext PDF anywhere in the queue)" \
		sh -c "! grep -rqa 'PDF-1.4' '$TZ_QUARANTINE'"
	tz_assert "show lists the sanitized part" sh -c "'$CTL' queue -c '$CONF' show '$CDR_ID' | grep -q sanitized"
fi

# ---- clamd down: parts stay pending ----
kill -TERM "$CLAMD_PID" 2>/dev/null
for _ in $(seq 100); do kill -0 "$CLAMD_PID" 2>/dev/null || break; sleep 0.1; done
tz_assert "third mail accepted with clamd down" tz_send_expect 250 "$TZ_TMP/eicar2.eml"
tz_wait_count 6 >/dev/null
ctl queue scan >/dev/null 2>&1
tz_assert "scan with clamd down exits 75 (tempfail)" test $? -eq 75
ctl queue list --format json >"$TZ_TMP/list2.json"
tz_assert "part stays pending while clamd is down" python3 -c \
	'import json,sys; r=[x for x in json.load(open(sys.argv[1])) if x["filename"]=="again.com"]; sys.exit(0 if r and r[0]["state"]=="pending" else 1)' "$TZ_TMP/list2.json"

# ---- reindex: the files are the truth ----
count_ids() { ctl queue list --format json | python3 -c 'import json,sys; print(len({x["id"] for x in json.load(sys.stdin)}))'; }
NIDS=$(count_ids)
rm -f "$TZ_TMP/report.db" "$TZ_TMP/report.db-wal" "$TZ_TMP/report.db-shm"
tz_assert "queue reindex rebuilds the index" ctl queue reindex
tz_assert "list after reindex shows the same $NIDS entries" test "$(count_ids)" = "$NIDS"

# ---- audit ----
tz_assert "audit verify passes" "$CTL" audit verify -c "$CONF"
has_event() { grep -q "\"event\":\"$1\"" "$TZ_TMP/audit.log"; }
tz_assert "audit log records scanned, exported, released" sh -c \
	"grep -q '\"event\":\"scanned\"' '$TZ_TMP/audit.log' && grep -q '\"event\":\"exported\"' '$TZ_TMP/audit.log' && grep -q '\"event\":\"released\"' '$TZ_TMP/audit.log'"
tz_assert "audit log records stored (by the milter)" has_event stored
cp "$TZ_TMP/audit.log" "$TZ_TMP/audit.orig"
sed -i '3s/"operator":"[^"]*"/"operator":"mallory"/' "$TZ_TMP/audit.log"
"$CTL" audit verify -c "$CONF" >"$TZ_TMP/verify.out" 2>&1
rc=$?
tz_assert "audit verify fails after a record is edited" test $rc -eq 1
tz_assert "and names line 3" grep -q "line 3" "$TZ_TMP/verify.out"
cp "$TZ_TMP/audit.orig" "$TZ_TMP/audit.log"

# ---- report ----
tz_assert "report daily --format json" sh -c "'$CTL' report daily -c '$CONF' --format json | python3 -c 'import json,sys; r=json.load(sys.stdin); sys.exit(0 if r[\"entries\"]==$NIDS else 1)'"
tz_assert "report daily --format html" "$CTL" report daily -c "$CONF" --format html --out "$TZ_TMP/report.html"
tz_assert "report is self-contained (no external references, no scripts)" sh -c \
	"! grep -Eq '(src|href)=\"(https?:)?//|<script' '$TZ_TMP/report.html'"
tz_assert "report HTML shows Japanese words, not machine tokens" sh -c \
	"grep -q 'ウイルス検出' '$TZ_TMP/report.html' && ! grep -Eq '>(infected|released|executable|pending)<' '$TZ_TMP/report.html'"
# The CSV an Excel user opens: one row per stripped file, local dates.
"$CTL" report daily -c "$CONF" --format csv --out "$TZ_TMP/report.csv"
tz_assert "report CSV: BOM, one row per file, local YYYY/MM/DD HH:MM:SS, detections" python3 - "$TZ_TMP/report.csv" <<'PY'
import csv, json, re, subprocess, sys
raw = open(sys.argv[1], "rb").read()
assert raw.startswith(b"\xef\xbb\xbf"), "no BOM"
rows = list(csv.reader(raw[3:].decode("utf-8").splitlines()))
head, body = rows[0], rows[1:]
assert head[:3] == ["受信日時", "参照番号", "差出人"], head
assert all(len(r) == len(head) for r in body), "ragged rows"
assert all(re.fullmatch(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d", r[0]) for r in body), [r[0] for r in body]
name, sig = head.index("ファイル名"), head.index("検知名")
assert any(r[name] == "eicar.com" and "EICAR" in r[sig] for r in body), body
PY
"$CTL" report daily -c "$CONF" --format json --out "$TZ_TMP/report.json"
tz_assert "report CSV rows = JSON items (one per file)" python3 -c \
	'import csv,json,sys; n=len(list(csv.reader(open(sys.argv[1],encoding="utf-8-sig"))))-1; sys.exit(0 if n==len(json.load(open(sys.argv[2]))["items"]) and n>0 else 1)' \
	"$TZ_TMP/report.csv" "$TZ_TMP/report.json"
# Rendered by headless Chromium as a person sees it (tests/integration/
# render-report.py): not empty, no console errors, Japanese in real glyphs,
# chart labels inside their charts. A control run with only DejaVu fonts
# must fail the glyph check, so that check cannot pass vacuously.
render_report() { /usr/bin/python3 "$TZ_IT_DIR/render-report.py" "$@"; }
render_report "$TZ_TMP/report.html" "$TZ_TMP/report.png" >"$TZ_TMP/render.out" 2>&1
rrc=$?
if [ $rrc -eq 77 ]; then
	tz_skip "report not rendered: $(tail -1 "$TZ_TMP/render.out")"
else
	while IFS= read -r line; do
		case $line in
		"ok - "*) tz_pass "report in Chromium: ${line#ok - }" ;;
		"not ok - "*) tz_fail "report in Chromium: ${line#not ok - }" ;;
		esac
	done <"$TZ_TMP/render.out"
	grep -q "^ok - " "$TZ_TMP/render.out" || tz_fail "render-report.py: $(tail -3 "$TZ_TMP/render.out")"
	if [ -d /usr/share/fonts/truetype/dejavu ]; then
		printf '<?xml version="1.0"?>\n<fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>%s/fc-cache</cachedir></fontconfig>\n' \
			"$TZ_TMP" >"$TZ_TMP/nocjk.conf"
		FONTCONFIG_FILE=$TZ_TMP/nocjk.conf render_report "$TZ_TMP/report.html" "$TZ_TMP/nocjk.png" \
			>"$TZ_TMP/render-nocjk.out" 2>&1
		tz_assert "control: without a CJK font the glyph check fails (tofu detected)" \
			grep -q "^not ok - distinct kanji draw distinct glyphs" "$TZ_TMP/render-nocjk.out"
	fi
fi

tz_done
