"""advlib.py — shared by check.py and difftest.py: run the real engine
(`textizectl convert` and `convert --json`, under /usr/bin/time -v), read
its output as a mail client would (Python's email package, not the engine's
code), and try every decoder a recipient could use to turn the delivered
text back into a file. Written without looking at the engine's code: the
point is an independent judge.
"""
import base64
import binascii
import email
import email.policy
import hashlib
import json
import os
import quopri
import re
import subprocess
import tempfile
import unicodedata
import urllib.parse

SIGNATURES = [
    (b"MZ", "PE/MZ"), (b"\x7fELF", "ELF"), (b"PK\x03\x04", "ZIP"), (b"PK\x05\x06", "ZIP"),
    (b"%PDF-", "PDF"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE"), (b"Rar!\x1a\x07", "RAR"),
    (b"7z\xbc\xaf\x27\x1c", "7z"), (b"\x1f\x8b\x08", "gzip"), (b"MSCF", "CAB"),
    (b"\x4c\x00\x00\x00\x01\x14\x02\x00", "LNK"), (b"\xcf\xfa\xed\xfe", "Mach-O"),
    (b"\xfe\xed\xfa\xcf", "Mach-O"), (b"\xca\xfe\xba\xbe", "Mach-O/class"), (b"\x78\x9f\x3e\x22", "TNEF"),
    (b"{\\rtf", "RTF"), (b"\x89PNG", "PNG"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"),
]
TEXTIZECTL = None


def run_engine(build, path, cache=None):
    """Convert path twice (message and --json). Returns a dict:
    rc, out (bytes), stderr, json (dict or None), json_rc, secs, rss_kb."""
    ctl = os.path.join(build, "tools", "textizectl")
    key = None
    if cache:
        key = os.path.join(cache, hashlib.sha256(os.path.abspath(path).encode()).hexdigest()[:24])
        if os.path.exists(key + ".res"):
            with open(key + ".res") as f:
                r = json.load(f)
            with open(key + ".out", "rb") as f:
                r["out"] = f.read()
            return r
    with tempfile.TemporaryDirectory() as td:
        tfile = os.path.join(td, "time")
        with open(os.path.join(td, "out"), "wb") as o, open(os.path.join(td, "err"), "wb") as e:
            p = subprocess.run(["/usr/bin/time", "-v", "-o", tfile, ctl, "convert", path], stdout=o, stderr=e)
        out = open(os.path.join(td, "out"), "rb").read()
        err = open(os.path.join(td, "err"), "rb").read().decode("utf-8", "replace")
        secs = rss = 0.0
        for line in open(tfile, errors="replace"):
            line = line.strip()
            if line.startswith("Maximum resident set size"):
                rss = int(line.split(":")[1])
            elif line.startswith("Elapsed (wall clock) time"):
                t = line.split(": ", 1)[1].split(":")
                secs = sum(float(x) * 60 ** i for i, x in enumerate(reversed(t)))
        pj = subprocess.run([ctl, "convert", "--json", path], capture_output=True)
        try:
            js = json.loads(pj.stdout.decode("utf-8"))
        except ValueError:
            js = None
    r = {"rc": p.returncode, "stderr": err, "json": js, "json_rc": pj.returncode, "secs": secs, "rss_kb": rss}
    if key:
        with open(key + ".res", "w") as f:
            json.dump(r, f)
        with open(key + ".out", "wb") as f:
            f.write(out)
    r["out"] = out
    return r


def split_output(out):
    """Header block bytes and the rest (the output's own line ends)."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        i = out.find(sep)
        if i >= 0:
            return out[:i + len(sep) // 2], out[i + len(sep):]
    return out, b""


def delivered(out):
    """What a client shows: (header text, body text, problems). Parsed with
    the email package; every leaf must be text/plain in valid UTF-8."""
    problems = []
    msg = email.message_from_bytes(out, policy=email.policy.compat32)
    htext = []
    for k, v in msg.items():
        try:
            v = str(email.header.make_header(email.header.decode_header(v)))
        except Exception:
            v = str(v)
        htext.append("%s: %s" % (k, v))
    texts = []
    for p in msg.walk():
        if p.is_multipart():
            continue
        ct = p.get_content_type()
        if ct != "text/plain":
            problems.append("output has a %s part" % ct)
        b = p.get_payload(decode=True) or b""
        cs = p.get_content_charset() or "us-ascii"
        try:
            texts.append(b.decode("utf-8" if cs.lower() in ("utf-8", "us-ascii") else cs))
        except (UnicodeDecodeError, LookupError):
            problems.append("output body is not valid %s" % cs)
            texts.append(b.decode("utf-8", "replace"))
    return "\n".join(htext), "\n".join(texts), problems


def header_problems(hdr):
    """Issue 12 item 5 on the delivered header block."""
    probs = []
    for n, line in enumerate(hdr.split(b"\n")):
        line = line[:-1] if line.endswith(b"\r") else line
        if len(line) > 998:
            probs.append("header line %d is %d octets" % (n + 1, len(line)))
        bad = sorted({c for c in line if (c < 32 and c != 9) or c == 127})
        if bad:
            probs.append("header line %d has control bytes %s" % (n + 1, ",".join("%02x" % c for c in bad)))
        if any(c >= 128 for c in line):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                probs.append("header line %d is not valid UTF-8" % (n + 1))
    for name in (b"x-ms-has-attach", b"x-ms-tnef-correlator", b"content-class"):
        if re.search(rb"(?mi)^" + re.escape(name) + rb"\s*:", hdr):
            probs.append("content-signal header %s kept" % name.decode())
    if len(re.findall(rb"(?mi)^content-type\s*:", hdr)) != 1:
        probs.append("not exactly one Content-Type")
    return probs


# ------------------------------------------------------------------ decoders
B64LINE = re.compile(r"^[A-Za-z0-9+/=_-]{8,}$")
B64INLINE = re.compile(r"[A-Za-z0-9+/_-]{40,}={0,2}")
B32RUN = re.compile(r"[A-Z2-7]{40,}=*")
HEXRUN = re.compile(r"[0-9a-fA-F]{64,}")
A85 = re.compile(r"<~(.*?)~>", re.S)
ARMOR = re.compile(r"-----BEGIN ([^\n-]{1,60})-----\n(.*?)-----END \1-----", re.S)
UUBEGIN = re.compile(r"^(begin(?:-base64)?)[ \t]+([0-7]{1,6})[ \t]+(.+)$", re.M)
ZW = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


def variants(text):
    """Forms of the text a recipient gets by trivial editing: line ends
    normalised, indentation and quote marks removed, zero-width characters
    dropped, NFKC."""
    t = text.replace("\r\n", "\n").replace("\r", "\n")
    out = {"as-is": t}
    out["unindented"] = "\n".join(l.strip(" \t") for l in t.split("\n"))
    out["unquoted"] = "\n".join(re.sub(r"^(?:[ \t]*>)+[ \t]?", "", l).strip(" \t") for l in t.split("\n"))
    z = t.translate(ZW)
    if z != t:
        out["no-zero-width"] = "\n".join(l.strip(" \t") for l in z.split("\n"))
    n = unicodedata.normalize("NFKC", t)
    if n != t:
        out["nfkc"] = n
    return out


def b64dec(s):
    s = re.sub(r"[^A-Za-z0-9+/_-]", "", s)
    res = []
    for off in (0, 1, 2, 3) if len(s) >= 200 else (0,):
        x = s[off:]
        x = x[:len(x) - len(x) % 4]
        for alt in (None, b"-_"):
            try:
                res.append(base64.b64decode(x, altchars=alt) if alt else base64.b64decode(x.replace("-", "+").replace("_", "/")))
            except ValueError:
                pass
    return res


def base64_runs(t):
    """Runs of base64 lines (joined), lines with spaces removed, inline runs."""
    runs = []
    cur = []
    for l in t.split("\n"):
        s = l.strip()
        s2 = s.replace(" ", "")
        if B64LINE.match(s2) and (" " not in s or re.fullmatch(r"(?:[A-Za-z0-9+/=]{4} ?)+", s)):
            cur.append(s2)
        else:
            if cur:
                runs.append("".join(cur))
            cur = []
    if cur:
        runs.append("".join(cur))
    runs = [r for r in runs if len(r) >= 40]
    runs += B64INLINE.findall(t)
    return runs


def uu_python(lines):
    """A lenient uudecoder: indentation, trailing junk and short lines as
    loose decoders accept them."""
    out = bytearray()
    for l in lines:
        s = l.strip(" \t")
        if s in ("end", "`", ""):
            if s == "end":
                break
            continue
        n = (ord(s[0]) - 32) & 63
        need = (n + 2) // 3 * 4
        body = s[1:1 + need].ljust(need, "`")
        try:
            out += binascii.a2b_uu(chr(32 + n) + body)[:n]
        except ValueError:
            try:
                out += binascii.a2b_uu(s)
            except ValueError:
                pass
    return bytes(out)


def run_tool(argv, data, td, outname=None, timeout=20):
    try:
        p = subprocess.run(argv, input=data, capture_output=True, cwd=td, timeout=timeout,
                           env=dict(os.environ, GNUPGHOME=td, LC_ALL="C"))
    except (subprocess.TimeoutExpired, OSError):
        return []
    res = [p.stdout] if p.stdout else []
    if outname is not None:
        for f in os.listdir(td):
            if f.startswith(outname):
                with open(os.path.join(td, f), "rb") as fh:
                    res.append(fh.read())
                os.unlink(os.path.join(td, f))
    return res


def recover(text, cap=40):
    """Every blob the decoders get from text: [(method, bytes)]."""
    blobs = []
    with tempfile.TemporaryDirectory() as td:
        os.chmod(td, 0o700)
        for vname, t in variants(text).items():
            tb = t.encode("utf-8", "surrogatepass")
            # uuencode: GNU uudecode from each begin line, and a loose decoder
            for i, m in enumerate(UUBEGIN.finditer(t)):
                if i >= cap:
                    break
                chunk = t[m.start():].encode("utf-8", "surrogatepass")
                for b in run_tool(["uudecode", "-o", "uu.out"], chunk, td, "uu.out"):
                    blobs.append(("uudecode/" + vname, b))
                if m.group(1) == "begin":
                    blobs.append(("uu-loose/" + vname, uu_python(t[m.end():].split("\n")[1:])))
            # base64 runs
            runs = base64_runs(t)
            for i, r in enumerate(runs):
                for b in b64dec(r):
                    blobs.append(("base64/" + vname, b))
                if len(r) >= 200 and i < cap:
                    for b in run_tool(["base64", "-d", "-i"], r.encode(), td):
                        blobs.append(("base64 -d/" + vname, b))
            for r in B32RUN.findall(re.sub(r"\n(?=[A-Z2-7=])", "", t)):
                try:
                    blobs.append(("base32/" + vname, base64.b32decode(r + "=" * (-len(r) % 8))))
                except ValueError:
                    pass
            for r in HEXRUN.findall(re.sub(r"\n(?=[0-9a-fA-F])", "", t)):
                blobs.append(("hex/" + vname, bytes.fromhex(r[:len(r) // 2 * 2])))
                if len(r) >= 128:
                    for b in run_tool(["xxd", "-r", "-p"], r.encode(), td):
                        blobs.append(("xxd -r -p/" + vname, b))
            dump = re.findall(r"(?m)^[0-9a-f]{7,8}: [0-9a-f]{4} .*$", t)
            if dump and int(dump[0].split(":")[0], 16) < 1 << 20:
                for b in run_tool(["xxd", "-r"], "\n".join(dump).encode() + b"\n", td):
                    blobs.append(("xxd -r/" + vname, b))
            if len(re.findall(r"=[0-9A-Fa-f]{2}", t)) >= 32:
                blobs.append(("quoted-printable/" + vname, quopri.decodestring(tb)))
            if len(re.findall(r"%[0-9A-Fa-f]{2}", t)) >= 32:
                blobs.append(("percent/" + vname, urllib.parse.unquote_to_bytes(t)))
            for m in A85.finditer(t):
                try:
                    blobs.append(("ascii85/" + vname, base64.a85decode(re.sub(r"\s", "", m.group(1)))))
                except ValueError:
                    pass
            for i, m in enumerate(ARMOR.finditer(t)):
                if i >= cap:
                    break
                block = m.group(0).encode()
                if m.group(1).startswith("PGP"):
                    for b in run_tool(["gpg", "--batch", "--quiet", "--dearmor"], block, td):
                        blobs.append(("gpg --dearmor/" + vname, b))
                body = m.group(2)
                if "\n\n" in body:
                    body = body.split("\n\n", 1)[1]
                body = "\n".join(l for l in body.split("\n") if not l.startswith("="))
                for b in run_tool(["openssl", "base64", "-d"], body.encode() + b"\n", td):
                    blobs.append(("openssl base64 -d/" + vname, b))
            if "BinHex" in t or re.search(r"(?m)^:[!-r]{40,}", t):
                for b in run_tool(["hexbin", "-3"], tb, td, ""):
                    blobs.append(("hexbin/" + vname, b))
            if "=ybegin" in t:
                for enc in ("latin-1", "utf-8"):
                    blobs += [("yenc/" + vname, b) for b in ydecode(t.encode(enc, "ignore"))]
            if vname == "as-is":
                blobs += pasted_mime(t)
        for enc in ("utf-8", "latin-1", "cp1252", "utf-16-le", "shift_jis"):
            blobs.append(("raw text as " + enc, text.encode(enc, "ignore")))
    return blobs


def ydecode(b):
    res = []
    for m in re.finditer(rb"=ybegin[^\n]*\n(.*?)\n=yend", b, re.S):
        out = bytearray()
        esc = False
        for c in m.group(1):
            if c in (10, 13):
                continue
            if esc:
                out.append((c - 64 - 42) & 255)
                esc = False
            elif c == 61:
                esc = True
            else:
                out.append((c - 42) & 255)
        res.append(bytes(out))
    return res


def pasted_mime(t):
    """A message pasted into the text, as the email package reads it."""
    res = []
    starts = [0] + [m.start() for m in re.finditer(r"(?mi)^(?:mime-version|content-type|from):", t)][:6]
    for s in starts:
        try:
            m = email.message_from_string(t[s:], policy=email.policy.compat32)
            for p in m.walk():
                if not p.is_multipart():
                    b = p.get_payload(decode=True)
                    if b:
                        res.append(("email-parse", b))
        except Exception:
            pass
    return res


def contains_payload(blob, payload, win=48, skip=192):
    """payload, or any 48-byte window of it past its first 192 bytes (the
    file headers gen.py's payloads share), is in blob: partial recovery
    counts too."""
    if payload in blob:
        return True
    if len(payload) < skip + 2 * win:
        return False
    return any(payload[i:i + win] in blob for i in range(skip, len(payload) - win + 1, win))


def signature(blob):
    """The file type of a decoded blob of 256 bytes or more (shorter ones,
    such as a truncated file name, are not a usable file)."""
    if len(blob) < 256:
        return None
    for sig, name in SIGNATURES:
        if blob.startswith(sig):
            return name
    return None
