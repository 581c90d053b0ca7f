"""Running the registry service: the API (uvicorn, in this process or in worker processes) and
the indexer (a thread of this process: exactly one indexer, however many API workers).

The indexer waits for the chain node and the deployment manifest, then follows the chain
until the server stops; the API answers from the index meanwhile (its status says how far
the index reaches). SIGINT and SIGTERM stop both: uvicorn finishes the requests in flight,
the indexer its current range (or drops it uncommitted).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading

import uvicorn

from .api import create_app
from .db import init_db, make_engine
from .indexer import follow_chain
from .settings import ApiSettings


def serve(settings: ApiSettings, *, index: bool = True, log_level: str = "info") -> None:
    """Serve the API on settings.host:port with settings.workers processes (and follow the
    chain in this process, unless `index` is False) until interrupted."""
    engine = make_engine(settings.database_url)
    init_db(engine)
    stop = threading.Event()
    worker = threading.Thread(target=follow_chain, args=(settings, engine, stop), name="indexer", daemon=True)
    if index:
        worker.start()
    metrics_dir: str | None = None
    try:
        if settings.workers == 1:
            server = uvicorn.Server(uvicorn.Config(
                create_app(settings), host=settings.host, port=settings.port, log_level=log_level,
                access_log=False, timeout_graceful_shutdown=5,
            ))  # fmt: skip
            server.run()
        else:
            # Worker processes build their app from the environment: hand them these settings.
            metrics_dir = tempfile.mkdtemp(prefix="idsreg-metrics-")
            os.environ.update(
                IDSREG_API_HOST=settings.host, IDSREG_API_PORT=str(settings.port),
                IDSREG_API_DATABASE_URL=settings.database_url, PROMETHEUS_MULTIPROC_DIR=metrics_dir,
            )  # fmt: skip
            uvicorn.run(
                "registry_api.api:app_from_environment", factory=True, host=settings.host, port=settings.port,
                workers=settings.workers, log_level=log_level, access_log=False, timeout_graceful_shutdown=5,
            )  # fmt: skip
    finally:
        stop.set()
        if index:
            worker.join(timeout=30)
        engine.dispose()
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
