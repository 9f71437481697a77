"""The HTML report in a real headless browser (Chromium through Playwright):
what a reviewer sees and clicks, and that the page asks the network for nothing.

Needs the ``playwright`` package (extra ``test``) and a Chromium binary
(Debian's ``chromium``; CI installs it). Playwright's own browser download
is not used: the test launches the system binary.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dedupe.cleaning.report import format_html
from tests.test_report_html import pages

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = os.environ.get("DEDUPE_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "report.html"
    path.write_text(format_html(pages()), encoding="utf-8")
    return path


@pytest.fixture
def page(browser: Any, report: Path) -> Iterator[Any]:
    """The report open at 1300x900, every request it makes recorded; any
    request for something other than a local file is refused."""
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    # A missing element fails in seconds, not after the 30 s default.
    context.set_default_timeout(10_000)
    tab = context.new_page()
    requested: list[str] = []

    def route(request_route: Any) -> None:
        url = request_route.request.url
        requested.append(url)
        if url.startswith("file:"):
            request_route.continue_()
        else:
            request_route.abort()

    context.route("**/*", route)
    tab.goto(report.as_uri())
    tab.requested = requested
    yield tab
    context.close()


def box(tab: Any, selector: str) -> dict[str, float]:
    found = tab.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not rendered"
    return dict(found)


def test_no_request_leaves_the_page(page: Any, report: Path) -> None:
    page.click('a[href="#s2"]')
    page.click("#s3 summary")
    page.click("#only-removed")
    assert page.requested == [report.as_uri()]


def test_index_links_jump_to_the_file_sections(page: Any) -> None:
    assert page.evaluate("window.scrollY") == 0
    for n in (2, 4, 1):
        page.click(f'table.files a[href="#s{n}"]')
        assert page.evaluate("location.hash") == f"#s{n}"
        top = page.evaluate(f"document.getElementById('s{n}').getBoundingClientRect().top")
        bar = page.evaluate("document.querySelector('.bar').getBoundingClientRect().bottom")
        bottom = page.evaluate(
            "window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 1"
        )
        # At the top of the window, just below the sticky bar, not hidden by
        # it; or, for a file too near the end to get there, the page scrolled
        # to its end with the file in view.
        assert bar <= top <= bar + 40 or (bottom and bar <= top < 900), (n, top, bar)
        assert page.locator(f"#s{n} summary").is_visible()


def test_removed_copy_and_twin_side_by_side(page: Any) -> None:
    first = "#s1 .p.removed"
    copy, twin = box(page, f"{first} .side.copy"), box(page, f"{first} .side.twin")
    assert page.locator(f"{first} .side.copy").is_visible()
    assert page.locator(f"{first} .side.twin").is_visible()
    assert copy["x"] + copy["width"] <= twin["x"]
    assert copy["width"] > 300
    assert twin["width"] > 300
    # On one row: they overlap vertically.
    assert copy["y"] < twin["y"] + twin["height"]
    assert twin["y"] < copy["y"] + copy["height"]
    only_copy = page.locator(f"{first} .side.copy mark.only-copy")
    only_twin = page.locator(f"{first} .side.twin mark.only-twin")
    assert only_copy.all_inner_texts() == ["*", "February,"]
    assert only_twin.all_inner_texts() == ["January,"]
    colour = "el => getComputedStyle(el).backgroundColor"
    assert only_copy.first.evaluate(colour) != only_twin.first.evaluate(colour)
    assert page.locator(".legend mark.only-copy").evaluate(colour) == only_copy.first.evaluate(
        colour
    )


def test_only_removed_toggle_hides_kept_paragraphs(page: Any) -> None:
    kept = page.locator(".p.kept")
    removed = page.locator(".p.removed")
    display = "els => els.map(el => getComputedStyle(el).display)"
    assert "none" not in kept.evaluate_all(display)
    assert kept.first.is_visible()
    assert page.locator("#s3").is_visible()
    page.click("#only-removed")
    assert set(kept.evaluate_all(display)) == {"none"}
    assert not any(kept.nth(n).is_visible() for n in range(kept.count()))
    assert removed.count() == 14
    assert all(removed.nth(n).is_visible() for n in range(removed.count()))
    # The twins stay in view beside their removed copies, and clean files go.
    assert page.locator("#s2 .p.removed .side.twin").first.is_visible()
    assert not page.locator("#s3").is_visible()
    page.click("#only-removed")
    assert "none" not in kept.evaluate_all(display)


def test_a_file_with_nothing_removed_is_folded(page: Any) -> None:
    clean_file = page.locator("#s3 .p.kept")
    assert clean_file.count() == 18
    assert not clean_file.first.is_visible()
    page.click("#s3 summary")
    assert clean_file.first.is_visible()
    assert page.locator("#s2 .p.kept").first.is_visible()
