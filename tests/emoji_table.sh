#!/usr/bin/env bash
# tests/emoji_table.sh — src/charset/tz_emoji_table.h is what scripts/gen-emoji-table
# makes from Unicode's EmojiSources.txt (Debian unicode-data), so the table
# in the tree was not edited by hand and still matches its source. Skips
# (exit 77) when the data file is not installed.
set -uo pipefail
top=${TZ_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
src=${TZ_EMOJI_SOURCES:-/usr/share/unicode/EmojiSources.txt}
if [ ! -r "$src" ]; then
  echo "SKIP: $src not installed (apt-get install unicode-data)"
  exit 77
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
if ! python3 "$top/scripts/gen-emoji-table" "$src" >"$tmp" 2>/dev/null; then
  echo "FAIL: scripts/gen-emoji-table failed"
  exit 1
fi
if ! diff -u "$top/src/charset/tz_emoji_table.h" "$tmp" >/dev/null; then
  echo "FAIL: src/charset/tz_emoji_table.h differs from scripts/gen-emoji-table output"
  exit 1
fi
n=$(grep -c '^	{ 0x' "$tmp")
# docomo 244 + au 633 + SoftBank 469 codes with a standard equivalent.
if [ "$n" -ne 1346 ]; then
  echo "FAIL: $n entries, expected 1346"
  exit 1
fi
echo "PASS: emoji table matches its source ($n entries)"
