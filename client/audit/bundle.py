"""The audit bundle: a typed in-memory model, its one byte encoding (RFC 8785 canonical JSON) and a
strict loader that names the part and field of anything that does not fit (docs/audit.md).

The loader checks shapes only (hex, sizes, types, no unknown or missing field); what the values
prove is `client.audit.verify`'s work.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import rfc8785

from ..errors import MalformedFileError, ProofError
from ..jsonable import jsonable
from ..terms import Opening

FORMAT = "idsreg-audit-bundle/1"
#: Integers at or above this travel as decimal strings (JSON readers hold numbers as doubles).
SAFE_INTEGER = 2**53
_HEX = re.compile(r"(?:[0-9a-f]{2})*")


class BundleError(ProofError):
    """A bundle that does not verify: `part` names where (a fact, a header, a block's receipts…),
    `field` the field, and the message says why (exit 4)."""

    def __init__(self, part: str, field: str, reason: str) -> None:
        super().__init__(f"{part}, field {field}: {reason}")
        self.part = part
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class BlockReceipts:
    """Every receipt of one block, in transaction order, in consensus encoding."""

    number: int
    receipts: tuple[bytes, ...]


@dataclass(frozen=True)
class FactRecord:
    """A fact as the bundle carries it: where its log is, what it says (decoded, for readers;
    the verifier decodes the log again and compares) and the receipt's trie proof."""

    block: int
    tx: int
    index: int
    contract: str
    event: str
    about: str
    args: Mapping[str, Any]
    proof: tuple[bytes, ...]

    def label(self, number: int) -> str:
        return f"fact {number} ({self.event}, block {self.block}, transaction {self.tx}, log {self.index})"


@dataclass(frozen=True)
class Bundle:
    """Everything about one dataset from the registry's deployment block to `last_block`."""

    chain_id: int
    contracts: Mapping[str, bytes]
    dataset: bytes
    depth: int
    first_block: int
    headers: tuple[bytes, ...]
    blocks: tuple[BlockReceipts, ...]
    facts: tuple[FactRecord, ...]
    openings: tuple[Opening, ...]
    #: The cosigned checkpoint that authenticates the last header, when one was available
    #: (docs/audit.md, "Checkpoints"): kept as the JSON object the bundle holds.
    checkpoint: Mapping[str, Any] | None

    @property
    def last_block(self) -> int:
        return self.first_block + len(self.headers) - 1

    def to_document(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "chainId": self.chain_id,
            "contracts": {name: _hex(address) for name, address in self.contracts.items()},
            "dataset": _hex(self.dataset),
            "depth": self.depth,
            "firstBlock": self.first_block,
            "headers": [_hex(h) for h in self.headers],
            "blocks": [{"number": b.number, "receipts": [_hex(r) for r in b.receipts]} for b in self.blocks],
            "facts": [
                {
                    "block": f.block,
                    "tx": f.tx,
                    "log": f.index,
                    "contract": f.contract,
                    "event": f.event,
                    "about": f.about,
                    "args": dict(f.args),
                    "proof": [_hex(node) for node in f.proof],
                }
                for f in self.facts
            ],
            "openings": [{"commitment": _hex(o.commitment), **o.to_dict()} for o in self.openings],
            "checkpoint": None if self.checkpoint is None else dict(self.checkpoint),
        }

    def to_bytes(self) -> bytes:
        """The bundle file's bytes: RFC 8785 canonical JSON, nothing else."""
        return bytes(rfc8785.dumps(self.to_document()))


def args_json(args: Mapping[str, Any]) -> dict[str, Any]:
    """Decoded event arguments as a bundle holds them: enums by name, bytes as 0x-hex, integers
    of 2^53 or more as decimal strings."""

    def safe(value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and abs(value) >= SAFE_INTEGER:
            return str(value)
        if isinstance(value, list):
            return [safe(v) for v in value]
        if isinstance(value, dict):
            return {k: safe(v) for k, v in value.items()}
        if isinstance(value, str) and value.startswith("0x"):
            return value.lower()
        return value

    return {k: safe(v) for k, v in jsonable(dict(args)).items()}


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


# ----- loading -----


class _Reader:
    """Typed reads of one JSON object, each refusal naming `part` and the field."""

    def __init__(self, raw: Any, part: str, fields: tuple[str, ...]) -> None:
        if not isinstance(raw, dict):
            raise BundleError(part, "(whole)", "is not a JSON object")
        unknown = sorted(set(raw) - set(fields))
        if unknown:
            raise BundleError(part, unknown[0], "is not a field of this format")
        missing = [f for f in fields if f not in raw]
        if missing:
            raise BundleError(part, missing[0], "is missing")
        self.raw = raw
        self.part = part

    def fail(self, name: str, reason: str) -> BundleError:
        return BundleError(self.part, name, reason)

    def integer(self, name: str, value: Any = None) -> int:
        value = self.raw[name] if value is None else value
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.fail(name, f"{value!r} is not a whole number")
        return value

    def hex(self, name: str, size: int | None = None, value: Any = None) -> bytes:
        return hex_value(self.raw[name] if value is None else value, size, lambda reason: self.fail(name, reason))

    def text(self, name: str) -> str:
        value = self.raw[name]
        if not isinstance(value, str):
            raise self.fail(name, f"{value!r} is not a string")
        return value

    def array(self, name: str) -> list[Any]:
        value = self.raw[name]
        if not isinstance(value, list):
            raise self.fail(name, "is not an array")
        return value


def hex_value(value: Any, size: int | None, fail: Any) -> bytes:
    """Lower-case 0x-hex (one spelling per value, so no flipped byte goes unseen)."""
    if not isinstance(value, str) or not value.startswith("0x"):
        raise fail(f"{value!r:.40} is not 0x-hex")
    digits = value[2:]
    if not _HEX.fullmatch(digits):
        raise fail(f"{value:.40} is not lower-case 0x-hex of whole bytes")
    data = bytes.fromhex(digits)
    if size is not None and len(data) != size:
        raise fail(f"{value:.40} is {len(data)} bytes, not {size}")
    return data


def load(data: bytes) -> Bundle:
    """A bundle from its file's bytes: MalformedFileError (exit 2) when it is not JSON of this
    format at all, BundleError (exit 4) naming the part and field that is out of shape."""
    try:
        raw = json.loads(data)
    except UnicodeDecodeError as exc:
        raise MalformedFileError(f"the bundle is not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise MalformedFileError(f"the bundle is not JSON: {exc.msg} at byte {exc.pos}") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        shown = raw.get("format") if isinstance(raw, dict) else None
        raise MalformedFileError(f"not an audit bundle (format {shown!r}, should be {FORMAT!r})")
    top = _Reader(
        raw,
        "the bundle",
        (
            "format",
            "chainId",
            "contracts",
            "dataset",
            "depth",
            "firstBlock",
            "headers",
            "blocks",
            "facts",
            "openings",
            "checkpoint",
        ),
    )
    contracts_raw = top.raw["contracts"]
    if not isinstance(contracts_raw, dict) or not contracts_raw:
        raise top.fail("contracts", "is not an object of contract addresses")
    contracts = {str(name): top.hex("contracts", 20, address) for name, address in contracts_raw.items()}
    headers = tuple(
        hex_value(h, None, lambda reason, n=n: BundleError(f"header {n}", "(rlp)", reason))
        for n, h in enumerate(top.array("headers"))
    )
    if not headers:
        raise top.fail("headers", "is empty")
    blocks = []
    for n, item in enumerate(top.array("blocks")):
        reader = _Reader(item, f"block entry {n}", ("number", "receipts"))
        number = reader.integer("number")
        receipts = tuple(
            hex_value(
                r,
                None,
                lambda reason, i=i, number=number: BundleError(f"receipt {i} of block {number}", "(bytes)", reason),
            )
            for i, r in enumerate(reader.array("receipts"))
        )
        blocks.append(BlockReceipts(number, receipts))
    facts = []
    for n, item in enumerate(top.array("facts")):
        reader = _Reader(item, f"fact {n}", ("block", "tx", "log", "contract", "event", "about", "args", "proof"))
        reader.part = f"fact {n} ({item.get('event')!s:.40}, block {item.get('block')!s:.20})"
        args = reader.raw["args"]
        if not isinstance(args, dict):
            raise reader.fail("args", "is not an object")
        facts.append(
            FactRecord(
                block=reader.integer("block"),
                tx=reader.integer("tx"),
                index=reader.integer("log"),
                contract=reader.text("contract"),
                event=reader.text("event"),
                about=reader.text("about"),
                args=args,
                proof=tuple(reader.hex("proof", None, node) for node in reader.array("proof")),
            )
        )
    openings = []
    for n, item in enumerate(top.array("openings")):
        reader = _Reader(item, f"terms opening {n}", ("commitment", "terms", "salt"))
        commitment = reader.hex("commitment", 32)
        reader.hex("salt", 32)
        try:
            opening = Opening.from_dict({"terms": item["terms"], "salt": item["salt"]})
        except ProofError as exc:
            raise reader.fail("terms", str(exc)) from None
        if opening.commitment != commitment:
            raise reader.fail(
                "terms",
                f"the terms and salt give commitment 0x{opening.commitment.hex()}, not 0x{commitment.hex()}",
            )
        openings.append(opening)
    checkpoint = top.raw["checkpoint"]
    if checkpoint is not None and not isinstance(checkpoint, dict):
        raise top.fail("checkpoint", "is neither null nor an object")
    return Bundle(
        chain_id=top.integer("chainId"),
        contracts=contracts,
        dataset=top.hex("dataset", 32),
        depth=top.integer("depth"),
        first_block=top.integer("firstBlock"),
        headers=headers,
        blocks=tuple(blocks),
        facts=tuple(facts),
        openings=tuple(openings),
        checkpoint=checkpoint,
    )


def canonical_difference(data: bytes, bundle: Bundle) -> int | None:
    """The first byte offset where `data` differs from the bundle's canonical encoding, or None."""
    canonical = bundle.to_bytes()
    if canonical == data:
        return None
    for offset, (a, b) in enumerate(zip(data, canonical, strict=False)):
        if a != b:
            return offset
    return min(len(data), len(canonical))
