#!/usr/bin/env bash
# tests/config_check.sh — issue 13.4: `textize-milter -n` checks what
# start-up checks. The key-file recipe is the same in README.md,
# README.ja.md, docs/quarantine.md and textize.conf(5); run as documented
# (paths moved to a scratch directory, group textize -> the test user's
# group) it gives key files that -n accepts and with which the milter
# starts as an unprivileged UserID. Key files the daemon would refuse —
# root-only 0600, too short, world-readable, missing, a symlink — make -n
# exit 1 naming each file, all of them at once, make start-up fail too, and
# make a SIGHUP reload be refused while the milter keeps running.
set -uo pipefail
top=${TZ_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${TZ_TOP_BUILDDIR:-$top}
milter=$build/milter/textize-milter
pass=0 fail=0
check() {   # check NAME CMD...
  local name=$1; shift
  if "$@" >/dev/null 2>&1; then echo "ok: $name"; pass=$((pass + 1))
  else echo "FAIL: $name"; fail=$((fail + 1)); fi
}
if [ "$(id -u)" -ne 0 ] || [ ! -x "$milter" ] || ! getent passwd nobody >/dev/null; then
  echo "SKIP: needs root (chown), the built milter and user nobody"
  exit 77
fi
user=nobody group=$(id -gn nobody)
tmp=$(mktemp -d); chmod 0755 "$tmp"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT

# --- one recipe, everywhere ---
recipe() {   # the two recipe lines of a document, normalised
  grep -E "head -c 32 /dev/urandom|chown root:textize .*quarantine.key" "$1" |
    sed -e 's/^[[:space:]]*//' -e 's/\\e/\\/g' -e 's|@TZ_SYSCONFDIR@|/etc/textize|g'
}
recipe "$top/README.md" >"$tmp/r.readme"
check "README.md has the key recipe (2 lines)" test "$(wc -l <"$tmp/r.readme")" -eq 2
for doc in README.ja.md docs/quarantine.md man/textize.conf.5.in; do
  recipe "$top/$doc" >"$tmp/r.other"
  check "$doc: the same key recipe as README.md" cmp -s "$tmp/r.readme" "$tmp/r.other"
done
check "no other key recipe left (chmod 600 / 0600 for a key)" \
  sh -c "! grep -nE 'key; chmod 600|chmod 0?600 .*\\.key' '$top/README.md' '$top/README.ja.md' '$top/docs/quarantine.md' '$top/docs/operations.ja.md' '$top/man/textize.conf.5.in'"

# --- run the recipe as written (sudo dropped, paths and group moved) ---
mkdir -p "$tmp/etc"
for k in quarantine audit release; do
  sed -e 's/^sudo //' -e 's/&& sudo /\&\& /g' -e "s|/etc/textize|$tmp/etc|g" \
      -e "s|root:textize|root:$group|" -e "s|quarantine.key|$k.key|g" "$tmp/r.readme" >"$tmp/run.sh"
  bash -e "$tmp/run.sh"
done
check "the recipe made three 64-hex-digit keys" \
  sh -c "for k in quarantine audit release; do grep -qxE '[0-9a-f]{64}' '$tmp/etc/'\$k.key || exit 1; done"
conf() {   # conf FILE: a config for UserID nobody with the keys in $tmp/etc
  cat >"$1" <<EOF
Socket local:$tmp/run/t.sock
SocketMode 0666
UserID $user
SpoolDir $tmp/var/spool
QuarantineDir $tmp/var/q
ReportDatabase $tmp/var/lib/r.db
AuditLog $tmp/var/log/audit.log
StateDir $tmp/var/state
PidFile $tmp/run/t.pid
QuarantineKeyFile $tmp/etc/quarantine.key
AuditKeyFile $tmp/etc/audit.key
ReleaseKeyFile $tmp/etc/release.key
EOF
}
mkdir -p "$tmp/run" && chown "$user" "$tmp/run"
conf "$tmp/etc/t.conf"
check "-n accepts the documented recipe" "$milter" -n -c "$tmp/etc/t.conf"
started() {   # the milter starts (socket appears) with conf $1; then stopped
  "$milter" -f -c "$1" >"$tmp/start.out" 2>&1 &
  local pid=$! i
  pids+=("$pid")
  for i in $(seq 100); do
    [ -S "$tmp/run/t.sock" ] && { kill "$pid"; wait "$pid"; rm -f "$tmp/run/t.sock"; return 0; }
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  kill "$pid"; return 1
}
check "the milter starts as $user with the documented keys" started "$tmp/etc/t.conf"

# --- keys the daemon refuses: -n says so, each of them, and start-up fails ---
chmod 0600 "$tmp/etc/quarantine.key"                 # root-only: nobody cannot read it
printf '0123abcd' >"$tmp/etc/audit.key"                # too short
chmod 0644 "$tmp/etc/release.key"                     # world-readable
"$milter" -n -c "$tmp/etc/t.conf" >"$tmp/n.out" 2>"$tmp/n.err"; rc=$?
check "-n exits 1 for bad key files" test $rc -eq 1
check "-n does not say OK" sh -c "! grep -q 'configuration OK' '$tmp/n.out'"
check "-n names the root-only key (not readable by UserID)" grep -q "QuarantineKeyFile: $tmp/etc/quarantine.key: .*not readable by the daemon's user" "$tmp/n.err"
check "-n names the short key" grep -q "AuditKeyFile: .*32 raw bytes or 64 hex digits" "$tmp/n.err"
check "-n names the world-readable key" grep -q "ReleaseKeyFile: $tmp/etc/release.key: mode 644" "$tmp/n.err"
check "-n gives each file problem as file:line: (the line of its key)" \
  grep -q "^$tmp/etc/t.conf:10: QuarantineKeyFile: $tmp/etc/quarantine.key: " "$tmp/n.err"
check "start-up fails with the same files" sh -c "! timeout 20 '$milter' -f -c '$tmp/etc/t.conf' >'$tmp/s.out' 2>&1"
check "start-up says why" grep -q "not readable by the daemon's user" "$tmp/s.out"
check "start-up opened no socket" test ! -e "$tmp/run/t.sock"
rm -f "$tmp/etc/audit.key"; ln -s "$tmp/etc/release.key" "$tmp/etc/audit.key"
"$milter" -n -c "$tmp/etc/t.conf" 2>"$tmp/n2.err"
check "-n names a symlinked key" grep -q "AuditKeyFile: .*symbolic link" "$tmp/n2.err"
rm -f "$tmp/etc/audit.key"
"$milter" -n -c "$tmp/etc/t.conf" 2>"$tmp/n3.err"
check "-n names a missing key" grep -q "AuditKeyFile: $tmp/etc/audit.key: No such file" "$tmp/n3.err"
# --- a directory the user cannot write ---
chmod 0640 "$tmp/etc/quarantine.key"; chown root:"$group" "$tmp/etc/quarantine.key"
chmod 0640 "$tmp/etc/release.key"; chown root:"$group" "$tmp/etc/release.key"
cp "$tmp/etc/release.key" "$tmp/etc/audit.key"; chown root:"$group" "$tmp/etc/audit.key"; chmod 0640 "$tmp/etc/audit.key"
check "-n accepts the repaired keys" "$milter" -n -c "$tmp/etc/t.conf"
# --- SIGHUP runs the same check: a reload that breaks a key is refused ---
hup_refused() {
  "$milter" -f -c "$tmp/etc/t.conf" >"$tmp/hup.out" 2>&1 &
  local pid=$! i
  pids+=("$pid")
  for i in $(seq 100); do [ -S "$tmp/run/t.sock" ] && break; sleep 0.1; done
  [ -S "$tmp/run/t.sock" ] || return 1
  chmod 0600 "$tmp/etc/quarantine.key"          # root-only again
  kill -HUP "$pid"
  for i in $(seq 100); do grep -q "reload refused" "$tmp/hup.out" && break; sleep 0.1; done
  chmod 0640 "$tmp/etc/quarantine.key"
  grep -q "reload: QuarantineKeyFile: .*not readable by the daemon's user" "$tmp/hup.out" &&
    grep -q "reload refused" "$tmp/hup.out" && kill -0 "$pid" || { kill "$pid"; return 1; }
  kill "$pid"; wait "$pid"; rm -f "$tmp/run/t.sock"
}
check "SIGHUP with a key UserID cannot read: reload refused, the milter keeps running" hup_refused

mkdir -p "$tmp/var/q" && chown root:root "$tmp/var/q" && chmod 0755 "$tmp/var/q"
"$milter" -n -c "$tmp/etc/t.conf" 2>"$tmp/n4.err"
check "-n names a QuarantineDir the user cannot write" grep -q "QuarantineDir: $tmp/var/q: .*not writable" "$tmp/n4.err"

# --- every error of the file itself, each as file:line: reason ---
{ cat "$tmp/etc/t.conf"; printf 'NoSuchKey 1\nMaxParts many\nLogLevel loud\n'; } >"$tmp/etc/bad.conf"
"$milter" -n -c "$tmp/etc/bad.conf" >"$tmp/b.out" 2>"$tmp/b.err"; rc=$?
check "-n exits 1 for a file with bad lines" test $rc -eq 1
check "-n lists all three bad lines as file:line: reason" sh -c "
  grep -qx '$tmp/etc/bad.conf:13: unknown key \"NoSuchKey\"' '$tmp/b.err' &&
  grep -q '^$tmp/etc/bad.conf:14: MaxParts needs a number' '$tmp/b.err' &&
  grep -q '^$tmp/etc/bad.conf:15: LogLevel must be one of' '$tmp/b.err'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
