"""The HTML audit report in a real browser at 1280 px (issue 11 item 6): Debian's Chromium
driven by Playwright (never a downloaded browser). Layout facts are measured, not assumed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.integration.test_audit import flip, ingest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

TITLED = {"Рукописи/лист-с-очень-длинным-именем-файла-для-проверки-переноса.txt": "лист\n".encode(),
          "page-1.txt": b"first page\n"}


def test_failure_page_fits_1280_px(cli, repo, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: `apt-get install -y chromium` (.ci/run does)")
    obj = ingest(cli, repo, tmp_path, "manuscript-collection-0001", TITLED)
    for content in (obj / "v1/content/data").rglob("*.txt"):
        flip(content)
    report = tmp_path / "report.html"
    result = cli("--repo", repo, "--json", "audit", "--all", "--report", report)
    assert result.code == 12
    page_text = report.read_text("utf-8")
    assert "Open problems" in page_text and str(repo) in page_text
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox", "--headless=new"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(report.as_uri())
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
            shutil.copy(tmp_path / "report.png", Path("/tmp") / "preserve-audit-report.png")
            assert page.evaluate("document.documentElement.scrollWidth") <= 1280
            # The open problems come first, before the run's numbers.
            headings = page.eval_on_selector_all("h2", "hs => hs.map(h => h.textContent)")
            assert headings[0] == "Open problems"
            # The message column is on screen, and names get room (not squeezed to 6 chars).
            boxes = page.eval_on_selector_all(
                "table th", "ths => ths.map(t => [t.textContent, t.getBoundingClientRect().left,"
                            " t.getBoundingClientRect().right])")
            message = [b for b in boxes if b[0] == "Message"][0]
            assert message[2] <= 1280 and message[2] - message[1] >= 300
            file_column = [b for b in boxes if b[0] == "File"][0]
            assert file_column[2] - file_column[1] >= 200
            # Digests are shortened, the full value on hover.
            shortened = page.eval_on_selector_all("code[title]", "cs => cs.map(c => c.title)")
            assert shortened and all(len(t) >= 64 for t in shortened)
            assert "Duration" in page.inner_text("body") and "Overdue" in page.inner_text("body")
            assert "What to do next" in page.inner_text("body")
        finally:
            browser.close()
