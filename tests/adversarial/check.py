#!/usr/bin/python3
"""check.py — run the generated adversarial corpus through the real engine and
judge the output independently of the engine's code (issue 12, item 7).

Usage: check.py BUILD_DIR CASE_DIR [--cache DIR] [--results FILE] [NAME...]

Per case (CASE_DIR/NAME.eml with its NAME.json expectation, see gen.py):
 (a) no payload is recoverable from the delivered text or headers by the
     decoders in advlib.recover (GNU uudecode, base64 -d, gpg --dearmor,
     openssl base64, hexbin, xxd -r, yEnc, quoted-printable, percent,
     ascii85, base32, the email package on pasted MIME), nor is any decoded
     blob a file with a known signature;
 (b) every payload marked listed appears in the --json parts (by sha256 of
     the file or of its raw encoded form), and at least min_listed parts are
     listed;
 (c) outcome: convert = exit 0, refuse = non-zero, either = both allowed;
     a converted message's output is at most 4 x input + 256 KiB; peak RSS
     within max_rss_mb where the case sets it (time is reported, never
     asserted);
 (d) the delivered header block: no bare CR, NUL or C0 controls, no line
     over 998 octets, valid UTF-8, no content-signal headers, one
     Content-Type; every leaf text/plain in valid UTF-8;
 plus the case's absent/present strings.
Prints "PASS name" / "FAIL name: reason; ..." per case and
"adversarial: N passed, N failed" last.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import advlib  # noqa: E402

OUT_FACTOR, OUT_CONST = 4, 256 * 1024


def check_case(build, d, name, cache):
    with open(os.path.join(d, name + ".json")) as f:
        exp = json.load(f)
    path = os.path.join(d, name + ".eml")
    r = advlib.run_engine(build, path, cache)
    fails = []
    converted = r["rc"] == 0
    if exp["outcome"] == "convert" and not converted:
        fails.append("refused (rc=%d: %s)" % (r["rc"], r["stderr"].strip()[:120]))
    if exp["outcome"] == "refuse" and converted:
        fails.append("converted, expected an error")
    if not converted and r["out"]:
        fails.append("refused but wrote %d bytes of output" % len(r["out"]))
    if exp.get("max_rss_mb") and r["rss_kb"] > exp["max_rss_mb"] * 1024:
        fails.append("peak RSS %d MB > %d MB" % (r["rss_kb"] // 1024, exp["max_rss_mb"]))
    if converted:
        out = r["out"]
        if len(out) > OUT_FACTOR * exp["input_size"] + OUT_CONST:
            fails.append("output %d bytes for %d input" % (len(out), exp["input_size"]))
        hdr, _ = advlib.split_output(out)
        fails += advlib.header_problems(hdr)
        htext, text, probs = advlib.delivered(out)
        fails += probs
        payloads = [(p["name"], bytes.fromhex(p["hex"])) for p in exp["payloads"]]
        seen = set()
        for surface, t in (("text", text), ("headers", htext)):
            for method, blob in advlib.recover(t):
                for pname, pb in payloads:
                    if (pname, surface) not in seen and advlib.contains_payload(blob, pb):
                        seen.add((pname, surface))
                        fails.append("payload %s recovered from %s by %s" % (pname, surface, method))
                sig = None if method.startswith("raw text") else advlib.signature(blob)
                if sig and ("sig", sig, surface) not in seen and not any(
                        (pn, surface) in seen for pn, _ in payloads):
                    seen.add(("sig", sig, surface))
                    fails.append("a %s file recovered from %s by %s" % (sig, surface, method))
        js = r["json"]
        # convert and convert --json are two runs with two entry ids: the
        # notice's 参照番号 use the id of the text run (its X-Textize field).
        m = re.search(r"(?mi)^X-Textize:.*\bid=([^;\s]+)", hdr.decode("utf-8", "replace"))
        ref = m.group(1) if m else None
        if js is None:
            fails.append("--json gave no JSON (rc=%d)" % r["json_rc"])
        else:
            listed = {p.get("sha256") for p in js.get("parts", [])}
            for p in exp["payloads"]:
                if not p["listed"]:
                    continue
                hit = listed & ({p["sha256"]} | set(p["alt_sha256"]))
                if not hit:
                    fails.append("payload %s not listed (%d parts listed)" % (p["name"], len(listed)))
                elif not any(h in text for h in hit) and not any(
                        ref and re.search(re.escape("%s#%s" % (ref, q.get("index"))) + r"(?![0-9])", text)
                        for q in js.get("parts", []) if q.get("sha256") in hit):
                    # The staff notice names each file by its 参照番号 (ID#n);
                    # SHA-256 only with NoticeDetails full.
                    fails.append("payload %s in --json but neither its 参照番号 nor its SHA-256 is in the notice"
                                 % p["name"])
            if js.get("stripped", 0) < exp["min_listed"]:
                fails.append("%d parts listed, expected at least %d" % (js.get("stripped", 0), exp["min_listed"]))
        for s in exp["absent"]:
            if s in text or s in htext:
                fails.append("%r shown" % s)
        for s in exp.get("absent_header", []):
            if re.search(r"(?mi)^" + re.escape(s) + r"\s*:", hdr.decode("utf-8", "replace")):
                fails.append("header field %s injected" % s)
        for s in exp.get("shown_or_listed", []):
            if s not in text and (js or {}).get("stripped", 0) == 0:
                fails.append("%r neither shown nor anything listed" % s)
        for s in exp["present"]:
            if s not in text:
                fails.append("%r missing" % s)
    return exp, r, fails


def main():
    args = sys.argv[1:]
    cache = results = None
    names = []
    i = 0
    while i < len(args):
        if args[i] == "--cache":
            cache = args[i + 1]
            i += 2
        elif args[i] == "--results":
            results = args[i + 1]
            i += 2
        else:
            names.append(args[i])
            i += 1
    if len(names) < 2:
        sys.exit("usage: check.py BUILD_DIR CASE_DIR [--cache DIR] [--results FILE] [NAME...]")
    build, d, only = names[0], names[1], set(names[2:])
    if cache:
        os.makedirs(cache, exist_ok=True)
    with open(os.path.join(d, "manifest.json")) as f:
        manifest = json.load(f)
    passed = failed = 0
    rows = []
    for name in manifest:
        if only and name not in only:
            continue
        try:
            exp, r, fails = check_case(build, d, name, cache)
        except Exception as e:  # a crash of the judge is a failure, never a pass
            exp, r, fails = {"class": "?"}, {"rc": -1, "secs": 0, "rss_kb": 0, "out": b""}, ["check.py error: %r" % e]
        rows.append({"name": name, "class": exp.get("class"), "rc": r["rc"], "secs": r["secs"],
                     "rss_kb": r["rss_kb"], "out_size": len(r["out"]), "in_size": exp.get("input_size"),
                     "fails": fails})
        if fails:
            failed += 1
            print("FAIL %s: %s" % (name, "; ".join(fails)), flush=True)
        else:
            passed += 1
            print("PASS %s" % name, flush=True)
    if rows:
        w = max(rows, key=lambda x: x["secs"])
        m = max(rows, key=lambda x: x["rss_kb"])
        print("worst time: %s %.2f s; worst peak RSS: %s %d MB" % (w["name"], w["secs"], m["name"], m["rss_kb"] // 1024))
    if results:
        with open(results, "w") as f:
            json.dump(rows, f, indent=1)
    print("adversarial: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
