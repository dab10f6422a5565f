"""Headless Chromium over every page of the built site (run after `make book`).

Checks what a reader would notice: console errors, anything fetched from the network
(the site must work offline), plotly figures that did not draw, math left as raw TeX.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers.discoveries import false_discoveries
from helpers.glued import recorded_claims

pytestmark = pytest.mark.browser

SITE = Path(__file__).resolve().parent.parent / "_build" / "html"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


def pages() -> list[Path]:
    skipped = {"_static", "_sources", "_images", "reports"}
    return sorted(p for p in SITE.rglob("*.html") if not skipped & set(p.relative_to(SITE).parts))


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not (SITE / "index.html").exists():
        pytest.fail(f"no built site in {SITE}: run `make book` first")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def test_site_has_the_pages_of_the_toc():
    names = {p.relative_to(SITE).as_posix() for p in pages()}
    assert {"book/intro.html", "book/rerun.html", "notebooks/01_data.html"} <= names


@pytest.mark.parametrize("page_path", pages(), ids=lambda p: p.relative_to(SITE).as_posix())
def test_page_renders_offline(browser, page_path):
    page = browser.new_page()
    errors, remote = [], []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: request.url.startswith(LOCAL_SCHEMES) or remote.append(request.url))
    page.goto(page_path.as_uri(), wait_until="load")

    math_nodes = page.locator(".math").count()
    if math_nodes:
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000)
        page.evaluate("() => MathJax.startup.promise")
        assert page.locator("mjx-container").count() >= math_nodes, "math was left unrendered"
    figures = page.locator(".plotly-graph-div")
    for number in range(figures.count()):
        figures.nth(number).locator(".main-svg").first.wait_for(state="attached", timeout=20_000)
    page.wait_for_timeout(200)
    page.close()
    assert not errors, f"console errors: {errors}"
    assert not remote, f"requests left the local files: {remote}"


def test_results_page_lists_every_claim_of_the_book_and_draws_the_figure(browser):
    recorded = recorded_claims(SITE.parent / "jupyter_execute" / "notebooks")
    assert len(recorded) == len(list((SITE.parent.parent / "notebooks").glob("[0-9][0-9]_*.md")))
    page = browser.new_page()
    page.goto((SITE / "book" / "results.html").as_uri(), wait_until="load")
    tables = page.locator("table.dataframe")
    assert tables.count() == len(recorded), "one table of claims per chapter"
    for number, (chapter, claims) in enumerate(recorded.items()):
        shown = tables.nth(number).locator("tbody th").all_inner_texts()
        assert shown == [claim["claim"] for claim in claims], f"{chapter}: the page shows other claims than it recorded"
        holds = tables.nth(number).locator("tbody tr td:last-child").all_inner_texts()
        assert holds == ["yes"] * len(claims), f"{chapter}: a claim that does not hold reached the built book"
    called = false_discoveries(recorded).query("verdict in ['higher', 'lower']")
    discoveries = page.locator("table.discoveries")
    assert discoveries.count() == 1, "the table of higher and lower verdicts under false-discovery control is missing"
    assert discoveries.locator("tbody tr").count() == len(called), "a higher or lower verdict is missing from it"
    survivors = discoveries.locator("tbody tr td:last-child").all_inner_texts()
    assert survivors.count("yes") == int(called["survives"].sum())
    figure = page.locator("img[src$='claims-at-a-glance.png']")
    assert figure.count() == 1 and figure.evaluate("image => image.naturalWidth") > 0, "the figure did not load"
    page.close()
