"""ODRL policies of the catalog and the negotiation, and the on-chain grant an agreement is.

An agreement maps to a grant field by field (docs/connector.md, "The agreement is the licence"):

| ODRL (Agreement)                              | grant (AccessRegistry) / committed terms    |
|-----------------------------------------------|---------------------------------------------|
| `target` `urn:idsreg:dataset:0x<root>`        | `root`                                      |
| `assigner` `urn:idsreg:org:0x<org id>`        | `grantor` (the provider)                    |
| `assignee` `urn:idsreg:org:0x<org id>`        | `grantee` (the consumer)                    |
| `timestamp`                                   | `validFrom`                                 |
| a permission per action: `odrl:read`, `odrl:derive`, `odrl:distribute`, `odrl:commercialize` |
|                                               | `permissions`: read, derive, reshare, commercial |
| constraint `dateTime gteq` / `dateTime lteq`  | `validFrom` / `validUntil`                  |
| constraint `purpose eq`                       | terms `purpose` (committed, never in clear) |
| the whole agreement (RFC 8785)                | terms `policy` = its keccak256; `note` = its `@id` |

An offer carries the same permissions and purpose, and instead of a window a duration
(`elapsedTime lteq P30D`): the agreement's window starts when it is made.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785
from eth_utils import keccak

from ..chain.enums import Permission
from ..errors import ConfigError
from ..terms import Terms

DATASET_PREFIX = "urn:idsreg:dataset:"
ORG_PREFIX = "urn:idsreg:org:"
OFFER_PREFIX = "urn:idsreg:offer:"

#: ODRL action → permission bit; the first name of each bit is the one this connector writes.
ACTIONS: dict[str, Permission] = {
    "odrl:read": Permission.READ,
    "odrl:derive": Permission.DERIVE,
    "odrl:distribute": Permission.RESHARE,
    "odrl:commercialize": Permission.COMMERCIAL,
}
_ALIASES: dict[str, Permission] = {
    "use": Permission.READ,
    "odrl:use": Permission.READ,
    **{name.removeprefix("odrl:"): bit for name, bit in ACTIONS.items()},
}
_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$")


class PolicyError(ConfigError):
    """A policy this connector cannot map to a grant (message names the part)."""


@dataclass(frozen=True)
class OfferTerms:
    """What an offer says, in the grant's terms: permissions, purpose, and how long a licence runs."""

    permissions: Permission
    purpose: str
    duration: int  # seconds


@dataclass(frozen=True)
class AgreementTerms:
    """What an agreement says, field for field what the grant and its committed terms hold."""

    agreement_id: str
    root: bytes
    assigner: str  # 0x org id
    assignee: str  # 0x org id
    permissions: Permission
    purpose: str
    valid_from: int
    valid_until: int


# ----- identifiers -----


def dataset_iri(root: bytes) -> str:
    return f"{DATASET_PREFIX}0x{root.hex()}"


def parse_dataset(value: str) -> bytes:
    """A dataset's root from its IRI (`urn:idsreg:dataset:0x…`) or bare 0x-hex; PolicyError otherwise."""
    text = value.removeprefix(DATASET_PREFIX)
    if not _HEX32.match(text):
        raise PolicyError(f"dataset {value!r} is not {DATASET_PREFIX}0x<64 hex digits>")
    return bytes.fromhex(text[2:])


def org_iri(org_id: str) -> str:
    return f"{ORG_PREFIX}{org_id.lower()}"


def parse_org(value: str) -> str:
    text = value.removeprefix(ORG_PREFIX)
    if not _HEX32.match(text):
        raise PolicyError(f"party {value!r} is not {ORG_PREFIX}0x<64 hex digits of an org id>")
    return text.lower()


def iso_seconds(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso_seconds(value: str) -> int:
    found = _TIMESTAMP.match(value)
    if not found:
        raise PolicyError(f"time {value!r} is not an XSD dateTime in UTC like 2026-01-31T12:00:00Z")
    return int(datetime.strptime(found.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp())


def duration_text(seconds: int) -> str:
    """`P30D` for whole days, else `PT…S`."""
    return f"P{seconds // 86400}D" if seconds % 86400 == 0 and seconds else f"PT{seconds}S"


def parse_duration(value: str) -> int:
    found = _DURATION.match(value)
    if not found or value in ("P", "PT") or value.endswith("T"):
        raise PolicyError(f"duration {value!r} is not an xsd:duration in days, hours, minutes, seconds (P30D)")
    days, hours, minutes, seconds = (int(g or 0) for g in found.groups())
    total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    if total <= 0:
        raise PolicyError(f"duration {value!r} is not positive")
    return total


# ----- offers -----


def _rules(permissions: Permission, constraints: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"action": name, "constraint": constraints} for name, bit in ACTIONS.items() if bit & permissions]


def offer_policy(root: bytes, terms: OfferTerms, *, with_target: bool = False) -> dict[str, Any]:
    """The catalog's ODRL offer for `root` under `terms`; its `@id` is derived from the terms, so the
    same terms always give the same offer id."""
    constraints = [
        {"leftOperand": "odrl:purpose", "operator": "eq", "rightOperand": terms.purpose},
        {"leftOperand": "odrl:elapsedTime", "operator": "lteq", "rightOperand": duration_text(terms.duration)},
    ]
    rules = _rules(terms.permissions, constraints)
    digest = hashlib.sha256(rfc8785.dumps({"root": root.hex(), "permission": rules})).hexdigest()[:32]
    policy: dict[str, Any] = {"@id": f"{OFFER_PREFIX}0x{root.hex()}:{digest}", "@type": "Offer", "permission": rules}
    if with_target:
        policy["target"] = dataset_iri(root)
    return policy


def _permissions(policy: dict[str, Any]) -> tuple[Permission, list[dict[str, Any]]]:
    """The permission bits of a policy's rules, which must all carry the same constraints."""
    rules = policy.get("permission")
    if not isinstance(rules, list) or not rules:
        raise PolicyError("the policy has no permission rules")
    if policy.get("prohibition") or policy.get("obligation"):
        raise PolicyError("the policy has prohibitions or obligations, which a licence cannot carry")
    bits = Permission(0)
    constraints: list[dict[str, Any]] | None = None
    for rule in rules:
        action = rule.get("action") if isinstance(rule, dict) else None
        if not isinstance(action, str) or (action not in ACTIONS and action not in _ALIASES):
            raise PolicyError(f"action {action!r} is not one of {', '.join(ACTIONS)} (or use)")
        bits |= ACTIONS.get(action) or _ALIASES[action]
        these = rule.get("constraint", [])
        if constraints is not None and these != constraints:
            raise PolicyError("the policy's rules carry different constraints; a licence has one purpose and window")
        constraints = these
    return bits, list(constraints or [])


def _atomic(constraints: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for item in constraints:
        if not isinstance(item, dict) or "leftOperand" not in item:
            raise PolicyError(f"constraint {item!r} is not an atomic constraint this connector understands")
        left = str(item["leftOperand"]).removeprefix("odrl:")
        operator, right = str(item.get("operator")), item.get("rightOperand")
        if not isinstance(right, str):
            raise PolicyError(f"constraint {left} {operator} has a right operand that is not a string")
        if (left, operator) in found:
            raise PolicyError(f"constraint {left} {operator} appears twice")
        found[(left, operator)] = right
    return found


def read_offer(policy: dict[str, Any]) -> OfferTerms:
    """The grant terms an ODRL offer asks for; PolicyError naming what cannot be mapped."""
    bits, constraints = _permissions(policy)
    found = _atomic(constraints)
    unknown = set(found) - {("purpose", "eq"), ("elapsedTime", "lteq")}
    if unknown:
        left, operator = min(unknown)
        raise PolicyError(f"an offer's constraint {left} {operator} is not one of purpose eq, elapsedTime lteq")
    if ("elapsedTime", "lteq") not in found:
        raise PolicyError("the offer has no elapsedTime lteq constraint (how long the licence runs)")
    return OfferTerms(bits, found.get(("purpose", "eq"), ""), parse_duration(found[("elapsedTime", "lteq")]))


# ----- agreements -----


def agreement_policy(terms: AgreementTerms) -> dict[str, Any]:
    """The ODRL agreement of `terms` (the message's `agreement`)."""
    constraints = [
        {"leftOperand": "odrl:dateTime", "operator": "gteq", "rightOperand": iso_seconds(terms.valid_from)},
        {"leftOperand": "odrl:dateTime", "operator": "lteq", "rightOperand": iso_seconds(terms.valid_until)},
    ]
    if terms.purpose:
        constraints.insert(0, {"leftOperand": "odrl:purpose", "operator": "eq", "rightOperand": terms.purpose})
    return {
        "@id": terms.agreement_id,
        "@type": "Agreement",
        "target": dataset_iri(terms.root),
        "timestamp": iso_seconds(terms.valid_from),
        "assigner": org_iri(terms.assigner),
        "assignee": org_iri(terms.assignee),
        "permission": _rules(terms.permissions, constraints),
    }


def read_agreement(policy: dict[str, Any]) -> AgreementTerms:
    """The grant fields an ODRL agreement states; PolicyError naming what cannot be mapped."""
    bits, constraints = _permissions(policy)
    found = _atomic(constraints)
    unknown = set(found) - {("purpose", "eq"), ("dateTime", "gteq"), ("dateTime", "lteq")}
    if unknown:
        left, operator = min(unknown)
        raise PolicyError(f"an agreement's constraint {left} {operator} is not one of purpose eq, dateTime gteq/lteq")
    for needed in (("dateTime", "gteq"), ("dateTime", "lteq")):
        if needed not in found:
            raise PolicyError(f"the agreement has no {needed[0]} {needed[1]} constraint")
    valid_from = parse_iso_seconds(found[("dateTime", "gteq")])
    if parse_iso_seconds(str(policy.get("timestamp", ""))) != valid_from:
        raise PolicyError("the agreement's timestamp is not the start of its validity window")
    return AgreementTerms(
        agreement_id=str(policy.get("@id", "")),
        root=parse_dataset(str(policy.get("target", ""))),
        assigner=parse_org(str(policy.get("assigner", ""))),
        assignee=parse_org(str(policy.get("assignee", ""))),
        permissions=bits,
        purpose=found.get(("purpose", "eq"), ""),
        valid_from=valid_from,
        valid_until=parse_iso_seconds(found[("dateTime", "lteq")]),
    )


def licence_terms(agreement: dict[str, Any]) -> Terms:
    """The confidential licence terms the grant commits to: the purpose, the keccak256 of the
    canonical agreement as its usage policy, and the agreement's id as its note."""
    policy = "0x" + keccak(rfc8785.dumps(agreement)).hex()
    terms = read_agreement(agreement)
    return Terms.licence(purpose=terms.purpose, policy=policy, note=terms.agreement_id)


def agreement_of_grant(
    root: bytes, grantor: str, grantee: str, permissions: Permission, valid_from: int, valid_until: int, terms: Terms
) -> dict[str, Any]:
    """Back from the chain: the agreement a grant (its fields and its opened terms) stands for.

    PolicyError if the terms' policy hash is not the hash of the agreement rebuilt so.
    """
    agreement = agreement_policy(
        AgreementTerms(
            agreement_id=terms.fields.get("note", ""),
            root=root,
            assigner=grantor,
            assignee=grantee,
            permissions=permissions,
            purpose=terms.fields.get("purpose", ""),
            valid_from=valid_from,
            valid_until=valid_until,
        )
    )
    if licence_terms(agreement) != terms:
        raise PolicyError("the grant and its terms do not rebuild the agreement its policy hash commits to")
    return agreement
