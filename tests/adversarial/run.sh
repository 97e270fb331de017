#!/bin/sh
# run.sh — the adversarial stage of issue 12: generate the hostile corpus
# (gen.py), judge the engine's output on it (check.py), then the
# differential test against Python's email package (difftest.py) on the
# corpus, the engine fixtures and $TZ_CORPUS when present.
# Usage: run.sh [--quick] BUILD_DIR   (--quick: no cost bombs over 1 MB)
# Prints PASS/FAIL per case; ends with "adversarial: N passed, N failed".
set -u
quick=
[ "${1:-}" = "--quick" ] && { quick=--quick; shift; }
build=${1:-${TZ_BUILD:-}}
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
if [ -z "$build" ] || [ ! -x "$build/tools/textizectl" ]; then
  echo "run.sh: no textizectl under BUILD_DIR '$build'" >&2
  echo "adversarial: 0 passed, 1 failed"; exit 1
fi
build=$(cd "$build" && pwd)
for tool in uudecode hexbin gpg openssl xxd base64 /usr/bin/time; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "run.sh: $tool missing (scripts/deps installs it)" >&2
    echo "adversarial: 0 passed, 1 failed"; exit 1
  fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$py "$here/gen.py" $quick "$tmp/cases" || { echo "adversarial: 0 passed, 1 failed"; exit 1; }
$py "$here/check.py" "$build" "$tmp/cases" --cache "$tmp/cache" --results "${TZ_ADV_RESULTS:-$tmp/results.json}" | tee "$tmp/check.out"
set -- "$tmp/cases" "$here/../fixtures/engine"
if [ -n "${TZ_CORPUS:-}" ] && [ -d "$TZ_CORPUS" ]; then
  set -- "$@" "$TZ_CORPUS"
else
  echo "difftest: TZ_CORPUS absent, real-mail corpus not compared"
fi
$py "$here/difftest.py" "$build" --cache "$tmp/cache" "$@" | tee "$tmp/diff.out"
count() { sed -nE "s/^$1: ([0-9]+) passed, ([0-9]+) failed.*/\\$2/p" "$3" | tail -1; }
p1=$(count adversarial 1 "$tmp/check.out"); f1=$(count adversarial 2 "$tmp/check.out")
p2=$(count difftest 1 "$tmp/diff.out"); f2=$(count difftest 2 "$tmp/diff.out")
# a judge that died without its summary line is a failure, never a pass
[ -n "$p1" ] || { p1=0; f1=1; }
[ -n "$p2" ] || { p2=0; f2=1; }
echo "adversarial: $((p1 + p2)) passed, $((f1 + f2)) failed"
[ $((f1 + f2)) -eq 0 ]
