"""Verify by drop (`GET /verify`): a page that hashes a dropped file or folder in the browser
and tells whether and by whom its content root is registered, its anchors, and whether a
dropped proof file or receipt file verifies (docs/explorer-verify.md).

Nothing dropped leaves the browser: the content root is computed locally (WebCrypto SHA-256
in a Web Worker, docs/hashing.md), and the page asks the API only about roots, anchors and
members, as anyone may. The page is one static template and ES modules without a build step;
keccak-256 and secp256k1 come from the checkout's installed npm packages (`@noble/hashes`,
`@noble/curves`), served under `/assets/npm/`, never from a CDN.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from ..api.pages import CONTENT_SECURITY_POLICY

#: The page's own scripts and styles.
STATIC = files(__name__) / "static"
STATIC_URL = "/assets/verify"
#: The npm packages the page imports, as `npm ci` installs them in the checkout (package.json).
NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
NPM_URL = "/assets/npm"
NPM_PACKAGES = ("@noble/hashes", "@noble/curves")

router = APIRouter()
_PAGE = (files(__name__) / "templates" / "verify.html").read_text(encoding="utf-8")


@router.get("/verify", include_in_schema=False)
def verify_page() -> HTMLResponse:
    """Verify by drop: hash a file or folder in the browser and look its root up."""
    return HTMLResponse(_PAGE, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})


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
