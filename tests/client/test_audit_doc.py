"""docs/audit.md's worked checkpoint example is what the code makes and accepts."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from client.checkpoints import (
    Council,
    block_inclusion_proof,
    checkpoint_for,
    cosign,
    origin_for,
    signed_note,
    verify_cosigned,
)
from client.errors import CheckpointError

DOC = Path(__file__).parents[2] / "docs" / "audit.md"
GOVERNOR = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"


def example_note() -> bytes:
    text = DOC.read_text()
    block = text.split("<!-- checkpoint-example -->\n```\n", 1)[1].split("```", 1)[0]
    return block.encode()


def test_worked_example_matches_the_code() -> None:
    seed = bytes(range(32))
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert base64.b64encode(public).decode() == "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
    blocks = [hashlib.sha256(b"block %d" % i).digest() for i in range(3)]
    origin = origin_for(7351, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
    checkpoint = checkpoint_for(origin, blocks)
    assert checkpoint.root.hex() == "cef99a3e5a4b34f9dc4c1437346f581e7cefafd93408d6609c6f2a22c910a5fd"
    assert [p.hex()[:8] for p in block_inclusion_proof(blocks, 1)] == ["32c0c36a", "7dd99d15"]
    made = signed_note(checkpoint, [cosign(checkpoint, GOVERNOR, seed, 1767225600)])
    assert made == example_note()
    assert verify_cosigned(example_note(), Council(1, {GOVERNOR: public}), origin) == checkpoint
    with pytest.raises(CheckpointError, match="2 needed"):
        verify_cosigned(example_note(), Council(2, {GOVERNOR: public}))
    flipped = example_note().replace(b"zvmaPlpL", b"zvmaPlpM")
    with pytest.raises(CheckpointError, match=f"governor {GOVERNOR} on line 5 does not verify"):
        verify_cosigned(flipped, Council(1, {GOVERNOR: public}))
