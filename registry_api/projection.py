"""How each registry event changes the domain tables: one handler per event, in chain order.

A handler receives the range's `RangeChanges` and one decoded event, changes rows through it,
and returns the dataset (content root) the event is about, if any — the `subject` that a
dataset's history lists. Events without a handler change no domain table (they are kept as raw
events only); `RAW_ONLY` names them, and a test checks that every event in the ABIs is one or
the other.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from .changes import Key, RangeChanges
from .errors import ProjectionError


@dataclass(frozen=True)
class Event:
    """One decoded log, with where it sits on the chain."""

    contract: str
    name: str
    #: Decoded arguments as `client.chain.abi.decode_log` gives them (enums as IntEnum members).
    args: dict[str, Any]
    block_number: int
    block_hash: str
    block_time: int
    tx_hash: str
    log_index: int


Handler = Callable[[RangeChanges, Event], str | None]
Touches = Callable[[dict[str, Any]], Iterable[tuple[str, Key]]]

_HANDLERS: dict[tuple[str, str], Handler] = {}
_TOUCHES: dict[tuple[str, str], Touches] = {}

#: Events that only the raw event table keeps: they change no state the API serves.
RAW_ONLY = frozenset(
    {
        ("Consortium", "MirrorsBound"),
        # Witness keys are read from the contract when a cosignature is checked (routes/checkpoints.py).
        ("Consortium", "WitnessKeyChanged"),
        ("DataRegistry", "CourtBound"),
        ("DataRegistry", "RegistrationCommitted"),
        # OpenZeppelin's EIP-5267 event; the ledger's domain never changes, so it is never emitted.
        ("ExchangeLedger", "EIP712DomainChanged"),
    }
)


def on(contract: str, name: str, touches: Touches | None = None) -> Callable[[Handler], Handler]:
    """Register the handler of `contract`'s event `name`; `touches` lists the rows it will read,
    so that a range's rows are loaded in bulk before its events are applied."""

    def register(handler: Handler) -> Handler:
        _HANDLERS[(contract, name)] = handler
        if touches is not None:
            _TOUCHES[(contract, name)] = touches
        return handler

    return register


def handled_events() -> frozenset[tuple[str, str]]:
    return frozenset(_HANDLERS)


def prefetch(changes: RangeChanges, events: Iterable[Event]) -> None:
    """Load every row the events' handlers declare they touch, table by table."""
    wanted: dict[str, list[Key]] = {}
    for event in events:
        touches = _TOUCHES.get((event.contract, event.name))
        if touches is not None:
            for table, key in touches(event.args):
                wanted.setdefault(table, []).append(key)
    for table, keys in wanted.items():
        changes.prefetch(table, keys)


def apply(changes: RangeChanges, event: Event) -> str | None:
    """Apply one event; returns its subject (a dataset root) or None."""
    handler = _HANDLERS.get((event.contract, event.name))
    return handler(changes, event) if handler is not None else None


def _name(value: IntEnum) -> str:
    return value.name.lower()


def _org_no(changes: RangeChanges, org_id: str) -> int:
    """The member number of an org id that the index knows."""
    memo = changes.memo.setdefault("org_no", {})
    if org_id not in memo:
        row = changes.find("org", "org_id", org_id)
        if row is None:
            raise ProjectionError(f"organisation {org_id} is not in the index")
        memo[org_id] = row["org_no"]
    return int(memo[org_id])


# ----- Consortium ---------------------------------------------------------------------------


@on("Consortium", "MemberAdmitted", lambda a: [("org", (a["orgNo"],)), ("orgkey", (a["admin"],))])
def _member_admitted(c: RangeChanges, e: Event) -> None:
    a = e.args
    c.put(
        "org",
        {
            "org_no": a["orgNo"],
            "org_id": a["orgId"],
            "name": a["name"],
            "admin": a["admin"],
            "level": a["level"],
            "evidence_hash": a["evidenceHash"],
            "expires_at": a["expiresAt"],
            "status": "active",
            "admitted_at": e.block_time,
            "block_number": e.block_number,
            "tx_hash": e.tx_hash,
            "updated_block": e.block_number,
        },
        e.block_number,
    )
    c.memo.setdefault("org_no", {})[a["orgId"]] = a["orgNo"]
    _set_key(c, e, a["admin"], a["orgNo"], "admin")


def _set_key(c: RangeChanges, e: Event, address: str, org_no: int, role: str) -> None:
    existing = c.get("orgkey", (address,))
    if existing is None:
        c.put(
            "orgkey",
            {
                "address": address,
                "org_no": org_no,
                "role": role,
                "block_number": e.block_number,
                "updated_block": e.block_number,
            },
            e.block_number,
        )
    else:
        c.update("orgkey", (address,), e.block_number, org_no=org_no, role=role, updated_block=e.block_number)


def _set_status(status: str) -> Handler:
    def handler(c: RangeChanges, e: Event) -> None:
        c.update("org", (_org_no(c, e.args["orgId"]),), e.block_number, status=status, updated_block=e.block_number)

    return handler


on("Consortium", "MemberSuspended")(_set_status("suspended"))
on("Consortium", "MemberReinstated")(_set_status("active"))
on("Consortium", "MemberExpelled")(_set_status("expelled"))


@on("Consortium", "MemberRecertified")
def _member_recertified(c: RangeChanges, e: Event) -> None:
    a = e.args
    c.update(
        "org",
        (_org_no(c, a["orgId"]),),
        e.block_number,
        level=a["level"],
        evidence_hash=a["evidenceHash"],
        expires_at=a["expiresAt"],
        updated_block=e.block_number,
    )


@on("Consortium", "AdminReplaced", lambda a: [("orgkey", (a["previousAdmin"],)), ("orgkey", (a["newAdmin"],))])
def _admin_replaced(c: RangeChanges, e: Event) -> None:
    a = e.args
    org_no = _org_no(c, a["orgId"])
    c.update("org", (org_no,), e.block_number, admin=a["newAdmin"], updated_block=e.block_number)
    c.update("orgkey", (a["previousAdmin"],), e.block_number, role="none", updated_block=e.block_number)
    _set_key(c, e, a["newAdmin"], org_no, "admin")


@on("Consortium", "ConnectorAdded", lambda a: [("orgkey", (a["key"],))])
def _connector_added(c: RangeChanges, e: Event) -> None:
    _set_key(c, e, e.args["key"], _org_no(c, e.args["orgId"]), "connector")


@on("Consortium", "ConnectorRemoved", lambda a: [("orgkey", (a["key"],))])
def _connector_removed(c: RangeChanges, e: Event) -> None:
    c.update("orgkey", (e.args["key"],), e.block_number, role="none", updated_block=e.block_number)


@on("Consortium", "RoleGranted")
def _role_granted(c: RangeChanges, e: Event) -> None:
    c.put(
        "roleholder",
        {
            "role": _name(e.args["role"]),
            "account": e.args["account"],
            "block_number": e.block_number,
            "log_index": e.log_index,
            "tx_hash": e.tx_hash,
        },
        e.block_number,
    )


@on("Consortium", "RoleRevoked")
def _role_revoked(c: RangeChanges, e: Event) -> None:
    key = (_name(e.args["role"]), e.args["account"])
    c.require("roleholder", key)
    c.delete("roleholder", key, e.block_number)


@on("Consortium", "ThresholdChanged")
def _threshold_changed(c: RangeChanges, e: Event) -> None:
    role = _name(e.args["role"])
    existing = c.get("threshold", (role,))
    created = existing["block_number"] if existing else e.block_number
    c.put(
        "threshold",
        {
            "role": role,
            "value": e.args["newThreshold"],
            "block_number": created,
            "updated_block": e.block_number,
        },
        e.block_number,
    )


@on("Consortium", "DisputePeriodChanged", lambda a: [("setting", ("dispute_period",))])
def _dispute_period_changed(c: RangeChanges, e: Event) -> None:
    existing = c.get("setting", ("dispute_period",))
    c.put(
        "setting",
        {
            "name": "dispute_period",
            "value": e.args["newPeriod"],
            "block_number": existing["block_number"] if existing else e.block_number,
            "updated_block": e.block_number,
        },
        e.block_number,
    )


@on("Consortium", "ProposalCreated")
def _proposal_created(c: RangeChanges, e: Event) -> None:
    a = e.args
    c.put(
        "proposal",
        {
            "proposal_id": a["proposalId"],
            "action": _name(a["action"]),
            "proposer": a["proposer"],
            "args": a["args"],
            "status": "open",
            "approvals": 0,
            "created_at": e.block_time,
            "block_number": e.block_number,
            "tx_hash": e.tx_hash,
            "updated_block": e.block_number,
        },
        e.block_number,
    )


@on("Consortium", "ProposalApproved")
def _proposal_approved(c: RangeChanges, e: Event) -> None:
    c.update(
        "proposal", (e.args["proposalId"],), e.block_number, approvals=e.args["approvals"], updated_block=e.block_number
    )


@on("Consortium", "ProposalExecuted")
def _proposal_executed(c: RangeChanges, e: Event) -> None:
    c.update("proposal", (e.args["proposalId"],), e.block_number, status="executed", updated_block=e.block_number)


@on("Consortium", "ProposalCancelled")
def _proposal_cancelled(c: RangeChanges, e: Event) -> None:
    c.update("proposal", (e.args["proposalId"],), e.block_number, status="cancelled", updated_block=e.block_number)


# ----- DataRegistry -------------------------------------------------------------------------


def _registered_touches(a: dict[str, Any]) -> list[tuple[str, Key]]:
    return [("dataset", (a["root"],)), *(("lineage", (a["root"], p)) for p in a["parents"])]


@on("DataRegistry", "DatasetRegistered", _registered_touches)
def _dataset_registered(c: RangeChanges, e: Event) -> str:
    a = e.args
    root, org = a["root"], a["registrant"]
    if c.get("dataset", (root,)) is not None:
        raise ProjectionError(f"dataset {root} is registered twice without a RegistrationSuperseded event")
    c.put(
        "dataset",
        {
            "root": root,
            "registrant": org,
            "grade": _name(a["grade"]),
            "metadata_hash": a["metadataHash"],
            "metadata_uri": "",
            "manifest_uri": "",
            "registered_at": a["registeredAt"],
            "parents": json.dumps(a["parents"]),
            "holding": org,
            "processing": org,
            "operation": org,
            "offer_holding": None,
            "offer_processing": None,
            "offer_operation": None,
            "frozen": 0,
            "frozen_until_holding": 0,
            "frozen_until_processing": 0,
            "frozen_until_operation": 0,
            "block_number": e.block_number,
            "log_index": e.log_index,
            "tx_hash": e.tx_hash,
            "updated_block": e.block_number,
        },
        e.block_number,
    )
    for parent in dict.fromkeys(a["parents"]):
        c.put("lineage", {"child": root, "parent": parent, "block_number": e.block_number}, e.block_number)
    # BatchRegistered (later in the same transaction) names the batch's manifest URI.
    c.memo.setdefault("batch", {}).setdefault(e.tx_hash, []).append(root)
    return str(root)


@on("DataRegistry", "RegistrationSuperseded", lambda a: [("dataset", (a["root"],))])
def _registration_superseded(c: RangeChanges, e: Event) -> str:
    root = e.args["root"]
    previous = c.require("dataset", (root,))
    for parent in json.loads(previous["parents"]):
        c.delete("lineage", (root, parent), e.block_number)
    c.delete("dataset", (root,), e.block_number)
    return str(root)


@on("DataRegistry", "MetadataPublished")
def _metadata_published(c: RangeChanges, e: Event) -> str:
    root = e.args["root"]
    c.update("dataset", (root,), e.block_number, metadata_uri=e.args["metadataURI"], updated_block=e.block_number)
    return str(root)


@on("DataRegistry", "BatchRegistered")
def _batch_registered(c: RangeChanges, e: Event) -> None:
    for root in c.memo.get("batch", {}).get(e.tx_hash, []):
        c.update("dataset", (root,), e.block_number, manifest_uri=e.args["manifestURI"], updated_block=e.block_number)


def _dataset_touches(a: dict[str, Any]) -> list[tuple[str, Key]]:
    return [("dataset", (a["root"],))]


def _set_offer(kind: str) -> Handler:
    def handler(c: RangeChanges, e: Event) -> str:
        a = e.args
        offered = a["to"] if kind == "offered" else None
        c.update(
            "dataset",
            (a["root"],),
            e.block_number,
            **{f"offer_{_name(a['right'])}": offered},
            updated_block=e.block_number,
        )
        return str(a["root"])

    return handler


on("DataRegistry", "RightOffered", _dataset_touches)(_set_offer("offered"))
on("DataRegistry", "RightOfferCancelled", _dataset_touches)(_set_offer("cancelled"))
on("DataRegistry", "RightOfferRejected", _dataset_touches)(_set_offer("rejected"))


def _move_right(c: RangeChanges, e: Event, kind: str, dispute_id: int | None) -> str:
    a = e.args
    right = _name(a["right"])
    root = a["root"]
    c.update(
        "dataset", (root,), e.block_number, **{right: a["to"], f"offer_{right}": None}, updated_block=e.block_number
    )
    c.put(
        "rightchange",
        {
            "tx_hash": e.tx_hash,
            "log_index": e.log_index,
            "root": root,
            "right": right,
            "from_org": a["from"],
            "to_org": a["to"],
            "kind": kind,
            "dispute_id": dispute_id,
            "block_number": e.block_number,
            "block_time": e.block_time,
        },
        e.block_number,
    )
    return str(root)


@on("DataRegistry", "RightTransferred", _dataset_touches)
def _right_transferred(c: RangeChanges, e: Event) -> str:
    return _move_right(c, e, "transferred", None)


@on("DataRegistry", "RightAwarded", _dataset_touches)
def _right_awarded(c: RangeChanges, e: Event) -> str:
    return _move_right(c, e, "awarded", e.args["disputeId"])


def _set_frozen(frozen: bool) -> Handler:
    """RightFrozen records the freeze and its end (`until`); RightUnfrozen clears both. A freeze
    whose end has passed is over even while its bit is set (the dispute not closed yet): the API
    compares `frozen_until_<right>` with the indexed chain's time."""

    def handler(c: RangeChanges, e: Event) -> str:
        root = e.args["root"]
        bit = 1 << int(e.args["right"])
        current = int(c.require("dataset", (root,))["frozen"])
        value = current | bit if frozen else current & ~bit
        until = int(e.args["until"]) if frozen else 0
        c.update(
            "dataset",
            (root,),
            e.block_number,
            frozen=value,
            **{f"frozen_until_{_name(e.args['right'])}": until},
            updated_block=e.block_number,
        )
        return str(root)

    return handler


on("DataRegistry", "RightFrozen", _dataset_touches)(_set_frozen(True))
on("DataRegistry", "RightUnfrozen", _dataset_touches)(_set_frozen(False))


# ----- AccessRegistry -----------------------------------------------------------------------


def _grant_key(a: dict[str, Any]) -> Key:
    return (a["root"], a["grantee"], a["serial"])


@on(
    "AccessRegistry",
    "GrantIssued",
    lambda a: [
        ("grant", _grant_key(a)),
        ("grant", (a["root"], a["grantee"], a["serial"] - 1)),
    ],
)
def _grant_issued(c: RangeChanges, e: Event) -> str:
    a = e.args
    previous = (a["root"], a["grantee"], a["serial"] - 1)
    if a["serial"] > 1 and c.get("grant", previous) is not None:
        c.update("grant", previous, e.block_number, current=False, updated_block=e.block_number)
    c.put(
        "grant",
        {
            "root": a["root"],
            "grantee": a["grantee"],
            "serial": a["serial"],
            "grantor": a["grantor"],
            "permissions": a["permissions"],
            "valid_from": a["validFrom"],
            "valid_until": a["validUntil"],
            "terms_commitment": a["termsCommitment"],
            "status": _name(a["status"]),
            "current": True,
            "decided_by": None,
            "issued_at": e.block_time,
            "block_number": e.block_number,
            "tx_hash": e.tx_hash,
            "updated_block": e.block_number,
        },
        e.block_number,
    )
    return str(a["root"])


def _grant_decided(status: str, by: str | None) -> Handler:
    def handler(c: RangeChanges, e: Event) -> str:
        values: dict[str, Any] = {"status": status, "updated_block": e.block_number}
        if by is not None:
            values["decided_by"] = e.args[by]
        c.update("grant", _grant_key(e.args), e.block_number, **values)
        return str(e.args["root"])

    return handler


def _grant_touches(a: dict[str, Any]) -> list[tuple[str, Key]]:
    return [("grant", _grant_key(a))]


on("AccessRegistry", "GrantApproved", _grant_touches)(_grant_decided("active", "auditor"))
on("AccessRegistry", "GrantRejected", _grant_touches)(_grant_decided("rejected", "auditor"))
on("AccessRegistry", "GrantRevoked", _grant_touches)(_grant_decided("revoked", None))


# ----- ExchangeLedger, AnchorRegistry -------------------------------------------------------


@on("ExchangeLedger", "ReceiptRecorded", lambda a: [("receipt", (a["digest"],))])
def _receipt_recorded(c: RangeChanges, e: Event) -> str:
    a = e.args
    c.put(
        "receipt",
        {
            "digest": a["digest"],
            "dataset": a["dataset"],
            "provider": a["provider"],
            "consumer": a["consumer"],
            "grant_serial": a["grantSerial"],
            "delivered_root": a["deliveredRoot"],
            "terms_commitment": a["termsCommitment"],
            "delivered_at": a["deliveredAt"],
            "nonce": a["nonce"],
            "provider_key": a["providerKey"],
            "consumer_key": a["consumerKey"],
            "block_number": e.block_number,
            "log_index": e.log_index,
            "tx_hash": e.tx_hash,
            "block_time": e.block_time,
        },
        e.block_number,
    )
    return str(a["dataset"])


@on("AnchorRegistry", "Anchored", lambda a: [("anchor", (a["root"], a["orgNo"]))])
def _anchored(c: RangeChanges, e: Event) -> None:
    a = e.args
    c.put(
        "anchor",
        {
            "root": a["root"],
            "org_no": a["orgNo"],
            "leaf_count": a["leafCount"],
            "note_hash": a["noteHash"],
            "anchored_at": e.block_time,
            "block_number": e.block_number,
            "block_hash": e.block_hash,
            "log_index": e.log_index,
            "tx_hash": e.tx_hash,
        },
        e.block_number,
    )


# ----- DisputeCourt -------------------------------------------------------------------------


def _dispute_touches(a: dict[str, Any]) -> list[tuple[str, Key]]:
    return [("dispute", (a["disputeId"],))]


@on("DisputeCourt", "DisputeOpened", _dispute_touches)
def _dispute_opened(c: RangeChanges, e: Event) -> str:
    a = e.args
    c.put(
        "dispute",
        {
            "dispute_id": a["disputeId"],
            "root": a["root"],
            "right": _name(a["right"]),
            "claimant": a["claimant"],
            "respondent": a["respondent"],
            "evidence_hash": a["evidenceHash"],
            "status": "open",
            "prior_anchor_root": None,
            "prior_anchored_at": None,
            "uphold_votes": 0,
            "dismiss_votes": 0,
            "opened_at": e.block_time,
            "closed_block": None,
            "block_number": e.block_number,
            "tx_hash": e.tx_hash,
            "updated_block": e.block_number,
        },
        e.block_number,
    )
    return str(a["root"])


@on("DisputeCourt", "PriorAnchoringProven", _dispute_touches)
def _prior_anchoring_proven(c: RangeChanges, e: Event) -> str:
    a = e.args
    row = c.update(
        "dispute",
        (a["disputeId"],),
        e.block_number,
        prior_anchor_root=a["anchorRoot"],
        prior_anchored_at=a["anchoredAt"],
        updated_block=e.block_number,
    )
    return str(row["root"])


@on("DisputeCourt", "VoteCast", lambda a: [*_dispute_touches(a), ("vote", (a["disputeId"], a["arbiter"]))])
def _vote_cast(c: RangeChanges, e: Event) -> str:
    a = e.args
    # An arbiter removed and re-appointed votes again in its new term: put replaces its row.
    c.put(
        "vote",
        {
            "dispute_id": a["disputeId"],
            "arbiter": a["arbiter"],
            "uphold": a["uphold"],
            "block_number": e.block_number,
            "log_index": e.log_index,
            "tx_hash": e.tx_hash,
            "block_time": e.block_time,
        },
        e.block_number,
    )
    row = c.update(
        "dispute",
        (a["disputeId"],),
        e.block_number,
        uphold_votes=a["upholdVotes"],
        dismiss_votes=a["dismissVotes"],
        updated_block=e.block_number,
    )
    return str(row["root"])


def _close_dispute(c: RangeChanges, e: Event, status: str) -> str:
    c.update(
        "dispute",
        (e.args["disputeId"],),
        e.block_number,
        status=status,
        closed_block=e.block_number,
        updated_block=e.block_number,
    )
    return str(e.args["root"])


def _dispute_closed(status: str) -> Handler:
    def handler(c: RangeChanges, e: Event) -> str:
        return _close_dispute(c, e, status)

    return handler


on("DisputeCourt", "DisputeUpheld", _dispute_touches)(_dispute_closed("upheld"))
on("DisputeCourt", "DisputeDismissed", _dispute_touches)(_dispute_closed("dismissed"))


@on("DisputeCourt", "DisputeClosed", _dispute_touches)
def _dispute_closed_undecided(c: RangeChanges, e: Event) -> str:
    """Lapsed or voided: the event names the status."""
    return _close_dispute(c, e, _name(e.args["status"]))
