/* web_privsep.h — textize-web in two processes (OpenSSH-style privilege
 * separation). The front parses HTTP (libmicrohttpd: the attack surface)
 * as WebUser with no key, no store, no sessions; every request it cannot
 * answer alone (all but the style sheet) goes as one typed message to the
 * broker, which runs as the queue's user (UserID), holds the keys, the
 * store, the sessions, PAM, and decides everything: session, role, CSRF,
 * signed staff link. See docs/security.md "textize-web privilege
 * separation".
 *
 * Transport: one SOCK_SEQPACKET control socketpair; for each request the
 * front makes a fresh stream socketpair and passes one end over the
 * control socket (SCM_RIGHTS), so requests run in parallel in the broker
 * without a shared stream. On each stream: one framed request, one framed
 * response (uint32 big-endian length, then a GVariant in normal form). */
#ifndef TZ_WEB_PRIVSEP_H
#define TZ_WEB_PRIVSEP_H

#include <stddef.h>
#include <glib.h>

/* The request the front sends: method, path, client address, session
 * cookie ("" none), query and form pairs (a name given twice stays twice:
 * the broker refuses it), too_big (the upload passed its limit),
 * duplicate (MHD saw a name twice). Every string is a bytestring: forms
 * may carry invalid UTF-8, which the handlers refuse themselves. */
#define WEB_WIRE_REQ "(ayayayaya(ayay)a(ayay)bb)"
/* The answer: status, content type ("" = HTML), Location, Set-Cookie,
 * Content-Disposition filename* ("" = none each), body. */
#define WEB_WIRE_RESP "(uayayayayay)"

#define WEB_WIRE_MAX_REQ (1024u * 1024u)
/* A sanitized copy or original is sent whole; bounded by Sanitize* and
 * MaxMessageSize, well under this. */
#define WEB_WIRE_MAX_RESP (512u * 1024u * 1024u)

/* Write one frame; read one frame of at most max bytes (g_free). 0 or -1. */
int web_wire_send(int fd, GVariant *v);
GVariant *web_wire_recv(int fd, const GVariantType *type, size_t max);

/* Front: ask the broker over control socket ctl; the answer or NULL when
 * the broker is gone, busy or timed out (the caller answers 503). */
GVariant *web_broker_ask(int ctl, GVariant *req, unsigned timeout_s);

/* Broker side: take the next request stream from ctl. Its fd, 0 when the
 * front closed the control socket, -1 on error (errno). */
int web_broker_next(int ctl);

/* Privileges. Front: drop every group, become spec ("user[:group]");
 * refuses when the process could become root again. Broker: become spec
 * keeping the supplementary groups the service manager gave it
 * (SupplementaryGroups=shadow postdrop) but never group 0. 0 or -1. */
int web_drop_front(const char *spec, char *err, size_t errlen);
int web_drop_broker(const char *spec, char *err, size_t errlen);

#endif
