"""Pages for people: a landing page at `/` and the OpenAPI documentation at `/docs` and `/redoc`.

FastAPI's own documentation pages load Swagger UI and ReDoc from a CDN, which the consortium's
machines cannot reach (they show a blank page). These pages take the same assets from the
installed `fastapi-offline` package instead, served under `/assets/docs/`, and each page
carries a Content-Security-Policy that lets the browser load nothing from elsewhere (ReDoc, for
one, would otherwise fetch its attribution logo from its maker's CDN).
"""

from __future__ import annotations

from html import escape
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

_LANDING = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="{assets}/favicon.png">
<style>
body {{ font-family: system-ui, sans-serif; max-width: 44rem; margin: 3rem auto; padding: 0 1rem;
       line-height: 1.5; color: #1b1f24; }}
h1 {{ font-size: 1.6rem; margin-bottom: 0.2rem; }}
.version {{ color: #57606a; margin-top: 0; }}
ul {{ padding-left: 1.2rem; }}
code {{ background: #f3f4f6; padding: 0.1rem 0.3rem; border-radius: 3px; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p class="version">version {version}</p>
<p>The registry service of an industrial data space: it indexes the consortium's ledger
(datasets by content root, their three rights, licences, deliveries, anchors and disputes)
and answers questions about it. The chain is the source of truth; this service is a
rebuildable index of it.</p>
<ul>
<li><a href="/docs">API documentation</a> (Swagger UI) &middot; <a href="/redoc">reference</a> (ReDoc)
  &middot; <a href="/openapi.json">OpenAPI schema</a></li>
<li><a href="/v1/status">Status</a>: chain head, indexed head and lag, contract addresses</li>
<li><a href="/v1/datasets">Datasets</a> &middot; <a href="/v1/members">members</a></li>
</ul>
<p>Licence and delivery details need a bearer token: sign a challenge with a member key
(<code>POST /v1/auth/challenge</code>, then <code>POST /v1/auth/token</code>).</p>
</body>
</html>
"""


def install(app: FastAPI) -> None:
    """Add the landing page and the documentation pages to `app` (built with `docs_url=None`
    and `redoc_url=None`, so that FastAPI's CDN-based pages are not there)."""
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=str(DOCS_ASSETS)), name="docs-assets")
    title = app.title
    landing = _LANDING.format(title=escape(title), version=escape(app.version), assets=DOCS_ASSETS_URL)

    @app.get("/", include_in_schema=False)
    def home() -> HTMLResponse:
        return HTMLResponse(landing, headers=_HEADERS)

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
