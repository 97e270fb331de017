/* tz_senders.c — the sender list's writer for both backends (see
 * tz_senders.h). */
#include "tz_senders.h"

#include <glib.h>

#include "tz_pgsenders.h"
#include "tz_util.h"

bool tz_senders_enabled(const struct tz_config *cfg)
{
	return tz_config_store_shared(cfg) || (cfg->sender_list_file && *cfg->sender_list_file);
}

int tz_senders_add(const struct tz_config *cfg, enum tz_senderlist_kind kind,
		   const char *pattern, const char *by, char *err, size_t errlen)
{
	char *pat;
	int rc;

	if (!tz_config_store_shared(cfg)) {
		if (!tz_senders_enabled(cfg))
			return tz_err(err, errlen, "SenderListFile is not set");
		return tz_senderlist_add(cfg->sender_list_file, kind, pattern, err, errlen);
	}
	if ((pat = tz_senderlist_pattern(pattern)) == NULL || kind == TZ_SENDER_NONE) {
		g_free(pat);
		return tz_err(err, errlen, "not an address or a domain");
	}
	rc = tz_pgsenders_add(cfg->database_url, kind == TZ_SENDER_BLOCK ? "block" : "allow", pat,
			      by, err, errlen);
	g_free(pat);
	return rc;
}
