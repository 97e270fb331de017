#!/usr/bin/env python3
"""gen-mail.py KIND OUT [ARG] -- write a test message for the integration tests.

Every message carries threading headers (Message-ID, In-Reply-To, References)
and known Japanese text, and every attachment carries a unique marker line
(ATTACHMENT-MARKER-<kind>) so a test can grep that no attachment byte got
through.

KIND:
  html-attach   Japanese HTML + plain alternative, a PDF and an XLSX attachment
  iso2022jp     plain text in ISO-2022-JP (7bit)
  nested        a message forwarding another (message/rfc822) with an attachment
  big SIZE_MB   plain text + a base64 attachment of about SIZE_MB megabytes
  simple N      a small Japanese plain message numbered N
"""
import base64
import os
import sys
import zipfile
import io
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate

JA_TEXT = "会議資料を送付いたします。ご確認ください。"
JA_HTML_ONLY = "市民課の山田です"


def base(subject, n=0):
    m = EmailMessage(policy=SMTP)
    m["From"] = "山田 太郎 <yamada@example.com>"
    m["To"] = "user@city.example.lg.jp"
    m["Subject"] = subject
    m["Date"] = formatdate(1700000000 + n)
    m["Message-ID"] = f"<tz-test-{n}-{os.getpid()}@example.com>"
    m["In-Reply-To"] = "<parent-thread@example.com>"
    m["References"] = "<root-thread@example.com> <parent-thread@example.com>"
    return m


def pdf_bytes():
    body = b"%PDF-1.4\n% ATTACHMENT-MARKER-PDF\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    return body + os.urandom(2048)


def xlsx_bytes():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook>ATTACHMENT-MARKER-XLSX</workbook>")
        z.writestr("xl/random.bin", os.urandom(4096))
    return buf.getvalue()


def html_attach():
    m = base("【会議資料】来週の打ち合わせについて", 1)
    m.set_content(JA_TEXT + "\n\n添付のPDFとExcelをご覧ください。\n")
    m.add_alternative(
        f"<html><body><p>{JA_HTML_ONLY}。</p><p>{JA_TEXT}</p>"
        "<script>alert('x')</script><table><tr><td>日程</td><td>11月30日</td></tr></table>"
        "</body></html>", subtype="html")
    m.add_attachment(pdf_bytes(), maintype="application", subtype="pdf",
                     filename="資料.pdf")
    m.add_attachment(xlsx_bytes(), maintype="application",
                     subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     filename="予算.xlsx")
    return m.as_bytes()


def iso2022jp():
    m = base("ISO-2022-JP のテスト", 2)
    m.set_content(JA_TEXT + "\n市役所からのお知らせです。\n", charset="iso-2022-jp",
                  cte="7bit")
    return m.as_bytes()


def nested():
    inner = base("転送元のメール", 30)
    inner.set_content("転送されたメールの本文です。\n" + JA_TEXT + "\n")
    inner.add_attachment(b"ATTACHMENT-MARKER-INNER\n" + os.urandom(1024),
                         maintype="application", subtype="octet-stream",
                         filename="inner.bin")
    m = base("Fwd: 転送元のメール", 3)
    m.set_content("以下のメールを転送します。\n")
    m.add_attachment(inner)
    return m.as_bytes()


def big(size_mb):
    m = base("大きな添付ファイル", 4)
    m.set_content(JA_TEXT + "\n大きなファイルを添付します。\n")
    blob = b"ATTACHMENT-MARKER-BIG\n" + os.urandom(int(size_mb * 1024 * 1024 * 3 / 4))
    m.add_attachment(blob, maintype="application", subtype="octet-stream",
                     filename="big.bin")
    return m.as_bytes()


def simple(n):
    m = base(f"テスト {n}", 100 + n)
    m.set_content(f"{JA_TEXT}\n番号 {n}\n")
    return m.as_bytes()


def main():
    kind, out = sys.argv[1], sys.argv[2]
    arg = sys.argv[3] if len(sys.argv) > 3 else None
    make = {
        "html-attach": html_attach, "iso2022jp": iso2022jp, "nested": nested,
        "big": lambda: big(float(arg or 20)), "simple": lambda: simple(int(arg or 0)),
    }[kind]
    data = make().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    with open(out, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
