/* tz_report_words.c — the words people read in the daily report's HTML and
 * CSV views: Japanese names for every part state, risk flag, audit event
 * and operator action, sizes in KB/MB, local times as Excel reads them, and
 * the width a label takes on screen (so chart labels fit). The JSON view
 * keeps the machine tokens; nothing here is parsed back. */
#include "tz_report.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tz_notice.h"
#include "tz_part.h"

struct word {
	const char *token, *ja;
};

static const struct word states[] = {
	{ "pending", "検査待ち" },
	{ "clean", "問題なし" },
	{ "infected", "ウイルス検出" },
	{ "sanitized", "無害化済み" },
	{ "unsanitizable", "無害化できない形式" },
	{ "failed", "処理できず" },
	{ "released", "送付済み" },
	{ "rejected", "送付しない(拒否)" },
};

static const struct word events[] = {
	{ "detected", "ウイルス検知" },
	{ "released", "送付" },
	{ "force_released", "うち強制送付" },
	{ "released_again", "うち再送付" },
	{ "force_approved", "強制送付の承認" },
	{ "rejected", "拒否" },
	{ "purged", "削除(保存期間切れ)" },
};

static const struct word actions[] = {
	{ "released", "送付" },
	{ "release_requested", "強制送付の申請" },
	{ "approved", "強制送付の承認" },
	{ "rejected", "拒否" },
	{ "purged", "削除" },
	{ "exported", "ファイルの取り出し(調査用)" },
};

static const char *lookup(const struct word *w, size_t n, const char *token)
{
	for (size_t i = 0; token && i < n; i++)
		if (strcmp(w[i].token, token) == 0)
			return w[i].ja;
	return NULL;
}

const char *tz_report_state_name(const char *state)
{
	const char *ja = lookup(states, G_N_ELEMENTS(states), state);

	return ja ? ja : "不明な状態";
}

const char *tz_report_reason_name(const char *reason)
{
	for (int r = 0; reason && r < TZ_REASON_COUNT; r++)
		if (strcmp(tz_part_reason_name((enum tz_part_reason)r), reason) == 0)
			return tz_notice_reason(TZ_NOTICE_JA, (enum tz_part_reason)r);
	return tz_notice_reason(TZ_NOTICE_JA, TZ_REASON_OTHER);
}

static unsigned risk_bit(const char *token)
{
	for (unsigned i = 0; i < TZ_RISK_COUNT; i++)
		if (strcmp(tz_risk_name(1u << i), token) == 0)
			return 1u << i;
	return 0;
}

char *tz_report_risks(unsigned risk)
{
	return tz_notice_risks(TZ_NOTICE_JA, risk);
}

/* Labels come from the index (sender domains, recipients, signatures):
 * sender bytes, valid UTF-8 or not. What is shown, measured and cut is
 * always tz_report_visible's text. */
static char *label_words(const char *key, const char *label)
{
	const char *ja = NULL;

	if (label == NULL || *label == '\0' || strcmp(label, "(none)") == 0)
		return g_strdup("(なし)");
	if (strcmp(key, "states") == 0)
		ja = tz_report_state_name(label);
	else if (strcmp(key, "events") == 0)
		ja = lookup(events, G_N_ELEMENTS(events), label);
	else if (strcmp(key, "risk") == 0 && risk_bit(label))
		return tz_report_risks(risk_bit(label));
	else if (strcmp(key, "types") == 0)
		return strcmp(label, "unknown") == 0 ? g_strdup("不明な形式")
		     : g_strdup_printf("%s(%s)", tz_notice_kind(TZ_NOTICE_JA, label, label), label);
	else if (strcmp(key, "signatures") == 0 && strcmp(label, "(unknown)") == 0)
		ja = "(検知名なし)";
	return g_strdup(ja ? ja : label);
}

char *tz_report_label(const char *key, const char *label)
{
	char *words = label_words(key, label), *shown = tz_report_visible(words);

	g_free(words);
	return shown;
}

/* The value of "key=" in an audit detail: up to the next " key=" for
 * reason (free text with spaces, always last), else to the next space. */
static char *detail_field(const char *detail, const char *key)
{
	size_t k = strlen(key);

	for (const char *p = detail; p && *p; p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL)
		if (strncmp(p, key, k) == 0 && p[k] == '=') {
			const char *v = p + k + 1;
			return strcmp(key, "reason") == 0 ? g_strdup(v) : g_strndup(v, strcspn(v, " "));
		}
	return NULL;
}

const char *tz_report_action_name(const struct tz_report_action *a)
{
	const char *ja = lookup(actions, G_N_ELEMENTS(actions), a->event);

	if (strcmp(a->event, "released") == 0 && a->detail) {
		if (strstr(a->detail, " FORCED"))
			return "強制送付";
		if (strstr(a->detail, " AGAIN"))
			return "再送付";
		if (g_strcmp0(a->operator_name, "sanitizer") == 0)
			return "無害化した複製の自動送付";
	}
	if (strcmp(a->event, "exported") == 0 && a->part == 0)
		return "元のメールの取り出し(調査用)";
	return ja ? ja : "その他の操作";
}

char *tz_report_action_note(const struct tz_report_action *a)
{
	GString *s = g_string_new(NULL);
	char *v = NULL, *reason = detail_field(a->detail, "reason");

	if (strcmp(a->event, "released") == 0) {
		char *to = detail_field(a->detail, "to");
		g_string_append_printf(s, "送付先: %s", to && strcmp(to, "original") != 0 ? to : "元の宛先");
		g_free(to);
	} else if (strcmp(a->event, "release_requested") == 0 || strcmp(a->event, "approved") == 0) {
		v = detail_field(a->detail, "approvals");
		if (v)
			g_string_append_printf(s, "承認 %s", v);
	} else if (strcmp(a->event, "purged") == 0) {
		v = detail_field(a->detail, "retention");
		if (v)
			g_string_append_printf(s, "保存期間 %s 日", v);
	} else if (strcmp(a->event, "exported") == 0 && a->detail) {
		g_string_append_printf(s, "取り出し先: %s", a->detail);
	}
	if (reason && *reason && strcmp(reason, "-") != 0)
		g_string_append_printf(s, "%s理由: %s", s->len ? "、" : "", reason);
	g_free(v);
	g_free(reason);
	return g_string_free(s, FALSE);
}

char *tz_report_size(int64_t bytes)
{
	return tz_notice_size_short(TZ_NOTICE_JA, bytes < 0 ? 0 : (uint64_t)bytes);
}

void tz_report_local_time(int64_t t, char out[20])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL || strftime(out, 20, "%Y/%m/%d %H:%M:%S", &tm) == 0)
		g_strlcpy(out, "", 20);
}

int tz_report_text_px(const char *s, int px)
{
	int tenths = 0;

	for (const char *p = s; p && *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		tenths += g_unichar_iswide(c) || g_unichar_iswide_cjk(c) ? 10 * px : (62 * px + 9) / 10;
	}
	return (tenths + 9) / 10;
}

char *tz_report_visible(const char *v)
{
	char *valid = g_utf8_make_valid(v ? v : "", -1);
	GString *out = g_string_sized_new(strlen(valid));

	for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		GUnicodeType t = g_unichar_type(c);
		if (t == G_UNICODE_CONTROL || t == G_UNICODE_FORMAT || t == G_UNICODE_LINE_SEPARATOR ||
		    t == G_UNICODE_PARAGRAPH_SEPARATOR)
			g_string_append(out, "\xEF\xBF\xBD");
		else
			g_string_append_unichar(out, c);
	}
	g_free(valid);
	return g_string_free(out, FALSE);
}
