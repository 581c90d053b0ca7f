"""A small client of the registry API (`registry_api`, docs/api.md): sign-in and the lists.

The API answers JSON with camelCase names; lists come in pages `{"data": [...], "nextCursor"}`
that `RegistryClient.items` follows. Its refusals (`{"error", "status", "field"}`) become
`ApiRefusedError` with the API's sentence; no answer at all becomes `ApiUnreachableError`
naming the URL. A bearer token comes from `sign_in` (EIP-4361 challenge signed by a member
key) and is kept between commands as an `ApiSession` file (mode 0600).

>>> RegistryClient("http://127.0.0.1:8600/").url
'http://127.0.0.1:8600'
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

import httpx
from eth_account.signers.local import LocalAccount

from .errors import ChainError, ConfigError, IdsRegistryError
from .files import create_new, replace
from .siwe import SignInMessage, sign_message

#: The largest page the API gives (its `limit` parameter's bound).
MAX_PAGE = 500
SESSION_FORMAT = "idsreg-api-session/1"
LOGIN_HINT = "log in again with `idsreg api login --key LABEL`"


class ApiUnreachableError(ChainError):
    """No registry API answers at the URL (exit 3, like an unreachable chain node)."""

    def __init__(self, url: str, reason: str = "") -> None:
        detail = f" ({reason})" if reason else ""
        super().__init__(
            f"no registry API answers at {url}{detail}; start one with `idsreg api serve --detach` "
            "or set IDSREG_API_URL"
        )
        self.url = url


class ApiRefusedError(IdsRegistryError):
    """The API refused a request: its one-sentence reason, with the HTTP status."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.field = field
        # 404: nothing of that name is indexed (not registered); 5xx: the service's side;
        # 503 in particular: the chain node or the index database does not answer.
        self.exit_code = 6 if status == 404 else 3 if status == 503 else 1 if status >= 500 else 2


class NotSignedInError(ConfigError):
    """No usable bearer token: none stored, expired, or refused by the API (exit 2)."""


@dataclass(frozen=True)
class ApiSession:
    """A bearer token as `idsreg api login` keeps it."""

    url: str
    access_token: str
    expires_at: int
    address: str
    org: dict[str, Any] | None
    roles: list[str]
    key: str

    @property
    def expired(self) -> bool:
        return self.expires_at <= int(time.time())

    def to_json(self) -> str:
        fields = asdict(self)
        return json.dumps(
            {
                "format": SESSION_FORMAT,
                "url": fields["url"],
                "accessToken": fields["access_token"],
                "expiresAt": fields["expires_at"],
                "address": fields["address"],
                "org": fields["org"],
                "roles": fields["roles"],
                "key": fields["key"],
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> ApiSession | None:
        """The session in `text`; None if it is not a session file."""
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("format") != SESSION_FORMAT:
                return None
            return cls(
                url=str(data["url"]),
                access_token=str(data["accessToken"]),
                expires_at=int(data["expiresAt"]),
                address=str(data["address"]),
                org=data["org"] if isinstance(data["org"], dict) else None,
                roles=[str(r) for r in data["roles"]],
                key=str(data["key"]),
            )
        except (ValueError, KeyError, TypeError):
            return None


def load_session(path: Path) -> ApiSession | None:
    """The stored session, None if there is none; ConfigError if the file is something else."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read the API session file {path}: {exc.strerror}") from None
    session = ApiSession.from_json(text)
    if session is None:
        raise ConfigError(f"{path} is not an API session file of `idsreg api login`; move it away and log in again")
    return session


def save_session(path: Path, session: ApiSession) -> Path:
    """Keep `session` in `path` (mode 0600): a new file, or in place of an earlier session file;
    any other file there is kept as it is (OverwriteRefusedError)."""
    if path.exists() or path.is_symlink():
        load_session(path)  # refuses a file that is not a session file
        if path.is_symlink():
            raise ConfigError(f"the API session file {path} is a symbolic link; remove it and log in again")
        return replace(path, session.to_json() + "\n", what="API session file", mode=0o600)
    return create_new(path, session.to_json() + "\n", what="API session file", mode=0o600)


def delete_session(path: Path) -> ApiSession | None:
    """Remove the stored session (only a session file); the session it held, if any."""
    session = load_session(path)
    if session is not None:
        path.unlink()
    return session


class RegistryClient:
    """The registry API at `url`, with a bearer token or without."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 15.0,
        page_size: int = MAX_PAGE,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.page_size = max(1, min(page_size, MAX_PAGE))
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout, transport=transport)
        self.signed_in = token is not None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ----- requests ---------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiUnreachableError(self.url, type(exc).__name__) from None
        if response.status_code >= 400:
            raise self._refusal(response)
        try:
            return response.json()
        except ValueError:
            raise ApiRefusedError(
                502, f"the registry API at {self.url} answered {path} with something that is not JSON"
            ) from None

    def _refusal(self, response: httpx.Response) -> IdsRegistryError:
        status = response.status_code
        try:
            body = response.json()
            message = str(body["error"]) if isinstance(body, dict) and "error" in body else response.text[:200]
            field = body.get("field") if isinstance(body, dict) else None
        except ValueError:
            message, field = response.text.strip()[:200] or response.reason_phrase, None
        message = " ".join(message.split())  # one line
        if status == 401:
            return NotSignedInError(f"the registry API refused the token: {message}; {LOGIN_HINT}")
        if status == 429:
            wait = response.headers.get("Retry-After")
            return ApiRefusedError(status, f"{message} (try again in {wait} s)" if wait else message, field)
        return ApiRefusedError(status, f"the registry API at {self.url} refused: {message}", field)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        clean = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        return self._request("GET", path, params=clean)

    def items(self, path: str, params: Mapping[str, Any] | None = None, limit: int | None = None) -> Iterator[Any]:
        """The items of a paged list, following `nextCursor`, at most `limit` (None: all)."""
        given = 0
        cursor: str | None = None
        while limit is None or given < limit:
            size = self.page_size if limit is None else min(self.page_size, limit - given)
            page = self.get(path, {**(params or {}), "limit": size, "cursor": cursor})
            for item in page["data"]:
                yield item
                given += 1
            cursor = page.get("nextCursor")
            if not cursor or not page["data"]:
                return

    # ----- the lists (filters as the API names them; docs/api.md) -------------------------

    def datasets(self, limit: int | None = None, **filters: Any) -> Iterator[Any]:
        """Filters: registrant, holder, right, grade, registered_from, registered_to, q."""
        return self.items("/v1/datasets", filters, limit)

    def grants(self, limit: int | None = None, **filters: Any) -> Iterator[Any]:
        """Filters: dataset, grantee, grantor, status, current. Needs a token."""
        return self.items("/v1/grants", filters, limit)

    def receipts(self, limit: int | None = None, **filters: Any) -> Iterator[Any]:
        """Filters: dataset, provider, consumer. Needs a token."""
        return self.items("/v1/receipts", filters, limit)

    def anchors(self, limit: int | None = None, **filters: Any) -> Iterator[Any]:
        """Filters: org."""
        return self.items("/v1/anchors", filters, limit)

    def disputes(self, limit: int | None = None, **filters: Any) -> Iterator[Any]:
        """Filters: dataset, status, claimant."""
        return self.items("/v1/disputes", filters, limit)

    def disclose_receipt_terms(self, digest: str, opening: Mapping[str, Any]) -> dict[str, Any]:
        """Disclose a receipt's terms opening (`{"terms", "salt"}`) to the service (a party only)."""
        found: dict[str, Any] = self._request("PUT", f"/v1/receipts/{digest}/terms", json=dict(opening))
        return found

    def disclose_grant_terms(
        self, dataset: str, grantee: str, serial: int, opening: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Disclose a grant's terms opening to the service (its grantor or grantee only)."""
        path = f"/v1/grants/{dataset}/{grantee}/{serial}/terms"
        found: dict[str, Any] = self._request("PUT", path, json=dict(opening))
        return found

    def submit_cosignature(self, note: bytes) -> dict[str, Any]:
        """Hand a cosigned checkpoint note to the service (`POST /v1/checkpoints/cosignatures`)."""
        answer: dict[str, Any] = self._request("POST", "/v1/checkpoints/cosignatures", json={"note": note.decode()})
        return answer

    def status(self) -> dict[str, Any]:
        found: dict[str, Any] = self.get("/v1/status")
        return found

    # ----- signing in -------------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        """Who the token stands for now (`GET /v1/auth/me`)."""
        found: dict[str, Any] = self.get("/v1/auth/me")
        return found

    def sign_in(self, account: LocalAccount, key_label: str) -> ApiSession:
        """Ask for a challenge, check it names this key, this API and its chain, sign it and
        trade it for a bearer token."""
        challenge = self._request("POST", "/v1/auth/challenge", json={"address": account.address})
        text = str(challenge["message"])
        message = SignInMessage.parse(text)
        if message.address != account.address:
            raise ConfigError(f"the API's sign-in message names {message.address}, not {account.address}; not signed")
        if _site(self.url) != _site(message.uri):
            raise ConfigError(f"the API's sign-in message is for {message.uri}, not {self.url}; not signed")
        status = self.status()
        if status.get("chainId") is not None and int(status["chainId"]) != message.chain_id:
            raise ConfigError(
                f"the API's sign-in message is for chain {message.chain_id}, but the API indexes chain "
                f"{status['chainId']}; not signed"
            )
        token = self._request(
            "POST", "/v1/auth/token", json={"message": text, "signature": sign_message(account, text)}
        )
        caller = token["caller"]
        return ApiSession(
            url=self.url,
            access_token=str(token["accessToken"]),
            expires_at=int(token["expiresAt"]),
            address=str(caller["address"]),
            org=caller.get("org"),
            roles=[str(r) for r in caller.get("roles", [])],
            key=key_label,
        )


#: Names of this machine: an API listening on all interfaces names itself 0.0.0.0.
_LOCAL = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "::"}


def _site(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of `url`, every name of this machine counted as one.

    >>> _site("http://localhost:8600/") == _site("http://0.0.0.0:8600")
    True
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme, "local" if host in _LOCAL else host, parts.port or (443 if parts.scheme == "https" else 80)


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


__all__ = [
    "ApiRefusedError",
    "ApiSession",
    "ApiUnreachableError",
    "NotSignedInError",
    "RegistryClient",
    "delete_session",
    "load_session",
    "save_session",
]
