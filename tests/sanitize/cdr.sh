#!/bin/sh
# cdr.sh — the sanitizer's harmlessness and fidelity test (check_cdr.py):
# hostile PDFs, Office files with macros/DDE/external templates, images with
# metadata and trailing payloads, bombs, text and CSV, ZIP archives (names,
# encryption, bombs, nesting), each through
# textize-cdr and checked by an independent checker. Skips (77) when the
# sandbox or converter packages are missing (scripts/deps installs them).
set -u
cdr=${TZ_TOP_BUILDDIR:?}/sanitize/textize-cdr
for tool in /usr/bin/bwrap /usr/bin/pdftoppm /usr/bin/pdfinfo /usr/bin/img2pdf /usr/bin/qpdf \
            /usr/bin/tesseract /usr/bin/pdftotext /usr/bin/zip; do
  [ -x "$tool" ] || { echo "skip: $tool missing (scripts/deps)"; exit 77; }
done
/usr/bin/python3 -c 'import PIL, reportlab' 2>/dev/null || {
  echo "skip: python3-pil / python3-reportlab missing (scripts/deps)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nice /usr/bin/python3 "${TZ_TOP_SRCDIR:?}/tests/sanitize/check_cdr.py" "$cdr" "$tmp"
