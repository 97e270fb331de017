/* test_report.c — the daily report's renderings from a report built by hand
 * (the SQL and audit side are tested in test_queue.c): Japanese words for
 * every state, flag, event and action in the HTML and CSV, machine tokens
 * kept in the JSON; sizes in KB/MB; chart labels measured to fit their
 * column (CJK at full width); the files and actions tables, with the
 * unreadable audit lines; a CSV Excel reads as a table (BOM, one row per
 * file, local YYYY/MM/DD HH:MM:SS, formulas neutralised); sender strings
 * escaped; a tenant's report (SQLite index) counts only the tenant's
 * entries and audit records. TZ_REPORT_SAMPLE=FILE writes the HTML for a
 * look. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "tz_index.h"
#include "tz_localtime.h"
#include "tz_meta.h"
#include "tz_part.h"
#include "tz_report.h"
#include "tz_doc_testlib.h"
#include "tz_store_testlib.h"

static struct tz_report *sample(void)
{
	struct tz_report *r = tz_report_new("2026-11-24", NULL, 0);
	struct tz_report_section *s;
	static const char *const states[] = { "pending", "clean", "infected", "sanitized", "failed",
					      "released", "rejected", "unsanitizable" };

	r->entries = 3;
	r->parts = 5;
	r->bytes = 1468006;
	s = tz_report_add_section(r, "events", "当日の検知と操作(件数)");
	tz_report_add_row(s, "detected", 2);
	tz_report_add_row(s, "force_released", 1);
	s = tz_report_add_section(r, "risk", "危険の兆候(ファイル数)");
	for (unsigned b = 0; b < TZ_RISK_COUNT; b++)
		tz_report_add_row(s, tz_risk_name(1u << b), b);
	s = tz_report_add_section(r, "states", "ファイルの現在の状態");
	for (size_t i = 0; i < G_N_ELEMENTS(states); i++)
		tz_report_add_row(s, states[i], (int64_t)i + 1);
	s = tz_report_add_section(r, "types", "ファイルの種類(内容から判定)");
	tz_report_add_row(s, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 3);
	tz_report_add_row(s, "application/pdf", 2);
	s = tz_report_add_section(r, "sender_domains", "差出人のドメイン(メール数)");
	tz_report_add_row(s, "とても長い日本語のドメイン名の例です.example.jp とても長い日本語のドメイン名の例です", 1);
	tz_report_add_row(s, "", 1);
	return r;
}

static void add_item(struct tz_report *r, int64_t t, unsigned idx, const char *name, const char *type,
		     int64_t size, unsigned risk, const char *state, const char *verdict, const char *subject)
{
	struct tz_index_row *it = g_new0(struct tz_index_row, 1);

	it->stored_time = t;
	it->id = g_strdup("20261124-000512-480175-0d20187a");
	it->ref = g_strdup("1124-7QK2");
	it->sender = g_strdup("yamada@example.co.jp");
	it->subject = g_strdup(subject);
	it->rcpts = g_strdup("soumu@city.example.lg.jp");
	it->part = idx;
	it->filename = g_strdup(name);
	it->reason = g_strdup(idx == 3 ? "inline-image" : "attachment");
	it->detected_type = g_strdup(type);
	it->size = (uint64_t)size;
	it->risk = risk;
	it->state = g_strdup(state);
	it->verdict = g_strdup(verdict);
	g_ptr_array_add(r->items, it);
}

static void add_action(struct tz_report *r, const char *ev, const char *op, unsigned part, const char *detail)
{
	struct tz_report_action *a = g_new0(struct tz_report_action, 1);

	a->time = 1795485000;   /* 2026-11-24 10:50 JST */
	a->event = g_strdup(ev);
	a->operator_name = g_strdup(op);
	a->id = g_strdup("20261124-000512-480175-0d20187a");
	a->ref = g_strdup("1124-7QK2");
	a->part = part;
	a->detail = g_strdup(detail);
	g_ptr_array_add(r->actions, a);
}

#define SUBJECT "庁舎清掃業務のお見積りについて"

static struct tz_report *full_sample(void)
{
	struct tz_report *r = sample();
	int64_t bad = 7;

	add_item(r, 1795478712, 1, "見積書_2025年度.pdf", "application/pdf", 453, 0, "sanitized", "OK", SUBJECT);
	add_item(r, 1795478712, 2, "=HYPERLINK(\"http://evil.example/\")", "application/x-dosexec", 2226,
		 TZ_RISK_EXECUTABLE | TZ_RISK_DOUBLE_EXT, "infected", "Eicar-Test-Signature", SUBJECT);
	add_item(r, 1795478712, 3, "現場写真.jpg", "image/jpeg", 1468006, 0, "pending", NULL, SUBJECT);
	add_action(r, "released", "suzuki", 2, "from_state=infected to=original recipients FORCED "
		   "requested_by=suzuki approved_by=tanaka reason=取引先に確認済み");
	add_action(r, "rejected", "tanaka", 3, "from_state=pending reason=-");
	add_action(r, "released", "sanitizer", 1, "from_state=sanitized to=original recipients");
	add_action(r, "purged", "cron", 0, "retention=90 days");
	r->bad_events = 1;
	g_array_append_val(r->bad_lines, bad);
	return r;
}

static void test_words(void **state)
{
	struct tz_report *r = full_sample();
	char *html, *json, *csv;
	const char *env = getenv("TZ_REPORT_SAMPLE");

	(void)state;
	/* a sender's markup, and a bidi override disguising an .exe */
	add_item(r, 1795480000, 1, "abc\xE2\x80\xAEgpj.exe", "application/x-dosexec", 100, TZ_RISK_NAME_CONTROL,
		 "rejected", "OK", "見積 <script>alert(1)</script>");
	html = tz_report_html(r);
	json = tz_report_json(r);
	csv = tz_report_csv(r);
	assert_null(strstr(csv, "\xE2\x80\xAE"));
	assert_non_null(strstr(csv, "\"abc\xEF\xBF\xBDgpj.exe\""));
	g_free(csv);
	if (env)
		g_file_set_contents(env, html, -1, NULL);
	/* Japanese names everywhere a person reads */
	for (const char *const *w = (const char *const[]){ "検査待ち", "問題なし", "ウイルス検出", "無害化済み",
			"処理できず", "送付済み", "送付しない(拒否)", "無害化できない形式", "実行ファイル", "二重拡張子",
			"ファイル名に制御文字", "マクロ付き Office 文書", "パスワード付き圧縮ファイル", "ウイルス検知",
			"うち強制送付", "Excel ブック", "(なし)", "強制送付", "理由: 取引先に確認済み",
			"無害化した複製の自動送付", "(自動)", "保存期間 90 日", "読み取れない記録",
			"監査ログの 7 行目", "1124-7QK2#2", "本文中の画像", NULL }; *w; w++) {
		if (strstr(html, *w) == NULL)
			fail_msg("HTML lacks %s", *w);
	}
	/* no machine tokens as cell or label text */
	for (const char *const *w = (const char *const[]){ ">executable<", ">pending<", ">released<",
			">infected<", ">detected<", ">force_released<", ">sanitizer<", "from_state", NULL }; *w; w++)
		if (strstr(html, *w) != NULL)
			fail_msg("HTML shows %s", *w);
	/* sizes as people read them */
	assert_non_null(strstr(html, ">1.4 MB<"));
	assert_non_null(strstr(html, ">2.2 KB<"));
	assert_non_null(strstr(html, ">453 バイト<"));
	/* sender strings escaped and made display-safe */
	assert_null(strstr(html, "<script"));
	assert_non_null(strstr(html, "&lt;script&gt;"));
	assert_null(strstr(html, "\xE2\x80\xAE"));
	assert_non_null(strstr(html, "abc\xEF\xBF\xBDgpj.exe"));
	/* a Japanese font family first, a generic one last */
	assert_non_null(strstr(html, "font-family:\"Noto Sans CJK JP\""));
	assert_non_null(strstr(html, "\"IPAPGothic\""));
	/* JSON keeps the tokens */
	assert_non_null(strstr(json, "{\"label\":\"executable\",\"count\":0}"));
	assert_non_null(strstr(json, "\"state\":\"infected\""));
	assert_non_null(strstr(json, "\"event\":\"released\""));
	assert_non_null(strstr(json, "\"risk\":\"executable,double-extension\""));
	g_free(html);
	g_free(json);
	tz_report_free(r);
}

/* A label from the index is sender bytes: one that ends in a lone lead
 * byte must come out as valid UTF-8 before the chart measures and cuts it
 * (the measuring walks characters and would read past the end). */
static void test_label_invalid_utf8(void **state)
{
	char *l = tz_report_label("sender_domains", "evil.example\xF4");

	(void)state;
	assert_true(g_utf8_validate(l, -1, NULL));
	assert_non_null(strstr(l, "evil.example"));
	assert_true(tz_report_text_px(l, 12) > 0);
	g_free(l);
}

/* Dates the team types (--since/--until, report --date, the console's
 * filters): a day the month does not have is refused, not moved. */
static void test_date_parse_ranges(void **state)
{
	int64_t t, u;

	(void)state;
	assert_int_equal(tz_local_date_parse("2026-02-28", 0, &t), 0);
	assert_int_equal(tz_local_date_parse("2026-02-28", 1, &u), 0);
	assert_true(u - t >= 23 * 3600 && u - t <= 25 * 3600);
	assert_int_equal(tz_local_date_parse("2026-02-31", 0, &t), -1);
	assert_int_equal(tz_local_date_parse("2026-13-01", 0, &t), -1);
	assert_int_equal(tz_local_date_parse("2026-12-02T24:00:00", 0, &t), -1);
	assert_int_equal(tz_local_date_parse("2026-12-02T09:30:00", 1, &t), 0);
}

/* A CSV cell (the report's and queue list's) carries no bidi override
 * or control: a subject "invoice\u202Etxt.exe" must not reorder in Excel. */
static void test_csv_cell_visible(void **state)
{
	GString *s = g_string_new(NULL);

	(void)state;
	tz_report_csv_cell(s, "=invoice\xE2\x80\xAEtxt.exe\x01");
	assert_null(strstr(s->str, "\xE2\x80\xAE"));
	assert_null(strchr(s->str, '\x01'));
	assert_string_equal(s->str, "\"'=invoice\xEF\xBF\xBDtxt.exe\xEF\xBF\xBD\"");
	g_string_free(s, TRUE);
}

/* Every chart label ends before its bar column: the label's measured width
 * is at most the x where right-aligned labels end, and bars start after. */
static void test_chart_labels_fit(void **state)
{
	struct tz_report *r = full_sample();
	char *html = tz_report_html(r);
	GRegex *re = g_regex_new("<text x=\"(\\d+)\" y=\"\\d+\" text-anchor=\"end\">([^<]*)</text>"
				 "<rect x=\"(\\d+)\"", 0, 0, NULL);
	GMatchInfo *mi = NULL;
	int n = 0;

	(void)state;
	g_regex_match(re, html, 0, &mi);
	while (g_match_info_matches(mi)) {
		char *x = g_match_info_fetch(mi, 1), *label = g_match_info_fetch(mi, 2);
		char *bar = g_match_info_fetch(mi, 3);
		char *plain = g_strdup(label);
		/* &amp; and friends count as one character */
		GRegex *ent = g_regex_new("&[a-z]+;", 0, 0, NULL);
		char *unesc = g_regex_replace_literal(ent, plain, -1, 0, "&", 0, NULL);
		if (atoi(x) < tz_report_text_px(unesc, 12))
			fail_msg("label %s (%d px) overflows x=%s", unesc, tz_report_text_px(unesc, 12), x);
		assert_true(tz_report_text_px(unesc, 12) <= 300);
		assert_true(atoi(bar) > atoi(x));
		n++;
		g_regex_unref(ent);
		g_free(unesc);
		g_free(plain);
		g_free(x);
		g_free(label);
		g_free(bar);
		g_match_info_next(mi, NULL);
	}
	assert_true(n >= 20);
	/* the long domain was cut with an ellipsis, not overflowed */
	assert_non_null(strstr(html, "…</text>"));
	/* CJK is measured at full width, ASCII narrower */
	assert_int_equal(tz_report_text_px("無害化", 12), 36);
	assert_true(tz_report_text_px("abc", 12) < 36);
	g_match_info_free(mi);
	g_regex_unref(re);
	g_free(html);
	tz_report_free(r);
}

/* A CSV Excel opens as a table: BOM, CRLF, one row per file, local times
 * it reads as dates, formulas neutralised, Japanese words. */
static void test_csv_for_excel(void **state)
{
	struct tz_report *r;
	char *csv, *doc, *lf;
	gchar **lines;

	(void)state;
	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	r = full_sample();
	csv = tz_report_csv(r);
	assert_memory_equal(csv, "\xEF\xBB\xBF", 3);
	lines = g_strsplit(csv + 3, "\r\n", -1);
	assert_int_equal(g_strv_length(lines), 1 + 3 + 1);   /* header, 3 files, "" after the last CRLF */
	assert_true(g_str_has_prefix(lines[0], "受信日時,参照番号,差出人,宛先,件名,番号,ファイル名,種類,理由,サイズ(バイト)"));
	assert_true(g_str_has_prefix(lines[1], "2026/11/24 09:05:12,\"1124-7QK2#1\",\"yamada@example.co.jp\","));
	assert_non_null(strstr(lines[1], ",\"見積書_2025年度.pdf\",\"PDF 文書\",\"添付ファイル\",453,\"\",\"無害化済み\",\"\","));
	assert_non_null(strstr(lines[2], ",\"'=HYPERLINK(\"\"http://evil.example/\"\")\",\"Windows 実行ファイル\",\"添付ファイル\",2226,"
				     "\"実行ファイル、二重拡張子\",\"ウイルス検出\",\"Eicar-Test-Signature\","));
	assert_null(strstr(csv, "T00:"));
	assert_string_equal(lines[4], "");
	/* docs/operations.ja.md shows this CSV (BOM and CR aside) */
	doc = tl_doc_block("report-csv");
	lf = g_strjoinv("\n", lines);
	if (doc == NULL || strcmp(doc, lf) != 0) {
		fprintf(stderr, "docs/operations.ja.md block report-csv differs from:\n%s", lf);
		fail_msg("doc block report-csv %s", doc ? "differs" : "missing");
	}
	g_free(doc);
	g_free(lf);
	g_strfreev(lines);
	g_free(csv);
	tz_report_free(r);
	unsetenv("TZ");
	tzset();
}

/* A busy day: the page lists the first 500 files and says how many more
 * the CSV has; the CSV has them all. */
static void test_many_files(void **state)
{
	struct tz_report *r = sample();
	char *html, *csv;
	gchar **lines;

	(void)state;
	for (unsigned i = 0; i < 600; i++)
		add_item(r, 1795478712 + i, 1, "a.pdf", "application/pdf", 10, 0, "clean", "OK", SUBJECT);
	html = tz_report_html(r);
	csv = tz_report_csv(r);
	assert_non_null(strstr(html, "ほかに 100 件あります"));
	lines = g_strsplit(csv, "\r\n", -1);
	assert_int_equal(g_strv_length(lines), 1 + 600 + 1);   /* header, files, "" after the last CRLF */
	g_strfreev(lines);
	g_free(csv);
	/* past the cap (TZ_REPORT_MAX_ITEMS), the last row says what is missing */
	r->items_left_off = 7;
	csv = tz_report_csv(r);
	lines = g_strsplit(csv, "\r\n", -1);
	assert_int_equal(g_strv_length(lines), 1 + 600 + 1 + 1);
	assert_string_equal(lines[601], "\"（ほかに 7 件のファイルがありますが、この CSV には含まれていません。"
					 "上限 20000 件）\"");
	g_strfreev(lines);
	g_free(html);
	html = tz_report_html(r);
	assert_non_null(strstr(html, "ほかに 107 件あります(CSV 形式には最初の 20000 件が入ります)"));
	g_free(html);
	g_free(csv);
	tz_report_free(r);
}

/* Empty day: every table says so instead of showing an empty frame. */
static void test_empty_day(void **state)
{
	struct tz_report *r = tz_report_new("2026-11-24", NULL, 0);
	char *html = tz_report_html(r), *csv = tz_report_csv(r);

	(void)state;
	assert_non_null(strstr(html, "<section id=\"items\"><h2>当日に隔離したメールとファイル</h2>\n"
				     "<p class=\"none\">該当なし</p>"));
	assert_non_null(strstr(html, "<section id=\"actions\">"));
	assert_non_null(strstr(html, "2026年11月24日"));
	assert_string_equal(strchr(csv, '\n') + 1, "");
	g_free(html);
	g_free(csv);
	tz_report_free(r);
}

/* From the audit log: the signatures are the 15 most frequent (of 20),
 * operator actions are listed with their operator and part, and a line
 * that cannot be read is counted and named by its line number. */
static void test_events_from_audit(void **state)
{
	char *dir = g_dir_make_tmp("tz-report-XXXXXX", NULL), *log = g_build_filename(dir, "audit.log", NULL);
	GString *text = g_string_new(NULL);
	char now[32], err[256];
	time_t t = time(NULL);
	struct tm tm;
	struct tz_report *r;
	const struct tz_report_section *sigs = NULL;

	(void)state;
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	for (int i = 0; i < 20; i++)
		for (int k = 0; k <= i; k++)   /* Sig-19 most often, Sig-0 once */
			g_string_append_printf(text, "{\"seq\":1,\"time\":\"%s\",\"event\":\"scanned\",\"operator\":"
					       "\"scanner\",\"id\":\"x\",\"part\":1,\"detail\":\"state=infected verdict=Sig-%02d\"}\n",
					       now, i);
	g_string_append(text, "{\"seq\": torn\n");
	g_string_append_printf(text, "{\"seq\":2,\"time\":\"%s\",\"event\":\"released\",\"operator\":\"suzuki\","
			       "\"id\":\"x\",\"part\":2,\"detail\":\"from_state=infected to=original recipients FORCED "
			       "reason=取引先に確認済み\"}\n", now);
	assert_true(g_file_set_contents(log, text->str, -1, NULL));
	r = tz_report_new(NULL, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(tz_report_add_events(r, log, err, sizeof(err)), 0);
	for (guint i = 0; i < r->sections->len; i++)
		if (strcmp(((struct tz_report_section *)g_ptr_array_index(r->sections, i))->key, "signatures") == 0)
			sigs = g_ptr_array_index(r->sections, i);
	assert_non_null(sigs);
	assert_int_equal(sigs->rows->len, TZ_REPORT_TOP_N);
	assert_string_equal(((struct tz_report_row *)g_ptr_array_index(sigs->rows, 0))->label, "Sig-19");
	assert_int_equal(((struct tz_report_row *)g_ptr_array_index(sigs->rows, 0))->count, 20);
	assert_string_equal(((struct tz_report_row *)g_ptr_array_index(sigs->rows, 14))->label, "Sig-05");
	assert_int_equal(r->bad_events, 1);
	assert_int_equal(g_array_index(r->bad_lines, int64_t, 0), 211);   /* 210 records, then the torn one */
	assert_int_equal(r->actions->len, 1);
	assert_string_equal(tz_report_action_name(g_ptr_array_index(r->actions, 0)), "強制送付");
	assert_int_equal(((struct tz_report_action *)g_ptr_array_index(r->actions, 0))->part, 2);
	tz_report_free(r);
	unlink(log);
	rmdir(dir);
	g_free(log);
	g_free(dir);
	g_string_free(text, TRUE);
}

/* One entry of tenant (NULL: none) stored at t, with nparts files, indexed. */
static void index_entry(struct tz_index *ix, const char *id, const char *tenant, const char *sender, int64_t t,
			unsigned nparts)
{
	struct tz_meta *m = tz_meta_new();
	char err[TZ_ERRLEN];

	g_strlcpy(m->id, id, sizeof(m->id));
	m->stored_time = t;
	g_free(m->sender);
	m->sender = g_strdup(sender);
	g_ptr_array_add(m->rcpts, g_strdup("soumu@city.example.lg.jp"));
	m->tenant = g_strdup(tenant);
	for (unsigned i = 1; i <= nparts; i++) {
		struct tz_meta_part *p = tz_meta_part_new();
		p->index = i;
		p->filename = g_strdup_printf("%s-%u.pdf", id + 28, i);
		p->detected_type = g_strdup("application/pdf");
		p->size = 1000;
		g_ptr_array_add(m->parts, p);
	}
	assert_int_equal(tz_index_update(ix, m, err, sizeof(err)), 0);
	tz_meta_free(m);
}

static int64_t section_count(const struct tz_report *r, const char *key, const char *label)
{
	for (guint i = 0; i < r->sections->len; i++) {
		const struct tz_report_section *s = g_ptr_array_index(r->sections, i);
		for (guint k = 0; strcmp(s->key, key) == 0 && k < s->rows->len; k++) {
			const struct tz_report_row *row = g_ptr_array_index(s->rows, k);
			if (strcmp(row->label, label) == 0)
				return row->count;
		}
	}
	return -1;
}

#define KAME "20261124-000001-000001-0000aaaa"
#define KAME_OLD "20261120-000001-000001-0000aaab"
#define SUZU "20261124-000002-000002-0000bbbb"
#define NONE "20261124-000003-000003-0000cccc"

/* kameyama's report: its one entry of the day (2 files, not suzuka's or the
 * untenanted one), the audit records of its entries of any day, and none of
 * suzuka's nor those tied to no entry; everyone's report has them all and no
 * "tenant". */
static void test_tenant_report(void **state)
{
	char *dir = tl_tmpdir(), *db = g_build_filename(dir, "index.db", NULL);
	char *log = g_build_filename(dir, "audit.log", NULL), err[TZ_ERRLEN], now[32], *html, *json;
	time_t t = time(NULL);
	struct tz_index *ix = tz_index_open(db, 1000, err, sizeof(err));
	struct tz_report *r;
	struct tm tm;
	GString *text = g_string_new(NULL);

	(void)state;
	assert_non_null(ix);
	index_entry(ix, KAME, "kameyama", "a@kame.example", t, 2);
	index_entry(ix, KAME_OLD, "kameyama", "b@kame.example", t - 5 * 86400, 1);
	index_entry(ix, SUZU, "suzuka", "c@suzu.example", t, 1);
	index_entry(ix, NONE, NULL, "d@none.example", t, 3);
	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
#define REC(ev, id, detail) g_string_append_printf(text, "{\"seq\":1,\"time\":\"%s\",\"event\":\"" ev \
	"\",\"operator\":\"op\",\"id\":%s,\"part\":1,\"detail\":\"" detail "\"}\n", now, id)
	REC("scanned", "\"" KAME "\"", "state=infected verdict=Sig-Kame");
	REC("scanned", "\"" SUZU "\"", "state=infected verdict=Sig-Suzu");
	REC("released", "\"" KAME_OLD "\"", "from_state=clean to=original recipients");
	REC("rejected", "\"" SUZU "\"", "from_state=infected");
	REC("sender_blocked", "null", "sender=x@evil.example");
	REC("breaker_reset", "null", "");
#undef REC
	assert_true(g_file_set_contents(log, text->str, -1, NULL));

	r = tz_report_daily_tenant(ix, NULL, "kameyama", err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(tz_report_add_events(r, log, err, sizeof(err)), 0);
	assert_int_equal(r->entries, 1);
	assert_int_equal(r->parts, 2);
	assert_int_equal(r->bytes, 2000);
	assert_int_equal(r->items->len, 2);
	for (guint i = 0; i < r->items->len; i++)
		assert_string_equal(((struct tz_index_row *)g_ptr_array_index(r->items, i))->id, KAME);
	assert_int_equal(section_count(r, "sender_domains", "kame.example"), 1);
	assert_int_equal(section_count(r, "sender_domains", "suzu.example"), -1);
	assert_int_equal(section_count(r, "events", "detected"), 1);
	assert_int_equal(section_count(r, "events", "released"), 1);   /* the older entry's */
	assert_int_equal(section_count(r, "events", "rejected"), 0);
	assert_int_equal(section_count(r, "signatures", "Sig-Kame"), 1);
	assert_int_equal(section_count(r, "signatures", "Sig-Suzu"), -1);
	assert_int_equal(r->actions->len, 1);
	assert_string_equal(((struct tz_report_action *)g_ptr_array_index(r->actions, 0))->id, KAME_OLD);
	html = tz_report_html(r);
	json = tz_report_json(r);
	assert_non_null(strstr(html, "団体 kameyama のメールと、その操作だけを集計しています。"));
	assert_null(strstr(html, "suzu"));
	assert_non_null(strstr(json, ",\"tenant\":\"kameyama\""));
	g_free(html);
	g_free(json);
	tz_report_free(r);

	r = tz_report_daily(ix, NULL, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(tz_report_add_events(r, log, err, sizeof(err)), 0);
	assert_int_equal(r->entries, 3);
	assert_int_equal(r->parts, 6);
	assert_int_equal(section_count(r, "events", "detected"), 2);
	assert_int_equal(section_count(r, "events", "rejected"), 1);
	assert_int_equal(r->actions->len, 2);
	html = tz_report_html(r);
	json = tz_report_json(r);
	assert_null(strstr(html, "id=\"tenant\""));
	assert_null(strstr(json, "\"tenant\""));
	g_free(html);
	g_free(json);
	tz_report_free(r);

	/* a tenant with no entries: nothing at all, not everyone's */
	r = tz_report_daily_tenant(ix, NULL, "kuwana", err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(tz_report_add_events(r, log, err, sizeof(err)), 0);
	assert_int_equal(r->entries, 0);
	assert_int_equal(r->items->len, 0);
	assert_int_equal(section_count(r, "events", "detected"), 0);
	assert_int_equal(r->actions->len, 0);
	tz_report_free(r);
	tz_index_free(ix);
	g_string_free(text, TRUE);
	tl_rmrf(dir);
	g_free(log);
	g_free(db);
	g_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_chart_labels_fit),
		cmocka_unit_test(test_label_invalid_utf8),
		cmocka_unit_test(test_csv_cell_visible),
		cmocka_unit_test(test_date_parse_ranges),
		cmocka_unit_test(test_csv_for_excel),
		cmocka_unit_test(test_empty_day),
		cmocka_unit_test(test_many_files),
		cmocka_unit_test(test_events_from_audit),
		cmocka_unit_test(test_tenant_report),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
