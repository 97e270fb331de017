#!/bin/sh
# ctl_convert.sh — `textizectl convert` end to end on the bundled sample:
# the text-ized message, --json, stdin, and the one-line errors (unreadable
# input, over-limit input with -c CONF).
set -u
ctl=${TZ_TOP_BUILDDIR:?}/tools/textizectl
sample=${TZ_TOP_SRCDIR:?}/conf/samples/sample-ja.eml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fails=$((fails + 1)); fi; }

"$ctl" convert "$sample" >"$tmp/out" 2>"$tmp/err"
check "converts the sample" '[ $? -eq 0 ] && [ ! -s "$tmp/err" ]'
check "text/plain UTF-8 base64" 'grep -q "^Content-Type: text/plain; charset=UTF-8$" "$tmp/out" && grep -q "^Content-Transfer-Encoding: base64$" "$tmp/out"'
check "one Content-Type left" '[ "$(grep -ci "^content-type:" "$tmp/out")" -eq 1 ]'
check "headers kept" 'grep -q "^Message-ID: <20250401100000.sample@example.co.jp>$" "$tmp/out"'
sed '1,/^$/d' "$tmp/out" | base64 -d >"$tmp/text" 2>/dev/null
check "text and notice" 'grep -q "総務課 御中" "$tmp/text" && grep -q "見積書_2025年度.pdf" "$tmp/text" && grep -q "作業予定表.xlsx" "$tmp/text"'
check "attachments gone" '! grep -q "JVBERi0" "$tmp/out"'
# The notice staff read: what happened, the two files (not the HTML body)
# with their 参照番号, no hashes or MIME types, the built-in contact.
check "notice heading" '[ "$(head -n 1 "$tmp/text")" = "【安全のためテキスト形式に変換しました】" ]'
check "HTML said once, not listed" 'grep -q "^HTML 形式の本文はテキストに変換したため" "$tmp/text" && ! grep -q "#1$" "$tmp/text" && grep -q "次の 2 件を取り除いて保管しています。" "$tmp/text"'
check "files with kind, size, 参照番号" 'grep -q "^  ・見積書_2025年度.pdf(PDF 文書、453 バイト)$" "$tmp/text" && grep -q "^  ・作業予定表.xlsx(Excel ブック、2.2 KB)$" "$tmp/text" && grep -q "^      参照番号: .*#3$" "$tmp/text"'
check "no details for staff" '! grep -q "SHA-256\|application/" "$tmp/text" && grep -q "情報セキュリティ担当へお問い合わせください" "$tmp/text"'
printf 'NoticeDetails full\nNoticeContact 情報政策課(内線 1234)\n' >"$tmp/full.conf"
"$ctl" convert -c "$tmp/full.conf" "$sample" >"$tmp/out2" 2>"$tmp/err"
sed '1,/^$/d' "$tmp/out2" | base64 -d >"$tmp/text2" 2>/dev/null
check "NoticeDetails full, NoticeContact" 'grep -q "^      SHA-256: [0-9a-f]\{64\}$" "$tmp/text2" && grep -q "MIME タイプ: application/pdf" "$tmp/text2" && grep -q "参照番号を添えて情報政策課(内線 1234)へお問い合わせください。" "$tmp/text2"'
check "no line over 998" '[ "$(awk "length > 998" "$tmp/out" | wc -l)" -eq 0 ]'

"$ctl" convert --json - <"$sample" >"$tmp/json" 2>"$tmp/err"
check "--json from stdin" '[ $? -eq 0 ] && grep -q "\"stripped\":3" "$tmp/json"'
if command -v python3 >/dev/null; then
  check "JSON parses" 'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert len(d[\"parts\"]) == 3" "$tmp/json"'
fi

"$ctl" convert "$tmp/missing.eml" >"$tmp/out" 2>"$tmp/err"
check "unreadable: non-zero, one line" '[ $? -ne 0 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && [ ! -s "$tmp/out" ]'

printf 'MaxParts 2\n' >"$tmp/small.conf"
"$ctl" convert -c "$tmp/small.conf" "$sample" >"$tmp/out" 2>"$tmp/err"
check "over limit: non-zero, one line naming it" '[ $? -ne 0 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "parts" "$tmp/err"'

printf 'NoSuchKey 1\n' >"$tmp/bad.conf"
"$ctl" convert -c "$tmp/bad.conf" "$sample" >"$tmp/out" 2>"$tmp/err"
check "bad config: non-zero" '[ $? -ne 0 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ]'

[ "$fails" -eq 0 ]
