"""The explorer: server-rendered pages for people over the registry's index (docs/explorer.md).

Home (`/`), a dataset (`/datasets/{root}`, with its lineage graph and its timeline), an
organisation (`/orgs/{org}`), the exchanges between organisations or on one dataset
(`/exchanges`, with a chart), search, and sign-in by a one-time link (`/signin?code=…`, from
`idsreg api login --link`). Every page reads through the API's own routes as the signed-in
caller (`reads.py`), so need-to-know is exactly the API's. The graph and chart libraries are
the project's installed npm packages, served from the checkout's `node_modules/`: no CDN, no
build step.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from . import pages

HERE = Path(__file__).parent
#: The checkout's npm packages (`npm ci` in scripts/setup); only the libraries' dist folders are served.
NODE_MODULES = HERE.parent.parent / "node_modules"
#: The browser libraries the pages load: URL folder → folder under node_modules.
LIBRARIES = {"cytoscape": "cytoscape/dist", "chart.js": "chart.js/dist"}


def install(app: FastAPI) -> None:
    """Add the explorer's pages and assets to `app`."""
    app.mount("/assets/explorer", StaticFiles(directory=HERE / "static"), name="explorer-assets")
    for name, folder in LIBRARIES.items():
        # check_dir=False: without `npm ci` (or installed from a wheel) the API still starts, and
        # the pages say that the graph or chart library is missing.
        app.mount(
            f"/assets/npm/{name}", StaticFiles(directory=NODE_MODULES / folder, check_dir=False), name=f"npm-{name}"
        )
    app.include_router(pages.router)
    # httpx logs each request at INFO: each page's in-process reads of the API would fill the
    # service's log with lines of the made-up host `explorer.internal`. The service makes no
    # other httpx requests.
    logging.getLogger("httpx").setLevel(logging.WARNING)
