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

/* add (by != NULL) or remove kind pattern in the shared database */
static int shared_change(const struct tz_config *cfg, enum tz_senderlist_kind kind,
			 const char *pattern, const char *by, bool add, char *err, size_t errlen)
{
	const char *k = kind == TZ_SENDER_BLOCK ? "block" : "allow";
	char *pat;
	int rc;

	if ((pat = tz_senderlist_pattern(pattern)) == NULL || kind == TZ_SENDER_NONE) {
		g_free(pat);
		return tz_err(err, errlen, "not an address or a domain");
	}
	rc = add ? tz_pgsenders_add(cfg->database_url, k, pat, by, err, errlen)
		 : tz_pgsenders_remove(cfg->database_url, k, pat, err, errlen);
	g_free(pat);
	return rc;
}

int tz_senders_add(const struct tz_config *cfg, enum tz_senderlist_kind kind,
		   const char *pattern, const char *by, char *err, size_t errlen)
{
	if (tz_config_store_shared(cfg))
		return shared_change(cfg, kind, pattern, by, true, err, errlen);
	if (!tz_senders_enabled(cfg))
		return tz_err(err, errlen, "SenderListFile is not set");
	return tz_senderlist_add(cfg->sender_list_file, kind, pattern, err, errlen);
}

int tz_senders_remove(const struct tz_config *cfg, enum tz_senderlist_kind kind,
		      const char *pattern, char *err, size_t errlen)
{
	if (tz_config_store_shared(cfg))
		return shared_change(cfg, kind, pattern, NULL, false, err, errlen);
	if (!tz_senders_enabled(cfg))
		return tz_err(err, errlen, "SenderListFile is not set");
	return tz_senderlist_remove(cfg->sender_list_file, kind, pattern, err, errlen);
}

int tz_senders_text(const struct tz_config *cfg, char **text, char *err, size_t errlen)
{
	*text = NULL;
	if (tz_config_store_shared(cfg)) {
		struct tz_pgsenders *ps = tz_pgsenders_new(cfg->database_url);
		int rc = tz_pgsenders_load(ps, text, err, errlen);

		tz_pgsenders_free(ps);
		return rc;
	}
	if (!tz_senders_enabled(cfg))
		return tz_err(err, errlen, "SenderListFile is not set");
	if (!g_file_get_contents(cfg->sender_list_file, text, NULL, NULL))
		*text = g_strdup("");
	return 0;
}
