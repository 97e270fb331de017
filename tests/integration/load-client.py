#!/usr/bin/env python3
"""load-client.py PORT SESSIONS MESSAGES SHAPES_DIR OUT [FIRST]

Send MESSAGES messages over SESSIONS concurrent SMTP sessions to
127.0.0.1:PORT, cycling through the *.eml shapes in SHAPES_DIR (the ones
bench/gen-messages writes). Each message gets its own Message-ID and an
X-Load-Seq header (FIRST, FIRST+1, ...) so the sink can account for every
one. Each session keeps one connection and sends its share in it (RSET
between messages); a dropped connection is reopened.

Writes one line per message to OUT: "SEQ SHAPE CODE" (CODE = the first
refusal (4xx/5xx) to MAIL, RCPT or DATA, else the final reply to DATA, or
000 when the session failed before it). Exit 0 when every
message got 250.
"""
import os
import smtplib
import sys
import threading


def load_shapes(d):
    shapes = []
    for name in sorted(os.listdir(d)):
        if name.endswith(".eml") and name != "big.eml":
            with open(os.path.join(d, name), "rb") as f:
                raw = f.read().replace(b"\r\n", b"\n")
            head, _, body = raw.partition(b"\n\n")
            lines = [l for l in head.split(b"\n") if not l.lower().startswith(b"message-id:")]
            shapes.append((name[:-4], b"\n".join(lines), body))
    if not shapes:
        sys.exit("no shapes in %s" % d)
    return shapes


def message(shape, seq):
    name, head, body = shape
    extra = b"Message-ID: <load-%d@example.com>\nX-Load-Seq: %d\n" % (seq, seq)
    return (head + b"\n" + extra + b"\n" + body).replace(b"\n", b"\r\n")


def session(port, seqs, shapes, results, lock):
    conn = None
    for seq in seqs:
        shape = shapes[seq % len(shapes)]
        code = "000"
        for attempt in range(2):
            try:
                if conn is None:
                    conn = smtplib.SMTP("127.0.0.1", port, timeout=300)
                    conn.ehlo("load.example.com")
                else:
                    conn.rset()
                # the first refusal is the answer (a 451 to MAIL makes
                # DATA fail with 503, which is not what the server said)
                c, _ = conn.mail("sender@example.com")
                if c < 400:
                    c, _ = conn.rcpt("user%d@city.example.lg.jp" % seq)
                if c < 400:
                    c, _ = conn.data(message(shape, seq))
                code = str(c)
                break
            except smtplib.SMTPResponseException as e:
                code = str(e.smtp_code)
                break
            except (smtplib.SMTPException, OSError):
                try:
                    if conn is not None:
                        conn.close()
                except OSError:
                    pass
                conn = None
        with lock:
            results.append("%d %s %s" % (seq, shape[0], code))
    if conn is not None:
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            pass


def main():
    port, sessions, total = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    shapes = load_shapes(sys.argv[4])
    out = sys.argv[5]
    first = int(sys.argv[6]) if len(sys.argv) > 6 else 1
    seqs = list(range(first, first + total))
    results, lock = [], threading.Lock()
    threads = [threading.Thread(target=session, args=(port, seqs[i::sessions], shapes, results, lock))
               for i in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(out, "w") as f:
        f.write("\n".join(sorted(results, key=lambda l: int(l.split()[0]))) + "\n")
    sys.exit(0 if all(l.endswith(" 250") for l in results) and len(results) == total else 1)


if __name__ == "__main__":
    main()
