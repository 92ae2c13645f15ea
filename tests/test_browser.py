"""In a real browser: Debian's Chromium, driven by Playwright, reads the built site over HTTP."""

import pytest

from wgec import paths
from wgec.book.toc import toc_plan

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_walk_every_page_by_its_navigation(site, browser):
    context = browser.new_context()
    outside, errors = [], []

    def route(r):
        if r.request.url.startswith(site):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))

    order, _ = toc_plan(paths.TOC_FILE)
    expected = [f"{site}/{doc}.html" for doc in order]
    page.goto(f"{site}/index.html")  # redirects to the front page
    page.wait_for_url(expected[0])
    page.wait_for_load_state("load")
    visited = []
    while True:
        visited.append(page.url.split("#")[0])
        assert page.locator("article h1").count() == 1, page.url
        broken = page.evaluate(
            "Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
        )
        assert broken == [], (page.url, broken)
        following = page.locator("a.right-next")
        if following.count() == 0:
            break
        following.first.click()
        page.wait_for_load_state("load")
    assert visited == expected
    # Every page is also reachable from the sidebar of the first page.
    page.goto(expected[0])
    links = page.eval_on_selector_all("nav.bd-links a.reference.internal", "as => as.map(a => a.href)")
    assert {link.split("#")[0] for link in links} >= set(expected[1:])
    assert errors == []
    assert outside == [], outside
    context.close()


def test_figures_show_as_vectors_with_their_alt_text(site, browser):
    page = browser.new_page()
    page.goto(f"{site}/notebooks/02d_organizations.html")
    images = page.eval_on_selector_all("figure img", "is => is.map(i => [i.src, i.alt, i.naturalWidth])")
    assert len(images) >= 2
    for src, alt, width in images:
        assert src.endswith(".svg") and alt and width > 0
    page.close()
