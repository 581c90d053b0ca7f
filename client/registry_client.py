"""The typed client of the registry API (`registry_api`, docs/api.md and docs/sdk.md).

`RegistryClient` asks what an application asks — is this file registered
(`lookup_file`), who holds its rights (`dataset`), who may use it (`licensees`, `may_use`),
what it was derived from (`lineage`, `children`), its history, anchors, receipts — and
answers with the models the API itself answers with (`client.api_models`). Lists come in
pages `{"data": [...], "nextCursor"}` that `RegistryClient.items` follows. Its refusals
(`{"error", "status", "field"}`) become `ApiRefusedError` with the API's sentence; no answer
at all becomes `ApiUnreachableError` naming the URL. A bearer token comes from `sign_in`
(EIP-4361 challenge signed by a member key) and is kept between commands as an `ApiSession`
file (mode 0600).

The API answers from its index of the chain. Verification (`client.verify`, `idsreg verify`,
`idsreg receipt verify`, `idsreg grant check`) asks the chain itself: the chain is the source
of truth.

>>> RegistryClient("http://127.0.0.1:8600/").url
'http://127.0.0.1:8600'
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ValidationError

from .api_models import (
    AnchorPublic,
    CallerPublic,
    ChallengePublic,
    DatasetDetailPublic,
    DatasetPublic,
    DisputeDetailPublic,
    DisputePublic,
    GrantPublic,
    HistoryEntryPublic,
    KeyPublic,
    LineagePublic,
    MemberDetailPublic,
    MemberPublic,
    Page,
    ProposalPublic,
    ReceiptPublic,
    RightChangePublic,
    RolesPublic,
    SignInLinkPublic,
    StatusPublic,
    TokenPublic,
)
from .errors import ChainError, ConfigError, IdsRegistryError
from .files import create_new, replace

if TYPE_CHECKING:
    # Only signing in needs the key libraries: reads through the API do not load them.
    from eth_account.signers.local import LocalAccount

#: The largest page the API gives (its `limit` parameter's bound).
MAX_PAGE = 500
SESSION_FORMAT = "idsreg-api-session/1"
LOGIN_HINT = "log in again with `idsreg api login --key LABEL`"

M = TypeVar("M", bound=BaseModel)

#: A licence's permissions, as the API names them (AccessRegistry's bits).
PERMISSIONS = ("read", "derive", "reshare", "commercial")


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
            raise self._refusal(response, path)
        try:
            return response.json()
        except ValueError:
            raise ApiRefusedError(
                502, f"the registry API at {self.url} answered {path} with something that is not JSON"
            ) from None

    def _refusal(self, response: httpx.Response, path: str) -> IdsRegistryError:
        status = response.status_code
        try:
            body = response.json()
            message = str(body["error"]) if isinstance(body, dict) and "error" in body else response.text[:200]
            field = body.get("field") if isinstance(body, dict) else None
        except ValueError:
            message, field = response.text.strip()[:200] or response.reason_phrase, None
        message = " ".join(message.split())  # one line
        if status == 401 and not self.signed_in:
            return NotSignedInError(
                f"the registry API at {self.url} answers {path} only to a signed-in caller ({message}); sign in "
                "first (`RegistryClient.sign_in`, or `idsreg api login --key LABEL`)"
            )
        if status == 401:
            return NotSignedInError(f"the registry API refused the token: {message}; {LOGIN_HINT}")
        if status == 429:
            wait = response.headers.get("Retry-After")
            return ApiRefusedError(status, f"{message} (try again in {wait} s)" if wait else message, field)
        return ApiRefusedError(status, f"the registry API at {self.url} refused: {message}", field)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """The JSON answer to a GET (the typed methods below read it into models)."""
        clean = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        return self._request("GET", path, params=clean)

    def fetch(self, path: str, model: type[M], params: Mapping[str, Any] | None = None) -> M:
        """GET `path` and read the answer as `model`."""
        return _read(model, self.get(path, params), self.url, path)

    def items(
        self, path: str, model: type[M], params: Mapping[str, Any] | None = None, limit: int | None = None
    ) -> Iterator[M]:
        """The items of a paged list as `model`, following `nextCursor`, at most `limit` (None: all)."""
        given = 0
        cursor: str | None = None
        while limit is None or given < limit:
            size = self.page_size if limit is None else min(self.page_size, limit - given)
            answer = self.get(path, {**(params or {}), "limit": size, "cursor": cursor})
            page: Page[M] = _read(Page[model], answer, self.url, path)  # type: ignore[valid-type]
            for item in page.data:
                yield item
                given += 1
                if limit is not None and given >= limit:
                    return
            cursor = page.next_cursor
            if not cursor or not page.data:
                return

    # ----- datasets: is it registered, who holds it, where it came from --------------------

    def dataset(self, root: str | bytes) -> DatasetDetailPublic:
        """A registered dataset: registrant, grade, holders of its three rights, open offers,
        parents and (the first 100) children. ApiRefusedError with status 404 (exit 6) if the
        index holds no such dataset; `find_dataset` answers None instead."""
        return self.fetch(f"/v1/datasets/{_root(root)}", DatasetDetailPublic)

    def find_dataset(self, root: str | bytes) -> DatasetDetailPublic | None:
        """The dataset with this content root, or None if none is registered (as indexed)."""
        try:
            return self.dataset(root)
        except ApiRefusedError as exc:
            if exc.status == 404:
                return None
            raise

    def lookup_file(self, path: str | Path) -> FileLookup:
        """Is this file (or folder) registered? Its content root, computed here (docs/hashing.md),
        and the dataset registered under it, if any."""
        from .hashing import content_root, hex32

        root = hex32(content_root(Path(path)))
        return FileLookup(Path(path), root, self.find_dataset(root))

    def datasets(self, limit: int | None = None, **filters: Any) -> Iterator[DatasetPublic]:
        """Registered datasets, newest first. Filters: registrant, holder, right, grade,
        registered_from, registered_to, q."""
        return self.items("/v1/datasets", DatasetPublic, filters, limit)

    def history(self, root: str | bytes, limit: int | None = None) -> Iterator[HistoryEntryPublic]:
        """Every event touching the dataset (and its derived datasets' registrations), in chain
        order; licences and deliveries the caller may not see come redacted."""
        return self.items(f"/v1/datasets/{_root(root)}/history", HistoryEntryPublic, None, limit)

    def lineage(
        self, root: str | bytes, direction: Literal["up", "down", "both"] = "both", depth: int = 3
    ) -> LineagePublic:
        """The lineage graph around a dataset: what it was derived from (up), what was derived
        from it (down), `depth` steps (1 to 10) each way."""
        return self.fetch(
            f"/v1/datasets/{_root(root)}/lineage", LineagePublic, {"direction": direction, "depth": depth}
        )

    def children(self, root: str | bytes) -> list[str]:
        """Every dataset registered as derived from this one, in chain order."""
        detail = self.dataset(root)
        if detail.child_count <= len(detail.children):
            return detail.children
        # More than the detail lists: its history holds every derived dataset's registration.
        found: dict[str, None] = {}
        for entry in self.history(detail.root):
            if entry.event == "DatasetRegistered" and entry.args and str(entry.args["root"]).lower() != detail.root:
                found.setdefault(str(entry.args["root"]).lower())
        return list(found)

    def rights(self, root: str | bytes) -> list[RightChangePublic]:
        """Every move of the dataset's rights (offers accepted, disputes upheld), in chain order."""
        found = self.get(f"/v1/datasets/{_root(root)}/rights")
        return [_read(RightChangePublic, item, self.url, "rights") for item in found]

    # ----- licences: who may use it ----------------------------------------------------------

    def grants(self, limit: int | None = None, **filters: Any) -> Iterator[GrantPublic]:
        """Licences, newest first. Filters: dataset, grantee, grantor, status, current. Needs a
        token: the API lists only those of the caller's organisation (all for auditors and
        governors)."""
        return self.items("/v1/grants", GrantPublic, filters, limit)

    def grants_to(self, dataset: str | bytes, grantee: str) -> list[GrantPublic]:
        """Every licence on `dataset` to one organisation that the caller may see, newest
        serial first. Needs a token; 404 (exit 6) when there is none to see."""
        found = self.get(f"/v1/grants/{_root(dataset)}/{grantee}")
        return [_read(GrantPublic, item, self.url, "grants") for item in found]

    def licensees(self, dataset: str | bytes, at: int | None = None) -> list[GrantPublic]:
        """The licences that let an organisation use the dataset at time `at` (Unix seconds of
        the chain's clock; default: the time of the last indexed block): current, active, and
        within their validity window. Needs a token: a member sees its own, auditors and
        governors all."""
        when = self.chain_time() if at is None else at
        found = self.grants(dataset=_root(dataset), status="active", current=True)
        return [g for g in found if g.valid_from <= when <= g.valid_until]

    def may_use(self, dataset: str | bytes, org: str, permission: str = "read", at: int | None = None) -> Authorization:
        """Whether organisation `org` may use the dataset with `permission` (read, derive,
        reshare, commercial) at time `at` (chain time; default: the time of the last indexed
        block), as the index says, and why.

        The answer follows the contract's `isAuthorized`: the organisation is an active,
        certified member, and its current licence is active, holds the permission and covers
        the time. It is the index's answer (as of its last block); `idsreg grant check` asks
        the chain itself, which also refuses a licence issued before a reveal superseded the
        dataset's registration. ConfigError for a permission that is none of those four."""
        if permission not in PERMISSIONS:
            raise ConfigError(f"permission {permission!r} is not one of {', '.join(PERMISSIONS)}")
        when = self.chain_time() if at is None else at
        member = self.member(org)
        name = f"{member.name} (member {member.org_no})"
        if member.status != "active" or member.certified_until <= when:
            state = member.status if member.status != "active" else "not certified"
            return Authorization(False, f"{name} is {state}: it may use nothing", None)
        try:
            grants = self.grants_to(dataset, member.org_id)
        except ApiRefusedError as exc:
            if exc.status != 404:
                raise
            return Authorization(False, f"{name} holds no licence on dataset {_root(dataset)}", None)
        grant = next((g for g in grants if g.current), grants[0])
        if grant.status != "active":
            return Authorization(False, f"{name}'s licence {grant.serial} is {grant.status}", grant)
        if permission not in grant.permissions:
            held = ", ".join(grant.permissions) or "none"
            return Authorization(
                False, f"{name}'s licence {grant.serial} does not grant {permission} (it grants {held})", grant
            )
        if not grant.valid_from <= when <= grant.valid_until:
            return Authorization(
                False,
                f"{name}'s licence {grant.serial} is not valid at {when} ({grant.valid_from}-{grant.valid_until})",
                grant,
            )
        return Authorization(True, f"{name} may {permission} under licence {grant.serial}", grant)

    def receipts(self, limit: int | None = None, **filters: Any) -> Iterator[ReceiptPublic]:
        """Delivery receipts, newest first. Filters: dataset, provider, consumer. Needs a token."""
        return self.items("/v1/receipts", ReceiptPublic, filters, limit)

    def receipt(self, digest: str) -> ReceiptPublic:
        """One delivery receipt by its EIP-712 digest. Needs a token (a party, auditor or governor)."""
        return self.fetch(f"/v1/receipts/{digest}", ReceiptPublic)

    # ----- anchors, disputes, members ----------------------------------------------------------

    def anchors(self, limit: int | None = None, **filters: Any) -> Iterator[AnchorPublic]:
        """Batch anchors, newest first. Filters: org."""
        return self.items("/v1/anchors", AnchorPublic, filters, limit)

    def anchor(self, root: str | bytes) -> AnchorPublic:
        """One batch anchor by its Merkle root."""
        return self.fetch(f"/v1/anchors/{_root(root)}", AnchorPublic)

    def disputes(self, limit: int | None = None, **filters: Any) -> Iterator[DisputePublic]:
        """Rights disputes, newest first. Filters: dataset, status, claimant."""
        return self.items("/v1/disputes", DisputePublic, filters, limit)

    def dispute(self, dispute_id: int) -> DisputeDetailPublic:
        return self.fetch(f"/v1/disputes/{dispute_id}", DisputeDetailPublic)

    def members(self, limit: int | None = None, **filters: Any) -> Iterator[MemberPublic]:
        """Member organisations by member number. Filters: status."""
        return self.items("/v1/members", MemberPublic, filters, limit)

    def member(self, org: str | int) -> MemberDetailPublic:
        """One organisation (identifier, 0x org id or member number) with every key that acts
        or acted for it."""
        return self.fetch(f"/v1/members/{org}", MemberDetailPublic)

    def key(self, address: str) -> KeyPublic:
        """Which organisation a key acts for, in which role, and whether it may act now."""
        return self.fetch(f"/v1/keys/{address}", KeyPublic)

    def roles(self) -> RolesPublic:
        return self.fetch("/v1/roles", RolesPublic)

    def proposals(self, limit: int | None = None, **filters: Any) -> Iterator[ProposalPublic]:
        """Governance proposals, newest first. Filters: status."""
        return self.items("/v1/proposals", ProposalPublic, filters, limit)

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

    def status(self) -> StatusPublic:
        """How far the index reaches: chain id, indexed block, chain head, lag."""
        return self.fetch("/v1/status", StatusPublic)

    def chain_time(self) -> int:
        """ "Now" for licence questions: the timestamp of the last indexed block. Licence
        windows are in the chain's time, which need not follow this machine's clock (a node
        whose clock was moved, a chain idle for hours); an index that has not indexed any
        block yet falls back to this machine's clock."""
        indexed = self.status().indexed_block_time
        return int(time.time()) if indexed is None else indexed

    # ----- signing in -------------------------------------------------------------------

    def me(self) -> CallerPublic:
        """Who the token stands for now (`GET /v1/auth/me`)."""
        return self.fetch("/v1/auth/me", CallerPublic)

    def sign_in_link(self) -> SignInLinkPublic:
        """A one-time link that signs a browser in to the explorer as this client's caller
        (`POST /v1/auth/link`; about a minute, once). Needs a token."""
        path = "/v1/auth/link"
        return _read(SignInLinkPublic, self._request("POST", path), self.url, path)

    def sign_in(self, account: LocalAccount, key_label: str) -> ApiSession:
        """Ask for a challenge, check it names this key, this API and its chain, sign it and
        trade it for a bearer token (kept by this client for its later requests)."""
        from .siwe import SignInMessage, sign_message

        path = "/v1/auth/challenge"
        challenge = _read(
            ChallengePublic, self._request("POST", path, json={"address": account.address}), self.url, path
        )
        text = challenge.message
        message = SignInMessage.parse(text)
        if message.address != account.address:
            raise ConfigError(f"the API's sign-in message names {message.address}, not {account.address}; not signed")
        if _site(self.url) != _site(message.uri):
            raise ConfigError(f"the API's sign-in message is for {message.uri}, not {self.url}; not signed")
        status = self.status()
        if status.chain_id is not None and status.chain_id != message.chain_id:
            raise ConfigError(
                f"the API's sign-in message is for chain {message.chain_id}, but the API indexes chain "
                f"{status.chain_id}; not signed"
            )
        path = "/v1/auth/token"
        body = {"message": text, "signature": sign_message(account, text)}
        token = _read(TokenPublic, self._request("POST", path, json=body), self.url, path)
        self._http.headers["Authorization"] = f"Bearer {token.access_token}"
        self.signed_in = True
        caller = token.caller
        return ApiSession(
            url=self.url,
            access_token=token.access_token,
            expires_at=token.expires_at,
            address=caller.address,
            org=caller.org.model_dump(mode="json") if caller.org is not None else None,
            roles=list(caller.roles),
            key=key_label,
        )


@dataclass(frozen=True)
class FileLookup:
    """A file's content root and the dataset registered under it (None: not registered)."""

    path: Path
    root: str
    dataset: DatasetDetailPublic | None

    @property
    def registered(self) -> bool:
        return self.dataset is not None


@dataclass(frozen=True)
class Authorization:
    """Whether an organisation may use a dataset, why (one sentence), and the licence that says so."""

    allowed: bool
    reason: str
    grant: GrantPublic | None


def _root(value: str | bytes) -> str:
    """A content root as the API's paths take it (0x-hex)."""
    return "0x" + value.hex() if isinstance(value, bytes) else value


def _read(model: type[M], data: Any, url: str, path: str) -> M:
    """`data` as `model`; an answer of another shape is the service's fault (exit 1), said so."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the answer"
        raise ApiRefusedError(
            502, f"the registry API at {url} answered {path} with an unexpected shape ({where}: {first['msg']})"
        ) from None


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
    "Authorization",
    "FileLookup",
    "NotSignedInError",
    "RegistryClient",
    "delete_session",
    "load_session",
    "save_session",
]
