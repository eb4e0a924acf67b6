"""The report in a real browser, as an analyst reads it at a 1300 px wide window.

Headless Chromium renders the report offline: every image decodes, no figure is shrunk below
90 % of its own width nor its smallest text below 9 px, the equations do not scroll sideways,
and no Markdown shows through. A screenshot of each section is saved under the test's
temporary directory (``pytest --basetemp DIR`` keeps it where you want it) and copied to
``$FORECAST_SCREENSHOT_DIR`` when that is set.

CI installs Debian's ``chromium`` (``.ci/run``); without it the test is skipped, before any
fixture runs, with the reason and the command that installs it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

#: the flags the report's readers' locked-down machines use, from the issue
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: the analyst's window (issue 18)
VIEWPORT = {"width": 1300, "height": 900}
#: smallest share of a figure's own width it may be shown at, and smallest text in CSS px
MIN_SCALE = 0.9
MIN_TEXT_PX = 9.0


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM = _chromium()

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on this machine: the report's browser test needs Debian's chromium "
    "(apt-get install chromium; .ci/run installs it)",
)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(browser, bundled_report):
    assert bundled_report.result.code == 0, bundled_report.result.err
    page = browser.new_page(viewport=VIEWPORT)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(bundled_report.html.as_uri(), wait_until="load")
    yield SimpleNamespace(page=page, requests=requests, failed=failed)
    page.close()


def test_report_renders_offline_with_every_image_decoded(page, bundled_report):
    loaded, page = page, page.page
    images = page.evaluate(
        """async () => Promise.all(Array.from(document.images).map(async (img) => {
            try { await img.decode(); } catch (e) { return [img.alt, false, 0]; }
            return [img.alt, img.complete, img.naturalWidth];
        }))"""
    )
    assert len(images) >= 6
    assert all(ok and width > 100 for _, ok, width in images), images
    # the only request is the file itself: no fonts, scripts, styles or images fetched
    assert loaded.requests == [bundled_report.html.as_uri()], loaded.requests
    assert not loaded.failed
    # headline, scenario table and a fan chart are on the page and visible
    headline = page.locator("#headline")
    table = page.locator("#scenarios table").first
    fan = page.locator("img[alt^='Alignment by state and pole']")
    for element in (headline, table, fan):
        assert element.is_visible()
        box = element.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 50


def test_every_figure_is_legible_at_the_page_width(page):
    figures = page.page.evaluate(
        """() => Array.from(document.querySelectorAll("figure img")).map((img) => ({
            alt: img.alt,
            natural: img.naturalWidth,
            shown: img.getBoundingClientRect().width
                - parseFloat(getComputedStyle(img).borderLeftWidth)
                - parseFloat(getComputedStyle(img).borderRightWidth),
            text: parseFloat(img.dataset.minTextPx),
        }))"""
    )
    assert len(figures) >= 6
    report = []
    for fig in figures:
        scale = fig["shown"] / fig["natural"]
        report.append((fig["alt"], fig["natural"], round(scale, 3), round(fig["text"] * scale, 1)))
    print("figure, intrinsic width, scale, smallest text (CSS px):", *report, sep="\n  ")
    for alt, natural, scale, text in report:
        assert scale >= MIN_SCALE, f"{alt}: {natural} px shown at {scale:.0%} of its width"
        assert text >= MIN_TEXT_PX, f"{alt}: smallest text {text} px"


def test_equations_wrap_and_no_markdown_shows(page):
    page = page.page
    overflow = page.evaluate(
        """() => Array.from(document.querySelectorAll("pre, table")).map(
            (el) => el.scrollWidth - el.clientWidth)"""
    )
    assert max(overflow) <= 1, overflow
    assert page.evaluate("() => document.documentElement.scrollWidth") <= VIEWPORT["width"]
    text = page.evaluate("() => document.body.innerText")
    for markup in ("`", "**", "](", "\\["):
        assert markup not in text, markup


def test_screenshots_of_each_section(page, tmp_path_factory):
    page = page.page
    out = tmp_path_factory.mktemp("report-screenshots")
    sections = page.locator("main > section")
    ids = [sections.nth(i).get_attribute("id") for i in range(sections.count())]
    assert {"headline", "scenarios", "whatifs", "diagnostics", "methods"} <= set(ids)
    shots = []
    for i, section_id in enumerate(ids):
        shot = out / f"{i:02d}-{section_id}.png"
        sections.nth(i).screenshot(path=str(shot))
        assert shot.stat().st_size > 5_000
        shots.append(shot)
    whole = out / "report.png"
    page.screenshot(path=str(whole), full_page=True)
    print(f"screenshots in {out}")
    target = os.environ.get("FORECAST_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in [*shots, whole]:
            shutil.copy(shot, Path(target) / shot.name)
