"""Licences on the AccessRegistry: grant, approve or reject (auditors), revoke, check.

A grant carries only a commitment to its confidential terms (purpose, usage policy, price);
the grantor keeps the opening in a licence terms file (`idsreg-licence-terms/1`, JSON: chain
id, AccessRegistry address, dataset, grantee org id, commitment, terms document and salt) and
hands it to the grantee or, to review an important grant, to the auditors. See docs/licences.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes

from .chain.enums import Grade, GrantStatus, MemberStatus, Permission
from .chain.registry import OrgRef, Registry
from .chain.transact import TxResult
from .consortium import org_id
from .errors import ConfigError, ProofError, UnknownRecordError
from .terms import Opening, Terms, check_opening
from .times import iso

LICENCE_TERMS_FORMAT = "idsreg-licence-terms/1"


def parse_permissions(value: str) -> Permission:
    """ "read,derive" → Permission.READ | Permission.DERIVE; ConfigError naming a bad name.

    >>> parse_permissions("read, reshare")
    <Permission.READ|RESHARE: 5>
    """
    flags = Permission(0)
    for name in (part.strip() for part in value.split(",")):
        try:
            flags |= Permission[name.upper().replace("-", "_")]
        except KeyError:
            raise ConfigError(f"permission {name!r} is not one of read, derive, reshare, commercial") from None
    if not flags:
        raise ConfigError("a grant needs at least one permission")
    return flags


@dataclass(frozen=True)
class GrantInfo:
    root: str
    grantee: OrgRef
    grantor: OrgRef
    serial: int
    permissions: list[str]
    status: GrantStatus
    valid_from: int
    valid_until: int
    #: Issued under a registration that a reveal superseded since: it authorises nothing.
    superseded: bool = False


#: Why an organisation may or may not use a dataset (`Grants.check`), as stable strings for
#: scripts (`idsreg grant check --json`), each with the sentence people read.
REASONS: dict[str, str] = {
    "authorized": "the licence allows it",
    "not-a-member": "it is not a member of the consortium",
    "org-suspended": "the organisation is suspended",
    "org-expelled": "the organisation was expelled",
    "certification-expired": "the organisation's certification has expired",
    "core-data": "the dataset is core data, which is never licensed out",
    "no-licence": "it holds no licence on the dataset",
    "superseded": "its licence was issued under a registration that a reveal superseded since",
    "pending-approval": "its licence waits for an auditor's approval",
    "rejected": "an auditor rejected its licence",
    "revoked": "its licence was revoked",
    "not-yet-valid": "its licence is not yet valid",
    "expired": "its licence has expired",
    "permission-not-granted": "its licence does not include that permission",
}


@dataclass(frozen=True)
class Authorization:
    """The chain's answer to "may ORG use this dataset so, at this time", with the reason."""

    authorized: bool
    #: One of `REASONS`' keys.
    reason: str
    at: int
    grant: GrantInfo | None = None

    @property
    def explanation(self) -> str:
        """The reason as a sentence about the organisation (with the licence's window when it matters)."""
        text = REASONS[self.reason]
        if self.grant is not None and self.reason == "not-yet-valid":
            text += f" (from {iso(self.grant.valid_from)})"
        if self.grant is not None and self.reason == "expired":
            text += f" (ended {iso(self.grant.valid_until)})"
        return text


class Grants:
    """The AccessRegistry contract of a deployed registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def grant(
        self,
        signer: LocalAccount,
        root: bytes,
        grantee: str,
        permissions: Permission,
        valid_from: int,
        valid_until: int,
        terms_commitment: bytes,
    ) -> TxResult:
        """Issue (or replace) a licence committing to terms whose opening the caller keeps."""
        request = (root, org_id(grantee), int(permissions), valid_from, valid_until, terms_commitment)
        return self.registry.transact(signer, "AccessRegistry", "grant", request)

    def approve(self, auditor: LocalAccount, root: bytes, grantee: str, serial: int) -> TxResult:
        """Approve the pending grant with this serial (refused if the grant was replaced since)."""
        return self.registry.transact(auditor, "AccessRegistry", "approve", root, org_id(grantee), serial)

    def reject(self, auditor: LocalAccount, root: bytes, grantee: str, serial: int) -> TxResult:
        """Reject the pending grant with this serial (refused if the grant was replaced since)."""
        return self.registry.transact(auditor, "AccessRegistry", "reject", root, org_id(grantee), serial)

    def revoke(self, signer: LocalAccount, root: bytes, grantee: str) -> TxResult:
        return self.registry.transact(signer, "AccessRegistry", "revoke", root, org_id(grantee))

    def is_authorized(self, root: bytes, org: str, permission: Permission, at: int) -> bool:
        return bool(self.registry.call("AccessRegistry", "isAuthorized", root, org_id(org), int(permission), at))

    def terms_file(self, root: bytes, grantee: str, opening: Opening) -> LicenceTermsFile:
        """The licence terms file for a grant on `root` to `grantee` committing to `opening`."""
        address = str(self.registry.contract("AccessRegistry").address)
        return LicenceTermsFile(self.registry.chain_id, address, root, org_id(grantee), opening)

    def verify_terms(self, file: LicenceTermsFile, claimed: Terms | None = None) -> GrantTermsEvidence:
        """The `GrantIssued` event whose commitment `file` opens; ProofError naming what differs."""
        address = str(self.registry.contract("AccessRegistry").address)
        if file.chain_id != self.registry.chain_id or file.registry.lower() != address.lower():
            raise ProofError(
                f"the terms file is for AccessRegistry {file.registry} on chain {file.chain_id}, "
                f"not this chain's {address} on chain {self.registry.chain_id}"
            )
        check_opening(file.opening, file.commitment, claimed)
        org_no = int(self.registry.call("Consortium", "orgNoOf", "0x" + file.grantee.hex()))
        topic_no = "0x" + org_no.to_bytes(32, "big").hex()
        issued = self.registry.events("AccessRegistry", "GrantIssued", "0x" + file.root.hex(), topic_no)
        for args, log in issued:
            if bytes(HexBytes(args["termsCommitment"])) == file.commitment:
                return GrantTermsEvidence(
                    serial=int(args["serial"]),
                    transaction=log["transactionHash"].to_0x_hex(),
                    block_number=int(log["blockNumber"]),
                )
        serials = ", ".join(str(a["serial"]) for a, _ in issued) or "none"
        raise ProofError(
            f"no grant on dataset 0x{file.root.hex()} to that grantee commits to these terms "
            f"(commitment 0x{file.commitment.hex()}; grants issued: {serials})"
        )

    def show(self, root: bytes, grantee: str) -> GrantInfo:
        """The current grant on `root` to `grantee`; UnknownRecordError if there is none."""
        org_no = int(self.registry.call("Consortium", "orgNoOf", org_id(grantee)))
        grant = self._grant(root, org_no)
        if grant is None:
            raise UnknownRecordError(f"there is no grant on dataset 0x{root.hex()} to {grantee}")
        return grant

    def check(self, root: bytes, org: str, permission: Permission, at: int) -> Authorization:
        """Whether `org` may use `root` with `permission` at `at`, and why, from contract state.

        The verdict is the AccessRegistry's own (`isAuthorized`); the reason is read from
        what the contracts store — the organisation's membership, the dataset's grade and
        registration, the grant's status, permissions and window — in the order the
        contracts apply them.
        """
        allowed = self.is_authorized(root, org, permission, at)
        org_no = int(self.registry.call("Consortium", "orgNoOf", org_id(org)))
        if org_no == 0:
            return Authorization(allowed, "authorized" if allowed else "not-a-member", at)
        grant = self._grant(root, org_no)
        if allowed:
            return Authorization(True, "authorized", at, grant)
        return Authorization(False, self._denial(root, org_no, grant, permission, at), at, grant)

    def _denial(self, root: bytes, org_no: int, grant: GrantInfo | None, permission: Permission, at: int) -> str:
        member = self.registry.call("Consortium", "memberByNo", org_no)
        status, expires_at = MemberStatus(member[5]), int(member[3])
        if status == MemberStatus.SUSPENDED:
            return "org-suspended"
        if status == MemberStatus.EXPELLED:
            return "org-expelled"
        if expires_at <= self._chain_time():
            return "certification-expired"
        if self.registry.call("DataRegistry", "isRegistered", root):
            grade = Grade(self.registry.call("DataRegistry", "licensingOf", root)[1])
            if grade == Grade.CORE:
                return "core-data"
        if grant is None:
            return "no-licence"
        if grant.superseded:
            return "superseded"
        by_status = {GrantStatus.PENDING: "pending-approval", GrantStatus.REJECTED: "rejected"}
        if grant.status in by_status:
            return by_status[grant.status]
        if grant.status == GrantStatus.REVOKED:
            return "revoked"
        if at < grant.valid_from:
            return "not-yet-valid"
        if at > grant.valid_until:
            return "expired"
        return "permission-not-granted"

    def _grant(self, root: bytes, org_no: int) -> GrantInfo | None:
        grantor, serial, permissions, status, valid_from, valid_until, registration = self.registry.call(
            "AccessRegistry", "grantOf", root, org_no
        )
        if status == GrantStatus.NONE:
            return None
        current_registration = int(self.registry.call("DataRegistry", "operatorOf", root)[1])
        return GrantInfo(
            root="0x" + root.hex(),
            grantee=self.registry.org_ref(org_no),
            grantor=self.registry.org_ref(int(grantor)),
            serial=int(serial),
            permissions=[p.name.lower() for p in Permission if p & permissions and p.name],
            status=GrantStatus(status),
            valid_from=int(valid_from),
            valid_until=int(valid_until),
            superseded=int(registration) != current_registration,
        )

    def _chain_time(self) -> int:
        return int(self.registry.w3.eth.get_block("latest")["timestamp"])


@dataclass(frozen=True)
class GrantTermsEvidence:
    serial: int
    transaction: str
    block_number: int


@dataclass(frozen=True)
class LicenceTermsFile:
    """The opening of a grant's terms commitment, with what identifies the grant."""

    chain_id: int
    registry: str
    root: bytes
    grantee: bytes
    opening: Opening

    @property
    def commitment(self) -> bytes:
        return self.opening.commitment

    def to_json(self) -> str:
        body = {
            "format": LICENCE_TERMS_FORMAT,
            "chainId": self.chain_id,
            "accessRegistry": self.registry,
            "dataset": "0x" + self.root.hex(),
            "grantee": "0x" + self.grantee.hex(),
            "termsCommitment": "0x" + self.commitment.hex(),
            **self.opening.to_dict(),
        }
        return json.dumps(body, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> LicenceTermsFile:
        """Parse a licence terms file; ProofError naming what is wrong (the recorded commitment
        must be the one its terms and salt give)."""
        try:
            raw: Any = json.loads(text)
            if not isinstance(raw, dict) or raw.get("format") != LICENCE_TERMS_FORMAT:
                raise ProofError(f"not a licence terms file (format should be {LICENCE_TERMS_FORMAT!r})")
            values = {}
            for name in ("dataset", "grantee", "termsCommitment"):
                data = bytes.fromhex(str(raw[name]).removeprefix("0x"))
                if len(data) != 32:
                    raise ProofError(f"licence terms field {name} {raw[name]!r} is not 32 bytes of hex")
                values[name] = data
            chain_id = raw["chainId"]
            if not isinstance(chain_id, int) or chain_id < 0:
                raise ProofError(f"the terms file's chainId {chain_id!r} is not a whole number")
            file = cls(
                chain_id, str(raw["accessRegistry"]), values["dataset"], values["grantee"], Opening.from_dict(raw)
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ProofError(f"the licence terms file is malformed: {exc}") from None
        check_opening(file.opening, values["termsCommitment"])
        return file

    @classmethod
    def read(cls, path: Path) -> LicenceTermsFile:
        try:
            return cls.from_json(path.read_text())
        except OSError as exc:
            raise ConfigError(f"cannot read licence terms file {path}: {exc.strerror}") from None
