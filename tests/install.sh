#!/usr/bin/env bash
# tests/install.sh — `make install` into a DESTDIR: binaries, man pages
# (filled in), sample config at $(sysconfdir)/textize/textize.conf, notice
# templates, systemd units with this installation's paths; the installed
# textize-milter -n accepts the installed config; a second install keeps an
# edited config; uninstall removes everything but that edited config.
# Needs TZ_TOP_BUILDDIR (set by make check). Prints "N passed, N failed".
set -uo pipefail
build=${TZ_TOP_BUILDDIR:?run from make check or set TZ_TOP_BUILDDIR}
# Not a sub-make of the running `make check`: no jobserver to share.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
# Inside the build tree: make distcheck allows no writes outside it.
dest=$(mktemp -d "$build/tests/install-root.XXXXXX")
trap 'rm -rf "$dest" "$dest.log"' EXIT
passed=0 failed=0
ok()   { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "not ok - $1"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }

if ! make -C "$build" install DESTDIR="$dest" >"$dest.log" 2>&1; then
  tail -30 "$dest.log"; rm -f "$dest.log"
  echo "0 passed, 1 failed"; exit 1
fi
rm -f "$dest.log"

milter=$(find "$dest" -type f -name textize-milter -path '*/sbin/*' | head -1)
ctl=$(find "$dest" -type f -name textizectl -path '*/bin/*' | head -1)
conf=$(find "$dest" -type f -name textize.conf -path '*/etc/textize/*' | head -1)
check "textize-milter installed in sbin" test -x "$milter"
check "textizectl installed in bin" test -x "$ctl"
check "sample config installed as etc/textize/textize.conf" test -f "$conf"

out=$("$milter" -n -c "$conf" 2>&1); rc=$?
check "installed textize-milter -n accepts the installed config" \
  test "$rc" -eq 0 -a "$out" = "$conf: configuration OK"
check "textize-milter -V prints the version" bash -c "'$milter' -V | grep -q '^textize-milter [0-9]'"
check "textizectl version" bash -c "'$ctl' version | grep -q '^textizectl [0-9]'"
printf 'Socket local:/x\nNoSuchKey 1\n' >"$dest/bad.conf"
out=$("$milter" -n -c "$dest/bad.conf" 2>&1); rc=$?
case $out in *"bad.conf:2: unknown key"*) named=yes ;; *) named=no ;; esac
check "textize-milter -n refuses a bad config naming file:line" test "$rc" -eq 1 -a "$named" = yes
rm -f "$dest/bad.conf"

# Man pages: all three, placeholders filled with the real paths.
sysconf=${conf#"$dest"}; sysconf=${sysconf%/textize.conf}
for page in man8/textize-milter.8 man5/textize.conf.5 man8/textizectl.8; do
  f=$(find "$dest" -type f -path "*/man/$page" | head -1)
  check "man page $page installed" test -f "$f"
  check "man page $page has no @placeholder@" bash -c "! grep -q '@[A-Za-z_]*@' '$f'"
done
f=$(find "$dest" -type f -path '*/man/man5/textize.conf.5' | head -1)
check "textize.conf(5) names the installed config path" grep -q "$sysconf/textize.conf" "$f"

# Templates and references in pkgdatadir.
for t in notice-ja.txt notice-en.txt textize.conf postfix-main.cf; do
  check "$t in pkgdatadir" bash -c "find '$dest' -type f -path '*/share/textize/$t' | grep -q ."
done

# systemd units, with this installation's paths.
for u in textize-milter.service textize-scan.service; do
  f=$(find "$dest" -type f -name "$u" | head -1)
  check "$u installed" test -f "$f"
done
f=$(find "$dest" -type f -name textize-milter.service | head -1)
check "textize-milter.service runs the installed binary and config" \
  grep -q "^ExecStart=${milter#"$dest"} .*-c $sysconf/textize.conf" "$f"
f=$(find "$dest" -type f -name textize-scan.service | head -1)
check "textize-scan.service runs the installed textizectl" \
  grep -q "^ExecStart=${ctl#"$dest"} queue scan --watch" "$f"

# A second install keeps an edited config; uninstall leaves only that.
echo "LogLevel debug" >>"$conf"
make -C "$build" install DESTDIR="$dest" >/dev/null 2>&1
check "reinstall keeps the edited config" grep -q "^LogLevel debug" "$conf"
make -C "$build" uninstall DESTDIR="$dest" >/dev/null 2>&1
left=$(find "$dest" -type f | sort)
check "uninstall removes every file but the edited config" test "$left" = "$conf"
# and the unmodified sample goes with uninstall
rm -f "$conf"
make -C "$build" install DESTDIR="$dest" >/dev/null 2>&1
make -C "$build" uninstall DESTDIR="$dest" >/dev/null 2>&1
check "uninstall removes the unmodified sample" test -z "$(find "$dest" -type f)"

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
