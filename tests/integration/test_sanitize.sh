#!/usr/bin/env bash
# test_sanitize.sh — issue 17's "done when", end to end: a mail with a PDF
# (carrying JavaScript and an OpenAction), an xlsx and a PNG (with EXIF)
# goes in through Postfix and textize-milter and comes out text-ized; then,
# with no human action but the worker (`textizectl queue sanitize`, as
# textize-sanitize.service runs it), a second mail reaches the same
# recipient with four harmless files: 見積書.pdf and 作業予定表.pdf as image
# PDFs (no JavaScript, no actions), photo.png without metadata, and 資料.zip
# rebuilt from the sanitized members of the ZIP that was sent (a hostile PDF
# under a Shift_JIS name without the UTF-8 flag, a traversal name, an
# executable, which is left out and named in the note), checked by the
# independent checker of tests/sanitize/check_cdr.py; marked as
# released mail that the milter lets through unchanged. Prints the time from
# acceptance to delivery of the sanitized copies. The text-ized mail's
# notice announces the copies. Ports 3200-3249.
set -u
. "$(dirname "$0")/lib.sh"
TZ_PORT_BASE=${TZ_PORT_BASE:-3200}
tz_init sanitize

CTL=${TZ_CTL:-$TZ_BUILD/tools/textizectl}
[ -x "$CTL" ] || { tz_fail "no textizectl at $CTL"; tz_done; }
for tool in /usr/bin/bwrap /usr/bin/pdftoppm /usr/bin/img2pdf /usr/bin/qpdf \
	/usr/lib/libreoffice/program/soffice; do
	[ -x "$tool" ] || { tz_skip "$tool not installed (scripts/deps)"; tz_done; }
done
/usr/bin/python3 -c 'import PIL, reportlab, openpyxl' 2>/dev/null ||
	{ tz_skip "python3-pil/reportlab/openpyxl missing (scripts/deps)"; tz_done; }

for k in quarantine audit release; do
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TZ_TMP/$k.key"
	chmod 600 "$TZ_TMP/$k.key"
done

/usr/bin/python3 - "$TZ_TMP" <<'EOF'
import io, sys, email.message, email.policy
from reportlab.pdfgen import canvas
import openpyxl
from PIL import Image
d = sys.argv[1]
buf = io.BytesIO()
c = canvas.Canvas(buf)
for p in range(3):
    c.drawString(72, 720, "QUOTE PAGE %d" % (p + 1))
    c.showPage()
c.save()
pdf = buf.getvalue()
# an OpenAction with JavaScript, added the way a hostile sender would
pdf = pdf.replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>", 1)
open(d + "/in.pdf", "wb").write(pdf)
wb = openpyxl.Workbook()
wb.active["A1"] = "SCHEDULE 2026"
x = io.BytesIO(); wb.save(x)
img = Image.new("RGB", (64, 48), (10, 120, 200))
exif = Image.Exif(); exif[0x010f] = "EvilCam"
p = io.BytesIO(); img.save(p, "PNG", exif=exif.tobytes())
m = email.message.EmailMessage(policy=email.policy.SMTP)
m["From"] = "sender@example.com"
m["To"] = "user@city.example.lg.jp"
m["Subject"] = "見積書と予定表"
m["Message-ID"] = "<sanitize-e2e@example.com>"
m.set_content("添付をご確認ください。\n")
m.add_attachment(pdf, maintype="application", subtype="pdf", filename="見積書.pdf")
m.add_attachment(x.getvalue(), maintype="application",
                 subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 filename="作業予定表.xlsx")
m.add_attachment(p.getvalue(), maintype="image", subtype="png", filename="photo.png")
import zipfile
class RawName(zipfile.ZipInfo):   # a CP932 name without the UTF-8 flag, as Windows writes it
    def __init__(self, raw):
        super().__init__(raw.decode("cp437")); self.raw = raw
    def _encodeFilenameFlags(self):
        return self.raw, self.flag_bits
z = io.BytesIO()
with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
    zf.writestr(RawName("図面/配置図.pdf".encode("cp932")), pdf)
    zf.writestr("../../etc/cron.d/memo.txt", "メモ\n".encode("utf-8"))
    zf.writestr("setup.exe", b"MZ\x90\x00" + b"\0" * 200)
m.add_attachment(z.getvalue(), maintype="application", subtype="zip", filename="資料.zip")
open(d + "/mail.eml", "wb").write(bytes(m))
EOF

EXTRA="LocalDomains city.example.lg.jp
QuarantineKeyFile $TZ_TMP/quarantine.key
AuditLog $TZ_TMP/audit.log
AuditKeyFile $TZ_TMP/audit.key
ReleaseKeyFile $TZ_TMP/release.key
ReleaseCommand /usr/sbin/sendmail -C $TZ_PF -oi -t
ReleaseFrom security@city.example.lg.jp
SanitizedDelivery auto
SanitizeOCR no"
CONF=$TZ_TMP/textize.conf
tz_stack_start "$EXTRA"
T0=$(date +%s.%N)
tz_assert "mail with PDF, xlsx, PNG and ZIP accepted" tz_send_expect 250 "$TZ_TMP/mail.eml"
tz_assert "text-ized mail delivered" tz_wait_count 1
TEXT=$(tz_captured | head -1)
tz_assert "text-ized mail carries no attachment" tz_check "$TEXT" --text-only
tz_captured_body "$TEXT" >"$TZ_TMP/textized.eml"
tz_assert "its notice says sanitized copies will follow" python3 -c '
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
sys.exit(0 if "テキストのファイルは、無害化した複製を、このあと\n別のメールでお届けします。" in m.get_content() else 1)' "$TZ_TMP/textized.eml"

tz_assert "queue sanitize (the worker, one pass) succeeds" \
	nice "$CTL" queue -c "$CONF" sanitize
tz_assert "a second mail arrives: the sanitized copies" tz_wait_count 2 120
T1=$(date +%s.%N)
tz_say "acceptance to delivery of the sanitized copies: $(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }') s"
REL=$(tz_captured | tail -1)
tz_captured_body "$REL" >"$TZ_TMP/sanitized.eml"
tz_assert "it is marked released mail" grep -q "^X-Textize-Release: " "$REL"
tz_assert "the milter verified the marker and let it through unchanged" tz_log_grep "action=released"
tz_assert "four harmless files: two image PDFs, a clean PNG, a ZIP of harmless members" \
	/usr/bin/python3 - "$TZ_TMP/sanitized.eml" "$TZ_TMP" "$TZ_TOP/tests/sanitize" <<'EOF'
import email, email.policy, io, re, subprocess, sys, struct, zipfile
sys.path.insert(0, sys.argv[3])
import check_cdr
check_cdr.WORK = sys.argv[2]
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
files = {p.get_filename(): (p.get_content_type(), p.get_content()) for p in m.iter_attachments()}
print("    attachments:", {k: v[0] for k, v in files.items()})
assert set(files) == {"見積書.pdf", "作業予定表.pdf", "photo.png", "資料.zip"}, files
for name in ("見積書.pdf", "作業予定表.pdf"):
    ctype, data = files[name]
    assert ctype == "application/pdf" and data[:4] == b"%PDF", name
    path = sys.argv[2] + "/out-" + str(len(name)) + ".pdf"
    open(path, "wb").write(data)
    subprocess.run(["qpdf", "--qdf", "--object-streams=disable", path, path + ".qdf"], check=False)
    raw = open(path + ".qdf", "rb").read()
    for bad in (b"/JavaScript", b"/JS", b"/OpenAction", b"/AA", b"/Launch", b"/URI", b"/Font"):
        assert not re.search(re.escape(bad) + rb"(?![A-Za-z])", raw), (name, bad)
    assert b"/Subtype /Image" in raw, name
ctype, png = files["photo.png"]
assert ctype == "image/png" and png[:8] == b"\x89PNG\r\n\x1a\n"
pos, chunks = 8, []
while pos < len(png):
    n, t = struct.unpack(">I4s", png[pos:pos + 8]); chunks.append(t); pos += 12 + n
assert set(chunks) <= {b"IHDR", b"pHYs", b"IDAT", b"IEND"} and b"EvilCam" not in png, chunks
ctype, zdata = files["資料.zip"]
assert ctype == "application/zip", ctype
names = sorted(zipfile.ZipFile(io.BytesIO(zdata)).namelist())
print("    資料.zip:", names)
assert names == sorted(["図面/配置図.pdf", "etc/cron.d/memo.txt", "無害化の結果.txt"]), names
problems = check_cdr.zip_problems(zdata)
assert not problems, problems
EOF
tz_assert "the note names the executable left out of the ZIP" sh -c "python3 -c '
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], \"rb\").read(), policy=email.policy.default)
t = m.get_body((\"plain\",)).get_content()
sys.exit(0 if \"中の無害化できなかったファイル: setup.exe (unknown: \" in t else 1)' '$TZ_TMP/sanitized.eml'"
tz_assert "the note names the original mail" sh -c "python3 -c '
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], \"rb\").read(), policy=email.policy.default)
t = m.get_body((\"plain\",)).get_content()
sys.exit(0 if \"無害化\" in t and \"見積書と予定表\" in t and \"sender@example.com\" in t else 1)' '$TZ_TMP/sanitized.eml'"
tz_assert "parts are released by the sanitizer, audited" sh -c \
	"'$CTL' queue -c '$CONF' list --format json | python3 -c 'import json,sys; r=json.load(sys.stdin); sys.exit(0 if len(r)==4 and all(x[\"state\"]==\"released\" for x in r) else 1)'"
tz_assert "audit log verifies" "$CTL" audit verify -c "$CONF"
tz_assert "a second pass releases nothing more (4 release records in the audit log)" sh -c \
	"nice '$CTL' queue -c '$CONF' sanitize && test \$(grep -c '\"event\":\"released\"' '$TZ_TMP/audit.log') -eq 4"
tz_done
