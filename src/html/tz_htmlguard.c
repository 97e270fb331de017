/* tz_htmlguard.c — limits that hold inside the one libxml2 HTML parse call
 * (the renderer, tz_html.c, installs them around htmlCtxtReadMemory). The
 * DOM costs ~150-250 bytes per element, attribute or comment (8 MB of
 * "<td>x" is 530 MB), and a parse cannot be interrupted from outside. The
 * SAX callbacks that build those nodes are wrapped to count them and read
 * the clock, and stop the parser (xmlStopParser) past either limit. They
 * find their guard through a thread-local: the engine renders on many
 * threads at once. Also here: libxml2's one-time setup (tz_html_init),
 * the other thing every parse must have in place before it starts. */
#include "tz_htmlguard.h"

#include <pthread.h>
#include "tz_html.h"

static __thread struct tz_html_guard *tls_guard;
static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

void tz_html_init(void)
{
	(void)pthread_once(&xml_once, xmlInitParser);
}

/* Count n more nodes; false (parser stopped) once a limit is passed. */
static int guard_admit(void *ctx, size_t n)
{
	struct tz_html_guard *g = tls_guard;

	if (g == NULL)
		return 1;
	if (g->stop != TZ_GUARD_NONE)
		return 0;
	g->nodes += n;
	if (g->max_nodes && g->nodes > g->max_nodes)
		g->stop = TZ_GUARD_NODES;
	else if (g->deadline && (++g->calls & 1023) == 0 && g_get_monotonic_time() > g->deadline)
		g->stop = TZ_GUARD_TIME;
	if (g->stop == TZ_GUARD_NONE)
		return 1;
	xmlStopParser((xmlParserCtxtPtr)ctx);
	return 0;
}

/* Text costs no node but libxml2 builds a long text node by appending
 * chunks of ~1 KB: the clock is read every 1024 chunks (about 1 MB). */
static int guard_text(void *ctx)
{
	struct tz_html_guard *g = tls_guard;

	if (g->stop != TZ_GUARD_NONE)
		return 0;
	if (g->deadline && (++g->text_calls & 1023) == 0 && g_get_monotonic_time() > g->deadline) {
		g->stop = TZ_GUARD_TIME;
		xmlStopParser((xmlParserCtxtPtr)ctx);
		return 0;
	}
	return 1;
}

static void guard_chars(void *ctx, const xmlChar *ch, int len)
{
	if (guard_text(ctx))
		tls_guard->characters(ctx, ch, len);
}

static void guard_blanks(void *ctx, const xmlChar *ch, int len)
{
	if (guard_text(ctx))
		tls_guard->blanks(ctx, ch, len);
}

static void guard_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
	size_t n = 1;

	for (const xmlChar **a = atts; a && *a; a += 2)
		n++;
	if (guard_admit(ctx, n))
		tls_guard->start(ctx, name, atts);
}

static void guard_comment(void *ctx, const xmlChar *value)
{
	if (guard_admit(ctx, 1) && tls_guard->comment)
		tls_guard->comment(ctx, value);
}

static void guard_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
	if (guard_admit(ctx, 1) && tls_guard->pi)
		tls_guard->pi(ctx, target, data);
}

void tz_html_guard_install(htmlParserCtxtPtr ctxt, struct tz_html_guard *g)
{
	g->start = ctxt->sax->startElement;
	g->comment = ctxt->sax->comment;
	g->pi = ctxt->sax->processingInstruction;
	g->characters = ctxt->sax->characters;
	g->blanks = ctxt->sax->ignorableWhitespace;
	ctxt->sax->startElement = guard_start;
	ctxt->sax->comment = guard_comment;
	ctxt->sax->processingInstruction = guard_pi;
	if (g->characters)
		ctxt->sax->characters = guard_chars;
	if (g->blanks)
		ctxt->sax->ignorableWhitespace = guard_blanks;
	tls_guard = g;
}


void tz_html_guard_remove(void)
{
	tls_guard = NULL;
}
