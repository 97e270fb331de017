/* tz_notice.c — render the notice that starts every text-ized body from a
 * template (conf/notice-ja.txt, conf/notice-en.txt; the format is
 * documented in their header comments), plus the few localised strings the
 * engine writes into the text itself. The built-in templates below are
 * copies of the conf/ files; test_notice checks that they stay identical. */
#include "tz_notice.h"

#include <stdio.h>
#include <string.h>

#include "tz_util.h"

static const char builtin_ja[] =
	"## notice-ja.txt — textize が本文の先頭に付ける通知文のテンプレート(日本語、既定)。\n"
	"## NoticeTemplate で別のファイルを指定できます。UTF-8 で書いてください。\n"
	"##\n"
	"## 書式:\n"
	"##   \"##\" で始まる行はコメントで、出力されません。\n"
	"##   {名前} は値に置き換えられます。知らない {名前} はそのまま出力されます。\n"
	"##   メール全体について:\n"
	"##     {ref_id}   このメールの参照番号(隔離キューのエントリ ID)\n"
	"##     {count}    取り除いて保管したファイルの数(HTML 形式の本文は数えません)\n"
	"##     {contact}  問い合わせ先(NoticeContact。空なら「情報セキュリティ担当」)\n"
	"##     {version}  textize のバージョン\n"
	"##   {each:part} から {end} までの行は、取り除いたファイルごとに繰り返されます\n"
	"##   (テキストにした HTML 形式の本文は含みません)。その中で:\n"
	"##     {index}    番号(1 から)              {ref}      参照番号(ID#番号)\n"
	"##     {name}     ファイル名(無いときは「名前のないファイル」)\n"
	"##     {kind}     種類(「PDF 文書」「Excel ブック」など。表に無い形式は「ファイル」など)\n"
	"##     {size}     サイズ(「1.4 MB」など)\n"
	"##     {reason}   取り除いた理由\n"
	"##     {risk}     危険の兆候(無いときは「なし」)\n"
	"##   次は技術的な情報です。職員向けには {if:details} の中だけで使ってください:\n"
	"##     {type}     宣言された MIME タイプ     {detected} 内容から判定した MIME タイプ\n"
	"##     {bytes}    サイズ(バイト数)          {sha256}   SHA-256\n"
	"##   次の行だけの指示で、{end} までの行を条件付きで出力します(入れ子可):\n"
	"##     {if:parts}      取り除いたファイルがあるとき  {if:no_parts}  無いとき\n"
	"##     {if:html}       HTML 形式の本文をテキストにしたとき\n"
	"##     {if:unchanged}  取り除いたものも HTML も暗号化も無いとき\n"
	"##     {if:encrypted}  暗号化メールだったとき        {if:risky}     危険の兆候があるファイルがあるとき\n"
	"##     {if:part_risk}  ({each:part} の中で)そのファイルに危険の兆候があるとき\n"
	"##     {if:details}    NoticeDetails full のとき(情報セキュリティ担当向けの詳細)\n"
	"##     {if:sanitized_follow}  無害化した複製を別のメールでお届けする設定(SanitizedDelivery auto)のとき\n"
	"##     {if:link}   職員向けページへの署名つきリンクがあるとき(WebBaseURL。宛先が 1 人のメール)\n"
	"##     {link}      そのリンク(取り除いたファイルの確認と配送の依頼)\n"
	"【安全のためテキスト形式に変換しました】\n"
	"このメールはインターネットから届きました。安全のため、本文をテキスト形式に変換して\n"
	"お届けしています。\n"
	"{if:unchanged}\n"
	"取り除いたものはありません。\n"
	"{end}\n"
	"{if:html}\n"
	"HTML 形式の本文はテキストに変換したため、画像や文字の装飾は表示されません。\n"
	"{end}\n"
	"{if:encrypted}\n"
	"このメールは暗号化されていたため、内容を表示できません。元のメールは保管しています。\n"
	"{end}\n"
	"{if:parts}\n"
	"\n"
	"次の {count} 件を取り除いて保管しています。\n"
	"{each:part}\n"
	"  ・{name}({kind}、{size})\n"
	"      理由: {reason}\n"
	"{if:part_risk}\n"
	"      注意: {risk}\n"
	"{end}\n"
	"{if:details}\n"
	"      MIME タイプ: {type}(内容から判定: {detected})\n"
	"      SHA-256: {sha256}\n"
	"{end}\n"
	"      参照番号: {ref}\n"
	"{end}\n"
	"{if:sanitized_follow}\n"
	"\n"
	"PDF、Office 文書、画像、テキストのファイルは、無害化した複製を、このあと\n"
	"別のメールでお届けします。\n"
	"{end}\n"
	"\n"
	"業務で必要なときは、参照番号を添えて{contact}へお問い合わせください。\n"
	"安全を確認したうえでお届けします。\n"
	"{if:link}\n"
	"\n"
	"取り除いたファイルの確認と配送の依頼は、次のページからもできます:\n"
	"{link}\n"
	"{end}\n"
	"{end}\n"
	"{if:risky}\n"
	"「注意」のあるファイルは、攻撃によく使われる形式です。差出人に心当たりがない\n"
	"ときは、取り寄せる前に{contact}へご相談ください。\n"
	"{end}\n"
	"\n"
	"このメールの参照番号: {ref_id}\n"
	"======================================================================\n";

static const char builtin_en[] =
	"## notice-en.txt — the notice textize puts at the top of every text-ized\n"
	"## body (English). Select it with NoticeLanguage en, or copy it and point\n"
	"## NoticeTemplate at your copy. UTF-8.\n"
	"##\n"
	"## Format:\n"
	"##   Lines starting with \"##\" are comments and are not printed.\n"
	"##   {name} is replaced by a value; unknown {names} are printed as they are.\n"
	"##   For the whole message:\n"
	"##     {ref_id}   reference of this message (the quarantine entry id)\n"
	"##     {count}    number of files removed and kept (the HTML body is not counted)\n"
	"##     {contact}  whom to ask (NoticeContact; \"the information security team\" when empty)\n"
	"##     {version}  textize version\n"
	"##   Lines from {each:part} to {end} are repeated for every removed file (not\n"
	"##   the HTML body that was turned into text), with:\n"
	"##     {index}    number (from 1)             {ref}      reference (ID#number)\n"
	"##     {name}     file name (\"unnamed file\" when none)\n"
	"##     {kind}     kind of file (\"PDF document\", \"Excel workbook\", ...; else \"file\" and the like)\n"
	"##     {size}     size (\"1.4 MB\")\n"
	"##     {reason}   why it was removed\n"
	"##     {risk}     warning signs (\"none\" when none)\n"
	"##   Technical values, for staff notices only inside {if:details}:\n"
	"##     {type}     declared MIME type          {detected} MIME type found from the content\n"
	"##     {bytes}    size in bytes               {sha256}   SHA-256\n"
	"##   These directives, alone on a line, print the lines up to {end} only when\n"
	"##   (they nest):\n"
	"##     {if:parts}      files were removed       {if:no_parts}  none were\n"
	"##     {if:html}       the HTML body was turned into text\n"
	"##     {if:unchanged}  nothing removed, no HTML, not encrypted\n"
	"##     {if:encrypted}  the mail was encrypted   {if:risky}     some file shows warning signs\n"
	"##     {if:part_risk}  (inside {each:part}) this file shows warning signs\n"
	"##     {if:details}    NoticeDetails full (details for the security team)\n"
	"##     {if:sanitized_follow}  sanitized copies follow in another message (SanitizedDelivery auto)\n"
	"##     {if:link}   there is a signed link to the staff page (WebBaseURL; mail with one recipient)\n"
	"##     {link}      that link (see what was removed, ask for it)\n"
	"[Converted to plain text for safety]\n"
	"This message came from the Internet. For safety, its body has been converted to\n"
	"plain text.\n"
	"{if:unchanged}\n"
	"Nothing was removed.\n"
	"{end}\n"
	"{if:html}\n"
	"The HTML version of the body was converted to text, so images and formatting\n"
	"are not shown.\n"
	"{end}\n"
	"{if:encrypted}\n"
	"This message was encrypted, so its content cannot be shown. The original is kept.\n"
	"{end}\n"
	"{if:parts}\n"
	"\n"
	"These {count} file(s) were removed and kept:\n"
	"{each:part}\n"
	"  - {name} ({kind}, {size})\n"
	"      reason: {reason}\n"
	"{if:part_risk}\n"
	"      warning: {risk}\n"
	"{end}\n"
	"{if:details}\n"
	"      MIME type: {type} (from the content: {detected})\n"
	"      SHA-256: {sha256}\n"
	"{end}\n"
	"      reference: {ref}\n"
	"{end}\n"
	"{if:sanitized_follow}\n"
	"\n"
	"Sanitized copies of the PDF, Office, image and text files will follow in a\n"
	"separate message.\n"
	"{end}\n"
	"\n"
	"If you need one for your work, ask {contact}, quoting its reference.\n"
	"It will be sent to you once it has been checked.\n"
	"{if:link}\n"
	"\n"
	"You can also see the removed files and ask for them on this page:\n"
	"{link}\n"
	"{end}\n"
	"{end}\n"
	"{if:risky}\n"
	"Files marked \"warning\" are of a kind often used in attacks. If you do not know\n"
	"the sender, talk to {contact} before asking for them.\n"
	"{end}\n"
	"\n"
	"Reference of this message: {ref_id}\n"
	"======================================================================\n";

const char *tz_notice_builtin(enum tz_notice_lang lang)
{
	return lang == TZ_NOTICE_EN ? builtin_en : builtin_ja;
}

/* ------------------------------------------------------------ strings */

static const char *const strings[2][TZ_STR_COUNT] = {
	{
		"---------- 転送されたメッセージ ----------",
		"---------- 転送されたメッセージここまで ----------",
		"名前のないファイル",
		"なし",
		"---------- 配送状態 ----------",
		"[本文中の符号化されたファイル「%s」を取り除きました(参照番号: %s)]",
		"※ 表示できる本文はありませんでした。取り除いたものは上の一覧のとおりです。",
		"※ HTML の中に隠されていたファイルを取り除きました(上の一覧のとおりです)。",
	},
	{
		"---------- Forwarded message ----------",
		"---------- End of forwarded message ----------",
		"unnamed file",
		"none",
		"---------- Delivery status ----------",
		"[encoded file \"%s\" removed from the text (reference: %s)]",
		"Note: this mail had no text that could be shown; what was removed is listed above.",
		"Note: files hidden inside the HTML were removed (listed above).",
	},
};

const char *tz_notice_string(enum tz_notice_lang lang, enum tz_notice_str s)
{
	if ((unsigned)s >= TZ_STR_COUNT)
		return "";
	return strings[lang == TZ_NOTICE_EN][s];
}

const char *tz_notice_reason(enum tz_notice_lang lang, enum tz_part_reason r)
{
	static const char *const ja[TZ_REASON_COUNT] = {
		"添付ファイル", "本文中の画像", "HTML 形式の本文",
		"電子署名", "Outlook の添付情報", "予定表",
		"暗号化されたメール", "本文に埋め込まれたファイル", "テキストにできない内容",
		"本文中の符号化ファイル", "表示できない内容", "構造が不正なデータ",
	};
	static const char *const en[TZ_REASON_COUNT] = {
		"attachment", "image in the body", "HTML version of the body",
		"digital signature", "Outlook data (winmail.dat)", "calendar data",
		"encrypted message", "file embedded in the text", "content that cannot be made text",
		"encoded file in the body text", "content that could not be shown",
		"ambiguous message structure",
	};
	if ((unsigned)r >= G_N_ELEMENTS(ja))
		r = TZ_REASON_OTHER;
	return lang == TZ_NOTICE_EN ? en[r] : ja[r];
}

char *tz_notice_risks(enum tz_notice_lang lang, unsigned risk)
{
	static const char *const ja[TZ_RISK_COUNT] = {
		"実行ファイル", "二重拡張子", "ファイル名に制御文字", "マクロ付き Office 文書",
		"パスワード付き圧縮ファイル", "圧縮ファイル", "形式の偽装の疑い", "HTML・スクリプト",
		"暗号化",
	};
	static const char *const en[TZ_RISK_COUNT] = {
		"executable", "double extension", "control characters in the name",
		"macro-enabled Office document", "password-protected archive", "archive",
		"declared type differs from content", "HTML or script", "encrypted",
	};
	GString *s = g_string_new(NULL);

	for (unsigned i = 0; i < TZ_RISK_COUNT; i++) {
		if (!(risk & (1u << i)))
			continue;
		if (s->len)
			g_string_append(s, lang == TZ_NOTICE_EN ? ", " : "、");
		g_string_append(s, lang == TZ_NOTICE_EN ? en[i] : ja[i]);
	}
	return g_string_free(s, FALSE);
}

static void append_grouped(GString *s, uint64_t v)
{
	char digits[32];
	int n = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)v);

	for (int i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			g_string_append_c(s, ',');
		g_string_append_c(s, digits[i]);
	}
}

char *tz_notice_size(enum tz_notice_lang lang, uint64_t bytes)
{
	const char *unit = lang == TZ_NOTICE_EN ? " bytes" : " バイト";
	GString *s = g_string_new(NULL);

	if (bytes < 1024) {
		append_grouped(s, bytes);
		g_string_append(s, unit);
		return g_string_free(s, FALSE);
	}
	if (bytes < 1024 * 1024)
		g_string_append_printf(s, "%.1f KB (", bytes / 1024.0);
	else if (bytes < 1024ull * 1024 * 1024)
		g_string_append_printf(s, "%.1f MB (", bytes / (1024.0 * 1024));
	else
		g_string_append_printf(s, "%.1f GB (", bytes / (1024.0 * 1024 * 1024));
	append_grouped(s, bytes);
	g_string_append(s, unit);
	g_string_append_c(s, ')');
	return g_string_free(s, FALSE);
}

/* ------------------------------------------------------------ templates */

struct render {
	enum tz_notice_lang lang;
	const char *ref_id;
	bool encrypted;
	bool sanitized_follow;  /* SanitizedDelivery auto: copies follow */
	const char *link;        /* signed staff link, NULL when none */
	bool details;            /* NoticeDetails full */
	bool html;               /* an HTML body was turned into text */
	const char *contact;     /* never NULL */
	const GPtrArray *parts;  /* the parts listed: not the HTML alternative */
	gchar **lines;
	guint nlines;
	GString *out;
};

/* A directive line: "{if:X}", "{each:part}" or "{end}" alone (spaces
 * allowed around it, as g_strstrip removes them). Read in place: a copy
 * per line, and block_end reads the lines after every block, was most of
 * the notice's cost per message. */
static const char *directive(const char *line, char *arg, size_t arglen)
{
	const char *b = line, *e;
	size_t n;

	while (g_ascii_isspace(*b))
		b++;
	e = b + strlen(b);
	while (e > b && g_ascii_isspace(e[-1]))
		e--;
	n = (size_t)(e - b);
	if (n == 5 && memcmp(b, "{end}", 5) == 0)
		return "end";
	if (n == 11 && memcmp(b, "{each:part}", 11) == 0)
		return "each";
	if (n >= 5 && memcmp(b, "{if:", 4) == 0 && e[-1] == '}') {
		g_strlcpy(arg, b + 4, MIN(arglen, n - 4));   /* without the '}' */
		return "if";
	}
	return NULL;
}

/* Index of the {end} closing the block opened at line `open`, or nlines. */
static guint block_end(const struct render *r, guint open)
{
	char arg[64];
	int depth = 0;

	for (guint i = open + 1; i < r->nlines; i++) {
		const char *k = directive(r->lines[i], arg, sizeof(arg));
		if (k == NULL)
			continue;
		if (strcmp(k, "end") != 0)
			depth++;
		else if (depth-- == 0)
			return i;
	}
	return r->nlines;
}

int tz_notice_check(const char *tmpl, char *err, size_t errlen)
{
	gchar **lines = g_strsplit(tmpl, "\n", -1);
	char arg[64];
	int depth = 0, rc = 0;

	for (guint i = 0; lines[i] != NULL; i++) {
		const char *k = directive(lines[i], arg, sizeof(arg));
		if (k == NULL)
			continue;
		if (strcmp(k, "end") != 0 && ++depth > 8) {
			rc = tz_err(err, errlen, "line %u: blocks nested too deep", i + 1);
			goto out;
		}
		if (strcmp(k, "end") == 0 && --depth < 0) {
			rc = tz_err(err, errlen, "line %u: {end} without a block", i + 1);
			goto out;
		}
	}
	if (depth != 0)
		rc = tz_err(err, errlen, "a block is not closed by {end}");
out:
	g_strfreev(lines);
	return rc;
}

static bool any_risk(const GPtrArray *parts)
{
	for (guint i = 0; parts != NULL && i < parts->len; i++)
		if (((const struct tz_part *)g_ptr_array_index(parts, i))->risk)
			return true;
	return false;
}

static bool condition(const struct render *r, const char *arg, const struct tz_part *p)
{
	guint n = r->parts != NULL ? r->parts->len : 0;

	if (strcmp(arg, "parts") == 0)
		return n > 0;
	if (strcmp(arg, "no_parts") == 0)
		return n == 0;
	if (strcmp(arg, "encrypted") == 0)
		return r->encrypted;
	if (strcmp(arg, "sanitized_follow") == 0)
		return r->sanitized_follow;
	if (strcmp(arg, "link") == 0)
		return r->link != NULL;
	if (strcmp(arg, "risky") == 0)
		return any_risk(r->parts);
	if (strcmp(arg, "html") == 0)
		return r->html;
	if (strcmp(arg, "unchanged") == 0)
		return n == 0 && !r->html && !r->encrypted;
	if (strcmp(arg, "details") == 0)
		return r->details;
	if (strcmp(arg, "part_risk") == 0)
		return p != NULL && p->risk != 0;
	return false;
}

/* Append v cut to max characters (a hostile 10,000-character name must not
 * drown the notice). */
static void put_value(GString *out, const char *v, glong max)
{
	if (g_utf8_strlen(v, -1) <= max) {
		g_string_append(out, v);
		return;
	}
	g_string_append_len(out, v, g_utf8_offset_to_pointer(v, max) - v);
	g_string_append(out, "…");
}

/* A name staff recognise for a file's type ("Excel ブック" rather than
 * application/vnd.openxmlformats-officedocument.spreadsheetml.sheet). The
 * content's type wins over the declared one, except where the content only
 * says "some bytes" or "some text". NULL when the type is not in the table. */
const char *tz_notice_kind(enum tz_notice_lang lang, const char *detected, const char *declared)
{
	static const struct { const char *type, *ja, *en; } kinds[] = {
		{ "application/pdf", "PDF 文書", "PDF document" },
		{ "application/vnd.openxmlformats-officedocument.spreadsheetml.", "Excel ブック", "Excel workbook" },
		{ "application/vnd.ms-excel", "Excel ブック", "Excel workbook" },
		{ "application/vnd.openxmlformats-officedocument.wordprocessingml.", "Word 文書", "Word document" },
		{ "application/msword", "Word 文書", "Word document" },
		{ "application/vnd.openxmlformats-officedocument.presentationml.", "PowerPoint プレゼンテーション", "PowerPoint presentation" },
		{ "application/vnd.ms-powerpoint", "PowerPoint プレゼンテーション", "PowerPoint presentation" },
		{ "application/vnd.oasis.opendocument.", "OpenDocument 文書", "OpenDocument file" },
		{ "application/x-ichitaro", "一太郎文書", "Ichitaro document" },
		{ "application/zip", "ZIP 圧縮ファイル", "ZIP archive" },
		{ "application/x-7z-compressed", "7-Zip 圧縮ファイル", "7-Zip archive" },
		{ "application/x-rar", "RAR 圧縮ファイル", "RAR archive" },
		{ "application/vnd.rar", "RAR 圧縮ファイル", "RAR archive" },
		{ "application/x-lzh", "LZH 圧縮ファイル", "LZH archive" },
		{ "application/gzip", "gzip 圧縮ファイル", "gzip archive" },
		{ "application/x-dosexec", "Windows 実行ファイル", "Windows executable" },
		{ "application/x-msdownload", "Windows 実行ファイル", "Windows executable" },
		{ "application/x-msdos-program", "Windows 実行ファイル", "Windows executable" },
		{ "application/x-ms-shortcut", "ショートカット", "shortcut" },
		{ "application/x-executable", "実行ファイル", "executable" },
		{ "application/x-sharedlib", "実行ファイル", "executable" },
		{ "application/x-mach-binary", "Mac 実行ファイル", "Mac executable" },
		{ "application/javascript", "スクリプト", "script" },
		{ "text/javascript", "スクリプト", "script" },
		{ "application/x-sh", "スクリプト", "script" },
		{ "text/x-shellscript", "スクリプト", "script" },
		{ "text/x-msdos-batch", "スクリプト", "script" },
		{ "application/hta", "スクリプト", "script" },
		{ "application/x-iso9660-image", "ディスクイメージ", "disk image" },
		{ "application/x-bzip2", "圧縮ファイル", "archive" },
		{ "application/x-xz", "圧縮ファイル", "archive" },
		{ "application/x-tar", "圧縮ファイル", "archive" },
		{ "application/x-cab", "圧縮ファイル", "archive" },
		{ "application/vnd.ms-cab-compressed", "圧縮ファイル", "archive" },
		{ "application/rtf", "リッチテキスト文書", "rich text document" },
		{ "text/rtf", "リッチテキスト文書", "rich text document" },
		{ "application/vnd.ms-outlook", "Outlook メール", "Outlook message" },
		{ "application/xml", "XML ファイル", "XML file" },
		{ "text/xml", "XML ファイル", "XML file" },
		{ "application/json", "データファイル", "data file" },
		{ "application/ms-tnef", "Outlook の添付情報", "Outlook attachment data (winmail.dat)" },
		{ "application/vnd.ms-tnef", "Outlook の添付情報", "Outlook attachment data (winmail.dat)" },
		{ "application/pkcs7-signature", "電子署名", "digital signature" },
		{ "application/x-pkcs7-signature", "電子署名", "digital signature" },
		{ "application/pgp-signature", "電子署名", "digital signature" },
		{ "text/html", "HTML", "HTML" },
		{ "text/calendar", "予定表", "calendar invitation" },
		{ "text/csv", "CSV ファイル", "CSV file" },
		{ "text/plain", "テキストファイル", "text file" },
		{ "message/rfc822", "メール", "e-mail message" },
		{ "image/", "画像", "image" },
		{ "audio/", "音声", "audio" },
		{ "video/", "動画", "video" },
		{ "font/", "フォント", "font" },
		{ "model/", "3D データ", "3D model" },
		/* Generic labels last: every type gets a word staff can read. */
		{ "text/", "テキストファイル", "text file" },
		{ "message/", "メール", "e-mail message" },
		{ "multipart/", "メールの一部", "part of a message" },
		{ "application/", "ファイル", "file" },
	};
	const char *t = detected;

	if (t == NULL || strcmp(t, "application/octet-stream") == 0 || strcmp(t, "text/plain") == 0
	    || strcmp(t, "application/x-empty") == 0)
		t = declared;
	/* The specific labels for the content's type, then for the declared
	 * one; then the generic ones ("ファイル") in the same order. */
	for (int pass = 0; pass < 4; pass++) {
		const char *ty = pass % 2 == 0 ? t : declared;

		for (size_t i = 0; ty && i < G_N_ELEMENTS(kinds); i++) {
			size_t n = strlen(kinds[i].type);
			bool prefix = kinds[i].type[n - 1] == '/' || kinds[i].type[n - 1] == '.';
			bool generic = i >= G_N_ELEMENTS(kinds) - 4;

			if (generic != (pass >= 2))
				continue;
			if (prefix ? strncmp(ty, kinds[i].type, n) == 0 : strcmp(ty, kinds[i].type) == 0)
				return lang == TZ_NOTICE_EN ? kinds[i].en : kinds[i].ja;
		}
	}
	return lang == TZ_NOTICE_EN ? "file" : "ファイル";
}

static const char *kind_name(enum tz_notice_lang lang, const struct tz_part *p)
{
	return tz_notice_kind(lang, p->detected_type, p->declared_type);
}

char *tz_notice_size_short(enum tz_notice_lang lang, uint64_t bytes)
{
	if (bytes < 1024)
		return g_strdup_printf("%llu%s", (unsigned long long)bytes,
				       lang == TZ_NOTICE_EN ? " bytes" : " バイト");
	if (bytes < 1024 * 1024)
		return g_strdup_printf("%.1f KB", bytes / 1024.0);
	if (bytes < 1024ull * 1024 * 1024)
		return g_strdup_printf("%.1f MB", bytes / (1024.0 * 1024));
	return g_strdup_printf("%.1f GB", bytes / (1024.0 * 1024 * 1024));
}

/* Value of {key}; true when known. */
static bool placeholder(const struct render *r, const char *key, const struct tz_part *p, GString *out)
{
	char *tmp = NULL;

	if (strcmp(key, "ref_id") == 0)
		g_string_append(out, r->ref_id);
	else if (strcmp(key, "count") == 0)
		g_string_append_printf(out, "%u", r->parts ? r->parts->len : 0);
	else if (strcmp(key, "version") == 0)
		g_string_append(out, TZ_VERSION);
	else if (strcmp(key, "contact") == 0)
		put_value(out, r->contact, 200);
	else if (strcmp(key, "link") == 0)
		g_string_append(out, r->link ? r->link : "");
	else if (p == NULL)
		return false;
	else if (strcmp(key, "index") == 0)
		g_string_append_printf(out, "%u", p->index);
	else if (strcmp(key, "ref") == 0)
		g_string_append_printf(out, "%s#%u", r->ref_id, p->index);
	else if (strcmp(key, "name") == 0)
		put_value(out, p->filename ? p->filename : tz_notice_string(r->lang, TZ_STR_NO_NAME), 120);
	else if (strcmp(key, "type") == 0)
		put_value(out, p->declared_type ? p->declared_type : "-", 80);
	else if (strcmp(key, "detected") == 0)
		put_value(out, p->detected_type ? p->detected_type : "-", 80);
	else if (strcmp(key, "kind") == 0)
		g_string_append(out, kind_name(r->lang, p));
	else if (strcmp(key, "size") == 0)
		g_string_append(out, tmp = tz_notice_size_short(r->lang, p->size));
	else if (strcmp(key, "bytes") == 0)
		g_string_append_printf(out, "%llu", (unsigned long long)p->size);
	else if (strcmp(key, "sha256") == 0)
		g_string_append(out, p->sha256);
	else if (strcmp(key, "reason") == 0)
		g_string_append(out, tz_notice_reason(r->lang, p->reason));
	else if (strcmp(key, "risk") == 0) {
		tmp = tz_notice_risks(r->lang, p->risk);
		g_string_append(out, *tmp ? tmp : tz_notice_string(r->lang, TZ_STR_NONE));
	} else
		return false;
	g_free(tmp);
	return true;
}

static void render_line(const struct render *r, const char *line, const struct tz_part *p)
{
	const char *s = line;

	while (*s) {
		const char *open = strchr(s, '{'), *close;
		char key[32];

		if (open == NULL || (close = strchr(open, '}')) == NULL || close - open - 1 >= (long)sizeof(key)) {
			g_string_append(r->out, s);
			break;
		}
		g_string_append_len(r->out, s, open - s);
		memcpy(key, open + 1, close - open - 1);
		key[close - open - 1] = '\0';
		if (!placeholder(r, key, p, r->out))
			g_string_append_len(r->out, open, close - open + 1);
		s = close + 1;
	}
	g_string_append_c(r->out, '\n');
}

static void render_range(const struct render *r, guint from, guint to, const struct tz_part *p, int depth)
{
	char arg[64];

	for (guint i = from; i < to; i++) {
		const char *k = directive(r->lines[i], arg, sizeof(arg));
		guint end;

		if (k == NULL) {
			if (!g_str_has_prefix(r->lines[i], "##"))
				render_line(r, r->lines[i], p);
			continue;
		}
		if (strcmp(k, "end") == 0)
			continue;   /* stray: tz_notice_check refuses these in files */
		end = MIN(block_end(r, i), to);
		if (depth < 8 && strcmp(k, "if") == 0 && condition(r, arg, p))
			render_range(r, i + 1, end, p, depth + 1);
		if (depth < 8 && strcmp(k, "each") == 0)
			for (guint j = 0; r->parts != NULL && j < r->parts->len; j++)
				render_range(r, i + 1, end, g_ptr_array_index(r->parts, j), depth + 1);
		i = end;
	}
}

/* The template's lines: a final newline does not make one more (empty)
 * line, and the CRs of a CRLF template file are dropped. g_strfreev(). */
static char **template_lines(const char *tmpl)
{
	char *t = g_strdup(tmpl), *w = t, **lines;
	size_t n = strlen(t);

	if (n > 0 && t[n - 1] == '\n')
		t[n - 1] = '\0';
	for (const char *q = t; *q; q++)
		if (*q != '\r')
			*w++ = *q;
	*w = '\0';
	lines = g_strsplit(t, "\n", -1);
	g_free(t);
	return lines;
}

static void render_lines(char **lines, const struct tz_notice_opts *o, GString *out)
{
	struct render r = { .lang = o->lang, .ref_id = o->ref_id ? o->ref_id : "",
			    .encrypted = o->encrypted, .sanitized_follow = o->sanitized_follow,
			    .link = o->link && *o->link ? o->link : NULL, .details = o->details, .out = out };
	GPtrArray *listed = g_ptr_array_new();

	r.contact = o->contact != NULL && *o->contact != '\0' ? o->contact
		: o->lang == TZ_NOTICE_EN ? "the information security team" : "情報セキュリティ担当";
	/* The HTML form of the body is said once ({if:html}), not listed as a
	 * removed file of its own. */
	for (guint i = 0; o->parts != NULL && i < o->parts->len; i++) {
		struct tz_part *p = g_ptr_array_index(o->parts, i);

		if (p->reason == TZ_REASON_HTML_ALTERNATIVE)
			r.html = true;
		else
			g_ptr_array_add(listed, p);
	}
	r.parts = listed;
	r.lines = lines;
	r.nlines = g_strv_length(lines);
	render_range(&r, 0, r.nlines, NULL, 0);
	g_ptr_array_free(listed, TRUE);
}

void tz_notice_render_opts(const char *tmpl, const struct tz_notice_opts *o, GString *out)
{
	char **lines = template_lines(tmpl);

	render_lines(lines, o, out);
	g_strfreev(lines);
}

static gpointer builtin_lines_ja(gpointer unused)
{
	(void)unused;
	return template_lines(builtin_ja);
}

static gpointer builtin_lines_en(gpointer unused)
{
	(void)unused;
	return template_lines(builtin_en);
}

/* The built-in templates are split into lines once per process (they never
 * change); copying and splitting them per message was half of the notice's
 * cost on the 5 KB shape. */
void tz_notice_render_builtin(const struct tz_notice_opts *o, GString *out)
{
	static GOnce ja = G_ONCE_INIT, en = G_ONCE_INIT;
	char **lines = o->lang == TZ_NOTICE_EN ? g_once(&en, builtin_lines_en, NULL)
		: g_once(&ja, builtin_lines_ja, NULL);

	render_lines(lines, o, out);
}

char *tz_notice_load(const char *path, enum tz_notice_lang lang, char *err, size_t errlen)
{
	char *text = NULL;
	gsize len = 0;
	GError *gerr = NULL;
	char why[TZ_ERRLEN];

	if (path == NULL || *path == '\0')
		return g_strdup(tz_notice_builtin(lang));
	if (!g_file_get_contents(path, &text, &len, &gerr)) {
		tz_err(err, errlen, "notice template %s: %s", path, gerr->message);
		g_error_free(gerr);
		return NULL;
	}
	if (len > TZ_NOTICE_MAX_BYTES || !g_utf8_validate(text, (gssize)len, NULL)) {
		tz_err(err, errlen, "notice template %s: not UTF-8 text of at most %d bytes",
		       path, TZ_NOTICE_MAX_BYTES);
		g_free(text);
		return NULL;
	}
	if (tz_notice_check(text, why, sizeof(why)) != 0) {
		tz_err(err, errlen, "notice template %s: %s", path, why);
		g_free(text);
		return NULL;
	}
	return text;
}
