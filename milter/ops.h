/* ops.h — the smfi_* calls the milter core makes, behind a table so the
 * core (session.c, eom.c, policy_glue.c) never includes libmilter and unit
 * tests can fake the MTA. ctx is the libmilter SMFICTX* for the real table
 * and anything the test likes for a fake one. Every int function returns 0
 * on success and -1 on failure (MI_SUCCESS / MI_FAILURE). */
#ifndef TZM_OPS_H
#define TZM_OPS_H

struct tzm_ops {
	/* macro value or NULL ("i", "{auth_authen}", ...) */
	const char *(*getsymval)(void *ctx, const char *name);
	int (*setreply)(void *ctx, const char *rcode, const char *xcode, const char *text);
	/* value NULL deletes the idx-th (1-based) field named name */
	int (*chgheader)(void *ctx, const char *name, int idx, const char *value);
	int (*addheader)(void *ctx, const char *name, const char *value);
	int (*insheader)(void *ctx, int idx, const char *name, const char *value);
	int (*replacebody)(void *ctx, const unsigned char *buf, int len);
	int (*quarantine)(void *ctx, const char *reason);   /* Postfix: hold queue */
	int (*progress)(void *ctx);                         /* keep the MTA waiting */
};

/* The real table, calling libmilter (ops_milter.c). */
extern const struct tzm_ops tzm_milter_ops;

#endif
