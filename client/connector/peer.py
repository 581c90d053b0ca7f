"""Talking to another connector: each message signed with a fresh token, checked against the schemas."""

from __future__ import annotations

from typing import Any

import httpx
from eth_account.signers.local import LocalAccount

from ..errors import IdsRegistryError
from .identity import issue_token, normalise_url
from .schemas import Schemas

CONTEXT = ["https://w3id.org/dspace/2025/1/context.jsonld"]


class PeerError(IdsRegistryError):
    """Another connector did not answer, or refused a message (`status` its HTTP status, 0 if none)."""

    exit_code = 3

    def __init__(self, url: str, status: int, reason: str) -> None:
        shown = f"HTTP {status}" if status else "no answer"
        super().__init__(f"the connector at {url} refused the message ({shown}): {reason}")
        self.url = url
        self.status = status
        self.reason = reason


def message(kind: str, **fields: Any) -> dict[str, Any]:
    """A DSP message of type `kind` with its context."""
    return {"@context": CONTEXT, "@type": kind, **fields}


def join(base: str, path: str) -> str:
    """`base` + `path`, whether or not `base` ends with a slash (callback addresses may)."""
    return normalise_url(base) + "/" + path.lstrip("/")


class Peer:
    """Sends DSP messages for the organisation `org_id`, signed by its connector `key`."""

    def __init__(
        self, key: LocalAccount, org_id: str, schemas: Schemas | None = None, *, timeout: float = 30.0
    ) -> None:
        self.key = key
        self.org_id = org_id.lower()
        self.schemas = schemas
        self._http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def headers(self, audience: str) -> dict[str, str]:
        return {"Authorization": issue_token(self.key, self.org_id, audience), "Content-Type": "application/json"}

    def post(self, audience: str, url: str, body: dict[str, Any]) -> httpx.Response:
        """POST `body` (validated first) to `url` of the connector at `audience`; PeerError unless 2xx."""
        if self.schemas is not None:
            self.schemas.validate(body)
        try:
            response = self._http.post(url, json=body, headers=self.headers(audience))
        except httpx.HTTPError as exc:
            raise PeerError(url, 0, f"{type(exc).__name__}: {exc}") from None
        return self._reply(url, response)

    def post_document(self, audience: str, url: str, text: str) -> httpx.Response:
        """POST a JSON document that is no DSP message (a receipt file); PeerError unless 2xx."""
        headers = self.headers(audience)
        try:
            response = self._http.post(url, content=text.encode(), headers=headers)
        except httpx.HTTPError as exc:
            raise PeerError(url, 0, f"{type(exc).__name__}: {exc}") from None
        return _checked(url, response)

    def get(self, audience: str, url: str) -> httpx.Response:
        try:
            response = self._http.get(url, headers=self.headers(audience))
        except httpx.HTTPError as exc:
            raise PeerError(url, 0, f"{type(exc).__name__}: {exc}") from None
        return self._reply(url, response)

    def _reply(self, url: str, response: httpx.Response) -> httpx.Response:
        """The response if it is a 2xx; its DSP body (if any) checked against its schema too."""
        checked = _checked(url, response)
        if self.schemas is not None and checked.content:
            try:
                body = checked.json()
            except ValueError:
                raise PeerError(url, checked.status_code, "the answer is not JSON") from None
            if isinstance(body, dict) and isinstance(body.get("@type"), str):
                self.schemas.validate(body)
        return checked


def _checked(url: str, response: httpx.Response) -> httpx.Response:
    if response.is_success:
        return response
    try:
        body = response.json()
        reason = "; ".join(str(r) for r in body.get("reason", [])) or str(body)
    except ValueError:
        reason = response.text[:200]
    raise PeerError(url, response.status_code, reason)
