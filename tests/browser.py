"""Open a report page in real headless Chromium (Debian's, installed by .ci/install-chromium).

What a reader relies on: the page loads without console errors, fetches nothing from the network,
every image decodes, and what it shows is not blank.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
# As root Chromium needs --no-sandbox; the rest keep it from calling Google's hosts, which this
# machine's closed network refuses (each refusal would be a console error that is not the page's).
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class PageCheck:
    console_errors: list[str]
    network: list[str]  # requests for anything but the page itself and data: URIs
    images: int
    broken_images: list[str]  # alt texts of images that did not decode
    screenshot: Path
    colors: int  # distinct colours in the screenshot: a blank page has one


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium browser (playwright driving Debian's binary)."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Chromium missing: run .ci/install-chromium"
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Any, page_file: Path, screenshot: Path) -> PageCheck:
    """Load `page_file` from disk, wait for it to settle, and report what a reader would see."""
    from PIL import Image

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    network: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.startswith("data:") or url == page_file.resolve().as_uri():
            request_route.continue_()
        else:
            network.append(url)
            request_route.abort()

    page.route("**/*", route)
    page.goto(page_file.resolve().as_uri(), wait_until="load")
    decoded = "i.complete && i.naturalWidth > 0 && i.naturalHeight > 0"
    images = page.evaluate(f"Array.from(document.images).map(i => [i.alt, {decoded}])")
    page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    with Image.open(screenshot) as shot:
        colors = len(shot.convert("RGB").getcolors(maxcolors=1 << 24) or [])
    return PageCheck(
        console_errors=errors,
        network=network,
        images=len(images),
        broken_images=[alt for alt, ok in images if not ok],
        screenshot=screenshot,
        colors=colors,
    )
