/* web_team_body.c — "the text-ized body as staff saw it": the original is
 * read from the queue and converted again with the engine and today's
 * configuration (the same code and options the milter uses; the body
 * itself is not stored, so a changed configuration can show a different
 * text — the page says so). */
#include <string.h>

#include "tz_engine.h"
#include "tz_meta.h"
#include "tz_store.h"
#include "web.h"
#include "web_html.h"
#include "web_team.h"

#define BODY_MAX_ORIGINAL (16u * 1024 * 1024)   /* larger originals are not re-converted here */
#define BODY_MAX_CHARS 200000

static int to_mem(void *ctx, const void *buf, size_t len, char *err, size_t errlen)
{
	g_byte_array_append(ctx, buf, (guint)len);
	return 0;
}

/* The text of one conversion of m's original, or NULL with err. */
static char *convert_again(struct web_app *a, const struct tz_meta *m, char *err, size_t errlen)
{
	struct tz_engine_options opt;
	GByteArray *raw = g_byte_array_new();
	GMimeStream *mem = NULL, *in = NULL;
	struct tz_result *res = NULL;
	char *text = NULL;
	guchar *dec;
	gsize n;

	if (tz_store_file_read(a->st, m->id, "original.eml", to_mem, raw, err, errlen) < 0)
		goto out;
	mem = g_mime_stream_mem_new_with_buffer((const char *)raw->data, raw->len);
	in = tz_engine_input(mem);
	tz_config_engine_options(a->cfg, &opt);
	opt.display_ref = m->ref;
	opt.body_charset = TZ_BODY_UTF8;
	opt.body_encoding = TZ_ENC_BASE64;
	if (tz_engine_convert(&opt, in, m->id, NULL, &res, err, errlen) != 0)
		goto out;
	g_byte_array_append(res->body, (const guint8 *)"", 1);
	dec = g_base64_decode((const char *)res->body->data, &n);
	text = g_strndup((const char *)dec, n);
	g_free(dec);
out:
	tz_result_free(res);
	if (in)
		g_object_unref(in);
	if (mem)
		g_object_unref(mem);
	g_byte_array_unref(raw);
	return text;
}

void web_team_body(struct web_req *r, const struct tz_meta *m)
{
	char err[TZ_ERRLEN];
	char *text;

	g_string_append(r->body, "<h2>職員に届いた本文</h2>");
	if (m->original_size > BODY_MAX_ORIGINAL) {
		g_string_append(r->body, "<p>元のメールが大きいため、ここでは表示しません"
					 "(textizectl convert で確認できます)。</p>");
		return;
	}
	text = convert_again(r->app, m, err, sizeof(err));
	if (text == NULL) {
		web_html_printf(r->body, "<p class=\"err\">変換できませんでした: %s</p>", err);
		return;
	}
	g_string_append(r->body, "<p>元のメールを現在の設定でもう一度変換したものです(職員向けリンクの行は含みません)。</p><pre class=\"body\" id=\"body\">");
	web_html_block(r->body, text, BODY_MAX_CHARS);
	g_string_append(r->body, "</pre>");
	g_free(text);
}
