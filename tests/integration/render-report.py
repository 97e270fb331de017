#!/usr/bin/python3
"""render-report.py HTML PNG -- render the daily report in headless Chromium
(through chromedriver and Debian's python3-selenium) and check what a person
would see. Prints one "ok - NAME" / "not ok - NAME: why" line per check;
exit 0 when all pass, 1 when one fails, 77 when Chromium cannot run here.

Checks:
  - the screenshot is a PNG that is not one colour (the page drew something)
  - the browser console has no errors (SEVERE) while loading the page
  - Japanese is drawn with real glyphs, not tofu: distinct kanji draw
    distinct pixels in the page's own font, unlike two unassigned code points
    (which draw the same fallback box, or nothing)
  - the page asks for a Japanese font family (computed font-family)
  - every chart label, measured by the browser in the font it used, ends
    before its bar and starts inside the chart (nothing cut off)
"""
import os
import shutil
import sys
import tempfile

results = []


def check(name, ok, why=""):
    results.append(ok)
    print(("ok - %s" % name) if ok else ("not ok - %s: %s" % (name, why)))


# Draw a string on a canvas in the font the page's body uses; the pixels as
# a data URL, so two strings can be compared.
GLYPHS_JS = """
const font = getComputedStyle(document.body).fontFamily;
function draw(s) {
  const c = document.createElement('canvas'); c.width = 64; c.height = 64;
  const x = c.getContext('2d'); x.fillStyle = '#fff'; x.fillRect(0, 0, 64, 64);
  x.fillStyle = '#000'; x.font = '48px ' + font; x.textBaseline = 'top';
  x.fillText(s, 4, 4); return c.toDataURL();
}
return {font: font, mu: draw('\u7121'), gai: draw('\u5bb3'),
        pua1: draw('\\u{10FFFD}'), pua2: draw('\\u{10FFFC}'), blank: draw(' ')};
"""

# For every chart label (right-aligned text before a bar): its box as
# drawn, the bar's x and the chart's width.
LABELS_JS = """
const out = [];
for (const t of document.querySelectorAll('svg text[text-anchor="end"]')) {
  const b = t.getBBox(), r = t.nextElementSibling, svg = t.ownerSVGElement;
  out.push({text: t.textContent, left: b.x, right: b.x + b.width,
            bar: r ? parseFloat(r.getAttribute('x')) : null,
            width: parseFloat(svg.getAttribute('width'))});
}
for (const t of document.querySelectorAll('svg rect + text')) {
  const b = t.getBBox(), svg = t.ownerSVGElement;
  out.push({text: t.textContent, left: b.x, right: b.x + b.width, bar: null,
            width: parseFloat(svg.getAttribute('width'))});
}
return out;
"""


def main():
    html, png = os.path.abspath(sys.argv[1]), sys.argv[2]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from PIL import Image
    except ImportError as e:
        print("SKIP: %s (scripts/deps installs python3-selenium, python3-pil)" % e)
        return 77
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not os.path.exists(driver_path):
        print("SKIP: chromedriver not installed (scripts/deps installs chromium-driver)")
        return 77
    prof = tempfile.mkdtemp(prefix="tz-chrome-")
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
              "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--user-data-dir=" + prof, "--window-size=1200,1800"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        drv = webdriver.Chrome(service=Service(driver_path), options=opts)
    except Exception as e:   # no display stack, sandbox refusal ...
        shutil.rmtree(prof, ignore_errors=True)
        print("SKIP: Chromium could not start: %s" % str(e).splitlines()[0])
        return 77
    try:
        drv.get("file://" + html)
        drv.save_screenshot(png)
        errors = [e for e in drv.get_log("browser") if e.get("level") == "SEVERE"]
        g = drv.execute_script(GLYPHS_JS)
        labels = drv.execute_script(LABELS_JS)
    finally:
        drv.quit()
        shutil.rmtree(prof, ignore_errors=True)

    img = Image.open(png).convert("RGB")
    colours = img.getcolors(maxcolors=1 << 20)
    check("screenshot is a PNG of %dx%d that is not one colour" % img.size,
          colours is None or len(colours) > 16, "%d colours" % len(colours or []))
    check("no console errors while rendering", not errors,
          "; ".join(e.get("message", "") for e in errors))
    check("the page asks for a Japanese font first (%s)" % g["font"].split(",")[0],
          "Noto Sans CJK JP" in g["font"] and "IPA" in g["font"], g["font"])
    check("kanji are drawn (not blank)", g["mu"] != g["blank"], "U+7121 draws nothing")
    check("distinct kanji draw distinct glyphs (no tofu)", g["mu"] != g["gai"],
          "U+7121 and U+5BB3 draw the same pixels: a missing-glyph box (install fonts-ipafont-gothic)")
    check("control: unassigned code points draw alike (the tofu check can fail)",
          g["pua1"] == g["pua2"], "two private-use code points differ")
    bad = [l for l in labels if l["left"] < -0.5 or l["right"] > l["width"] + 0.5 or
           (l["bar"] is not None and l["right"] > l["bar"] + 0.5)]
    check("%d chart labels fit (measured in the browser's font)" % len(labels),
          labels and not bad, "; ".join("%r %.0f..%.0f bar %s width %s" %
                                        (l["text"], l["left"], l["right"], l["bar"], l["width"])
                                        for l in bad[:5]) or "no labels")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
