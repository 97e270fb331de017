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
	"##     {ref_id}   参照番号(隔離キューのエントリ ID)\n"
	"##     {count}    取り除いた部分の数\n"
	"##     {version}  textize のバージョン\n"
	"##   {each:part} から {end} までの行は、取り除いた部分ごとに繰り返されます。その中で:\n"
	"##     {index}    部分の番号(1 から)        {ref}      参照番号#番号\n"
	"##     {name}     ファイル名(無いときは「(名前なし)」)\n"
	"##     {type}     宣言された形式             {detected} 内容から判定した形式\n"
	"##     {kind}     種類(「PDF 文書」「Excel ブック」など。表に無い形式は MIME タイプ)\n"
	"##     {size}     大きさ(読みやすい形)       {bytes}    大きさ(バイト数)\n"
	"##     {sha256}   SHA-256                    {reason}   取り除いた理由\n"
	"##     {risk}     危険の兆候(無いときは「なし」)\n"
	"##   次の行だけの指示で、{end} までの行を条件付きで出力します(入れ子可):\n"
	"##     {if:parts}      取り除いた部分があるとき    {if:no_parts}  無いとき\n"
	"##     {if:encrypted}  暗号化メールだったとき      {if:risky}     危険の兆候がある部分があるとき\n"
	"##     {if:part_risk}  ({each:part} の中で)その部分に危険の兆候があるとき\n"
	"##     {if:sanitized_follow}  無害化した複製を別のメールで届ける設定(SanitizedDelivery auto)のとき\n"
	"【textize】このメールはテキスト化されています\n"
	"インターネットから届いたメールのため、安全のために本文をテキストに変換し、\n"
	"添付ファイルなどを取り除いてお届けしています。\n"
	"{if:encrypted}\n"
	"\n"
	"このメールは暗号化されていたため、内容をテキスト化できませんでした。\n"
	"元のメール全体を取り除き、保管しています。\n"
	"{end}\n"
	"{if:parts}\n"
	"\n"
	"取り除いた部分({count} 件):\n"
	"{each:part}\n"
	"  [{index}] {name}\n"
	"      種類: {kind}  大きさ: {size}\n"
	"      理由: {reason}\n"
	"{if:part_risk}\n"
	"      注意: {risk}\n"
	"{end}\n"
	"      SHA-256: {sha256}\n"
	"      参照番号: {ref}\n"
	"{end}\n"
	"{if:sanitized_follow}\n"
	"\n"
	"無害化できる添付ファイル(PDF、Office 文書、画像、テキスト)は、無害化した\n"
	"複製をこのあと別のメールでお届けします。\n"
	"{end}\n"
	"\n"
	"取り除いた部分が業務に必要な場合は、参照番号を添えて情報セキュリティ担当へ\n"
	"お問い合わせください。安全を確認したうえでお渡しします。\n"
	"{end}\n"
	"{if:risky}\n"
	"「注意」のある部分は攻撃に使われることの多い形式です。送信者に心当たりが\n"
	"なければ開かずに、情報セキュリティ担当へご相談ください。\n"
	"{end}\n"
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
	"##     {ref_id}   reference id (the quarantine entry id)\n"
	"##     {count}    number of parts removed\n"
	"##     {version}  textize version\n"
	"##   Lines from {each:part} to {end} are repeated for every removed part, with:\n"
	"##     {index}    part number (from 1)        {ref}      ref_id#index\n"
	"##     {name}     file name (\"(no name)\" when none)\n"
	"##     {type}     declared type               {detected} type found from the content\n"
	"##     {kind}     kind of file (\"PDF document\", \"Excel workbook\", ...; else the MIME type)\n"
	"##     {size}     size, human-readable        {bytes}    size in bytes\n"
	"##     {sha256}   SHA-256                     {reason}   why it was removed\n"
	"##     {risk}     warning signs (\"none\" when none)\n"
	"##   These directives, alone on a line, print the lines up to {end} only when\n"
	"##   (they nest):\n"
	"##     {if:parts}      parts were removed       {if:no_parts}  none were\n"
	"##     {if:encrypted}  the mail was encrypted   {if:risky}     some part shows warning signs\n"
	"##     {if:part_risk}  (inside {each:part}) this part shows warning signs\n"
	"##     {if:sanitized_follow}  sanitized copies follow in another mail (SanitizedDelivery auto)\n"
	"[textize] This message has been converted to plain text\n"
	"It came from the Internet, so for safety its body was converted to plain\n"
	"text and attachments and other content were removed.\n"
	"{if:encrypted}\n"
	"\n"
	"This message was encrypted, so its content could not be converted to text.\n"
	"The whole original message was removed and kept.\n"
	"{end}\n"
	"{if:parts}\n"
	"\n"
	"Removed parts ({count}):\n"
	"{each:part}\n"
	"  [{index}] {name}\n"
	"      kind: {kind}  size: {size}\n"
	"      reason: {reason}\n"
	"{if:part_risk}\n"
	"      warning: {risk}\n"
	"{end}\n"
	"      SHA-256: {sha256}\n"
	"      reference: {ref}\n"
	"{end}\n"
	"{if:sanitized_follow}\n"
	"\n"
	"Attachments that can be sanitized (PDF, Office documents, images, text) will\n"
	"follow in a separate mail as sanitized copies.\n"
	"{end}\n"
	"\n"
	"If you need a removed part for your work, ask the information security team,\n"
	"quoting its reference; they will hand it over once it has been checked.\n"
	"{end}\n"
	"{if:risky}\n"
	"Parts marked \"warning\" are of a kind often used in attacks. Unless you know\n"
	"the sender expects you to open them, do not: contact the security team.\n"
	"{end}\n"
	"Reference of this mail: {ref_id}\n"
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
		"[uuencode で埋め込まれたファイル「%s」を取り除きました(参照番号: %s)]",
		"(名前なし)",
		"なし",
		"---------- 配送状態 ----------",
	},
	{
		"---------- Forwarded message ----------",
		"---------- End of forwarded message ----------",
		"[uuencoded file \"%s\" removed (reference: %s)]",
		"(no name)",
		"none",
		"---------- Delivery status ----------",
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
	static const char *const ja[] = {
		"添付ファイル", "本文中の画像", "HTML 形式の本文(テキスト版をお届けしています)",
		"電子署名", "Outlook 形式のデータ (winmail.dat)", "予定表データ",
		"暗号化されたメール", "本文に埋め込まれたファイル (uuencode)", "テキスト化できない部分",
	};
	static const char *const en[] = {
		"attachment", "image in the body", "HTML form of the body (text delivered)",
		"digital signature", "Outlook data (winmail.dat)", "calendar data",
		"encrypted message", "file embedded in the text (uuencode)", "content that cannot be text-ized",
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
	bool sanitized_follow;
	const GPtrArray *parts;
	gchar **lines;
	guint nlines;
	GString *out;
};

/* A directive line: "{if:X}", "{each:part}" or "{end}" alone (spaces allowed). */
static const char *directive(const char *line, char *arg, size_t arglen)
{
	char *t = g_strstrip(g_strdup(line));
	const char *kind = NULL;

	if (strcmp(t, "{end}") == 0)
		kind = "end";
	else if (g_str_has_prefix(t, "{if:") && g_str_has_suffix(t, "}"))
		kind = "if";
	else if (strcmp(t, "{each:part}") == 0)
		kind = "each";
	if (kind != NULL && strcmp(kind, "if") == 0)
		g_strlcpy(arg, t + 4, MIN(arglen, strlen(t) - 4));
	g_free(t);
	return kind;
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
	if (strcmp(arg, "risky") == 0)
		return any_risk(r->parts);
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
static const char *kind_name(enum tz_notice_lang lang, const struct tz_part *p)
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
		{ "application/x-dosexec", "実行ファイル (Windows)", "Windows executable" },
		{ "application/x-executable", "実行ファイル", "executable" },
		{ "application/ms-tnef", "Outlook 添付情報 (winmail.dat)", "Outlook attachment data (winmail.dat)" },
		{ "application/vnd.ms-tnef", "Outlook 添付情報 (winmail.dat)", "Outlook attachment data (winmail.dat)" },
		{ "application/pkcs7-signature", "電子署名", "digital signature" },
		{ "application/x-pkcs7-signature", "電子署名", "digital signature" },
		{ "application/pgp-signature", "電子署名", "digital signature" },
		{ "text/html", "HTML", "HTML" },
		{ "text/calendar", "予定表 (iCalendar)", "calendar invitation" },
		{ "text/csv", "CSV ファイル", "CSV file" },
		{ "text/plain", "テキストファイル", "text file" },
		{ "message/rfc822", "メール", "e-mail message" },
		{ "image/", "画像", "image" },
		{ "audio/", "音声", "audio" },
		{ "video/", "動画", "video" },
	};
	const char *t = p->detected_type;

	if (t == NULL || strcmp(t, "application/octet-stream") == 0 || strcmp(t, "text/plain") == 0
	    || strcmp(t, "application/x-empty") == 0)
		t = p->declared_type;
	for (size_t i = 0; t && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].type);
		bool prefix = kinds[i].type[n - 1] == '/' || kinds[i].type[n - 1] == '.';
		if (prefix ? strncmp(t, kinds[i].type, n) == 0 : strcmp(t, kinds[i].type) == 0)
			return lang == TZ_NOTICE_EN ? kinds[i].en : kinds[i].ja;
	}
	return NULL;
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
	else if (strcmp(key, "kind") == 0) {
		const char *k = kind_name(r->lang, p);
		put_value(out, k ? k : p->detected_type ? p->detected_type : p->declared_type ? p->declared_type : "-", 80);
	}
	else if (strcmp(key, "size") == 0)
		g_string_append(out, tmp = tz_notice_size(r->lang, p->size));
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

void tz_notice_render(const char *tmpl, enum tz_notice_lang lang, const char *ref_id,
		      unsigned flags, const GPtrArray *parts, GString *out)
{
	struct render r = { lang, ref_id ? ref_id : "", (flags & TZ_NOTICE_F_ENCRYPTED) != 0,
			    (flags & TZ_NOTICE_F_SANITIZED_FOLLOW) != 0, parts, NULL, 0, out };
	char *t = g_strdup(tmpl);
	size_t n = strlen(t);

	/* A final newline does not make one more (empty) line. */
	if (n > 0 && t[n - 1] == '\n')
		t[n - 1] = '\0';
	/* CRLF template files: drop the CRs. */
	{
		char *w = t;
		for (const char *q = t; *q; q++)
			if (*q != '\r')
				*w++ = *q;
		*w = '\0';
	}
	r.lines = g_strsplit(t, "\n", -1);
	r.nlines = g_strv_length(r.lines);
	render_range(&r, 0, r.nlines, NULL, 0);
	g_strfreev(r.lines);
	g_free(t);
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
