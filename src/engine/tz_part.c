/* tz_part.c — the record kept for every stripped part: allocation, and the
 * stable names of reasons and risk flags used in notices, JSON and logs. */
#include "tz_part.h"

#include <string.h>

struct tz_part *tz_part_new(void)
{
	return g_new0(struct tz_part, 1);
}

void tz_part_free(struct tz_part *p)
{
	if (p == NULL)
		return;
	g_free(p->mime_path);
	g_free(p->filename);
	g_free(p->declared_type);
	g_free(p->detected_type);
	g_free(p);
}

const char *tz_part_reason_name(enum tz_part_reason r)
{
	/* These names are part of the JSON and index format: never rename. */
	switch (r) {
	case TZ_REASON_ATTACHMENT: return "attachment";
	case TZ_REASON_INLINE_IMAGE: return "inline-image";
	case TZ_REASON_HTML_ALTERNATIVE: return "html-alternative";
	case TZ_REASON_SIGNATURE: return "signature";
	case TZ_REASON_TNEF: return "tnef";
	case TZ_REASON_CALENDAR: return "calendar";
	case TZ_REASON_ENCRYPTED: return "encrypted";
	case TZ_REASON_UUENCODE: return "uuencode";
	case TZ_REASON_OTHER: return "other";
	case TZ_REASON_ENCODED_BLOCK: return "encoded-block";
	case TZ_REASON_UNSHOWN: return "unshown";
	case TZ_REASON_AMBIGUOUS: return "ambiguous";
	}
	return "other";
}

static const char *const risk_names[TZ_RISK_COUNT] = {
	"executable", "double-extension", "name-control-chars", "macro",
	"encrypted-archive", "archive", "type-mismatch", "script", "encrypted",
};

const char *tz_risk_name(unsigned bit)
{
	for (unsigned i = 0; i < TZ_RISK_COUNT; i++)
		if (bit == (1u << i))
			return risk_names[i];
	return "unknown";
}

char *tz_risk_string(unsigned risk)
{
	GString *s = g_string_new(NULL);

	for (unsigned i = 0; i < TZ_RISK_COUNT; i++) {
		if (!(risk & (1u << i)))
			continue;
		if (s->len)
			g_string_append_c(s, ',');
		g_string_append(s, risk_names[i]);
	}
	return g_string_free(s, FALSE);
}
