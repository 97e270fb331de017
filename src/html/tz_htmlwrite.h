/* tz_htmlwrite.h — the text writer of the HTML renderer: owed line breaks
 * and spaces, quote prefixes, list markers, the link text being captured,
 * and the output limits checked inside long text (internal to tz_html.c). */
#ifndef TZ_HTMLWRITE_H
#define TZ_HTMLWRITE_H

#include <stddef.h>
#include <glib.h>

/* Bound on what a link's visible text is kept for (phishing analysis). */
#define LINK_TEXT_CAP 2048

/* Line breaks and collapsed spaces are owed, not written, until the next
 * visible character: that trims trailing whitespace and blank lines for free
 * and lets a block's end and the next block's start agree on one break. */
struct tz_hw {
	GString *buf;
	unsigned want_nl;	/* line breaks owed before the next text (0..2) */
	int space;		/* collapsed whitespace owed */
	int space_nl;		/* ... and it contained a source line break */
	int fresh;		/* list item / table cell opened, no text yet */
	int cell_sep;		/* fresh cell: " | " if its text continues a line */
	gunichar last;		/* last character written (CJK line-join rule) */
	unsigned quote;		/* blockquote depth */
	unsigned last_quote;	/* quote depth of the last line with text */
	unsigned indent;	/* list continuation indent */
	unsigned marker_indent;
	char marker[24];	/* list marker owed at the start of the next text */
	int in_link;
	int link_out;		/* something visible was written inside the link */
	gsize link_pos;		/* where the link's first visible text starts in buf */
	GString *link_text;
	GString *link_alt;	/* alt text of the link's images */
	gint64 deadline;	/* g_get_monotonic_time() limit, 0 = none */
	size_t max_out;		/* bytes of buf, 0 = none */
	int stop;		/* enum tz_hw_stop: why the walk stopped */
};

enum tz_hw_stop { TZ_HW_STOP_NONE = 0, TZ_HW_STOP_TIME, TZ_HW_STOP_OUTPUT, TZ_HW_STOP_HIDDEN };

/* Look at the clock and the output size; set w->stop when over. */
int tz_hw_over(struct tz_hw *w);
/* Characters never written (controls, BOM, bidi overrides). */
int tz_hw_dropped(gunichar c);
/* Remove spaces and TABs that end buf. */
void tz_hw_trim(struct tz_hw *w);
/* Settle what is owed before the visible character `next` is written. */
void tz_hw_begin(struct tz_hw *w, gunichar next);
/* A block boundary: at least n line breaks (1 or 2) before the next text. */
void tz_hw_break(struct tz_hw *w, unsigned n);
/* <br> or a line break inside <pre>: one more break, capped at one blank line. */
void tz_hw_hard_break(struct tz_hw *w);
/* Visible text (len bytes of UTF-8); pre keeps spaces and line breaks.
 * Reads the clock and the output size every 64 KB of s (w->stop). */
void tz_hw_text(struct tz_hw *w, const char *s, size_t len, int pre);
/* A generated piece (image marker, URL, warning) as one word. */
void tz_hw_atom(struct tz_hw *w, const char *s, int leading_space);

#endif
