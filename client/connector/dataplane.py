"""The data plane: a started transfer's bytes, streamed from disk with HTTP range requests.

    GET <base>/data/<providerPid>/manifest       → {"root", "kind", "files": [{"path", "size", "root"}]}
    GET <base>/data/<providerPid>/files/<path>   → the file's bytes (Range: bytes=a-b → 206; bad → 416)

Before every answer, in this order: the transfer token (`Authorization: Bearer`, client/connector/tokens.py:
its MAC, its transfer, not expired, the transfer's latest) — else 401; the request proof
(`X-Idsreg-Proof: IDSREG-DSP1 …`, client/connector/identity.py, with the endpoint as audience)
signed by the very key the token names — else 401 (403 for a key that may no longer act); the
transfer STARTED — else 403; and on chain that the consumer is authorised to read the dataset
now — else 403, and the transfer is TERMINATED (a licence revoked mid-transfer stops it). Errors
are `TransferError` bodies naming the reason.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from ..errors import ChainError, IdsRegistryError
from .identity import AuthError
from .negotiation import Role
from .sources import DataChanged, LocalDataset, ServedFile
from .tokens import TokenRefused
from .transfer import Transfer, TransferError, TransferState
from .transfer_routes import transfer_error

if TYPE_CHECKING:
    from .app import Connector

PROOF_HEADER = "X-Idsreg-Proof"
#: Bytes read from disk and handed to the server at a time.
CHUNK = 1 << 20
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class _Denied(Exception):
    def __init__(self, status: int, reason: str, code: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.code = code


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte of a `Range` header for a file of `size` bytes; None for
    no header; ValueError (→ 416) for a range that cannot be served. One range only.

    >>> byte_range("bytes=10-", 100), byte_range("bytes=0-9", 100), byte_range("bytes=-5", 100)
    ((10, 99), (0, 9), (95, 99))
    """
    if header is None:
        return None
    found = _RANGE.match(header.strip())
    if found is None:
        raise ValueError(f"the Range {header!r} is not one byte range (bytes=a-b, bytes=a- or bytes=-n)")
    first_text, last_text = found.groups()
    if first_text == "":
        if last_text == "" or int(last_text) == 0:
            raise ValueError(f"the Range {header!r} asks for no bytes")
        return max(0, size - int(last_text)), size - 1
    first = int(first_text)
    last = size - 1 if last_text == "" else min(int(last_text), size - 1)
    if first >= size or first > last:
        raise ValueError(f"the Range {header!r} is outside the file's {size} bytes")
    return first, last


def _stream(fd: int, first: int, length: int) -> Iterator[bytes]:
    """The bytes [first, first + length) of the open file `fd`, read CHUNK at a time; closes `fd`."""
    try:
        offset, remaining = first, length
        while remaining > 0:
            data = os.pread(fd, min(CHUNK, remaining), offset)
            if not data:  # the file shrank under us: end short, the consumer's check catches it
                return
            offset += len(data)
            remaining -= len(data)
            yield data
    finally:
        os.close(fd)


def data_router(connector: Connector) -> APIRouter:
    router = APIRouter()
    provider = connector.transfers
    assert provider is not None

    def admit(request: Request, pid: str) -> tuple[Transfer, LocalDataset]:
        """The transfer and its dataset if this request may have its bytes now; _Denied why not."""
        try:
            claims = provider.tokens.verify(request.headers.get("authorization"), pid)
        except TokenRefused as exc:
            raise _Denied(401, str(exc), "unauthorized") from None
        transfer = provider.store.by_pid(Role.PROVIDER, pid)
        if transfer is None:
            raise _Denied(404, f"there is no transfer process {pid} here", "not-found")
        if claims.token_id != transfer.token_id:
            raise _Denied(401, "the transfer token was replaced by a newer start of this transfer", "unauthorized")
        try:
            caller = connector.verifier.verify(request.headers.get(PROOF_HEADER), audience=provider.endpoint(pid))
        except AuthError as exc:
            raise _Denied(
                exc.status, f"{PROOF_HEADER}: {exc}", "unauthorized" if exc.status == 401 else "forbidden"
            ) from None
        if caller.key.lower() != claims.key.lower() or caller.key.lower() != transfer.consumer_key.lower():
            raise _Denied(
                401,
                f"the transfer token is bound to key {claims.key}, not to the proof's key {caller.key}",
                "wrong-key",
            )
        if caller.org_id != transfer.counterparty:
            raise _Denied(401, f"the proof is for organisation {caller.org_id}, not this transfer's", "wrong-key")
        if transfer.state != TransferState.STARTED:
            raise _Denied(
                403, f"the transfer is {transfer.state.value}; bytes are served only while it is STARTED", "not-started"
            )
        refusal = provider.refusal(transfer)
        if refusal is not None:
            try:
                provider.terminate(pid, refusal)
            except (IdsRegistryError, TransferError) as exc:  # the refusal stands whatever happens to it
                refusal = f"{refusal} (termination: {exc})"
            raise _Denied(403, refusal, "not-authorized")
        dataset = provider.sources.get(bytes.fromhex(transfer.dataset[2:]))
        if dataset is None:
            raise _Denied(404, f"this connector holds no bytes of dataset {transfer.dataset} any more", "no-data")
        return transfer, dataset

    async def checked(request: Request, pid: str) -> tuple[Transfer, LocalDataset] | JSONResponse:
        try:
            return await run_in_threadpool(admit, request, pid)
        except _Denied as denied:
            return _denied(denied, pid)
        except ChainError as exc:
            return transfer_error(503, str(exc), "unavailable", providerPid=pid, consumerPid="")

    @router.get("/data/{pid}/manifest")
    async def manifest(pid: str, request: Request) -> JSONResponse:
        """The dataset's files (path, size, root) in docs/hashing.md order, and its root."""
        admitted = await checked(request, pid)
        if isinstance(admitted, JSONResponse):
            return admitted
        return JSONResponse(admitted[1].manifest())

    @router.get("/data/{pid}/files/{path:path}")
    async def file(pid: str, path: str, request: Request) -> Response:
        """One file's bytes, whole or one `Range`; streamed from disk."""
        admitted = await checked(request, pid)
        if isinstance(admitted, JSONResponse):
            return admitted
        transfer, dataset = admitted
        served = dataset.file(path)
        if served is None:
            return _denied(_Denied(404, f"dataset {transfer.dataset} has no file {path!r}", "not-found"), pid, transfer)
        return await run_in_threadpool(_answer, served, request.headers.get("range"), transfer)

    return router


def _answer(served: ServedFile, range_header: str | None, transfer: Transfer) -> Response:
    try:
        wanted = byte_range(range_header, served.size)
    except ValueError as exc:
        response = _denied(_Denied(416, str(exc), "bad-range"), transfer.provider_pid, transfer)
        response.headers["Content-Range"] = f"bytes */{served.size}"
        return response
    try:
        fd = served.open()
    except DataChanged as exc:
        return _denied(_Denied(409, str(exc), "data-changed"), transfer.provider_pid, transfer)
    headers = {"Accept-Ranges": "bytes", "ETag": f'"0x{served.root.hex()}"'}
    if wanted is None:
        first, length, status = 0, served.size, 200
    else:
        first, length, status = wanted[0], wanted[1] - wanted[0] + 1, 206
        headers["Content-Range"] = f"bytes {wanted[0]}-{wanted[1]}/{served.size}"
    headers["Content-Length"] = str(length)
    return StreamingResponse(
        _stream(fd, first, length), status_code=status, headers=headers, media_type="application/octet-stream"
    )


def _denied(denied: _Denied, pid: str, transfer: Transfer | None = None) -> JSONResponse:
    consumer_pid = transfer.consumer_pid if transfer is not None else ""
    response = transfer_error(denied.status, denied.reason, denied.code, providerPid=pid, consumerPid=consumer_pid)
    if denied.status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response
