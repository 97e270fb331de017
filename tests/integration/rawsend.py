#!/usr/bin/env python3
"""rawsend.py PORT FROM TO FILE — send FILE's bytes through SMTP exactly as
they are (only dot-stuffing and the final CRLF.CRLF added): no client here
rewrites bare CR or LF line ends, which is the point of the test that uses
it. Prints the final reply line; exits 0 on 2xx."""
import socket
import sys


def reply(f):
    line = b""
    while True:
        line = f.readline()
        if len(line) < 4 or line[3:4] != b"-":
            return line


def main():
    port, mfrom, rcpt, path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    data = open(path, "rb").read()
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    f = s.makefile("rb")
    reply(f)
    for cmd in (b"EHLO rawsend.example", b"MAIL FROM:<" + mfrom.encode() + b">",
                b"RCPT TO:<" + rcpt.encode() + b">", b"DATA"):
        s.sendall(cmd + b"\r\n")
        r = reply(f)
        if not r[:1] in (b"2", b"3"):
            print(r.decode("latin-1").strip())
            return 1
    lines = data.split(b"\n")
    out = b"\n".join(b"." + l if l.startswith(b".") else l for l in lines)
    if not out.endswith(b"\n"):
        out += b"\r\n"
    s.sendall(out + b".\r\n")
    r = reply(f)
    print(r.decode("latin-1").strip())
    s.sendall(b"QUIT\r\n")
    return 0 if r[:1] == b"2" else 1


sys.exit(main())
