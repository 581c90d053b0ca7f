"""Which logs are facts about a dataset: one deterministic rule, run by the export to choose and
by the verifier to rebuild, so that a fact left out of a bundle is found.

The rule works on the logs of whole blocks (every receipt of each block it is given) and grows
its *subjects* until nothing new appears:

- the dataset's root: every log of a registry contract with the root among its indexed topics
  (registration, supersession, metadata, rights, licences, receipts, anchors of that root,
  disputes over it);
- its lineage up and down to `depth`: the registrations (`DatasetRegistered`,
  `RegistrationSuperseded`, `MetadataPublished`) of its parents, their parents…, and of the
  datasets registered with it (or them) among their parents;
- each dispute over it: every DisputeCourt log whose first topic is the dispute's id (proofs
  of prior anchoring, votes, rulings);
- each organisation a fact names (registrant, parties, holders…): its admission (found by its
  member number) and every Consortium log keyed by its org id (suspension, reinstatement,
  expulsion, recertification, admin and connector keys);
- each auditor and arbiter a fact names: their role grants and removals;
- the council: every change of the governors, their threshold and their witness keys (what a
  checkpoint's cosignatures are checked against).

`Subjects.topics` is what a block's logs bloom is tested against: a block whose bloom may hold a
registry contract's address and one of that contract's topics must come with all its receipts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_utils import keccak

from ..chain.abi import DecodedEvent, decode_log, event_topic
from .evidence import Log, bloom_int_may_hold

#: The registry contracts whose logs can be facts (the manifest's names).
CONTRACTS = ("Consortium", "DataRegistry", "AccessRegistry", "AnchorRegistry", "DisputeCourt", "ExchangeLedger")

LINEAGE_EVENTS = frozenset({"DatasetRegistered", "RegistrationSuperseded", "MetadataPublished"})
#: Consortium events whose first topic is an org id.
MEMBER_EVENTS = frozenset(
    {
        "MemberAdmitted",
        "MemberSuspended",
        "MemberReinstated",
        "MemberExpelled",
        "MemberRecertified",
        "AdminReplaced",
        "ConnectorAdded",
        "ConnectorRemoved",
    }
)
ROLE_EVENTS = frozenset({"RoleGranted", "RoleRevoked"})
#: Consortium events that change the council of governors (role 0) or a governor's witness key.
COUNCIL_EVENTS = frozenset({"RoleGranted", "RoleRevoked", "ThresholdChanged", "WitnessKeyChanged"})
GOVERNOR_TOPIC = bytes(32)  # Role.Governor, as an indexed topic
#: Event arguments that hold a member number, and those that hold an auditor's or arbiter's account.
ORG_FIELDS = frozenset(
    {
        "registrant",
        "previousRegistrant",
        "from",
        "to",
        "grantee",
        "grantor",
        "provider",
        "consumer",
        "claimant",
        "respondent",
        "holder",
        "orgNo",
    }
)
ROLE_FIELDS = frozenset({"auditor", "arbiter"})

DATASET_REGISTERED_TOPIC = keccak(text="DatasetRegistered(bytes32,uint32,uint8,bytes32,uint64,bytes32[])")


def _witness_key_topic() -> bytes | None:
    """Topic 0 of Consortium's WitnessKeyChanged, when the compiled Consortium has that event."""
    try:
        return bytes.fromhex(event_topic("Consortium", "WitnessKeyChanged")[2:])
    except KeyError:
        return None


WITNESS_KEY_TOPIC = _witness_key_topic()


@dataclass(frozen=True)
class LogAt:
    """A log where it sits: block number, transaction index, index within its receipt."""

    block: int
    tx: int
    index: int
    log: Log


@dataclass(frozen=True)
class Fact:
    """A log about the dataset, decoded, with why it belongs (`about`: dataset, lineage,
    dispute, member or role)."""

    block: int
    tx: int
    index: int
    contract: str
    event: str
    args: Mapping[str, Any]
    about: str

    @property
    def place(self) -> tuple[int, int, int]:
        return (self.block, self.tx, self.index)

    def __str__(self) -> str:
        return f"{self.event} (block {self.block}, transaction {self.tx}, log {self.index})"


@dataclass
class Subjects:
    """Everything the facts found so far are about."""

    root: bytes
    depth: int
    up: dict[bytes, int] = field(default_factory=dict)  # ancestor root → generations above
    down: dict[bytes, int] = field(default_factory=dict)  # descendant root → generations below
    disputes: set[int] = field(default_factory=set)
    org_nos: set[int] = field(default_factory=set)
    org_ids: set[bytes] = field(default_factory=set)
    accounts: set[bytes] = field(default_factory=set)  # 20-byte addresses

    def lineage(self) -> set[bytes]:
        return (set(self.up) | set(self.down)) - {self.root}

    def topics(self) -> dict[str, set[bytes]]:
        """By contract, the 32-byte topics one of which a fact's log of that contract carries."""
        roots = {self.root, *self.lineage()}
        disputes = {n.to_bytes(32, "big") for n in self.disputes}
        consortium = {*self.org_ids, GOVERNOR_TOPIC, *(n.to_bytes(32, "big") for n in self.org_nos)}
        consortium |= {bytes(12) + a for a in self.accounts}
        if WITNESS_KEY_TOPIC is not None:
            consortium.add(WITNESS_KEY_TOPIC)
        registry = roots | disputes | ({DATASET_REGISTERED_TOPIC} if self.depth > 0 else set())
        return {
            "Consortium": consortium,
            "DataRegistry": registry,
            "AccessRegistry": {self.root},
            "AnchorRegistry": {self.root},
            "DisputeCourt": {self.root} | disputes,
            "ExchangeLedger": {self.root},
        }

    def size(self) -> int:
        return (
            len(self.up)
            + len(self.down)
            + len(self.disputes)
            + len(self.org_nos)
            + len(self.org_ids)
            + len(self.accounts)
        )


def _bytes32(value: Any) -> bytes:
    return bytes.fromhex(str(value)[2:])


def _classify(
    entry: LogAt, contract: str, decoded: DecodedEvent, subjects: Subjects
) -> tuple[str, str, dict[str, Any]] | None:
    """(event, about, args) when the log is a fact about `subjects`, else None."""
    topics = entry.log.topics
    event, args = decoded.name, decoded.args
    if subjects.root in topics[1:] and contract != "Consortium":
        return event, "dataset", args
    if contract == "DataRegistry" and event in LINEAGE_EVENTS and len(topics) > 1 and topics[1] in subjects.lineage():
        return event, "lineage", args
    if contract == "DisputeCourt" and len(topics) > 1 and int.from_bytes(topics[1], "big") in subjects.disputes:
        return event, "dispute", args
    if contract == "Consortium":
        if event in MEMBER_EVENTS and len(topics) > 1 and topics[1] in subjects.org_ids:
            return event, "member", args
        if event == "MemberAdmitted" and int(args["orgNo"]) in subjects.org_nos:
            return event, "member", args
        if event in COUNCIL_EVENTS and (event == "WitnessKeyChanged" or topics[1:2] == (GOVERNOR_TOPIC,)):
            return event, "council", args
        if event in ROLE_EVENTS and len(topics) > 2 and topics[2][12:] in subjects.accounts:
            return event, "role", args
    return None


def _learn(fact: Fact, entry: LogAt, subjects: Subjects) -> None:
    """Add what `fact` names to the subjects."""
    args = fact.args
    if fact.about in ("dataset", "dispute", "lineage"):
        for name in ORG_FIELDS & set(args):
            if int(args[name]) > 0:
                subjects.org_nos.add(int(args[name]))
        for name in ROLE_FIELDS & set(args):
            subjects.accounts.add(_bytes32("0x" + str(args[name])[2:].lower().rjust(40, "0")))
    if fact.about == "member" and fact.event == "MemberAdmitted":
        subjects.org_ids.add(entry.log.topics[1])
    if fact.contract == "DisputeCourt" and fact.event == "DisputeOpened":
        subjects.disputes.add(int(args["disputeId"]))
    if fact.event == "DatasetRegistered":
        registered = _bytes32(args["root"])
        level = subjects.up.get(registered)
        if level is not None and level < subjects.depth:
            for parent in args["parents"]:
                subjects.up.setdefault(_bytes32(parent), level + 1)


def _children(entries: Iterable[tuple[LogAt, str, DecodedEvent]], subjects: Subjects) -> bool:
    """Registrations that name a dataset of the downward lineage as a parent; True if any is new."""
    grew = False
    for entry, contract, decoded in entries:
        if contract != "DataRegistry" or entry.log.topics[0] != DATASET_REGISTERED_TOPIC:
            continue
        child = _bytes32(decoded.args["root"])
        for parent in decoded.args["parents"]:
            level = subjects.down.get(_bytes32(parent))
            if level is not None and level < subjects.depth and child not in subjects.down:
                subjects.down[child] = level + 1
                grew = True
    return grew


@dataclass(frozen=True)
class Selection:
    facts: list[Fact]
    subjects: Subjects


def select(logs: Sequence[LogAt], contracts: Mapping[bytes, str], root: bytes, depth: int) -> Selection:
    """The facts about `root` (lineage to `depth`) among `logs` (in chain order), by the rule of
    this module. `contracts` maps each registry contract's 20-byte address to its name; logs of
    other addresses are never facts."""
    ours = []
    for entry in logs:
        contract = contracts.get(entry.log.address)
        decoded = decode_log(list(entry.log.topics), entry.log.data) if contract and entry.log.topics else None
        if contract is not None and decoded is not None:
            ours.append((entry, contract, decoded))
    subjects = Subjects(root, depth, up={root: 0}, down={root: 0})
    while True:
        before = subjects.size()
        facts = []
        for entry, contract, decoded in ours:
            found = _classify(entry, contract, decoded, subjects)
            if found is None:
                continue
            event, about, args = found
            fact = Fact(entry.block, entry.tx, entry.index, contract, event, args, about)
            facts.append(fact)
            _learn(fact, entry, subjects)
        _children(ours, subjects)
        if subjects.size() == before:
            return Selection(facts, subjects)


def org_names(facts: Iterable[Fact]) -> dict[int, str]:
    """Organisation names by member number, from the admissions among `facts`."""
    return {int(f.args["orgNo"]): str(f.args["name"]) for f in facts if f.event == "MemberAdmitted"}


def may_hold_fact(bloom: bytes, contracts: Mapping[bytes, str], topics: Mapping[str, set[bytes]]) -> bool:
    """Whether a block with this logs bloom may hold a fact: a registry contract's address and one
    of the topics of that contract's facts (`Subjects.topics`) may both be in it."""
    number = int.from_bytes(bloom, "big")
    return any(
        bloom_int_may_hold(number, address) and any(bloom_int_may_hold(number, t) for t in topics[name])
        for address, name in contracts.items()
    )
