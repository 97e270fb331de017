#!/usr/bin/env python3
"""mailcheck.py FILE [checks...] -- assertions on one received message.

  --text-only          the message is one text/plain entity (not multipart)
  --grep S             the decoded text body contains S (UTF-8)
  --no-grep S          neither the raw message nor the decoded body contains S
  --header "Name: v"   a header Name exists whose value contains v
  --no-header Name     no header Name
  --same-header Name ORIGFILE   header Name is byte-identical to ORIGFILE's
  --print              print the headers and decoded body (for the demo)
Exit 0 when every check holds, else 1 with the reasons on stderr.
"""
import sys
from email import message_from_bytes
from email.policy import default


def header_raw(raw, name):
    """Unfolded raw value of the first header `name` (bytes), or None."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    want = name.lower().encode() + b":"
    for i, line in enumerate(lines):
        if line.lower().startswith(want):
            val = line[len(want):]
            j = i + 1
            while j < len(lines) and lines[j][:1] in (b" ", b"\t"):
                val += b"\n" + lines[j]
                j += 1
            return val
    return None


def main():
    path, args = sys.argv[1], sys.argv[2:]
    raw = open(path, "rb").read()
    msg = message_from_bytes(raw, policy=default)
    errors = []
    body = ""
    if not msg.is_multipart():
        try:
            body = msg.get_content()
        except Exception as e:  # undecodable body is itself a failure
            errors.append(f"cannot decode body: {e}")
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--text-only":
            if msg.get_content_type() != "text/plain" or msg.is_multipart():
                errors.append(f"content type is {msg.get_content_type()}, not text/plain only")
        elif a == "--grep":
            i += 1
            if args[i] not in body:
                errors.append(f"body lacks {args[i]!r}")
        elif a == "--no-grep":
            i += 1
            if args[i].encode() in raw or args[i] in body:
                errors.append(f"message contains {args[i]!r}")
        elif a == "--header":
            i += 1
            name, _, val = args[i].partition(":")
            vals = [str(v) for v in msg.get_all(name.strip(), [])]
            if not any(val.strip() in v for v in vals):
                errors.append(f"no header {name} containing {val.strip()!r} (have {vals})")
        elif a == "--no-header":
            i += 1
            if msg.get_all(args[i]):
                errors.append(f"unexpected header {args[i]}")
        elif a == "--same-header":
            name, orig = args[i + 1], args[i + 2]
            i += 2
            mine, theirs = header_raw(raw, name), header_raw(open(orig, "rb").read(), name)
            if mine is None or mine != theirs:
                errors.append(f"header {name} differs: {mine!r} vs {theirs!r}")
        elif a == "--print":
            head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
            print(head.decode("utf-8", "replace"))
            print()
            print(body)
        else:
            errors.append(f"unknown check {a}")
        i += 1
    for e in errors:
        print(f"{path}: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
