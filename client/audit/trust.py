"""Authenticating a bundle's last block by a cosigned checkpoint (client/checkpoints.py), so that
no node is needed: the checkpoints the bundle carries are taken by the council trust rule
(client/checkpoint_council.py) from the council the auditor trusts (its council file), with
the council changes the bundle's own `council` facts prove; the largest must cover exactly the
bundle's blocks, and the last header's hash must be its last leaf (RFC 6962 inclusion proof).

A bundle's `checkpoint` object (docs/audit.md): `{"notes": [signed note text, …], "proof":
[0x-hex audit path of the last block]}`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..checkpoint_council import CouncilHistory, TrustedCouncil, council_history, counted_checkpoints
from ..checkpoints import block_inclusion_proof, origin_for, parse_note, verify_block
from ..errors import CheckpointError
from .bundle import Bundle, BundleError, hex_value
from .evidence import Header
from .facts import Fact

Authenticate = Callable[[Bundle, Header, Sequence[Fact]], str]


def checkpoint_section(notes: Sequence[bytes], block_hashes: Sequence[bytes]) -> dict[str, Any]:
    """The bundle's `checkpoint` object for `notes`, the largest of which must be of size
    len(block_hashes) (blocks 0..len-1, the bundle's last block being len-1)."""
    size = max(parse_note(note)[0].size for note in notes)
    if size != len(block_hashes):
        raise CheckpointError("not-included", f"the largest checkpoint is of size {size}, not {len(block_hashes)}")
    return {
        "notes": [note.decode() for note in notes],
        "proof": ["0x" + node.hex() for node in block_inclusion_proof(block_hashes, size - 1)],
    }


def _section(raw: Mapping[str, Any] | None) -> tuple[list[bytes], list[bytes]]:
    part = "the checkpoint"
    if raw is None:
        raise BundleError(part, "(whole)", "is absent: the bundle carries no checkpoint to check the council file by")
    if set(raw) != {"notes", "proof"}:
        raise BundleError(part, "(whole)", "must hold exactly notes and proof")
    notes, proof = raw["notes"], raw["proof"]
    if not isinstance(notes, list) or not notes or not all(isinstance(n, str) for n in notes):
        raise BundleError(part, "notes", "is not a non-empty array of signed notes")
    if not isinstance(proof, list):
        raise BundleError(part, "proof", "is not an array")
    nodes = [
        hex_value(p, 32, lambda reason, n=n: BundleError(part, f"proof[{n}]", reason)) for n, p in enumerate(proof)
    ]
    return [n.encode() for n in notes], nodes


def _changes(facts: Sequence[Fact]) -> list[Any]:
    events = []
    position: dict[int, int] = {}
    for fact in facts:
        # A block-wide order for facts of one block (the history sorts by block and log index).
        position[fact.block] = position.get(fact.block, -1) + 1
        if fact.about == "council":
            args = dict(fact.args)
            for name in ("previousKey", "newKey"):
                if isinstance(args.get(name), str):
                    args[name] = bytes.fromhex(str(args[name])[2:])
            events.append(
                {
                    "event": fact.event,
                    "args": args,
                    "blockNumber": fact.block,
                    "transactionHash": f"0x{fact.tx:x}",  # the receipt's index: receipts carry no hash
                    "logIndex": position[fact.block],
                }
            )
    return council_history(events)


def by_checkpoint(trusted: TrustedCouncil) -> Authenticate:
    """Authenticate a bundle's last block by its checkpoints, counted from `trusted`."""

    def check(bundle: Bundle, head: Header, facts: Sequence[Fact]) -> str:
        consortium = "0x" + bundle.contracts["Consortium"].hex()
        origin = origin_for(bundle.chain_id, consortium)
        if origin != trusted.origin:
            raise BundleError(
                "the bundle",
                "chainId/contracts.Consortium",
                f"make checkpoint origin {origin}, the council file trusts {trusted.origin}",
            )
        if trusted.block + 1 < bundle.first_block:
            raise BundleError(
                "the bundle",
                "firstBlock",
                f"block {bundle.first_block} is after the council file's block {trusted.block} + 1: "
                "council changes in between are not in the bundle",
            )
        notes, proof = _section(bundle.checkpoint)
        history = CouncilHistory(trusted, tuple(_changes(facts)))
        try:
            counted = counted_checkpoints(notes, history)
        except CheckpointError as exc:
            raise BundleError("the checkpoint", "notes", str(exc)) from None
        checkpoint = counted[-1]
        if checkpoint.size != bundle.last_block + 1:
            raise BundleError(
                "the checkpoint",
                "notes",
                f"the largest checkpoint is of size {checkpoint.size}; it must cover blocks 0..{bundle.last_block}",
            )
        try:
            verify_block(checkpoint, head.number, head.hash, proof)
        except CheckpointError as exc:
            raise BundleError("the checkpoint", "proof", str(exc)) from None
        council = history.state_at(checkpoint.size - 1)
        return (
            f"checkpoint of size {checkpoint.size} cosigned by at least {council.threshold} of the council's "
            f"{len(council.governors)} governor(s) (council file as of block {trusted.block}, "
            f"{len(history.changes)} council change(s) proved by the bundle)"
        )

    return check
