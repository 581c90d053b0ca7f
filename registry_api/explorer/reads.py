"""What the explorer's pages show, read through the API itself.

Each page asks the app's own `/v1` routes in process (an ASGI call, no socket), with the
browser's bearer token when it has signed in. So a page shows exactly what the API would
answer that caller: the need-to-know rules live in the routes alone, never in a second copy
here. Only the counts and the latest right moves on the home page, which no route lists and
which are public anyway (every dataset's rights are public), are read from the index directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine, func, select

from ..domain import Anchor, Dataset, Dispute, Org, RightChange
from ..errors import RegistryApiError


class PageError(RegistryApiError):
    """An API answer a page cannot be drawn from: its status and the API's one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Reader:
    """One page's reads: the API in process, as the caller with `token` (None: signed out)."""

    client: httpx.AsyncClient
    token: str | None

    async def get(self, path: str, **query: Any) -> Any:
        """The JSON of `GET path?query` (None values left out); PageError for any non-200."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        params = {k: v for k, v in query.items() if v is not None}
        answer = await self.client.get(path, params=params, headers=headers)
        if answer.status_code != 200:
            raise PageError(answer.status_code, _reason(answer))
        return answer.json()

    async def post(self, path: str, body: Any) -> Any:
        """The JSON of `POST path` with the JSON `body`; PageError for any non-200."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        answer = await self.client.post(path, json=body, headers=headers)
        if answer.status_code != 200:
            raise PageError(answer.status_code, _reason(answer))
        return answer.json()

    async def maybe(self, path: str, **query: Any) -> Any:
        """Like `get`, None on a 401, 403 or 404 (what this caller may not see)."""
        try:
            return await self.get(path, **query)
        except PageError as exc:
            if exc.status in (401, 403, 404):
                return None
            raise


def _reason(answer: httpx.Response) -> str:
    try:
        return str(answer.json()["error"])
    except (ValueError, KeyError, TypeError):
        return f"the API answered {answer.status_code}"


def api_client(app: FastAPI) -> httpx.AsyncClient:
    """An HTTP client of `app` itself (no network; the app's lifespan is not run again)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://explorer.internal")


def counts(engine: Engine) -> dict[str, int]:
    """How many members, datasets, anchored batches and disputes the index holds."""
    tables = {"members": Org, "datasets": Dataset, "anchors": Anchor, "disputes": Dispute}
    with engine.connect() as connection:
        return {
            name: int(connection.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in tables.items()
        }


def latest_moves(engine: Engine, limit: int = 8) -> list[dict[str, Any]]:
    """The latest moves of a right (accepted offers, upheld disputes), newest first."""
    moves = RightChange.__table__  # type: ignore[attr-defined]
    query = select(moves).order_by(moves.c.block_number.desc(), moves.c.log_index.desc()).limit(limit)
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]
