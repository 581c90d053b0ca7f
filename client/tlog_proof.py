"""Batch-anchor proofs in the C2SP tlog-proof form (c2sp.org/tlog-proof@v1), so that
transparency-log tooling can read them. docs/proofs.md specifies the mapping.

An anchor's tree is a one-off log: its checkpoint (c2sp.org/tlog-checkpoint) has the origin
``idsreg/<chain id>/<AnchorRegistry address>/anchor/<anchoring org id>``, the anchor's tree
size and root. The note's one signature line is the chain's attestation rather than a key's:
key name = the origin, signature type 0xff ("idsreg-anchor/v1"), and the bytes after the key
ID are the anchoring block number (uint64, big-endian), block hash (32) and transaction hash
(32). A generic verifier ignores it as an unknown key (C2SP); an idsreg verifier checks it
against the chain (`idsreg verify --proof`) or a cosigned block checkpoint. The ``extra`` line
carries the anchored item (its 32-byte content root): leaf hash = SHA-256(0x00 || extra).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from .errors import MalformedFileError, ProofError
from .merkle import leaf_hash, verify_inclusion
from .proofs import ProofFile, _bytes32

__all__ = ["HEADER", "TlogProof", "anchor_origin", "from_tlog_proof", "to_tlog_proof"]

HEADER = "c2sp.org/tlog-proof@v1"
#: Signature type and identifier of the chain's anchoring attestation (signed-note 0xff).
ATTESTATION_TYPE = b"\xffidsreg-anchor/v1"
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


def anchor_origin(proof: ProofFile) -> str:
    """``idsreg/<chain id>/<AnchorRegistry, lowercase>/anchor/<anchoring org id, lowercase>``."""
    return f"idsreg/{proof.chain_id}/{proof.contract.lower()}/anchor/{proof.anchored_by.lower()}"


def _key_id(name: str) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ATTESTATION_TYPE).digest()[:4]


def to_tlog_proof(proof: ProofFile) -> str:
    """The tlog-proof text of an anchor proof file (checked offline first)."""
    proof.verify_offline()
    origin = anchor_origin(proof)
    b64 = base64.b64encode
    lines = [HEADER, "extra " + b64(_bytes32(proof.leaf, "leaf")).decode(), f"index {proof.leaf_index}"]
    lines += [b64(_bytes32(p, "path element")).decode() for p in proof.path]
    attestation = (
        _key_id(origin)
        + proof.block_number.to_bytes(8, "big")
        + _bytes32(proof.block_hash, "block hash")
        + _bytes32(proof.transaction, "transaction")
    )
    checkpoint = [origin, str(proof.tree_size), b64(_bytes32(proof.root, "root")).decode()]
    signature = f"\u2014 {origin} {b64(attestation).decode()}"
    return "\n".join([*lines, "", *checkpoint, "", signature]) + "\n"


@dataclass(frozen=True)
class TlogProof:
    """A parsed tlog-proof of an idsreg anchor."""

    extra: bytes
    index: int
    path: list[bytes]
    origin: str
    size: int
    root: bytes
    block_number: int
    block_hash: bytes
    transaction: bytes

    def verify(self, leaf: bytes | None = None) -> None:
        """The inclusion proof binds ``leaf`` (default: the ``extra`` item) to the root;
        ProofError otherwise."""
        item = self.extra if leaf is None else leaf
        if item != self.extra:
            raise ProofError(f"the tlog-proof is for item 0x{self.extra.hex()}, not 0x{item.hex()}")
        verify_inclusion(leaf_hash(item), self.index, self.size, self.path, self.root)


def _bad(line: int, what: str) -> MalformedFileError:
    return MalformedFileError(f"the tlog-proof's line {line}: {what}")


def _b64(text: str, line: int, size: int | None = 32) -> bytes:
    try:
        value = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _bad(line, f"{text!r} is not base64") from None
    if size is not None and len(value) != size:
        raise _bad(line, f"is {len(value)} bytes, not {size}")
    return value


def from_tlog_proof(text: str) -> TlogProof:
    """Parse the tlog-proof of an anchor; MalformedFileError naming the line otherwise."""
    if not text.endswith("\n"):
        raise MalformedFileError("the tlog-proof does not end in a newline")
    lines = text.split("\n")[:-1]
    if not lines or lines[0] != HEADER:
        raise _bad(1, f"the first line must be {HEADER}")
    at = 1
    extra = b""
    if at < len(lines) and lines[at].startswith("extra "):
        extra = _b64(lines[at][6:], at + 1, None)
        at += 1
    if at >= len(lines) or not lines[at].startswith("index ") or not _DECIMAL.fullmatch(lines[at][6:]):
        raise _bad(at + 1, "must be 'index' and a decimal number")
    index = int(lines[at][6:])
    at += 1
    path = []
    while at < len(lines) and lines[at]:
        path.append(_b64(lines[at], at + 1))
        at += 1
    checkpoint = lines[at + 1 :]
    if len(checkpoint) < 5 or checkpoint[3] != "":
        raise _bad(at + 2, "a checkpoint (origin, size, root), a blank line and a signature line must follow")
    origin, size_text, root_text = checkpoint[:3]
    if not _DECIMAL.fullmatch(size_text):
        raise _bad(at + 3, f"tree size {size_text!r} is not a decimal number")
    root = _b64(root_text, at + 4)
    attestation = None
    for offset, line in enumerate(checkpoint[4:], start=at + 6):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "\u2014":
            raise _bad(offset, "a signature line is '\u2014 <key name> <base64>'")
        blob = _b64(parts[2], offset, None)
        if parts[1] == origin and blob[:4] == _key_id(origin) and len(blob) == 4 + 8 + 32 + 32:
            attestation = blob[4:]
    if attestation is None:
        raise MalformedFileError(f"the tlog-proof carries no anchoring attestation for origin {origin}")
    if len(extra) != 32:
        raise MalformedFileError("the tlog-proof's extra line must carry the 32-byte anchored item")
    return TlogProof(
        extra=extra,
        index=index,
        path=path,
        origin=origin,
        size=int(size_text),
        root=root,
        block_number=int.from_bytes(attestation[:8], "big"),
        block_hash=attestation[8:40],
        transaction=attestation[40:],
    )
