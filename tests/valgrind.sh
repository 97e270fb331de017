#!/usr/bin/env bash
# tests/valgrind.sh BUILD_DIR — the corpus conversion, the engine's unit
# tests (hostile headers included) and the spoof rule under valgrind memcheck: zero errors (--error-exitcode) and zero
# definite or indirect leaks (--errors-for-leak-kinds=definite,indirect
# makes those errors too). "Still reachable" memory is GLib/GMime/libmagic
# one-time state and is not counted. One process per program (the corpus
# test loops over every message of $TZ_CORPUS in three output variants),
# so the whole stage takes well under a minute here.
# A program that exits 77 (automake SKIP: the corpus is absent) is counted
# as skipped, not failed, so a fresh clone without ../shared passes.
# Prints "valgrind: N passed, N failed, N skipped" last.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: tests/valgrind.sh BUILD_DIR}
export TZ_CORPUS=${TZ_CORPUS:-$top/../shared/corpus}
export TZ_TOP_SRCDIR=$top TZ_TOP_BUILDDIR=$build
passed=0 failed=0 skipped=0

if ! command -v valgrind >/dev/null; then
  echo "valgrind: not installed"; echo "valgrind: 0 passed, 1 failed, 0 skipped"; exit 1
fi
# GLib's slice allocator hides leaks from valgrind unless told not to.
export G_SLICE=always-malloc G_DEBUG=gc-friendly

for prog in corpus/test_corpus unit/engine/test_engine unit/charset/test_charset unit/charset/test_header \
            unit/html/test_html unit/engine/test_sniff unit/engine/test_encscan unit/engine/test_hostile \
            unit/policy/test_spoof; do
  bin=$build/tests/$prog
  log=$build/tests/$(basename "$prog").valgrind.log
  if [ ! -x "$bin" ]; then
    echo "valgrind: $prog not built"; failed=$((failed + 1)); continue
  fi
  valgrind -q --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
    --suppressions="$top/tests/valgrind.supp" --num-callers=40 \
    "$bin" >"$log" 2>&1
  rc=$?
  if [ "$rc" -eq 0 ]; then
    echo "valgrind: $prog ok"; passed=$((passed + 1))
  elif [ "$rc" -eq 77 ] && ! grep -qE '^==[0-9]+== ' "$log"; then
    # a clean skip: the program said why, valgrind reported nothing
    echo "valgrind: $prog skipped ($(grep -m1 '^SKIP' "$log"))"; skipped=$((skipped + 1))
  else
    echo "valgrind: $prog FAILED (see $log)"
    grep -E '^==[0-9]+== (Invalid|Conditional|Use of|Mismatched|Syscall|[0-9,]+ bytes in)' "$log" | sort | uniq -c | head -10
    failed=$((failed + 1))
  fi
done
echo "valgrind: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
