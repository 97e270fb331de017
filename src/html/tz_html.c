/* tz_html.c — render an HTML mail body as the plain text a reader would see:
 * libxml2's recovering HTML parser builds the tree, one iterative walk writes
 * the text (through tz_htmlwrite.c) and hands what no reader sees to the
 * caller as "hidden text". Rendering conventions (the notice, docs and
 * tests rely on them):
 *
 *   blocks, <br>     line breaks; <p>, headings, <pre>, top-level lists and
 *                    <blockquote> are separated by one blank line; never more
 *                    than one blank line in a row
 *   <ul> items       "・ " (U+30FB + space); <ol> items "1. ", "2. " (start=
 *                    honoured); each nesting level indents 3 spaces, up to
 *                    10 levels (30 spaces); an item's continuation lines
 *                    align after the marker
 *   tables           one line per row, cells separated by " | "; a cell whose
 *                    content has its own paragraphs keeps them (layout tables)
 *   <blockquote>     each line prefixed "> " per level, at most 10 levels
 *                    shown (deeper quotes print as the 10th)
 *   <pre>, <textarea>, <listing>, <xmp>   lines and spaces kept
 *   links            "text <URL>" unless the text is the URL itself; only
 *                    http, https, ftp, mailto and tel targets are printed;
 *                    any other target (javascript:, vbscript:, data:, file:,
 *                    ms-word:, ...) is "text [リンク先は表示しません: scheme]"
 *                    (TZ_HTML_LINK_BLOCKED); a link whose own text is a
 *                    javascript:/vbscript:/data:/file: URL shows the marker
 *                    instead of that text
 *   phishing         "text <URL> [警告: 表示と異なるリンク先]" when the text
 *                    (or, for a link holding only images, their alt text)
 *                    names another host than the target (a relative target
 *                    included: <base href> decides where it goes), or the
 *                    URL hides its host behind userinfo; "[警告: 表示と異なるリンク先
 *                    (実際のホスト: H)]" when the target's host is disguised
 *                    (percent-escapes, full-width letters or dots, IPv4 as a
 *                    number or hex/octal, mixed scripts): H is the punycode
 *                    or dotted form; sets TZ_HTML_PHISHING_LINK
 *   images           "[画像: alt]", "[画像]" without alt (or with an alt that
 *                    is a data:/javascript: URL); 1x1 tracking images dropped
 *   hidden           not shown, handed to the caller's `hidden`: elements
 *                    hidden by the hidden attribute, <template>, <head>, or
 *                    CSS — inline or from <style> rules (tz_htmlcss.c):
 *                    display:none, visibility:hidden, mso-hide:all,
 *                    opacity:0, zero/1px size with overflow:hidden, off-screen
 *                    absolute position, clip to nothing, text-indent far
 *                    off-screen; text whose inherited font-size is 0 (a child
 *                    that sets a size is shown again, images are shown);
 *                    aria-hidden alone hides nothing (it marks visible
 *                    decoration). Also the text of <script>, <style>,
 *                    <object>, <svg>, <title>..., comments (MSO conditional
 *                    ones included) and attribute values that are data: URLs
 *                    or 1 KB or longer
 *   dropped          <script>, <style>, <title>, <object>, <embed>, <applet>,
 *                    <iframe>, <svg>, <select>, media, comments. <noscript>
 *                    is shown: mail clients do not run scripts, so its
 *                    content is what they show
 *   whitespace       collapsed as a browser does; a source line break between
 *                    two CJK characters joins them with no space (Japanese
 *                    text wrapped in the HTML source reads as one sentence);
 *                    &nbsp; is a plain space
 *   output           UTF-8, LF, no trailing spaces, no leading or trailing
 *                    blank lines, no control characters but LF and TAB, no
 *                    bidi overrides; ends with one LF unless empty
 *
 * Cost: the text is at most ~11x the input (a 2-byte <pre> line under ten
 * quote levels), max_output is checked at every node and every 64 KB inside
 * a text node, the deadline every 1024 nodes and every 64 KB of text. */
#include "textize.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "tz_html.h"
#include "tz_htmlcss.h"
#include "tz_htmlwrite.h"
#include "tz_htmlguard.h"
#include "tz_htmllink.h"
#include "tz_htmlscan.h"
#include "tz_util.h"

/* libxml2 halts at 256 levels unless XML_PARSE_HUGE, which we do not set:
 * with HUGE, end tags are matched by a linear scan of the open-element
 * stack and 100,000 stray end tags take minutes. */
#define HTML_DEPTH_DEFAULT 256

/* Bound on an image's alt text (LINK_TEXT_CAP: tz_htmlwrite.h). */
#define ALT_CAP 1024

/* Spaces per list nesting level (matches the width of "・ " and "1. "). */
#define LIST_INDENT 3

/* List nesting shown: deeper levels print at the deepest shown one (like
 * quotes, see tz_htmlwrite.c), so the indent never exceeds 30 spaces. */
#define INDENT_MAX (10 * LIST_INDENT)

/* An attribute value this long is not shown but may carry a payload: it is
 * handed to the caller with the hidden text. */
#define ATTR_PAYLOAD_MIN 1024

#define PHISH_MARK "[警告: 表示と異なるリンク先]"
#define PHISH_MARK_HOST "[警告: 表示と異なるリンク先 (実際のホスト: %s)]"
#define BLOCKED_MARK "[リンク先は表示しません: %s]"
#define HR_LINE "----------------------------------------"

/* ---------------------------------------------------------------- elements */

enum el_kind {
	EL_INLINE, EL_DROP, EL_ACTIVE, EL_HIDE, EL_BLOCK, EL_PARA, EL_BR, EL_HR,
	EL_PRE, EL_UL, EL_OL, EL_LI, EL_DD, EL_QUOTE, EL_TABLE, EL_TR, EL_CELL,
	EL_A, EL_IMG,
};

struct el_def {
	const char *name;
	enum el_kind kind;
};

/* Sorted by name (bsearch). Unknown elements are inline. */
static const struct el_def el_defs[] = {
	{"a", EL_A}, {"address", EL_BLOCK}, {"applet", EL_ACTIVE},
	{"area", EL_DROP}, {"article", EL_BLOCK}, {"aside", EL_BLOCK},
	{"audio", EL_DROP}, {"base", EL_DROP}, {"blockquote", EL_QUOTE},
	{"body", EL_BLOCK}, {"br", EL_BR}, {"button", EL_INLINE},
	{"canvas", EL_DROP}, {"caption", EL_BLOCK}, {"center", EL_BLOCK},
	{"datalist", EL_DROP}, {"dd", EL_DD}, {"details", EL_BLOCK},
	{"dialog", EL_BLOCK}, {"dir", EL_UL}, {"div", EL_BLOCK}, {"dl", EL_PARA},
	{"dt", EL_BLOCK}, {"embed", EL_ACTIVE}, {"fieldset", EL_BLOCK},
	{"figcaption", EL_BLOCK}, {"figure", EL_PARA}, {"footer", EL_BLOCK},
	{"form", EL_BLOCK}, {"frame", EL_ACTIVE}, {"frameset", EL_HIDE},
	{"h1", EL_PARA}, {"h2", EL_PARA}, {"h3", EL_PARA}, {"h4", EL_PARA},
	{"h5", EL_PARA}, {"h6", EL_PARA}, {"head", EL_HIDE}, {"header", EL_BLOCK},
	{"hr", EL_HR}, {"html", EL_BLOCK}, {"iframe", EL_ACTIVE}, {"img", EL_IMG},
	{"legend", EL_BLOCK}, {"li", EL_LI}, {"link", EL_DROP},
	{"listing", EL_PRE}, {"main", EL_BLOCK}, {"math", EL_DROP},
	{"menu", EL_UL}, {"meta", EL_DROP}, {"nav", EL_BLOCK},
	{"noembed", EL_BLOCK}, {"noframes", EL_BLOCK}, {"noscript", EL_BLOCK},
	{"object", EL_ACTIVE}, {"ol", EL_OL}, {"p", EL_PARA}, {"param", EL_DROP},
	{"plaintext", EL_PRE}, {"pre", EL_PRE}, {"script", EL_ACTIVE},
	{"section", EL_BLOCK}, {"select", EL_DROP}, {"source", EL_DROP},
	{"style", EL_DROP}, {"summary", EL_BLOCK}, {"svg", EL_DROP},
	{"table", EL_TABLE}, {"td", EL_CELL}, {"template", EL_HIDE},
	{"textarea", EL_PRE}, {"th", EL_CELL}, {"title", EL_DROP}, {"tr", EL_TR},
	{"track", EL_DROP}, {"ul", EL_UL}, {"video", EL_DROP}, {"xmp", EL_PRE},
};

static int el_cmp(const void *key, const void *def)
{
	return strcmp(key, ((const struct el_def *)def)->name);
}

/* Element names come from the document's dictionary, so equal names are
 * usually the same pointer: a small per-render cache keyed by the pointer
 * saves the bsearch on nearly every element. */
#define KIND_CACHE 64

struct kind_cache {
	const xmlChar *name[KIND_CACHE];
	unsigned char kind[KIND_CACHE];
};

static enum el_kind el_kind_of(struct kind_cache *kc, const xmlNode *n)
{
	const struct el_def *d;
	size_t slot = ((uintptr_t)n->name >> 4) % KIND_CACHE;
	enum el_kind k;

	if (n->name == NULL)
		return EL_INLINE;
	if (kc->name[slot] == n->name)
		return (enum el_kind)kc->kind[slot];
	d = bsearch(n->name, el_defs, G_N_ELEMENTS(el_defs), sizeof el_defs[0], el_cmp);
	k = d ? d->kind : EL_INLINE;
	kc->name[slot] = n->name;
	kc->kind[slot] = (unsigned char)k;
	return k;
}

/* One open element on the walk's stack. */
struct frame {
	const xmlNode *node;
	enum el_kind kind;
	unsigned char quiet;	/* no rendering effects on leave */
	unsigned char hid;	/* this element started a hidden region */
	unsigned char link;	/* this element is the open link */
	unsigned char pre_nl;	/* pre: drop one leading newline */
	unsigned char hid_sep;	/* hidden: a block, its text ends a line of the hidden text */
	unsigned char saved_font_zero;
	unsigned saved_indent;
	unsigned counter;	/* <ol>: next item number */
	int outer_list;		/* enclosing list's frame index, -1 none */
	const char *href;
};

struct render {
	struct tz_hw w;
	GArray *frames;		/* struct frame */
	int list;		/* innermost list's frame index, -1 none */
	unsigned list_depth;
	unsigned hidden;	/* > 0: print nothing, hand text to hid */
	int font_zero;		/* inherited font-size is 0: text invisible, elements not */
	struct tz_css *css;	/* rules of the document's <style> sheets */
	unsigned pre;
	int pre_nl;		/* drop a newline that starts a <pre> */
	unsigned flags;
	unsigned max_depth;
	unsigned steps;		/* nodes visited, to look at the clock now and then */
	GString *hid;		/* hidden text, NULL when the caller does not want it */
	size_t max_hid;		/* bytes of hid, 0 = none */
	struct kind_cache kinds;
};

/* ------------------------------------------------------------ hidden text */

/* Append to the hidden text with CR and CRLF as LF; over max_hid the walk
 * stops (a limit, like the output's). */
static void hid_append(struct render *r, const char *s, size_t n)
{
	const char *end = s + n;

	if (r->hid == NULL || n == 0)
		return;
	if (r->max_hid && r->hid->len + n > r->max_hid) {
		r->w.stop = TZ_HW_STOP_HIDDEN;
		return;
	}
	while (s < end) {
		const char *cr = memchr(s, '\r', (size_t)(end - s));

		if (cr == NULL) {
			g_string_append_len(r->hid, s, end - s);
			break;
		}
		g_string_append_len(r->hid, s, cr - s);
		g_string_append_c(r->hid, '\n');
		s = cr + 1;
		if (s < end && *s == '\n')
			s++;
	}
}

/* End the hidden text's current line, if it has one. */
static void hid_sep(struct render *r)
{
	if (r->hid && r->hid->len && r->hid->str[r->hid->len - 1] != '\n')
		g_string_append_c(r->hid, '\n');
}

/* A hidden piece that stands alone (comment, attribute value). */
static void hid_piece(struct render *r, const char *s, size_t n)
{
	hid_sep(r);
	hid_append(r, s, n);
	hid_sep(r);
}

/* The interesting attributes of one element, read in a single pass. */
struct attrs {
	const char *style, *href, *alt, *width, *height, *start;
	int hidden;
};

static const char *attr_value(const xmlAttr *a)
{
	if (a->children && a->children->type == XML_TEXT_NODE && a->children->content)
		return (const char *)a->children->content;
	return "";
}

/* The first bytes of a URL in lower case, the way browsers parse it:
 * leading spaces and controls skipped, TAB/CR/LF anywhere removed. */
static void url_head(const char *v, char *head, size_t size)
{
	size_t n = 0;

	while (*v && (unsigned char)*v <= 0x20)
		v++;
	for (; *v && n < size - 1; v++)
		if (*v != '\t' && *v != '\n' && *v != '\r')
			head[n++] = g_ascii_tolower(*v);
	head[n] = '\0';
}

/* javascript:/vbscript: URL. */
static int is_script_url(const char *v)
{
	char head[16];

	url_head(v, head, sizeof head);
	return g_str_has_prefix(head, "javascript:") || g_str_has_prefix(head, "vbscript:") ||
	       g_str_has_prefix(head, "livescript:");
}

static int is_data_url(const char *v)
{
	char head[8];

	url_head(v, head, sizeof head);
	return g_str_has_prefix(head, "data:");
}

static void attrs_read(struct render *r, const xmlNode *n, struct attrs *at)
{
	memset(at, 0, sizeof *at);
	for (const xmlAttr *a = n->properties; a; a = a->next) {
		const char *name = (const char *)a->name, *v;

		if (name == NULL)
			continue;
		v = attr_value(a);
		if (r->hid && *v) {
			size_t vl = strlen(v);

			if (vl >= ATTR_PAYLOAD_MIN || is_data_url(v))
				hid_piece(r, v, vl);
		}
		if ((name[0] == 'o' || name[0] == 'O') && (name[1] == 'n' || name[1] == 'N') && name[2])
			r->flags |= TZ_HTML_HAD_SCRIPT;
		if (is_script_url(v))
			r->flags |= TZ_HTML_HAD_SCRIPT;
		if (!g_ascii_strcasecmp(name, "style"))
			at->style = v;
		else if (!g_ascii_strcasecmp(name, "href"))
			at->href = v;
		else if (!g_ascii_strcasecmp(name, "alt"))
			at->alt = v;
		else if (!g_ascii_strcasecmp(name, "width"))
			at->width = v;
		else if (!g_ascii_strcasecmp(name, "height"))
			at->height = v;
		else if (!g_ascii_strcasecmp(name, "start"))
			at->start = v;
		else if (!g_ascii_strcasecmp(name, "hidden"))
			at->hidden = 1;
	}
}

static int tiny(const char *v)
{
	return v && v[0] && strtol(v, NULL, 10) <= 1 && g_ascii_isdigit(v[0]);
}

/* Collapse whitespace and drop controls for an attribute shown as text. */
static void append_clean(GString *dst, const char *s, size_t max)
{
	int space = 0;

	for (; *s && dst->len < max; s = g_utf8_next_char(s)) {
		gunichar c = g_utf8_get_char(s);

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0xa0) {
			space = 1;
		} else if (!tz_hw_dropped(c)) {
			if (space && dst->len && dst->str[dst->len - 1] != ' ')
				g_string_append_c(dst, ' ');
			space = 0;
			g_string_append_unichar(dst, c);
		}
	}
}

/* A URL with a scheme whose target is never printed, and that must not be
 * shown as text either (a data: URL as a link's text is a file). */
static int blocked_url_text(const char *s)
{
	char *scheme;
	int blocked;

	while (*s == ' ' || *s == '\n' || *s == '\t')
		s++;
	if (tz_link_classify(s) == TZ_LINK_ACTIVE)
		return 1;
	scheme = tz_link_scheme(s);
	blocked = scheme && !strcmp(scheme, "file");
	g_free(scheme);
	return blocked;
}

static void render_img(struct render *r, const struct attrs *at)
{
	GString *s;
	const char *alt = at->alt;

	if (tiny(at->width) && tiny(at->height))
		return;	/* tracking pixel */
	if (alt && blocked_url_text(alt)) {
		hid_piece(r, alt, strlen(alt));
		alt = NULL;
	}
	if (alt && r->w.in_link && r->w.link_alt->len < LINK_TEXT_CAP) {
		g_string_append_c(r->w.link_alt, ' ');
		g_string_append_len(r->w.link_alt, alt,
				    (gssize)MIN(strlen(alt), LINK_TEXT_CAP - r->w.link_alt->len));
	}
	s = g_string_new("[画像");
	if (alt) {
		gsize before = s->len;

		g_string_append(s, ": ");
		append_clean(s, alt, ALT_CAP);
		if (s->len == before + 2)
			g_string_truncate(s, before);
	}
	g_string_append_c(s, ']');
	tz_hw_atom(&r->w, s->str, 0);
	g_string_free(s, TRUE);
}

static void link_begin(struct render *r, struct frame *f, const char *href)
{
	struct tz_hw *w = &r->w;

	if (w->in_link || href == NULL)
		return;
	f->link = 1;
	f->href = href;
	w->in_link = 1;
	w->link_out = 0;
	g_string_truncate(w->link_text, 0);
	g_string_truncate(w->link_alt, 0);
}

/* The link's own text is a data:/javascript:/file: URL: take it out of
 * the text (to the hidden text) and put the marker in its place. */
/* The first bytes of the text inside element a as the source has it (the
 * written link text has a TAB collapsed to a space; a browser reading
 * "java<TAB>script:" as a URL removes it). */
static void raw_text_head(const xmlNode *a, char *buf, size_t size)
{
	const xmlNode *n = a->children;
	size_t len = 0;

	buf[0] = '\0';
	while (n && len + 1 < size) {
		if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && n->content) {
			g_strlcpy(buf + len, (const char *)n->content, size - len);
			len = strlen(buf);
		}
		if (n->type == XML_ELEMENT_NODE && n->children) {
			n = n->children;
			continue;
		}
		while (n && n != a && n->next == NULL)
			n = n->parent;
		if (n == NULL || n == a)
			break;
		n = n->next;
	}
}

static void link_text_blocked(struct render *r, const xmlNode *a)
{
	struct tz_hw *w = &r->w;
	char *scheme, *mark, raw[64];
	const char *t = w->link_text->str;

	if (!w->link_out || w->link_pos > w->buf->len)
		return;
	if (!blocked_url_text(t)) {
		raw_text_head(a, raw, sizeof raw);
		if (!blocked_url_text(raw))
			return;
		t = raw;
	}
	scheme = tz_link_scheme(t + strspn(t, " \n\t\r"));
	hid_piece(r, w->buf->str + w->link_pos, w->buf->len - w->link_pos);
	g_string_truncate(w->buf, w->link_pos);
	g_string_truncate(w->link_text, 0);
	mark = g_strdup_printf(BLOCKED_MARK, scheme ? scheme : "?");
	tz_hw_atom(w, mark, 0);
	r->flags |= TZ_HTML_LINK_BLOCKED;
	g_free(mark);
	g_free(scheme);
}

static void link_end(struct render *r, const struct frame *f)
{
	struct tz_hw *w = &r->w;
	enum tz_link_kind kind = tz_link_classify(f->href);
	char *text_host, *disguised = NULL;
	int phish = 0, show = 0;

	w->in_link = 0;
	link_text_blocked(r, f->node);
	/* a link whose only content is an image: its alt text is what it claims */
	if (strspn(w->link_text->str, " ") == w->link_text->len && w->link_alt->len)
		text_host = tz_link_text_host(w->link_alt->str, w->link_alt->len);
	else
		text_host = tz_link_text_host(w->link_text->str, w->link_text->len);
	if (kind == TZ_LINK_WEB) {
		char *target = tz_link_url_host(f->href);

		show = !tz_link_text_is_url(w->link_text->str, w->link_text->len, f->href);
		disguised = tz_link_host_disguised(f->href);
		phish = (text_host && (target == NULL || !tz_link_hosts_match(text_host, target))) ||
			tz_link_has_userinfo(f->href) || disguised != NULL;
		g_free(target);
	} else {
		if (kind == TZ_LINK_ACTIVE)
			r->flags |= TZ_HTML_HAD_SCRIPT;
		/* text naming a host but leading somewhere that is not one; a
		 * relative target goes wherever <base href> says, or nowhere */
		phish = text_host != NULL;
	}
	if (kind == TZ_LINK_WEB && (show || phish)) {
		char *url = tz_link_display(f->href);
		char *atom = g_strdup_printf("<%s>", url);

		tz_hw_atom(w, atom, w->link_out);
		g_free(atom);
		g_free(url);
	} else if (kind == TZ_LINK_ACTIVE || kind == TZ_LINK_OTHER) {
		char *scheme = tz_link_scheme(f->href);
		char *atom = g_strdup_printf(BLOCKED_MARK, scheme ? scheme : "?");

		r->flags |= TZ_HTML_LINK_BLOCKED;
		tz_hw_atom(w, atom, w->link_out);
		g_free(atom);
		g_free(scheme);
	}
	if (phish) {
		char *mark = disguised ? g_strdup_printf(PHISH_MARK_HOST, disguised) : g_strdup(PHISH_MARK);

		r->flags |= TZ_HTML_PHISHING_LINK;
		tz_hw_atom(w, mark, 1);
		g_free(mark);
	}
	g_free(disguised);
	g_free(text_host);
}

/* ------------------------------------------------------------------- walk */

static void list_marker(struct render *r)
{
	struct tz_hw *w = &r->w;
	struct frame *lf = r->list >= 0 ? &g_array_index(r->frames, struct frame, r->list) : NULL;

	if (lf && lf->kind == EL_OL)
		g_snprintf(w->marker, sizeof w->marker, "%u. ", lf->counter++);
	else
		g_strlcpy(w->marker, "・ ", sizeof w->marker);
	w->marker_indent = w->indent;
	if (w->indent < INDENT_MAX)
		w->indent += LIST_INDENT;
}

static unsigned ol_start(const char *v)
{
	long n = v ? strtol(v, NULL, 10) : 1;

	return n >= 0 && n < 1000000000L ? (unsigned)n : 1;
}

/* Open an element: apply its rendering effects to the writer. f is the
 * element's frame (pushed by the caller when it descends). Returns 1 when
 * the children are to be visited. */
static int el_enter(struct render *r, const xmlNode *n, struct frame *f)
{
	struct tz_hw *w = &r->w;
	struct attrs at;

	memset(f, 0, sizeof *f);
	f->node = n;
	f->saved_font_zero = (unsigned char)r->font_zero;
	f->kind = el_kind_of(&r->kinds, n);
	f->outer_list = -1;
	attrs_read(r, n, &at);
	if (f->kind == EL_ACTIVE)
		r->flags |= TZ_HTML_HAD_SCRIPT;
	f->hid_sep = f->kind != EL_INLINE && f->kind != EL_A;
	if (f->kind == EL_ACTIVE || f->kind == EL_DROP) {
		/* never shown; their text (a script's strings, a style sheet's
		 * url(data:...)) is walked only to hand it to the caller */
		f->quiet = 1;
		if (r->hid == NULL)
			return 0;
		f->hid = 1;
		r->hidden++;
		hid_sep(r);
		return 1;
	}
	if (!r->hidden && f->kind != EL_HIDE && !at.hidden && (at.style || r->css)) {
		struct tz_css_effect e;

		tz_css_element(r->css, n, at.style, &e);
		at.hidden = e.hidden;
		if (e.font_zero >= 0)
			r->font_zero = e.font_zero;
	}
	if (r->hidden || f->kind == EL_HIDE || at.hidden) {
		f->quiet = 1;
		f->hid = 1;
		r->hidden++;
		if (f->hid_sep)
			hid_sep(r);
		return 1;
	}
	switch (f->kind) {
	case EL_BLOCK: case EL_TABLE: case EL_TR:
		tz_hw_break(w, 1);
		break;
	case EL_PARA:
		tz_hw_break(w, 2);
		break;
	case EL_QUOTE:
		tz_hw_break(w, 2);
		w->quote++;
		break;
	case EL_BR:
		tz_hw_hard_break(w);
		break;
	case EL_HR:
		tz_hw_break(w, 1);
		tz_hw_atom(w, HR_LINE, 0);
		tz_hw_break(w, 1);
		break;
	case EL_PRE:
		tz_hw_break(w, 2);
		r->pre++;
		r->pre_nl = 1;
		break;
	case EL_UL: case EL_OL:
		tz_hw_break(w, r->list_depth ? 1 : 2);
		f->counter = ol_start(at.start);
		f->outer_list = r->list;
		r->list = (int)r->frames->len;	/* the index this frame gets when pushed */
		r->list_depth++;
		break;
	case EL_LI:
		tz_hw_break(w, 1);
		f->saved_indent = w->indent;
		list_marker(r);
		w->fresh = 1;
		w->cell_sep = 0;
		break;
	case EL_DD:
		tz_hw_break(w, 1);
		f->saved_indent = w->indent;
		if (w->indent < INDENT_MAX)
			w->indent += LIST_INDENT;
		break;
	case EL_CELL:
		w->fresh = 1;
		w->cell_sep = 1;
		break;
	case EL_A:
		link_begin(r, f, at.href);
		break;
	case EL_IMG:
		render_img(r, &at);
		break;
	default:
		break;
	}
	return 1;
}

/* Close an element opened by el_enter. */
static void el_leave(struct render *r, const struct frame *f)
{
	struct tz_hw *w = &r->w;

	r->font_zero = f->saved_font_zero;
	if (f->hid) {
		r->hidden--;
		if (f->hid_sep)
			hid_sep(r);
	}
	if (f->quiet)
		return;
	switch (f->kind) {
	case EL_BLOCK: case EL_TABLE: case EL_TR:
		tz_hw_break(w, 1);
		break;
	case EL_PARA:
		tz_hw_break(w, 2);
		break;
	case EL_QUOTE:
		tz_hw_break(w, 2);
		w->quote--;
		break;
	case EL_PRE:
		r->pre--;
		r->pre_nl = 0;
		tz_hw_break(w, 2);
		break;
	case EL_UL: case EL_OL:
		r->list = f->outer_list;
		r->list_depth--;
		tz_hw_break(w, r->list_depth ? 1 : 2);
		break;
	case EL_LI:
		w->indent = f->saved_indent;
		w->marker[0] = '\0';	/* an empty item prints nothing */
		w->fresh = 0;
		tz_hw_break(w, 1);
		if (w->want_nl > 1)	/* "<li><p>..</p></li>": items stay on adjacent lines */
			w->want_nl = 1;
		break;
	case EL_DD:
		w->indent = f->saved_indent;
		tz_hw_break(w, 1);
		break;
	case EL_CELL:
		if (!w->fresh)		/* the cell had text: the row continues on this line */
			w->want_nl = 0;
		w->fresh = w->cell_sep = 0;
		break;
	case EL_A:
		if (f->link)
			link_end(r, f);
		break;
	default:
		break;
	}
}

static void render_text(struct render *r, const xmlNode *n)
{
	const char *s = (const char *)n->content;
	size_t len;

	if (s == NULL)
		return;
	len = strlen(s);
	if (r->hidden || r->font_zero) {
		hid_append(r, s, len);
		return;
	}
	if (r->pre && r->pre_nl) {	/* HTML drops a line break right after <pre> */
		if (len && s[0] == '\r')
			s++, len--;
		if (len && s[0] == '\n')
			s++, len--;
	}
	r->pre_nl = 0;
	tz_hw_text(&r->w, s, len, r->pre > 0);
}

/* Visit the tree without recursion: down through children while the depth
 * allows, then along siblings, leaving each element on the way back up. */
static void walk(struct render *r, xmlNode *first)
{
	xmlNode *n = first;

	while (n) {
		/* a clock read per 1024 nodes costs nothing measurable; the output
		 * is measured at every node (text nodes look inside, too) */
		if (r->w.stop)
			return;
		if (r->w.max_out && r->w.buf->len > r->w.max_out) {
			r->w.stop = TZ_HW_STOP_OUTPUT;
			return;
		}
		if (r->w.deadline && (++r->steps & 1023) == 0 && tz_hw_over(&r->w))
			return;
		if (n->type == XML_ELEMENT_NODE) {
			struct frame f;
			int descend = el_enter(r, n, &f);

			if (descend && n->children && r->frames->len >= r->max_depth) {
				r->flags |= TZ_HTML_TRUNCATED;
				descend = 0;
			}
			if (descend && n->children) {
				g_array_append_val(r->frames, f);
				n = n->children;
				continue;
			}
			el_leave(r, &f);
		} else if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			render_text(r, n);
		} else if (n->type == XML_COMMENT_NODE && r->hid && n->content) {
			/* comments, MSO conditional ones (<!--[if mso]>) included */
			hid_piece(r, (const char *)n->content, strlen((const char *)n->content));
		}
		while (n->next == NULL) {
			struct frame f;

			if (r->frames->len == 0)
				return;
			f = g_array_index(r->frames, struct frame, r->frames->len - 1);
			g_array_set_size(r->frames, r->frames->len - 1);
			el_leave(r, &f);
			n = (xmlNode *)f.node;
		}
		n = n->next;
	}
}

/* The document's <style> sheets, wherever they are (a browser applies a
 * sheet in <body> too); NULL when there is none. Not those in comments:
 * libxml2 keeps a comment's content as text, never as elements. */
static struct tz_css *collect_css(xmlNode *root)
{
	struct tz_css *css = NULL;
	xmlNode *n = root;

	while (n) {
		if (n->type == XML_ELEMENT_NODE && n->name &&
		    !g_ascii_strcasecmp((const char *)n->name, "style")) {
			xmlChar *text = xmlNodeGetContent(n);
			xmlChar *media = xmlGetProp(n, (const xmlChar *)"media");

			if (text) {
				if (css == NULL)
					css = tz_css_new();
				tz_css_add_sheet(css, (const char *)text, strlen((const char *)text),
						 (const char *)media);
			}
			xmlFree(text);
			xmlFree(media);
		} else if (n->type == XML_ELEMENT_NODE && n->children) {
			n = n->children;
			continue;
		}
		while (n && n->next == NULL) {
			n = n->parent;
			if (n == NULL || n == root->parent)
				return css;
		}
		if (n)
			n = n->next;
	}
	return css;
}

/* ------------------------------------------------------------- the parse */

static xmlDoc *parse(const char *html, size_t len, struct tz_html_guard *g, unsigned *flags,
		     char *err, size_t errlen)
{
	htmlParserCtxtPtr ctxt;
	xmlDoc *doc;
	char *fixed = NULL;
	size_t n = tz_html_attr_guard(html, len);

	if (n < len)
		*flags |= TZ_HTML_TRUNCATED;
	/* libxml2 switches to Latin-1 on bad UTF-8 and stops at NUL: give it
	 * valid UTF-8 (bad bytes become U+FFFD, as a browser shows them). */
	if (!g_utf8_validate_len(html, n, NULL)) {
		fixed = g_utf8_make_valid(html, (gssize)n);
		html = fixed;
		n = strlen(fixed);
	}
	if (n > INT_MAX) {
		g_free(fixed);
		tz_err(err, errlen, "HTML part too large (%zu bytes)", n);
		return NULL;
	}
	ctxt = htmlNewParserCtxt();
	if (ctxt == NULL) {
		g_free(fixed);
		tz_err(err, errlen, "out of memory creating the HTML parser");
		return NULL;
	}
	tz_html_guard_install(ctxt, g);
	doc = htmlCtxtReadMemory(ctxt, n ? html : " ", n ? (int)n : 1, NULL, "UTF-8",
				 HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
				 HTML_PARSE_NONET);
	tz_html_guard_remove();
	/* xmlHaltParser (nesting over libxml2's limit) stops the whole parse:
	 * whatever followed the deep part is lost. */
	if (ctxt->disableSAX || ctxt->errNo == XML_ERR_INTERNAL_ERROR)
		*flags |= TZ_HTML_TRUNCATED;
	htmlFreeParserCtxt(ctxt);
	g_free(fixed);
	if (g->stop != TZ_GUARD_NONE) {
		/* a limit, not a document libxml2 cannot read: the caller fails */
		xmlFreeDoc(doc);
		if (g->stop == TZ_GUARD_NODES)
			tz_err(err, errlen, "HTML part has more than %zu elements, attributes and comments",
			       g->max_nodes);
		else
			tz_err(err, errlen, "time budget exceeded while parsing HTML");
		return NULL;
	}
	if (doc == NULL)
		tz_err(err, errlen, "libxml2 could not parse the HTML");
	return doc;
}

static int deadline_passed(gint64 deadline, char *err, size_t errlen)
{
	if (deadline && g_get_monotonic_time() > deadline)
		return tz_err(err, errlen, "time budget exceeded while rendering HTML");
	return 0;
}

static const char *stop_reason(enum tz_hw_stop why)
{
	switch (why) {
	case TZ_HW_STOP_TIME: return "time budget exceeded while rendering HTML";
	case TZ_HW_STOP_OUTPUT: return "HTML text over the output limit";
	case TZ_HW_STOP_HIDDEN: return "hidden HTML content over the output limit";
	default: return "HTML rendering stopped";
	}
}

int tz_html_render(const char *html, size_t len, const struct tz_html_limits *lim, GString *out,
		   GString *hidden, unsigned *flags, char *err, size_t errlen)
{
	static const struct tz_html_limits none;
	struct tz_html_guard g;
	struct render r;
	xmlDoc *doc;
	unsigned fl = 0;
	int rc = 0;

	tz_html_init();
	if (lim == NULL)
		lim = &none;
	memset(&g, 0, sizeof g);
	g.max_nodes = lim->max_nodes;
	g.deadline = lim->deadline;
	if (flags)
		*flags = 0;
	if (html == NULL || len == 0)
		return 0;
	if (deadline_passed(lim->deadline, err, errlen) != 0)
		return -2;
	doc = parse(html, len, &g, &fl, err, errlen);
	if (doc == NULL) {
		if (flags)
			*flags = fl;
		return g.stop != TZ_GUARD_NONE ? -2 : -1;
	}
	memset(&r, 0, sizeof r);
	r.w.buf = g_string_sized_new(MIN(len, (size_t)16 << 20) / 2 + 64);
	r.w.link_text = g_string_new(NULL);
	r.w.link_alt = g_string_new(NULL);
	r.w.deadline = lim->deadline;
	r.w.max_out = lim->max_output;
	r.frames = g_array_sized_new(FALSE, FALSE, sizeof(struct frame), 64);
	r.list = -1;
	r.max_depth = lim->max_depth ? lim->max_depth : HTML_DEPTH_DEFAULT;
	r.hid = hidden ? g_string_new(NULL) : NULL;
	r.max_hid = lim->max_output;
	r.css = collect_css(doc->children);
	if (deadline_passed(lim->deadline, err, errlen) == 0)
		walk(&r, doc->children);
	else
		r.w.stop = TZ_HW_STOP_TIME;
	if (r.w.stop == TZ_HW_STOP_NONE && r.w.max_out && r.w.buf->len + 1 > r.w.max_out)
		r.w.stop = TZ_HW_STOP_OUTPUT;
	if (r.w.stop != TZ_HW_STOP_NONE) {
		rc = -2;
		tz_err(err, errlen, "%s", stop_reason(r.w.stop));
		goto out;
	}
	tz_hw_trim(&r.w);
	while (r.w.buf->len && r.w.buf->str[r.w.buf->len - 1] == '\n') {
		g_string_truncate(r.w.buf, r.w.buf->len - 1);
		tz_hw_trim(&r.w);
	}
	if (r.w.buf->len) {
		g_string_append_len(out, r.w.buf->str, (gssize)r.w.buf->len);
		g_string_append_c(out, '\n');
	}
	if (hidden && r.hid->len) {
		hid_sep(&r);
		g_string_append_len(hidden, r.hid->str, (gssize)r.hid->len);
	}
out:
	if (flags)
		*flags = fl | r.flags;
	g_array_free(r.frames, TRUE);
	g_string_free(r.w.link_text, TRUE);
	g_string_free(r.w.link_alt, TRUE);
	g_string_free(r.w.buf, TRUE);
	if (r.hid)
		g_string_free(r.hid, TRUE);
	tz_css_free(r.css);
	xmlFreeDoc(doc);
	return rc;
}

int tz_html_to_text_until(const char *html, size_t len, unsigned max_depth, gint64 deadline,
			  size_t max_nodes, GString *out, unsigned *flags, char *err, size_t errlen)
{
	struct tz_html_limits lim = {
		.max_depth = max_depth, .deadline = deadline, .max_nodes = max_nodes,
	};

	return tz_html_render(html, len, &lim, out, NULL, flags, err, errlen);
}

int tz_html_to_text(const char *html, size_t len, unsigned max_depth,
		    GString *out, unsigned *flags, char *err, size_t errlen)
{
	return tz_html_to_text_until(html, len, max_depth, 0, 0, out, flags, err, errlen) == 0 ? 0 : -1;
}
