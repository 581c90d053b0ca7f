"""Dependencies of the routes: the database session, settings, chain view and the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection
from sqlmodel import Session

from ..auth import Caller, caller_of, confirm_on_chain, index_lags
from ..chainview import ChainView
from ..errors import Unauthorized
from ..settings import ApiSettings

_bearer = HTTPBearer(auto_error=False, description="A token from POST /v1/auth/token.")


async def get_session(request: Request) -> AsyncIterator[Session]:
    # An async generator: FastAPI runs a sync one in the thread pool twice per request (enter
    # and exit), which costs more than the queries; making a Session does no I/O.
    with Session(request.app.state.engine) as session:
        yield session


async def get_connection(request: Request) -> AsyncIterator[Connection]:
    """A Core connection, for the hottest read routes (no ORM session around it)."""
    with request.app.state.engine.connect() as connection:
        yield connection


async def get_settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


async def get_chain(request: Request) -> ChainView:
    chain: ChainView = request.app.state.chain
    return chain


SessionDep = Annotated[Session, Depends(get_session)]
ConnectionDep = Annotated[Connection, Depends(get_connection)]
SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
ChainDep = Annotated[ChainView, Depends(get_chain)]


async def get_caller(
    session: SessionDep,
    settings: SettingsDep,
    chain: ChainDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller | None:
    """The signed-in caller, None without a token; Unauthorized for a bad or stale token, or
    for a key the chain no longer counts while the index lags behind it."""
    if credentials is None:
        return None
    caller = caller_of(session, settings, credentials.credentials)
    fresh, head = chain.recent_head()
    if not fresh:  # asking the node blocks: not on the event loop
        head = await run_in_threadpool(chain.head)
    if index_lags(session, head):
        known = caller
        caller = await run_in_threadpool(lambda: confirm_on_chain(chain.registry(), known))
    return caller


async def require_caller(caller: Annotated[Caller | None, Depends(get_caller)]) -> Caller:
    if caller is None:
        raise Unauthorized("this needs a bearer token: sign in with POST /v1/auth/challenge and /v1/auth/token")
    return caller


CallerDep = Annotated[Caller | None, Depends(get_caller)]
SignedInDep = Annotated[Caller, Depends(require_caller)]
