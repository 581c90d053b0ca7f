"""The two-sided receipt: the provider's connector countersigns only a receipt that matches a
completed transfer of the caller, its agreement and the dataset's root; the consumer's SDK
signs only bytes it verified.

Two real connectors over a real anvil; the agreement is a real FINALIZED negotiation. The
transfer process the receipt names is put in the provider's lookup in the state each test needs
(real transfers, through the data plane: test_fetch_e2e.py).
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from client.chain.enums import Party
from client.connector.fetch import Verified
from client.connector.negotiation import Negotiation, Role
from client.connector.receipt import draft_receipt
from client.connector.transfer import Transfer, TransferState
from client.consortium import org_id
from client.eip712 import Receipt
from client.receipts import ReceiptFile, Receipts
from client.terms import Opening, Terms
from tests.conftest import chain_time, new_account
from tests.connector.conftest import Pair
from tests.contracts.factories import GENERAL, IMPORTANT, key

PID = "urn:uuid:0f6f1f7e-5c1e-4bde-9a0c-transfer0001"


def agreed(pair: Pair, root: bytes = GENERAL) -> tuple[Negotiation, Transfer]:
    """A FINALIZED negotiation for `root` and a completed transfer of it, known to the provider."""
    negotiation = pair.beta.consumer.negotiate(pair.alpha.url, root, timeout=90)
    record = Transfer(
        role=Role.PROVIDER,
        provider_pid=PID,
        consumer_pid="urn:uuid:c1",
        state=TransferState.COMPLETED,
        counterparty=pair.beta.org_id.lower(),
        peer_url=pair.beta.url + "/callback",
        agreement_id=str((negotiation.agreement or {})["@id"]),
        dataset="0x" + root.hex(),
        negotiation=negotiation.provider_pid,
    )
    desk = pair.alpha.connector.receipts
    assert desk is not None
    desk.transfers = {PID: record}.get
    return negotiation, record


def receipt_of(pair: Pair, negotiation: Negotiation, signer: Any = None, **changes: Any) -> ReceiptFile:
    """The receipt the consumer would send for `negotiation`, with `changes` to its fields."""
    registry = pair.scene.registry
    opening = Opening.new(Terms.receipt(size=1234, price=0))
    fields = {
        "dataset": GENERAL,
        "grant_serial": int((negotiation.grant or {})["serial"]),
        "provider": org_id(pair.alpha.org_id),
        "consumer": org_id(pair.beta.org_id),
        "delivered_root": GENERAL,
        "terms_commitment": opening.commitment,
        "delivered_at": chain_time(registry.w3),
        "nonce": int.from_bytes(os.urandom(16), "big"),
        **changes,
    }
    file = Receipts(registry).draft(Receipt(**fields), opening)
    return file.signed(Party.CONSUMER, signer or pair.beta.key)


def post(pair: Pair, body: str, pid: str = PID, signer: Any = None, org: str | None = None) -> httpx.Response:
    token = pair.beta.token(pair.alpha.url, signer, org)
    with pair.http() as client:
        return client.post(f"{pair.alpha.url}/transfers/{pid}/receipt", content=body, headers={"Authorization": token})


def refused(response: httpx.Response, status: int, text: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["@type"] == "TransferError"
    assert text in " ".join(body["reason"]), body["reason"]


def test_a_matching_receipt_is_countersigned_and_recorded(pair: Pair) -> None:
    negotiation, _record = agreed(pair)
    mine = receipt_of(pair, negotiation)
    response = post(pair, mine.to_json())
    assert response.status_code == 200, response.text
    both = ReceiptFile.from_json(response.text)
    assert both.digest == mine.digest and both.signatures["consumer"] == mine.signatures["consumer"]
    receipts = Receipts(pair.scene.registry)
    assert both.verify_offline(receipts.key_owner) == {
        "provider": key(pair.scene.alpha).address,
        "consumer": pair.beta.key.address,
    }
    receipts.submit(pair.beta.key, both)
    evidence = receipts.verify_on_chain(both)
    assert (evidence.provider.org_id, evidence.consumer.org_id) == (pair.alpha.org_id.lower(), pair.beta.org_id.lower())
    again = post(pair, mine.to_json())  # the same receipt again: the same file
    assert again.status_code == 200 and ReceiptFile.from_json(again.text) == both
    other = post(pair, receipt_of(pair, negotiation).to_json())  # a second receipt for the transfer
    refused(other, 409, "has a countersigned receipt already")


def test_no_receipt_before_the_transfer_is_completed(pair: Pair) -> None:
    negotiation, record = agreed(pair)
    desk = pair.alpha.connector.receipts
    assert desk is not None
    for state in (TransferState.REQUESTED, TransferState.STARTED, TransferState.SUSPENDED, TransferState.TERMINATED):
        desk.transfers = {PID: replace(record, state=state)}.get
        refused(post(pair, receipt_of(pair, negotiation).to_json()), 409, f"is {state.value}, not COMPLETED")
    assert desk.signed_for(PID) is None


def test_a_receipt_that_is_not_the_agreements_is_refused(pair: Pair) -> None:
    negotiation, _record = agreed(pair)
    serial = int((negotiation.grant or {})["serial"])
    cases = {
        "deliveredRoot is 0x" + IMPORTANT.hex(): {"delivered_root": IMPORTANT},
        "dataset is 0x" + IMPORTANT.hex(): {"dataset": IMPORTANT},
        f"grantSerial is {serial + 1}, but the agreement of transfer {PID} says {serial}": {"grant_serial": serial + 1},
        "provider is 0x" + org_id(pair.scene.gamma.org_id).hex(): {"provider": org_id(pair.scene.gamma.org_id)},
        "consumer is 0x" + org_id(pair.scene.gamma.org_id).hex(): {"consumer": org_id(pair.scene.gamma.org_id)},
    }
    for reason, changes in cases.items():
        refused(post(pair, receipt_of(pair, negotiation, **changes).to_json()), 400, reason)
    outsider = new_account()
    refused(
        post(pair, receipt_of(pair, negotiation, outsider).to_json()), 400, f"signature is by key {outsider.address}"
    )
    unsigned = json.loads(receipt_of(pair, negotiation).to_json())
    unsigned["signatures"] = {}
    refused(post(pair, json.dumps(unsigned)), 400, "no consumer signature")
    refused(post(pair, "{not json"), 400, "not JSON")
    refused(post(pair, json.dumps({"format": "x"})), 400, "not an IDS Registry receipt file")
    later = receipt_of(pair, negotiation, delivered_at=chain_time(pair.scene.registry.w3) + 3600)
    refused(post(pair, later.to_json()), 400, "in the future")
    assert pair.alpha.connector.receipts is not None and pair.alpha.connector.receipts.signed_for(PID) is None


def test_only_the_transfers_consumer_may_ask(pair: Pair) -> None:
    negotiation, _record = agreed(pair)
    body = receipt_of(pair, negotiation).to_json()
    refused(post(pair, body, pid="urn:uuid:unknown"), 404, "no transfer process urn:uuid:unknown")
    gamma = pair.scene.gamma
    refused(post(pair, body, signer=key(gamma), org=gamma.org_id), 404, f"no transfer process {PID}")
    with pair.http() as client:
        response = client.post(f"{pair.alpha.url}/transfers/{PID}/receipt", content=body)
    refused(response, 401, "no Authorization header")


def test_the_sdk_signs_only_verified_bytes(pair: Pair, tmp_path: Path) -> None:
    """No path of the SDK signs a receipt for bytes it did not verify: only the data plane client's
    download makes a `Verified` delivery, and the receipt is drafted from nothing else."""
    negotiation, _record = agreed(pair)
    receipts = Receipts(pair.scene.registry)
    with pytest.raises(TypeError, match="only by DataPlaneClient.fetch"):
        Verified(GENERAL, "file", tmp_path, 1, ())
    unverified: Any = {"root": GENERAL, "size": 1, "path": tmp_path}
    with pytest.raises(TypeError, match="only for a Verified delivery"):
        draft_receipt(receipts, unverified, negotiation, pair.beta.key, pair.beta.org_id, 0)
    assert pair.beta.consumer.store.by_pid(Role.CONSUMER, negotiation.consumer_pid) is not None
