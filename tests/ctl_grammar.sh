#!/usr/bin/env bash
# tests/ctl_grammar.sh — textizectl's one grammar (issue 14.3), as a table:
# each row is an argv, the exit code it must give (sysexits, textizectl(8)
# EXIT STATUS) and a text its stdout or stderr must hold. Errors must be
# one line on stderr naming the problem and the valid choices. The queue
# rows run against a scratch config and quarantine holding entries stored
# by tests/ctl_fixture (the milter's store path, no MTA needed).
set -u
top=${TZ_TOP_SRCDIR:?run from make check}
build=${TZ_TOP_BUILDDIR:?run from make check}
ctl=$build/tools/textizectl
fixture=$build/tests/ctl_fixture
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
pass=0 fail=0
export LC_ALL=C.UTF-8

row() {   # row EXIT out|err TEXT ARGS... — run textizectl ARGS
  local want=$1 stream=$2 text=$3 rc why=""
  shift 3
  "$ctl" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ "$rc" -eq "$want" ] || why="exit $rc, want $want"
  [ -z "$text" ] || grep -qF -- "$text" "$tmp/$stream" || why="$why; $stream lacks '$text'"
  if [ "$stream" = err ] && [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
    why="$why; stderr is $(wc -l <"$tmp/err") lines, want 1"
  fi
  if [ -z "$why" ]; then
    echo "ok - textizectl $*"; pass=$((pass + 1))
  else
    echo "not ok - textizectl $*: ${why#; }"; fail=$((fail + 1))
    sed 's/^/#   out: /' "$tmp/out" | head -5; sed 's/^/#   err: /' "$tmp/err" | head -5
  fi
}
check() {   # check NAME CMD...
  local name=$1
  shift
  if "$@"; then echo "ok - $name"; pass=$((pass + 1)); else echo "not ok - $name"; fail=$((fail + 1)); fi
}

# --- the scratch installation ---
key() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$1"; echo >>"$1"; chmod 0600 "$1"; }
mkdir -p "$tmp/q" "$tmp/spool" "$tmp/state"
key "$tmp/q.key"; key "$tmp/a.key"; key "$tmp/r.key"
conf=$tmp/t.conf
cat >"$conf" <<CONF
Socket local:$tmp/t.sock
SpoolDir $tmp/spool
StateDir $tmp/state
QuarantineDir $tmp/q
QuarantineKeyFile $tmp/q.key
AuditLog $tmp/audit.log
AuditKeyFile $tmp/a.key
ReportDatabase $tmp/r.db
ReleaseKeyFile $tmp/r.key
ReleaseCommand /usr/bin/tee $tmp/sent.eml
ForceReleaseApprovals 1
ScannerSocket $tmp/no-clamd.sock
CONF
msg=$top/tests/fixtures/engine/attach.eml
read -r ID REF < <("$fixture" "$conf" "$msg" sender@example.com staff@city.example.lg.jp) || true
check "ctl_fixture stored an entry" test -n "${REF:-}"
[ -n "${REF:-}" ] || { echo "$pass passed, $fail failed"; exit 1; }

# --- commands, help, version ---
row 64 err "missing command (convert, queue, audit, report, breaker, stats, sender, db, digest, help, version"
row 0 out "usage: textizectl" --help
row 0 out "usage: textizectl" help
row 0 out "textizectl " --version
row 0 out "textizectl " version
row 0 out "textizectl " queue list --version
row 64 err "unknown command 'frob' (convert, queue, audit" frob
row 64 err "unknown option '--bogus' (textizectl --help)" --bogus
row 0 out "usage: textizectl queue release" help queue release
row 0 out "usage: textizectl queue release" queue help release
row 64 err "queue: missing command (list, show, export, release, approve, reject, purge, scan" queue
row 64 err "queue: unknown command 'lst' (list, show, export, release" queue lst
row 64 err "audit: unknown command 'check' (verify)" audit check
row 64 err "breaker: unknown command 'frob' (status, reset)" breaker frob
for g in queue audit report breaker; do
  row 0 out "usage: textizectl $g COMMAND" "$g" --help
  row 0 out "usage: textizectl $g COMMAND" help "$g"
done
for c in convert "queue list" "queue show" "queue export" "queue release" "queue approve" \
         "queue reject" "queue purge" "queue scan" "queue sanitize" "queue reindex" \
         "audit verify" "report daily" "breaker status" "breaker reset" stats; do
  # shellcheck disable=SC2086
  row 0 out "usage: textizectl $c" $c --help
done
row 0 out "--state STATE" queue list -h
row 0 out "(default html)" report daily --help

# --- options anywhere; errors name the choices ---
row 0 out "$REF" -c "$conf" queue list
cp "$tmp/out" "$tmp/list1"
row 0 out "$REF" queue list -c "$conf"
check "queue list -c F == -c F queue list" cmp -s "$tmp/out" "$tmp/list1"
row 0 out "$REF" queue -c "$conf" list
check "queue -c F list == -c F queue list" cmp -s "$tmp/out" "$tmp/list1"
row 0 out "$REF" --config="$conf" queue list --format=table
row 0 out '"state":"pending"' queue list --format json -c "$conf" --state pending
row 0 out "$REF" --format csv queue list -c "$conf"
row 64 err "queue list: --state: unknown value 'bogus' (pending, clean, infected, sanitized, unsanitizable, failed, released, rejected)" queue list --state bogus -c "$conf"
row 64 err "queue list: --format: unknown value 'xml' (table, csv, json)" queue list --format xml
row 64 err "report daily: --format: unknown value 'xml' (html, csv, json)" report daily --format xml
row 64 err "stats: --format: unknown value 'xml' (table, json, prometheus)" stats --format xml
row 64 err "queue show: --format: unknown value 'csv' (table, json)" queue show "$REF" --format csv
row 64 err "queue list: --flag: unknown value 'nope' (executable," queue list --flag nope
row 64 err "queue list: --since: bad date '2026-13'" queue list --since 2026-13
row 64 err "queue list: unknown option '--bogus' (--config, --format, --operator, --help, --version, --tenant, --since" queue list --bogus
row 64 err "queue list: option '--out' needs a value" queue list --out
row 64 err "queue list: option '--out' does not apply here" queue list --out x
row 64 err "queue release: --format does not apply here" queue release "$REF" --format json --operator a
row 64 err "queue list: unexpected argument 'extra'" queue list extra
row 64 err "queue show: missing operand (usage: textizectl queue show ID)" queue show
row 64 err "queue purge: --older-than: 'abc' is not a number" queue purge --older-than abc -c "$conf"
row 64 err "report daily: --date: bad date 'today'" report daily --date today -c "$conf"
row 78 err "textizectl: $tmp/none.conf: No such file" -c "$tmp/none.conf" queue list
printf 'NoSuchKey 1\n' >"$tmp/bad.conf"
row 78 err "unknown key" queue list -c "$tmp/bad.conf"

# --- ids: long, ID#N, MMDD-CODE, MMDD-CODE#N ---
row 0 out "参照番号:   $REF" queue show "$REF" -c "$conf"
row 0 out "$ID" queue show "$ID" -c "$conf"
row 0 out "$ID" queue show "$ID#1" -c "$conf"
row 0 out "$ID" queue show "$REF#1" -c "$conf"
check "queue show REF#1 shows part 1 only" sh -c "grep -q '^1 ' '$tmp/out' && ! grep -q '^2 ' '$tmp/out'"
row 0 out '"parts"' queue show "$REF" -c "$conf" --format json
row 65 err "has no part 9 (parts 1 to" queue show "$REF#9" -c "$conf"
row 65 err "is not a 参照番号 or entry id (MMDD-CODE, MMDD-CODE#PART, or the long id" queue show 'x;rm' -c "$conf"
row 66 err "queue show:" queue show 0101-ZZZZ -c "$conf"
row 65 err "has no part 'x'" queue reject "$REF" x --operator bob -c "$conf"
row 64 err "the part is given twice" queue export "$REF#1" 2 --operator alice --out "$tmp/x" -c "$conf"

# --- export: --operator required, --out refuses an existing file without --force ---
row 64 err "queue export: --operator NAME is required" queue export "$REF#1" --out "$tmp/p1" -c "$conf"
row 64 err "queue export: missing --out FILE" queue export "$REF#1" --operator alice -c "$conf"
row 0 out "exported part 1 (" queue export "$REF#1" --operator alice --out "$tmp/p1" -c "$conf"
check "export wrote the part" test -s "$tmp/p1"
row 73 err "$tmp/p1 exists (--force replaces a regular file)" queue export "$REF#1" --operator alice --out "$tmp/p1" -c "$conf"
row 0 out "exported part 1 (" queue export "$REF" 1 --operator alice --out "$tmp/p1" --force -c "$conf"
row 0 out "exported the original message of $REF" queue export "$REF" original --operator alice --out "$tmp/orig.eml" -c "$conf"
check "the original exported byte for byte" cmp -s "$msg" "$tmp/orig.eml"
row 0 out "" report daily --out "$tmp/r.html" -c "$conf"
check "report --out wrote the report" grep -q "<html" "$tmp/r.html"
row 73 err "$tmp/r.html exists (--force replaces a regular file)" report daily --out "$tmp/r.html" -c "$conf"
row 0 out "" report daily --out "$tmp/r.html" --force -c "$conf"
row 78 err "unknown key" report daily --out "$tmp/r.html" --force -c "$tmp/bad.conf"
check "a failed report --force leaves the old file" grep -q "<html" "$tmp/r.html"
row 64 err "--date: bad date '2026-02-31'" report daily --date 2026-02-31 -c "$conf"

# --- state changes say what they did ---
row 75 err "scanner unavailable, parts stay pending" queue scan -c "$conf"
check "scan says how many (none)" grep -q "scanned 0 parts: 0 infected" "$tmp/out"
row 1 err "part 1 is pending: only clean or sanitized parts are released" queue release "$REF#1" --operator alice -c "$conf"
row 0 out "released part 1 (" queue release "$REF#1" --operator alice --force --reason test -c "$conf"
check "release names the mail's Message-ID, and it is the one sent" sh -c \
  "id=\$(sed -n 's/.*Message-ID \\(<[^>]*>\\).*/\\1/p' '$tmp/out'); [ -n \"\$id\" ] && grep -qF \"Message-ID: \$id\" '$tmp/sent.eml'"
check "release says who took it" grep -q "accepted by ReleaseCommand (/usr/bin/tee" "$tmp/out"
row 1 err "already released" queue release "$REF#1" --operator alice -c "$conf"
row 0 out "released part 1 (" queue release "$REF" 1 --again --operator alice -c "$conf"
row 0 out "rejected part 2 (" queue reject "$REF#2" --operator bob --reason test -c "$conf"
row 0 out "purged 0 entries older than 36500 days" queue purge --older-than 36500 -c "$conf"
row 0 out "audit log intact" audit verify -c "$conf"
row 66 err "audit verify:" audit verify "$tmp/none.log" -c "$conf"
row 0 out "indexed 1 entries" queue reindex -c "$conf"
row 0 out "breaker: normal" breaker status --state-dir "$tmp/state"
row 78 err "stats: StatsSocket is not set" stats -c "$conf"
row 0 out '"stripped"' convert --format json "$msg"
row 0 out '"stripped"' convert --json "$msg"
row 66 err "convert: $tmp/none.eml" convert "$tmp/none.eml"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
