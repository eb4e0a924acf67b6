"""The report in a real browser: headless Chromium renders it offline, images decode.

CI installs Debian's ``chromium`` (``.ci/run``); elsewhere the test is skipped when no
Chromium is installed. The screenshot is written next to the report, and copied to
``$FORECAST_SCREENSHOT_DIR`` when that is set.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    if executable is None:
        pytest.skip("no Chromium installed (CI installs Debian's chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def test_report_renders_offline_with_every_image_decoded(bundled_report, browser, tmp_path):
    assert bundled_report.result.code == 0, bundled_report.result.err
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(bundled_report.html.as_uri(), wait_until="load")
    # every image decoded to real pixels
    images = page.evaluate(
        """async () => Promise.all(Array.from(document.images).map(async (img) => {
            try { await img.decode(); } catch (e) { return [img.alt, false, 0]; }
            return [img.alt, img.complete, img.naturalWidth];
        }))"""
    )
    assert len(images) >= 6
    assert all(ok and width > 100 for _, ok, width in images), images
    # the only request is the file itself: no fonts, scripts, styles or images fetched
    assert requests == [bundled_report.html.as_uri()], requests
    assert not failed
    # headline, scenario table and a fan chart are on the page and visible
    headline = page.locator("#headline")
    table = page.locator("#scenarios table").first
    fan = page.locator("img[alt^='Alignment by state and pole']")
    for element in (headline, table, fan):
        assert element.is_visible()
        box = element.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 50
    shot = bundled_report.html.with_name("screenshot.png")
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    target = os.environ.get("FORECAST_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(target) / "report-2026Q4.png")
    page.close()
