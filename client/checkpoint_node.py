"""Checkpoints from a chain node: the block hashes a governor's own node reports, the tree over
them and the council the Consortium's events describe (the network side of
`client.checkpoints` and `client.checkpoint_council`)."""

from __future__ import annotations

from client.chain.registry import Registry
from client.chain.rpc import get_headers
from client.checkpoint_council import CouncilHistory, CouncilState, TrustedCouncil, council_history
from client.checkpoints import Checkpoint, checkpoint_for, origin_for
from client.consortium import Consortium
from client.errors import CheckpointError

__all__ = ["node_block_hashes", "node_checkpoint", "node_council_history", "registry_origin"]


def registry_origin(registry: Registry) -> str:
    """The checkpoint origin of the registry: ``idsreg/<chain id>/<Consortium address>``."""
    return origin_for(registry.chain_id, registry.consortium.address)


def node_block_hashes(registry: Registry, start: int, end: int) -> list[bytes]:
    """The hashes of blocks ``start .. end-1`` as the node reports them (batched reads)."""
    return [bytes.fromhex(h.hash[2:]) for h in get_headers(registry.w3, list(range(start, end)))]


def node_checkpoint(registry: Registry, size: int | None = None) -> tuple[Checkpoint, list[bytes]]:
    """The checkpoint of the first ``size`` blocks (default: up to the node's head) and the block
    hashes it covers."""
    head = int(registry.w3.eth.block_number)
    size = head + 1 if size is None else size
    if not 1 <= size <= head + 1:
        raise CheckpointError(
            "not-included",
            f"tree size {size} is not between 1 and {head + 1} (the node's head is block {head})",
            size=size,
        )
    hashes = node_block_hashes(registry, 0, size)
    return checkpoint_for(registry_origin(registry), hashes), hashes


def node_council_history(registry: Registry) -> CouncilHistory:
    """The council's whole history from the deployment, as the node's Consortium events say
    (starting from the empty council before the deployment block)."""
    start = TrustedCouncil(registry_origin(registry), max(registry.manifest.deployment_block - 1, 0), CouncilState())
    return CouncilHistory(start, tuple(council_history(Consortium(registry).council_events())))
