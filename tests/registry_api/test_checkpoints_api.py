"""The service's checkpoint routes over real HTTP, both stores, on anvil: governors hand in
cosignatures, the latest checkpoint that reached the threshold is served as a C2SP signed note,
and cosignatures by outsiders, over another root, or by a removed governor are refused."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eth_account.signers.local import LocalAccount
from sqlalchemy import Engine

from client.chain.enums import Action
from client.chain.registry import Registry
from client.checkpoint_node import node_checkpoint, node_council_history, registry_origin
from client.checkpoint_witness import cosign_head
from client.checkpoints import (
    Checkpoint,
    checkpoint_for,
    cosign,
    parse_note,
    signed_note,
    verify_block,
    verify_consistent,
    verify_cosigned,
)
from client.consortium import Consortium
from client.errors import CheckpointError
from tests.conftest import new_account
from tests.registry_api.conftest import api_settings_for, serving


def seed_of(account: LocalAccount) -> bytes:
    return hashlib.sha256(b"witness " + bytes.fromhex(account.address[2:])).digest()


def public_of(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass
class Setup:
    registry: Registry
    governors: list[LocalAccount]
    http: httpx.Client
    folder: Path

    def cosign(self, n: int, size: int | None = None) -> bytes:
        g = self.governors[n]
        state = self.folder / f"witness-{n}.last"
        return cosign_head(self.registry, g.address, seed_of(g), public_of(seed_of(g)), state, size=size).note

    def submit(self, note: bytes) -> httpx.Response:
        return self.http.post("/v1/checkpoints/cosignatures", json={"note": note.decode()})


@pytest.fixture
def setup(make_registry: Callable[..., Registry], make_db: Callable[[], Engine], tmp_path: Path) -> Iterator[Setup]:
    governors = [new_account() for _ in range(3)]
    registry = make_registry(governors, 1)
    consortium = Consortium(registry)
    for g in governors:
        consortium.propose_witness_key(governors[0], g.address, public_of(seed_of(g)))
    consortium.propose(governors[0], Action.SET_THRESHOLD, 2)
    deployments = tmp_path / "served-deployments"
    registry.manifest.save(deployments)
    engine = make_db()
    with (
        serving(api_settings_for(registry, engine, deployments), engine) as url,
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        yield Setup(registry, governors, http, tmp_path)


def test_cosign_collect_serve_and_verify(setup: Setup) -> None:
    size = int(setup.registry.w3.eth.block_number) + 1
    first = setup.submit(setup.cosign(0, size))
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["size"], body["threshold"], body["counted"], body["accepted"]) == (
        size, 2, False, [setup.governors[0].address.lower()]
    )  # fmt: skip
    assert setup.http.get("/v1/checkpoints/latest").status_code == 404
    second = setup.submit(setup.cosign(1, size)).json()
    assert second["counted"] and len(second["cosigners"]) == 2

    latest = setup.http.get("/v1/checkpoints/latest").json()
    text = setup.http.get("/v1/checkpoints/latest", headers={"Accept": "text/plain"})
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text == latest["note"]
    # The auditor's side: the council from its own reading of the chain, the note offline.
    history = node_council_history(setup.registry)
    checkpoint = verify_cosigned(text.text.encode(), history.at(size - 1), registry_origin(setup.registry))
    assert checkpoint.size == size and base64.b64encode(checkpoint.root).decode() == latest["root"]

    proof = setup.http.get(f"/v1/checkpoints/{size}/blocks/3").json()
    block_hash = bytes(setup.registry.w3.eth.get_block(3)["hash"])
    assert proof["blockHash"] == "0x" + block_hash.hex()
    verify_block(checkpoint, 3, block_hash, [base64.b64decode(p) for p in proof["proof"]])
    with pytest.raises(CheckpointError, match="block 4 with hash"):
        verify_block(checkpoint, 4, block_hash, [base64.b64decode(p) for p in proof["proof"]])

    # A later tree extends it, provably.
    Consortium(setup.registry).propose(setup.governors[0], Action.APPOINT_AUDITOR, new_account().address)
    later, _ = node_checkpoint(setup.registry)
    consistency = setup.http.get(f"/v1/checkpoints/{later.size}/consistency/{size}").json()
    verify_consistent(checkpoint, later, [base64.b64decode(p) for p in consistency["proof"]])


def test_refusals(setup: Setup) -> None:
    size = int(setup.registry.w3.eth.block_number) + 1
    origin = registry_origin(setup.registry)
    outsider = new_account()
    real, hashes = node_checkpoint(setup.registry, size)
    stranger = signed_note(real, [cosign(real, outsider.address, seed_of(outsider), 1)])
    refused = setup.submit(stranger)
    assert refused.status_code == 409
    assert "no cosignature of a current governor" in refused.json()["error"]

    forked: Checkpoint = checkpoint_for(origin, hashes[:-1] + [hashlib.sha256(b"fork").digest()])
    g = setup.governors[0]
    fork_note = signed_note(forked, [cosign(forked, g.address, seed_of(g), 1)])
    refused = setup.submit(fork_note)
    assert refused.status_code == 409 and "is not the service's" in refused.json()["error"]

    beyond = checkpoint_for(origin, hashes + [b"\x01" * 32] * 5)
    refused = setup.submit(signed_note(beyond, [cosign(beyond, g.address, seed_of(g), 1)]))
    assert refused.status_code == 409 and f"tree size {size + 5} is beyond the chain" in refused.json()["error"]

    # A governor's signature over another note pasted under this one: a bad signature, refused.
    line = cosign(forked, g.address, seed_of(g), 1)
    refused = setup.submit(signed_note(real, [line]))
    assert refused.status_code == 409 and "does not verify" in refused.json()["error"]

    for bad in ("not a note", "idsreg/1/0x00\n1\nAA==\n\n\u2014 a AAAAAAA=\n"):
        refused = setup.http.post("/v1/checkpoints/cosignatures", json={"note": bad})
        assert refused.status_code == 409, refused.text
        assert refused.json()["field"] == "note"
    assert setup.http.get(f"/v1/checkpoints/{size}/blocks/{size}").status_code == 409
    assert setup.http.get(f"/v1/checkpoints/{size}/consistency/{size + 1}").status_code == 409


def test_a_removed_governors_cosignature_stops_counting(setup: Setup) -> None:
    size = int(setup.registry.w3.eth.block_number) + 1
    assert setup.submit(setup.cosign(0, size)).json()["counted"] is False
    assert setup.submit(setup.cosign(2, size)).json()["counted"] is True
    assert setup.http.get("/v1/checkpoints/latest").json()["size"] == size
    consortium = Consortium(setup.registry)
    removal = consortium.propose(setup.governors[0], Action.REMOVE_GOVERNOR, setup.governors[2].address)
    assert consortium.approve(setup.governors[1], removal.proposal_id).executed
    # Governor 2's stored cosignature no longer counts: no checkpoint reaches the threshold.
    assert setup.http.get("/v1/checkpoints/latest").status_code == 404
    # And it cannot hand in new ones.
    g = setup.governors[2]
    checkpoint, _ = node_checkpoint(setup.registry)
    refused = setup.submit(signed_note(checkpoint, [cosign(checkpoint, g.address, seed_of(g), 1)]))
    assert refused.status_code == 409
    # The remaining governors carry on.
    assert setup.submit(setup.cosign(0)).json()["counted"] is False
    latest_size = parse_note(setup.cosign(1))[0].size
    assert setup.submit(setup.cosign(1, latest_size)).json()["counted"] is True
