"""Quality gates on the built site, page by page: valid HTML (the W3C Nu HTML checker),
accessibility (axe-core, WCAG 2.1 A and AA, in Chromium), use by keyboard alone, and the
basics a reader with a screen reader needs (the page's language, alt text, table headers)."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from wgec import paths
from wgec.book.toc import toc_plan

pytestmark = pytest.mark.slow

# Pinned in package-lock.json; `make deps` installs them (npm ci).
VNU = paths.ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE = paths.ROOT / "node_modules" / "axe-core" / "axe.min.js"
DEPS = "run `make deps` (it installs Java and the pinned npm packages from package-lock.json)"

# The Nu checker's warnings that we accept: each comes from the theme's page layout
# (pydata-sphinx-theme / sphinx-book-theme), is advice rather than an error, and changes
# nothing for a reader. Every other warning fails the test, like an error.
ALLOWED_VNU_WARNINGS = {
    # pydata-sphinx-theme's layout.html writes <main id="main-content" role="main">: the role is
    # redundant (it is the element's own), not wrong; overriding the whole layout is not worth it.
    "The “main” role is unnecessary for element “main”.",
    # Sphinx puts each page's title, <h1>, in a <section> inside the theme's <article>. Both
    # warnings are about the HTML "outline algorithm", which was dropped from the standard and
    # never implemented by browsers or screen readers; the heading levels are right (one h1 per
    # page, then h2, h3 ...).
    "Consider using the “h1” element as a top-level heading only",
    "Article lacks heading.",
    # Matplotlib writes Dublin Core metadata (RDF) into the SVG figures; the checker skips it.
    "This validator does not validate RDF.",
}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def html_pages(book: Path) -> list[Path]:
    pages = sorted(book.rglob("*.html"))
    # Not a vacuous pass: every document of the book is among them.
    order, _ = toc_plan(paths.TOC_FILE)
    missing = [doc for doc in order if book / f"{doc}.html" not in pages]
    assert not missing, f"pages missing from {book}: {missing}"
    return pages


def site_pages(book: Path) -> list[str]:
    """The pages a reader sees, as URL paths. index.html only redirects to the first page
    (test_browser.py follows it); its HTML is checked with the others."""
    return [p.relative_to(book).as_posix() for p in html_pages(book) if p != book / "index.html"]


# --- HTML validity --------------------------------------------------------------------


def test_vnu_every_page_is_valid_html(built_book):
    java = shutil.which("java")
    if java is None:
        pytest.fail(f"Java is not installed, so the HTML checker cannot run: {DEPS}")
    if not VNU.is_file():
        pytest.fail(f"the W3C Nu HTML checker is missing ({VNU}): {DEPS}")
    pages = html_pages(built_book)
    # Also our own stylesheet and the SVG figures the notebooks make.
    others = [built_book / "_static" / "wgec.css", *sorted((built_book / "_images").glob("*.svg"))]
    result = subprocess.run(
        [
            java,
            "-jar",
            str(VNU),
            "--format",
            "json",
            "--stdout",
            "--exit-zero-always",
            "--also-check-css",
            "--also-check-svg",
            *map(str, pages + others),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    messages = json.loads(result.stdout)["messages"]
    problems = []
    for m in messages:
        # "info" without a subtype is not a warning (e.g. "Trailing slash on void elements",
        # from the XHTML-style <meta ... /> that Sphinx writes: valid HTML).
        if m["type"] == "info" and m.get("subType") != "warning":
            continue
        if m["type"] == "info" and any(m["message"].startswith(a) for a in ALLOWED_VNU_WARNINGS):
            continue
        where = (
            Path(m.get("url", "?").removeprefix("file:")).relative_to(built_book)
            if m.get("url", "").startswith("file:")
            else m.get("url", "?")
        )
        kind = "warning" if m["type"] == "info" else m["type"]
        problems.append(f"{where}:{m.get('lastLine', '?')}: {kind}: {m['message']}")
    assert problems == [], f"{len(problems)} problems in {len(pages)} pages:\n" + "\n".join(problems)


# --- what a screen reader needs, in every page's HTML ---------------------------------------


def test_every_page_says_its_language_and_describes_images_and_tables(built_book):
    problems, images, tables = [], 0, 0
    for path in html_pages(built_book):
        name = path.relative_to(built_book).as_posix()
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        if soup.html is None or soup.html.get("lang", "").split("-")[0] != "en":
            problems.append(f'{name}: <html> has no lang="en"')
        for img in soup.find_all("img"):
            images += 1
            if not (img.get("alt") or "").strip():
                problems.append(f"{name}: <img src={img.get('src')!r}> has no alt text")
        for table in soup.find_all("table"):
            if table.get("role") in ("presentation", "none"):
                continue
            tables += 1
            first = table.find("tr")
            columns = len(first.find_all(["td", "th"])) if first else 0
            headers = len(first.find_all("th")) if first else 0
            if not columns or headers != columns:
                caption = table.find("caption")
                problems.append(
                    f"{name}: table {caption.get_text(' ', strip=True) if caption else ''!r}: "
                    f"{headers} header cells (<th>) in its first row of {columns} cells"
                )
    assert problems == []
    # The book has figures and data tables: the checks above did check something.
    assert images > 0 and tables > 0


# --- in a browser: axe-core and the keyboard ------------------------------------------------


@pytest.fixture(scope="module")
def tab(browser):
    """One page (browser tab), reused for every page of the site."""
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing ({AXE}): {DEPS}")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def _open(tab, url: str, mode: str = "") -> None:
    """Open a page; in `mode` ("light"/"dark") if given, else in the site's default."""
    tab.goto(url)
    tab.evaluate("m => m ? localStorage.setItem('mode', m) : localStorage.removeItem('mode')", mode)
    tab.reload()
    tab.wait_for_load_state("load")
    # The theme fades colours when the mode is applied: let transitions finish so that axe
    # measures the contrast a reader sees, not a frame halfway between light and dark.
    tab.wait_for_function("document.getAnimations().every(a => a.playState !== 'running')")


@pytest.mark.browser
@pytest.mark.parametrize("mode", ["", "dark"], ids=["light-default", "dark"])
def test_axe_no_serious_accessibility_violations(built_book, site, tab, mode):
    failures, checked = [], 0
    for name in site_pages(built_book):
        _open(tab, f"{site}/{name}", mode)
        # The site opens in light mode (html_context default_mode); dark is the reader's choice.
        assert tab.evaluate("document.documentElement.dataset.theme") == (mode or "light"), name
        tab.add_script_tag(path=str(AXE))
        result = tab.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
        assert result["passes"], f"{name}: axe checked nothing"
        checked += 1
        for rule in result["violations"]:
            if rule["impact"] in ("serious", "critical"):
                for node in rule["nodes"]:
                    failures.append(
                        f"{name}: {rule['id']} ({rule['impact']}) at {' '.join(map(str, node['target']))}"
                        f": {rule['help']}"
                    )
    assert checked > 0
    assert failures == [], f"{len(failures)} serious or critical violations:\n" + "\n".join(failures)


# Records every element that gets focus, with what the reader sees of the focus: an outline or
# a box-shadow on the element, or, if it has no box of its own (the sidebar's <summary>, whose
# chevron is positioned outside it), on the child that the reader sees.
FOCUS_LOG = """() => {
  window.wgecFocus = [];
  const hasBox = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const ring = e => { const s = getComputedStyle(e);
    return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || (s.boxShadow || 'none') !== 'none'; };
  document.addEventListener('focusin', e => {
    const el = e.target;
    const seen = hasBox(el) ? el : Array.from(el.children).find(hasBox);
    window.wgecFocus.push({
      what: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' ' +
            JSON.stringify((el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 50)),
      href: el.href || null, sidebar: !!el.closest('nav.bd-links'),
      indicator: !!seen && ring(seen)});
  });
  return document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]').length;
}"""
VISIBLE_LINKS = """sel => Array.from(document.querySelectorAll(sel))
  .filter(a => a.checkVisibility({visibilityProperty: true})).map(a => a.href)"""


@pytest.mark.browser
def test_keyboard_reaches_the_navigation_with_a_visible_focus(built_book, site, tab):
    order, _ = toc_plan(paths.TOC_FILE)  # the book's pages have previous/next links
    problems = []
    for name in site_pages(built_book):
        _open(tab, f"{site}/{name}")
        # The skip link: the first Tab stop, and it takes the reader to the main content.
        tab.keyboard.press("Tab")
        skip = tab.evaluate("document.activeElement.closest('.skip-link') !== null")
        tab.keyboard.press("Enter")
        tab.keyboard.press("Tab")
        inside = tab.evaluate("document.activeElement.closest('#main-content') !== null")
        if not (skip and inside and tab.url.endswith("#main-content")):
            problems.append(f"{name}: the skip link is not the first Tab stop or does not lead to the main content")
        # Then Tab through the whole page from the top.
        _open(tab, f"{site}/{name}")
        sidebar = set(tab.evaluate(VISIBLE_LINKS, "nav.bd-links a[href]"))
        prevnext = set(tab.evaluate(VISIBLE_LINKS, "a.left-prev, a.right-next"))
        if not sidebar or (not prevnext and name.removesuffix(".html") in order):
            problems.append(f"{name}: no sidebar or previous/next links to reach")
        stops = tab.evaluate(FOCUS_LOG)
        for _ in range(stops + 2):
            tab.keyboard.press("Tab")
        log = tab.evaluate("window.wgecFocus")
        reached = {f["href"] for f in log}
        for what, links in (("sidebar", sidebar), ("previous/next", prevnext)):
            for href in sorted(links - reached):
                problems.append(f"{name}: Tab never reaches the {what} link to {href}")
        for f in log:
            if not f["indicator"]:
                problems.append(f"{name}: no visible focus (outline or box-shadow) on {f['what']}")
    assert problems == [], "\n".join(dict.fromkeys(problems))
