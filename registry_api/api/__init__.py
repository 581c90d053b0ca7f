"""The registry's REST API (FastAPI): `/v1/…` routes over the index, `/metrics`, OpenAPI at `/docs`.

`create_app` builds an app over one index database; routes only read the domain tables (the
indexer is their only writer) — sign-in challenges, their rate counters, one-time sign-in
links and disclosed terms are all the API stores. It also serves the explorer's pages
(`registry_api.explorer`).

The routes that only read the index are `async def` and query the database directly: every
one of those queries is bounded (by key, or by a page limit) and takes well under a
millisecond, while handing a request to the thread pool and back costs more than a
millisecond on a small machine. Routes that wait for the chain node (status, verify) or do
the sign-in's signature work stay in the thread pool. Concurrency beyond one core comes from
worker processes (`idsreg api serve --workers N`).
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlmodel import Session

from .. import dropcheck, explorer, store
from ..chainview import ChainView
from ..db import init_db, make_engine
from ..metrics import Metrics, MetricsMiddleware
from ..settings import ApiSettings, get_api_settings
from . import errors, pages
from .hotpath import HotReads
from .limits import BodyLimits
from .routes import audit, auth, checkpoints, classify, datasets, evidence, licences, members, status, verify
from .schemas import ErrorPublic

API_VERSION = "1.0"
DESCRIPTION = """Provenance and rights of industrial datasets, as recorded on the consortium's ledger.

Everything here is read from an index of the chain's events; `GET /v1/status` says how far it
reaches. `POST /v1/verify` checks evidence against the chain itself. Licence and delivery
details need a bearer token (`POST /v1/auth/challenge`, then `POST /v1/auth/token`)."""


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """The API over the index database of `settings` (with an engine of its own: see
    `make_engine(reader=True)`)."""
    settings = settings or get_api_settings()
    engine = make_engine(settings.database_url, reader=True)
    init_db(engine)
    with Session(engine) as session:
        checkpoint = store.get_checkpoint(session)
    chain = ChainView(settings, checkpoint.chain_id if checkpoint is not None else None)
    error_responses: dict[int | str, dict[str, object]] = {
        code: {"model": ErrorPublic, "description": text}
        for code, text in (
            (401, "No valid bearer token."),
            (403, "Not for this caller."),
            (404, "Not indexed."),
            (422, "A malformed parameter or body; the error names it."),
            (503, "The index database, or the chain node while the index lags, does not answer."),
        )
    }
    hot = HotReads(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # What start-up made (modules, schemas, compiled routes) lives as long as the process:
        # moving it out of the collector's sight keeps collections short while answering.
        gc.collect()
        gc.freeze()
        yield
        hot.close()
        engine.dispose()

    app = FastAPI(
        title="IDS Registry API",
        version=API_VERSION,
        description=DESCRIPTION,
        responses=error_responses,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.hot = hot
    app.state.chain = chain
    metrics = Metrics(engine, chain.head)
    app.state.metrics = metrics
    errors.install(app)
    pages.install(app)
    explorer.install(app)
    dropcheck.install(app)
    # Routing tries the routers in this order: the most asked-for first.
    for module in (datasets, members, licences, evidence, status, verify, auth, classify, checkpoints, audit):
        app.include_router(module.router)

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(BodyLimits, max_bytes=settings.max_body_bytes, max_depth=settings.max_body_depth)
    return app


def app_from_environment() -> FastAPI:
    """The app as a worker process builds it (uvicorn's factory, settings from the environment)."""
    return create_app(get_api_settings())
