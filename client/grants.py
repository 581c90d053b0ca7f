"""Licences on the AccessRegistry: grant, approve or reject (auditors), revoke, check."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from .chain.enums import GrantStatus, Permission
from .chain.registry import Registry
from .chain.transact import TxResult
from .consortium import org_id
from .errors import ConfigError


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
    grantee: str
    grantor: str
    serial: int
    permissions: list[str]
    status: GrantStatus
    valid_from: int
    valid_until: int
    #: Issued under a registration that a reveal superseded since: it authorises nothing.
    superseded: bool = False


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
        purpose: bytes,
        valid_from: int,
        valid_until: int,
        policy_hash: bytes,
    ) -> TxResult:
        request = (root, org_id(grantee), int(permissions), purpose, valid_from, valid_until, policy_hash)
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

    def show(self, root: bytes, grantee: str) -> GrantInfo:
        """The current grant on `root` to `grantee`; ConfigError if there is none."""
        org_no = int(self.registry.call("Consortium", "orgNoOf", org_id(grantee)))
        grantor, serial, permissions, status, valid_from, valid_until, registration = self.registry.call(
            "AccessRegistry", "grantOf", root, org_no
        )
        if status == GrantStatus.NONE:
            raise ConfigError(f"there is no grant on dataset 0x{root.hex()} to {grantee}")
        current_registration = int(self.registry.call("DataRegistry", "operatorOf", root)[1])
        return GrantInfo(
            root="0x" + root.hex(),
            grantee=self.registry.org_label(org_no),
            grantor=self.registry.org_label(int(grantor)),
            serial=int(serial),
            permissions=[p.name.lower() for p in Permission if p & permissions and p.name],
            status=GrantStatus(status),
            valid_from=int(valid_from),
            valid_until=int(valid_until),
            superseded=int(registration) != current_registration,
        )
