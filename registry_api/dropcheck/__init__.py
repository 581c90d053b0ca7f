"""Verify by drop (`GET /verify`): a page that hashes a dropped file or folder in the browser
and tells whether and by whom its content root is registered, its anchors, and whether a
dropped proof file or receipt file verifies (docs/explorer-verify.md).

Nothing dropped leaves the browser: the content root is computed locally (WebCrypto SHA-256
in a Web Worker, docs/hashing.md), and the page asks the API only about roots, anchors and
members, as anyone may. The page is one static template and ES modules without a build step;
keccak-256 and secp256k1 come from the checkout's installed npm packages (`@noble/hashes`,
`@noble/curves`), served under `/assets/npm/`, never from a CDN.

The page is one of the explorer's (`registry_api/explorer/templates/verify.html`, in its layout
and navigation). It carries the explorer's Content-Security-Policy with one addition: its
import map, the one inline script, admitted by its SHA-256 (CSP Level 3 hash source).
"""

from __future__ import annotations

import base64
import hashlib
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from ..explorer import pages
from ..explorer.reads import Reader

#: The page's own scripts and styles.
STATIC = files(__name__) / "static"
STATIC_URL = "/assets/verify"
#: The npm packages the page imports, as `npm ci` installs them in the checkout (package.json).
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
NPM_URL = "/assets/npm"
NPM_PACKAGES = ("@noble/hashes", "@noble/curves")

router = APIRouter()


def _import_map_hash() -> str:
    """The CSP hash source of the page's import map, exactly as the template holds it."""
    template = (pages.TEMPLATES / "verify.html").read_text(encoding="utf-8")
    found = re.search(r'<script type="importmap">(.*?)</script>', template, re.DOTALL)
    if found is None:
        raise RuntimeError("verify.html has no import map")
    digest = hashlib.sha256(found.group(1).encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


#: The explorer's policy, with the import map admitted by its hash.
CONTENT_SECURITY_POLICY = pages.CONTENT_SECURITY_POLICY.replace(
    "script-src 'self'", f"script-src 'self' {_import_map_hash()}"
)


@router.get("/verify", include_in_schema=False)
async def verify_page(request: Request) -> HTMLResponse:
    """Verify by drop: hash a file or folder in the browser and look its root up."""

    async def build(reader: Reader, caller: dict[str, Any] | None) -> dict[str, Any]:
        return {}

    page = await pages._view(request, "verify.html", build)
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return page


def install(app: FastAPI) -> None:
    """Mount the page, its scripts and the npm packages it imports on `app`."""
    app.mount(STATIC_URL, StaticFiles(directory=str(STATIC)), name="verify-assets")
    for package in NPM_PACKAGES:
        # check_dir=False: a service installed without the checkout's node_modules still
        # starts; the page then says it cannot load its libraries.
        app.mount(
            f"{NPM_URL}/{package}",
            StaticFiles(directory=str(NODE_MODULES / package), check_dir=False),
            name=f"npm-{package}",
        )
    app.include_router(router)
