"""Dependencies of the routes: the database session, settings, chain view and the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from ..auth import Caller, caller_of, confirm_on_chain, index_lags
from ..chainview import ChainView
from ..errors import Unauthorized
from ..settings import ApiSettings

_bearer = HTTPBearer(auto_error=False, description="A token from POST /v1/auth/token.")


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The one way routes read the index: a Session on the API's engine (autocommit, see
    `make_engine(reader=True)`); Core statements run on its `connection()`.

    The routes are plain functions, run in the thread pool, so that no query blocks the event
    loop. This dependency is async because making a Session does no I/O, and neither does
    closing it: the connection goes back to the pool with a rollback that an autocommit
    connection skips (psycopg and sqlite3 send nothing when no transaction is open); a sync
    one would cost two more trips through the thread pool per request.
    """
    with Session(request.app.state.engine) as session:
        yield session


async def get_settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


async def get_chain(request: Request) -> ChainView:
    chain: ChainView = request.app.state.chain
    return chain


SessionDep = Annotated[Session, Depends(get_session)]
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
    if credentials is None:  # anonymous: nothing to read, no trip through the thread pool
        return None
    token = credentials.credentials

    def check() -> Caller:  # reads the index and may ask the node: in the thread pool
        caller = caller_of(session, settings, token)
        fresh, head = chain.recent_head()
        if not fresh:
            head = chain.head()
        return confirm_on_chain(chain.registry(), caller) if index_lags(session, head) else caller

    return await run_in_threadpool(check)


async def require_caller(caller: Annotated[Caller | None, Depends(get_caller)]) -> Caller:
    if caller is None:
        raise Unauthorized("this needs a bearer token: sign in with POST /v1/auth/challenge and /v1/auth/token")
    return caller


CallerDep = Annotated[Caller | None, Depends(get_caller)]
SignedInDep = Annotated[Caller, Depends(require_caller)]
