/* tz_classify.c — what each MIME entity is to the engine: body text, HTML,
 * a report, encrypted content, or something to strip and why. Pure
 * functions of the parsed tree; every header value is attacker-controlled. */
#include "tz_engine_int.h"
#include "tz_header.h"

#include <string.h>

/* "type/subtype" in lower case; GMime supplies text/plain when absent. */
char *tz_mime_type(GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	char *t = ct ? g_mime_content_type_get_mime_type(ct) : g_strdup("text/plain");
	char *l = g_ascii_strdown(t ? t : "application/octet-stream", -1);

	g_free(t);
	return l;
}

/* The name GMime decoded (RFC 2231 / 2047), before display-safety. */
char *tz_raw_filename(GMimeObject *obj)
{
	/* Our own decoder, not GMime's: GMime decodes ISO-2022-JP names with
	 * glibc, which leaves escape bytes behind for CP932 extensions and made
	 * harmless Japanese names look like they carried control characters. */
	return tz_header_part_filename_decoded(obj);
}

static bool type_in(const char *t, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(t, *list) == 0)
			return true;
	return false;
}

static bool is_attachment(GMimeObject *obj)
{
	GMimeContentDisposition *d = g_mime_object_get_content_disposition(obj);
	const char *v = d ? g_mime_content_disposition_get_disposition(d) : NULL;

	return v != NULL && g_ascii_strcasecmp(v, "inline") != 0;
}

/* S/MIME: enveloped (encrypted) unless it says signed-data / certs-only. */
bool tz_pkcs7_encrypted(GMimeObject *obj)
{
	const char *st = g_mime_object_get_content_type_parameter(obj, "smime-type");

	return st == NULL || g_ascii_strcasecmp(st, "enveloped-data") == 0
	       || g_ascii_strcasecmp(st, "authEnveloped-data") == 0;
}

/* What to do with a leaf part. Text counts as body text only when it is
 * inline and unnamed: a .txt or .csv file is a file, whatever its type. */
enum tz_leaf_kind tz_classify(GMimeObject *obj, const char *t, enum tz_part_reason *reason)
{
	static const char *const sig[] = { "application/pkcs7-signature", "application/x-pkcs7-signature",
		"application/pgp-signature", NULL };
	static const char *const tnef[] = { "application/ms-tnef", "application/vnd.ms-tnef", NULL };
	static const char *const cal[] = { "text/calendar", "application/ics", "text/x-vcalendar", NULL };
	static const char *const status[] = { "message/delivery-status", "message/global-delivery-status",
		"message/disposition-notification", "message/global-disposition-notification",
		"message/feedback-report", "text/rfc822-headers", "message/global-headers", NULL };
	char *name = tz_raw_filename(obj);
	bool file = is_attachment(obj) || (name != NULL && *name != '\0');
	bool winmail = name != NULL && g_ascii_strcasecmp(name, "winmail.dat") == 0;

	g_free(name);
	*reason = TZ_REASON_ATTACHMENT;
	if (strcmp(t, "application/pkcs7-mime") == 0 || strcmp(t, "application/x-pkcs7-mime") == 0) {
		if (tz_pkcs7_encrypted(obj))
			return TZ_LEAF_ENCRYPTED;
		*reason = TZ_REASON_SIGNATURE;
		return TZ_LEAF_STRIP;
	}
	if (type_in(t, sig)) {
		*reason = TZ_REASON_SIGNATURE;
		return TZ_LEAF_STRIP;
	}
	if (type_in(t, tnef) || winmail) {
		*reason = TZ_REASON_TNEF;
		return TZ_LEAF_STRIP;
	}
	if (type_in(t, cal)) {
		*reason = TZ_REASON_CALENDAR;
		return TZ_LEAF_STRIP;
	}
	if (!file && (strcmp(t, "text/plain") == 0 || strcmp(t, "text/enriched") == 0))
		return TZ_LEAF_PLAIN;
	if (!file && strcmp(t, "text/html") == 0)
		return TZ_LEAF_HTML;
	if (!file && type_in(t, status))
		return TZ_LEAF_STATUS;
	if (g_str_has_prefix(t, "image/") && !is_attachment(obj))
		*reason = TZ_REASON_INLINE_IMAGE;
	else if (strcmp(t, "message/partial") == 0 || strcmp(t, "message/external-body") == 0)
		*reason = TZ_REASON_OTHER;
	return TZ_LEAF_STRIP;
}

/* Text that only says "this is an HTML mail, use an HTML reader". */
bool tz_text_is_stub(const char *s, size_t len)
{
	static const char *const words[] = { "html", "HTML", "ＨＴＭＬ", "表示できません",
		"お使いのメールソフト", "ブラウザ", "view this email", "View this email", NULL };
	size_t visible = 0;

	for (size_t i = 0; i < len; i++)
		if (!g_ascii_isspace(s[i]))
			visible++;
	if (visible == 0)
		return true;
	if (visible > 300)
		return false;
	for (size_t i = 0; words[i]; i++)
		if (g_strstr_len(s, (gssize)len, words[i]) != NULL)
			return true;
	return g_ascii_strncasecmp(s, "this is a multi-part message", 28) == 0;
}

/* An HTML body: text/html, or a multipart (related) whose root is one. */
bool tz_html_kind(GMimeObject *obj, int depth)
{
	enum tz_part_reason reason;
	char *t;
	bool r;

	if (depth > 4)
		return false;
	if (GMIME_IS_MULTIPART(obj))
		return g_mime_multipart_get_count(GMIME_MULTIPART(obj)) > 0
		       && tz_html_kind(g_mime_multipart_get_part(GMIME_MULTIPART(obj), 0), depth + 1);
	if (!GMIME_IS_PART(obj))
		return false;
	t = tz_mime_type(obj);
	r = tz_classify(obj, t, &reason) == TZ_LEAF_HTML;
	g_free(t);
	return r;
}

/* The top-level body is encrypted: nothing can be text-ized. */
bool tz_top_encrypted(GMimeObject *obj, int depth)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	char *t;
	bool r = false;

	if (depth > 4 || ct == NULL)
		return false;
	if (g_mime_content_type_is_type(ct, "multipart", "encrypted"))
		return true;
	if (GMIME_IS_MULTIPART(obj) && g_mime_content_type_is_type(ct, "multipart", "signed"))
		return g_mime_multipart_get_count(GMIME_MULTIPART(obj)) > 0
		       && tz_top_encrypted(g_mime_multipart_get_part(GMIME_MULTIPART(obj), 0), depth + 1);
	if (!GMIME_IS_PART(obj))
		return false;
	t = tz_mime_type(obj);
	if (strcmp(t, "application/pkcs7-mime") == 0 || strcmp(t, "application/x-pkcs7-mime") == 0)
		r = tz_pkcs7_encrypted(obj);
	g_free(t);
	return r;
}
