"""Running the registry service: the API (uvicorn) and the indexer (a thread) in one process.

The indexer waits for the chain node and the deployment manifest, then follows the chain
until the server stops; the API answers from the index meanwhile (its status says how far
the index reaches). SIGINT and SIGTERM stop both: uvicorn finishes the requests in flight,
the indexer its current range (or drops it uncommitted).
"""

from __future__ import annotations

import threading

import uvicorn

from .api import create_app
from .db import init_db, make_engine
from .indexer import follow_chain
from .settings import ApiSettings


def serve(settings: ApiSettings, *, index: bool = True, log_level: str = "info") -> None:
    """Serve the API on settings.host:port (and follow the chain, unless `index` is False)
    until interrupted."""
    engine = make_engine(settings.database_url)
    init_db(engine)
    app = create_app(settings, engine)
    stop = threading.Event()
    worker = threading.Thread(target=follow_chain, args=(settings, engine, stop), name="indexer", daemon=True)
    if index:
        worker.start()
    server = uvicorn.Server(uvicorn.Config(
        app, host=settings.host, port=settings.port, log_level=log_level, access_log=False,
        timeout_graceful_shutdown=5,
    ))  # fmt: skip
    try:
        server.run()
    finally:
        stop.set()
        if index:
            worker.join(timeout=30)
        engine.dispose()
