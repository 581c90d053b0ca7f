"""Running the registry service: the API (uvicorn) and the indexer (a thread) in one process.

The indexer waits for the chain node and the deployment manifest, then follows the chain
until the server stops; the API answers from the index meanwhile (its status says how far
the index reaches). SIGINT and SIGTERM stop both: uvicorn finishes the requests in flight,
the indexer its current range (or drops it uncommitted).
"""

from __future__ import annotations

import logging
import threading

import uvicorn
from sqlalchemy import Engine

from client.chain.node import NODE_ERRORS
from client.chain.registry import Registry
from client.errors import ChainError

from .api import create_app
from .db import init_db, make_engine
from .indexer import Indexer
from .settings import ApiSettings

log = logging.getLogger(__name__)


def connect_indexer(settings: ApiSettings, engine: Engine, stop: threading.Event) -> Indexer | None:
    """An indexer for the deployed registry, once the node answers and the manifest is there
    (None if `stop` is set first)."""
    while not stop.is_set():
        try:
            return Indexer(Registry.connect(settings.rpc_url, settings.deployments), engine, settings)
        except (ChainError, *NODE_ERRORS) as exc:
            log.warning("indexer waiting for the chain: %s", exc)
        stop.wait(settings.poll_interval)
    return None


def follow(settings: ApiSettings, engine: Engine, stop: threading.Event) -> None:
    """Index until `stop` is set (the indexer thread's body)."""
    indexer = connect_indexer(settings, engine, stop)
    if indexer is not None:
        indexer.run(stop)


def serve(settings: ApiSettings, *, index: bool = True, log_level: str = "info") -> None:
    """Serve the API on settings.host:port (and follow the chain, unless `index` is False)
    until interrupted."""
    engine = make_engine(settings.database_url)
    init_db(engine)
    app = create_app(settings, engine)
    stop = threading.Event()
    worker = threading.Thread(target=follow, args=(settings, engine, stop), name="indexer", daemon=True)
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
