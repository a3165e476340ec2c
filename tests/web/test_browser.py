"""The web app in a real browser (issue 15 "Tests"): Debian's Chromium driven by Playwright
against `preserve serve` in a subprocess."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.web.conftest import PERSIAN_TITLE

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def browser_page():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: `apt-get install -y chromium` (.ci/run does)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 800})
        finally:
            browser.close()


def test_uzbek_cyrillic_persian_rtl_and_damage_on_the_dashboard(browser_page, served, cli,
                                                                  web_repo):
    page = browser_page
    page.set_extra_http_headers({"Accept-Language": "ru"})
    page.goto(served + "/")
    assert page.locator("h1").inner_text() == "Панель управления"
    # Switch to Uzbek Cyrillic with the language bar; the choice survives navigation.
    page.click('a[hreflang="uz-Cyrl"]')
    assert page.locator("h1").inner_text() == "Бошқарув панели"
    page.click('nav >> text=Пакетлар')
    assert page.locator("h1").inner_text() == "Пакетлар"
    page.fill('input[name="q"]', "نسخه")
    page.click('button[type="submit"]')
    page.click('a[href="/packages/fa-1"]')
    title = page.locator("#package-title")
    assert title.inner_text() == PERSIAN_TITLE
    # The title is laid out right to left inside the left-to-right page.
    assert title.evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert page.evaluate("getComputedStyle(document.body).direction") == "ltr"
    # A byte flipped in storage, found by an audit: the dashboard shows the damage.
    stored = next(p for p in web_repo.rglob("*.txt") if p.read_bytes() == b"persian")
    stored.write_bytes(b"pErsian")
    assert cli("--repo", web_repo, "audit").code != 0
    page.goto(served + "/")
    health = page.locator("#health")
    assert "Нусхалари шикастланган ёки йўқолган пакетлар" in health.inner_text()
    assert health.locator('a[href="/packages/fa-1"]').count() == 1


def test_screenshots_of_every_page_in_every_language(served, tmp_path):
    pytest.importorskip("playwright.sync_api")
    import importlib.util
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "scripts/screenshots.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.take(served, tmp_path / "shots", "fa-1")
    assert len(written) == 6 * 6
    assert all(p.stat().st_size > 5000 for p in written)
