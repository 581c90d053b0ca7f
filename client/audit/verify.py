"""Verifying an audit bundle with nothing but its bytes (and, for the head block, a checkpoint or
a node): every header hashed from its RLP and chained by parentHash, every carried block's
receipts giving its receiptsRoot, every fact's receipt proved under its header, the fact list
rebuilt by the rule of `client.audit.facts` and compared, every logs bloom that may hold a fact
backed by its block's receipts, every terms opening opening a commitment of a fact.

Each refusal is a `BundleError` naming the part (a fact, a header, a block's receipts…) and
the field.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..errors import ProofError
from .bundle import Bundle, BundleError, FactRecord, args_json, canonical_difference, load
from .evidence import Header, decode_header, decode_receipt, prove_receipt, receipts_root
from .facts import CONTRACTS, Fact, LogAt, may_hold_fact, select

#: Events whose `termsCommitment` an opening may open.
COMMITTING_EVENTS = frozenset({"GrantIssued", "ReceiptRecorded"})


@dataclass(frozen=True)
class Verified:
    """What a verified bundle proves, and what it leaves open."""

    bundle: Bundle
    facts: list[Fact]
    head: Header
    #: How the last header's hash was authenticated ("checkpoint …", "node …"), or None.
    authenticated_by: str | None
    #: Terms commitments of facts that the bundle carries no opening for (not disclosed).
    undisclosed: list[tuple[Fact, str]] = field(default_factory=list)
    blocks_checked: int = 0
    receipts_checked: int = 0


def _headers(bundle: Bundle) -> list[Header]:
    headers: list[Header] = []
    for offset, raw in enumerate(bundle.headers):
        number = bundle.first_block + offset
        part = f"header of block {number}"
        try:
            header = decode_header(raw)
        except ProofError as exc:
            raise BundleError(part, "(rlp)", str(exc)) from None
        if header.number != number:
            raise BundleError(part, "number", f"is {header.number}, but the header stands at block {number}")
        if headers and header.parent_hash != headers[-1].hash:
            raise BundleError(
                part,
                "parentHash",
                f"0x{header.parent_hash.hex()} is not 0x{headers[-1].hash.hex()}, the hash recomputed from the "
                f"header of block {number - 1} (one of the two was altered)",
            )
        headers.append(header)
    return headers


def _receipts(bundle: Bundle, headers: Sequence[Header]) -> list[LogAt]:
    logs: list[LogAt] = []
    previous = bundle.first_block - 1
    for block in bundle.blocks:
        part = f"receipts of block {block.number}"
        if not previous < block.number <= bundle.last_block:
            raise BundleError(
                part, "number", f"is out of order or outside blocks {bundle.first_block}..{bundle.last_block}"
            )
        previous = block.number
        header = headers[block.number - bundle.first_block]
        root = receipts_root(block.receipts)
        if root != header.receipts_root:
            raise BundleError(
                part,
                "receipts",
                f"give receiptsRoot 0x{root.hex()}, the block's header says 0x{header.receipts_root.hex()}",
            )
        for tx, raw in enumerate(block.receipts):
            try:
                receipt = decode_receipt(raw)
            except ProofError as exc:
                raise BundleError(f"receipt {tx} of block {block.number}", "(bytes)", str(exc)) from None
            logs.extend(LogAt(block.number, tx, index, log) for index, log in enumerate(receipt.logs))
    return logs


def _compare(records: Sequence[FactRecord], facts: Sequence[Fact]) -> None:
    carried = {(r.block, r.tx, r.index) for r in records}
    expected = {f.place for f in facts}
    for fact in facts:
        if fact.place not in carried:
            raise BundleError(
                f"the fact list (at {fact})",
                "facts",
                f"leaves out {fact}, a {fact.about} fact the bundle's own receipts hold",
            )
    for number, record in enumerate(records):
        if (record.block, record.tx, record.index) not in expected:
            raise BundleError(record.label(number), "block/tx/log", "is no fact about the dataset by the bundle's rule")
    for number, (record, fact) in enumerate(zip(records, facts, strict=False)):
        label = record.label(number)
        if (record.block, record.tx, record.index) != fact.place:
            raise BundleError(label, "block/tx/log", f"is out of chain order (expected {fact} here)")
        for name, value in (("contract", fact.contract), ("event", fact.event), ("about", fact.about)):
            if getattr(record, name) != value:
                raise BundleError(label, name, f"says {getattr(record, name)!r:.60}, the log is {value!r}")
        decoded = args_json(fact.args)
        for key in sorted(set(decoded) | set(record.args)):
            if record.args.get(key) != decoded.get(key):
                raise BundleError(
                    label, f"args.{key}", f"says {record.args.get(key)!r:.80}, the log says {decoded.get(key)!r:.80}"
                )
    if len(records) != len(facts):
        raise BundleError("the fact list", "facts", f"holds {len(records)} facts, the rule finds {len(facts)}")


def _beginnings(facts: Sequence[Fact], bundle: Bundle) -> None:
    """The range must reach back to the dataset's registration and to the admission of every
    organisation a fact names, so that state at each fact is known from its start."""
    registered = any(f.event == "DatasetRegistered" and f.about == "dataset" for f in facts)
    if not registered:
        raise BundleError(
            "the bundle",
            "firstBlock",
            f"block {bundle.first_block} is after the dataset's registration (no DatasetRegistered fact)",
        )


def verify_bytes(
    data: bytes,
    *,
    authenticate: Callable[[Bundle, Header, Sequence[Fact]], str | None] | None = None,
) -> Verified:
    """Verify a bundle file's bytes. `authenticate(bundle, head, facts)` checks the last header's
    hash against a checkpoint (`client.audit.trust.by_checkpoint`) or a node and says how
    (raising BundleError when it does not hold); without it the head stays unauthenticated
    (`Verified.authenticated_by` is None)."""
    bundle = load(data)
    unknown = sorted(set(bundle.contracts) - set(CONTRACTS))
    if unknown:
        raise BundleError("the bundle", "contracts", f"{unknown[0]} is not a registry contract")
    headers = _headers(bundle)
    logs = _receipts(bundle, headers)
    addresses = {address: name for name, address in bundle.contracts.items()}
    selection = select(logs, addresses, bundle.dataset, bundle.depth)
    carried = {b.number for b in bundle.blocks}
    topics = selection.subjects.topics()
    for header in headers:
        if header.number not in carried and may_hold_fact(header.logs_bloom, addresses, topics):
            raise BundleError(
                f"header of block {header.number}",
                "logsBloom",
                "may hold an event about the dataset, but the bundle lacks that block's receipts "
                "(a fact may have been left out)",
            )
    _beginnings(selection.facts, bundle)
    _compare(bundle.facts, selection.facts)
    by_number = {b.number: b for b in bundle.blocks}
    for number, record in enumerate(bundle.facts):
        header = headers[record.block - bundle.first_block]
        try:
            proved = prove_receipt(header.receipts_root, record.tx, record.proof)
        except ProofError as exc:
            raise BundleError(record.label(number), "proof", str(exc)) from None
        if proved != by_number[record.block].receipts[record.tx]:
            raise BundleError(record.label(number), "proof", "proves another receipt than the block's")
    commitments = {str(f.args["termsCommitment"]).lower(): f for f in selection.facts if f.event in COMMITTING_EVENTS}
    opened = set()
    for number, opening in enumerate(bundle.openings):
        key = "0x" + opening.commitment.hex()
        if key not in commitments:
            raise BundleError(f"terms opening {number}", "commitment", f"{key} is no commitment of a fact")
        opened.add(key)
    undisclosed = [(fact, key) for key, fact in commitments.items() if key not in opened]
    head = headers[-1]
    how = authenticate(bundle, head, selection.facts) if authenticate is not None else None
    offset = canonical_difference(data, bundle)
    if offset is not None:
        raise BundleError("the bundle", f"byte {offset}", "differs from the bundle's canonical encoding (RFC 8785)")
    return Verified(
        bundle,
        selection.facts,
        head,
        how,
        undisclosed,
        blocks_checked=len(headers),
        receipts_checked=sum(len(b.receipts) for b in bundle.blocks),
    )
