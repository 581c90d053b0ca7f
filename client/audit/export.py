"""Collecting a dataset's audit bundle from a node: every header from the registry's deployment
to the last block, and the complete receipts of every block whose logs bloom may hold a fact.

The export grows the set of blocks the same way the verifier checks it: start from the dataset's
root, fetch the receipts of each block whose bloom may hold a registry log with one of the
subjects' topics, let the facts found there add subjects (lineage, disputes, organisations,
auditors and arbiters), and repeat until no block is added. Each header is re-encoded from the
node's JSON and must hash to the node's block hash; each block's receipts must give its
receiptsRoot: a node, or this encoder, that disagrees is refused before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from eth_utils import keccak
from web3.types import RPCEndpoint

from ..chain.registry import Registry
from ..chain.rpc import get_headers
from ..checkpoints import parse_note, tree_root
from ..errors import ConfigError, ProofError, UnknownRecordError
from ..terms import Opening
from .bundle import BlockReceipts, Bundle, FactRecord, args_json
from .evidence import decode_header, decode_receipt, header_rlp, receipt_bytes, receipt_proof, receipts_root
from .facts import CONTRACTS, LogAt, may_hold_fact, select
from .trust import checkpoint_section
from .verify import COMMITTING_EVENTS

#: JSON-RPC requests per batch.
BATCH = 100

Progress = Callable[[str, int, int], None]


def _batch(registry: Registry, method: str, params: Sequence[list[Any]]) -> list[Any]:
    """The results of `method` for each parameter list, asked in JSON-RPC batches."""
    results: list[Any] = []
    provider: Any = registry.w3.provider
    for start in range(0, len(params), BATCH):
        chunk = params[start : start + BATCH]
        answers = provider.make_batch_request([(RPCEndpoint(method), p) for p in chunk])
        if not isinstance(answers, list):
            raise ProofError(f"the node refused a batch of {method}: {answers.get('error', answers)}")
        for p, answer in zip(chunk, answers, strict=True):
            if "error" in answer or answer.get("result") is None:
                raise ProofError(f"the node has no answer to {method} {p[0]}: {answer.get('error')}")
            results.append(answer["result"])
    return results


def fetch_headers(registry: Registry, first: int, last: int, progress: Progress | None = None) -> list[bytes]:
    """The RLP of every header from `first` to `last`, each checked against the node's hash."""
    headers: list[bytes] = []
    for start in range(first, last + 1, BATCH * 10):
        numbers = range(start, min(start + BATCH * 10, last + 1))
        for block in _batch(registry, "eth_getBlockByNumber", [[hex(n), False] for n in numbers]):
            raw = header_rlp(block)
            if "0x" + keccak(raw).hex() != str(block["hash"]).lower():
                raise ProofError(
                    f"the header of block {int(block['number'], 16)} re-encoded hashes to 0x{keccak(raw).hex()}, "
                    f"the node says {block['hash']}: a header field this client does not encode as the node does"
                )
            headers.append(raw)
        if progress:
            progress("headers", len(headers), last - first + 1)
    return headers


def fetch_receipts(registry: Registry, numbers: Sequence[int], roots: dict[int, bytes]) -> dict[int, tuple[bytes, ...]]:
    """The consensus-encoded receipts of each block, each block's checked against its receiptsRoot."""
    found: dict[int, tuple[bytes, ...]] = {}
    for number, answer in zip(
        numbers, _batch(registry, "eth_getBlockReceipts", [[hex(n)] for n in numbers]), strict=True
    ):
        receipts = tuple(receipt_bytes(r) for r in sorted(answer, key=lambda r: int(r["transactionIndex"], 16)))
        if receipts_root(receipts) != roots[number]:
            raise ProofError(f"the node's receipts of block {number} do not give the block's receiptsRoot")
        found[number] = receipts
    return found


def _logs(blocks: dict[int, tuple[bytes, ...]]) -> list[LogAt]:
    logs: list[LogAt] = []
    for number in sorted(blocks):
        for tx, raw in enumerate(blocks[number]):
            logs.extend(LogAt(number, tx, i, log) for i, log in enumerate(decode_receipt(raw).logs))
    return logs


def export_bundle(
    registry: Registry,
    root: bytes,
    depth: int = 1,
    *,
    last_block: int | None = None,
    openings: Iterable[Opening] = (),
    checkpoints: Sequence[bytes] = (),
    progress: Progress | None = None,
) -> Bundle:
    """The audit bundle of dataset `root` (lineage to `depth`) up to `last_block` (default: the
    head). `openings` are the terms openings the exporting party holds; those that open a
    commitment of a fact travel in the bundle, the rest are left out. With `checkpoints`
    (cosigned notes, client/checkpoints.py) the bundle ends at the last block of the largest
    and carries them with the inclusion proof of that block."""
    manifest = registry.manifest
    first = manifest.deployment_block
    if checkpoints:
        last = max(parse_note(note)[0].size for note in checkpoints) - 1
        if last_block is not None and last_block != last:
            raise ConfigError(f"the checkpoint ends at block {last}; a bundle with it cannot end at block {last_block}")
    else:
        last = int(registry.w3.eth.block_number) if last_block is None else last_block
    if last < first:
        raise ConfigError(f"block {last} is before the registry's deployment at block {first}")
    contracts = {name: bytes.fromhex(manifest.address(name)[2:]) for name in CONTRACTS}
    addresses = {address: name for name, address in contracts.items()}
    headers = fetch_headers(registry, first, last, progress)
    decoded = [decode_header(h) for h in headers]
    roots = {h.number: h.receipts_root for h in decoded}
    blocks: dict[int, tuple[bytes, ...]] = {}
    selection = select([], addresses, root, depth)
    while True:
        topics = selection.subjects.topics()
        wanted = [
            h.number for h in decoded if h.number not in blocks and may_hold_fact(h.logs_bloom, addresses, topics)
        ]
        if not wanted:
            break
        blocks.update(fetch_receipts(registry, wanted, roots))
        if progress:
            progress("receipts", len(blocks), len(blocks))
        selection = select(_logs(blocks), addresses, root, depth)
    if not any(f.event == "DatasetRegistered" and f.about == "dataset" for f in selection.facts):
        raise UnknownRecordError(f"dataset 0x{root.hex()} is not registered (up to block {last})")
    facts = tuple(
        FactRecord(
            f.block,
            f.tx,
            f.index,
            f.contract,
            f.event,
            f.about,
            args_json(f.args),
            tuple(receipt_proof(blocks[f.block], f.tx)),
        )
        for f in selection.facts
    )
    commitments = {
        bytes.fromhex(str(f.args["termsCommitment"])[2:]) for f in selection.facts if f.event in COMMITTING_EVENTS
    }
    carried: dict[bytes, Opening] = {}
    for opening in openings:
        if opening.commitment in commitments:
            carried.setdefault(opening.commitment, opening)
    section = None
    if checkpoints:
        earlier = [bytes.fromhex(h.hash[2:]) for h in get_headers(registry.w3, list(range(first)))]
        hashes = earlier + [h.hash for h in decoded]
        section = checkpoint_section(checkpoints, hashes)
        if tree_root(hashes) != parse_note(max(checkpoints, key=lambda n: parse_note(n)[0].size))[0].root:
            raise ProofError(f"the checkpoint's root is not the root of this node's blocks 0..{last}: another chain?")
    return Bundle(
        chain_id=registry.chain_id,
        contracts=contracts,
        dataset=root,
        depth=depth,
        first_block=first,
        headers=tuple(headers),
        blocks=tuple(BlockReceipts(n, blocks[n]) for n in sorted(blocks)),
        facts=facts,
        openings=tuple(carried[c] for c in sorted(carried)),
        checkpoint=section,
    )
