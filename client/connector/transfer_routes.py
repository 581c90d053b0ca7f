"""The transfer process's HTTP binding (DSP 2025-1 HTTPS): provider endpoints and consumer callbacks.

Like negotiations (client/connector/app.py): every route needs a request token (401/403), every
message is checked against its official schema (400), an invalid transition is a 400 and an
unknown transfer or another organisation's a 404, each with a `TransferError` body naming both pids.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .identity import Caller
from .transfer import Transfer

if TYPE_CHECKING:
    from .app import Connector


def transfer_error(status: int, reason: str, code: str, **pids: str) -> JSONResponse:
    """A `TransferError` response."""
    from .app import _error, _Refused

    return _error("TransferError", _Refused(status, reason, code), **pids)


async def _transfer_call(
    connector: Connector,
    request: Request,
    kind: str | None,
    act: Callable[[Caller, dict[str, Any]], Transfer],
    *,
    provider_pid: str = "",
    consumer_pid: str = "",
    created: bool = False,
) -> JSONResponse:
    from .app import dsp_call

    return await dsp_call(
        connector,
        request,
        kind,
        act,
        error_kind="TransferError",
        collection="transfers",
        provider_pid=provider_pid,
        consumer_pid=consumer_pid,
        created=created,
    )


#: Message path → message type, for both sides' `POST …/{pid}/<path>`.
_MOVES = {
    "start": "TransferStartMessage",
    "completion": "TransferCompletionMessage",
    "suspension": "TransferSuspensionMessage",
    "termination": "TransferTerminationMessage",
}


def transfer_routers(connector: Connector) -> list[APIRouter]:
    """The provider's `/transfers/...` and the consumer's `/callback/transfers/...` routes."""
    provider, consumer = connector.transfers, connector.transfer_consumer
    assert provider is not None and consumer is not None
    routes = APIRouter()

    @routes.post("/transfers/request")
    async def open_transfer(request: Request) -> JSONResponse:
        """An initiating TransferRequestMessage: 201 with the transfer process (REQUESTED)."""
        return await _transfer_call(
            connector, request, "TransferRequestMessage", lambda c, b: provider.request(c, b), created=True
        )

    @routes.get("/transfers/{pid}")
    async def get_transfer(pid: str, request: Request) -> JSONResponse:
        """The transfer process; 404 if unknown or another organisation's."""
        return await _transfer_call(connector, request, None, lambda c, _b: provider.get(c, pid), provider_pid=pid)

    @routes.post("/transfers/{pid}/{move}")
    async def provider_move(pid: str, move: str, request: Request) -> JSONResponse:
        """The consumer starts (resumes), completes, suspends or terminates the transfer."""
        if move not in _MOVES:
            return transfer_error(404, f"there is no transfer message {move!r}", "not-found", providerPid=pid)
        act: Callable[[Caller, str, dict[str, Any]], Transfer] = getattr(provider, f"on_{move}")
        return await _transfer_call(connector, request, _MOVES[move], lambda c, b: act(c, pid, b), provider_pid=pid)

    @routes.get("/callback/transfers/{pid}")
    async def get_own_transfer(pid: str, request: Request) -> JSONResponse:
        """A transfer this connector asked for as consumer; 404 if unknown or not the caller's."""
        return await _transfer_call(connector, request, None, lambda c, _b: consumer.get(c, pid), consumer_pid=pid)

    @routes.post("/callback/transfers/{pid}/{move}")
    async def consumer_callback(pid: str, move: str, request: Request) -> JSONResponse:
        """The provider starts, completes, suspends or terminates the transfer."""
        if move not in _MOVES:
            return transfer_error(404, f"there is no transfer message {move!r}", "not-found", consumerPid=pid)
        act: Callable[[Caller, str, dict[str, Any]], Transfer] = getattr(consumer, f"on_{move}")
        return await _transfer_call(connector, request, _MOVES[move], lambda c, b: act(c, pid, b), consumer_pid=pid)

    return [routes]
