"""A real browser for page tests: Debian's Chromium (installed by scripts/setup) driven by
Playwright, which cannot download a browser of its own on the consortium's machines.

Every request a page makes to anywhere but the loopback address is refused and recorded, so a
test can assert that a page needs nothing from the internet (no CDN).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, sync_playwright

#: Flags for a headless Chromium on a machine with no network but loopback: without the
#: background-networking ones Chromium keeps calling home and logging refusals.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> Path:
    """Debian's Chromium; the page tests fail (not skip) without it: scripts/setup installs it."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("the page tests need Debian's chromium (scripts/setup installs it: apt-get install chromium)")
    return Path(found)


@dataclass
class Browser:
    """One page of a fresh browser profile, and the off-machine requests it tried."""

    page: Page
    refused: list[str] = field(default_factory=list)


@contextmanager
def browser() -> Iterator[Browser]:
    """A headless Chromium page that may load only from 127.0.0.1/localhost."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(chromium_path()), args=CHROMIUM_ARGS)
        try:
            context = chromium.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            session = Browser(page)

            def only_loopback(route: Route) -> None:
                host = urlsplit(route.request.url).hostname
                if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
                    route.continue_()
                else:
                    session.refused.append(route.request.url)
                    route.abort()

            context.route("**/*", only_loopback)
            yield session
        finally:
            chromium.close()
