"""Screenshots of every page of the web app in every language (issue 15 "Tests"), for
docs/screenshots/ and the README:
`python scripts/screenshots.py URL OUT_DIR [PACKAGE_ID]` with the account to log in as in
PRESERVE_WEB_USER and PRESERVE_WEB_PASSWORD (an archivist or admin shows the action forms).

Drives Debian's Chromium (never a downloaded browser) through Playwright against a running
`preserve serve`; file names are PAGE-LANGUAGE.png.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import quote

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
LANGUAGES = ["en", "uz-Latn", "uz-Cyrl", "ru", "kk", "tk"]


def pages(package_id: str | None) -> dict[str, str]:
    shown = {"dashboard": "/", "packages": "/packages", "deposits": "/deposits",
             "audits": "/audits", "locations": "/locations", "tasks": "/tasks",
             "accounts": "/users"}
    if package_id:
        shown["package"] = "/packages/" + quote(package_id, safe="")
    return shown


def take(base_url: str, out: Path, package_id: str | None = None, *, user: str | None = None,
         password: str | None = None) -> list[Path]:
    from playwright.sync_api import sync_playwright
    user = user or os.environ.get("PRESERVE_WEB_USER", "")
    password = password or os.environ.get("PRESERVE_WEB_PASSWORD", "")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            for language in LANGUAGES:  # the login page, before logging in
                page.goto(f"{base_url}/lang/{language}?next=/login")
                target = out / f"login-{language}.png"
                page.screenshot(path=str(target), full_page=True)
                written.append(target)
            page.fill("#name", user)
            page.fill("#password", password)
            page.click("#login")
            page.wait_for_selector("#logout")
            for language in LANGUAGES:
                page.goto(f"{base_url}/lang/{language}?next=/")
                for name, path in pages(package_id).items():
                    page.goto(base_url + path)
                    target = out / f"{name}-{language}.png"
                    page.screenshot(path=str(target), full_page=True)
                    written.append(target)
        finally:
            browser.close()
    return written


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    for path in take(sys.argv[1].rstrip("/"), Path(sys.argv[2]),
                     sys.argv[3] if len(sys.argv) == 4 else None):
        print(path)
