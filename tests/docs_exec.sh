#!/bin/sh
# tests/docs_exec.sh — make check's entry to docs_exec.py: the command blocks
# and config snippets of README.md, README.ja.md and docs/operations.ja.md,
# fed to postconf, textize-milter -n and bash (see docs_exec.py).
# Needs TZ_TOP_SRCDIR and TZ_TOP_BUILDDIR (set by make check).
exec python3 "${TZ_TOP_SRCDIR:?run from make check}/tests/docs_exec.py" \
	"$TZ_TOP_SRCDIR" "${TZ_TOP_BUILDDIR:?run from make check}"
