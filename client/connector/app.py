"""The connector's HTTP binding (DSP 2025-1 HTTPS): metadata, catalog, negotiation, consumer callbacks,
and (client/connector/transfer_routes.py, dataplane.py) the transfer process and the data plane.

Every route but `/.well-known/dspace-version` needs a request token (client/connector/identity.py):
none or a bad one is a 401, a key that may not act a 403, each with the area's DSP error body
(`CatalogError`, `ContractNegotiationError`). Messages are checked against the official schemas
when the connector has them (400 naming where the message is wrong), then by the engines.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from eth_account.signers.local import LocalAccount
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ..chain.registry import Registry
from ..errors import ChainError, IdsRegistryError
from .catalog import CONTEXT, Catalog
from .client import Consumer
from .dataplane import data_router
from .identity import SCHEME, AuthError, Caller, TokenVerifier
from .negotiation import NegotiationError, NegotiationStore, Role
from .odrl import OfferTerms, PolicyError, parse_dataset
from .peer import Peer
from .provider import Provider
from .receipt import ReceiptDesk, receipt_router
from .schemas import Schemas, SchemaViolation
from .sources import DataSources
from .tokens import TransferTokens
from .transfer import TransferError, TransferStore
from .transfer_consumer import TransferConsumer
from .transfer_provider import TransferProvider
from .transfer_routes import transfer_routers

VERSION = "2025-1"
#: Largest message body a connector reads (DSP messages are small).
MAX_BODY = 256 * 1024


@dataclass
class Connector:
    """What the app serves: one organisation's connector, provider and consumer."""

    verifier: TokenVerifier
    catalog: Catalog
    provider: Provider
    consumer: Consumer
    schemas: Schemas | None = None
    page_size: int = 50
    #: The transfer process, provider side (with its data plane) and consumer side.
    transfers: TransferProvider | None = None
    transfer_consumer: TransferConsumer | None = None
    #: Countersigns the consumers' receipts of completed transfers (client/connector/receipt.py).
    receipts: ReceiptDesk | None = None

    def close(self) -> None:
        """Stop the background work of every side."""
        self.provider.close()
        self.consumer.close()
        if self.transfers is not None:
            self.transfers.close()
        if self.receipts is not None:
            self.receipts.close()


class _Refused(Exception):
    """A request answered with a DSP error (status, reasons)."""

    def __init__(self, status: int, reason: str, code: str = "") -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.code = code or str(status)


def _error(kind: str, refused: _Refused, **pids: str) -> JSONResponse:
    body: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": kind,
        **pids,
        "code": refused.code,
        "reason": [refused.reason],
    }
    headers = {"WWW-Authenticate": SCHEME} if refused.status == 401 else None
    return JSONResponse(body, status_code=refused.status, headers=headers)


async def _body(request: Request, schemas: Schemas | None, kind: str) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise _Refused(413, f"the message is {len(raw)} bytes, more than {MAX_BODY}")
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        raise _Refused(400, "the body is not JSON", "bad-message") from None
    if not isinstance(body, dict):
        raise _Refused(400, f"the body is not a {kind} object", "bad-message")
    if body.get("@type") != kind:
        raise _Refused(400, f"the message's @type is {body.get('@type')!r}, not {kind}", "bad-message")
    if schemas is not None:
        try:
            schemas.validate(body, kind)
        except SchemaViolation as exc:
            raise _Refused(400, str(exc), "bad-message") from None
    return body


def _caller(connector: Connector, request: Request) -> Caller:
    try:
        return connector.verifier.verify(request.headers.get("authorization"))
    except AuthError as exc:
        raise _Refused(exc.status, str(exc), "unauthorized" if exc.status == 401 else "forbidden") from None


Handler = Callable[[Request], Awaitable[JSONResponse]]


def create_app(connector: Connector) -> FastAPI:
    """The FastAPI app of `connector`."""
    app = FastAPI(title="IDS Registry connector (DSP 2025-1)", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(_metadata(connector))
    app.include_router(_catalog(connector))
    app.include_router(_provider(connector))
    app.include_router(_callbacks(connector))
    # Before the transfer routes: their `/transfers/{pid}/{move}` would take `/receipt` too.
    app.include_router(receipt_router(connector.verifier, connector.receipts))
    if connector.transfers is not None and connector.transfer_consumer is not None:
        for router in transfer_routers(connector):
            app.include_router(router)
        app.include_router(data_router(connector))
    app.state.connector = connector
    return app


def _metadata(connector: Connector) -> APIRouter:
    router = APIRouter()

    @router.get("/.well-known/dspace-version")
    def version() -> dict[str, Any]:
        """The DSP versions this connector speaks, where, and its identity profile."""
        return {
            "protocolVersions": [
                {
                    "version": VERSION,
                    "path": "/",
                    "binding": "HTTPS",
                    "serviceId": connector.catalog.service_id,
                    "identifierType": "urn:idsreg:org",
                    "auth": {"protocol": SCHEME, "version": "1", "profile": ["eip191-connector-key"]},
                }
            ]
        }

    return router


def _catalog(connector: Connector) -> APIRouter:
    router = APIRouter()

    @router.post("/catalog/request")
    async def catalog_request(request: Request) -> JSONResponse:
        """The catalog: the datasets this organisation may offer, paged by `Link` headers."""
        try:
            _caller(connector, request)
            body = await _body(request, connector.schemas, "CatalogRequestMessage")
            if body.get("filter"):
                raise _Refused(400, "this catalog supports no filter expressions", "unsupported-filter")
            token = request.query_params.get("continuationToken", "0")
            if not token.isdigit():
                raise _Refused(400, f"continuationToken {token!r} is not one this catalog issued", "bad-token")
            start = int(token)
            entries = await run_in_threadpool(connector.catalog.offerable)
        except _Refused as refused:
            return _error("CatalogError", refused)
        except ChainError as exc:
            return _error("CatalogError", _Refused(503, str(exc), "unavailable"))
        page = entries[start : start + connector.page_size]
        links = []
        url = f"{connector.catalog.base_url}/catalog/request?continuationToken="
        if start > 0:
            links.append(f'<{url}{max(0, start - connector.page_size)}>; rel="previous"')
        if start + connector.page_size < len(entries):
            links.append(f'<{url}{start + connector.page_size}>; rel="next"')
        headers = {"Link": ", ".join(links)} if links else None
        return JSONResponse(connector.catalog.catalog(page), headers=headers)

    @router.get("/catalog/datasets/{dataset_id:path}")
    async def dataset(dataset_id: str, request: Request) -> JSONResponse:
        """One dataset of the catalog with its offer; 404 CatalogError if this organisation does not offer it."""
        try:
            _caller(connector, request)
            try:
                root = parse_dataset(dataset_id)
            except PolicyError:
                raise _Refused(404, f"dataset {dataset_id!r} is not in this catalog", "not-found") from None
            entry = await run_in_threadpool(connector.catalog.entry, root)
            if entry is None:
                raise _Refused(404, f"dataset {dataset_id} is not in this catalog", "not-found")
        except _Refused as refused:
            return _error("CatalogError", refused)
        except ChainError as exc:
            return _error("CatalogError", _Refused(503, str(exc), "unavailable"))
        return JSONResponse(connector.catalog.dataset(entry, root_document=True))

    return router


def _pids(body: dict[str, Any] | None, provider_pid: str = "", consumer_pid: str = "") -> dict[str, str]:
    body = body or {}
    return {
        "providerPid": str(body.get("providerPid") or provider_pid),
        "consumerPid": str(body.get("consumerPid") or consumer_pid),
    }


class _Process(Protocol):
    """A negotiation or a transfer process: what an ACK is made of."""

    @property
    def provider_pid(self) -> str: ...

    def ack(self) -> dict[str, Any]: ...


async def dsp_call(
    connector: Connector,
    request: Request,
    kind: str | None,
    act: Callable[[Caller, dict[str, Any]], _Process],
    *,
    error_kind: str = "ContractNegotiationError",
    collection: str = "negotiations",
    provider_pid: str = "",
    consumer_pid: str = "",
    created: bool = False,
) -> JSONResponse:
    """Authenticate, read and check the message `kind` (None: no body), `act` on it, answer with
    the process's ACK (201 and a Location under `collection` when `created`) or an `error_kind`."""
    body: dict[str, Any] | None = None
    try:
        caller = _caller(connector, request)
        body = {} if kind is None else await _body(request, connector.schemas, kind)
        process = await run_in_threadpool(act, caller, body)
    except _Refused as refused:
        return _error(error_kind, refused, **_pids(body, provider_pid, consumer_pid))
    except (NegotiationError, TransferError) as exc:
        return _error(error_kind, _Refused(exc.status, str(exc), exc.code), **_pids(body, provider_pid, consumer_pid))
    except ChainError as exc:
        return _error(error_kind, _Refused(503, str(exc), "unavailable"), **_pids(body, provider_pid, consumer_pid))
    except IdsRegistryError as exc:
        return _error(error_kind, _Refused(400, str(exc), "refused"), **_pids(body, provider_pid, consumer_pid))
    ack = process.ack()
    if created:
        location = f"{connector.catalog.base_url}/{collection}/{quote(process.provider_pid, safe=':')}"
        return JSONResponse(ack, status_code=201, headers={"Location": location})
    return JSONResponse(ack)


def _provider(connector: Connector) -> APIRouter:
    router = APIRouter()
    provider = connector.provider

    @router.post("/negotiations/request")
    async def open_negotiation(request: Request) -> JSONResponse:
        """An initiating ContractRequestMessage: 201 with the negotiation (REQUESTED)."""
        return await dsp_call(
            connector, request, "ContractRequestMessage", lambda c, b: provider.request(c, b), created=True
        )

    @router.get("/negotiations/{pid}")
    async def get_negotiation(pid: str, request: Request) -> JSONResponse:
        """The negotiation; 404 if unknown or another organisation's."""
        return await dsp_call(connector, request, None, lambda c, _b: provider.get(c, pid), provider_pid=pid)

    @router.post("/negotiations/{pid}/request")
    async def counter_offer(pid: str, request: Request) -> JSONResponse:
        """A consumer's counter-offer (OFFERED → REQUESTED)."""
        return await dsp_call(
            connector, request, "ContractRequestMessage", lambda c, b: provider.request(c, b, pid), provider_pid=pid
        )

    @router.post("/negotiations/{pid}/events")
    async def event(pid: str, request: Request) -> JSONResponse:
        """The consumer accepts the provider's offer (OFFERED → ACCEPTED)."""
        return await dsp_call(
            connector,
            request,
            "ContractNegotiationEventMessage",
            lambda c, b: provider.event(c, pid, b),
            provider_pid=pid,
        )

    @router.post("/negotiations/{pid}/agreement/verification")
    async def verification(pid: str, request: Request) -> JSONResponse:
        """The consumer verifies the agreement (AGREED → VERIFIED)."""
        return await dsp_call(
            connector,
            request,
            "ContractAgreementVerificationMessage",
            lambda c, b: provider.verification(c, pid, b),
            provider_pid=pid,
        )

    @router.post("/negotiations/{pid}/termination")
    async def termination(pid: str, request: Request) -> JSONResponse:
        """The consumer terminates (any state but FINALIZED, TERMINATED)."""
        return await dsp_call(
            connector,
            request,
            "ContractNegotiationTerminationMessage",
            lambda c, b: provider.termination(c, pid, b),
            provider_pid=pid,
        )

    return router


def _callbacks(connector: Connector) -> APIRouter:
    router = APIRouter(prefix="/callback")
    consumer = connector.consumer

    @router.get("/negotiations/{pid}")
    async def get_negotiation(pid: str, request: Request) -> JSONResponse:
        """A negotiation this connector opened as consumer; 404 if unknown or not the caller's."""
        return await dsp_call(connector, request, None, lambda c, _b: consumer.get(c, pid), consumer_pid=pid)

    @router.post("/negotiations/{pid}/offers")
    async def offer(pid: str, request: Request) -> JSONResponse:
        """The provider's offer (REQUESTED → OFFERED)."""
        return await dsp_call(
            connector, request, "ContractOfferMessage", lambda c, b: consumer.on_offer(c, pid, b), consumer_pid=pid
        )

    @router.post("/negotiations/{pid}/agreement")
    async def agreement(pid: str, request: Request) -> JSONResponse:
        """The provider's agreement (→ AGREED), accepted only when it is the licence on chain."""
        return await dsp_call(
            connector,
            request,
            "ContractAgreementMessage",
            lambda c, b: consumer.on_agreement(c, pid, b),
            consumer_pid=pid,
        )

    @router.post("/negotiations/{pid}/events")
    async def event(pid: str, request: Request) -> JSONResponse:
        """The provider finalises (VERIFIED → FINALIZED)."""
        return await dsp_call(
            connector,
            request,
            "ContractNegotiationEventMessage",
            lambda c, b: consumer.on_event(c, pid, b),
            consumer_pid=pid,
        )

    @router.post("/negotiations/{pid}/termination")
    async def termination(pid: str, request: Request) -> JSONResponse:
        """The provider terminates."""
        return await dsp_call(
            connector,
            request,
            "ContractNegotiationTerminationMessage",
            lambda c, b: consumer.on_termination(c, pid, b),
            consumer_pid=pid,
        )

    return router


def make_connector(
    registry: Registry,
    key: LocalAccount,
    org_id: str,
    base_url: str,
    home: Path,
    terms: OfferTerms,
    *,
    schemas: Schemas | None = None,
    auto: bool = True,
    page_size: int = 50,
    cache_seconds: float = 5.0,
    sources: DataSources | None = None,
    token_seconds: int | None = None,
) -> Connector:
    """A connector for organisation `org_id` acting with connector `key`, reachable at `base_url`,
    keeping its negotiations in `home`/negotiations.sqlite and its transfers in
    `home`/transfers.sqlite, serving the bytes of `sources`."""
    store = NegotiationStore(home / "negotiations.sqlite")
    transfers = TransferStore(home / "transfers.sqlite")
    peer = Peer(key, org_id, schemas)
    catalog = Catalog(registry, org_id, base_url, terms)
    tokens = TransferTokens(transfers.secret("transfer-token", TransferTokens.new_secret()))
    if token_seconds is not None:
        tokens.lifetime = token_seconds
    consumer = Consumer(registry, org_id, base_url, store, peer, auto=auto)
    consumer.transfers = TransferConsumer(org_id, base_url, transfers, store, peer)
    return Connector(
        verifier=TokenVerifier(registry, base_url, cache_seconds=cache_seconds),
        catalog=catalog,
        provider=Provider(registry, key, org_id, catalog, store, peer, auto=auto),
        consumer=consumer,
        schemas=schemas,
        page_size=page_size,
        transfers=TransferProvider(
            registry, org_id, base_url, transfers, store, peer, sources or DataSources(), tokens, auto=auto
        ),
        transfer_consumer=consumer.transfers,
        receipts=ReceiptDesk(registry, key, org_id, store, lambda pid: transfers.by_pid(Role.PROVIDER, pid), home),
    )
