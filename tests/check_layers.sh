#!/bin/sh
# tests/check_layers.sh — make check runs scripts/check-layers: no include
# upward or across areas, no file over 1,000 lines, no function over 100.
top=${TZ_TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
exec python3 "$top/scripts/check-layers" "$top"
