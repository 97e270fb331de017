/* fake_mta.h — the fake MTA the milter core's unit tests drive it through
 * (test_session.c, test_policy_glue.c): a struct tzm_ops that records what
 * the core asked of the MTA instead of talking to one. */
#ifndef TZ_FAKE_MTA_H
#define TZ_FAKE_MTA_H

#include <stdbool.h>
#include <glib.h>
#include "ops.h"

struct fake {
	GHashTable *macros;      /* name -> value (borrowed), what getsymval answers */
	GString *calls;          /* one line per header/quarantine call: "add NAME [VALUE]" */
	GByteArray *body;        /* concatenated replacebody data */
	char rcode[8], xcode[16], text[256];   /* the last reply set */
	int replacebody_calls;
	bool fail_replacebody;   /* replacebody returns -1 */
	bool fail_setreply;      /* setreply returns -1 (and records nothing) */
};

extern const struct tzm_ops fake_ops;

/* A fake MTA; qid (borrowed, may be NULL) is its "i" macro. */
struct fake *fake_new(const char *qid);
void fake_free(struct fake *f);

/* The other side of the core: write conf_text to DIR/textize.conf, load
 * it, build a runtime from it as start-up does (tzm_runtime_new) and make
 * it current. 0, or -1 with err. */
int fake_runtime_install(const char *dir, const char *conf_text, char *err, size_t errlen);

#endif
