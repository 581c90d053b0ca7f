"""Inclusion-proof files: one per anchored item, verifiable offline and against the chain.

The format is documented in docs/proofs.md. Offline verification needs nothing but the file
(and the item it proves); chain verification re-reads the anchor, the block and the
transaction from a node.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError, MalformedFileError
from .jsonable import camel
from .merkle import leaf_hash, verify_inclusion

FORMAT = "idsreg-inclusion-proof/1"


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _bytes32(value: Any, what: str) -> bytes:
    try:
        raw = bytes.fromhex(str(value).removeprefix("0x"))
    except ValueError:
        raw = b""
    if len(raw) != 32 or not str(value).startswith("0x"):
        raise MalformedFileError(f"the proof's {what} {value!r} is not 32 bytes of 0x-hex")
    return raw


@dataclass(frozen=True)
class ProofFile:
    """Where one item sits in an anchored RFC 6962 tree, and where that tree was anchored.

    >>> p = ProofFile(leaf="0x" + "11" * 32, leaf_index=0, tree_size=1, path=[],
    ...               root="0x" + "6a" * 32, chain_id=1, contract="0x" + "00" * 20,
    ...               transaction="0x" + "00" * 32, block_number=1, block_hash="0x" + "00" * 32,
    ...               anchored_at=0, anchored_by="0x" + "00" * 32)
    >>> ProofFile.from_json(p.to_json()) == p
    True
    """

    leaf: str
    leaf_index: int
    tree_size: int
    path: list[str]
    root: str
    chain_id: int
    contract: str
    transaction: str
    block_number: int
    block_hash: str
    anchored_at: int
    anchored_by: str
    item: str = ""
    format: str = field(default=FORMAT)

    def to_json(self) -> str:
        raw = asdict(self)
        return json.dumps({camel(k): v for k, v in raw.items()}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ProofFile:
        """Parse a proof file; MalformedFileError naming what is wrong with it."""
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise MalformedFileError(f"the proof file is not JSON: {exc}") from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise MalformedFileError(f"not an IDS Registry proof file (format should be {FORMAT!r})")
        try:
            values = {_snake(k): v for k, v in raw.items()}
            proof = cls(**values)
        except TypeError as exc:
            raise MalformedFileError(f"the proof file has missing or unknown fields: {exc}") from None
        proof.check_shape()
        return proof

    @classmethod
    def read(cls, path: Path) -> ProofFile:
        try:
            text = path.read_text()
        except OSError as exc:
            raise ConfigError(f"cannot read proof file {path}: {exc.strerror}") from None
        return cls.from_json(text)

    def check_shape(self) -> None:
        for what in ("leaf", "root", "block_hash", "transaction", "anchored_by"):
            _bytes32(getattr(self, what), what.replace("_", " "))
        for element in self.path:
            _bytes32(element, "path element")
        for what in ("leaf_index", "tree_size", "block_number", "chain_id", "anchored_at"):
            if not isinstance(getattr(self, what), int) or getattr(self, what) < 0:
                raise MalformedFileError(
                    f"the proof's {what.replace('_', ' ')} {getattr(self, what)!r} is not a whole number"
                )

    def verify_offline(self) -> None:
        """Recompute the root from the leaf and the path; ProofError with the reason if it differs."""
        self.check_shape()
        verify_inclusion(
            leaf_hash(_bytes32(self.leaf, "leaf")),
            self.leaf_index,
            self.tree_size,
            [_bytes32(p, "path element") for p in self.path],
            _bytes32(self.root, "root"),
        )


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


__all__ = ["FORMAT", "ProofFile", "_hex"]
