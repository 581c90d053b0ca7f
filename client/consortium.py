"""Membership and governance through the Consortium contract: proposals, approvals, keys, reads.

Organisations are named by a registered enterprise identifier such as ``LEI:5493001KJTIIGC8Y1R12``
or ``USCC:91310000…``; on chain they are known by ``orgId = keccak256(identifier)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import is_hex, is_hex_address, keccak, to_checksum_address

from .chain.enums import Action, KeyRole, MemberStatus, ProposalStatus, Role
from .chain.messages import remember_name
from .chain.registry import Registry
from .chain.transact import TxResult
from .errors import ConfigError

_IDENTIFIER = re.compile(r"^[A-Z][A-Z0-9]{1,15}:[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

#: ABI parameter types of each action's proposal arguments (see IConsortium.Action).
ACTION_TYPES: dict[Action, list[str]] = {
    Action.ADMIT_MEMBER: ["bytes32", "string", "address", "uint8", "bytes32", "uint64"],
    Action.SUSPEND_MEMBER: ["bytes32"],
    Action.REINSTATE_MEMBER: ["bytes32"],
    Action.EXPEL_MEMBER: ["bytes32"],
    Action.RECERTIFY_MEMBER: ["bytes32", "uint8", "bytes32", "uint64"],
    Action.REPLACE_ADMIN: ["bytes32", "address"],
    Action.APPOINT_AUDITOR: ["address"],
    Action.REMOVE_AUDITOR: ["address"],
    Action.APPOINT_ARBITER: ["address"],
    Action.REMOVE_ARBITER: ["address"],
    Action.ADD_GOVERNOR: ["address"],
    Action.REMOVE_GOVERNOR: ["address"],
    Action.SET_THRESHOLD: ["uint256"],
    Action.SET_ARBITER_THRESHOLD: ["uint256"],
    Action.SET_DISPUTE_PERIOD: ["uint256"],
    Action.SET_WITNESS_KEY: ["address", "bytes32"],
}
ACTION_NAMES: dict[Action, list[str]] = {
    Action.ADMIT_MEMBER: ["orgId", "name", "admin", "level", "evidenceHash", "expiresAt"],
    Action.RECERTIFY_MEMBER: ["orgId", "level", "evidenceHash", "expiresAt"],
    Action.REPLACE_ADMIN: ["orgId", "newAdmin"],
    Action.SET_THRESHOLD: ["threshold"],
    Action.SET_ARBITER_THRESHOLD: ["threshold"],
    Action.SET_DISPUTE_PERIOD: ["period"],
    Action.SET_WITNESS_KEY: ["governor", "witnessKey"],
}


def org_id(org: str) -> bytes:
    """The 32-byte org id of an enterprise identifier (``SCHEME:VALUE``) or of a 0x-hex org id.

    >>> org_id("LEI:5493001KJTIIGC8Y1R12").hex()[:16]
    '7d9869acc8c392c5'
    """
    if org.startswith("0x") and len(org) == 66 and is_hex(org):
        return bytes.fromhex(org[2:])
    if not _IDENTIFIER.match(org):
        raise ConfigError(
            f"organisation {org!r} is neither an identifier like LEI:5493001KJTIIGC8Y1R12 "
            "(upper-case scheme, colon, value) nor a 0x-prefixed 32-byte org id"
        )
    digest = keccak(text=org)
    remember_name("0x" + digest.hex(), org)
    return digest


def checksum(account: str) -> str:
    """A checksummed address; ConfigError naming the value otherwise."""
    if not is_hex_address(account):
        raise ConfigError(f"{account!r} is not an account address (0x followed by 40 hex digits)")
    return to_checksum_address(account)


@dataclass(frozen=True)
class ProposalOutcome:
    proposal_id: int
    executed: bool
    tx: TxResult


@dataclass(frozen=True)
class MemberInfo:
    org_id: str
    org_no: int
    name: str
    admin: str
    level: int
    certified_until: int
    status: MemberStatus
    connectors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ProposalInfo:
    proposal_id: int
    action: Action
    status: ProposalStatus
    proposer: str
    created_at: int
    approvals: int
    threshold: int
    args: dict[str, Any]


def encode_action(action: Action, *values: Any) -> bytes:
    """ABI-encode a proposal's arguments."""
    return abi_encode(ACTION_TYPES[action], list(values))


def decode_action(action: Action, args: bytes) -> dict[str, Any]:
    """A proposal's arguments by name, as the client shows them."""
    names = ACTION_NAMES.get(action) or (["orgId"] if ACTION_TYPES[action] == ["bytes32"] else ["account"])
    values = abi_decode(ACTION_TYPES[action], args)
    shown: dict[str, Any] = {}
    for name, kind, value in zip(names, ACTION_TYPES[action], values, strict=True):
        shown[name] = (
            "0x" + value.hex() if kind == "bytes32" else to_checksum_address(value) if kind == "address" else value
        )
    return shown


class Consortium:
    """The Consortium contract of a deployed registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.contract = registry.consortium

    # ----- governance writes -----

    def propose(self, signer: LocalAccount, action: Action, *values: Any) -> ProposalOutcome:
        """Open a proposal (the proposer's approval counts at once)."""
        tx = self.registry.transact(signer, "Consortium", "propose", int(action), encode_action(action, *values))
        proposal_id = int(tx.event("ProposalCreated").args["proposalId"])
        return ProposalOutcome(proposal_id, _executed(tx), tx)

    def propose_admission(
        self, signer: LocalAccount, org: str, name: str, admin: str, level: int, evidence_hash: bytes, expires_at: int
    ) -> ProposalOutcome:
        if not name.strip():
            raise ConfigError("the organisation's name must not be empty")
        if not 1 <= level <= 255:
            raise ConfigError(f"certification level {level} is out of range (1 to 255)")
        return self.propose(
            signer, Action.ADMIT_MEMBER, org_id(org), name, checksum(admin), level, evidence_hash, expires_at
        )

    def approve(self, signer: LocalAccount, proposal_id: int) -> ProposalOutcome:
        tx = self.registry.transact(signer, "Consortium", "approve", proposal_id)
        return ProposalOutcome(proposal_id, _executed(tx), tx)

    def execute(self, signer: LocalAccount, proposal_id: int) -> ProposalOutcome:
        tx = self.registry.transact(signer, "Consortium", "execute", proposal_id)
        return ProposalOutcome(proposal_id, True, tx)

    def cancel(self, signer: LocalAccount, proposal_id: int) -> TxResult:
        return self.registry.transact(signer, "Consortium", "cancel", proposal_id)

    # ----- organisation keys -----

    def add_connector(self, signer: LocalAccount, key: str) -> TxResult:
        return self.registry.transact(signer, "Consortium", "addConnector", checksum(key))

    def remove_connector(self, signer: LocalAccount, key: str) -> TxResult:
        return self.registry.transact(signer, "Consortium", "removeConnector", checksum(key))

    def transfer_admin(self, signer: LocalAccount, new_admin: str) -> TxResult:
        return self.registry.transact(signer, "Consortium", "transferAdmin", checksum(new_admin))

    # ----- reads -----

    def member(self, org: str) -> MemberInfo:
        """An organisation's record, name and current connector keys."""
        raw = self.registry.call("Consortium", "member", org_id(org))
        return self._member_info(raw)

    def members(self) -> list[MemberInfo]:
        """Every organisation ever admitted, by member number."""
        count = int(self.registry.call("Consortium", "memberCount"))
        return [self._member_info(self.registry.call("Consortium", "memberByNo", n)) for n in range(1, count + 1)]

    def key_info(self, key: str) -> tuple[str | None, KeyRole]:
        """The org id a key belongs to (None if none) and its role there."""
        org, role = self.registry.call("Consortium", "keyInfo", checksum(key))
        return ("0x" + bytes(org).hex() if any(org) else None), KeyRole(role)

    def is_active_key(self, key: str) -> bool:
        """Whether `key` acts for an active, certified member now (admin or connector)."""
        return bool(self.registry.call("Consortium", "isActiveKey", checksum(key)))

    def has_role(self, role: Role, account: str) -> bool:
        return bool(self.registry.call("Consortium", "hasRole", int(role), checksum(account)))

    def role_holders(self, role: Role) -> list[str]:
        return [to_checksum_address(a) for a in self.registry.call("Consortium", "roleHolders", int(role))]

    def threshold(self, role: Role) -> int:
        return int(self.registry.call("Consortium", "threshold", int(role)))

    def witness_keys(self) -> dict[str, bytes | None]:
        """Each current governor (checksummed) and its Ed25519 witness key (None: none set)."""
        governors, keys = self.registry.call("Consortium", "witnessKeys")
        return {to_checksum_address(g): (bytes(k) if any(k) else None) for g, k in zip(governors, keys, strict=True)}

    def propose_witness_key(self, signer: LocalAccount, governor: str, key: bytes) -> ProposalOutcome:
        """Propose ``key`` (32-byte Ed25519 public key) as ``governor``'s witness key."""
        if len(key) != 32:
            raise ConfigError(f"a witness key is a 32-byte Ed25519 public key, not {len(key)} bytes")
        return self.propose(signer, Action.SET_WITNESS_KEY, checksum(governor), key)

    def council_events(self) -> list[dict[str, Any]]:
        """Every Consortium event that changes the council (governors, their threshold, witness
        keys), in chain order, as `client.checkpoint_council.council_history` reads them."""
        found = []
        for name in ("RoleGranted", "RoleRevoked", "ThresholdChanged", "WitnessKeyChanged"):
            for args, log in self.registry.events("Consortium", name):
                found.append(
                    {
                        "event": name,
                        "args": args,
                        "blockNumber": int(log["blockNumber"]),
                        "transactionHash": "0x" + bytes(log["transactionHash"]).hex(),
                        "logIndex": int(log["logIndex"]),
                    }
                )
        found.sort(key=lambda e: (e["blockNumber"], e["logIndex"]))
        return found

    def proposal(self, proposal_id: int) -> ProposalInfo:
        raw, approvals = self.registry.call("Consortium", "proposal", proposal_id)
        action = Action(raw[0])
        return ProposalInfo(
            proposal_id=proposal_id,
            action=action,
            status=ProposalStatus(raw[1]),
            proposer=to_checksum_address(raw[2]),
            created_at=int(raw[3]),
            approvals=int(approvals),
            threshold=self.threshold(Role.GOVERNOR),
            args=decode_action(action, bytes(raw[4])),
        )

    def proposals(self, *, open_only: bool = False) -> list[ProposalInfo]:
        count = int(self.registry.call("Consortium", "proposalCount"))
        found = [self.proposal(i) for i in range(1, count + 1)]
        return [p for p in found if p.status == ProposalStatus.OPEN] if open_only else found

    def active_keys(self) -> list[str]:
        """Every admin and connector key that currently acts for an active, certified member."""
        candidates: dict[str, None] = {}
        for event_name, field_name in (
            ("MemberAdmitted", "admin"),
            ("AdminReplaced", "newAdmin"),
            ("ConnectorAdded", "key"),
        ):
            candidates.update(dict.fromkeys(args[field_name] for args in self._events(event_name)))
        return [key for key in candidates if self.registry.call("Consortium", "isActiveKey", key)]

    def _events(self, name: str, org: bytes | None = None) -> list[dict[str, Any]]:
        indexed = ["0x" + org.hex()] if org is not None else []
        return [args for args, _log in self.registry.events("Consortium", name, *indexed)]

    def _member_info(self, raw: Any) -> MemberInfo:
        org = bytes(raw[0])
        added = dict.fromkeys(args["key"] for args in self._events("ConnectorAdded", org))
        connectors = [key for key in added if self.key_info(key) == ("0x" + org.hex(), KeyRole.CONNECTOR)]
        return MemberInfo(
            org_id="0x" + org.hex(),
            org_no=int(raw[1]),
            name=self.registry.org_name("0x" + org.hex()) or "",
            admin=to_checksum_address(raw[2]),
            level=int(raw[4]),
            certified_until=int(raw[3]),
            status=MemberStatus(raw[5]),
            connectors=connectors,
        )


def _executed(tx: TxResult) -> bool:
    return any(e.name == "ProposalExecuted" for e in tx.events)
