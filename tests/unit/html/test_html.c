/* test_html.c — HTML → text rendering (tz_html) and link analysis
 * (tz_htmllink). Expected strings are written by hand from the rendering
 * conventions at the top of src/html/tz_html.c, not captured from the code. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "tz_html.h"
#include "tz_htmllink.h"

#define PHISH TZ_HTML_PHISHING_LINK
#define SCRIPT TZ_HTML_HAD_SCRIPT
#define TRUNC TZ_HTML_TRUNCATED
#define WARN " [警告: 表示と異なるリンク先]"
#define WARN_HOST(h) " [警告: 表示と異なるリンク先 (実際のホスト: " h ")]"
#define BLOCKED(s) "[リンク先は表示しません: " s "]"
#define LBLK TZ_HTML_LINK_BLOCKED

struct render_case {
	const char *name;
	const char *html;
	const char *want;	/* full output */
	unsigned flags;		/* exact flags expected */
};

static const struct render_case cases[] = {
	/* blocks and breaks. Text before any tag is wrapped in an implied <p>
	 * by libxml2, so cases that depend on block spacing start with <body>. */
	{"paragraphs", "<p>a</p><p>b</p>", "a\n\nb\n", 0},
	{"divs", "<div>a</div><div>b</div>", "a\nb\n", 0},
	{"br", "a<br>b", "a\nb\n", 0},
	{"br runs capped", "a<br><br><br><br>b", "a\n\nb\n", 0},
	{"br at block end", "<div>a<br></div><div>b</div>", "a\nb\n", 0},
	{"br between blocks", "<div>a</div><br><div>b</div>", "a\n\nb\n", 0},
	{"headings", "<h1>T</h1>text<h2>U</h2>", "T\n\ntext\n\nU\n", 0},
	{"nested blocks", "<div><div><p>x</p></div></div><div>y</div>", "x\n\ny\n", 0},
	{"hr", "<body>a<hr>b", "a\n----------------------------------------\nb\n", 0},
	{"leading/trailing blank", "<br><br><p></p><p>x</p><br><br>", "x\n", 0},
	/* lists */
	{"ul", "<ul><li>one<li>two</ul>", "・ one\n・ two\n", 0},
	{"ol", "<ol><li>a</li><li>b</li></ol>", "1. a\n2. b\n", 0},
	{"ol start", "<ol start=\"3\"><li>a<li>b</ol>", "3. a\n4. b\n", 0},
	{"nested", "<ul><li>x<ol><li>y<li>z</ol><li>w</ul>after",
	 "・ x\n   1. y\n   2. z\n・ w\n\nafter\n", 0},
	{"list item paragraphs", "<ul><li><p>a</p></li><li><p>b</p></li></ul>",
	 "・ a\n・ b\n", 0},
	{"item continuation", "<ul><li>a<br>b</li></ul>", "・ a\n   b\n", 0},
	{"list after text", "<p>intro</p><ul><li>i</li></ul><p>end</p>",
	 "intro\n\n・ i\n\nend\n", 0},
	{"dl", "<dl><dt>term<dd>def</dl>", "term\n   def\n", 0},
	/* tables */
	{"table", "<table><tr><th>名前</th><th>値</th></tr><tr><td>A</td><td>1</td></tr></table>",
	 "名前 | 値\nA | 1\n", 0},
	{"empty cell", "<table><tr><td>a</td><td></td><td>c</td></tr><tr><td>d</td></table>",
	 "a | c\nd\n", 0},
	{"outlook cells", "<table><tr><td><p class=MsoNormal>A</p></td>"
	 "<td><p class=MsoNormal>B</p></td></tr></table>", "A | B\n", 0},
	{"layout cell", "<table><tr><td><p>p1</p><p>p2</p></td></tr></table>", "p1\n\np2\n", 0},
	{"table between text", "<body>x<table><tr><td>a</td><td>b</td></tr></table>y",
	 "x\na | b\ny\n", 0},
	/* preformatted */
	{"pre", "<pre>\n a  b\n\tc</pre>", " a  b\n\tc\n", 0},
	{"pre blank cap", "<pre>a\n\n\n\nb</pre>", "a\n\nb\n", 0},
	{"pre trailing spaces", "<pre>a   \nb</pre>", "a\nb\n", 0},
	{"pre blank lines with spaces", "<pre>a\n   \n  \t\n   \nb</pre>", "a\n\nb\n", 0},
	{"pre indent before tag", "<pre>  <b>x</b></pre>", "  x\n", 0},
	{"nbsp paragraphs", "<p>a</p><p>&nbsp;</p><p>&nbsp;</p><p>b</p>", "a\n\nb\n", 0},
	{"nbsp first and last", "<p>&nbsp;</p><p>a</p><p>&nbsp; </p>", "a\n", 0},
	{"nbsp line", "<div>a</div><div>&nbsp;</div><div>b</div>", "a\n\nb\n", 0},
	{"pre crlf", "<pre>a\r\nb\rc</pre>", "a\nb\nc\n", 0},
	{"textarea", "<textarea>  a\n  b</textarea>", "  a\n  b\n", 0},
	/* dropped content */
	{"head script style", "<html><head><title>T</title><style>p{}</style></head>"
	 "<body>x<script>alert(1)</script>y</body></html>", "xy\n", SCRIPT},
	{"comment", "x<!-- c -->y", "xy\n", 0},
	{"noscript shown", "<noscript>ns</noscript>", "ns\n", 0},
	{"template", "a<template>t</template>b", "ab\n", 0},
	{"hidden styles", "<div style=\"DISPLAY : None !important\">h</div>"
	 "<p style=\"visibility:hidden\">v</p><p hidden>h</p>"
	 "<span style=\"mso-hide:all\">m</span><span style=\"font-size:0px\">f</span>"
	 "shown", "shown\n", 0},
	{"style comment trick", "<div style=\"display:/**/none\">h</div>x", "x\n", 0},
	{"later display wins", "<div style=\"display:none;display:block\">v</div>", "v\n", 0},
	{"visible style", "<p style=\"display:block;font-size:10px\">v</p>", "v\n", 0},
	{"script in hidden", "<div hidden><script>x</script></div>t", "t\n", SCRIPT},
	{"event handler", "<p onclick=\"x()\">t</p>", "t\n", SCRIPT},
	{"iframe", "a<iframe src=\"x\">fallback</iframe>b", "ab\n", SCRIPT},
	/* style sheets: rules that hide (class, id, type, compound, descendant,
	 * child, attribute), the cascade, and what is deliberately not evaluated */
#define ST(css) "<style>" css "</style>"
	{"css class", ST(".x{display:none}") "<p>a</p><div class=\"x\">TVqQ</div>", "a\n", 0},
	{"css id", ST("#a{display:none}") "<p id=a>h</p><p>v</p>", "v\n", 0},
	{"css type", ST("span{display:none}") "<p>a<span>h</span>b</p>", "ab\n", 0},
	{"css compound", ST("div.x{display:none}") "<div class=x>h</div><p class=x>v</p>", "v\n", 0},
	{"css two classes", ST(".a.b{visibility:hidden}") "<p class=\"b a\">h</p><p class=a>v</p>",
	 "v\n", 0},
	{"css descendant", ST(".a .b{display:none}")
	 "<div class=a><p>s</p><p class=b>h</p></div><p class=b>v</p>", "s\n\nv\n", 0},
	{"css child", ST("div > .x{display:none}")
	 "<div><p class=x>h</p></div><div><span><b class=x>v</b></span></div>", "v\n", 0},
	{"css attribute", ST("[data-x=y]{display:none}") "<p data-x=y>h</p><p data-x=z>v</p>", "v\n", 0},
	{"css attribute exists", ST("[data-h]{display:none}") "<p data-h>h</p><p>v</p>", "v\n", 0},
	{"css list", ST(".a, .b{display:none}") "<p class=a>h</p><p class=b>h</p><p>v</p>", "v\n", 0},
	{"css case", ST(".X{display:none}") "<p class=x>h</p><p>v</p>", "v\n", 0},
	{"css comments", ST("/* c */.x{/*d*/display:/**/none}") "<p class=x>h</p><p>v</p>", "v\n", 0},
	{"css cdo cdc", ST("<!-- .x{display:none} -->") "<p class=x>h</p><p>v</p>", "v\n", 0},
	{"css in body", "<p>v</p>" ST(".x{display:none}") "<p class=x>h</p>", "v\n", 0},
	{"css in comment ignored", "<!--" ST(".x{display:none}") "--><p class=x>v</p>", "v\n", 0},
	{"css important beats inline", ST(".x{display:none !important}")
	 "<p class=x style=\"display:block\">h</p><p>v</p>", "v\n", 0},
	{"css inline beats rule", ST(".x{display:none}") "<p class=x style=\"display:block\">v</p>",
	 "v\n", 0},
	{"css inline hides", ST(".y{display:block}") "<p class=y style=\"display:none\">h</p><p>v</p>",
	 "v\n", 0},
	{"css later rule wins", ST(".x{display:none} .x{display:block}") "<p class=x>v</p>", "v\n", 0},
	{"css specificity", ST("p.x{display:none} .x{display:block}") "<p class=x>h</p><p>v</p>",
	 "v\n", 0},
	{"css media screen", ST("@media screen{.x{display:none}}") "<p class=x>h</p><p>v</p>", "v\n", 0},
	{"css media min-width", ST("@media only screen and (min-width: 480px){.x{display:none}}")
	 "<p class=x>h</p><p>v</p>", "v\n", 0},
	{"css media mobile", ST("@media only screen and (max-width:600px){.x{display:none!important}}")
	 "<p class=x>v</p>", "v\n", 0},
	{"css media print", ST("@media print{.x{display:none}}") "<p class=x>v</p>", "v\n", 0},
	{"css style media print", "<style media=\"print\">.x{display:none}</style><p class=x>v</p>",
	 "v\n", 0},
	{"css pseudo class not evaluated", ST(".x:hover{display:none}") "<p class=x>v</p>", "v\n", 0},
	{"css sibling not evaluated", ST(".a + .x{display:none}") "<p class=a>a</p><p class=x>v</p>",
	 "a\n\nv\n", 0},
	{"css other rules kept", ST("@font-face{font-family:x} @import url(x.css); .x{display:none}")
	 "<p class=x>h</p><p>v</p>", "v\n", 0},
	{"css data url semicolon", ST(".x{background:url(\"data:image/png;base64,AA;display:none\")}")
	 "<p class=x>v</p>", "v\n", 0},
	/* other ways of hiding */
	{"opacity", "<p style=\"opacity:0\">h</p><p style=\"opacity:0.5\">v</p>", "v\n", 0},
	{"zero height", "<div style=\"max-height:0;overflow:hidden\">h</div>"
	 "<div style=\"height:0\">v</div>", "v\n", 0},
	{"zero width", "<div style=\"width:0px;overflow:hidden\">h</div>v", "v\n", 0},
	{"visually hidden", "<span style=\"position:absolute;width:1px;height:1px;overflow:hidden;"
	 "clip:rect(1px,1px,1px,1px)\">h</span>v", "v\n", 0},
	{"clip", "<span style=\"position:absolute;clip:rect(0 0 0 0)\">h</span>v", "v\n", 0},
	{"off screen", "<div style=\"position:absolute;left:-9999px\">h</div>"
	 "<div style=\"position:absolute;left:10px\">v</div><div style=\"top:-5000px\">w</div>",
	 "v\nw\n", 0},
	{"text indent", "<p style=\"text-indent:-9999px\">h</p><p style=\"text-indent:2em\">v</p>",
	 "v\n", 0},
	{"aria-hidden alone shown", "<span aria-hidden=\"true\">v</span>", "v\n", 0},
	{"font-size 0 wrapper", "<table><tr><td style=\"font-size:0\"> <div style=\"font-size:14px\">"
	 "text</div> </td></tr></table>", "text\n", 0},
	{"font-size 0 relative child", "<div style=\"font-size:0\">a<span style=\"font-size:150%\">b"
	 "</span><img alt=i></div>", "[画像: i]\n", 0},
	{"font-size 0 class", ST(".z{font-size:0}") "<p class=z>h<span style=\"font-size:12pt\">v</span></p>",
	 "v\n", 0},
	/* entities and whitespace */
	{"entities", "&lt;&amp;&gt;&quot;&#x3042;&copy;", "<&>\"あ©\n", 0},
	{"nbsp", "<p>a&nbsp;&nbsp;b&nbsp;</p>", "a  b\n", 0},
	{"collapse", "<p>  a  <b> b </b> c </p>", "a b c\n", 0},
	{"inline join", "<b>bold</b>text <i>it</i>", "boldtext it\n", 0},
	{"cjk line join", "<p>日本語の\n文章です。</p>", "日本語の文章です。\n", 0},
	{"cjk across tags", "<p><b>お知らせ</b>\n<span>です</span></p>", "お知らせです\n", 0},
	{"cjk space kept", "<p>日本語 の</p>", "日本語 の\n", 0},
	{"latin line", "<p>English\nwords</p>", "English words\n", 0},
	{"cjk latin line", "<p>日本\nEnglish</p>", "日本 English\n", 0},
	{"controls and bidi", "<p>x&#x202e;y&#1;z&#xfeff;</p>", "xyz\n", 0},
	{"word conditional", "<p class=MsoListParagraph><![if !supportLists]><span>1.<span>"
	 "&nbsp;&nbsp;</span></span><![endif]>Item</p>", "1.  Item\n", 0},
	/* blockquote */
	{"blockquote", "<blockquote><p>q1</p><p>q2</p></blockquote>out",
	 "> q1\n>\n> q2\n\nout\n", 0},
	{"nested quote", "<blockquote>a<blockquote>b</blockquote></blockquote>",
	 "> a\n>\n> > b\n", 0},
	/* links */
	{"link text", "<a href=\"https://www.city.example.lg.jp/\">市のサイト</a>",
	 "市のサイト <https://www.city.example.lg.jp/>\n", 0},
	{"link is url", "<a href=\"https://www.city.example.lg.jp/\">www.city.example.lg.jp</a>",
	 "www.city.example.lg.jp\n", 0},
	{"link is url with scheme", "<a href=\"http://a.example.jp/x\">HTTP://A.example.jp/x/</a>",
	 "HTTP://A.example.jp/x/\n", 0},
	{"mailto same", "<a href=\"mailto:a@b.jp\">a@b.jp</a>", "a@b.jp\n", 0},
	{"mailto text", "<a href=\"mailto:info@city.example.lg.jp\">お問い合わせ</a>",
	 "お問い合わせ <mailto:info@city.example.lg.jp>\n", 0},
	{"relative and fragment", "<a href=\"#top\">top</a> <a href=\"page.html\">rel</a>",
	 "top rel\n", 0},
	{"image link", "<a href=\"https://a.example.jp/\"><img alt=\"logo\"></a>",
	 "[画像: logo] <https://a.example.jp/>\n", 0},
	/* targets never printed: a marker names the scheme */
	{"javascript link", "<a href=\" java&#9;script:alert(1)\">x</a>", "x " BLOCKED("javascript") "\n",
	 SCRIPT | LBLK},
	{"javascript entity", "<a href=\"jav&#x61;script:alert(1)\">x</a>", "x " BLOCKED("javascript") "\n",
	 SCRIPT | LBLK},
	{"javascript newline case", "<a href=\"\nJAVA\nSCRIPT:x\">x</a>", "x " BLOCKED("javascript") "\n",
	 SCRIPT | LBLK},
	{"vbscript link", "<a href=\"VBScript:msgbox\">x</a>", "x " BLOCKED("vbscript") "\n",
	 SCRIPT | LBLK},
	{"data link", "<a href=\"data:application/octet-stream;base64,TVqQAAMAAAAEAAAA\">請求書</a>",
	 "請求書 " BLOCKED("data") "\n", SCRIPT | LBLK},
	{"file link", "<a href=\"file://srv/share\">share</a>", "share " BLOCKED("file") "\n", LBLK},
	{"other scheme", "<a href=\"ms-word:ofe|u|https://x.example/a.doc\">doc</a>",
	 "doc " BLOCKED("ms-word") "\n", LBLK},
	{"data url as text", "<p>見て: <a href=\"https://a.example.jp/\">"
	 "data:application/octet-stream;base64,TVqQAAMAAAAEAAAA</a></p>",
	 "見て: " BLOCKED("data") " <https://a.example.jp/>\n", LBLK},
	{"data url as text and target", "<a href=\"data:text/html,x\"> DATA:text/html;base64,PGh0bWw+</a>",
	 BLOCKED("data") " " BLOCKED("data") "\n", SCRIPT | LBLK},
	{"javascript tab as text", "<a href=\"#\">java\tscript:alert(3)</a>", BLOCKED("javascript") "\n", LBLK},
	{"phish relative", "<a href=\"/login\">https://www.city.example.lg.jp/login</a>",
	 "https://www.city.example.lg.jp/login" WARN "\n", PHISH},
	{"phish base href", "<base href=\"https://evil.example/\"><a href=\"/login\">www.city.example.lg.jp</a>",
	 "www.city.example.lg.jp" WARN "\n", PHISH},
	{"javascript as text", "<a href=\"#\">javascript:alert(1)</a>", BLOCKED("javascript") "\n", LBLK},
	{"file as text", "<a href=\"https://a.example.jp/\">file:///C:/x.exe</a>",
	 BLOCKED("file") " <https://a.example.jp/>\n", LBLK},
	{"scheme-like text kept", "<a href=\"https://a.example.jp/\">Note: read</a>",
	 "Note: read <https://a.example.jp/>\n", 0},
	{"image data src and alt", "<img src=\"data:image/png;base64,iVBORw0KGgo=\" "
	 "alt=\"data:application/x-msdownload;base64,TVqQ\">", "[画像]\n", 0},
	{"url escaped", "<a href=\"https://a.jp/a b<c>\">t</a>", "t <https://a.jp/a%20b%3Cc%3E>\n", 0},
	/* phishing */
	{"phish host", "<a href=\"http://evil.example/login\">https://bank.example.co.jp/</a>",
	 "https://bank.example.co.jp/ <http://evil.example/login>" WARN "\n", PHISH},
	{"phish bare host", "<a href=\"https://evil.example.com/\">www.bank.co.jp</a>",
	 "www.bank.co.jp <https://evil.example.com/>" WARN "\n", PHISH},
	{"phish userinfo", "<a href=\"http://paypal.com@evil.example/\">paypal.com</a>",
	 "paypal.com <http://paypal.com@evil.example/>" WARN "\n", PHISH},
	{"phish userinfo same text", "<a href=\"http://bank.co.jp@evil.example/\">"
	 "http://bank.co.jp@evil.example/</a>",
	 "http://bank.co.jp@evil.example/ <http://bank.co.jp@evil.example/>" WARN "\n", PHISH},
	{"phish backslash", "<a href=\"https://evil.example\\@bank.co.jp/\">bank.co.jp</a>",
	 "bank.co.jp <https://evil.example\\@bank.co.jp/>" WARN "\n", PHISH},
	{"phish fullwidth", "<a href=\"https://evil.example/\">ｂａｎｋ．ｃｏ．ｊｐ</a>",
	 "ｂａｎｋ．ｃｏ．ｊｐ <https://evil.example/>" WARN "\n", PHISH},
	{"phish suffix", "<a href=\"https://bank.co.jp.evil.example/\">bank.co.jp</a>",
	 "bank.co.jp <https://bank.co.jp.evil.example/>" WARN "\n", PHISH},
	{"phish idn homograph", "<a href=\"https://xn--pypal-4ve.com/\">paypal.com</a>",
	 "paypal.com <https://xn--pypal-4ve.com/>" WARN_HOST("xn--pypal-4ve.com") "\n", PHISH},
	{"phish data", "<a href=\"data:text/html,x\">https://bank.co.jp</a>",
	 "https://bank.co.jp " BLOCKED("data") WARN "\n", PHISH | SCRIPT | LBLK},
	{"phish image alt", "<a href=\"https://evil.example/\"><img alt=\"www.city.example.lg.jp\"></a>",
	 "[画像: www.city.example.lg.jp] <https://evil.example/>" WARN "\n", PHISH},
	{"image alt same host", "<a href=\"https://www.city.example.lg.jp/\"><img alt=\"www.city.example.lg.jp\"></a>",
	 "[画像: www.city.example.lg.jp] <https://www.city.example.lg.jp/>\n", 0},
	{"image alt with text", "<a href=\"https://evil.example/\"><img alt=\"www.city.example.lg.jp\">ロゴ</a>",
	 "[画像: www.city.example.lg.jp]ロゴ <https://evil.example/>\n", 0},
	{"phish userinfo other text", "<a href=\"https://www.bank.example@evil.example/\">こちら</a>",
	 "こちら <https://www.bank.example@evil.example/>" WARN "\n", PHISH},
	{"phish percent host", "<a href=\"https://%77ww.bank.co.jp/\">こちら</a>",
	 "こちら <https://%77ww.bank.co.jp/>" WARN_HOST("www.bank.co.jp") "\n", PHISH},
	{"phish bad escape", "<a href=\"https://%96ww.bank.co.jp/\">p</a>",
	 "p <https://%96ww.bank.co.jp/>" WARN_HOST("%96ww.bank.co.jp") "\n", PHISH},
	{"phish control escape", "<a href=\"https://a%0ab.example/\">p</a>",
	 "p <https://a%0ab.example/>" WARN_HOST("a%0Ab.example") "\n", PHISH},
	{"phish decimal ip", "<a href=\"http://3232235777/\">こちら</a>",
	 "こちら <http://3232235777/>" WARN_HOST("192.168.1.1") "\n", PHISH},
	{"phish hex ip", "<a href=\"http://0xC0.0xA8.1.1/\">こちら</a>",
	 "こちら <http://0xC0.0xA8.1.1/>" WARN_HOST("192.168.1.1") "\n", PHISH},
	{"phish octal ip", "<a href=\"http://0300.0250.0.01/x\">こちら</a>",
	 "こちら <http://0300.0250.0.01/x>" WARN_HOST("192.168.0.1") "\n", PHISH},
	{"plain ip not marked", "<a href=\"http://192.168.1.1/\">こちら</a>",
	 "こちら <http://192.168.1.1/>\n", 0},
	{"ip text matches decimal", "<a href=\"http://3232235777/\">192.168.1.1</a>",
	 "192.168.1.1 <http://3232235777/>" WARN_HOST("192.168.1.1") "\n", PHISH},
	{"phish cyrillic", "<a href=\"https://p\xd0\xb0" "ypal.com/\">PayPal</a>",
	 "PayPal <https://p\xd0\xb0" "ypal.com/>" WARN_HOST("xn--pypal-4ve.com") "\n", PHISH},
	{"phish cyrillic same text", "<a href=\"https://p\xd0\xb0" "ypal.com/\">p\xd0\xb0" "ypal.com</a>",
	 "p\xd0\xb0" "ypal.com <https://p\xd0\xb0" "ypal.com/>" WARN_HOST("xn--pypal-4ve.com") "\n", PHISH},
	{"phish punycode mixed", "<a href=\"https://xn--pypal-4ve.com/\">こちら</a>",
	 "こちら <https://xn--pypal-4ve.com/>" WARN_HOST("xn--pypal-4ve.com") "\n", PHISH},
	{"phish greek omicron", "<a href=\"https://g\xce\xbf\xce\xbfgle.com/\">検索</a>",
	 "検索 <https://g\xce\xbf\xce\xbfgle.com/>" WARN_HOST("xn--ggle-0nda.com") "\n", PHISH},
	{"phish fullwidth host", "<a href=\"https://\xef\xbd\x82" "ank.co.jp/\">こちら</a>",
	 "こちら <https://\xef\xbd\x82" "ank.co.jp/>" WARN_HOST("bank.co.jp") "\n", PHISH},
	{"ok japanese idn", "<a href=\"https://日本語ドメイン.jp/\">こちら</a>",
	 "こちら <https://日本語ドメイン.jp/>\n", 0},
	{"ok cyrillic idn", "<a href=\"https://пример.рф/\">сайт</a>",
	 "сайт <https://пример.рф/>\n", 0},
	{"phish mail", "<a href=\"mailto:x@evil.example\">info@bank.co.jp</a>",
	 "info@bank.co.jp <mailto:x@evil.example>" WARN "\n", PHISH},
	{"ok subdomain", "<a href=\"https://www.example.co.jp/x\">example.co.jp</a>",
	 "example.co.jp <https://www.example.co.jp/x>\n", 0},
	{"ok idn", "<a href=\"https://xn--r8jz45g.jp/\">例え.jp</a>",
	 "例え.jp <https://xn--r8jz45g.jp/>\n", 0},
	{"ok file name", "<a href=\"https://files.example/r.pdf\">申請書.pdf</a>",
	 "申請書.pdf <https://files.example/r.pdf>\n", 0},
	{"ok port", "<a href=\"https://bank.co.jp:8443/\">bank.co.jp</a>",
	 "bank.co.jp <https://bank.co.jp:8443/>\n", 0},
	{"ok sentence", "<a href=\"https://evil.example/\">bank.co.jp はこちら</a>",
	 "bank.co.jp はこちら <https://evil.example/>\n", 0},
	/* images */
	{"image alt", "<img src=x alt=\"ロゴ\">", "[画像: ロゴ]\n", 0},
	{"image no alt", "a <img src=y> b", "a [画像] b\n", 0},
	{"image empty alt", "<img alt=\"  \">", "[画像]\n", 0},
	{"image alt ws", "<img alt=\"  multi\n line  \">", "[画像: multi line]\n", 0},
	{"tracking pixel", "a<img src=z width=1 height=1>b", "ab\n", 0},
	/* malformed */
	{"unclosed", "<div><p>a<p>b<div>c", "a\n\nb\n\nc\n", 0},
	{"stray end tags", "<body></td></tr>a</table></td>b</body>", "ab\n", 0},
	{"misnested inline", "<b><i>bi</b>x</i>", "bix\n", 0},
	{"bare lt", "a < b", "a < b\n", 0},
	{"empty", "", "", 0},
	{"blank", "  \n\t ", "", 0},
};

static void test_render_cases(void **state)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct render_case *c = &cases[i];
		GString *out = g_string_new(NULL);
		unsigned flags = 99;
		char err[256] = "";
		int rc = tz_html_to_text(c->html, strlen(c->html), 0, out, &flags, err, sizeof err);

		if (rc != 0 || strcmp(out->str, c->want) != 0 || flags != c->flags)
			print_error("case \"%s\": rc %d flags %u (want %u)\n got: [%s]\nwant: [%s]\n",
				    c->name, rc, flags, c->flags, out->str, c->want);
		assert_int_equal(rc, 0);
		assert_string_equal(out->str, c->want);
		assert_int_equal(flags, c->flags);
		g_string_free(out, TRUE);
	}
}

/* The output is appended; the input need not be NUL-terminated. */
static void test_append_and_length(void **state)
{
	GString *out = g_string_new("prefix\n");
	const char html[] = "<p>abc</p><p>IGNORED";

	assert_int_equal(tz_html_to_text(html, 10, 0, out, NULL, NULL, 0), 0);
	assert_string_equal(out->str, "prefix\nabc\n");
	g_string_free(out, TRUE);
}

static void test_bad_bytes(void **state)
{
	const char html[] = "<p>a\0b\xff\xfe" "c</p>";
	GString *out = g_string_new(NULL);
	unsigned flags;

	assert_int_equal(tz_html_to_text(html, sizeof html - 1, 0, out, &flags, NULL, 0), 0);
	assert_string_equal(out->str, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd" "c\n");
	for (size_t i = 0; i < out->len; i++)
		assert_true(out->str[i] == '\n' || (unsigned char)out->str[i] >= 0x20);
	g_string_free(out, TRUE);
}

static GString *nested(const char *open, const char *mid, const char *close, unsigned n)
{
	GString *s = g_string_new(NULL);

	for (unsigned i = 0; i < n; i++)
		g_string_append(s, open);
	g_string_append(s, mid);
	for (unsigned i = 0; i < n; i++)
		g_string_append(s, close);
	return s;
}

/* Deep nesting is cut (flagged), never a crash or a quadratic parse. */
static void test_deep_nesting(void **state)
{
	static const struct {
		const char *open, *close;
		unsigned n;
	} deep[] = {
		{"<div>", "</div>", 10000},
		{"<table><tr><td>", "</td></tr></table>", 10000},
		{"<ul><li>", "</li></ul>", 10000},
		{"<blockquote>", "</blockquote>", 10000},
		{"<span>", "</td>", 100000},
		{"<div>", "</div>", 100000},
	};

	for (size_t i = 0; i < sizeof deep / sizeof deep[0]; i++) {
		GString *html = nested(deep[i].open, "deep", deep[i].close, deep[i].n);
		GString *out = g_string_new(NULL);
		unsigned flags = 0;

		assert_int_equal(tz_html_to_text(html->str, html->len, 0, out, &flags, NULL, 0), 0);
		assert_true(flags & TZ_HTML_TRUNCATED);
		assert_null(strstr(out->str, "deep"));
		g_string_free(out, TRUE);
		g_string_free(html, TRUE);
	}
}

static void test_max_depth(void **state)
{
	const char *html = "<div>a<div>b<div>c</div></div></div>";
	GString *out = g_string_new(NULL);
	unsigned flags = 0;

	/* html, body, div, div: the innermost div's text is past depth 4 */
	assert_int_equal(tz_html_to_text(html, strlen(html), 4, out, &flags, NULL, 0), 0);
	assert_string_equal(out->str, "a\nb\n");
	assert_int_equal(flags, TZ_HTML_TRUNCATED);
	g_string_truncate(out, 0);
	assert_int_equal(tz_html_to_text(html, strlen(html), 100, out, &flags, NULL, 0), 0);
	assert_string_equal(out->str, "a\nb\nc\n");
	assert_int_equal(flags, 0);
	g_string_free(out, TRUE);
}

/* A tag with very many attributes is quadratic in libxml2: cut before it. */
static void test_attribute_flood(void **state)
{
	GString *html = g_string_new("<p>before</p><p");
	GString *out = g_string_new(NULL);
	unsigned flags = 0;

	for (unsigned i = 0; i < 100000; i++)
		g_string_append_printf(html, " a%u=\"x\"", i);
	g_string_append(html, ">after</p>");
	assert_int_equal(tz_html_to_text(html->str, html->len, 0, out, &flags, NULL, 0), 0);
	assert_string_equal(out->str, "before\n");
	assert_int_equal(flags, TZ_HTML_TRUNCATED);
	g_string_free(out, TRUE);
	g_string_free(html, TRUE);
}

static void test_meta_charset(void **state)
{
	static const struct {
		const char *html, *want;
	} m[] = {
		{"<meta charset=\"Shift_JIS\">", "Shift_JIS"},
		{"<html><head><META CHARSET=utf-8></head>", "utf-8"},
		{"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-2022-jp\">",
		 "iso-2022-jp"},
		{"<meta content='text/html;charset = EUC-JP' http-equiv='content-type'>", "EUC-JP"},
		{"<meta name=\"x\" content=\"y\"><meta charset='windows-31j'>", "windows-31j"},
		{"<p>charset=utf-8</p>", NULL},
		{"<meta name=\"description\" content=\"no charset here\">", NULL},
		{"<meta charset=\"\">", NULL},
		{"<meta charset=", NULL},
		{"", NULL},
	};

	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
		char *cs = tz_html_meta_charset(m[i].html, strlen(m[i].html));

		if (m[i].want == NULL)
			assert_null(cs);
		else
			assert_string_equal(cs, m[i].want);
		g_free(cs);
	}
}

/* The scan is bounded to the first 4 KB and to len. */
static void test_meta_charset_bounds(void **state)
{
	GString *s = g_string_new(NULL);
	char *cs;

	for (int i = 0; i < 5000; i++)
		g_string_append_c(s, ' ');
	g_string_append(s, "<meta charset=utf-8>");
	assert_null(tz_html_meta_charset(s->str, s->len));
	cs = tz_html_meta_charset("<meta charset=utf-8>", 17);
	assert_string_equal(cs, "utf");
	g_free(cs);
	g_string_free(s, TRUE);
}

static void test_link_helpers(void **state)
{
	static const struct {
		const char *url, *host;
	} u[] = {
		{"https://WWW.Example.JP./path", "www.example.jp"},
		{"http://user:pw@host.example:8080/x", "host.example"},
		{"http://a.example@b.example/", "b.example"},
		{"https:\\\\evil.example\\x", "evil.example"},
		{"http://%65vil.example/", "evil.example"},
		{"mailto:Info@City.Example.LG.JP?subject=x", "city.example.lg.jp"},
		{"https://例え.jp/", "xn--r8jz45g.jp"},
		{"//proto.relative/x", "proto.relative"},
		{"http://[::1]:80/", "[::1]"},
		{"javascript:alert(1)", NULL},
		{"relative/path", NULL},
		{"http:///", NULL},
	};
	char *h;

	for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
		h = tz_link_url_host(u[i].url);
		if (u[i].host == NULL)
			assert_null(h);
		else
			assert_string_equal(h, u[i].host);
		g_free(h);
	}
	assert_int_equal(tz_link_classify("  JavaScript:x"), TZ_LINK_ACTIVE);
	assert_int_equal(tz_link_classify("vb\nscript:x"), TZ_LINK_ACTIVE);
	assert_int_equal(tz_link_classify("data:image/png,x"), TZ_LINK_ACTIVE);
	assert_int_equal(tz_link_classify("HTTPS://x"), TZ_LINK_WEB);
	assert_int_equal(tz_link_classify("tel:0312345678"), TZ_LINK_WEB);
	assert_int_equal(tz_link_classify("file:///etc/passwd"), TZ_LINK_OTHER);
	assert_int_equal(tz_link_classify("#frag"), TZ_LINK_NONE);

	h = tz_link_text_host("「www.bank.co.jp」", strlen("「www.bank.co.jp」"));
	assert_string_equal(h, "www.bank.co.jp");
	g_free(h);
	h = tz_link_text_host(" bank.co.jp/login. ", 19);
	assert_string_equal(h, "bank.co.jp");
	g_free(h);
	h = tz_link_text_host("bank\xe2\x80\x8b.co.jp", 13);	/* zero-width space */
	assert_string_equal(h, "bank.co.jp");
	g_free(h);
	h = tz_link_text_host("192.168.0.1", 11);
	assert_string_equal(h, "192.168.0.1");
	g_free(h);
	assert_null(tz_link_text_host("version 1.2", 11));
	assert_null(tz_link_text_host("report.docx", 11));
	assert_null(tz_link_text_host("1.2.3", 5));

	assert_true(tz_link_hosts_match("www.bank.co.jp", "bank.co.jp"));
	assert_true(tz_link_hosts_match("login.bank.co.jp", "bank.co.jp"));
	assert_false(tz_link_hosts_match("bank.co.jp", "evilbank.co.jp"));
	assert_false(tz_link_hosts_match("bank.co.jp", "bank.co.jp.evil.example"));

	assert_true(tz_link_text_is_url("example.jp", 10, "https://example.jp/"));
	assert_true(tz_link_text_is_url("a@b.jp", 6, "mailto:a@b.jp"));
	assert_false(tz_link_text_is_url("", 0, "https://example.jp/"));
	assert_false(tz_link_text_is_url("example.jp/a", 12, "https://example.jp/b"));

	assert_true(tz_link_has_userinfo("https://a.jp@b.example/"));
	assert_false(tz_link_has_userinfo("https://b.example/a@b"));
	assert_false(tz_link_has_userinfo("mailto:a@b.jp"));

	/* IPv4 in the forms browsers accept, dotted decimal */
	h = tz_link_url_host("http://3232235777/");
	assert_string_equal(h, "192.168.1.1");
	g_free(h);
	h = tz_link_url_host("http://0xc0a80101./");
	assert_string_equal(h, "192.168.1.1");
	g_free(h);
	h = tz_link_url_host("http://192.0x00A80001/");
	assert_string_equal(h, "192.168.0.1");
	g_free(h);
	h = tz_link_url_host("http://1.2.3.4.5/");	/* five parts: a name, not an address */
	assert_string_equal(h, "1.2.3.4.5");
	g_free(h);
	h = tz_link_url_host("http://256.1.1.1/");	/* out of range: not an address */
	assert_string_equal(h, "256.1.1.1");
	g_free(h);
	assert_null(tz_link_host_disguised("https://www.bank.co.jp/"));
	assert_null(tz_link_host_disguised("https://WWW.Bank.CO.JP./"));
	assert_null(tz_link_host_disguised("http://10.0.0.1:8080/"));
	assert_null(tz_link_host_disguised("https://例え.jp/"));
	assert_null(tz_link_host_disguised("javascript:alert(1)"));
	h = tz_link_host_disguised("http://2130706433/");
	assert_string_equal(h, "127.0.0.1");
	g_free(h);
	h = tz_link_host_disguised("mailto:a@%62ank.jp");
	assert_string_equal(h, "bank.jp");
	g_free(h);
	h = tz_link_host_disguised("https://www\xe3\x80\x82" "bank.co.jp/");	/* ideographic full stop */
	assert_string_equal(h, "www.bank.co.jp");
	g_free(h);
	h = tz_link_scheme(" Java\tScript:x");
	assert_string_equal(h, "javascript");
	g_free(h);
	assert_null(tz_link_scheme("/relative"));

	h = tz_link_display(" https://a.jp/\xe2\x80\xae" "x\n y ");
	assert_string_equal(h, "https://a.jp/%E2%80%AEx%20y");
	g_free(h);
}

/* tz_html_render: the hidden text goes to `hidden`, never to `out`. */
static void test_render_hidden(void **state)
{
	static const struct {
		const char *name, *html, *want, *want_hidden;
	} h[] = {
		{"inline style", "<p>shown</p><div style=\"display:none\">TVqQAAMAAAAE</div>",
		 "shown\n", "TVqQAAMAAAAE\n"},
		{"hidden attribute", "a<span hidden>x<b>y</b>z</span>b", "ab\n", "xyz\n"},
		{"blocks on lines", "<div hidden><p>l1</p><p>l2<br>l3</p></div>", "", "l1\nl2\nl3\n"},
		{"template", "a<template><p>t</p></template>", "a\n", "t\n"},
		{"script", "a<script>var b='QUJD';</script>", "a\n", "var b='QUJD';\n"},
		{"comment", "a<!-- c1 -->b", "ab\n", " c1 \n"},
		{"mso conditional", "a<!--[if mso]><div>o</div><![endif]-->",
		 "a\n", "[if mso]><div>o</div><![endif]\n"},
		{"data url src", "<img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=\"x\">",
		 "[画像: x]\n", "data:image/png;base64,iVBORw0KGgo=\n"},
		{"crlf in hidden", "<div hidden>a\r\nb\rc</div>", "", "a\nb\nc\n"},
		{"css class", "<style>.x{display:none}</style><p>a</p><div class=x>TVqQ</div>",
		 "a\n", ".x{display:none}\nTVqQ\n"},
		{"font-size 0", "<p style=\"font-size:0\">z</p>", "", "z\n"},
		{"data url as link text", "<a href=\"https://a.example.jp/\">data:application/octet-stream;"
		 "base64,TVqQ</a>", "[リンク先は表示しません: data] <https://a.example.jp/>\n",
		 "data:application/octet-stream;base64,TVqQ\n"},
		{"nothing hidden", "<p>plain</p>", "plain\n", ""},
	};

	for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
		GString *out = g_string_new(NULL), *hid = g_string_new(NULL);
		char err[256] = "";
		int rc = tz_html_render(h[i].html, strlen(h[i].html), NULL, out, hid, NULL, err, sizeof err);

		if (rc != 0 || strcmp(out->str, h[i].want) || strcmp(hid->str, h[i].want_hidden))
			print_error("case \"%s\": rc %d\n got: [%s] hidden [%s]\n", h[i].name, rc,
				    out->str, hid->str);
		assert_int_equal(rc, 0);
		assert_string_equal(out->str, h[i].want);
		assert_string_equal(hid->str, h[i].want_hidden);
		g_string_free(out, TRUE);
		g_string_free(hid, TRUE);
	}
}

/* A long attribute value is handed over whole; an ordinary one is not. */
static void test_render_hidden_attr(void **state)
{
	GString *html = g_string_new("<p title=\"short\" data-x=\"");
	GString *out = g_string_new(NULL), *hid = g_string_new(NULL);

	for (int i = 0; i < 2000; i++)
		g_string_append_c(html, 'A');
	g_string_append(html, "\">t</p>");
	assert_int_equal(tz_html_render(html->str, html->len, NULL, out, hid, NULL, NULL, 0), 0);
	assert_string_equal(out->str, "t\n");
	assert_int_equal(hid->len, 2001);
	assert_null(strstr(hid->str, "short"));
	g_string_free(html, TRUE);
	g_string_free(out, TRUE);
	g_string_free(hid, TRUE);
}

/* max_output holds for the text and for the hidden text: -2, nothing
 * appended to either. */
static void test_render_max_output(void **state)
{
	struct tz_html_limits lim = { .max_output = 100 };
	GString *big = g_string_new("<p>"), *bighid = g_string_new("<p>ok</p><div hidden>");
	GString *out = g_string_new("kept"), *hid = g_string_new("kept");
	char err[256] = "";

	for (int i = 0; i < 200; i++) {
		g_string_append(big, "word ");
		g_string_append(bighid, "word ");
	}
	assert_int_equal(tz_html_render(big->str, big->len, &lim, out, hid, NULL, err, sizeof err), -2);
	assert_non_null(strstr(err, "output limit"));
	assert_string_equal(out->str, "kept");
	assert_string_equal(hid->str, "kept");
	err[0] = '\0';
	assert_int_equal(tz_html_render(bighid->str, bighid->len, &lim, out, hid, NULL, err, sizeof err), -2);
	assert_non_null(strstr(err, "hidden HTML content"));
	assert_string_equal(out->str, "kept");
	assert_string_equal(hid->str, "kept");
	/* without a hidden buffer the hidden text costs nothing and is no limit */
	assert_int_equal(tz_html_render(bighid->str, bighid->len, &lim, out, NULL, NULL, err, sizeof err), 0);
	assert_string_equal(out->str, "keptok\n");
	/* exactly at the limit: "ok\n" is 3 bytes */
	lim.max_output = 3;
	g_string_truncate(out, 0);
	assert_int_equal(tz_html_render("<p>ok</p>", 9, &lim, out, NULL, NULL, err, sizeof err), 0);
	lim.max_output = 2;
	assert_int_equal(tz_html_render("<p>ok</p>", 9, &lim, out, NULL, NULL, err, sizeof err), -2);
	g_string_free(big, TRUE);
	g_string_free(bighid, TRUE);
	g_string_free(out, TRUE);
	g_string_free(hid, TRUE);
}

/* Quotes deeper than 10 levels are shown at 10: a line's prefix is bounded. */
static void test_quote_cap(void **state)
{
	GString *html = nested("<blockquote>", "deep", "</blockquote>", 30);
	GString *out = g_string_new(NULL);
	GString *want = g_string_new(NULL);

	for (int i = 0; i < 10; i++)
		g_string_append(want, "> ");
	g_string_append(want, "deep\n");
	assert_int_equal(tz_html_to_text(html->str, html->len, 0, out, NULL, NULL, 0), 0);
	assert_string_equal(out->str, want->str);
	g_string_free(html, TRUE);
	g_string_free(out, TRUE);
	g_string_free(want, TRUE);
}

/* The worst shapes of issue 12 item 6, scaled down: the decision, never
 * the time. Hundreds of nested quotes around a <pre> of many short lines:
 * every line gets at most 10 levels of "> ", so the text stays within 11x
 * the input (each 2-byte line grows by 20 bytes at most); under a
 * max_output the render is refused, nothing appended. */
static void test_bounded_shapes(void **state)
{
	GString *html = g_string_new("<html><body>"), *out = g_string_new(NULL);
	struct tz_html_limits lim = { 0 };
	char err[256] = "";
	size_t lines = 0;

	for (int i = 0; i < 250; i++)
		g_string_append(html, "<blockquote>");
	g_string_append(html, "<pre>");
	for (int i = 0; i < 100000; i++)
		g_string_append(html, "a\n");
	g_string_append(html, "</pre></body></html>");
	assert_int_equal(tz_html_render(html->str, html->len, &lim, out, NULL, NULL, err, sizeof err), 0);
	for (size_t i = 0; i < out->len; i++)
		lines += out->str[i] == '\n';
	assert_int_equal(lines, 100000);
	assert_true(g_str_has_prefix(out->str, "> > > > > > > > > > a\n"));
	assert_int_equal(out->len, 100000 * 22);
	assert_true(out->len <= 11 * html->len);
	g_string_truncate(out, 0);
	lim.max_output = 2 * html->len;
	assert_int_equal(tz_html_render(html->str, html->len, &lim, out, NULL, NULL, err, sizeof err), -2);
	assert_non_null(strstr(err, "output limit"));
	assert_int_equal(out->len, 0);

	/* one long text node: the limit holds inside it */
	g_string_assign(html, "<p>");
	for (int i = 0; i < 200000; i++)
		g_string_append(html, "word ");
	lim.max_output = 65536;
	assert_int_equal(tz_html_render(html->str, html->len, &lim, out, NULL, NULL, err, sizeof err), -2);
	assert_int_equal(out->len, 0);

	/* 100 nested lists: the indent stops growing at 10 levels (30 spaces) */
	g_string_truncate(html, 0);
	for (int i = 0; i < 100; i++)
		g_string_append(html, "<ul><li>x");
	assert_int_equal(tz_html_render(html->str, html->len, NULL, out, NULL, NULL, err, sizeof err), 0);
	assert_non_null(strstr(out->str, "\n                              ・ x\n"));
	assert_null(strstr(out->str, "\n                                 ・ x\n"));
	g_string_free(html, TRUE);
	g_string_free(out, TRUE);
}

/* Style sheets an attacker shapes for cost: many descendant selectors over
 * deep nesting (matching stops at its work budget), a class list of
 * thousands of words, a huge media query, thousands of at-rules. Each ends
 * with the right text. */
static void test_css_cost(void **state)
{
	GString *html = g_string_new("<style>"), *out = g_string_new(NULL);

	for (int i = 0; i < 500; i++)
		g_string_append_printf(html, ".n%d div{display:block}", i);
	g_string_append(html, "</style>");
	for (int i = 0; i < 250; i++)
		g_string_append(html, "<div>");
	g_string_append(html, "x");
	assert_int_equal(tz_html_render(html->str, html->len, NULL, out, NULL, NULL, NULL, 0), 0);
	assert_string_equal(out->str, "x\n");

	g_string_assign(html, "<style>.a{display:none}</style><p class=\"");
	for (int i = 0; i < 100000; i++)
		g_string_append(html, "b ");
	g_string_append(html, "a\">shown: past the classes looked at</p><p class=\"b b a\">h</p>");
	g_string_truncate(out, 0);
	assert_int_equal(tz_html_render(html->str, html->len, NULL, out, NULL, NULL, NULL, 0), 0);
	assert_string_equal(out->str, "shown: past the classes looked at\n");

	g_string_assign(html, "<style>@media screen and (");
	for (int i = 0; i < 50000; i++)
		g_string_append(html, ": (");
	g_string_append(html, "){.a{display:none}} .b{display:none}</style><p class=a>v</p><p class=b>h</p>");
	g_string_truncate(out, 0);
	assert_int_equal(tz_html_render(html->str, html->len, NULL, out, NULL, NULL, NULL, 0), 0);
	assert_string_equal(out->str, "v\n");

	g_string_assign(html, "<style>");
	for (int i = 0; i < 20000; i++)
		g_string_append(html, "@x{}");
	g_string_append(html, ".b{display:none}</style><p class=b>h</p><p>v</p>");
	g_string_truncate(out, 0);
	assert_int_equal(tz_html_render(html->str, html->len, NULL, out, NULL, NULL, NULL, 0), 0);
	assert_string_equal(out->str, "v\n");
	g_string_free(html, TRUE);
	g_string_free(out, TRUE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_cases),
		cmocka_unit_test(test_append_and_length),
		cmocka_unit_test(test_bad_bytes),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_max_depth),
		cmocka_unit_test(test_attribute_flood),
		cmocka_unit_test(test_meta_charset),
		cmocka_unit_test(test_meta_charset_bounds),
		cmocka_unit_test(test_link_helpers),
		cmocka_unit_test(test_render_hidden),
		cmocka_unit_test(test_render_hidden_attr),
		cmocka_unit_test(test_render_max_output),
		cmocka_unit_test(test_quote_cap),
		cmocka_unit_test(test_bounded_shapes),
		cmocka_unit_test(test_css_cost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
