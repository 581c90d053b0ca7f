"""Datasets on the DataRegistry: registration (single, batch, commit-reveal), rights, reads.

A dataset's id is its content root (`client.hashing.content_root`), shown as 0x-hex.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from .chain.enums import Grade, Right
from .chain.registry import OrgRef, Registry
from .chain.transact import TxResult
from .consortium import org_id
from .errors import ConfigError

#: Datasets per registerBatch transaction (the contract allows up to 500).
BATCH_SIZE = 100


def parse_root(value: str) -> bytes:
    """A dataset id (0x + 64 hex digits) as 32 bytes; ConfigError naming the value otherwise."""
    text = value.strip()
    try:
        raw = bytes.fromhex(text.removeprefix("0x")) if text.startswith("0x") else b""
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ConfigError(f"{value!r} is not a dataset id (0x followed by 64 hex digits)")
    return raw


def hex32(value: bytes) -> str:
    return "0x" + value.hex()


def metadata_commitment(metadata: bytes, salt: bytes) -> bytes:
    """The salted commitment to a metadata document that goes on chain: keccak256(salt || metadata).

    The salt (32 random bytes, kept by the registrant) stops anyone from recovering short,
    guessable metadata by hashing candidates.

    >>> metadata_commitment(b'{"name":"x"}', bytes(32)).hex()[:16]
    '33fb2503384ae60c'
    """
    if len(salt) != 32:
        raise ConfigError("a metadata salt is 32 bytes")
    return keccak(salt + metadata)


def registration_commitment(root: bytes, org: str, salt: bytes) -> bytes:
    """The commit-reveal commitment keccak256(abi.encode(root, orgId, salt))."""
    return keccak(abi_encode(["bytes32", "bytes32", "bytes32"], [root, org_id(org), salt]))


def new_salt() -> bytes:
    return os.urandom(32)


@dataclass(frozen=True)
class Registration:
    """What one registration puts on chain."""

    root: bytes
    grade: Grade = Grade.GENERAL
    metadata_hash: bytes = bytes(32)
    metadata_uri: str = ""
    parents: tuple[bytes, ...] = ()

    def request(self) -> tuple[bytes, int, bytes, str, list[bytes]]:
        return (self.root, int(self.grade), self.metadata_hash, self.metadata_uri, list(self.parents))

    def batch_item(self) -> tuple[bytes, int, bytes, list[bytes]]:
        return (self.root, int(self.grade), self.metadata_hash, list(self.parents))


@dataclass(frozen=True)
class DatasetInfo:
    """A registered dataset: on-chain record, its registration event, current rights."""

    root: str
    grade: Grade
    registrant: OrgRef
    registered_at: int
    holders: dict[str, OrgRef]
    offers: dict[str, OrgRef]
    metadata_hash: str
    metadata_uri: str
    parents: list[str]
    transaction: str
    block_number: int
    block_hash: str
    children: list[str] = field(default_factory=list)


class Datasets:
    """The DataRegistry contract of a deployed registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def register(self, signer: LocalAccount, registration: Registration) -> TxResult:
        return self.registry.transact(signer, "DataRegistry", "register", registration.request())

    def register_batch(
        self, signer: LocalAccount, registrations: Sequence[Registration], manifest_uri: str = ""
    ) -> TxResult:
        """Register up to the contract's batch limit in one transaction."""
        return self.registry.transact(
            signer, "DataRegistry", "registerBatch", [r.batch_item() for r in registrations], manifest_uri
        )

    def commit(self, signer: LocalAccount, commitment: bytes) -> TxResult:
        return self.registry.transact(signer, "DataRegistry", "commit", commitment)

    def reveal(self, signer: LocalAccount, registration: Registration, salt: bytes) -> TxResult:
        return self.registry.transact(signer, "DataRegistry", "reveal", registration.request(), salt)

    def offer(self, signer: LocalAccount, root: bytes, right: Right, to_org: str) -> TxResult:
        return self.registry.transact(signer, "DataRegistry", "offerRight", root, int(right), org_id(to_org))

    def accept(self, signer: LocalAccount, root: bytes, right: Right) -> TxResult:
        return self.registry.transact(signer, "DataRegistry", "acceptRight", root, int(right))

    def cancel(self, signer: LocalAccount, root: bytes, right: Right) -> TxResult:
        return self.registry.transact(signer, "DataRegistry", "cancelOffer", root, int(right))

    def reject(self, signer: LocalAccount, root: bytes, right: Right) -> TxResult:
        return self.registry.transact(signer, "DataRegistry", "rejectOffer", root, int(right))

    def is_registered(self, root: bytes) -> bool:
        return bool(self.registry.call("DataRegistry", "isRegistered", root))

    def show(self, root: bytes) -> DatasetInfo:
        """The dataset's record and registration event (DataRegistryUnknownDataset if none)."""
        record = self.registry.call("DataRegistry", "dataset", root)
        registrant, holding, processing, operation, registered_at, grade, _priority, _disputed = record
        event, log = self._registration_event(root)
        offers = {}
        for right in Right:
            offered = int(self.registry.call("DataRegistry", "offerOf", root, int(right)))
            if offered:
                offers[right.name.lower()] = self.registry.org_ref(offered)
        uri = self._metadata_uri(root, log)
        label = self.registry.org_ref
        return DatasetInfo(
            root=hex32(root),
            grade=Grade(grade),
            registrant=label(registrant),
            registered_at=int(registered_at),
            holders={"holding": label(holding), "processing": label(processing), "operation": label(operation)},
            offers=offers,
            metadata_hash=str(event["metadataHash"]),
            metadata_uri=uri,
            parents=list(event["parents"]),
            transaction=log["transactionHash"].to_0x_hex(),
            block_number=int(log["blockNumber"]),
            block_hash=log["blockHash"].to_0x_hex(),
            children=self.children(root),
        )

    def children(self, root: bytes) -> list[str]:
        """The datasets registered as derived from `root` (naming it a parent), in chain order.

        The parents are not an indexed topic, so this reads every registration event; the
        API answers the same from its index."""
        wanted = hex32(root)
        # A reveal can re-register a root with other parents: only each root's latest registration counts.
        latest = {
            str(args["root"]).lower(): args for args, _log in self.registry.events("DataRegistry", "DatasetRegistered")
        }
        return [child for child, args in latest.items() if wanted in (str(p).lower() for p in args["parents"])]

    def _logs(self, name: str, root: bytes) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        return self.registry.events("DataRegistry", name, hex32(root))

    def _registration_event(self, root: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
        """The registration in force: the latest, since a reveal supersedes an earlier one."""
        found = self._logs("DatasetRegistered", root)
        if not found:
            raise ConfigError(f"dataset {hex32(root)} has no registration event on this chain")
        return found[-1]

    def _metadata_uri(self, root: bytes, registration: dict[str, Any]) -> str:
        """The URI published by the same transaction as the registration in force ("" if none)."""
        for args, log in self._logs("MetadataPublished", root):
            if log["transactionHash"] == registration["transactionHash"]:
                return str(args["metadataURI"])
        return ""
