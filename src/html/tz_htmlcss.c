/* tz_htmlcss.c — a deliberately small CSS reader for one question: is this
 * element invisible? It reads inline style attributes and <style> sheets,
 * keeps only declarations of the properties that can hide content, and
 * cascades them per element (importance, specificity, order, inline style
 * last) the way a browser would for those properties.
 *
 * Selectors understood: type, *, #id, .class, [attr], [attr=value] in
 * compounds, joined by descendant (space) or child (>) combinators, in
 * comma lists. Anything else (pseudo-classes, +, ~, other attribute
 * operators, escapes) makes that selector unevaluable and it is ignored:
 * its elements stay shown. That is the deliberate direction: shown text is
 * still judged by the engine's output scanner, while hiding text we cannot
 * prove hidden would lose ordinary mail (responsive templates hide whole
 * versions of the message behind media queries and pseudo-classes).
 * @media applies when it could match a desktop screen (all/screen, with at
 * most min-width conditions up to 1024px); print, max-width and the rest
 * do not apply. Class and id match ASCII case-insensitively, as browsers do
 * in the quirks mode most HTML mail is rendered in. */
#include "textize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tz_htmlcss.h"

#define CSS_MAX_BYTES (256u << 10)
#define CSS_MAX_SELECTORS 512
#define CSS_NEST_MAX 8		/* @media / @supports block nesting followed */
#define DECL_MAX 512		/* bytes of one declaration looked at */
#define MAX_PARTS 4		/* ids, classes, attributes in one compound */
#define MAX_COMPOUNDS 5
#define MEDIA_MAX 256		/* a longer media query is not evaluated (not applied) */
#define CLASS_SCAN 4096		/* bytes of a class attribute looked at */
#define CLASS_WORDS 32		/* classes of one element looked up */
/* Selector matching work (compound tests) for one document; past it the
 * sheets are no longer applied and elements are shown. A real document
 * needs a few per element; 500 selectors with descendant combinators over
 * 200,000 elements 256 deep would need billions. */
#define MATCH_BUDGET 20000000u

enum prop {
	P_DISPLAY, P_VISIBILITY, P_MSOHIDE, P_FONTSIZE, P_OPACITY, P_OVERFLOW,
	P_HEIGHT, P_MAXHEIGHT, P_WIDTH, P_MAXWIDTH, P_POSITION, P_LEFT, P_TOP,
	P_TEXTINDENT, P_CLIP, NPROP
};

static const char *const prop_names[NPROP] = {
	"display", "visibility", "mso-hide", "font-size", "opacity", "overflow",
	"height", "max-height", "width", "max-width", "position", "left", "top",
	"text-indent", "clip",
};

/* A declaration's value, as far as hiding goes. */
enum val { V_UNSET = 0, V_HIDE, V_OTHER, V_REL /* font-size relative to the parent's */ };

struct decl {
	unsigned char prop, val, imp;
};

enum part_type { PT_ID, PT_CLASS, PT_ATTR, PT_ATTR_EQ };

struct part {
	unsigned char type;
	const char *name, *value;
};

struct compound {
	const char *tag;	/* NULL: any element */
	unsigned char nparts;
	unsigned char child;	/* combinator to the compound on its left is '>' */
	struct part part[MAX_PARTS];
};

struct sel {
	unsigned spec, rule;
	unsigned char n;
	struct compound c[MAX_COMPOUNDS];	/* c[n - 1] is the subject */
};

struct rule {
	unsigned order;
	unsigned char n;
	struct decl d[NPROP];
};

struct tz_css {
	GStringChunk *str;
	GArray *rules;		/* struct rule */
	GArray *sels;		/* struct sel */
	GHashTable *index;	/* "#id", ".class", "tag" -> GArray of guint (sels) */
	GArray *any;		/* guint: selectors with no id, class or type */
	size_t bytes;
	unsigned work;		/* compound tests left (MATCH_BUDGET) */
};

/* ------------------------------------------------------------ values */

/* Leading number of a value and what follows it ("-9999px" -> -9999, "px"). */
static int num_unit(const char *v, double *num, const char **unit)
{
	char *end;

	*num = g_ascii_strtod(v, &end);
	if (end == v || !isfinite(*num))
		return 0;
	*unit = end;
	return 1;
}

static int is_unit(const char *u)
{
	return *u == '\0' || strspn(u, "abcdefghijklmnopqrstuvwxyz%") == strlen(u);
}

/* 0 in any unit, or at most 1px: nothing readable fits. */
static int tiny(const char *v)
{
	double x;
	const char *u;

	if (!num_unit(v, &x, &u) || !is_unit(u))
		return 0;
	return x <= 0 || (x <= 1 && (*u == '\0' || !strcmp(u, "px")));
}

/* Far to the left of or above any screen. */
static int far_negative(const char *v)
{
	double x;
	const char *u;

	if (!num_unit(v, &x, &u) || !is_unit(u) || x >= 0)
		return 0;
	if (*u == '\0' || !strcmp(u, "px") || !strcmp(u, "pt"))
		return x <= -500;
	if (!strcmp(u, "%") || !strcmp(u, "vw") || !strcmp(u, "vh"))
		return x <= -100;
	return x <= -30;	/* em, rem, ex, ch, cm, in ... */
}

/* rect() whose every number is at most 1: nothing left to see. */
static int clip_nothing(const char *v)
{
	const char *p;

	if (strncmp(v, "rect(", 5) != 0)
		return 0;
	for (p = v + 5; *p && *p != ')';) {
		double x;
		char *end;

		if (*p == ',' || g_ascii_isalpha(*p)) {	/* separators, units */
			p++;
			continue;
		}
		x = g_ascii_strtod(p, &end);
		if (end == p || x > 1)
			return 0;
		p = end;
	}
	return *p == ')';
}

static enum val classify(enum prop p, const char *v)
{
	double x;
	const char *u;

	switch (p) {
	case P_DISPLAY:
		return !strcmp(v, "none") ? V_HIDE : V_OTHER;
	case P_VISIBILITY:
		return !strcmp(v, "hidden") || !strcmp(v, "collapse") ? V_HIDE : V_OTHER;
	case P_MSOHIDE:
		return !strcmp(v, "all") ? V_HIDE : V_OTHER;
	case P_FONTSIZE:
		if (num_unit(v, &x, &u) && is_unit(u)) {
			if (x <= 0)
				return V_HIDE;
			return !strcmp(u, "%") || !strcmp(u, "em") || !strcmp(u, "ex") ||
			       !strcmp(u, "ch") ? V_REL : V_OTHER;
		}
		return !strcmp(v, "inherit") || !strcmp(v, "unset") || !strcmp(v, "larger") ||
		       !strcmp(v, "smaller") ? V_REL : V_OTHER;
	case P_OPACITY:
		if (num_unit(v, &x, &u) && is_unit(u))
			return x <= (!strcmp(u, "%") ? 1 : 0.01) ? V_HIDE : V_OTHER;
		return V_OTHER;
	case P_OVERFLOW:
		return !strcmp(v, "hidden") || !strcmp(v, "clip") ? V_HIDE : V_OTHER;
	case P_HEIGHT: case P_MAXHEIGHT: case P_WIDTH: case P_MAXWIDTH:
		return tiny(v) ? V_HIDE : V_OTHER;
	case P_POSITION:
		return !strcmp(v, "absolute") || !strcmp(v, "fixed") ? V_HIDE : V_OTHER;
	case P_LEFT: case P_TOP: case P_TEXTINDENT:
		return far_negative(v) ? V_HIDE : V_OTHER;
	case P_CLIP:
		return clip_nothing(v) ? V_HIDE : V_OTHER;
	default:
		return V_UNSET;
	}
}

/* Parse one declaration ("name: value !important", comments already gone)
 * into d; 0 when it names none of our properties. Whitespace is dropped and
 * the text lower-cased: none of the values we look at need either. */
static int decl_parse(const char *s, size_t n, struct decl *d)
{
	char buf[DECL_MAX];
	size_t k = 0;
	char *colon, *bang;

	for (size_t i = 0; i < n && k < sizeof buf - 1; i++)
		if (!g_ascii_isspace(s[i]))
			buf[k++] = g_ascii_tolower(s[i]);
	buf[k] = '\0';
	if ((colon = strchr(buf, ':')) == NULL)
		return 0;
	*colon = '\0';
	d->imp = 0;
	if ((bang = strstr(colon + 1, "!important")) != NULL) {
		*bang = '\0';
		d->imp = 1;
	}
	for (unsigned p = 0; p < NPROP; p++)
		if (!strcmp(buf, prop_names[p])) {
			d->prop = (unsigned char)p;
			d->val = (unsigned char)classify((enum prop)p, colon + 1);
			return 1;
		}
	return 0;
}

/* Split a declaration block on ';' outside quotes and parentheses (a data:
 * URL in url() has its own ';') and call decl_parse on each piece; a later
 * declaration of the same property wins unless the earlier one is
 * !important and it is not. Returns the number of declarations in d. */
static unsigned decls_read(const char *s, size_t n, struct decl d[NPROP])
{
	unsigned count = 0;
	size_t start = 0;
	int depth = 0;
	char quote = 0;

	for (size_t i = 0; i <= n; i++) {
		char c = i < n ? s[i] : ';';
		struct decl x;
		unsigned j;

		if (quote) {
			if (c == quote)
				quote = 0;
			else if (c == '\\' && i + 1 < n)
				i++;
			continue;
		}
		if (c == '"' || c == '\'')
			quote = c;
		else if (c == '(')
			depth++;
		else if (c == ')' && depth > 0)
			depth--;
		if (c != ';' || (depth > 0 && i < n))
			continue;
		if (decl_parse(s + start, i - start, &x)) {
			for (j = 0; j < count && d[j].prop != x.prop; j++)
				;
			if (j == count)
				d[count++] = x;
			else if (x.imp || !d[j].imp)
				d[j] = x;
		}
		start = i + 1;
		depth = 0;
	}
	return count;
}

/* Comments removed (replaced by a space, as CSS does), in a new string. */
static char *strip_comments(const char *s, size_t n)
{
	GString *o = g_string_sized_new(n);
	const char *p = s, *end = s + n;

	while (p < end) {
		const char *c = NULL;

		for (const char *q = p; q + 1 < end; q++)
			if (q[0] == '/' && q[1] == '*') {
				c = q;
				break;
			}
		if (c == NULL) {
			g_string_append_len(o, p, end - p);
			break;
		}
		g_string_append_len(o, p, c - p);
		g_string_append_c(o, ' ');
		for (p = c + 2; p + 1 < end && !(p[0] == '*' && p[1] == '/'); p++)
			;
		p = p + 1 < end ? p + 2 : end;
	}
	return g_string_free(o, FALSE);
}

/* --------------------------------------------------------- selectors */

static int ident_char(unsigned char c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '_' || c >= 0x80;
}

/* An identifier at *p (lower-cased into the chunk), or NULL. */
static const char *ident(struct tz_css *css, const char **p, const char *end)
{
	const char *s = *p;
	char *id;

	while (*p < end && ident_char((unsigned char)**p))
		(*p)++;
	if (*p == s)
		return NULL;
	id = g_ascii_strdown(s, *p - s);
	s = g_string_chunk_insert_const(css->str, id);
	g_free(id);
	return s;
}

static void skip_ws(const char **p, const char *end)
{
	while (*p < end && g_ascii_isspace(**p))
		(*p)++;
}

/* "[name]" or "[name=value]" at *p (after '['); 0 when unsupported. */
static int attr_part(struct tz_css *css, const char **p, const char *end, struct part *pt)
{
	skip_ws(p, end);
	if ((pt->name = ident(css, p, end)) == NULL)
		return 0;
	skip_ws(p, end);
	pt->type = PT_ATTR;
	if (*p < end && **p == '=') {
		(*p)++;
		skip_ws(p, end);
		pt->type = PT_ATTR_EQ;
		if (*p < end && (**p == '"' || **p == '\'')) {
			const char *q = memchr(*p + 1, **p, (size_t)(end - *p - 1));
			char *v;

			if (q == NULL || memchr(*p, '\\', (size_t)(q - *p)))
				return 0;
			v = g_ascii_strdown(*p + 1, q - *p - 1);
			pt->value = g_string_chunk_insert_const(css->str, v);
			g_free(v);
			*p = q + 1;
		} else if ((pt->value = ident(css, p, end)) == NULL) {
			return 0;
		}
		skip_ws(p, end);
	}
	if (*p >= end || **p != ']')
		return 0;
	(*p)++;
	return 1;
}

static int compound_parse(struct tz_css *css, const char **p, const char *end, struct compound *c,
			  unsigned *spec)
{
	memset(c, 0, sizeof *c);
	if (*p < end && **p == '*') {
		(*p)++;
	} else if (*p < end && ident_char((unsigned char)**p)) {
		c->tag = ident(css, p, end);
		*spec += 1;
	} else if (*p >= end || (**p != '#' && **p != '.' && **p != '[')) {
		return 0;
	}
	while (*p < end && (**p == '#' || **p == '.' || **p == '[')) {
		struct part *pt = &c->part[c->nparts];
		char k = *(*p)++;

		if (c->nparts == MAX_PARTS)
			return 0;
		if (k == '[') {
			if (!attr_part(css, p, end, pt))
				return 0;
			*spec += 1 << 8;
		} else {
			pt->type = k == '#' ? PT_ID : PT_CLASS;
			if ((pt->name = ident(css, p, end)) == NULL)
				return 0;
			*spec += k == '#' ? 1 << 16 : 1 << 8;
		}
		c->nparts++;
	}
	/* ':' (pseudo-class), '\' (escape) or anything else: unsupported */
	return *p >= end || g_ascii_isspace(**p) || **p == '>';
}

/* One selector (no commas) into s; 0 when it cannot be evaluated. */
static int selector_parse(struct tz_css *css, const char *p, const char *end, struct sel *s)
{
	unsigned char child = 0;

	memset(s, 0, sizeof *s);
	skip_ws(&p, end);
	while (p < end) {
		if (s->n == MAX_COMPOUNDS)
			return 0;
		if (!compound_parse(css, &p, end, &s->c[s->n], &s->spec))
			return 0;
		s->c[s->n++].child = child;
		skip_ws(&p, end);
		child = 0;
		if (p < end && *p == '>') {
			child = 1;
			p++;
			skip_ws(&p, end);
			if (p >= end)
				return 0;
		}
	}
	return s->n > 0;
}

/* Keep s under the key of its subject's most selective part. */
static void sel_index(struct tz_css *css, const struct sel *s, guint i)
{
	const struct compound *c = &s->c[s->n - 1];
	char *key = NULL;
	GArray *a;

	for (unsigned k = 0; k < c->nparts && key == NULL; k++)
		if (c->part[k].type == PT_ID)
			key = g_strconcat("#", c->part[k].name, NULL);
	for (unsigned k = 0; k < c->nparts && key == NULL; k++)
		if (c->part[k].type == PT_CLASS)
			key = g_strconcat(".", c->part[k].name, NULL);
	if (key == NULL && c->tag)
		key = g_strdup(c->tag);
	if (key == NULL) {
		g_array_append_val(css->any, i);
		return;
	}
	a = g_hash_table_lookup(css->index, key);
	if (a == NULL) {
		a = g_array_new(FALSE, FALSE, sizeof(guint));
		g_hash_table_insert(css->index, key, a);
	} else {
		g_free(key);
	}
	g_array_append_val(a, i);
}

/* A rule worth keeping can hide, or can undo a hiding. */
static int rule_matters(const struct rule *r)
{
	for (unsigned i = 0; i < r->n; i++)
		if (r->d[i].val == V_HIDE || r->d[i].imp || r->d[i].prop == P_DISPLAY ||
		    r->d[i].prop == P_VISIBILITY || r->d[i].prop == P_FONTSIZE ||
		    r->d[i].prop == P_OPACITY || r->d[i].prop == P_MSOHIDE)
			return 1;
	return 0;
}

static void rule_add(struct tz_css *css, const char *sel, size_t sn, const char *body, size_t bn)
{
	struct rule r;
	const char *p = sel, *end = sel + sn;
	guint ri;

	memset(&r, 0, sizeof r);
	r.n = (unsigned char)decls_read(body, bn, r.d);
	if (r.n == 0 || !rule_matters(&r))
		return;
	r.order = css->rules->len;
	ri = css->rules->len;
	g_array_append_val(css->rules, r);
	while (p < end && css->sels->len < CSS_MAX_SELECTORS) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end;
		struct sel s;

		if (selector_parse(css, p, e, &s)) {
			guint si = css->sels->len;

			s.rule = ri;
			g_array_append_val(css->sels, s);
			sel_index(css, &s, si);
		}
		p = comma ? comma + 1 : end;
	}
}

/* ------------------------------------------------------------- media */

/* One media query could match a desktop screen. */
static int query_ok(const char *q, size_t n)
{
	char *s, *p, *o;
	char **tok;
	int ok = 1;
	unsigned i = 0;

	if (n > MEDIA_MAX)
		return 0;
	s = g_ascii_strdown(q, (gssize)n);
	for (p = o = s; *p; p++)	/* "(min-width: 600px)" -> "(min-width:600px)" */
		if (!(g_ascii_isspace(*p) && o > s && (o[-1] == ':' || o[-1] == '(')))
			*o++ = g_ascii_isspace(*p) ? ' ' : *p;
	*o = '\0';
	tok = g_strsplit_set(g_strstrip(s), " \t\r\n", -1);
	if (tok[i] && !strcmp(tok[i], "only"))
		i++;
	if (tok[i] && (!strcmp(tok[i], "all") || !strcmp(tok[i], "screen")))
		i++;
	else if (tok[i] && tok[i][0] != '(' && tok[i][0] != '\0')
		ok = 0;
	for (; ok && tok[i]; i++) {
		double x;
		const char *u;

		if (tok[i][0] == '\0' || !strcmp(tok[i], "and"))
			continue;
		if (g_str_has_prefix(tok[i], "(min-width:") || g_str_has_prefix(tok[i], "(min-device-width:"))
			ok = num_unit(strchr(tok[i], ':') + 1, &x, &u) && !strcmp(u, "px)") && x <= 1024;
		else
			ok = 0;
	}
	g_strfreev(tok);
	g_free(s);
	return ok;
}

static int media_ok(const char *m, size_t n)
{
	const char *p = m, *end = m + n;

	while (p < end && g_ascii_isspace(*p))
		p++;
	if (p == end)
		return 1;
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end;

		if (query_ok(p, (size_t)(e - p)))
			return 1;
		p = comma ? comma + 1 : end;
	}
	return 0;
}

/* ------------------------------------------------------------- sheets */

/* End of the block whose '{' is at p: the matching '}' (or end). */
static const char *block_end(const char *p, const char *end)
{
	int depth = 0;
	char quote = 0;

	for (; p < end; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			else if (*p == '\\')
				p++;
		} else if (*p == '"' || *p == '\'') {
			quote = *p;
		} else if (*p == '{') {
			depth++;
		} else if (*p == '}' && --depth == 0) {
			return p;
		}
	}
	return end;
}

static void sheet_read(struct tz_css *css, const char *p, const char *end, int apply, unsigned nest)
{
	while (p < end) {
		const char *open, *close, *semi;

		while (p < end && (g_ascii_isspace(*p) || *p == ';' || *p == '}'))
			p++;
		if (end - p >= 4 && !memcmp(p, "<!--", 4)) {	/* CDO/CDC: ignored */
			p += 4;
			continue;
		}
		if (end - p >= 3 && !memcmp(p, "-->", 3)) {
			p += 3;
			continue;
		}
		if (p >= end)
			break;
		open = memchr(p, '{', (size_t)(end - p));
		if (*p == '@') {
			semi = memchr(p, ';', (size_t)((open ? open : end) - p));
			if (open == NULL || semi) {	/* @import ...; @charset ...; */
				p = semi ? semi + 1 : end;
				continue;
			}
			close = block_end(open, end);
			if (nest < CSS_NEST_MAX && end - p > 6 && !g_ascii_strncasecmp(p, "@media", 6) &&
			    !ident_char((unsigned char)p[6]))
				sheet_read(css, open + 1, close, apply && media_ok(p + 6, (size_t)(open - p - 6)),
					   nest + 1);
			/* @font-face, @keyframes, @supports, @page ...: skipped */
			p = close < end ? close + 1 : end;
			continue;
		}
		if (open == NULL)
			break;
		close = block_end(open, end);
		if (apply)
			rule_add(css, p, (size_t)(open - p), open + 1, (size_t)(close - open - 1));
		p = close < end ? close + 1 : end;
	}
}

struct tz_css *tz_css_new(void)
{
	struct tz_css *css = g_new0(struct tz_css, 1);

	css->str = g_string_chunk_new(1024);
	css->rules = g_array_new(FALSE, FALSE, sizeof(struct rule));
	css->sels = g_array_new(FALSE, FALSE, sizeof(struct sel));
	css->index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   (GDestroyNotify)g_array_unref);
	css->any = g_array_new(FALSE, FALSE, sizeof(guint));
	css->work = MATCH_BUDGET;
	return css;
}

void tz_css_free(struct tz_css *css)
{
	if (css == NULL)
		return;
	g_string_chunk_free(css->str);
	g_array_free(css->rules, TRUE);
	g_array_free(css->sels, TRUE);
	g_hash_table_destroy(css->index);
	g_array_free(css->any, TRUE);
	g_free(css);
}

void tz_css_add_sheet(struct tz_css *css, const char *text, size_t len, const char *media)
{
	char *s;

	if (css->bytes >= CSS_MAX_BYTES || (media && !media_ok(media, strlen(media))))
		return;
	len = MIN(len, CSS_MAX_BYTES - css->bytes);
	css->bytes += len;
	s = strip_comments(text, len);
	sheet_read(css, s, s + strlen(s), 1, 0);
	g_free(s);
}

gboolean tz_css_empty(const struct tz_css *css)
{
	return css == NULL || css->sels->len == 0;
}

/* ----------------------------------------------------------- matching */

static const char *attr_of(const xmlNode *n, const char *name)
{
	for (const xmlAttr *a = n->properties; a; a = a->next)
		if (a->name && !g_ascii_strcasecmp((const char *)a->name, name))
			return a->children && a->children->type == XML_TEXT_NODE && a->children->content ?
			       (const char *)a->children->content : "";
	return NULL;
}

/* Does the whitespace-separated list `list` hold `word` (ASCII case-insensitive)? */
static int has_word(const char *list, const char *word)
{
	size_t wn = strlen(word);
	const char *end = list + strnlen(list, CLASS_SCAN);

	for (const char *p = list; p < end && *p;) {
		size_t n;

		while (*p && g_ascii_isspace(*p))
			p++;
		for (n = 0; p[n] && !g_ascii_isspace(p[n]); n++)
			;
		if (n == wn && !g_ascii_strncasecmp(p, word, n))
			return 1;
		p += n;
	}
	return 0;
}

static int compound_match(struct tz_css *css, const struct compound *c, const xmlNode *n)
{
	if (css->work == 0)
		return 0;
	css->work--;
	if (c->tag && (n->name == NULL || g_ascii_strcasecmp((const char *)n->name, c->tag)))
		return 0;
	for (unsigned k = 0; k < c->nparts; k++) {
		const struct part *pt = &c->part[k];
		const char *v = attr_of(n, pt->type == PT_ID ? "id" :
					   pt->type == PT_CLASS ? "class" : pt->name);

		if (v == NULL)
			return 0;
		if (pt->type == PT_CLASS ? !has_word(v, pt->name) :
		    pt->type == PT_ID ? g_ascii_strcasecmp(v, pt->name) != 0 :
		    pt->type == PT_ATTR_EQ ? g_ascii_strcasecmp(v, pt->value) != 0 : 0)
			return 0;
	}
	return 1;
}

static const xmlNode *parent_el(const xmlNode *n)
{
	for (n = n->parent; n && n->type != XML_ELEMENT_NODE; n = n->parent)
		if (n->type == XML_DOCUMENT_NODE || n->type == XML_HTML_DOCUMENT_NODE)
			return NULL;
	return n;
}

/* Right to left; a descendant combinator takes the nearest matching
 * ancestor (exact for descendant-only chains; with '>' mixed in it may
 * miss a match, which leaves the element shown). */
static int sel_match(struct tz_css *css, const struct sel *s, const xmlNode *n)
{
	if (!compound_match(css, &s->c[s->n - 1], n))
		return 0;
	for (int i = s->n - 1; i > 0; i--) {
		const struct compound *left = &s->c[i - 1];

		n = parent_el(n);
		if (s->c[i].child) {
			if (n == NULL || !compound_match(css, left, n))
				return 0;
		} else {
			while (n && !compound_match(css, left, n))
				n = parent_el(n);
			if (n == NULL)
				return 0;
		}
	}
	return 1;
}

struct pick {
	unsigned char val, imp;
	unsigned spec, order;
	int set;
};

static void pick_decl(struct pick *p, const struct decl *d, unsigned spec, unsigned order)
{
	struct pick *b = &p[d->prop];

	if (b->set && (b->imp > d->imp ||
		       (b->imp == d->imp && (b->spec > spec || (b->spec == spec && b->order > order)))))
		return;
	b->val = d->val;
	b->imp = d->imp;
	b->spec = spec;
	b->order = order;
	b->set = 1;
}

static void match_list(struct tz_css *css, const GArray *a, const xmlNode *n, struct pick *p)
{
	for (guint i = 0; a && i < a->len; i++) {
		const struct sel *s = &g_array_index(css->sels, struct sel, g_array_index(a, guint, i));
		const struct rule *r;

		if (!sel_match(css, s, n))
			continue;
		r = &g_array_index(css->rules, struct rule, s->rule);
		for (unsigned k = 0; k < r->n; k++)
			pick_decl(p, &r->d[k], s->spec, r->order);
	}
}

static void match_sheet(struct tz_css *css, const xmlNode *n, struct pick *p)
{
	const char *id = attr_of(n, "id"), *cls = attr_of(n, "class");
	char *key;

	match_list(css, css->any, n, p);
	if (n->name) {
		key = g_ascii_strdown((const char *)n->name, -1);
		match_list(css, g_hash_table_lookup(css->index, key), n, p);
		g_free(key);
	}
	if (id && *id) {
		key = g_strconcat("#", id, NULL);
		g_strstrip(key + 1);
		for (char *q = key; *q; q++)
			*q = g_ascii_tolower(*q);
		match_list(css, g_hash_table_lookup(css->index, key), n, p);
		g_free(key);
	}
	if (cls) {
		char *head = g_strndup(cls, CLASS_SCAN);
		char **words = g_strsplit_set(head, " \t\r\n\f", CLASS_WORDS + 1);

		g_free(head);
		for (unsigned w = 0; words[w] && w < CLASS_WORDS; w++) {
			unsigned dup = 0;

			if (words[w][0] == '\0')
				continue;
			for (unsigned v = 0; v < w; v++)	/* class="x x": once */
				dup |= !g_ascii_strcasecmp(words[v], words[w]);
			if (dup)
				continue;
			key = g_strconcat(".", words[w], NULL);
			for (char *q = key; *q; q++)
				*q = g_ascii_tolower(*q);
			match_list(css, g_hash_table_lookup(css->index, key), n, p);
			g_free(key);
		}
		g_strfreev(words);
	}
}

void tz_css_element(struct tz_css *css, const xmlNode *n, const char *style,
		    struct tz_css_effect *e)
{
	struct pick p[NPROP];

	memset(p, 0, sizeof p);
	if (!tz_css_empty(css) && css->work)
		match_sheet(css, n, p);
	if (style && *style) {
		char *s = strip_comments(style, strlen(style));
		struct decl d[NPROP];
		unsigned nd = decls_read(s, strlen(s), d);

		/* inline declarations outrank every selector */
		for (unsigned k = 0; k < nd; k++)
			pick_decl(p, &d[k], G_MAXUINT, 0);
		g_free(s);
	}
#define V(x) (p[x].set ? p[x].val : V_UNSET)
	e->hidden = V(P_DISPLAY) == V_HIDE || V(P_VISIBILITY) == V_HIDE || V(P_MSOHIDE) == V_HIDE ||
		    V(P_OPACITY) == V_HIDE || V(P_TEXTINDENT) == V_HIDE ||
		    (V(P_OVERFLOW) == V_HIDE && (V(P_HEIGHT) == V_HIDE || V(P_MAXHEIGHT) == V_HIDE ||
						 V(P_WIDTH) == V_HIDE || V(P_MAXWIDTH) == V_HIDE)) ||
		    (V(P_POSITION) == V_HIDE && (V(P_LEFT) == V_HIDE || V(P_TOP) == V_HIDE ||
						 V(P_CLIP) == V_HIDE));
	e->font_zero = V(P_FONTSIZE) == V_HIDE ? 1 : V(P_FONTSIZE) == V_OTHER ? 0 : -1;
#undef V
}
