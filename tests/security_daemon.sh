#!/usr/bin/env bash
# tests/security_daemon.sh — docs/security.md's daemon threats that hold
# today, checked against the built textize-milter and the shipped unit:
#   - as root without UserID the daemon refuses to start, before it opens a
#     socket, in daemon mode and in the foreground (-f, the systemd unit's
#     mode) alike; "UserID root" is the explicit way to keep root;
#   - conf/textize-milter.service sets NoNewPrivileges, PrivateTmp,
#     ProtectSystem=strict, a restrictive UMask and lists every default
#     writable path (SpoolDir, QuarantineDir, StateDir, ReportDatabase's and
#     AuditLog's directories, the socket's runtime directory) in
#     ReadWritePaths.
set -uo pipefail
top=${TZ_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${TZ_TOP_BUILDDIR:-$top}
milter=$build/milter/textize-milter
unit=$top/conf/textize-milter.service
conf_c=$top/src/global/tz_config.c
pass=0 fail=0
check() {   # check NAME CMD...
  local name=$1; shift
  if "$@" >/dev/null 2>&1; then echo "ok: $name"; pass=$((pass + 1))
  else echo "FAIL: $name"; fail=$((fail + 1)); fi
}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# --- root without UserID
if [ "$(id -u)" -eq 0 ] && [ -x "$milter" ]; then
  printf 'Socket local:%s/t.sock\nSpoolDir %s/spool\nQuarantineDir %s/q\nReportDatabase %s/r.db\nAuditLog %s/a.log\nStateDir %s/state\n' \
    "$tmp" "$tmp" "$tmp" "$tmp" "$tmp" "$tmp" >"$tmp/t.conf"
  timeout 20 "$milter" -c "$tmp/t.conf" >"$tmp/out" 2>&1; rc=$?
  check "root without UserID: exits non-zero (not killed by the timeout)" test $rc -ne 0 -a $rc -ne 124
  check "root without UserID: no socket was opened" test ! -e "$tmp/t.sock"
  # control: the same file is valid (-n), so the exit above is the refusal
  # (without -f the reason goes to syslog only)
  check "root without UserID: the config itself is valid (-n)" "$milter" -n -c "$tmp/t.conf"
  timeout 20 "$milter" -f -c "$tmp/t.conf" >"$tmp/out-f" 2>&1; rc=$?
  check "root without UserID, -f: exits non-zero" test $rc -ne 0 -a $rc -ne 124
  check "root without UserID, -f: says why" grep -q "refusing to run as root without UserID" "$tmp/out-f"
  check "root without UserID, -f: no socket was opened" test ! -e "$tmp/t.sock"
  # control: with "UserID root" the same file starts (and says so)
  printf 'UserID root\n' >>"$tmp/t.conf"
  "$milter" -f -c "$tmp/t.conf" >"$tmp/out-root" 2>&1 &
  pid=$!
  for _ in $(seq 100); do [ -S "$tmp/t.sock" ] && break; sleep 0.1; done
  check "UserID root, -f: starts and opens the socket" test -S "$tmp/t.sock"
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  check "UserID root, -f: logs that it keeps root" grep -q "running as root" "$tmp/out-root"
else
  echo "skip: root refusal (not root, or $milter not built)"
fi

# --- the systemd unit
default() { sed -n "s/^[[:space:]]*{ \"$1\", \"[a-z]*\", \"\\([^\"]*\\)\".*/\\1/p" "$conf_c" | head -1; }
rw=$(sed -n 's/^ReadWritePaths=//p' "$unit" | tr ' ' '\n')
covered() {   # is path $1 inside one of the ReadWritePaths?
  local p
  for p in $rw; do case "$1/" in "$p"/*) return 0 ;; esac; done
  return 1
}
check "unit: NoNewPrivileges=yes" grep -qx 'NoNewPrivileges=yes' "$unit"
check "unit: PrivateTmp=yes" grep -qx 'PrivateTmp=yes' "$unit"
check "unit: ProtectHome=yes" grep -qx 'ProtectHome=yes' "$unit"
check "unit: ProtectSystem=strict" grep -qx 'ProtectSystem=strict' "$unit"
check "unit: UMask 0027 or stricter" grep -qE '^UMask=00?[2-7]7$' "$unit"
for key in SpoolDir QuarantineDir StateDir; do
  d=$(default "$key")
  check "unit: ReadWritePaths covers $key ($d)" covered "$d"
done
for key in ReportDatabase AuditLog Socket; do
  d=$(default "$key"); d=${d#local:}; d=$(dirname "$d")
  check "unit: ReadWritePaths covers the directory of $key ($d)" covered "$d"
done
echo "security_daemon: $pass passed, $fail failed"
[ $fail -eq 0 ]
