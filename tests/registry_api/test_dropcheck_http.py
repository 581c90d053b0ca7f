"""Verify by drop served over plain HTTP to a host other than localhost, where the browser
withholds WebCrypto (not a secure context): the page hashes with @noble/hashes' SHA-256 and
still gives `idsreg hash`'s root. Its own module, since it needs a browser launched with other
flags than the one test_dropcheck.py keeps open."""

from __future__ import annotations

import random
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import sync_playwright

from tests.browser import CHROMIUM_ARGS, chromium_path
from tests.registry_api import test_pages
from tests.registry_api.test_dropcheck import MIB, idsreg_hash

#: The API over an empty index (the pages' fixture): hashing needs no chain, and the lookup
#: answers "not registered".
url = test_pages.url


def test_page_hashes_without_webcrypto_on_a_plain_http_host(url: str, tmp_path: Path) -> None:
    path = tmp_path / "lan.bin"
    path.write_bytes(random.Random(3).randbytes(MIB + 7))
    refused: list[str] = []
    # registry.lan resolves to this machine; nothing else resolves at all.
    args = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP registry.lan 127.0.0.1, MAP * ~NOTFOUND"]
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(chromium_path()), args=args)
        try:
            page = chromium.new_page()
            page.on("requestfailed", lambda request: refused.append(request.url))
            page.goto(f"http://registry.lan:{urlsplit(url).port}/verify")
            page.wait_for_selector("body[data-ready=true]")
            assert page.evaluate("window.isSecureContext") is False
            assert page.evaluate("document.body.dataset.webcrypto") == "false"
            page.set_input_files("#pick-file", str(path))
            page.wait_for_selector("body[data-state=looked-up]", timeout=120_000)
            assert page.locator("#root").inner_text() == idsreg_hash(path)
            assert "Not registered" in page.locator("#registration").inner_text()
            assert refused == []
        finally:
            chromium.close()
