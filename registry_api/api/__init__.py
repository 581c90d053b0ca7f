"""The registry's REST API (FastAPI): `/v1/…` routes over the index, `/metrics`, OpenAPI at `/docs`.

`create_app` builds an app over one index database; routes only read the domain tables (the
indexer is their only writer) — sign-in challenges are the one thing the API stores.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine
from sqlmodel import Session

from .. import store
from ..chainview import ChainView
from ..db import init_db, make_engine
from ..metrics import Metrics, MetricsMiddleware
from ..settings import ApiSettings, get_api_settings
from . import errors
from .routes import auth, datasets, evidence, licences, members, status, verify
from .schemas import ErrorPublic

API_VERSION = "1.0"
DESCRIPTION = """Provenance and rights of industrial datasets, as recorded on the consortium's ledger.

Everything here is read from an index of the chain's events; `GET /v1/status` says how far it
reaches. `POST /v1/verify` checks evidence against the chain itself. Licence and delivery
details need a bearer token (`POST /v1/auth/challenge`, then `POST /v1/auth/token`)."""


def create_app(settings: ApiSettings | None = None, engine: Engine | None = None) -> FastAPI:
    """The API over the index database of `settings` (or the given engine)."""
    settings = settings or get_api_settings()
    engine = engine or make_engine(settings.database_url)
    init_db(engine)
    with Session(engine) as session:
        checkpoint = store.get_checkpoint(session)
    chain = ChainView(settings, checkpoint.chain_id if checkpoint is not None else None)
    error_responses: dict[int | str, dict[str, object]] = {
        code: {"model": ErrorPublic, "description": text}
        for code, text in ((401, "No valid bearer token."), (403, "Not for this caller."), (404, "Not indexed."),
                           (422, "A malformed parameter; the error names it."))
    }  # fmt: skip
    app = FastAPI(title="IDS Registry API", version=API_VERSION, description=DESCRIPTION, responses=error_responses)
    app.state.settings = settings
    app.state.engine = engine
    app.state.chain = chain
    metrics = Metrics(engine, chain.head)
    app.state.metrics = metrics
    errors.install(app)
    for module in (status, members, datasets, licences, evidence, verify, auth):
        app.include_router(module.router)

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app
