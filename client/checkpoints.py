"""Cosigned checkpoints over the chain's block hashes (C2SP tlog-checkpoint, signed-note and
tlog-cosignature/v1), pure Python, no network.

The tree: RFC 6962 (`client.merkle`) whose leaf ``i`` is the 32-byte hash of block ``i``
(leaf hash ``SHA-256(0x00 || blockhash)``); a tree of size ``N`` covers blocks ``0 .. N-1``.

The checkpoint (c2sp.org/tlog-checkpoint) is the note text of three lines::

    idsreg/<chain id>/<Consortium address, 0x + 40 lowercase hex>
    <tree size, decimal>
    <base64 of the 32-byte root>

and it is signed only by cosignatures (c2sp.org/tlog-cosignature, Ed25519 ``cosignature/v1``):
the chain has no log operator whose key could sign it, so the governors' witness keys,
registered on chain by governance (Consortium ``SetWitnessKey``), are the note's signers. A
governor's signature line is::

    — <origin>/witness/<governor address, lowercase> base64(key ID || timestamp || signature)

with key ID ``SHA-256(name || 0x0A || 0x04 || public key)[:4]``, the timestamp a big-endian
uint64 of POSIX seconds, and the Ed25519 signature over
``"cosignature/v1\\ntime <timestamp>\\n" || note text``. docs/audit.md specifies it byte for byte.

A checkpoint counts for a council when at least ``threshold`` of its governors cosigned it
(`verify_cosigned`); `client.checkpoint_council` says which council was current when.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from client.errors import CheckpointError, ProofError
from client.merkle import (
    HASH_SIZE,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "COSIGNATURE_HEADER",
    "Checkpoint",
    "Cosignature",
    "Council",
    "NoteSignature",
    "block_consistency_proof",
    "block_inclusion_proof",
    "check_cosignatures",
    "checkpoint_for",
    "cosign",
    "cosignature_key_id",
    "cosigned_message",
    "format_note",
    "origin_for",
    "parse_note",
    "signed_note",
    "tree_root",
    "verify_block",
    "verify_consistent",
    "verify_cosigned",
    "witness_name",
]

#: First line of the message an Ed25519 cosignature signs (c2sp.org/tlog-cosignature).
COSIGNATURE_HEADER = b"cosignature/v1\n"
#: Signature type byte of timestamped Ed25519 cosignatures (c2sp.org/signed-note).
COSIGNATURE_TYPE = 0x04
#: Largest timestamp a cosignature may carry (2^63 - 1).
MAX_TIMESTAMP = (1 << 63) - 1
#: How many signature lines a note may carry; C2SP asks verifiers to accept at least 16, a
#: council has at most 32 governors (Consortium.MAX_GOVERNORS).
MAX_SIGNATURES = 64

_EM_DASH = "\u2014"
_ADDRESS = re.compile(r"0x[0-9a-f]{40}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_ORIGIN = re.compile(r"idsreg/[1-9][0-9]*/0x[0-9a-f]{40}")


@dataclass(frozen=True)
class Checkpoint:
    """A tree head of the block-hash tree: ``origin``, ``size`` (blocks 0..size-1), ``root``
    (32 bytes) and ``note``, the exact note text they were read from or written as (the three
    lines with their newlines: the bytes every cosignature signs)."""

    origin: str
    size: int
    root: bytes
    note: bytes


@dataclass(frozen=True)
class Council:
    """Who may cosign and how many must: ``threshold`` governors out of ``witnesses`` (governor
    address, ``0x`` + lowercase hex → its 32-byte Ed25519 witness public key). Governors without
    a witness key cannot cosign but are still governors; they are not listed here."""

    threshold: int
    witnesses: Mapping[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a signed note: key name, 4-byte key ID, the signature bytes after
    the key ID, and the line number (1-based) in the note."""

    name: str
    key_id: bytes
    signature: bytes
    line: int


@dataclass(frozen=True)
class Cosignature:
    """A verified cosignature: the governor, its key and the time it signed at."""

    governor: str
    public_key: bytes
    timestamp: int
    line: int


# --- the tree over block hashes -------------------------------------------------------------


def _block_leaves(block_hashes: Iterable[bytes]) -> list[bytes]:
    leaves = []
    for number, block_hash in enumerate(block_hashes):
        if len(block_hash) != HASH_SIZE:
            raise CheckpointError(
                "malformed", f"block hash {number} must be 32 bytes, got {len(block_hash)}", block=number
            )
        leaves.append(leaf_hash(block_hash))
    return leaves


def tree_root(block_hashes: Iterable[bytes]) -> bytes:
    """The RFC 6962 root over blocks ``0 .. len-1``, leaf ``i`` being block ``i``'s hash."""
    return root_from_leaf_hashes(_block_leaves(block_hashes))


def origin_for(chain_id: int, consortium: str) -> str:
    """The checkpoint origin of a registry: ``idsreg/<chain id>/<Consortium address>``.

    >>> origin_for(7351, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
    'idsreg/7351/0x5fbdb2315678afecb367f032d93f642f64180aa3'
    """
    address = consortium.lower()
    if chain_id < 1 or not _ADDRESS.fullmatch(address):
        raise ValueError(f"no checkpoint origin for chain id {chain_id} and Consortium address {consortium!r}")
    return f"idsreg/{chain_id}/{address}"


def witness_name(origin: str, governor: str) -> str:
    """The key name of a governor's cosignatures: ``<origin>/witness/<address, lowercase>``."""
    return f"{origin}/witness/{governor.lower()}"


def format_note(origin: str, size: int, root: bytes) -> bytes:
    """The checkpoint note text (three lines, each ending in a newline)."""
    if not _ORIGIN.fullmatch(origin):
        raise ValueError(f"checkpoint origin {origin!r} is not idsreg/<chain id>/<address>")
    if size < 0 or len(root) != HASH_SIZE:
        raise ValueError(f"no checkpoint of size {size} with a {len(root)}-byte root")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n".encode()


def checkpoint_for(origin: str, block_hashes: Sequence[bytes]) -> Checkpoint:
    """The checkpoint of the tree over all of ``block_hashes`` (blocks 0 .. len-1)."""
    root = tree_root(block_hashes)
    return Checkpoint(origin, len(block_hashes), root, format_note(origin, len(block_hashes), root))


def block_inclusion_proof(block_hashes: Sequence[bytes], n: int) -> list[bytes]:
    """The RFC 6962 audit path of block ``n`` in the tree over all of ``block_hashes``."""
    if not 0 <= n < len(block_hashes):
        raise CheckpointError(
            "not-included", f"block {n} is not in a tree of {len(block_hashes)} blocks", block=n, size=len(block_hashes)
        )
    return inclusion_proof(_block_leaves(block_hashes), n)


def verify_block(checkpoint: Checkpoint, number: int, block_hash: bytes, proof: Sequence[bytes]) -> None:
    """Check that block ``number`` has hash ``block_hash`` in the tree of ``checkpoint``;
    raises `CheckpointError` (reason ``not-included``) naming the block otherwise."""
    if len(block_hash) != HASH_SIZE:
        raise CheckpointError(
            "malformed", f"block hash of block {number} must be 32 bytes, got {len(block_hash)}", block=number
        )
    try:
        verify_inclusion(leaf_hash(block_hash), number, checkpoint.size, proof, checkpoint.root)
    except ProofError as exc:
        raise CheckpointError(
            "not-included",
            f"block {number} with hash 0x{block_hash.hex()} is not proved by the checkpoint of "
            f"size {checkpoint.size}: {exc}",
            block=number,
            block_hash="0x" + block_hash.hex(),
            size=checkpoint.size,
        ) from exc


def block_consistency_proof(block_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """The RFC 6962 consistency proof from the tree of the first ``old_size`` blocks to the
    tree over all of ``block_hashes``."""
    if not 0 <= old_size <= len(block_hashes):
        raise CheckpointError(
            "inconsistent",
            f"no consistency proof from size {old_size} to size {len(block_hashes)}",
            old_size=old_size,
            size=len(block_hashes),
        )
    return consistency_proof(_block_leaves(block_hashes), old_size)


def verify_consistent(old: Checkpoint, new: Checkpoint, proof: Sequence[bytes]) -> None:
    """Check that ``new`` extends ``old`` (same origin, RFC 6962 consistency proof)."""
    if old.origin != new.origin:
        raise CheckpointError(
            "wrong-origin",
            f"checkpoints of different origins {old.origin} and {new.origin} are never consistent",
            origin=new.origin,
        )
    try:
        verify_consistency(old.size, new.size, old.root, new.root, proof)
    except ProofError as exc:
        raise CheckpointError(
            "inconsistent",
            f"the checkpoint of size {new.size} does not extend the checkpoint of size {old.size}: {exc}",
            old_size=old.size,
            size=new.size,
        ) from exc


# --- signed notes ---------------------------------------------------------------------------


def _malformed(line: int, what: str) -> CheckpointError:
    return CheckpointError("malformed", f"checkpoint note line {line}: {what}", line=line)


def parse_note(text: bytes) -> tuple[Checkpoint, list[NoteSignature]]:
    """Split a signed checkpoint note into its checkpoint and its signature lines (none of them
    verified yet). Raises `CheckpointError` (reason ``malformed``) naming the line otherwise."""
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CheckpointError(
            "malformed", f"checkpoint note is not UTF-8 (byte {exc.start})", offset=exc.start
        ) from exc
    for offset, char in enumerate(decoded):
        if char < " " and char != "\n":
            line = decoded.count("\n", 0, offset) + 1
            raise _malformed(line, f"control character U+{ord(char):04X} is not allowed")
    if not decoded.endswith("\n"):
        raise CheckpointError("malformed", "checkpoint note does not end in a newline", line=decoded.count("\n") + 1)
    split = decoded.rfind("\n\n")
    if split < 0:
        raise CheckpointError("malformed", "checkpoint note has no blank line before its signatures", line=0)
    body, signature_text = decoded[: split + 1], decoded[split + 2 :]
    lines = body.split("\n")[:-1]
    if len(lines) < 3:
        raise _malformed(len(lines) + 1, f"a checkpoint has 3 lines (origin, size, root), this one {len(lines)}")
    if len(lines) > 3:
        raise _malformed(4, "idsreg checkpoints have no extension lines")
    origin, size_text, root_text = lines
    if not _ORIGIN.fullmatch(origin):
        raise _malformed(1, f"origin {origin!r} is not idsreg/<chain id>/<0x lowercase address>")
    if not _DECIMAL.fullmatch(size_text):
        raise _malformed(2, f"tree size {size_text!r} is not a decimal number without leading zeroes")
    root = _b64(root_text, 3, "root hash")
    if len(root) != HASH_SIZE:
        raise _malformed(3, f"root hash is {len(root)} bytes, not {HASH_SIZE}")
    checkpoint = Checkpoint(origin, int(size_text), root, body.encode())

    signatures: list[NoteSignature] = []
    first = len(lines) + 2
    raw_lines = signature_text.split("\n")[:-1]
    if not raw_lines:
        raise _malformed(first, "a signed note has at least one signature line")
    if len(raw_lines) > MAX_SIGNATURES:
        raise _malformed(first + MAX_SIGNATURES, f"more than {MAX_SIGNATURES} signature lines")
    for number, raw in enumerate(raw_lines, start=first):
        parts = raw.split(" ")
        if len(parts) != 3 or parts[0] != _EM_DASH or not parts[1] or "+" in parts[1]:
            raise _malformed(number, "a signature line is '\u2014 <key name> <base64 signature>'")
        blob = _b64(parts[2], number, "signature")
        if len(blob) < 5:
            raise _malformed(number, f"signature is {len(blob)} bytes, shorter than a key ID and a signature")
        signatures.append(NoteSignature(parts[1], blob[:4], blob[4:], number))
    return checkpoint, signatures


def _b64(text: str, line: int, what: str) -> bytes:
    try:
        value = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _malformed(line, f"{what} is not standard base64") from exc
    if base64.b64encode(value).decode() != text:
        raise _malformed(line, f"{what} is not canonical base64")
    return value


def cosignature_key_id(name: str, public_key: bytes) -> bytes:
    """``SHA-256(name || 0x0A || 0x04 || public key)[:4]`` (c2sp.org/tlog-cosignature)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([COSIGNATURE_TYPE]) + public_key).digest()[:4]


def cosigned_message(note_text: bytes, timestamp: int) -> bytes:
    """What a cosignature signs: ``cosignature/v1``, ``time <timestamp>``, the note text."""
    return COSIGNATURE_HEADER + b"time %d\n" % timestamp + note_text


def cosign(checkpoint: Checkpoint, governor: str, private_key: bytes, timestamp: int) -> str:
    """A governor's signature line (without its newline) over ``checkpoint``, signed with the
    32-byte Ed25519 private key (seed) at POSIX time ``timestamp``."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError(f"cosignature timestamp {timestamp} is out of range")
    key = Ed25519PrivateKey.from_private_bytes(private_key)
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    name = witness_name(checkpoint.origin, governor)
    signature = key.sign(cosigned_message(checkpoint.note, timestamp))
    blob = cosignature_key_id(name, public) + timestamp.to_bytes(8, "big") + signature
    return f"{_EM_DASH} {name} {base64.b64encode(blob).decode()}"


def signed_note(checkpoint: Checkpoint, signature_lines: Iterable[str]) -> bytes:
    """The signed note: the checkpoint's text, a blank line, one signature line each."""
    lines = list(signature_lines)
    if not lines:
        raise ValueError("a signed note needs at least one signature line")
    return checkpoint.note + b"\n" + "".join(line + "\n" for line in lines).encode()


def _ed25519_verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def check_cosignatures(note: bytes, council: Council) -> tuple[Checkpoint, list[Cosignature], list[NoteSignature]]:
    """Parse ``note`` and verify every signature line of a council witness: the checkpoint, the
    verified cosignatures (one per governor) and the lines ignored as unknown keys (C2SP: a
    verifier ignores keys it does not know). A known key whose signature fails rejects the
    note (reason ``bad-signature``), naming the governor and the line."""
    checkpoint, signatures = parse_note(note)
    by_key: dict[tuple[str, bytes], tuple[str, bytes]] = {}
    for governor, public_key in council.witnesses.items():
        name = witness_name(checkpoint.origin, governor)
        by_key[(name, cosignature_key_id(name, public_key))] = (governor.lower(), public_key)
    verified: dict[str, Cosignature] = {}
    ignored: list[NoteSignature] = []
    for sig in signatures:
        known = by_key.get((sig.name, sig.key_id))
        if known is None:
            ignored.append(sig)
            continue
        governor, public_key = known
        if len(sig.signature) != 8 + 64:
            raise CheckpointError(
                "bad-signature",
                f"cosignature of governor {governor} on line {sig.line} is {len(sig.signature) + 4} bytes, not 76",
                governor=governor,
                line=sig.line,
            )
        timestamp = int.from_bytes(sig.signature[:8], "big")
        if timestamp > MAX_TIMESTAMP or not _ed25519_verify(
            public_key, sig.signature[8:], cosigned_message(checkpoint.note, timestamp)
        ):
            raise CheckpointError(
                "bad-signature",
                f"cosignature of governor {governor} on line {sig.line} does not verify over the checkpoint "
                f"of size {checkpoint.size} with root {checkpoint.root.hex()}",
                governor=governor,
                line=sig.line,
                size=checkpoint.size,
            )
        verified.setdefault(governor, Cosignature(governor, public_key, timestamp, sig.line))
    return checkpoint, list(verified.values()), ignored


def verify_cosigned(note: bytes, council: Council, origin: str | None = None) -> Checkpoint:
    """The checkpoint of a signed ``note`` that at least ``council.threshold`` of the council's
    governors cosigned; raises `CheckpointError` otherwise, saying why (``malformed`` with the
    line, ``wrong-origin``, ``bad-signature`` with the governor, ``below-threshold`` with the
    count and the ignored signers). ``origin``, when given, is the only origin accepted."""
    checkpoint, cosignatures, ignored = check_cosignatures(note, council)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(
            "wrong-origin",
            f"checkpoint origin {checkpoint.origin} is not the expected {origin}",
            origin=checkpoint.origin,
            expected=origin,
        )
    distinct_keys = {c.public_key for c in cosignatures}
    if len(distinct_keys) < council.threshold or council.threshold < 1:
        unknown = ", ".join(sorted({s.name for s in ignored})) or "none"
        raise CheckpointError(
            "below-threshold",
            f"checkpoint of size {checkpoint.size} is cosigned by {len(distinct_keys)} governor(s) of the council, "
            f"{council.threshold} needed (signatures ignored as not the council's witness keys: {unknown})",
            cosigners=sorted(c.governor for c in cosignatures),
            threshold=council.threshold,
            size=checkpoint.size,
        )
    return checkpoint
