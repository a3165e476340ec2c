"""The web app in a real browser (issue 15 "Tests"): Debian's Chromium driven by Playwright
against `preserve serve` in a subprocess."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from tests.builders import write_bag
from tests.web.conftest import ACCOUNTS, PASSWORD

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


UPLOADED_TITLE = "دیوان حافظ — Ҳофиз девони"
#: The deposit uploaded through the browser: names in five scripts, kept byte-exact.
UPLOADED_FILES = {
    "دیوان/غزل ۱.txt": b"Persian ghazal",
    "Qoʻlyozma/varaq-1.txt": b"Uzbek Latin leaf",
    "Қўлёзма/варақ-2.txt": b"Uzbek Cyrillic leaf",
    "Қолжазба/бет-3.txt": b"Kazakh leaf",
    "Golýazma/sahypa-4.txt": b"Turkmen leaf",
}


def zipped_bag(tmp_path: Path) -> Path:
    """A multilingual bag, zipped as an archive sends it."""
    bag = write_bag(tmp_path / "hafiz", UPLOADED_FILES,
                    bag_info=[("Source-Organization", "Milliy kutubxona"),
                              ("Title", UPLOADED_TITLE)])
    target = tmp_path / "hafiz.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(bag.rglob("*")):
            if path.is_file():
                archive.write(path, "hafiz/" + path.relative_to(bag).as_posix())
    return target


def test_log_in_upload_audit_from_the_ui_and_log_out(browser_page, served, web_repo, tmp_path):
    """The issue's walk: log in; switch to Uzbek Cyrillic; upload a multilingual deposit and see
    it ingested; the Persian title renders right to left; a byte flipped in storage, an audit
    started from the UI, the damage on the dashboard; log out."""
    page = browser_page
    page.set_extra_http_headers({"Accept-Language": "ru"})
    page.goto(served + "/")
    # Anonymous: only the login page, in the browser's language.
    assert page.locator("h1").inner_text() == "Войти"
    page.fill("#name", ACCOUNTS["archivist"])
    page.fill("#password", PASSWORD)
    page.click("#login")
    assert page.locator("h1").inner_text() == "Панель управления"
    assert page.locator("#account-name").inner_text() == ACCOUNTS["archivist"]
    # Switch to Uzbek Cyrillic with the language bar; the choice survives navigation.
    page.click('a[hreflang="uz-Cyrl"]')
    assert page.locator("h1").inner_text() == "Бошқарув панели"
    page.click("nav >> text=Пакетлар")
    assert page.locator("h1").inner_text() == "Пакетлар"

    # Upload a zipped multilingual bag: the task page follows the ingest to its end.
    page.goto(served + "/deposits")
    page.set_input_files("#deposit", str(zipped_bag(tmp_path)))
    page.fill("#package-id", "hafiz-1")
    page.click("#upload-submit")
    page.locator("#task-package").wait_for(timeout=120_000)
    assert page.locator("#task-state").inner_text() in ("муваффақиятли",
                                                         "огоҳлантиришлар билан тугади")
    page.click("#task-package")
    title = page.locator("#package-title")
    assert title.inner_text() == UPLOADED_TITLE
    # The title is laid out right to left inside the left-to-right page.
    assert title.evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert page.evaluate("getComputedStyle(document.body).direction") == "ltr"
    body = page.locator("body").inner_text()
    for name in UPLOADED_FILES:
        assert name.rsplit("/", 1)[1] in body, name
    # The ingest event names the archivist as the person who did it, beside the software.
    ingestion = [line for line in body.splitlines() if "\tingestion\t" in line]
    # columns: time, event, outcome, agent, person, recorded by
    assert ingestion and ingestion[0].split("\t")[4] == ACCOUNTS["archivist"], ingestion

    # A byte flipped in storage, found by an audit started from the dashboard.
    stored = next(p for p in web_repo.rglob("*.txt") if p.read_bytes() == b"Persian ghazal")
    stored.write_bytes(b"Persian ghazaL")
    page.goto(served + "/")
    page.click("#audit-all")
    page.locator("#task-state.bad").wait_for(timeout=120_000)
    assert page.locator("#task-state").inner_text() == "шикаст топилди"
    page.goto(served + "/")
    health = page.locator("#health")
    assert "Нусхалари шикастланган ёки йўқолган пакетлар" in health.inner_text()
    assert health.locator('a[href="/packages/hafiz-1"]').count() == 1

    # Log out: the session is over, every page asks for a login again.
    page.click("#logout")
    assert page.locator("h1").inner_text() == "Кириш"
    page.goto(served + "/packages/hafiz-1")
    assert page.locator("#login").count() == 1
    assert UPLOADED_TITLE not in page.content()


def test_screenshots_of_every_page_in_every_language(served, tmp_path):
    pytest.importorskip("playwright.sync_api")
    import importlib.util
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "scripts/screenshots.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.take(served, tmp_path / "shots", "fa-1", user=ACCOUNTS["admin"],
                          password=PASSWORD)
    # The login page, then eight pages (dashboard, packages, deposits, audits, locations,
    # tasks, accounts, one package), each in six languages.
    assert len(written) == 6 + 6 * 8
    assert all(p.stat().st_size > 5000 for p in written)
