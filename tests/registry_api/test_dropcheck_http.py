"""Verify by drop served over plain HTTP to a host other than localhost, where the browser
withholds WebCrypto (not a secure context): the page hashes with @noble/hashes' SHA-256 and
still gives `idsreg hash`'s root. Its own module, since it needs a browser launched with other
flags than the one test_dropcheck.py keeps open."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import sync_playwright

from registry_api.db import init_db, make_engine
from tests.browser import CHROMIUM_ARGS, chromium_path
from tests.registry_api.conftest import serving
from tests.registry_api.helpers import settings
from tests.registry_api.test_dropcheck import MIB, idsreg_hash


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API over an empty index: hashing needs no chain, the lookup answers "not registered"."""
    database_url = f"sqlite:///{tmp_path_factory.mktemp('dropcheck-http') / 'index.db'}"
    engine = make_engine(database_url)
    init_db(engine)
    with serving(settings(database_url=database_url), engine) as served:
        yield served
    engine.dispose()


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
