"""A governor's cosigning: recompute the tree from its own node's block hashes, check that it
extends the checkpoint it cosigned last (kept locally), cosign (c2sp.org/tlog-cosignature)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from client.chain.registry import Registry
from client.checkpoint_node import node_checkpoint
from client.checkpoints import (
    Checkpoint,
    block_consistency_proof,
    cosign,
    parse_note,
    signed_note,
    verify_consistent,
)
from client.consortium import Consortium, checksum
from client.errors import CheckpointError
from client.files import private_folder, replace

__all__ = ["Cosigned", "cosign_head", "last_cosigned"]


@dataclass(frozen=True)
class Cosigned:
    checkpoint: Checkpoint
    #: The checkpoint as a signed note with this governor's cosignature (what is submitted).
    note: bytes
    #: The size of the checkpoint cosigned before (0: none), which this one extends.
    previous_size: int


def last_cosigned(state: Path) -> Checkpoint | None:
    """The checkpoint this witness cosigned last (its note text, kept in ``state``), if any."""
    try:
        text = state.read_bytes()
    except FileNotFoundError:
        return None
    # Kept as the signed note this witness made, so that the one parser reads it.
    return parse_note(text)[0]


def cosign_head(
    registry: Registry,
    governor: str,
    private_key: bytes,
    public_key: bytes,
    state: Path,
    *,
    size: int | None = None,
    timestamp: int | None = None,
) -> Cosigned:
    """Cosign the checkpoint of the node's chain (the first ``size`` blocks, default all) as
    ``governor``, whose witness key on chain must be ``public_key``. Refuses (`CheckpointError`)
    a tree smaller than, or not extending, the one cosigned last."""
    governor = checksum(governor)
    on_chain = Consortium(registry).witness_keys()
    if governor not in on_chain:
        raise CheckpointError("council", f"{governor} is not a governor of this registry", governor=governor)
    registered_key = on_chain[governor]
    if registered_key != public_key:
        registered = registered_key.hex() if registered_key is not None else "none"
        raise CheckpointError(
            "council",
            f"this witness key ({public_key.hex()}) is not governor {governor}'s witness key on chain ({registered}); "
            "propose it with `idsreg checkpoint key propose`",
            governor=governor,
        )
    checkpoint, hashes = node_checkpoint(registry, size)
    previous = last_cosigned(state)
    previous_size = 0
    if previous is not None:
        if previous.size > checkpoint.size:
            raise CheckpointError(
                "inconsistent",
                f"this witness cosigned a tree of {previous.size} blocks already; it does not cosign a smaller "
                f"one ({checkpoint.size})",
                old_size=previous.size,
                size=checkpoint.size,
            )
        # The node's own blocks give the proof; a rewritten history fails it.
        verify_consistent(previous, checkpoint, block_consistency_proof(hashes, previous.size))
        previous_size = previous.size
    line = cosign(checkpoint, governor, private_key, int(time.time()) if timestamp is None else timestamp)
    note = signed_note(checkpoint, [line])
    private_folder(state.parent)
    replace(state, note, what="last cosigned checkpoint", mode=0o600)
    return Cosigned(checkpoint, note, previous_size)
