#!/usr/bin/env bash
# tests/format_check.sh — no printf-family, syslog or tz_log/tz_err call in
# src/, milter/, tools/ or sanitize/ takes a format string that is not a literal, so
# message data can never be read as a format. The build's TZ_CFLAGS carry
# -Wformat=2 (format-security) but not -Wformat-nonliteral; this compiles
# every source once more with -Wformat-nonliteral (-fsyntax-only) and fails
# on any warning not in the reviewed list below. Functions that take a
# format are declared with __attribute__((format(printf, ...))) (tz_err,
# tz_log, tz_verdict_hit...), so calls through them are checked too.
set -uo pipefail
top=${TZ_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${TZ_TOP_BUILDDIR:-$top}
cc=${CC:-cc}

# Reviewed exceptions, "file:function": why the format is not message data.
allowed=(
  # hit(b, v, tripped, fmt, arg): fmt is a literal at each of its callers in
  # tz_breaker.c, passed on to tz_verdict_hit; arg is the only variable.
  "tz_breaker.c:hit"
)

cflags="$(pkg-config --cflags gmime-3.0 libxml-2.0 uchardet sqlite3 libcrypto 2>/dev/null)"
bad=0 files=0
incs=$(for d in "$top/src" "$top"/src/*/; do printf -- '-I%s ' "${d%/}"; done)
for f in "$top"/src/*.c "$top"/src/*/*.c "$top"/milter/*.c "$top"/tools/*.c "$top"/sanitize/*.c; do
  [ -f "$f" ] || continue
  files=$((files + 1))
  out=$("$cc" -fsyntax-only -std=gnu11 -D_GNU_SOURCE -DHAVE_CONFIG_H -I"$build" $incs -I"$top/milter" -I"$top/sanitize" \
        $cflags -Wformat=2 -Wformat-nonliteral -Wno-unused-parameter "$f" 2>&1 | grep -E 'warning: .*\[-Wformat-(nonliteral|security)\]')
  [ -n "$out" ] || continue
  while IFS= read -r w; do
    line=$(echo "$w" | cut -d: -f2)
    base=$(basename "$f")
    # the function around the warning: the last definition line above it
    fn=$(head -n "$line" "$f" | grep -E '^[a-z].*\(' | tail -1 | sed -E 's/\(.*//; s/.*[ *]//')
    ok=0
    for a in "${allowed[@]}"; do [ "$a" = "$base:$fn" ] && ok=1; done
    if [ $ok -eq 0 ]; then
      echo "FAIL: non-literal format in $base:$fn: $w"
      bad=$((bad + 1))
    else
      echo "ok: reviewed exception $base:$fn"
    fi
  done <<<"$out"
done
echo "format_check: $files files, $bad unreviewed non-literal formats"
[ $files -gt 0 ] && [ $bad -eq 0 ]
