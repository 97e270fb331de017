#!/usr/bin/env python3
"""docs_exec.py — the blocks an admin copies from README.md, README.ja.md and
docs/operations.ja.md are fed to the real tools, so a README line that stops
all mail (a Postfix value with an inline '#') fails a test, not a gateway.

Every fenced or indented code block in those files carries a marker on the
line(s) before it, `<!-- test: KIND [id=NAME] -->`; a block without one is
an error (a new block cannot slip in unchecked). Kinds:
  postconf      main.cf lines: written to a scratch config directory;
                `postconf -c DIR -n` must warn nothing, every `name = value`
                must read back unchanged and hold no '#' (Postfix has no
                inline comments), transport_maps must answer for every
                relay_domains entry (postmap -q)
  textize.conf  textize.conf lines: `textize-milter -n -c FILE` must say
                "configuration OK"
  shell         `bash -n`, and every command it runs (after sudo and
                VAR=value) must exist: a builtin, on PATH (+ /usr/sbin), a
                textize program of this build, or a file of this tree; a
                textizectl command line must pass the built tool's grammar
                (`textizectl ARGS --help` exits 0)
  session       a `$ command` transcript: the commands checked as shell,
                the output lines not (they depend on the queue's state)
  crontab       five valid time fields, every '%' escaped, then as shell
  output        sample output or log lines: not executed
Blocks with the same id in several files must be the same commands (shell
comments and comment lines aside: README.ja.md may comment in Japanese),
and README.md and README.ja.md must have the same set of ids.
Before the documents, each check is run on a known-bad block (negative
controls) so a checker that stopped catching anything fails too.

Usage: docs_exec.py TOP_SRCDIR TOP_BUILDDIR. Prints "ok - ..." / "not ok -
..." lines and "docs: N passed, N failed"; exit 1 on any failure.
docs_exec.py --print FILE ID prints the block FILE marks with id=ID (exit 1
when there is none): scripts/test-readme runs the README's install path
from the README's own text. """
import os
import re
import subprocess
import sys
import tempfile

TOP = BUILD = ""
DOCS = ["README.md", "README.ja.md", "docs/operations.ja.md"]
MARKER = re.compile(r"^(\s*)<!-- test: (\S+)(?: id=(\S+))? -->\s*$")
FENCE = re.compile(r"^(\s*)```")
LIST_ITEM = re.compile(r"^(\s*)([-*]|\d+\.)\s+")
ENV = {}
passed = failed = 0


def result(ok, what, why=""):
    global passed, failed
    if ok:
        passed += 1
        print("ok - " + what)
    else:
        failed += 1
        print("not ok - %s%s" % (what, (": " + why) if why else ""))


def indent(line):
    return len(line) - len(line.lstrip(" "))


def blocks(path):
    """[(line, kind, id, [lines])] of the marked blocks, and the line numbers
    of code blocks with no marker."""
    lines = open(path, encoding="utf-8").read().split("\n")
    found, unmarked = [], []
    pending = None        # (kind, id) of a marker waiting for its block
    list_indent = 0       # content indent of the list item we are in
    prev_blank = True
    i = 0
    while i < len(lines):
        line = lines[i]
        m = MARKER.match(line)
        if m:
            pending = (m.group(2), m.group(3), i + 1)
            i += 1
            continue
        f = FENCE.match(line)
        start = None
        if f:
            j = i + 1
            while j < len(lines) and not FENCE.match(lines[j]):
                j += 1
            ind = len(f.group(1))
            body = [l[ind:] if l.startswith(" " * ind) else l.lstrip() for l in lines[i + 1:j]]
            start, nxt = i, j + 1
        elif prev_blank and line.strip() and indent(line) >= list_indent + 4:
            ind = indent(line)
            j = i
            while j < len(lines) and (lines[j].startswith(" " * ind) or
                                      (not lines[j].strip() and j + 1 < len(lines) and
                                       lines[j + 1].startswith(" " * ind))):
                j += 1
            body = [l[ind:] for l in lines[i:j]]
            start, nxt = i, j
        if start is not None:
            if pending:
                found.append((start + 1, pending[0], pending[1], body))
            else:
                unmarked.append(start + 1)
            pending, prev_blank, i = None, False, nxt
            continue
        if line.strip():
            li = LIST_ITEM.match(line)
            if li:
                list_indent = len(li.group(0))
            elif indent(line) == 0:
                list_indent = 0
            if pending and not line.lstrip().startswith("<!--"):
                unmarked.append(-pending[2])   # a marker followed by prose
                pending = None
        prev_blank = not line.strip()
        i += 1
    return found, unmarked


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, env=ENV, **kw)


# ---------------------------------------------------------------- postconf

def check_postconf(body):
    """None when Postfix takes the lines as written, else why not."""
    with tempfile.TemporaryDirectory(prefix="tz-docs-pf.") as d:
        with open(os.path.join(d, "main.cf"), "w") as fp:
            fp.write("\n".join(body) + "\n")
        open(os.path.join(d, "master.cf"), "w").close()
        r = run(["postconf", "-c", d, "-n"])
        if r.returncode != 0 or r.stderr.strip():
            return "postconf: " + (r.stderr.strip() or "exit %d" % r.returncode)
        params = {}
        for line in body:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = re.match(r"^(\w+)\s*=\s*(.*?)\s*$", line)
            if not m:
                return "not a 'name = value' line: " + line
            name, value = m.groups()
            params[name] = value
            if "#" in value:
                return "%s: '#' is part of the value in Postfix (no inline comments)" % name
            got = run(["postconf", "-c", d, "-h", name]).stdout.strip()
            if got != value:
                return "%s reads back as %r, not %r" % (name, got, value)
        if "milter_default_action" in params and \
                params["milter_default_action"] not in ("accept", "reject", "tempfail", "quarantine"):
            return "milter_default_action %r" % params["milter_default_action"]
        for m in params.get("smtpd_milters", "").replace(",", " ").split():
            if not re.match(r"^(unix|inet|local):\S+$", m):
                return "smtpd_milters entry %r is not unix:/inet:/local:" % m
        if "transport_maps" in params:
            for dom in params.get("relay_domains", "").replace(",", " ").split():
                r = run(["postmap", "-c", d, "-q", dom, params["transport_maps"]])
                if r.returncode != 0 or not r.stdout.strip():
                    return "transport_maps has no entry for %s %s" % (dom, r.stderr.strip())
    return None


# ---------------------------------------------------------------- textize.conf

def check_textize_conf(body):
    milter = os.path.join(BUILD, "milter", "textize-milter")
    with tempfile.TemporaryDirectory(prefix="tz-docs-conf.") as d:
        path = os.path.join(d, "textize.conf")
        with open(path, "w") as fp:
            fp.write("\n".join(body) + "\n")
        r = run([milter, "-n", "-c", path])
        if r.returncode != 0 or r.stdout.strip() != path + ": configuration OK":
            return "textize-milter -n: exit %d %s" % (r.returncode, (r.stdout + r.stderr).strip())
    return None


# ---------------------------------------------------------------- shell

BUILTIN_OK = {"sudo"}


def shell_command_words(text):
    """The simple commands a shell snippet runs, as word lists (sudo and
    VAR=value stripped, redirections dropped; $(...) bodies included)."""
    text = re.sub(r"\\\n", " ", text)
    text = re.sub(r"'[^']*'", "''", text)              # no command in single quotes
    subs = re.findall(r"\$\(([^()]*)\)", text)
    text = re.sub(r"\$\([^()]*\)", "X", text)
    cmds = []
    for part in [text] + subs:
        for cmd in re.split(r"&&|\|\||[|;\n]", part):
            words = [w for w in re.sub(r"(^|\s)#.*", "", cmd).split()]
            while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
                words.pop(0)
            if words and words[0] == "sudo":
                words.pop(0)
                while words and words[0].startswith("-"):
                    words = words[2:] if words[0] in ("-u", "-g") else words[1:]
            for i, w in enumerate(words):
                if re.match(r"^[0-9]*[<>]", w):
                    words = words[:i]
                    break
            if words and words[0] not in ("", "''", '""'):
                cmds.append(words)
    return cmds


def shell_commands(text):
    """The command names a shell snippet runs."""
    return [w[0] for w in shell_command_words(text)]


def check_textizectl(words):
    """A textizectl command line as documented: its command words and
    options must be ones the built tool takes. `ARGS --help` exits 0 only
    then (the grammar checks options before it answers --help)."""
    ctl = os.path.join(BUILD, "tools", "textizectl")
    if not os.access(ctl, os.X_OK):
        return None
    r = run([ctl] + words[1:] + ["--help"])
    if r.returncode != 0:
        return "textizectl grammar: %s: %s" % (" ".join(words), r.stderr.strip())
    return None


def check_shell(body):
    text = "\n".join(body) + "\n"
    r = run(["bash", "-n"], input=text)
    if r.returncode != 0:
        return "bash -n: " + r.stderr.strip()
    for words in shell_command_words(text):
        name = words[0]
        if name == "textizectl":
            why = check_textizectl(words)
            if why:
                return why
        if "/" in name:
            rel = name[2:] if name.startswith("./") else name
            if name == "./configure" and os.path.exists(os.path.join(TOP, "configure.ac")):
                continue
            if os.path.exists(name if name.startswith("/") else os.path.join(TOP, rel)):
                continue
            return "no file %s" % name
        if run(["bash", "-c", 'type -t -- "$1" >/dev/null', "x", name]).returncode != 0:
            return "command not found: %s" % name
    return None


def check_session(body):
    cmds = [l[2:] for l in body if l.startswith("$ ")]
    if not cmds:
        return "no '$ command' line"
    return check_shell(cmds)


CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")


def check_crontab(body):
    for line in body:
        f = line.split(None, 5)
        if len(f) < 6 or not all(CRON_FIELD.match(x) for x in f[:5]):
            return "not a crontab line: " + line
        if re.search(r"(^|[^\\])%", f[5]):
            return "unescaped %% (cron makes it a newline): " + line
        why = check_shell([f[5].replace("\\%", "%")])
        if why:
            return why
    return None


def check_sendmail_mc(body):
    """Sendmail .mc lines: m4 macro calls with balanced m4 quotes, each
    ending in dnl. tests/integration/test_sendmail.sh builds a real
    sendmail.cf from README.md's block and runs Sendmail with it."""
    for line in body:
        if not line.strip():
            continue
        if not re.match(r"^(INPUT_MAIL_FILTER|define)\(", line):
            return "not an INPUT_MAIL_FILTER or define line: " + line
        if not line.rstrip().endswith("dnl"):
            return "line does not end in dnl: " + line
        if line.count("`") != line.count("'"):
            return "unbalanced m4 quotes: " + line
    return None


CHECKS = {"postconf": check_postconf, "sendmail-mc": check_sendmail_mc, "textize.conf": check_textize_conf, "shell": check_shell,
          "session": check_session, "crontab": check_crontab, "output": lambda b: None}


def normalized(kind, body):
    """What must agree between translations: no comment lines, no trailing
    shell comments, no trailing blanks."""
    out = []
    for line in body:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if kind in ("shell", "session"):
            line = re.sub(r"\s+#\s.*$", "", line)
        out.append(line.rstrip())
    return out


def main():
    global TOP, BUILD, ENV
    if len(sys.argv) == 4 and sys.argv[1] == "--print":
        for _, _, bid, body in blocks(sys.argv[2])[0]:
            if bid == sys.argv[3]:
                print("\n".join(body))
                return 0
        print("no block id=%s in %s" % (sys.argv[3], sys.argv[2]), file=sys.stderr)
        return 1
    TOP, BUILD = sys.argv[1], sys.argv[2]
    ENV = dict(os.environ, LC_ALL="C.UTF-8",
               PATH=os.pathsep.join([os.path.join(BUILD, "milter"), os.path.join(BUILD, "tools"),
                                     os.path.join(BUILD, "web"),
                                     os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))
    if subprocess.run(["sh", "-c", "command -v postconf || test -x /usr/sbin/postconf"],
                      capture_output=True).returncode != 0:
        print("SKIP: postconf not installed (scripts/deps installs postfix)")
        return 77

    # Negative controls: each check refuses a broken block.
    result(check_postconf(["smtpd_milters = unix:/textize/textize.sock   # chroot-relative"]),
           "control: postconf check refuses an inline '#' comment")
    result(check_postconf(["smtpd_milter = unix:/textize/textize.sock"]),
           "control: postconf check refuses a misspelt parameter")
    result(check_textize_conf(["InternalNetworks 10.0.0.0/8", "NoSuchKey 1"]),
           "control: textize.conf check refuses an unknown key")
    if os.access(os.path.join(BUILD, "tools", "textizectl"), os.X_OK):
        result(check_shell(["sudo -u textize textizectl queue lst --state pending"]),
               "control: shell check refuses a textizectl command it does not have")
        result(check_shell(["textizectl queue export ID 1 --out /tmp/x --bogus"]),
               "control: shell check refuses a textizectl option the command does not take")
    result(check_shell(["sudo no-such-command-tz --now"]),
           "control: shell check refuses a command that does not exist")
    result(check_shell(["echo 'unterminated"]), "control: shell check refuses a syntax error")
    result(check_crontab(["15 7 * * * date +%F"]), "control: crontab check refuses a bare %")

    ids = {}
    for doc in DOCS:
        path = os.path.join(TOP, doc)
        found, unmarked = blocks(path)
        for n in unmarked:
            result(False, "%s:%d: every code block carries a <!-- test: KIND --> marker" %
                   (doc, abs(n)), "marker not followed by a block" if n < 0 else "no marker")
        for n, kind, bid, body in found:
            check = CHECKS.get(kind)
            if check is None:
                result(False, "%s:%d: test kind %s" % (doc, n, kind), "unknown kind")
                continue
            if kind != "output":
                why = check(body)
                result(why is None, "%s:%d: %s block%s" % (doc, n, kind, " " + bid if bid else ""),
                       why or "")
            if bid:
                ids.setdefault(bid, []).append((doc, n, kind, normalized(kind, body)))
    result(check_postconf([l for l in open(os.path.join(TOP, "conf/postfix-main.cf"))
                           .read().split("\n")]) is None,
           "conf/postfix-main.cf (/usr/share/textize/postfix-main.cf) passes postconf")

    en = {b for b, v in ids.items() if any(d == "README.md" for d, *_ in v)}
    ja = {b for b, v in ids.items() if any(d == "README.ja.md" for d, *_ in v)}
    result(en == ja, "README.md and README.ja.md have the same command blocks",
           "only in README.md: %s; only in README.ja.md: %s" % (sorted(en - ja), sorted(ja - en)))
    for bid, v in sorted(ids.items()):
        first = v[0]
        for other in v[1:]:
            same = other[2] == first[2] and other[3] == first[3]
            result(same, "block %s: %s:%d and %s:%d say the same" %
                   (bid, first[0], first[1], other[0], other[1]),
                   "" if same else "\n    " + "\n    ".join(first[3]) + "\n  vs\n    " +
                   "\n    ".join(other[3]))
    print("docs: %d passed, %d failed" % (passed, failed))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
