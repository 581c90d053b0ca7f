"""The pages people open in a browser: `/` (the explorer's home: tests/registry_api/test_explorer.py
drives the explorer over a workload), `/docs` (Swagger UI) and `/redoc`, rendered by a real
Chromium with every asset served by the registry service itself (no CDN)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from registry_api.db import init_db, make_engine
from tests.browser import browser
from tests.registry_api.conftest import serving
from tests.registry_api.helpers import settings


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API over an empty index (the pages do not depend on what is indexed)."""
    database_url = f"sqlite:///{tmp_path_factory.mktemp('pages') / 'index.db'}"
    engine = make_engine(database_url)
    init_db(engine)
    with serving(settings(database_url=database_url), engine) as served:
        yield served
    engine.dispose()


def test_docs_render_from_the_service_own_assets(url: str, tmp_path: Path) -> None:
    with browser() as b:
        b.page.goto(f"{url}/docs")
        # Swagger UI has fetched the schema and drawn one block per operation.
        b.page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
        assert b.page.locator(".swagger-ui .opblock").count() >= 10
        assert b.page.get_by_text("/v1/datasets/{root}", exact=True).count() >= 1
        assert "IDS Registry API" in b.page.locator(".swagger-ui .info .title").inner_text()
        b.page.screenshot(path=str(tmp_path / "docs.png"))
        assert b.refused == []


def test_redoc_renders_from_the_service_own_assets(url: str) -> None:
    with browser() as b:
        b.page.goto(f"{url}/redoc")
        b.page.wait_for_selector("redoc h1", timeout=30_000)
        assert "IDS Registry API" in b.page.locator("redoc h1").first.inner_text()
        assert b.page.get_by_text("/v1/status").count() >= 1
        assert b.refused == []


def test_home_page_is_the_explorer_and_links_to_the_docs(url: str) -> None:
    page = httpx.get(f"{url}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for link in ('href="/docs"', 'href="/v1/status"', 'href="/redoc"'):
        assert link in page.text
    with browser() as b:
        b.page.goto(f"{url}/")
        assert b.page.locator("h1").inner_text() == "IDS Registry explorer"
        assert b.page.locator("#count-datasets").inner_text() == "0"  # an empty index renders too
        b.page.click("footer a[href='/v1/status']")
        assert b.page.url == f"{url}/v1/status"
        assert b.refused == []


def test_docs_assets_are_served_not_linked_to_a_cdn(url: str) -> None:
    for route in ("/docs", "/redoc"):
        html = httpx.get(f"{url}{route}").text
        assert "cdn." not in html and "googleapis" not in html, route
        for asset in ("/assets/docs/",):
            assert asset in html, route
    script = httpx.get(f"{url}/assets/docs/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000
