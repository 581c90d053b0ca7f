"""Re-checking a verified bundle against a node the auditor trusts (`audit verify --online`).

Offline, a bundle's headers are hashed and chained to its last header, which a checkpoint or
this check authenticates. Against a node it asks more than the last block: the chain id, that
every carried header's hash is the node's canonical block hash at that number, that each fact's
receipt is the node's receipt of that transaction, and that the registry's contracts the bundle
names have code on that chain. A bundle exported from another chain, or from a fork the node
does not follow, fails at the first block where the two differ, named.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from web3 import Web3
from web3.types import RPCEndpoint

from ..errors import ProofError
from .bundle import Bundle, BundleError
from .evidence import Header, receipt_bytes
from .facts import Fact

#: JSON-RPC requests per batch.
BATCH = 500


def _batch(w3: Web3, method: str, params: Sequence[list[Any]]) -> list[Any]:
    provider: Any = w3.provider
    results: list[Any] = []
    for start in range(0, len(params), BATCH):
        chunk = params[start : start + BATCH]
        answers = provider.make_batch_request([(RPCEndpoint(method), p) for p in chunk])
        if not isinstance(answers, list):
            raise ProofError(f"the node refused a batch of {method}: {answers.get('error', answers)}")
        results.extend(a.get("result") for a in answers)
    return results


def check_against_node(w3: Web3, bundle: Bundle, head: Header, facts: Sequence[Fact]) -> str:
    """Check `bundle` (already verified offline, ending at `head`) against the node `w3`; what
    was checked, or BundleError naming the first part the node disagrees with."""
    node_chain = int(w3.eth.chain_id)
    if node_chain != bundle.chain_id:
        raise BundleError("the bundle", "chainId", f"is {bundle.chain_id}, the node's chain is {node_chain}")
    numbers = range(bundle.first_block, bundle.last_block + 1)
    blocks = _batch(w3, "eth_getBlockByNumber", [[hex(n), False] for n in numbers])
    for offset, block in enumerate(blocks):
        number = bundle.first_block + offset
        if block is None:
            raise BundleError(
                f"header of block {number}", "(hash)", f"the node has no block {number} (its chain is shorter)"
            )
        carried = Web3.keccak(bundle.headers[offset])
        if bytes.fromhex(str(block["hash"])[2:]) != carried:
            raise BundleError(
                f"header of block {number}",
                "(hash)",
                f"0x{carried.hex()} is not the node's block {number}, {block['hash']}: "
                "the bundle is of another chain, or a fork the node does not follow",
            )
    by_tx = {(f.block, f.tx) for f in facts}
    receipts = _batch(w3, "eth_getTransactionReceipt", [[_tx_hash(blocks, bundle, b, t)] for b, t in sorted(by_tx)])
    carried_receipts = {b.number: b.receipts for b in bundle.blocks}
    for (number, tx), receipt in zip(sorted(by_tx), receipts, strict=True):
        if receipt is None or receipt_bytes(receipt) != carried_receipts[number][tx]:
            raise BundleError(
                f"receipt {tx} of block {number}", "(bytes)", "is not the node's receipt of that transaction"
            )
    for name, address in sorted(bundle.contracts.items()):
        code = w3.eth.get_code(Web3.to_checksum_address(address), block_identifier=head.number)
        if not code:
            raise BundleError(
                "the bundle",
                f"contracts.{name}",
                f"0x{address.hex()} has no code on the node's chain: another deployment",
            )
    endpoint = getattr(w3.provider, "endpoint_uri", "the node")
    return (
        f"the node at {endpoint} has every header of blocks {bundle.first_block}..{bundle.last_block} "
        f"and the {len(by_tx)} fact receipt(s), block {head.number} with this hash"
    )


def _tx_hash(blocks: Sequence[Any], bundle: Bundle, number: int, tx: int) -> str:
    transactions = blocks[number - bundle.first_block]["transactions"]
    if tx >= len(transactions):
        raise BundleError(f"receipt {tx} of block {number}", "(bytes)", "the node's block has no such transaction")
    return str(transactions[tx])


def by_node(w3: Web3) -> Callable[[Bundle, Header, Sequence[Fact]], str]:
    """An `authenticate` check for `verify_bytes` that asks the node `w3` (check_against_node)."""

    def check(bundle: Bundle, head: Header, facts: Sequence[Fact]) -> str:
        return check_against_node(w3, bundle, head, facts)

    return check
