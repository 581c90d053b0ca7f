"""Block-level evidence: headers whose hash is recomputed from their RLP, receipts encoded as the
consensus encodes them, and Merkle-Patricia proofs of a receipt under a header's receiptsRoot.

Nothing here talks to a node: `header_rlp` and `receipt_bytes` turn a node's JSON answer into
consensus bytes (the export checks each against the node's hash and receiptsRoot), the rest
reads those bytes back. RLP is the `rlp` package, tries are py-trie's `HexaryTrie`, hashing is
`eth-hash` (through eth_utils' keccak).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import rlp
from eth_utils import keccak
from trie.exceptions import BadTrieProof
from trie.hexary import HexaryTrie

from ..errors import ProofError

#: The header fields in consensus order (Ethereum's execution-layer header up to Prague), with
#: how each is encoded: "bytes" as is, "int" as a minimal big-endian integer. Fields from
#: `baseFeePerGas` on were added by forks; a node returns a prefix of them, never one without
#: those before it.
HEADER_FIELDS: tuple[tuple[str, str], ...] = (
    ("parentHash", "bytes"),
    ("sha3Uncles", "bytes"),
    ("miner", "bytes"),
    ("stateRoot", "bytes"),
    ("transactionsRoot", "bytes"),
    ("receiptsRoot", "bytes"),
    ("logsBloom", "bytes"),
    ("difficulty", "int"),
    ("number", "int"),
    ("gasLimit", "int"),
    ("gasUsed", "int"),
    ("timestamp", "int"),
    ("extraData", "bytes"),
    ("mixHash", "bytes"),
    ("nonce", "bytes"),
    ("baseFeePerGas", "int"),  # London
    ("withdrawalsRoot", "bytes"),  # Shanghai
    ("blobGasUsed", "int"),  # Cancun
    ("excessBlobGas", "int"),  # Cancun
    ("parentBeaconBlockRoot", "bytes"),  # Cancun
    ("requestsHash", "bytes"),  # Prague
)
_MANDATORY = 15  # parentHash … nonce
#: Keys of a node's block answer that are not header fields (the block's body, derived values).
NOT_HEADER = frozenset(
    {"hash", "totalDifficulty", "size", "uncles", "transactions", "withdrawals", "sealFields", "author", "mixhash"}
)

BLOOM_BYTES = 256


def _hex(value: str) -> bytes:
    return bytes.fromhex(value[2:]) if value.startswith("0x") else bytes.fromhex(value)


def header_rlp(block: Mapping[str, Any]) -> bytes:
    """The RLP encoding of a block header, from a node's `eth_getBlockByNumber` JSON (hex
    strings). A field this client does not know refuses with ProofError naming it, rather than
    yield a header whose hash silently differs.

    >>> raw = header_rlp({"parentHash": "0x" + "00" * 32, "sha3Uncles": "0x" + "00" * 32,
    ...     "miner": "0x" + "00" * 20, "stateRoot": "0x" + "00" * 32, "transactionsRoot": "0x" + "00" * 32,
    ...     "receiptsRoot": "0x" + "00" * 32, "logsBloom": "0x" + "00" * 256, "difficulty": "0x0",
    ...     "number": "0x1", "gasLimit": "0x1", "gasUsed": "0x0", "timestamp": "0x0", "extraData": "0x",
    ...     "mixHash": "0x" + "00" * 32, "nonce": "0x" + "00" * 8})
    >>> decode_header(raw).number
    1
    """
    unknown = sorted(set(block) - {name for name, _ in HEADER_FIELDS} - NOT_HEADER)
    if unknown:
        raise ProofError(
            f"the node's block {block.get('number')} has header field(s) {', '.join(unknown)} this client cannot encode"
        )
    values: list[Any] = []
    for position, (name, kind) in enumerate(HEADER_FIELDS):
        if name not in block or block[name] is None:
            if position < _MANDATORY:
                raise ProofError(f"the node's block {block.get('number')} lacks header field {name}")
            later = [n for n, _ in HEADER_FIELDS[position:] if block.get(n) is not None]
            if later:
                raise ProofError(f"the node's block {block.get('number')} has {later[0]} but no {name}")
            break
        values.append(int(str(block[name]), 16) if kind == "int" else _hex(str(block[name])))
    return bytes(rlp.encode(values))


@dataclass(frozen=True)
class Header:
    """A decoded header: its recomputed hash and the fields the audit reads."""

    hash: bytes
    parent_hash: bytes
    receipts_root: bytes
    logs_bloom: bytes
    number: int
    timestamp: int
    raw: bytes


def _int(field: bytes, name: str) -> int:
    if field[:1] == b"\x00":
        raise ProofError(f"header field {name} is not a minimal integer")
    return int.from_bytes(field, "big")


def decode_header(raw: bytes) -> Header:
    """A header from its RLP; its hash is keccak256 of exactly these bytes. ProofError naming
    the field that does not fit."""
    try:
        fields = rlp.decode(raw, strict=True)
    except rlp.DecodingError as exc:
        raise ProofError(f"the header is not RLP ({exc})") from None
    if not isinstance(fields, list) or not _MANDATORY <= len(fields) <= len(HEADER_FIELDS):
        raise ProofError("the header is not a list of header fields")
    if any(not isinstance(f, bytes) for f in fields):
        raise ProofError("a header field is a list, not a byte string")
    sizes = {"parentHash": 32, "receiptsRoot": 32, "logsBloom": BLOOM_BYTES}
    named = dict(zip((name for name, _ in HEADER_FIELDS), fields, strict=False))
    for name, size in sizes.items():
        if len(named[name]) != size:
            raise ProofError(f"header field {name} is {len(named[name])} bytes, not {size}")
    return Header(
        hash=keccak(raw),
        parent_hash=named["parentHash"],
        receipts_root=named["receiptsRoot"],
        logs_bloom=named["logsBloom"],
        number=_int(named["number"], "number"),
        timestamp=_int(named["timestamp"], "timestamp"),
        raw=raw,
    )


# ----- receipts -----


@dataclass(frozen=True)
class Log:
    address: bytes
    topics: tuple[bytes, ...]
    data: bytes


@dataclass(frozen=True)
class Receipt:
    """A transaction receipt as the consensus encodes it (EIP-2718: type byte ‖ RLP for typed
    transactions, bare RLP for legacy ones)."""

    tx_type: int
    status: int
    cumulative_gas: int
    bloom: bytes
    logs: tuple[Log, ...]


def receipt_bytes(receipt: Mapping[str, Any]) -> bytes:
    """The consensus encoding of a receipt from a node's `eth_getBlockReceipts` JSON."""
    tx_type = int(str(receipt.get("type", "0x0")), 16)
    if "status" not in receipt or receipt["status"] is None:
        raise ProofError(f"receipt of {receipt.get('transactionHash')} has no status (a pre-Byzantium root)")
    logs = [
        [_hex(log["address"]), [_hex(t) for t in log["topics"]], _hex(log["data"])] for log in receipt.get("logs", [])
    ]
    body = bytes(
        rlp.encode(
            [
                int(str(receipt["status"]), 16),
                int(str(receipt["cumulativeGasUsed"]), 16),
                _hex(receipt["logsBloom"]),
                logs,
            ]
        )
    )
    return body if tx_type == 0 else bytes([tx_type]) + body


def decode_receipt(raw: bytes) -> Receipt:
    """A receipt from its consensus bytes; ProofError saying what does not fit."""
    if not raw:
        raise ProofError("the receipt is empty")
    tx_type, body = (0, raw) if raw[0] >= 0xC0 else (raw[0], raw[1:])
    if tx_type >= 0x80:
        raise ProofError(f"the receipt's type byte 0x{tx_type:02x} is not a transaction type")
    try:
        fields = rlp.decode(body, strict=True)
    except rlp.DecodingError as exc:
        raise ProofError(f"the receipt is not RLP ({exc})") from None
    if not isinstance(fields, list) or len(fields) != 4 or not isinstance(fields[3], list):
        raise ProofError("the receipt is not [status, cumulativeGasUsed, logsBloom, logs]")
    status, gas, bloom, raw_logs = fields
    if not isinstance(status, bytes) or not isinstance(gas, bytes) or not isinstance(bloom, bytes):
        raise ProofError("a receipt field is a list, not a byte string")
    if len(bloom) != BLOOM_BYTES:
        raise ProofError(f"the receipt's logsBloom is {len(bloom)} bytes, not {BLOOM_BYTES}")
    logs = []
    for entry in raw_logs:
        if (
            not isinstance(entry, list)
            or len(entry) != 3
            or not isinstance(entry[0], bytes)
            or len(entry[0]) != 20
            or not isinstance(entry[1], list)
            or not all(isinstance(t, bytes) and len(t) == 32 for t in entry[1])
            or not isinstance(entry[2], bytes)
        ):
            raise ProofError("a log of the receipt is not [address, topics, data]")
        logs.append(Log(entry[0], tuple(entry[1]), entry[2]))
    return Receipt(tx_type, int.from_bytes(status, "big"), int.from_bytes(gas, "big"), bloom, tuple(logs))


def receipt_key(index: int) -> bytes:
    """A receipt's key in the receipts trie: the RLP of its transaction index."""
    return bytes(rlp.encode(index))


def receipts_trie(receipts: Sequence[bytes]) -> HexaryTrie:
    trie = HexaryTrie(db={})
    for index, raw in enumerate(receipts):
        trie[receipt_key(index)] = raw
    return trie


def receipts_root(receipts: Sequence[bytes]) -> bytes:
    """The receiptsRoot of a block with these receipts (in transaction order)."""
    return bytes(receipts_trie(receipts).root_hash)


def receipt_proof(receipts: Sequence[bytes], index: int) -> list[bytes]:
    """The trie nodes (each RLP-encoded) from the root to receipt `index`."""
    return [bytes(rlp.encode(node)) for node in receipts_trie(receipts).get_proof(receipt_key(index))]  # type: ignore[no-untyped-call]


def prove_receipt(root: bytes, index: int, proof: Sequence[bytes]) -> bytes:
    """The receipt at `index` that `proof` proves under `root`; ProofError if the nodes do not
    lead there from that root."""
    try:
        nodes = tuple(rlp.decode(node) for node in proof)
        value = HexaryTrie.get_from_proof(root, receipt_key(index), nodes)  # type: ignore[no-untyped-call]
    except (rlp.DecodingError, BadTrieProof, ValueError, TypeError, IndexError) as exc:
        raise ProofError(f"the receipt proof does not lead from receiptsRoot 0x{root.hex()} ({exc})") from None
    if not value:
        raise ProofError(f"the receipt proof shows no receipt {index} under receiptsRoot 0x{root.hex()}")
    return bytes(value)


# ----- logs blooms -----


@lru_cache(maxsize=4096)
def bloom_bits(item: bytes) -> tuple[int, int, int]:
    """The three bit positions (0 = least significant bit of the last byte) `item` sets in a
    2048-bit logs bloom (Yellow Paper, M3:2048)."""
    digest = keccak(item)
    return tuple((int.from_bytes(digest[i : i + 2], "big") & 2047) for i in (0, 2, 4))  # type: ignore[return-value]


def bloom_may_hold(bloom: bytes, item: bytes) -> bool:
    """Whether `item` (an address or a topic) may be in the logs the bloom summarises: False
    means certainly not."""
    return bloom_int_may_hold(int.from_bytes(bloom, "big"), item)


def bloom_int_may_hold(bloom: int, item: bytes) -> bool:
    """`bloom_may_hold` with the bloom read as one big-endian integer (read it once per block)."""
    return all(bloom >> bit & 1 for bit in bloom_bits(item))
