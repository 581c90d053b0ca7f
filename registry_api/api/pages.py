"""The OpenAPI documentation at `/docs` and `/redoc` (the explorer, `registry_api.explorer`, has `/`).

FastAPI's own documentation pages load Swagger UI and ReDoc from a CDN, which the consortium's
machines cannot reach (they show a blank page). These pages take the same assets from the
installed `fastapi-offline` package instead, served under `/assets/docs/`, and each page
carries a Content-Security-Policy that lets the browser load nothing from elsewhere (ReDoc, for
one, would otherwise fetch its attribution logo from its maker's CDN).
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

#: Swagger UI, ReDoc and a favicon, as installed (package data of `fastapi-offline`).
DOCS_ASSETS = files("fastapi_offline") / "static"
DOCS_ASSETS_URL = "/assets/docs"

#: Everything from this service; inline scripts and styles (the pages' own start-up code), and
#: ReDoc's search worker, which it starts from a blob.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'self'; base-uri 'self'; form-action 'self'"
)
_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY}


def install(app: FastAPI) -> None:
    """Add the documentation pages to `app` (built with `docs_url=None` and `redoc_url=None`, so
    that FastAPI's CDN-based pages are not there)."""
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=str(DOCS_ASSETS)), name="docs-assets")
    title = app.title

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return _confined(
            get_swagger_ui_html(
                openapi_url=app.openapi_url or "/openapi.json",
                title=f"{title} — documentation",
                swagger_js_url=f"{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
                swagger_css_url=f"{DOCS_ASSETS_URL}/swagger-ui.css",
                swagger_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
            )
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return _confined(
            get_redoc_html(
                openapi_url=app.openapi_url or "/openapi.json",
                title=f"{title} — reference",
                redoc_js_url=f"{DOCS_ASSETS_URL}/redoc.standalone.js",
                redoc_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
                with_google_fonts=False,
            )
        )


def _confined(page: HTMLResponse) -> HTMLResponse:
    page.headers.update(_HEADERS)
    return page
