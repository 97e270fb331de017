#!/usr/bin/python3
"""gen.py — generate the adversarial corpus of issue 12 (item 7).

Usage: gen.py [--quick] OUTDIR

Writes OUTDIR/NAME.eml and OUTDIR/NAME.json for every case, and
OUTDIR/manifest.json listing them. Nothing here is hand-kept binary: every
payload is built from its case name, so each case has payload bytes of its
own and a payload recovered from the output can be traced to its case.

The expectation of each case comes from the rules of issue 12 (ambiguity is
never resolved towards text; anything not shown is listed), never from what
the engine does today:
  outcome    "convert" (exit 0 required), "refuse" (non-zero required) or
             "either" (a limit may refuse it; when converted, the checks hold)
  payloads   [{name, sha256, size, listed, alt_sha256}] — bytes that must not
             be recoverable from the output by any decoder check.py runs;
             listed: the notice/JSON must list it (its sha256 or one of
             alt_sha256: the raw encoded form, when the engine cannot decode)
  min_listed minimum number of stripped parts (content that is not shown)
  absent     strings that must not occur in the delivered text or headers
  present    strings that must occur in the delivered text (marks, punycode)
  max_rss_mb peak RSS bound for the cost bombs (None: reported only)
--quick leaves out the cost bombs over 1 MB (the full run generates them).
"""
import base64
import binascii
import gzip
import hashlib
import io
import json
import os
import sys
import zipfile

CASES = []


# ---------------------------------------------------------------- payloads
def filler(seed, n):
    """n deterministic pseudo-random bytes from seed (distinct per case)."""
    out = bytearray()
    h = seed.encode()
    while len(out) < n:
        h = hashlib.sha256(h).digest()
        out += h
    return bytes(out[:n])


def pe(seed, n=600):
    """A small PE-looking file: MZ header, DOS stub text, PE signature."""
    head = bytearray(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00")
    head += b"\xb8" + b"\x00" * 7 + b"\x40" + b"\x00" * 35
    head += (0x80).to_bytes(4, "little")
    head += b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21"
    head += b"This program cannot be run in DOS mode.\r\r\n$"
    head += b"\x00" * (0x80 - len(head))
    head += b"PE\x00\x00\x4c\x01\x03\x00"
    return bytes(head) + filler(seed, n - len(head))


def elf(seed, n=500):
    return b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + filler(seed, n - 20)


def zipf(seed):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_STORED) as z:
        z.writestr("invoice.exe", pe(seed + "-inner", 400))
    return b.getvalue()


def pdf(seed):
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert('"
            + seed.encode() + b"'))>>>>endobj\n" + filler(seed, 300) + b"\n%%EOF\n")


SIGS = {
    "pe": pe,
    "elf": elf,
    "zip": zipf,
    "pdf": pdf,
    "ole": lambda s: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + filler(s, 500),
    "rar": lambda s: b"Rar!\x1a\x07\x01\x00" + filler(s, 400),
    "7z": lambda s: b"7z\xbc\xaf\x27\x1c\x00\x04" + filler(s, 400),
    "gzip": lambda s: gzip.compress(pe(s, 400), mtime=0),
    "cab": lambda s: b"MSCF\x00\x00\x00\x00" + filler(s, 400),
    "lnk": lambda s: b"\x4c\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46" + filler(s, 400),
    "macho": lambda s: b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + filler(s, 400),
    "class": lambda s: b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + filler(s, 400),
}


def sha(b):
    return hashlib.sha256(b).hexdigest()


# ---------------------------------------------------------------- encoders
def uu_lines(data, backtick=True):
    return [binascii.b2a_uu(data[i:i + 45], backtick=backtick).decode().rstrip("\n")
            for i in range(0, len(data), 45)]


def uuencode(data, name="file.exe", mode="644", backtick=True, end=True):
    lines = ["begin %s %s" % (mode, name)] + uu_lines(data, backtick)
    lines += ["`" if backtick else " "] + (["end"] if end else [])
    return "\n".join(lines) + "\n"


def uu_b64(data, name="file.exe"):
    b = base64.b64encode(data).decode()
    return "begin-base64 644 %s\n%s\n====\n" % (name, "\n".join(b[i:i + 60] for i in range(0, len(b), 60)))


def b64(data, width=76):
    s = base64.b64encode(data).decode()
    return "\n".join(s[i:i + width] for i in range(0, len(s), width)) + "\n"


def crc24(data):
    crc = 0xB704CE
    for c in data:
        crc ^= c << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def armor(data, label="PGP MESSAGE", headers=""):
    body = b64(data, 64)
    tail = ""
    if label.startswith("PGP"):
        tail = "=" + base64.b64encode(crc24(data).to_bytes(3, "big")).decode() + "\n"
    return "-----BEGIN %s-----\n%s\n%s%s-----END %s-----\n" % (label, headers, body, tail, label)


def binhex(data, name="file.exe"):
    """BinHex 4.0 (data fork only), as hexbin reads it."""
    def crc(b):
        return binascii.crc_hqx(b, 0).to_bytes(2, "big")
    n = name.encode()
    hdr = bytes([len(n)]) + n + b"\0" + b"APPL" + b"????" + b"\0\0"
    hdr += len(data).to_bytes(4, "big") + (0).to_bytes(4, "big")
    raw = hdr + crc(hdr) + data + crc(data) + crc(b"")
    rle = bytearray()
    for c in raw:  # escape the RLE marker, no compression
        rle += b"\x90\x00" if c == 0x90 else bytes([c])
    alpha = b"!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr"
    out = bytearray()
    bits = nbits = 0
    for c in rle:
        bits = (bits << 8) | c
        nbits += 8
        while nbits >= 6:
            nbits -= 6
            out.append(alpha[(bits >> nbits) & 63])
    if nbits:
        out.append(alpha[(bits << (6 - nbits)) & 63])
    s = ":" + out.decode() + ":"
    return "(This file must be converted with BinHex 4.0)\n" + "\n".join(s[i:i + 64] for i in range(0, len(s), 64)) + "\n"


def yenc(data, name="file.exe"):
    out = bytearray()
    col = 0
    for c in data:
        c = (c + 42) & 255
        if c in (0, 10, 13, 61) or 0x80 <= c < 0xa0 or c < 32 or (col == 0 and c in (9, 32, 46)):
            out += b"=" + bytes([(c + 64) & 255])
            col += 2
        else:
            out.append(c)
            col += 1
        if col >= 128:
            out += b"\n"
            col = 0
    return (b"=ybegin line=128 size=%d name=%s\n" % (len(data), name.encode()) + bytes(out)
            + b"\n=yend size=%d crc32=%08x\n" % (len(data), binascii.crc32(data)))


def qp_all(data):
    s = "".join("=%02X" % c for c in data)
    return "\n".join(s[i:i + 72] + "=" for i in range(0, len(s), 72)) + "\n"


def xxd_dump(data):
    lines = []
    for i in range(0, len(data), 16):
        chunk = data[i:i + 16]
        hx = " ".join(chunk[j:j + 2].hex() for j in range(0, len(chunk), 2))
        asc = "".join(chr(c) if 32 <= c < 127 else "." for c in chunk)
        lines.append("%08x: %-39s  %s" % (i, hx, asc))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- messages
def hdrs(subject, ctype="text/plain; charset=us-ascii", cte=None, extra=""):
    h = "From: Attacker <attacker@evil.example>\nTo: staff@city.example.lg.jp\n"
    h += "Subject: %s\nDate: Wed, 02 Dec 2026 10:00:00 +0900\n" % subject
    h += "Message-ID: <%s@evil.example>\nMIME-Version: 1.0\n" % hashlib.md5(subject.encode("utf-8", "surrogateescape")).hexdigest()
    if ctype is not None:
        h += "Content-Type: %s\n" % ctype
    if cte:
        h += "Content-Transfer-Encoding: %s\n" % cte
    return h + extra


def add(name, cls, raw, payloads=(), outcome="convert", min_listed=0, absent=(), present=(),
        max_rss_mb=None, note="", absent_header=(), shown_or_listed=()):
    """Register a case. payloads: (label, bytes, listed, [alternative raw forms])."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    pl = []
    for p in payloads:
        label, data, listed = p[0], p[1], p[2]
        alts = list(p[3]) if len(p) > 3 else []
        alt_sha = sorted({sha(a) for a in alts for a in (a, a.replace(b"\n", b"\r\n"), a.rstrip(b"\n"),
                                                          a.replace(b"\n", b"\r\n").rstrip(b"\r\n"))})
        pl.append({"name": label, "sha256": sha(data), "size": len(data), "listed": listed,
                   "alt_sha256": alt_sha, "hex": data.hex()})
    listed_n = sum(1 for p in pl if p["listed"])
    CASES.append({"name": name, "class": cls, "raw": raw, "outcome": outcome, "payloads": pl,
                  "min_listed": max(min_listed, listed_n), "absent": list(absent),
                  "present": list(present), "max_rss_mb": max_rss_mb, "note": note,
                  "absent_header": list(absent_header), "shown_or_listed": list(shown_or_listed)})


def mp(parts, boundary="b1", sub="mixed", preamble="", epilogue="", close=True):
    s = preamble + "".join("--%s\n%s\n" % (boundary, p) for p in parts)
    if close:
        s += "--%s--\n" % boundary
    return s + epilogue


def part(ctype, body, cte=None, extra=""):
    h = "Content-Type: %s\n" % ctype if ctype else ""
    if cte:
        h += "Content-Transfer-Encoding: %s\n" % cte
    return h + extra + "\n" + body


def attach(data, name="a.exe", ctype="application/octet-stream"):
    return part('%s; name="%s"' % (ctype, name), b64(data), "base64",
                'Content-Disposition: attachment; filename="%s"\n' % name)


TEXT = "Dear staff,\nplease find the document below.\n\n"


# ---------------------------------------------------------------- class uu
def gen_uu():
    def P(n):
        return pe("uu-" + n)

    def simple(n, body, ctype="text/plain; charset=us-ascii", cte=None, **kw):
        d = P(n)
        b = body(d)
        add("uu-" + n, "uuencode", hdrs("uu " + n, ctype, cte) + "\n" + b,
            [("file.exe", d, True, [b.encode("utf-8", "surrogateescape"), uuencode(d).encode()])], **kw)

    simple("plain", lambda d: TEXT + uuencode(d) + "bye\n")
    simple("spaces-for-zero", lambda d: TEXT + uuencode(d, backtick=False))
    simple("indented", lambda d: TEXT + "".join("  " + l + "\n" for l in uuencode(d).splitlines()))
    simple("tab-indented", lambda d: TEXT + "".join("\t" + l + "\n" for l in uuencode(d).splitlines()))
    simple("tab-separator", lambda d: TEXT + uuencode(d).replace("begin 644 ", "begin\t644\t"))
    simple("trailing-junk", lambda d: TEXT + "".join(l + ("XYZ" if i and len(l) > 1 else "") + "\n"
                                                      for i, l in enumerate(uuencode(d).splitlines())))
    simple("mode-000644", lambda d: TEXT + uuencode(d, mode="000644"))
    simple("mode-755", lambda d: TEXT + uuencode(d, mode="755"))
    simple("name-spaces", lambda d: TEXT + uuencode(d, name="請求書 2026.pdf.exe"))
    simple("begin-base64", lambda d: TEXT + uu_b64(d))
    simple("no-end", lambda d: TEXT + uuencode(d, end=False))
    simple("quoted", lambda d: TEXT + "".join("> " + l + "\n" for l in uuencode(d).splitlines()))
    simple("crlf", lambda d: (TEXT + uuencode(d)).replace("\n", "\r\n"))
    simple("qp-cte", lambda d: TEXT + uuencode(d).replace("=", "=3D"), cte="quoted-printable")
    simple("qp-soft-breaks", lambda d: TEXT + "".join(l[:30] + "=\n" + l[30:] + "\n" if len(l) > 30 else l + "\n"
                                                       for l in uuencode(d).replace("=", "=3D").splitlines()),
           cte="quoted-printable")
    simple("base64-cte", lambda d: b64((TEXT + uuencode(d)).encode()), cte="base64")
    simple("flowed", lambda d: TEXT + uuencode(d), ctype="text/plain; charset=us-ascii; format=flowed; delsp=yes")
    simple("text-csv", lambda d: TEXT + uuencode(d), ctype="text/csv; charset=us-ascii")
    simple("text-x-uuencode", lambda d: uuencode(d), ctype="text/x-uuencode")
    simple("text-enriched", lambda d: "<bold>hi</bold>\n\n" + uuencode(d).replace("<", "<<"),
           ctype="text/enriched")
    simple("nul-before", lambda d: TEXT + "\0" + uuencode(d))
    simple("bom-before", lambda d: "\ufeff" + uuencode(d), ctype="text/plain; charset=utf-8")
    simple("ctrl-before", lambda d: TEXT + "\x1b[0m\x0c" + uuencode(d))
    simple("ws-lines", lambda d: TEXT + uuencode(d).replace("\n", " \n"))

    # charsets: the uuencode is only visible after charset decoding
    for n, cs, enc in (("utf16le-bom", "utf-16", lambda s: b"\xff\xfe" + s.encode("utf-16-le")),
                       ("utf16be", "utf-16be", lambda s: s.encode("utf-16-be")),
                       ("utf32", "utf-32", lambda s: s.encode("utf-32")),
                       ("ebcdic-ibm037", "ibm037", lambda s: s.encode("cp037"))):
        d = P(n)
        add("uu-" + n, "uuencode-charset",
            hdrs("uu " + n, "text/plain; charset=" + cs, "base64") + "\n" + b64(enc(TEXT + uuencode(d))),
            [("file.exe", d, True)])
    d = P("utf7")
    u7 = (TEXT + uuencode(d)).encode("utf-7")
    add("uu-utf7", "uuencode-charset", hdrs("uu utf7", "text/plain; charset=utf-7", "7bit") + "\n"
        + "+ZeVnLIqe-\n" + u7.decode(), [("file.exe", d, True)])
    d = P("utf7-full")  # every character of the block in UTF-7 base64 form
    full = "+" + base64.b64encode(uuencode(d).encode("utf-16-be")).decode().rstrip("=") + "-"
    add("uu-utf7-hidden", "uuencode-charset", hdrs("uu utf7 hidden", "text/plain; charset=utf-7", "7bit") + "\n"
        + "\n".join(full[i:i + 76] for i in range(0, len(full), 76)) + "\n", [("file.exe", d, True)])
    d = P("iso2022jp")
    body = "\x1b$B$3$s$K$A$O\x1b(B\n\x1b$B\x1b(B" + uuencode(d)
    add("uu-iso2022jp-escape", "uuencode-charset", hdrs("uu jis", "text/plain; charset=iso-2022-jp", "7bit")
        + "\n" + body, [("file.exe", d, True)])
    d = P("iso2022jp-roman")
    body = "\x1b(J" + uuencode(d) + "\x1b(B"
    add("uu-iso2022jp-roman", "uuencode-charset", hdrs("uu jis roman", "text/plain; charset=iso-2022-jp", "7bit")
        + "\n" + body, [("file.exe", d, True)])
    d = P("sjis")
    add("uu-shift-jis", "uuencode-charset", hdrs("uu sjis", "text/plain; charset=shift_jis", "8bit") + "\n"
        + "こんにちは\n".encode("shift_jis").decode("latin-1") + uuencode(d),
        [("file.exe", d, True)])
    # CR-only line ends: the whole message
    d = P("cr-only")
    raw = (hdrs("uu cr", "text/plain; charset=us-ascii") + "\n" + TEXT + uuencode(d)).replace("\n", "\r")
    add("uu-cr-only-message", "uuencode", raw, [("file.exe", d, True)])
    d = P("cr-only-body")
    add("uu-cr-only-body", "uuencode", hdrs("uu crbody") + "\n" + (TEXT + uuencode(d)).replace("\n", "\r"),
        [("file.exe", d, True)])
    # HTML
    d = P("html-pre")
    add("uu-html-pre", "uuencode-html", hdrs("uu pre", "text/html; charset=us-ascii") + "\n<html><body><p>see</p><pre>"
        + uuencode(d).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") + "</pre></body></html>\n",
        [("file.exe", d, True)])
    d = P("html-br")
    add("uu-html-br", "uuencode-html", hdrs("uu br", "text/html; charset=us-ascii") + "\n<html><body><div>"
        + "<br>".join(l.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                      for l in uuencode(d).splitlines()) + "</div></body></html>\n", [("file.exe", d, True)])
    d = P("html-entities")
    add("uu-html-entities", "uuencode-html", hdrs("uu ent", "text/html; charset=us-ascii") + "\n<pre>"
        + "".join("&#%d;" % ord(c) if c not in "\n" else c for c in uuencode(d)) + "</pre>\n",
        [("file.exe", d, True)])
    d = P("html-textarea")
    add("uu-html-textarea", "uuencode-html", hdrs("uu ta", "text/html; charset=us-ascii") + "\n<form><textarea>"
        + uuencode(d).replace("&", "&amp;").replace("<", "&lt;") + "</textarea></form>\n", [("file.exe", d, True)])
    d = P("html-p-lines")
    add("uu-html-p-lines", "uuencode-html", hdrs("uu p", "text/html; charset=us-ascii") + "\n"
        + "".join("<p>%s</p>\n" % l.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                  for l in uuencode(d).splitlines()), [("file.exe", d, True)])
    # structure
    d = P("delivery-status")
    ds = part("message/delivery-status", "Reporting-MTA: dns; mx.evil.example\n\nFinal-Recipient: rfc822; a@b\n"
              "Action: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp; 550\n" + uuencode(d))
    add("uu-delivery-status", "uuencode", hdrs("uu dsn", "multipart/report; report-type=delivery-status; boundary=b1")
        + "\n" + mp([part("text/plain", "Delivery failed.\n"), ds]), [("file.exe", d, True)])
    d = P("rfc822")
    inner = "From: x@evil.example\nSubject: inner\nContent-Type: text/plain\n\n" + TEXT + uuencode(d)
    add("uu-rfc822", "uuencode", hdrs("uu rfc822", "multipart/mixed; boundary=b1") + "\n"
        + mp([part("text/plain", "fwd\n"), part("message/rfc822", inner)]), [("file.exe", d, True)])
    d = P("rfc822-top")
    add("uu-rfc822-top", "uuencode", hdrs("uu rfc822 top", "message/rfc822") + "\n" + inner.replace(
        uuencode(P("rfc822")), uuencode(d)), [("file.exe", d, True)])
    d = P("split")
    u = uuencode(d).splitlines(True)
    h = len(u) // 2
    add("uu-split-across-parts", "uuencode", hdrs("uu split", "multipart/mixed; boundary=b1") + "\n"
        + mp([part("text/plain", "".join(u[:h])), part("text/plain", "".join(u[h:]))]), [("file.exe", d, False)],
        note="half a uuencode in each text part; the concatenated body must not decode")
    d = P("two-blocks")
    d2 = elf("uu-two-blocks-2")
    add("uu-two-blocks", "uuencode", hdrs("uu two") + "\n" + TEXT + uuencode(d, "a.exe") + "middle\n"
        + uuencode(d2, "b.elf"), [("a.exe", d, True), ("b.elf", d2, True)])
    d = P("alt-plain")
    add("uu-alternative-plain", "uuencode", hdrs("uu alt", "multipart/alternative; boundary=b1") + "\n"
        + mp([part("text/plain", TEXT + uuencode(d)), part("text/html", "<p>Dear staff</p>\n")]),
        [("file.exe", d, False)], note="whichever alternative is shown, the file must not be recoverable")
    for k in ("zip", "elf", "pdf"):
        d = SIGS[k]("uu-kind-" + k)
        add("uu-kind-" + k, "uuencode", hdrs("uu " + k) + "\n" + TEXT + uuencode(d, "f." + k), [("f." + k, d, True)])


# ---------------------------------------------------------------- class enc
def gen_enc():
    def case(n, body, d, ctype="text/plain; charset=us-ascii", cte=None, listed=True, alts=(), **kw):
        blk = body[len(TEXT):] if body.startswith(TEXT) else body
        blk = blk[:-len("\nregards\n")] if blk.endswith("\nregards\n") else blk
        alts = list(alts) + [body.encode("utf-8", "surrogateescape"), blk.encode("utf-8", "surrogateescape")]
        add("enc-" + n, "encoded-in-text", hdrs("enc " + n, ctype, cte) + "\n" + body,
            [("payload", d, listed, alts)], **kw)

    for k, f in SIGS.items():
        d = f("b64sig-" + k)
        case("base64-" + k, TEXT + b64(d) + "\nregards\n", d)
    d = filler("b64-random-long", 6000)
    case("base64-random-6k", TEXT + b64(d), d)
    d = pe("b64-oneline")
    case("base64-one-line", TEXT + base64.b64encode(d).decode() + "\n", d)
    d = pe("b64-quoted")
    case("base64-quoted", TEXT + "".join("> " + l + "\n" for l in b64(d).splitlines()), d)
    d = pe("b64-spaced")
    s = base64.b64encode(d).decode()
    case("base64-spaced", TEXT + " ".join(s[i:i + 4] for i in range(0, len(s), 4)) + "\n", d)
    d = pe("b64-zwsp")
    case("base64-zero-width", TEXT + "\u200b".join(s2 for s2 in b64(d).splitlines()) + "\n", d,
         ctype="text/plain; charset=utf-8", cte="8bit")
    d = pe("b64-urlsafe")
    case("base64-urlsafe", TEXT + base64.urlsafe_b64encode(d).decode() + "\n", d)
    d = pe("b64-double")
    case("base64-double-cte", b64((TEXT + b64(d)).encode()), d, cte="base64")
    d = pe("b64-utf16")
    case("base64-utf16", b64(b"\xff\xfe" + (TEXT + b64(d)).encode("utf-16-le")), d,
         ctype="text/plain; charset=utf-16", cte="base64")
    d = pe("b64-markdown")
    case("base64-code-fence", TEXT + "```\n" + b64(d) + "```\n", d, ctype="text/markdown; charset=us-ascii")
    d = pe("b32")
    s = base64.b32encode(d).decode()
    case("base32-pe", TEXT + "\n".join(s[i:i + 72] for i in range(0, len(s), 72)) + "\n", d)
    d = pe("hex-plain")
    s = d.hex()
    case("hex-pe", TEXT + "\n".join(s[i:i + 64] for i in range(0, len(s), 64)) + "\n", d)
    d = pe("hex-xxd")
    case("xxd-dump-pe", TEXT + xxd_dump(d), d)
    d = pe("qp-binary")
    case("qp-pasted-pe", TEXT + qp_all(d), d)
    d = pe("pct")
    case("percent-pe", TEXT + "".join("%%%02X" % c for c in d) + "\n", d)
    d = pe("a85")
    case("ascii85-pe", TEXT + "<~" + base64.a85encode(d, wrapcol=72).decode() + "~>\n", d)
    d = pe("binhex")
    case("binhex-pe", TEXT + binhex(d), d)
    d = zipf("binhex-zip")
    case("binhex-zip", "Mac users see below.\n\n" + binhex(d, "doc.zip"), d)
    d = pe("yenc")
    case("yenc-pe", TEXT + yenc(d).decode("latin-1"), d, ctype="text/plain; charset=iso-8859-1", cte="8bit")
    d = pe("yenc-utf8")
    case("yenc-pe-utf8-label", TEXT + yenc(d).decode("latin-1"), d, ctype="text/plain; charset=iso-8859-1",
         cte="8bit")
    for label in ("PGP MESSAGE", "PGP PUBLIC KEY BLOCK", "CERTIFICATE", "PKCS7", "PRIVATE KEY", "X-FILE"):
        d = pe("armor-" + label)
        n = "armor-" + label.lower().replace(" ", "-")
        hd = "Version: GnuPG v2\n" if label.startswith("PGP") else ""
        case(n, TEXT + armor(d, label, hd), d)
    d = pe("armor-indented")
    case("armor-pgp-indented", TEXT + "".join("    " + l + "\n" for l in armor(d).splitlines()), d)
    d = pe("armor-html")
    case("armor-pgp-html", "<html><body><pre>" + armor(d) + "</pre></body></html>\n", d,
         ctype="text/html; charset=us-ascii")
    d = pe("dataurl-text")
    case("data-url-plain", TEXT + "data:application/octet-stream;base64," + base64.b64encode(d).decode() + "\n", d)
    d = filler("calendar", 900)
    ics = ("BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nSUMMARY:Meeting\n"
           "ATTACH;FMTTYPE=application/octet-stream;ENCODING=BASE64;VALUE=BINARY:\n "
           + "\n ".join(base64.b64encode(pe("calendar")).decode()[i:i + 72]
                        for i in range(0, len(base64.b64encode(pe("calendar"))), 72))
           + "\nEND:VEVENT\nEND:VCALENDAR\n")
    case("ical-attach", ics, pe("calendar"), ctype="text/calendar; charset=us-ascii; method=REQUEST")
    vc = ("BEGIN:VCARD\nVERSION:3.0\nFN:X\nPHOTO;ENCODING=b;TYPE=JPEG:"
          + base64.b64encode(pe("vcard")).decode() + "\nEND:VCARD\n")
    case("vcard-photo", vc, pe("vcard"), ctype="text/vcard; charset=us-ascii")
    d = pe("b64-in-gzip")
    g = gzip.compress(d, mtime=0)
    add("enc-base64-gzip-of-pe", "encoded-in-text", hdrs("gz") + "\n" + TEXT + b64(g),
        [("payload.gz", g, True)])


# ---------------------------------------------------------------- class mime
def gen_mime():
    def one(n, raw, d, listed=True, alts=(), **kw):
        add("mime-" + n, "mime-ambiguity", raw, [("payload", d, listed, alts)], **kw)

    d = pe("pasted")
    pasted = ("Content-Type: multipart/mixed; boundary=\"zz\"\n\n--zz\nContent-Type: text/plain\n\nhello\n"
              "--zz\n" + attach(d, "pasted.exe") + "--zz--\n")
    one("pasted-message", hdrs("pasted") + "\n" + TEXT + "MIME-Version: 1.0\n" + pasted, d)
    d = pe("pasted-rfc822")
    one("pasted-full-message", hdrs("pasted2") + "\n---------- Forwarded message ---------\n"
        "From: a@b.example\nSubject: hi\nMIME-Version: 1.0\n" + pasted.replace(b64(pe("pasted")), b64(d)), d)
    d = pe("second-ct")
    body = mp([part("text/plain", "hello\n"), attach(d, "second.exe")], "sep")
    one("second-content-type", hdrs("ct twice", "text/plain; charset=us-ascii",
                                    extra="Content-Type: multipart/mixed; boundary=sep\n") + "\n" + body, d)
    d = pe("second-ct-rev")
    body = mp([part("text/plain", "hello\n"), attach(d, "second.exe")], "sep")
    one("second-content-type-reversed", hdrs("ct twice rev", "multipart/mixed; boundary=sep",
                                             extra="Content-Type: text/plain; charset=us-ascii\n") + "\n" + body, d)
    d = pe("boundary-twice")
    body = mp([part("text/plain", "visible\n")], "aaa", close=True)
    body2 = mp([part("text/plain", "other\n"), attach(d, "twice.exe")], "bbb")
    one("boundary-twice", hdrs("bnd twice", 'multipart/mixed; boundary="aaa"; boundary="bbb"') + "\n" + body + body2, d)
    d = pe("boundary-2231")
    body = mp([part("text/plain", "visible\n"), attach(d, "x.exe")], "ab")
    one("boundary-rfc2231", hdrs("bnd 2231", 'multipart/mixed; boundary*0="a"; boundary*1="b"') + "\n" + body, d)
    d = pe("headerless")
    one("headerless-part", hdrs("headerless", "multipart/mixed; boundary=b1") + "\n"
        + mp([part("text/plain", "hi\n"), "\n" + b64(d)]), d, alts=[b64(d).encode()])
    d = pe("headerless-uu")
    one("headerless-part-uu", hdrs("headerless uu", "multipart/mixed; boundary=b1") + "\n"
        + mp([part("text/plain", "hi\n"), "\n" + uuencode(d)]), d, alts=[uuencode(d).encode()])
    d = pe("no-ct")
    one("no-content-type-base64", hdrs("no ct", None, "base64") + "\n" + b64(d), d)
    d = pe("no-ct-no-mime")
    one("no-mime-version-base64", hdrs("no mime", None, "base64").replace("MIME-Version: 1.0\n", "") + "\n" + b64(d), d)
    d = pe("unknown-cte")
    one("unknown-cte", hdrs("x-cte", "text/plain; charset=us-ascii", "x-foo") + "\n" + b64(d), d,
        alts=[b64(d).encode()])
    d = pe("unknown-cte-part")
    one("unknown-cte-part", hdrs("x-cte2", "multipart/mixed; boundary=b1") + "\n"
        + mp([part("text/plain", "hi\n"), part("text/plain", b64(d), "x-gzip64")]), d, alts=[b64(d).encode()])
    d = pe("x-uuencode")
    one("cte-x-uuencode", hdrs("x-uue", "text/plain; charset=us-ascii", "x-uuencode") + "\n" + uuencode(d), d,
        alts=[uuencode(d).encode()])
    d = pe("cte-twice")
    one("cte-twice", hdrs("cte twice", "text/plain; charset=us-ascii", "7bit", "Content-Transfer-Encoding: base64\n")
        + "\n" + b64(d), d, alts=[b64(d).encode()])
    d = pe("cte-twice-rev")
    one("cte-twice-reversed", hdrs("cte twice2", "text/plain; charset=us-ascii", "base64",
                                   "Content-Transfer-Encoding: 7bit\n") + "\n" + b64(d), d, alts=[b64(d).encode()])
    # binary declared text/plain
    for k in ("pe", "zip", "elf", "pdf", "ole"):
        for cte in ("base64", "8bit", "binary", "7bit", "quoted-printable"):
            if k in ("elf", "pdf", "ole") and cte in ("binary", "7bit"):
                continue
            d = SIGS[k]("decl-" + k + "-" + cte)
            if cte == "base64":
                body = b64(d).encode()
            elif cte == "quoted-printable":
                body = qp_all(d).encode()
            else:
                body = d
            raw = hdrs("decl %s %s" % (k, cte), "text/plain; charset=us-ascii", cte).encode() + b"\n" + body + b"\n"
            one("text-plain-%s-%s" % (k, cte), raw, d, alts=[d + b"\n", body])
    d = pe("html-decl")
    one("text-html-is-zip", hdrs("html zip", "text/html; charset=utf-8", "base64") + "\n" + b64(zipf("html-decl")),
        zipf("html-decl"))
    d = pe("preamble")
    one("preamble-base64", hdrs("preamble", "multipart/mixed; boundary=b1") + "\n"
        + mp([part("text/plain", "hi\n")], preamble="This is a MIME message.\n" + b64(d) + "\n"), d,
        alts=[("This is a MIME message.\n" + b64(d)).encode()])
    d = pe("preamble-uu")
    one("preamble-uu", hdrs("preamble uu", "multipart/mixed; boundary=b1") + "\n"
        + mp([part("text/plain", "hi\n")], preamble=uuencode(d) + "\n"), d, alts=[uuencode(d).encode()])
    d = pe("epilogue")
    one("epilogue-base64", hdrs("epilogue", "multipart/mixed; boundary=b1") + "\n"
        + mp([part("text/plain", "hi\n")], epilogue=b64(d)), d, alts=[b64(d).encode()])
    d = pe("epilogue-mime")
    one("epilogue-mime-part", hdrs("epilogue2", "multipart/mixed; boundary=b1") + "\n"
        + mp([part("text/plain", "hi\n")], epilogue="--b1\n" + attach(d, "late.exe")), d)
    d = pe("unclosed")
    one("boundary-unclosed", hdrs("unclosed", "multipart/mixed; boundary=b1") + "\n"
        + mp([part("text/plain", "hi\n"), attach(d, "open.exe")], close=False), d)
    d = pe("never")
    one("boundary-never-occurs", hdrs("never", "multipart/mixed; boundary=nowhere") + "\n"
        + "--elsewhere\n" + part("text/plain", "hi\n") + "--elsewhere\n" + attach(d, "n.exe") + "--elsewhere--\n",
        d, alts=[])
    add("mime-boundary-never-text-only", "mime-ambiguity", hdrs("never text", "multipart/mixed; boundary=nowhere")
        + "\nJust some text that is not in any part.\n", min_listed=0,
        shown_or_listed=["Just some text that is not in any part."],
        note="content outside any part: shown or listed")
    d = pe("ws-delim")
    one("boundary-trailing-ws", hdrs("ws delim", "multipart/mixed; boundary=b1") + "\n"
        + "--b1 \t\n" + part("text/plain", "hi\n") + "--b1\t\n" + attach(d, "ws.exe") + "--b1-- \n", d)
    d = pe("prefix-bnd")
    inner = mp([part("text/plain", "inner\n"), attach(d, "p.exe")], "ab")
    one("boundary-prefix-nested", hdrs("prefix", "multipart/mixed; boundary=a") + "\n"
        + mp([part("multipart/mixed; boundary=ab", inner)], "a"), d)
    d = pe("ct-space-colon")
    one("header-space-before-colon", hdrs("space colon", None, extra="Content-Type : multipart/mixed; boundary=b1\n")
        + "\n" + mp([part("text/plain", "hi\n"), attach(d)]), d, alts=[d])
    d = pe("ct-uppercase")
    one("ct-case-and-comments", hdrs("case", "MULTIPART/Mixed (x) ; BOUNDARY=\"b1\" (y)") + "\n"
        + mp([part("TEXT/PLAIN", "hi\n"), attach(d)]), d)
    d = pe("ct-ws-line")
    one("whitespace-separator-line", hdrs("ws sep", "multipart/mixed; boundary=b1") + " \n"
        + mp([part("text/plain", "hi\n"), attach(d)]), d, alts=[b64(d).encode()])
    d = pe("nocolon")
    raw = hdrs("nocolon", "text/plain").replace("MIME-Version", "X-Junk line without colon\nMIME-Version")
    one("header-without-colon", raw + "\n" + b64(d), d, alts=[b64(d).encode()])
    d = pe("rfc822-nested")
    inner = "From: x@evil.example\nSubject: in\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=in\n\n" \
        + mp([part("text/plain", "inner\n"), attach(d, "inner.exe")], "in")
    one("rfc822-attachment", hdrs("fwd", "multipart/mixed; boundary=b1") + "\n"
        + mp([part("text/plain", "fwd\n"), part("message/rfc822", inner)]), d)
    d = pe("rfc822-deep")
    m = "From: x@evil.example\nSubject: deep\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=z\n\n" \
        + mp([part("text/plain", "bottom\n"), attach(d, "deep.exe")], "z")
    for i in range(12):
        m = "From: x@evil.example\nSubject: level %d\nMIME-Version: 1.0\nContent-Type: message/rfc822\n\n" % i + m
    one("rfc822-deep", hdrs("deep rfc822", "message/rfc822") + "\n" + m, d)
    d = pe("nest-limit")
    m = mp([part("text/plain", "DEEP-TEXT-BEYOND-LIMIT\n"), attach(d, "deep.exe")], "n0")
    for i in range(1, 120):
        m = mp([part("multipart/mixed; boundary=n%d" % (i - 1), m)], "n%d" % i)
    one("multipart-nesting-limit", hdrs("nest", "multipart/mixed; boundary=n119") + "\n" + m, d,
        outcome="either", note="text past the nesting limit: shown or listed (min_listed covers the exe)")
    d = pe("digest")
    dg = "Content-Type: multipart/mixed; boundary=in\n\n" + mp([part("text/plain", "x\n"), attach(d, "dg.exe")], "in")
    one("digest-default-rfc822", hdrs("digest", "multipart/digest; boundary=b1") + "\n" + mp(["\n" + dg]), d)
    d = pe("partial")
    inner = "Subject: part\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=in\n\n" \
        + mp([part("text/plain", "x\n"), attach(d, "partial.exe")], "in")
    one("message-partial", hdrs("partial", 'message/partial; id="x@evil"; number=1; total=1') + "\n" + inner, d,
        alts=[inner.encode()])
    d = pe("external")
    one("message-external-body", hdrs("ext", 'multipart/mixed; boundary=b1') + "\n"
        + mp([part("text/plain", "hi\n"), part('message/external-body; access-type=URL; URL="http://evil.example/x.exe"',
                                               "Content-Type: application/octet-stream\n\n" + b64(d))]), d,
        alts=[("Content-Type: application/octet-stream\n\n" + b64(d)).encode()])
    d = pe("rfc822-headers")
    one("text-rfc822-headers", hdrs("rfc822-headers", "multipart/report; report-type=x; boundary=b1") + "\n"
        + mp([part("text/plain", "x\n"), part("text/rfc822-headers", "Subject: x\nX-Data: " + base64.b64encode(d).decode()
                                              + "\n")]), d)
    d = filler("tnef", 600)
    tn = b"\x78\x9f\x3e\x22" + d
    one("ms-tnef", hdrs("tnef", "multipart/mixed; boundary=b1") + "\n"
        + mp([part("text/plain", "hi\n"), attach(tn, "winmail.dat", "application/ms-tnef")]), tn)
    d = pe("name-param")
    one("text-plain-name-exe", hdrs("namep", 'multipart/mixed; boundary=b1') + "\n"
        + mp([part("text/plain", "hi\n"), part('text/plain; name="run.exe"', b64(d), "base64")]), d)
    d = pe("ewfilename")
    one("encoded-word-filename", hdrs("ew", "multipart/mixed; boundary=b1") + "\n"
        + mp([part("text/plain", "hi\n"), part('application/octet-stream; name="=?UTF-8?B?6KuL5rGC5pu4LmV4ZQ==?="',
                                               b64(d), "base64",
                                               'Content-Disposition: attachment; filename="=?UTF-8?B?6KuL5rGC5pu4LmV4ZQ==?="\n')]), d)
    d = pe("smime")
    one("pkcs7-mime", hdrs("p7m", 'application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"', "base64")
        + "\n" + b64(d), d)
    d = pe("mixed-eol")
    raw = (hdrs("eol", "multipart/mixed; boundary=b1") + "\n" + mp([part("text/plain", "hi\n"), attach(d)]))
    raw = "".join(l + ("\r\n" if i % 3 == 0 else "\n" if i % 3 == 1 else "\r") for i, l in enumerate(raw.split("\n")))
    one("mixed-line-ends", raw, d, alts=[b64(d).encode()])
    d = pe("crcrlf")
    raw = (hdrs("crcrlf", "multipart/mixed; boundary=b1") + "\n" + mp([part("text/plain", "hi\n"), attach(d)]))
    one("cr-cr-lf", raw.replace("\n", "\r\r\n"), d, alts=[b64(d).encode()])
    d = pe("cr-only-attach")
    raw = (hdrs("cr only attach", "multipart/mixed; boundary=b1") + "\n" + mp([part("text/plain", "hi\n"), attach(d)]))
    one("cr-only-with-attachment", raw.replace("\n", "\r"), d, alts=[b64(d).encode()])
    d = pe("html-body-zip")
    one("application-inline-no-name", hdrs("inline", "multipart/mixed; boundary=b1") + "\n"
        + mp([part("text/plain", "hi\n"), part("application/octet-stream", b64(d), "base64",
                                               "Content-Disposition: inline\n")]), d)
    d = pe("charset-unknown")
    one("charset-unknown-binary", hdrs("cs", "text/plain; charset=x-evil-unknown", "8bit").encode() + b"\n" + d + b"\n",
        d, alts=[d + b"\n"])


# ---------------------------------------------------------------- class html
def gen_html():
    H = "text/html; charset=utf-8"

    def page(n, html, d=None, absent=(), present=(), listed=True, alts=(), **kw):
        pl = [("payload", d, listed, alts)] if d is not None else []
        add("html-" + n, "html", hdrs("html " + n, H) + "\n<html><head>%s</head><body><p>Visible text.</p>%s</body></html>\n"
            % html, pl, absent=absent, present=present, **kw)

    hidden = [
        ("class-style", '<style>.x{display:none}</style>', '<div class="x">%s</div>'),
        ("id-style", '<style>#h { display : none }</style>', '<div id="h">%s</div>'),
        ("visibility-class", '<style>.v{visibility:hidden}</style>', '<span class="v">%s</span>'),
        ("hidden-attr", '', '<div hidden>%s</div>'),
        ("aria-hidden-zero", '', '<div aria-hidden="true" style="width:0;height:0;overflow:hidden">%s</div>'),
        ("inline-style", '', '<div style="display:none">%s</div>'),
        ("inline-upper", '', '<div style="DISPLAY: NONE !important">%s</div>'),
        ("font-size-zero", '', '<span style="font-size:0">%s</span>'),
        ("tag-selector", '<style>span{display:none}</style>', '<span>%s</span>'),
        ("attr-selector", '<style>[data-h]{display:none}</style>', '<div data-h="1">%s</div>'),
        ("media-rule", '<style>@media all { .m { display:none } }</style>', '<div class="m">%s</div>'),
        ("multi-class", '<style>.a.b{display:none}</style>', '<div class="a b">%s</div>'),
        ("max-height-zero", '', '<div style="max-height:0;overflow:hidden">%s</div>'),
        ("opacity-zero", '', '<div style="opacity:0">%s</div>'),
        ("template", '', '<template>%s</template>'),
        ("style-in-body", '', '<style>.late{display:none}</style><div class="late">%s</div>'),
    ]
    for n, head, wrap in hidden:
        d = pe("hidden-" + n)
        page("hidden-" + n, (head, "<p>" + wrap % ("HIDDEN-TEXT-MARKER " + b64(d)) + "</p>"), d,
             absent=["HIDDEN-TEXT-MARKER"], alts=[("HIDDEN-TEXT-MARKER " + b64(d)).encode(), b64(d).encode()])
    for n, tag in (("comment", "<!-- %s -->"), ("script", "<script>var x='%s';</script>"),
                   ("noscript", "<noscript>%s</noscript>"), ("title", "%s")):
        d = pe("html-" + n)
        payload = b64(d).replace("\n", "")
        if n == "title":
            page(n, ("<title>%s</title>" % payload, ""), d, listed=False)
        else:
            page(n, ("", tag % payload), d, listed=False)
    d = pe("dataurl-linktext")
    u = "data:application/octet-stream;base64," + base64.b64encode(d).decode()
    page("data-url-link-text", ("", '<a href="https://www.city.example.lg.jp/">%s</a>' % u), d, absent=["data:application"])
    d = pe("dataurl-href")
    u = "data:application/octet-stream;base64," + base64.b64encode(d).decode()
    page("data-url-href", ("", '<a href="%s">請求書を開く</a>' % u), d, absent=["data:"], listed=False)
    d = pe("dataurl-img")
    page("data-url-img", ("", '<img src="data:image/png;base64,%s" alt="logo">' % base64.b64encode(d).decode()), d,
         absent=["data:"], listed=False)
    d = pe("dataurl-object")
    page("data-url-object", ("", '<object data="data:application/x-msdownload;base64,%s"></object>'
                             % base64.b64encode(d).decode()), d, absent=["data:"], listed=False)
    d = pe("iframe-srcdoc")
    page("iframe-srcdoc", ("", '<iframe srcdoc="&lt;p&gt;%s&lt;/p&gt;"></iframe>' % b64(d).replace("\n", " ")), d,
         listed=False)
    for scheme, target in (("javascript", "javascript:alert(document.cookie)"),
                           ("vbscript", "vbscript:MsgBox(1)"),
                           ("file", "file://///evil.example/share/run.exe"),
                           ("javascript-entity", "&#106;avascript:alert(2)"),
                           ("javascript-tab", "java\tscript:alert(3)"),
                           ("javascript-upper", " JAVASCRIPT:alert(4)")):
        page("link-" + scheme, ("", '<a href="%s">Click here</a> <a href="%s">%s</a>' % (target, target, target)),
             absent=["alert(", "MsgBox", "evil.example/share", "javascript:", "vbscript:", "file:"])
    page("link-alt-text-only", ("", '<a href="https://evil.example/login"><img alt="www.city.example.lg.jp" src="cid:x"></a>'),
         present=["evil.example", "警告"])
    idn = "www.аpple.com"  # Cyrillic a
    page("link-idn-homograph", ("", '<a href="https://%s/login">https://%s/login</a>' % (idn, idn)),
         present=[idn.encode("idna").decode(), "警告"])
    idn2 = "www.city.exаmple.lg.jp"
    page("link-idn-mixed-text", ("", '<a href="https://%s/">市役所</a>' % idn2), present=[idn2.encode("idna").decode()])
    page("link-userinfo", ("", '<a href="https://www.city.example.lg.jp@evil.example/">https://www.city.example.lg.jp@evil.example/</a>'),
         present=["警告"])
    page("link-percent-host", ("", '<a href="https://%65vil.example/">https://%65vil.example/</a>'), present=["警告"])
    page("link-base-href", ('<base href="https://evil.example/">', '<a href="/login">https://www.city.example.lg.jp/login</a>'),
         present=["警告"])
    page("meta-refresh", ('<meta http-equiv="refresh" content="0;url=javascript:alert(5)">', ''), absent=["alert(5)"])
    d = pe("svg-script")
    page("svg-foreign", ("", '<svg><script>alert(6)</script><desc>%s</desc></svg>' % b64(d)), d, absent=["alert(6)"],
         listed=False)
    d = pe("html-hidden-uu")
    page("hidden-uu-class", ('<style>.q{display:none}</style>', '<pre class="q">%s</pre>'
                             % uuencode(d).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")), d)
    # alternatives that say different things
    d = pe("alt-html-only")
    add("html-alternative-divergent", "html", hdrs("alt", "multipart/alternative; boundary=b1") + "\n"
        + mp([part("text/plain", "Visible text.\n"), part(H, "<p>Visible text.</p><pre>" + b64(d) + "</pre>")]),
        [("payload", d, False)])


# ---------------------------------------------------------------- class hdr
def gen_hdr():
    def h(n, extra, absent=(), subject=None, **kw):
        raw = hdrs(subject or "hdr " + n, extra=extra).encode("utf-8", "surrogateescape") if isinstance(extra, str) else None
        add("hdr-" + n, "headers", raw + b"\n" + TEXT.encode(), absent=absent, **kw)

    add("hdr-long-from", "headers", hdrs("long from").replace(
        "From: Attacker <attacker@evil.example>", "From: " + "A" * 3000 + " <attacker@evil.example>") + "\n" + TEXT)
    add("hdr-long-subject-nofold", "headers", hdrs("S" * 5000) + "\n" + TEXT)
    add("hdr-huge-header", "headers", hdrs("huge", extra="X-Big: " + "x" * 200000 + "\n") + "\n" + TEXT)
    h("nul-subject", "", subject="before\0after")
    h("bare-cr-subject", "", subject="before\rX-Injected: yes", absent_header=["X-Injected"])
    h("c0-subject", "", subject="esc\x1b[31mred\x07bell\x08")
    h("invalid-utf8", "", subject="bad \udcff\udcfe bytes")
    h("raw-sjis-subject", "", subject="請求書".encode("shift_jis").decode("latin-1").encode("latin-1").decode("utf-8", "surrogateescape"))
    h("ms-signals", "X-MS-Has-Attach: yes\nX-MS-TNEF-Correlator: <00000000@evil>\nContent-Class: urn:content-classes:message\n",
      absent_header=["X-MS-Has-Attach", "X-MS-TNEF-Correlator", "Content-Class"])
    inj = base64.b64encode(b"hi\r\nX-Injected: 1\r\n\r\nbody").decode()
    h("encoded-word-crlf", "", subject="=?UTF-8?B?%s?=" % inj, absent_header=["X-Injected"])
    nul = base64.b64encode(b"a\x00b\x1bc").decode()
    h("encoded-word-nul", "", subject="=?UTF-8?B?%s?=" % nul)
    h("dup-from", "From: Second <second@evil.example>\n")
    h("many-received", "".join("Received: from h%d.evil.example by mx; Wed, 02 Dec 2026 10:00:00 +0900\n" % i
                               for i in range(3000)), outcome="either")
    h("continuation-only", "X-Cont: a\n \n\t\n \n")
    h("8bit-header-name", "X-\udce9vil: 1\n")
    d = pe("subject-b64")
    add("hdr-subject-base64-pe", "headers", hdrs("=?UTF-8?B?%s?=" % base64.b64encode(d).decode()) + "\n" + TEXT,
        [("subject-bytes", d, False)], note="a file in a header: not recoverable from the output headers")
    d = pe("from-b64")
    add("hdr-from-name-base64-pe", "headers", hdrs("x").replace(
        "From: Attacker", "From: \"" + base64.b64encode(d).decode() + "\"") + "\n" + TEXT, [("from-bytes", d, False)])


# ---------------------------------------------------------------- invented
def gen_inv():
    d = pe("filename-2231")
    s = base64.b64encode(pe("fn-payload")).decode()
    fn = "; ".join('filename*%d="%s"' % (i, s[j:j + 60]) for i, j in enumerate(range(0, len(s), 60)))
    add("inv-filename-carries-base64", "invented", hdrs("fn", "multipart/mixed; boundary=b1") + "\n"
        + mp([part("text/plain", "hi\n"), part("application/octet-stream", b64(d), "base64",
                                               "Content-Disposition: attachment; " + fn + "\n")]),
        [("attachment", d, True), ("filename-payload", pe("fn-payload"), False)],
        note="the notice prints the file name: a name that is base64 of a PE must not survive")
    d = pe("filename-newline")
    add("inv-filename-notice-injection", "invented", hdrs("fn nl", "multipart/mixed; boundary=b1") + "\n"
        + mp([part("text/plain", "hi\n"), part("application/octet-stream", b64(d), "base64",
                                               'Content-Disposition: attachment; filename*=UTF-8\'\'a.txt%0A%0A'
                                               '%E5%81%BD%E3%81%AE%E9%80%9A%E7%9F%A5INJECTED-NOTICE\n')]),
        [("attachment", d, True)], absent=["\nINJECTED-NOTICE", "\n偽の通知"])
    d = pe("rtlo")
    add("inv-filename-rtlo", "invented", hdrs("rtlo", "multipart/mixed; boundary=b1") + "\n"
        + mp([part("text/plain", "hi\n"), attach(d, "invoice\u202efdp.exe")]), [("attachment", d, True)],
        absent=["\u202e"])
    d = pe("desc")
    add("inv-content-description-base64", "invented", hdrs("desc", "multipart/mixed; boundary=b1") + "\n"
        + mp([part("text/plain", "hi\n"), part("application/octet-stream", b64(pe("desc-a")), "base64",
                                               "Content-Description: " + base64.b64encode(d).decode() + "\n")]),
        [("description", d, False), ("attachment", pe("desc-a"), True)])
    d = pe("rfc822-subject")
    inner = "From: x@e\nSubject: =?UTF-8?B?%s?=\nContent-Type: text/plain\n\nhi\n" % base64.b64encode(d).decode()
    add("inv-rfc822-subject-payload", "invented", hdrs("inner subj", "multipart/mixed; boundary=b1") + "\n"
        + mp([part("text/plain", "x\n"), part("message/rfc822", inner)]), [("subject", d, False)])
    # the payload split between a text part and an HTML part
    d = pe("split-b64")
    s = b64(d).splitlines(True)
    add("inv-base64-split-parts", "invented", hdrs("split b64", "multipart/mixed; boundary=b1") + "\n"
        + mp([part("text/plain", "".join(s[:len(s) // 2])), part("text/plain", "".join(s[len(s) // 2:]))]),
        [("payload", d, False)])
    d = pe("uu-in-zip-text")  # a ZIP whose bytes are declared text/plain inside message/rfc822
    z = zipf("uu-in-zip-text")
    inner = "From: x@e\nMIME-Version: 1.0\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n" + b64(z)
    add("inv-rfc822-text-is-zip", "invented", hdrs("rfc822 zip", "message/rfc822") + "\n" + inner,
        [("zip", z, True, [b64(z).encode()])])
    d = pe("dsn-text")
    add("inv-dsn-returned-message", "invented", hdrs("dsn2", "multipart/report; report-type=delivery-status; boundary=b1")
        + "\n" + mp([part("text/plain", "failed\n"), part("message/delivery-status", "Reporting-MTA: dns; x\n\nAction: failed\n"),
                     part("message/rfc822", "From: a@b\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=r\n\n"
                          + mp([part("text/plain", "orig\n"), attach(d, "orig.exe")], "r"))]), [("attachment", d, True)])
    d = pe("lone-begin")
    add("inv-uu-in-html-alt-only", "invented", hdrs("uu in html alt", "multipart/alternative; boundary=b1") + "\n"
        + mp([part("text/plain", "Dear staff\n"), part("text/html", "<pre>" + uuencode(d).replace("&", "&amp;")
                                                                        .replace("<", "&lt;").replace(">", "&gt;") + "</pre>")]),
        [("payload", d, False)])
    d = pe("gbk")
    add("inv-uu-in-utf16-html", "invented", hdrs("utf16 html", "text/html; charset=utf-16", "base64") + "\n"
        + b64(("<pre>" + uuencode(d).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") + "</pre>")
              .encode("utf-16")), [("payload", d, True)])
    d = pe("meta-charset")
    add("inv-html-meta-charset-utf7", "invented", hdrs("meta cs", "text/html", "7bit") + "\n"
        + '<html><head><meta charset="utf-7"></head><body><pre>' + (uuencode(d)).encode("utf-7").decode()
        + "</pre></body></html>\n", [("payload", d, True)])


# ---------------------------------------------------------------- cost
def gen_cost(quick):
    # nested blockquotes around a pre of many short lines
    depth, lines = (300, 1000000) if not quick else (100, 50000)
    html = "<html><body>" + "<blockquote>" * depth + "<pre>" + "a\n" * lines + "</pre>" + "</blockquote>" * depth + "</body></html>\n"
    add("cost-blockquote-pre", "cost", hdrs("bq", "text/html; charset=us-ascii") + "\n" + html, outcome="either",
        max_rss_mb=256)
    n = 40 * 1024 * 1024 if not quick else 1024 * 1024
    line = ("\xe9" * 70 + "\n").encode("latin-1")
    body = line * (n // len(line))
    add("cost-8bit-as-ascii", "cost", hdrs("8bit", "text/plain; charset=us-ascii", "8bit").encode() + b"\n" + body,
        outcome="either", max_rss_mb=256)
    add("cost-long-line", "cost", hdrs("long line") + "\n" + "x" * (20_000_000 if not quick else 500_000) + "\n",
        outcome="either", max_rss_mb=256)
    m = "hi\n"
    for i in range(2000 if not quick else 300):
        m = "--n%d\nContent-Type: multipart/mixed; boundary=n%d\n\n%s--n%d--\n" % (i + 1, i, m if i else
                                                                                   "--n0\nContent-Type: text/plain\n\nbottom\n--n0--\n", i + 1)
    add("cost-deep-multipart", "cost", hdrs("deep", "multipart/mixed; boundary=n%d" % (2000 if not quick else 300))
        + "\n" + m, outcome="either", max_rss_mb=256)
    k = 20000 if not quick else 2000
    add("cost-many-parts", "cost", hdrs("many", "multipart/mixed; boundary=b1") + "\n"
        + mp([part("text/plain", "p%d\n" % i) for i in range(k)]), outcome="either", max_rss_mb=256)
    add("cost-many-uu-begins", "cost", hdrs("begins") + "\n" + "begin 644 x\n`\nend\n" * (100000 if not quick else 5000),
        outcome="either", max_rss_mb=256)
    add("cost-nested-divs", "cost", hdrs("divs", "text/html") + "\n" + "<div>" * (200000 if not quick else 20000) + "x",
        outcome="either", max_rss_mb=256)
    add("cost-qp-soft-breaks", "cost", hdrs("qp", "text/plain", "quoted-printable") + "\n" + "=\n" * (2000000 if not quick else 100000),
        outcome="either", max_rss_mb=256)
    add("cost-xml-entities", "cost", hdrs("ent", "text/html") + "\n" + '<!DOCTYPE html [<!ENTITY a "aaaaaaaaaa">'
        + "".join('<!ENTITY %s "%s">' % (chr(98 + i), ("&%s;" % chr(97 + i)) * 10) for i in range(8))
        + ']><html><body><p>&i;</p></body></html>\n', outcome="either", max_rss_mb=256)
    add("cost-many-links", "cost", hdrs("links", "text/html") + "\n"
        + '<a href="https://evil.example/">https://www.city.example.lg.jp/</a>\n' * (100000 if not quick else 5000),
        outcome="either", max_rss_mb=256)


def main():
    args = sys.argv[1:]
    quick = "--quick" in args
    args = [a for a in args if a != "--quick"]
    if len(args) != 1:
        sys.exit("usage: gen.py [--quick] OUTDIR")
    out = args[0]
    os.makedirs(out, exist_ok=True)
    for g in (gen_uu, gen_enc, gen_mime, gen_html, gen_hdr, gen_inv):
        g()
    gen_cost(quick)
    names = set()
    manifest = []
    for c in CASES:
        assert c["name"] not in names, c["name"]
        names.add(c["name"])
        raw = c.pop("raw")
        with open(os.path.join(out, c["name"] + ".eml"), "wb") as f:
            f.write(raw)
        c["input_size"] = len(raw)
        with open(os.path.join(out, c["name"] + ".json"), "w") as f:
            json.dump(c, f, ensure_ascii=False, indent=1)
        manifest.append(c["name"])
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print("gen.py: %d cases in %s%s" % (len(manifest), out, " (quick)" if quick else ""))


if __name__ == "__main__":
    main()
