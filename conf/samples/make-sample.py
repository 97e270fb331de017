#!/usr/bin/env python3
# make-sample.py — generates sample-ja.eml, the bundled demo mail: a typical
# Japanese business mail from outside (multipart/mixed: an ISO-2022-JP text
# part and a UTF-8 HTML part in multipart/alternative, a small PDF and a small
# XLSX attachment with Japanese RFC 2231 file names). Run once; the output is
# committed so that the demo needs no Python. Deterministic (fixed dates,
# boundaries, zip timestamps).
import io
import zipfile
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.header import Header
from email import encoders, policy

TEXT = """総務課 御中

いつもお世話になっております。株式会社サンプル商事の山田です。

来年度の庁舎清掃業務について、お見積書と作業予定表をお送りします。
ご確認のほど、よろしくお願いいたします。

  ・見積書(PDF)
  ・作業予定表(Excel)

詳細は当社サイト https://www.example.co.jp/ をご覧ください。

--
株式会社サンプル商事 営業部 山田 太郎
TEL 03-0000-0000
"""

HTML = """<html><head><meta charset="utf-8"><style>p{color:#333}</style></head>
<body>
<p>総務課 御中</p>
<p>いつもお世話になっております。株式会社サンプル商事の<b>山田</b>です。</p>
<p>来年度の庁舎清掃業務について、お見積書と作業予定表をお送りします。<br>
ご確認のほど、よろしくお願いいたします。</p>
<ul><li>見積書(PDF)</li><li>作業予定表(Excel)</li></ul>
<p>詳細は<a href="https://www.example.co.jp/">当社サイト</a>をご覧ください。</p>
<script>alert("never shown")</script>
</body></html>
"""

def pdf():
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R >>"]
    stream = b"BT /F1 12 Tf 20 50 Td (Estimate) Tj ET"
    objs.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (i, o))
    x = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for o in offs:
        out.write(b"%010d 00000 n \n" % o)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x))
    return out.getvalue()

def xlsx():
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="予定" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>4月</t></is></c><c r="B1" t="inlineStr"><is><t>定期清掃</t></is></c></row></sheetData></worksheet>',
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(zipfile.ZipInfo(name, (2025, 4, 1, 9, 0, 0)), data.encode("utf-8"))
    return out.getvalue()

def attachment(maintype, subtype, data, name):
    p = MIMEBase(maintype, subtype)
    p.set_payload(data)
    encoders.encode_base64(p)
    p.add_header("Content-Disposition", "attachment", filename=("utf-8", "", name))
    return p

alt = MIMEMultipart("alternative", boundary="----=_alt_20250401")
alt.attach(MIMEText(TEXT, "plain", "iso-2022-jp"))
alt.attach(MIMEText(HTML, "html", "utf-8"))
msg = MIMEMultipart("mixed", boundary="----=_mixed_20250401")
msg["Received"] = ("from mail.example.co.jp (mail.example.co.jp [192.0.2.25])\n"
                   "\tby mx.city.example.lg.jp (Postfix) with ESMTPS id 4ZAB12345;\n"
                   "\tTue,  1 Apr 2025 10:00:02 +0900 (JST)")
msg["From"] = Header("山田 太郎", "iso-2022-jp").encode() + " <yamada@example.co.jp>"
msg["To"] = "soumu@city.example.lg.jp"
msg["Subject"] = Header("庁舎清掃業務のお見積りについて", "iso-2022-jp")
msg["Date"] = "Tue, 01 Apr 2025 10:00:00 +0900"
msg["Message-ID"] = "<20250401100000.sample@example.co.jp>"
msg.attach(alt)
msg.attach(attachment("application", "pdf", pdf(), "見積書_2025年度.pdf"))
msg.attach(attachment("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                      xlsx(), "作業予定表.xlsx"))
for part in msg.walk():
    if part is not msg:
        del part["MIME-Version"]
with open("sample-ja.eml", "wb") as f:
    f.write(msg.as_bytes(policy=policy.compat32.clone(linesep="\n")))
