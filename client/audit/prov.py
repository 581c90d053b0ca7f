"""A verified bundle's history as W3C PROV-JSON (https://www.w3.org/submissions/prov-json/):
datasets as entities, registrations and deliveries as activities, organisations as agents
(docs/audit.md, "PROV export").

Only a `Verified` bundle is exported, so every record stands on a fact the verifier proved; each
activity names its evidence (block, transaction, log index).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from .bundle import args_json
from .evidence import decode_header
from .facts import Fact, org_names
from .verify import Verified

#: The namespace of the registry's identifiers (a URN: nothing to fetch, nothing to trust).
NAMESPACE = "urn:idsreg:"
PREFIX = "idsreg"

REGISTRATIONS = frozenset({"DatasetRegistered", "RegistrationSuperseded"})


def dataset_id(root: str) -> str:
    return f"{PREFIX}:dataset/{root.lower()}"


def org_id(org_no: int) -> str:
    return f"{PREFIX}:org/{org_no}"


def _qualified(name: str) -> dict[str, str]:
    return {"$": name, "type": "prov:QUALIFIED_NAME"}


def _time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def _evidence(fact: Fact) -> dict[str, Any]:
    return {
        f"{PREFIX}:event": fact.event,
        f"{PREFIX}:contract": fact.contract,
        f"{PREFIX}:block": fact.block,
        f"{PREFIX}:transaction": fact.tx,
        f"{PREFIX}:logIndex": fact.index,
    }


class _Document:
    """PROV-JSON records by kind; relations get blank-node ids in the order they are added."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, dict[str, Any]]] = {}
        self._count = 0

    def node(self, kind: str, identifier: str, attributes: Mapping[str, Any]) -> None:
        self.records.setdefault(kind, {}).setdefault(identifier, {}).update(attributes)

    def relation(self, kind: str, attributes: Mapping[str, Any]) -> None:
        self._count += 1
        self.records.setdefault(kind, {})[f"_:{kind}{self._count}"] = dict(attributes)

    def dataset(self, root: str, **attributes: Any) -> str:
        identifier = dataset_id(root)
        self.node("entity", identifier, {"prov:type": _qualified(f"{PREFIX}:Dataset"), f"{PREFIX}:root": root})
        if attributes:
            self.node("entity", identifier, {f"{PREFIX}:{k}": v for k, v in attributes.items()})
        return identifier

    def organisation(self, org_no: int, names: Mapping[int, str]) -> str:
        identifier = org_id(org_no)
        attributes: dict[str, Any] = {"prov:type": _qualified("prov:Organization"), f"{PREFIX}:orgNo": org_no}
        if org_no in names:
            attributes["prov:label"] = names[org_no]
        self.node("agent", identifier, attributes)
        return identifier


def _block_times(verified: Verified, facts: Iterable[Fact]) -> dict[int, int]:
    bundle = verified.bundle
    return {f.block: decode_header(bundle.headers[f.block - bundle.first_block]).timestamp for f in facts}


def to_prov(verified: Verified) -> dict[str, Any]:
    """The PROV-JSON document (a JSON object) of what `verified` proves.

    - each dataset a registration or delivery names (the audited one, its lineage, their
      parents) is an entity `idsreg:dataset/0x<root>`;
    - each registration (`DatasetRegistered`, `RegistrationSuperseded`) is an activity that
      generated the dataset, associated with the registrant, who the dataset is attributed to;
    - each delivery (`ReceiptRecorded`) is an activity that used the dataset, associated with
      the provider (role `idsreg:provider`) and the consumer (role `idsreg:consumer`), and
      generated the delivered copy, derived from the dataset;
    - each organisation is an agent `idsreg:org/<member number>`, labelled with its name when
      the bundle holds its admission;
    - lineage is `wasDerivedFrom` from each registered dataset to each of its parents.
    """
    bundle = verified.bundle
    facts = [f for f in verified.facts if f.event in REGISTRATIONS or f.event == "ReceiptRecorded"]
    names = org_names(verified.facts)
    times = _block_times(verified, facts)
    undisclosed = {fact.place for fact, _ in verified.undisclosed}
    document = _Document()
    document.dataset("0x" + bundle.dataset.hex(), audited=True)
    for fact in facts:
        args = args_json(fact.args)
        activity_attributes = {"prov:startTime": _time(times[fact.block]), **_evidence(fact)}
        if fact.event in REGISTRATIONS:
            root = str(args["root"])
            activity = f"{PREFIX}:registration/{fact.block}-{fact.tx}-{fact.index}"
            document.node(
                "activity",
                activity,
                {"prov:type": _qualified(f"{PREFIX}:Registration"), "prov:endTime": _time(times[fact.block])}
                | activity_attributes,
            )
            extra = {"grade": args["grade"], "metadataHash": args["metadataHash"]} if "grade" in args else {}
            entity = document.dataset(root, **extra)
            agent = document.organisation(int(args["registrant"]), names)
            document.relation("wasGeneratedBy", {"prov:entity": entity, "prov:activity": activity})
            document.relation(
                "wasAssociatedWith",
                {"prov:activity": activity, "prov:agent": agent, "prov:role": _qualified(f"{PREFIX}:registrant")},
            )
            document.relation("wasAttributedTo", {"prov:entity": entity, "prov:agent": agent})
            for parent in args.get("parents", []):
                document.relation(
                    "wasDerivedFrom",
                    {
                        "prov:generatedEntity": entity,
                        "prov:usedEntity": document.dataset(str(parent)),
                        "prov:activity": activity,
                    },
                )
        else:
            digest = str(args["digest"])
            activity = f"{PREFIX}:delivery/{digest}"
            document.node(
                "activity",
                activity,
                {
                    "prov:type": _qualified(f"{PREFIX}:Delivery"),
                    "prov:endTime": _time(int(args["deliveredAt"])),
                    f"{PREFIX}:grantSerial": int(args["grantSerial"]),
                    f"{PREFIX}:termsCommitment": str(args["termsCommitment"]),
                    f"{PREFIX}:termsDisclosed": fact.place not in undisclosed,
                }
                | activity_attributes,
            )
            source = document.dataset(str(args["dataset"]))
            copy = f"{PREFIX}:copy/{digest}"
            document.node(
                "entity",
                copy,
                {"prov:type": _qualified(f"{PREFIX}:DeliveredCopy"), f"{PREFIX}:root": str(args["deliveredRoot"])},
            )
            provider = document.organisation(int(args["provider"]), names)
            consumer = document.organisation(int(args["consumer"]), names)
            document.relation("used", {"prov:activity": activity, "prov:entity": source})
            document.relation("wasGeneratedBy", {"prov:entity": copy, "prov:activity": activity})
            document.relation(
                "wasDerivedFrom", {"prov:generatedEntity": copy, "prov:usedEntity": source, "prov:activity": activity}
            )
            for agent, role in ((provider, "provider"), (consumer, "consumer")):
                document.relation(
                    "wasAssociatedWith",
                    {"prov:activity": activity, "prov:agent": agent, "prov:role": _qualified(f"{PREFIX}:{role}")},
                )
            document.relation("wasAttributedTo", {"prov:entity": copy, "prov:agent": consumer})
    return {"prefix": {PREFIX: NAMESPACE}, **document.records}
