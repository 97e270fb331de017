/* tz_htmlwrite.c — the text writer of the HTML renderer (tz_html.c walks
 * the tree and calls it): whitespace collapsing, the CJK line-join rule,
 * owed line breaks that trim trailing blanks for free, quote prefixes shown
 * at most 10 levels deep, and the time/output checks inside long text. */
#include "textize.h"

#include <string.h>

#include "tz_htmlwrite.h"

/* Shown nesting of quotes: deeper levels print as the deepest shown one,
 * so a line's prefix never exceeds 20 bytes of "> " and the output stays a
 * small multiple of the input (hundreds of nested <blockquote> around a
 * <pre> of a million short lines would otherwise multiply every line by
 * the nesting). */
#define QUOTE_SHOW_MAX 10

/* Inside one text node, the clock and the output size are looked at every
 * this many input bytes (a 2 MB <pre> is one text node). */
#define TEXT_CHECK_EVERY 65536



/* Look at the clock and the output size; set w->stop when over. */
int tz_hw_over(struct tz_hw *w)
{
	if (w->stop == TZ_HW_STOP_NONE) {
		if (w->max_out && w->buf->len > w->max_out)
			w->stop = TZ_HW_STOP_OUTPUT;
		else if (w->deadline && g_get_monotonic_time() > w->deadline)
			w->stop = TZ_HW_STOP_TIME;
	}
	return w->stop;
}

static int is_cjk(gunichar c)
{
	return (c >= 0x2e80 && c <= 0x9fff) ||	/* radicals, kana, CJK punct., ideographs */
	       (c >= 0xf900 && c <= 0xfaff) ||	/* compatibility ideographs */
	       (c >= 0xfe30 && c <= 0xfe4f) ||	/* CJK compatibility forms */
	       (c >= 0xff00 && c <= 0xffef) ||	/* full- and half-width forms */
	       (c >= 0x20000 && c <= 0x3ffff);	/* ideograph extensions */
}

/* Characters never written: C0/C1 controls (LF/TAB are handled by the
 * callers), DEL, BOM and bidi embeddings/overrides/isolates, which can make
 * a line display in another order than it reads. */
int tz_hw_dropped(gunichar c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0xfeff ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

void tz_hw_trim(struct tz_hw *w)
{
	gsize n = w->buf->len;

	while (n && (w->buf->str[n - 1] == ' ' || w->buf->str[n - 1] == '\t'))
		n--;
	g_string_truncate(w->buf, n);
}

/* How many of the last two characters are line breaks (0..2). */
static unsigned trailing_newlines(const GString *s)
{
	if (s->len == 0 || s->str[s->len - 1] != '\n')
		return 0;
	return s->len >= 2 && s->str[s->len - 2] == '\n' ? 2 : 1;
}

static void append_spaces(GString *s, unsigned n)
{
	while (n--)
		g_string_append_c(s, ' ');
}

static void append_quote(struct tz_hw *w, unsigned depth)
{
	static const char quotes[] = "> > > > > > > > > > ";	/* QUOTE_SHOW_MAX levels */

	G_STATIC_ASSERT(sizeof quotes - 1 == 2 * QUOTE_SHOW_MAX);
	if (depth)
		g_string_append_len(w->buf, quotes, 2 * (gssize)MIN(depth, QUOTE_SHOW_MAX));
}

/* Settle what is owed before a visible character `next` is written. */
void tz_hw_begin(struct tz_hw *w, gunichar next)
{
	int sep = w->fresh && w->cell_sep;

	if (w->buf->len == 0 || w->want_nl) {
		unsigned q = MIN(w->quote, w->last_quote), n;
		unsigned before = trailing_newlines(w->buf), after;

		tz_hw_trim(w);
		after = trailing_newlines(w->buf);
		/* A line of only &nbsp; is blank once trimmed: it still counts
		 * as the blank line it shows as, but never makes a second one. */
		if (before == 0 && after > 0)
			n = MIN(w->want_nl, 2 - after);
		else
			n = w->want_nl > before ? w->want_nl - before : 0;
		while (n-- && w->buf->len) {
			if (w->buf->str[w->buf->len - 1] == '\n') {
				append_quote(w, q);	/* blank line keeps the shared quote level */
				tz_hw_trim(w);
			}
			g_string_append_c(w->buf, '\n');
		}
		append_quote(w, w->quote);
		if (w->marker[0] == '\0')
			append_spaces(w->buf, w->indent);
	} else if (sep) {
		g_string_append_len(w->buf, " | ", 3);
	} else if (w->space && !(w->space_nl && is_cjk(w->last) && is_cjk(next))) {
		g_string_append_c(w->buf, ' ');
		if (w->in_link && w->link_text->len && w->link_text->len < LINK_TEXT_CAP)
			g_string_append_c(w->link_text, ' ');
	}
	if (w->marker[0]) {
		append_spaces(w->buf, w->marker_indent);
		g_string_append(w->buf, w->marker);
		w->marker[0] = '\0';
	}
	w->want_nl = 0;
	w->space = w->space_nl = 0;
	w->fresh = w->cell_sep = 0;
	w->last_quote = w->quote;
	if (w->in_link && !w->link_out) {
		w->link_out = 1;
		w->link_pos = w->buf->len;
	}
}

/* A block boundary: at least n line breaks (1 = new line, 2 = blank line)
 * before the next text. Ignored at the very start and in an item or cell
 * that has no text yet, so "<li><p>" or "<td><p>" does not open a gap. */
void tz_hw_break(struct tz_hw *w, unsigned n)
{
	if (w->buf->len == 0 || w->fresh)
		return;
	if (n > w->want_nl)
		w->want_nl = n;
	w->space = w->space_nl = 0;
}

/* <br> or a line break inside <pre>: one more line break, capped at a
 * single blank line. */
void tz_hw_hard_break(struct tz_hw *w)
{
	if (w->buf->len == 0 || w->fresh)
		return;
	if (w->want_nl < 2)
		w->want_nl++;
	w->space = w->space_nl = 0;
}

static void link_capture(struct tz_hw *w, const char *s, size_t n)
{
	if (w->in_link && w->link_text->len < LINK_TEXT_CAP)
		g_string_append_len(w->link_text, s,
				    (gssize)MIN(n, LINK_TEXT_CAP - w->link_text->len));
}

/* Word's "downlevel-revealed" conditionals (<![if !supportLists]>,
 * <![endif]>) reach us as text; return their length at p, else 0. */
static size_t word_conditional(const char *p, const char *end)
{
	size_t avail = (size_t)(end - p);
	const char *close;

	if (avail < 8 || memcmp(p, "<![", 3) != 0 ||
	    (g_ascii_strncasecmp(p + 3, "if", 2) != 0 &&
	     g_ascii_strncasecmp(p + 3, "endif", 5) != 0))
		return 0;
	close = memchr(p, ']', MIN(avail, 200));
	if (close == NULL || close + 1 >= end || close[1] != '>')
		return 0;
	return (size_t)(close + 2 - p);
}

/* Append visible text. Outside <pre> whitespace collapses; inside, spaces
 * and TABs are kept and line breaks become hard breaks. Runs of ordinary
 * characters are copied in one append. */
void tz_hw_text(struct tz_hw *w, const char *s, size_t len, int pre)
{
	const char *p = s, *end = s + len, *checked = s;

	while (p < end) {
		unsigned char c = (unsigned char)*p;
		const char *run;
		gunichar cp, lastcp;

		if ((size_t)(p - checked) >= TEXT_CHECK_EVERY) {
			checked = p;
			if (tz_hw_over(w))
				return;
		}

		if (c == '\n' || c == '\r') {
			if (pre) {
				if (!(c == '\r' && p + 1 < end && p[1] == '\n'))
					tz_hw_hard_break(w);
			} else {
				w->space = w->space_nl = 1;
			}
			p++;
			continue;
		}
		if (!pre && (c == ' ' || c == '\t' || c == '\f')) {
			w->space = 1;
			p++;
			continue;
		}
		if (pre && (c == ' ' || c == '\t')) {
			/* spaces that end a <pre> line would only be trimmed, and
			 * writing them would make a blank line look like text */
			const char *q = p;

			while (q < end && (*q == ' ' || *q == '\t'))
				q++;
			if (q < end && (*q == '\n' || *q == '\r')) {
				p = q;
				continue;
			}
		}
		if (c == '<') {
			size_t skip = word_conditional(p, end);

			if (skip) {
				p += skip;
				continue;
			}
		}
		cp = c < 0x80 ? c : g_utf8_get_char(p);
		if (cp == 0xa0) {	/* &nbsp;: a space that does not collapse */
			tz_hw_begin(w, ' ');
			g_string_append_c(w->buf, ' ');
			link_capture(w, " ", 1);
			w->last = ' ';
			p = g_utf8_next_char(p);
			continue;
		}
		if (tz_hw_dropped(cp) && !(pre && cp == '\t')) {
			p = g_utf8_next_char(p);
			continue;
		}
		tz_hw_begin(w, cp);
		run = p;
		lastcp = cp;
		while (p < end) {
			c = (unsigned char)*p;
			if (c < 0x80) {
				if (c <= 0x20 || c == 0x7f || c == '<') {
					if (!(pre && (c == ' ' || c == '\t')))
						break;
				}
				lastcp = c;
				p++;
				continue;
			}
			cp = g_utf8_get_char(p);
			if (cp == 0xa0 || tz_hw_dropped(cp))
				break;
			lastcp = cp;
			p = g_utf8_next_char(p);
		}
		if (p == run) {		/* a lone '<' that is not a Word conditional */
			lastcp = '<';
			p++;
		}
		g_string_append_len(w->buf, run, p - run);
		link_capture(w, run, (size_t)(p - run));
		w->last = lastcp;
	}
}

/* Append a generated piece (image marker, URL, warning) as one word. */
void tz_hw_atom(struct tz_hw *w, const char *s, int leading_space)
{
	if (leading_space)
		w->space = 1;
	tz_hw_begin(w, g_utf8_get_char(s));
	g_string_append(w->buf, s);
	w->last = g_utf8_get_char(g_utf8_prev_char(s + strlen(s)));
}
