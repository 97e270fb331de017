/* tz_ambig.c — structural ambiguity of one MIME entity. Two values that
 * differ only in case or surrounding blanks are the same value; anything
 * else means one reader may see a multipart where another sees text, or
 * decode bytes another shows raw, so the entity cannot be shown. */
#include "tz_ambig.h"

#include <string.h>

/* Header value folded to one comparable form: unfolded, blanks collapsed,
 * lower case. g_free(). */
static char *norm_value(const char *raw)
{
	GString *s = g_string_new(NULL);
	bool blank = false;

	for (const char *p = raw ? raw : ""; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			blank = s->len > 0;
			continue;
		}
		if (blank)
			g_string_append_c(s, ' ');
		blank = false;
		g_string_append_c(s, g_ascii_tolower(*p));
	}
	return g_string_free(s, FALSE);
}

/* Does the header list hold `name` more than once with different values? */
static bool conflicting(GMimeHeaderList *hl, const char *name, const char **first_raw)
{
	int n = g_mime_header_list_get_count(hl);
	char *first = NULL;
	bool differ = false;

	*first_raw = NULL;
	for (int i = 0; i < n && !differ; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *hn = g_mime_header_get_name(h);
		char *v;

		if (hn == NULL || g_ascii_strcasecmp(hn, name) != 0)
			continue;
		v = norm_value(g_mime_header_get_raw_value(h));
		if (first == NULL) {
			first = v;
			*first_raw = g_mime_header_get_raw_value(h);
			continue;
		}
		differ = strcmp(first, v) != 0;
		g_free(v);
	}
	g_free(first);
	return differ;
}

/* A parameter of the Content-Type given twice with different values
 * (RFC 2231 continuations "name*0" count as their base name). */
static bool duplicate_param(GMimeContentType *ct)
{
	GMimeParamList *pl = ct ? g_mime_content_type_get_parameters(ct) : NULL;
	int n = pl ? g_mime_param_list_length(pl) : 0;

	for (int i = 0; i < n; i++) {
		GMimeParam *a = g_mime_param_list_get_parameter_at(pl, i);
		for (int k = i + 1; k < n; k++) {
			GMimeParam *b = g_mime_param_list_get_parameter_at(pl, k);
			const char *an = g_mime_param_get_name(a), *bn = g_mime_param_get_name(b);
			const char *av = g_mime_param_get_value(a), *bv = g_mime_param_get_value(b);
			if (an && bn && g_ascii_strcasecmp(an, bn) == 0
			    && g_strcmp0(av ? av : "", bv ? bv : "") != 0)
				return true;
		}
	}
	return false;
}

static bool known_encoding(const char *raw)
{
	char *v = norm_value(raw);
	bool ok = *v == '\0' || g_mime_content_encoding_from_string(v) != GMIME_CONTENT_ENCODING_DEFAULT;

	g_free(v);
	return ok;
}

static bool identity_encoding(const char *raw)
{
	char *v = norm_value(raw);
	GMimeContentEncoding e = g_mime_content_encoding_from_string(v);
	bool ok = *v == '\0' || e == GMIME_CONTENT_ENCODING_7BIT || e == GMIME_CONTENT_ENCODING_8BIT
		  || e == GMIME_CONTENT_ENCODING_BINARY;

	g_free(v);
	return ok;
}

enum tz_ambiguity tz_ambiguity_of(GMimeObject *obj)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *ct_raw = NULL, *cte_raw = NULL;

	if (hl == NULL || g_mime_header_list_get_count(hl) == 0)
		return TZ_AMBIG_NONE;
	if (conflicting(hl, "Content-Type", &ct_raw))
		return TZ_AMBIG_DUP_CONTENT_TYPE;
	if (conflicting(hl, "Content-Transfer-Encoding", &cte_raw))
		return TZ_AMBIG_DUP_CTE;
	if (duplicate_param(ct))
		return TZ_AMBIG_DUP_PARAM;
	if (cte_raw != NULL && !known_encoding(cte_raw))
		return TZ_AMBIG_UNKNOWN_CTE;
	if ((GMIME_IS_MULTIPART(obj) || GMIME_IS_MESSAGE_PART(obj)) && cte_raw != NULL
	    && !identity_encoding(cte_raw))
		return TZ_AMBIG_ENCODED_MULTIPART;
	if (GMIME_IS_MULTIPART(obj)) {
		/* the parameter, not g_mime_multipart_get_boundary(), which
		 * invents one when it is missing */
		const char *b = ct ? g_mime_content_type_get_parameter(ct, "boundary") : NULL;
		if (b == NULL || *b == '\0')
			return TZ_AMBIG_NO_BOUNDARY;
	}
	return TZ_AMBIG_NONE;
}

const char *tz_ambiguity_name(enum tz_ambiguity a)
{
	switch (a) {
	case TZ_AMBIG_NONE: return "none";
	case TZ_AMBIG_DUP_CONTENT_TYPE: return "duplicate Content-Type";
	case TZ_AMBIG_DUP_CTE: return "duplicate Content-Transfer-Encoding";
	case TZ_AMBIG_DUP_PARAM: return "duplicate Content-Type parameter";
	case TZ_AMBIG_UNKNOWN_CTE: return "unknown Content-Transfer-Encoding";
	case TZ_AMBIG_ENCODED_MULTIPART: return "encoded multipart";
	case TZ_AMBIG_NO_BOUNDARY: return "multipart without boundary";
	}
	return "unknown";
}
