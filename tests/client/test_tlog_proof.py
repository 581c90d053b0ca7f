"""Anchor proofs in the C2SP tlog-proof form: the layout of c2sp.org/tlog-proof@v1 rebuilt
line by line, parsed back, verified, and refused when tampered with (the CLI export:
tests/cli/test_checkpoint_cli.py)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from client.errors import MalformedFileError, ProofError
from client.merkle import leaf_hash, root_and_proofs
from client.proofs import ProofFile
from client.tlog_proof import HEADER, anchor_origin, from_tlog_proof, to_tlog_proof

ITEMS = [hashlib.sha256(b"item %d" % i).digest() for i in range(6)]


def proof_of(index: int) -> ProofFile:
    root, paths = root_and_proofs([leaf_hash(i) for i in ITEMS])
    return ProofFile(
        leaf="0x" + ITEMS[index].hex(),
        leaf_index=index,
        tree_size=len(ITEMS),
        path=["0x" + p.hex() for p in paths[index]],
        root="0x" + root.hex(),
        chain_id=7351,
        contract="0x" + "Ab" * 20,
        transaction="0x" + "cd" * 32,
        block_number=42,
        block_hash="0x" + "ef" * 32,
        anchored_at=1_700_000_000,
        anchored_by="0x" + "12" * 32,
    )


def test_layout_follows_the_spec() -> None:
    proof = proof_of(4)
    lines = to_tlog_proof(proof).split("\n")
    b64 = lambda hexed: base64.b64encode(bytes.fromhex(hexed[2:])).decode()
    origin = f"idsreg/7351/0x{'ab' * 20}/anchor/0x{'12' * 32}"
    assert anchor_origin(proof) == origin
    assert lines[:3] == [HEADER, "extra " + b64(proof.leaf), "index 4"]
    path = lines[3 : 3 + len(proof.path)]
    assert path == [b64(p) for p in proof.path]
    rest = lines[3 + len(proof.path) :]
    assert rest[:5] == ["", origin, "6", b64(proof.root), ""]
    dash, name, blob = rest[5].split(" ")
    assert (dash, name, rest[6:]) == ("\u2014", origin, [""])
    raw = base64.b64decode(blob)
    assert raw[:4] == hashlib.sha256(origin.encode() + b"\n\xffidsreg-anchor/v1").digest()[:4]
    assert raw[4:12] == (42).to_bytes(8, "big") and raw[12:44] == b"\xef" * 32 and raw[44:] == b"\xcd" * 32


@pytest.mark.parametrize("index", range(6))
def test_round_trip_and_verification(index: int) -> None:
    parsed = from_tlog_proof(to_tlog_proof(proof_of(index)))
    assert (parsed.index, parsed.size, parsed.block_number, parsed.extra) == (index, 6, 42, ITEMS[index])
    parsed.verify()
    with pytest.raises(ProofError, match="not 0x"):
        parsed.verify(ITEMS[index - 1])


def test_tampering_is_refused() -> None:
    text = to_tlog_proof(proof_of(2))
    lines = text.split("\n")
    lines[3] = base64.b64encode(b"\x00" * 32).decode()
    with pytest.raises(ProofError, match="does not verify"):
        from_tlog_proof("\n".join(lines)).verify()
    with pytest.raises(MalformedFileError, match="line 1"):
        from_tlog_proof(text.replace(HEADER, "c2sp.org/tlog-proof@v2"))
    with pytest.raises(MalformedFileError, match="no anchoring attestation"):
        from_tlog_proof(text.rsplit("\u2014", 1)[0] + "\u2014 someone.example AAAAAAAA\n")
    bad = proof_of(1)
    with pytest.raises(ProofError):
        to_tlog_proof(ProofFile(**{**bad.__dict__, "leaf_index": 0}))
