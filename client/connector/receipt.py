"""The two-sided exchange receipt of a connector transfer (EIP-712, client/receipts.py).

Consumer: `draft_receipt` turns a `Verified` delivery (client/connector/fetch.py — made only
after every byte matched the dataset's registered root) into a receipt file signed by its
connector key: no other path signs. After the TransferCompletionMessage it posts the file to
`POST <provider>/transfers/<providerPid>/receipt`.

Provider: `ReceiptDesk.countersign` signs it with the provider's connector key only when it
matches the transfer — a COMPLETED transfer of the caller's organisation, the dataset and
root of its agreement, the grant serial of that agreement, the two organisations — the
consumer's signature is a key of the consumer's organisation, and the ledger would record it
(`Receipts.objection`). One receipt per transfer: asking again for the same receipt gives the
same file, another one is refused (409). The consumer submits the both-signed file on chain.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ..chain.enums import Party
from ..chain.registry import Registry
from ..consortium import org_id as org_bytes
from ..eip712 import Receipt, recover_signer
from ..errors import ChainError, IdsRegistryError, ProofError
from ..receipts import ReceiptFile, Receipts
from ..terms import Opening, Terms
from .catalog import CONTEXT
from .fetch import Verified
from .identity import SCHEME, AuthError, Caller, TokenVerifier
from .negotiation import Negotiation, NegotiationStore, Role, State
from .transfer import Transfer, TransferState

#: Largest receipt file the provider reads.
MAX_RECEIPT = 64 * 1024
#: How far in the future a delivery time may be (the chain's clock and the provider's differ).
SKEW = 60


class ReceiptRefused(IdsRegistryError):
    """A receipt the provider will not countersign (`status`: the HTTP status it answers)."""

    exit_code = 4

    def __init__(self, status: int, message: str, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code or str(status)


#: The provider's transfer process of a providerPid (client/connector/transfer.py), None if unknown.
TransferLookup = Callable[[str], Transfer | None]


def draft_receipt(
    receipts: Receipts,
    verified: Verified,
    negotiation: Negotiation,
    key: LocalAccount,
    consumer_org: str,
    delivered_at: int,
    *,
    price: int = 0,
    note: str = "",
) -> ReceiptFile:
    """The receipt of organisation `consumer_org` for `verified` bytes under `negotiation`'s
    licence (a consumer-side negotiation), signed by its connector `key`.

    `verified` must be what `DataPlaneClient.fetch` returned for the negotiation's dataset:
    the bytes were checked against the registered root before anything is signed.
    """
    if not isinstance(verified, Verified):
        raise TypeError("a receipt is signed only for a Verified delivery (DataPlaneClient.fetch)")
    root = bytes.fromhex(negotiation.dataset.removeprefix("0x"))
    if verified.root != root:
        raise ProofError(
            f"the verified bytes are dataset 0x{verified.root.hex()}, "
            f"not the agreement's 0x{root.hex()}: nothing signed"
        )
    if negotiation.state != State.FINALIZED or not negotiation.grant:
        raise ProofError(f"negotiation {negotiation.consumer_pid} is {negotiation.state}, not FINALIZED with a licence")
    opening = Opening.new(Terms.receipt(size=verified.size, price=price, note=note))
    receipt = Receipt(
        dataset=root,
        grant_serial=int(negotiation.grant["serial"]),
        provider=org_bytes(negotiation.counterparty),
        consumer=org_bytes(consumer_org),
        delivered_root=verified.root,
        terms_commitment=opening.commitment,
        delivered_at=delivered_at,
        nonce=int.from_bytes(os.urandom(16), "big"),
    )
    return receipts.draft(receipt, opening).signed(Party.CONSUMER, key)


@dataclass
class ReceiptDesk:
    """The provider's side: countersigns receipts of completed transfers."""

    registry: Registry
    key: LocalAccount
    org_id: str
    negotiations: NegotiationStore
    transfers: TransferLookup | None
    home: Path

    def __post_init__(self) -> None:
        self.org_id = self.org_id.lower()
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.home / "receipts.sqlite", check_same_thread=False, isolation_level=None)
        self._db.execute("CREATE TABLE IF NOT EXISTS receipts (transfer TEXT PRIMARY KEY, file TEXT NOT NULL)")

    def close(self) -> None:
        self._db.close()

    def signed_for(self, provider_pid: str) -> ReceiptFile | None:
        row = self._db.execute("SELECT file FROM receipts WHERE transfer = ?", (provider_pid,)).fetchone()
        return None if row is None else ReceiptFile.from_json(row[0])

    def countersign(self, caller: Caller, provider_pid: str, body: Any) -> ReceiptFile:
        """The receipt in `body`, signed by the provider too; ReceiptRefused saying why not."""
        transfer = self.transfers(provider_pid) if self.transfers is not None else None
        if transfer is None or transfer.counterparty.lower() != caller.org_id:
            raise ReceiptRefused(404, f"there is no transfer process {provider_pid} of yours here", "not-found")
        if transfer.state != TransferState.COMPLETED:
            raise ReceiptRefused(
                409,
                f"transfer {provider_pid} is {transfer.state.value}, not COMPLETED: "
                "no receipt before the bytes are delivered",
            )
        try:
            file = ReceiptFile.from_json(json.dumps(body))
        except IdsRegistryError as exc:
            raise ReceiptRefused(400, str(exc), "bad-receipt") from None
        with self._lock:
            earlier = self.signed_for(provider_pid)
            if earlier is not None:
                if earlier.digest == file.digest:
                    return earlier
                raise ReceiptRefused(
                    409, f"transfer {provider_pid} has a countersigned receipt already (0x{earlier.digest.hex()})"
                )
            self._check(caller, transfer, file)
            signed = file.signed(Party.PROVIDER, self.key)
            self._db.execute("INSERT INTO receipts VALUES (?, ?)", (provider_pid, signed.to_json()))
        return signed

    def _check(self, caller: Caller, transfer: Transfer, file: ReceiptFile) -> None:
        receipts = Receipts(self.registry)
        if file.chain_id != self.registry.chain_id or to_checksum_address(file.ledger) != receipts.ledger:
            raise ReceiptRefused(400, f"the receipt is for ledger {file.ledger} on chain {file.chain_id}, not this one")
        negotiation = self.negotiations.by_pid(Role.PROVIDER, transfer.negotiation)
        if negotiation is None or negotiation.state != State.FINALIZED or not negotiation.grant:
            raise ReceiptRefused(409, f"the agreement of transfer {transfer.provider_pid} is not FINALIZED")
        r = file.receipt
        root = bytes.fromhex(transfer.dataset.removeprefix("0x"))
        expected = {
            "dataset": ("0x" + r.dataset.hex(), "0x" + root.hex()),
            "deliveredRoot": ("0x" + r.delivered_root.hex(), "0x" + root.hex()),
            "provider": ("0x" + r.provider.hex(), self.org_id),
            "consumer": ("0x" + r.consumer.hex(), caller.org_id),
            "grantSerial": (str(r.grant_serial), str(negotiation.grant["serial"])),
        }
        for name, (got, want) in expected.items():
            if got != want:
                raise ReceiptRefused(
                    400,
                    f"the receipt's {name} is {got}, but the agreement of transfer {transfer.provider_pid} says {want}",
                )
        try:
            file.check_terms()
        except ProofError as exc:
            raise ReceiptRefused(400, f"the receipt's terms: {exc}") from None
        if file.opening.terms.kind != "receipt":
            raise ReceiptRefused(400, f"the receipt's terms are {file.opening.terms.kind} terms, not receipt terms")
        if "provider" in file.signatures:
            raise ReceiptRefused(400, "the receipt carries a provider signature already: the provider signs it here")
        try:
            signature = file.signature(Party.CONSUMER)
            signer = recover_signer(r, file.chain_id, file.ledger, signature)
        except (ProofError, ValueError) as exc:
            raise ReceiptRefused(400, f"the receipt's consumer signature: {exc}") from None
        owner, _role = self.registry.call("Consortium", "keyInfo", signer)
        if "0x" + bytes(owner).hex() != caller.org_id:
            raise ReceiptRefused(400, f"the consumer signature is by key {signer}, not a key of {caller.org_id}")
        latest = int(self.registry.w3.eth.get_block("latest")["timestamp"])
        if r.delivered_at > latest + SKEW:
            raise ReceiptRefused(400, f"the receipt's delivery time {r.delivered_at} is in the future")
        objection = receipts.objection(file)
        if objection is not None:
            raise ReceiptRefused(409, f"the ledger would refuse this receipt: {objection}")


def _error(refused: ReceiptRefused, provider_pid: str) -> JSONResponse:
    body = {
        "@context": CONTEXT,
        "@type": "TransferError",
        "providerPid": provider_pid,
        "consumerPid": "",
        "code": refused.code,
        "reason": [str(refused)],
    }
    headers = {"WWW-Authenticate": SCHEME} if refused.status == 401 else None
    return JSONResponse(body, status_code=refused.status, headers=headers)


def receipt_router(verifier: TokenVerifier, desk: ReceiptDesk | None) -> APIRouter:
    """`POST /transfers/{providerPid}/receipt`: the consumer's receipt back, countersigned."""
    router = APIRouter()

    @router.post("/transfers/{pid}/receipt")
    async def receipt(pid: str, request: Request) -> JSONResponse:
        """Countersign the consumer's receipt of a completed transfer (the both-signed receipt file)."""
        try:
            try:
                caller = verifier.verify(request.headers.get("authorization"))
            except AuthError as exc:
                raise ReceiptRefused(
                    exc.status, str(exc), "unauthorized" if exc.status == 401 else "forbidden"
                ) from None
            raw = await request.body()
            if len(raw) > MAX_RECEIPT:
                raise ReceiptRefused(413, f"the receipt is {len(raw)} bytes, more than {MAX_RECEIPT}")
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                raise ReceiptRefused(400, "the body is not JSON (a receipt file)", "bad-receipt") from None
            if desk is None:
                raise ReceiptRefused(404, f"this connector countersigns no receipts (transfer {pid})", "not-found")
            signed = await run_in_threadpool(desk.countersign, caller, pid, body)
        except ReceiptRefused as refused:
            return _error(refused, pid)
        except ChainError as exc:
            return _error(ReceiptRefused(503, str(exc), "unavailable"), pid)
        return JSONResponse(json.loads(signed.to_json()))

    return router
