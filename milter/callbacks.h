/* callbacks.h — the libmilter filter description and the counters main.c
 * needs to shut down gracefully. */
#ifndef TZM_CALLBACKS_H
#define TZM_CALLBACKS_H

#include <libmilter/mfapi.h>

extern struct smfiDesc tzm_filter;

/* Connections between connect and close right now (for the drain at
 * SIGTERM). */
int tzm_active_connections(void);

/* Every reply set for ctx (ops_milter.c's setreply): the connection's
 * no-reply gate keeps it in case the step does not answer (noreply.h). */
void tzm_note_reply(SMFICTX *ctx, const char *code, const char *ecode, const char *text);

#endif
