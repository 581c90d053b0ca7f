"""Helpers for the transfer tests: a real dataset on alpha's disk, registered on chain and
served by alpha's data plane; a FINALIZED agreement for it; the data plane called as beta."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from client.chain.enums import Grade
from client.connector.identity import issue_token
from client.connector.negotiation import Negotiation, Role, State
from client.connector.sources import LocalDataset, local_dataset
from client.connector.transfer import DataAddress, Transfer, TransferState
from client.connector.transfer_consumer import TransferConsumer
from client.connector.transfer_provider import TransferProvider
from tests.connector.conftest import Pair


def provider(pair: Pair) -> TransferProvider:
    found = pair.alpha.connector.transfers
    assert found is not None
    return found


def consumer(pair: Pair) -> TransferConsumer:
    found = pair.beta.connector.transfer_consumer
    assert found is not None
    return found


def file_contents(size: int, seed: int = 7) -> bytes:
    """`size` bytes that differ from chunk to chunk (a shifted range would show)."""
    pattern = bytes((i * seed + i // 251) % 256 for i in range(65_537))
    return (pattern * (size // len(pattern) + 1))[:size]


def serve(pair: Pair, path: Path, grade: Grade = Grade.GENERAL) -> LocalDataset:
    """Register the file or directory at `path` as alpha's and let alpha's data plane serve it."""
    dataset = local_dataset(path)
    pair.scene.register(pair.scene.alpha, dataset.root, grade=grade)
    provider(pair).sources.add(dataset)
    return dataset


def a_file(pair: Pair, tmp_path: Path, size: int = 2 * 1024 * 1024 + 123) -> LocalDataset:
    path = tmp_path / "served" / "readings.bin"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(file_contents(size))
    return serve(pair, path)


def finalized(pair: Pair, root: bytes) -> Negotiation:
    """A FINALIZED negotiation of beta for `root`, whichever way each side decides."""
    started = pair.request(root)
    if not pair.alpha.provider.auto:
        pair.alpha.provider.agree(started.provider_pid)
    pair.wait_consumer(started.consumer_pid, State.AGREED)
    if not pair.beta.consumer.auto:
        pair.beta.consumer.verify(started.consumer_pid)
    if not pair.alpha.provider.auto:
        pair.wait_provider(started, State.VERIFIED)
        pair.alpha.provider.finalize(started.provider_pid)
    return pair.wait_consumer(started.consumer_pid, State.FINALIZED)


def provider_state(pair: Pair, transfer: Transfer) -> TransferState:
    """The provider's state, read over HTTP as the consumer (GET /transfers/{providerPid})."""
    response = pair.beta.connector.consumer.peer.get(
        pair.alpha.url, f"{pair.alpha.url}/transfers/{transfer.provider_pid}"
    )
    body = response.json()
    pair.schemas.validate(body, "TransferProcess")
    return TransferState(body["state"])


def wait_consumer(pair: Pair, transfer: Transfer, state: TransferState, timeout: float = 60) -> Transfer:
    deadline = time.monotonic() + timeout
    while True:
        found = consumer(pair).store.by_pid(Role.CONSUMER, transfer.consumer_pid)
        if found is not None and found.state == state:
            return found
        assert time.monotonic() < deadline, f"consumer still {found and found.state}, not {state}"
        time.sleep(0.05)


def refused(pair: Pair, response: httpx.Response, status: int, words: str) -> None:
    """A `TransferError` answer with `status` whose reason says `words`."""
    assert response.status_code == status, response.text
    body = response.json()
    pair.schemas.validate(body, "TransferError")
    assert words in body["reason"][0], body["reason"][0]


def data_get(
    pair: Pair,
    address: DataAddress,
    path: str = "manifest",
    *,
    range_: str | None = None,
    token: str | None = None,
    signer: Any = None,
    org_id: str | None = None,
    proof: str | None = None,
) -> httpx.Response:
    """A data-plane GET as the consumer's connector makes it (transfer token + request proof)."""
    headers = {
        "Authorization": f"Bearer {token or address.token}",
        "X-Idsreg-Proof": proof or issue_token(signer or pair.beta.key, org_id or pair.beta.org_id, address.endpoint),
    }
    if range_ is not None:
        headers["Range"] = range_
    url = f"{address.endpoint}/manifest" if path == "manifest" else f"{address.endpoint}/files/{path}"
    return httpx.get(url, headers=headers, timeout=30)
