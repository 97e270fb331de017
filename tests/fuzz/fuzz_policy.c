/* fuzz_policy.c — libFuzzer harness for the header-driven policy rules:
 * the input is "SENDER\nRCPT,RCPT\nName: value\n..." (folded lines
 * continue a field). Runs auto-forward, visibility (reject and rewrite),
 * spoofing and forged-header removal, and checks the verdict's contract:
 * every header value we would write is one printable ASCII line, every
 * CHANGE/DELETE index names an existing field, reply texts are ASCII. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <gmime/gmime.h>

#include "tz_autofwd.h"
#include "tz_maddr.h"
#include "tz_msghdr.h"
#include "tz_spoof.h"
#include "tz_verdict.h"
#include "tz_visibility.h"

static GPtrArray *internal;

static void check_verdict(const struct tz_verdict *v, const struct tz_msghdr *h)
{
	for (guint i = 0; i < v->edits->len; i++) {
		const struct tz_verdict_edit *e = g_ptr_array_index(v->edits, i);
		if (e->value)
			for (const unsigned char *p = (const unsigned char *)e->value; *p; p++)
				if (*p < 0x20 || *p >= 0x7f)
					abort();
		if (e->op == TZ_EDIT_CHANGE || e->op == TZ_EDIT_DELETE) {
			bool found = false;
			for (guint j = 0; j < tz_msghdr_len(h) && !found; j++) {
				const struct tz_msghdr_field *f = tz_msghdr_nth(h, j);
				found = g_ascii_strcasecmp(f->name, e->name) == 0 && f->index == e->index;
			}
			if (!found)
				abort();
		}
	}
	if (v->text && !tz_reply_text_valid(v->text))
		abort();
}

static struct tz_msghdr *parse(char **lines)
{
	struct tz_msghdr *h = tz_msghdr_new();
	GString *name = NULL, *val = NULL;

	for (char **l = lines; *l; l++) {
		if ((**l == ' ' || **l == '\t') && val) {
			g_string_append_printf(val, "\n%s", *l);
			continue;
		}
		if (name) {
			tz_msghdr_add(h, name->str, val->str);
			g_string_free(name, TRUE);
			g_string_free(val, TRUE);
			name = val = NULL;
		}
		char *colon = strchr(*l, ':');
		if (colon) {
			name = g_string_new_len(*l, colon - *l);
			val = g_string_new(colon + 1);
		}
	}
	if (name) {
		tz_msghdr_add(h, name->str, val->str);
		g_string_free(name, TRUE);
		g_string_free(val, TRUE);
	}
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = g_strndup((const char *)data, size);
	char **lines = g_strsplit(text, "\n", -1);
	const char *sender = lines[0] ? lines[0] : "";
	GPtrArray *rcpts = g_ptr_array_new_with_free_func(g_free);
	struct tz_msghdr *h;
	struct tz_autofwd_options af;
	struct tz_visibility_options vo;
	struct tz_spoof_options so;
	struct tz_verdict *v = tz_verdict_new();
	GPtrArray *allow = g_ptr_array_new();

	if (lines[0] && lines[1]) {
		char **r = g_strsplit(lines[1], ",", 50);
		for (char **p = r; *p; p++)
			g_ptr_array_add(rcpts, g_strdup(*p));
		g_strfreev(r);
	}
	h = parse(lines[0] && lines[1] ? lines + 2 : lines + (lines[0] != NULL));
	g_ptr_array_add(allow, "a@city.example.jp>@partner.example");
	tz_autofwd_options_init(&af);
	af.internal_domains = internal;
	af.allow = allow;
	tz_autofwd_check(&af, sender, rcpts, h, v);
	tz_visibility_options_init(&vo);
	vo.internal_domains = internal;
	vo.max_visible = 1;
	vo.act.action = TZ_ACTION_REWRITE;
	tz_visibility_check(&vo, h, v);
	tz_spoof_options_init(&so);
	so.internal_domains = internal;
	so.authserv_id = "mx.city.example.jp";
	tz_spoof_check(&so, false, sender, h, v);
	tz_spoof_strip(&so, h, v);
	check_verdict(v, h);
	tz_verdict_free(v);
	tz_msghdr_free(h);
	g_ptr_array_free(rcpts, TRUE);
	g_ptr_array_free(allow, TRUE);
	g_strfreev(lines);
	g_free(text);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	g_mime_init();
	internal = g_ptr_array_new();
	g_ptr_array_add(internal, ".city.example.jp");
	return 0;
}
