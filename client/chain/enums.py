"""Python mirrors of the contracts' enums, so decoded values read as names."""

from __future__ import annotations

from enum import IntEnum, IntFlag


class MemberStatus(IntEnum):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    EXPELLED = 3


class KeyRole(IntEnum):
    NONE = 0
    ADMIN = 1
    CONNECTOR = 2


class Role(IntEnum):
    GOVERNOR = 0
    AUDITOR = 1
    ARBITER = 2


class Action(IntEnum):
    ADMIT_MEMBER = 0
    SUSPEND_MEMBER = 1
    REINSTATE_MEMBER = 2
    EXPEL_MEMBER = 3
    RECERTIFY_MEMBER = 4
    REPLACE_ADMIN = 5
    APPOINT_AUDITOR = 6
    REMOVE_AUDITOR = 7
    APPOINT_ARBITER = 8
    REMOVE_ARBITER = 9
    ADD_GOVERNOR = 10
    REMOVE_GOVERNOR = 11
    SET_THRESHOLD = 12
    SET_ARBITER_THRESHOLD = 13
    SET_DISPUTE_PERIOD = 14
    SET_WITNESS_KEY = 15


class ProposalStatus(IntEnum):
    NONE = 0
    OPEN = 1
    EXECUTED = 2
    CANCELLED = 3


class Grade(IntEnum):
    """Classification grade (MIIT 2022 data-security measures)."""

    GENERAL = 0
    IMPORTANT = 1
    CORE = 2


class Right(IntEnum):
    """The three separable data rights."""

    HOLDING = 0
    PROCESSING = 1
    OPERATION = 2


class GrantStatus(IntEnum):
    NONE = 0
    PENDING = 1
    ACTIVE = 2
    REJECTED = 3
    REVOKED = 4


class DisputeStatus(IntEnum):
    NONE = 0
    OPEN = 1
    UPHELD = 2
    DISMISSED = 3
    LAPSED = 4
    VOIDED = 5


class Party(IntEnum):
    """Which side of a receipt."""

    PROVIDER = 0
    CONSUMER = 1


class Permission(IntFlag):
    """A grant's permission set (AccessRegistry's bit constants)."""

    READ = 1
    DERIVE = 2
    RESHARE = 4
    COMMERCIAL = 8


#: Solidity enum name (as in an ABI's internalType, "enum IConsortium.Role") to its mirror.
BY_SOLIDITY_NAME: dict[str, type[IntEnum]] = {
    "MemberStatus": MemberStatus,
    "KeyRole": KeyRole,
    "Role": Role,
    "Action": Action,
    "ProposalStatus": ProposalStatus,
    "Grade": Grade,
    "Right": Right,
    "GrantStatus": GrantStatus,
    "Party": Party,
    "DisputeStatus": DisputeStatus,
}


def label(value: IntEnum) -> str:
    """A readable lower-case name: `MemberStatus.SUSPENDED` → "suspended"."""
    return value.name.lower().replace("_", " ")
