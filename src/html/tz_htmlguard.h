/* tz_htmlguard.h — node and time limits inside libxml2's HTML parse
 * (internal to the renderer, tz_html.c). */
#ifndef TZ_HTMLGUARD_H
#define TZ_HTMLGUARD_H

#include <stddef.h>
#include <glib.h>
#include <libxml/HTMLparser.h>

enum tz_guard_stop { TZ_GUARD_NONE = 0, TZ_GUARD_NODES, TZ_GUARD_TIME };

/* Set max_nodes and deadline (0 = none each); the rest is the guard's. */
struct tz_html_guard {
	startElementSAXFunc start;          /* libxml2's own callbacks, wrapped */
	commentSAXFunc comment;
	processingInstructionSAXFunc pi;
	charactersSAXFunc characters;
	ignorableWhitespaceSAXFunc blanks;
	size_t nodes, max_nodes;            /* elements + attributes + comments built */
	unsigned calls, text_calls;
	gint64 deadline;                    /* g_get_monotonic_time() limit */
	enum tz_guard_stop stop;            /* why the parser was stopped */
};

/* Wrap ctxt's tree-building callbacks for this thread's next parse; g must
 * outlive it. Call tz_html_guard_remove() when the parse returns. */
void tz_html_guard_install(htmlParserCtxtPtr ctxt, struct tz_html_guard *g);
void tz_html_guard_remove(void);

#endif
