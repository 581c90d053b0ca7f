"""Following the chain for what concerns one organisation: the notices of `idsreg watch`.

A `Watcher` reads the registry contracts' logs block range by block range, straight from the
node (no registry API needed), and turns the events that concern its `Interest` into
`Notice`s:

- `disputeOpened`: a dispute opened against a right the organisation holds (it is the respondent);
- `rightOffered`: a right offered to the organisation, while the offer is still open;
- `approvalPending`: (auditors) an important dataset's grant waiting for approval, while it waits;
- `receiptRecorded`: a delivery receipt recorded with the organisation as provider or consumer;
- `licenceExpiring`: an active licence granted to or by the organisation whose validity ends
  within the warning window (told once per grant serial; a state, not an event: checked at
  every poll against the chain's latest block time).

Offers and approvals are looked up again when their event is read, so that a replay of old
blocks does not report what was decided since.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from web3 import Web3

from .chain.abi import decode_log, event_topic
from .chain.enums import GrantStatus, KeyRole, Permission, Right, Role
from .chain.logs import LOG_RANGE
from .chain.registry import Registry
from .chain.rpc import RawLog, get_header, get_logs
from .consortium import Consortium, org_id
from .errors import ConfigError
from .jsonable import jsonable
from .times import iso

KINDS = ("disputeOpened", "rightOffered", "approvalPending", "receiptRecorded", "licenceExpiring")


@dataclass(frozen=True)
class Interest:
    """Whose events to follow: an organisation (member number), and whether the key is an auditor's."""

    org_no: int | None
    auditor: bool = False
    address: str | None = None

    @classmethod
    def of_key(cls, registry: Registry, address: str) -> Interest:
        """The organisation the key acts for and its auditor role; ConfigError if it has neither."""
        consortium = Consortium(registry)
        org, role = consortium.key_info(address)
        org_no = int(registry.call("Consortium", "orgNoOf", bytes.fromhex(org[2:]))) if org else 0
        auditor = consortium.has_role(Role.AUDITOR, address)
        if (not org_no or role == KeyRole.NONE) and not auditor:
            raise ConfigError(f"key {address} acts for no member organisation and is no auditor; pass --org ORG")
        return cls(org_no if org_no and role != KeyRole.NONE else None, auditor, address)

    @classmethod
    def of_org(cls, registry: Registry, org: str, auditor: bool = False) -> Interest:
        """An organisation by member number, identifier (LEI:…) or 0x org id; ConfigError if unknown."""
        text = org.strip()
        if text.isdigit():
            number = int(text)
            count = int(registry.call("Consortium", "memberCount"))
            if not 1 <= number <= count:
                raise ConfigError(f"organisation {org!r}: there is no member number {number} (members 1 to {count})")
            return cls(number, auditor)
        number = int(registry.call("Consortium", "orgNoOf", org_id(text)))
        if number == 0:
            raise ConfigError(f"organisation {org!r} is not a member of this consortium")
        return cls(number, auditor)


@dataclass(frozen=True)
class Notice:
    """One thing that concerns the organisation, said in one line."""

    kind: str
    time: int
    block_number: int
    tx_hash: str | None
    text: str
    details: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        return f"{iso(self.time)}  {self.text}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "time": self.time,
            "blockNumber": self.block_number,
            "txHash": self.tx_hash,
            "message": self.text,
            **self.details,
        }


class Watcher:
    """Reads the chain from `from_block` on and makes the notices for `interest`."""

    def __init__(self, registry: Registry, interest: Interest, *, expiring_within: int, from_block: int) -> None:
        self.registry = registry
        self.w3: Web3 = registry.w3
        self.interest = interest
        self.expiring_within = expiring_within
        self.next_block = max(from_block, registry.manifest.deployment_block)
        self.addresses = [Web3.to_checksum_address(c.address) for c in registry.manifest.contracts.values()]
        self._names: dict[int, dict[str, Any]] = {}
        #: Licences granted to or by the organisation: (dataset, grantee) pairs, current serial looked up.
        self._licences: set[tuple[str, int]] = set()
        self._expiry_told: set[tuple[str, int, int]] = set()
        self._block_times: dict[int, int] = {}
        self._grant_issued = event_topic("AccessRegistry", "GrantIssued")
        if interest.org_no is not None and self.next_block > registry.manifest.deployment_block:
            self._learn_licences(registry.manifest.deployment_block, self.next_block - 1)

    # ----- organisations ----------------------------------------------------------------

    def org(self, org_no: int) -> dict[str, Any]:
        """`{"orgNo", "orgId", "name"}` for a member number (docs/json.md), read once."""
        if org_no not in self._names:
            self._names[org_no] = jsonable(self.registry.org_ref(org_no))
        return self._names[org_no]

    def org_text(self, org_no: int) -> str:
        ref = self.org(org_no)
        return f"{ref['name']} (member {org_no})" if ref["name"] else f"member {org_no}"

    # ----- reading ----------------------------------------------------------------------

    def poll(self) -> list[Notice]:
        """The notices from the blocks not read yet up to the head, then the licences about to expire."""
        head = int(self.w3.eth.block_number)
        notices: list[Notice] = []
        while self.next_block <= head:
            end = min(self.next_block + LOG_RANGE - 1, head)
            for log in get_logs(self.w3, self.addresses, self.next_block, end):
                if not log.removed:
                    notices.extend(self._notice(log))
            self.next_block = end + 1
        notices.extend(self._expiring(self._time(head)))
        return notices

    def _learn_licences(self, start: int, end: int) -> None:
        """The licences concerning the organisation issued before the first block watched."""
        while start <= end:
            stop = min(start + LOG_RANGE - 1, end)
            access = Web3.to_checksum_address(self.registry.manifest.address("AccessRegistry"))
            for log in get_logs(self.w3, [access], start, stop):
                decoded = decode_log(log.topics, log.data)
                if decoded is not None and decoded.name == "GrantIssued":
                    self._remember_licence(decoded.args)
            start = stop + 1

    def _remember_licence(self, args: dict[str, Any]) -> None:
        if self.interest.org_no in (args["grantee"], args["grantor"]):
            self._licences.add((str(args["root"]), int(args["grantee"])))

    def _time(self, block: int) -> int:
        if block not in self._block_times:
            self._block_times[block] = get_header(self.w3, block).timestamp
        return self._block_times[block]

    def _notice(self, log: RawLog) -> Iterable[Notice]:
        decoded = decode_log(log.topics, log.data)
        if decoded is None:
            return []
        args, mine = decoded.args, self.interest.org_no
        when = log.block_time if log.block_time is not None else self._time(log.block_number)

        def notice(kind: str, text: str, **details: Any) -> list[Notice]:
            return [Notice(kind, when, log.block_number, log.tx_hash, text, details)]

        name = decoded.name
        if name == "GrantIssued":
            if mine is not None:
                self._remember_licence(args)
            if self.interest.auditor and args["status"] == GrantStatus.PENDING and self._still_pending(args):
                return notice(
                    "approvalPending",
                    f"approval pending: grant {args['serial']} on dataset {args['root']} to "
                    f"{self.org_text(args['grantee'])} by {self.org_text(args['grantor'])} "
                    f"({_permissions(args['permissions'])}, valid {iso(args['validFrom'])} "
                    f"to {iso(args['validUntil'])})",
                    dataset=args["root"],
                    grantee=self.org(args["grantee"]),
                    grantor=self.org(args["grantor"]),
                    serial=args["serial"],
                    permissions=_permission_list(args["permissions"]),
                    validFrom=args["validFrom"],
                    validUntil=args["validUntil"],
                )
            return []
        if mine is None:
            return []
        if name == "DisputeOpened" and args["respondent"] == mine:
            right = _right(args["right"])
            return notice(
                "disputeOpened",
                f"dispute {args['disputeId']} opened by {self.org_text(args['claimant'])} against your {right} "
                f"right of dataset {args['root']}",
                disputeId=args["disputeId"],
                dataset=args["root"],
                right=right,
                claimant=self.org(args["claimant"]),
                respondent=self.org(args["respondent"]),
            )
        if name == "RightOffered" and args["to"] == mine and self._offer_open(args):
            right = _right(args["right"])
            return notice(
                "rightOffered",
                f"{self.org_text(args['from'])} offers you the {right} right of dataset {args['root']} "
                f"(accept with `idsreg right accept {args['root']} {right}`)",
                dataset=args["root"],
                right=right,
                offeredBy=self.org(args["from"]),
                offeredTo=self.org(args["to"]),
            )
        if name == "ReceiptRecorded" and mine in (args["provider"], args["consumer"]):
            role = "provider" if args["provider"] == mine else "consumer"
            return notice(
                "receiptRecorded",
                f"receipt {args['digest']} recorded: {self.org_text(args['provider'])} delivered dataset "
                f"{args['dataset']} to {self.org_text(args['consumer'])} (grant {args['grantSerial']}, "
                f"terms {args['termsCommitment']}); you are the {role}",
                digest=args["digest"],
                dataset=args["dataset"],
                provider=self.org(args["provider"]),
                consumer=self.org(args["consumer"]),
                grantSerial=args["grantSerial"],
                termsCommitment=args["termsCommitment"],
                deliveredAt=args["deliveredAt"],
            )
        return []

    def _still_pending(self, args: dict[str, Any]) -> bool:
        current = self.registry.call("AccessRegistry", "grantOf", bytes.fromhex(args["root"][2:]), args["grantee"])
        return int(current[1]) == int(args["serial"]) and int(current[3]) == GrantStatus.PENDING

    def _offer_open(self, args: dict[str, Any]) -> bool:
        offered = self.registry.call("DataRegistry", "offerOf", bytes.fromhex(args["root"][2:]), int(args["right"]))
        return int(offered) == int(args["to"])

    def _expiring(self, now: int) -> list[Notice]:
        notices = []
        for root, grantee in sorted(self._licences):
            grantor, serial, permissions, status, _valid_from, valid_until, _registration = self.registry.call(
                "AccessRegistry", "grantOf", bytes.fromhex(root[2:]), grantee
            )
            key = (root, grantee, int(serial))
            if status != GrantStatus.ACTIVE or key in self._expiry_told:
                continue
            if not now <= int(valid_until) <= now + self.expiring_within:
                continue
            self._expiry_told.add(key)
            to_me = grantee == self.interest.org_no
            other = self.org_text(int(grantor)) if to_me else self.org_text(grantee)
            direction = f"from {other} to you" if to_me else f"from you to {other}"
            notices.append(
                Notice(
                    "licenceExpiring",
                    now,
                    int(self.next_block) - 1,
                    None,
                    f"licence {serial} on dataset {root} {direction} ({_permissions(int(permissions))}) "
                    f"expires {iso(int(valid_until))}",
                    {
                        "dataset": root,
                        "grantee": self.org(grantee),
                        "grantor": self.org(int(grantor)),
                        "serial": int(serial),
                        "permissions": _permission_list(int(permissions)),
                        "validUntil": int(valid_until),
                    },
                )
            )
        return notices


def _right(value: Any) -> str:
    return Right(int(value)).name.lower()


def _permission_list(bits: int) -> list[str]:
    return [p.name.lower() for p in Permission if p.name and bits & p]


def _permissions(bits: int) -> str:
    return ", ".join(_permission_list(bits)) or "no permissions"


def parse_duration(value: str) -> int:
    """ "7d", "12h", "30m", "90s" or plain seconds, as seconds; ConfigError otherwise.

    >>> parse_duration("7d"), parse_duration("36h"), parse_duration("600")
    (604800, 129600, 600)
    """
    text = value.strip().lower()
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1, "w": 7 * 86400}
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "s")
    if not number.isdigit():
        raise ConfigError(f"duration {value!r} is not a number of days, hours or minutes like 7d, 12h or 30m")
    return int(number) * units[unit]


__all__ = ["KINDS", "Interest", "Notice", "Watcher", "parse_duration"]
