"""The built book in a real browser, with no network: headless Chromium (Debian's ``chromium``, driven by Playwright
through its executable path) opens every page of ``_build/html`` and fails on a console error, a request that left
the machine or failed, an image that did not load, TeX left unrendered after MathJax ran, an internal link to a
missing page, a widget output with nothing rendered, or a code line cut off at the right edge. One full-page
screenshot per chapter goes to ``_build/screenshots/`` (ignored by git).

The unmarked tests check the checker on small hand-written pages; the ``book`` tests run after the strict builds of
``tests/test_book.py`` (the book and its student edition; same marker, collected after it). Without Chromium or Playwright every test here is skipped
with the reason (``make chromium`` installs Chromium where apt-get is available).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from lib.pipeline import cli

HTML = cli.BUILD_DIR / "html"
SCREENSHOTS = cli.BUILD_DIR / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
# Without the networking flags Chromium stalls on a closed network (background updates, first-run checks).
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
VIEWPORT = {"width": 1280, "height": 900}
_REDIRECT = re.compile(r'<meta http-equiv="Refresh" content="0; url=([^"]+)"', re.IGNORECASE)

if CHROMIUM is None:
    pytest.skip("*** BROWSER TEST NOT RUN: no Chromium found (install it with `make chromium`, i.e. apt-get install "
                "chromium, or set CHROMIUM=/path/to/chromium) ***", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="*** BROWSER TEST NOT RUN: `pip install -r "
                               "requirements.txt` (playwright) ***")

# Runs in the page once it has loaded: waits for MathJax and the widget manager, then reports what is wrong.
_INSPECT = """
async () => {
  const settle = (ms) => new Promise((r) => setTimeout(r, ms));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const widgetViews = [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')];
  const rendered = (s) => [...s.parentElement.children].some(
      (e) => e !== s && e.tagName !== 'SCRIPT' && e.getBoundingClientRect().height > 0);
  for (let i = 0; i < 200 && !widgetViews.every(rendered); i++) { await settle(100); }  // up to 20 s
  const images = [...document.images];
  images.forEach((img) => { img.loading = 'eager'; });
  await Promise.all(images.map((img) => img.decode().catch(() => null)));
  const skip = 'PRE, CODE, SCRIPT, STYLE, TEXTAREA, MJX-CONTAINER, MJX-ASSISTIVE-MML';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const tex = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const t = n.textContent;
    if (/\\$\\$|\\\\\\(|\\\\\\[|\\\\begin\\{/.test(t) && !n.parentElement.closest(skip)) { tex.push(t.trim().slice(0, 80)); }
  }
  const cut = [...document.querySelectorAll('div.cell_input pre, div.highlight pre')]
      .filter((p) => p.offsetParent !== null && p.scrollWidth > p.clientWidth + 1)
      .map((p) => p.textContent.split('\\n').reduce((a, b) => (b.length > a.length ? b : a)).trim().slice(0, 80));
  return {
    images: images.filter((img) => !img.complete || img.naturalWidth === 0).map((img) => img.src),
    tex: tex,
    links: [...document.querySelectorAll('a[href]')].map((a) => a.href).filter((h) => h.startsWith('file:')),
    widgets: widgetViews.filter((s) => !rendered(s)).map((s) => s.textContent.slice(0, 80)),
    cut: cut,
  };
}
"""


def check_page(context, page_path: Path, screenshot: Path | None = None) -> list[str]:
    """Every problem of one HTML page opened from disk, as ``"kind: detail"`` lines (empty: the page is fine)."""
    redirect = _REDIRECT.search(page_path.read_text(errors="replace"))
    if redirect:  # Jupyter Book's index.html: the page it sends the reader to is checked by itself
        target = page_path.parent / redirect.group(1)
        return [] if target.is_file() else [f"redirect to a missing page: {target}"]
    problems: list[str] = []
    page = context.new_page()
    page.on("console", lambda msg: problems.append(f"console error: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda err: problems.append(f"script error: {err}"))
    page.on("requestfailed", lambda req: problems.append(f"failed request: {req.url} ({req.failure})"))
    try:
        page.goto(page_path.resolve().as_uri(), wait_until="load")
        found = page.evaluate(_INSPECT)
        if screenshot is not None:
            page.screenshot(path=str(screenshot), full_page=True)
    finally:
        page.close()
    problems += [f"image not loaded: {src}" for src in found["images"]]
    problems += [f"unrendered TeX: {text!r}" for text in found["tex"]]
    problems += [f"widget output empty: {view}" for view in found["widgets"]]
    problems += [f"code line cut off: {line!r}" for line in found["cut"]]
    for href in found["links"]:
        target = Path(unquote(urlparse(href).path))
        if not target.exists():
            problems.append(f"link to a missing page: {href}")
    return problems


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[object]:
    """A persistent Chromium context on a fresh profile, where any request that would leave the machine fails."""
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_FLAGS, viewport=VIEWPORT)
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(LOCAL_SCHEMES)
                      else route.abort("internetdisconnected"))
        try:
            yield context
        finally:
            context.close()


def _page(tmp_path: Path, body: str, name: str = "page.html") -> Path:
    path = tmp_path / name
    path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{body}</body></html>")
    return path


PIXEL = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJ"
         "RU5ErkJggg==")


def test_a_redirect_page_is_checked_by_its_target(browser, tmp_path):
    page = tmp_path / "index.html"
    page.write_text('<meta http-equiv="Refresh" content="0; url=book/intro.html" />')
    assert check_page(browser, page) == [f"redirect to a missing page: {tmp_path / 'book/intro.html'}"]
    _page(tmp_path / "book" if (tmp_path / "book").mkdir() is None else tmp_path, "<p>intro</p>", "intro.html")
    assert check_page(browser, page) == []


def test_a_clean_page_has_no_problems(browser, tmp_path):
    _page(tmp_path, "<p>other</p>", "other.html")
    page = _page(tmp_path, f"<p>Text with $5 and a <a href='other.html#x'>link</a>.</p><img src='{PIXEL}'>"
                           "<pre>print('$$ in code is fine')</pre>")
    assert check_page(browser, page) == []


@pytest.mark.parametrize("body, expected", [
    ("<img src='missing.png'>", "image not loaded"),
    ("<p>\\(x^2\\) stayed TeX</p>", "unrendered TeX"),
    ("<div class='math'>$$\\log L$$</div>", "unrendered TeX"),
    ("<a href='nowhere.html'>gone</a>", "link to a missing page"),
    ("<script>console.error('boom')</script>", "console error: boom"),
    ("<script>undefinedFunction()</script>", "script error"),
    ("<script src='https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js'></script>", "failed request"),
    ("<div class='cell_output'><script type='application/vnd.jupyter.widget-view+json'>{\"model_id\": \"x\"}"
     "</script></div>", "widget output empty"),
    ("<div class='cell_input'><pre style='overflow-x:auto;width:200px'>" + "x = 1  # " + "long " * 80 + "</pre></div>",
     "code line cut off"),
])
def test_each_defect_is_reported(browser, tmp_path, body, expected):
    problems = check_page(browser, _page(tmp_path, body))
    assert any(p.startswith(expected) for p in problems), problems


def _pages(html: Path) -> list[Path]:
    return sorted(p for p in html.rglob("*.html") if not ({"_static", "_sources", "_images"} & set(p.parts)))


@pytest.fixture
def built(build_book):
    """``built(student=False)``: the HTML of the book (or of its student edition) as the strict builds of
    ``tests/test_book.py`` left it, built here if it is missing (skipped where chapters lack their data)."""
    def html(student: bool = False) -> Path:
        folder = cli.html_dir(student)
        if not (folder / "index.html").is_file():
            build_book(student=student)
        return folder
    return html


@pytest.mark.book
@pytest.mark.parametrize("student", [False, True], ids=["book", "student-edition"])
def test_every_page_renders_offline(browser, built, student):
    html = built(student)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = _pages(html)
    assert any("chapters" in p.parts for p in pages)
    report = {}
    for page in pages:
        shot = SCREENSHOTS / f"{page.stem}.png" if "chapters" in page.parts and not student else None
        problems = check_page(browser, page, shot)
        if problems:
            report[str(page.relative_to(html))] = problems
    assert not report, "\n".join(f"{page}:\n  " + "\n  ".join(p[:300] for p in probs) for page, probs in report.items())
    if not student:
        assert {p.stem for p in pages if "chapters" in p.parts} <= {p.stem for p in SCREENSHOTS.glob("*.png")}


@pytest.mark.book
def test_the_check_fails_without_the_local_mathjax(browser, built, tmp_path):
    """The same book with ``_static/mathjax`` removed: its pages keep raw TeX and the script fails to load."""
    broken = tmp_path / "html"
    shutil.copytree(built(), broken, ignore=lambda folder, names: ["mathjax"] if folder.endswith("_static") else [])
    problems = check_page(browser, broken / "book" / "notation.html")
    assert any(p.startswith("unrendered TeX") for p in problems), problems
    assert any(p.startswith("failed request") and "mathjax" in p for p in problems), problems


@pytest.mark.book
def test_search_works_offline(browser, built):
    """Sphinx's search index answers a query on the built book without a server or a network."""
    page = browser.new_page()
    try:
        page.goto((built() / "search.html").resolve().as_uri() + "?q=diffeomorphism")
        page.wait_for_selector("#search-results ul.search li", timeout=20_000)
        hits = page.eval_on_selector_all("#search-results ul.search li a", "links => links.map((a) => a.href)")
    finally:
        page.close()
    assert any("02_relative_stability" in h for h in hits), hits
