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
from .errors import ConfigError, IdsRegistryError
from .hashing import hex32, parse_root

#: Datasets per registerBatch transaction (the contract allows up to 500: MAX_BATCH).
BATCH_SIZE = 100
MAX_BATCH = 500
#: registerBatch transactions sent and not yet confirmed at a time (`register_batches`).
WINDOW = 8
#: A gas limit for registerBatch well above its cost (about 29,000 gas a dataset, measured in
#: docs/benchmarks.md), so that no estimate is needed: gas is free here, the limit only caps.
BATCH_GAS_BASE = 150_000
BATCH_GAS_ITEM = 80_000
BATCH_GAS_PARENT = 10_000


def check_chunk_size(chunk_size: int) -> None:
    if not 1 <= chunk_size <= MAX_BATCH:
        raise ConfigError(f"chunk size {chunk_size} is not between 1 and {MAX_BATCH}")


def batch_gas(registrations: Sequence[Registration], manifest_uri: str = "") -> int:
    """The gas limit of one registerBatch transaction (see BATCH_GAS_ITEM)."""
    parents = sum(len(r.parents) for r in registrations)
    return BATCH_GAS_BASE + BATCH_GAS_ITEM * len(registrations) + BATCH_GAS_PARENT * parents + 64 * len(manifest_uri)


class BatchRefusedError(IdsRegistryError):
    """A registerBatch transaction of `register_batches` was refused; the sends stopped.

    `refusal` is the contract's reason (ContractRevertError, with its values: the root of a
    dataset registered by someone else, say), `chunk` the refused registrations (chunk number
    `index`), `registered` the transactions that went through, `unsent` how many datasets were
    not sent at all."""

    def __init__(
        self, refusal: Exception, index: int, chunk: Sequence[Registration], registered: list[TxResult], unsent: int
    ) -> None:
        done = sum(1 for tx in registered for e in tx.events if e.name == "DatasetRegistered")
        super().__init__(
            f"batch {index + 1} ({len(chunk)} datasets from {hex32(chunk[0].root)}) was refused: {refusal}; "
            f"the sends stopped: {done} datasets registered in {len(registered)} transactions, {unsent} not sent"
        )
        self.refusal = refusal
        self.index = index
        self.chunk = list(chunk)
        self.registered = registered
        self.unsent = unsent
        self.exit_code = getattr(refusal, "exit_code", 1)


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
        """Register up to the contract's batch limit (MAX_BATCH) in one transaction."""
        return self.registry.transact(
            signer,
            "DataRegistry",
            "registerBatch",
            [r.batch_item() for r in registrations],
            manifest_uri,
            gas=batch_gas(registrations, manifest_uri),
        )

    def batch_call(self, registrations: Sequence[Registration], manifest_uri: str = "") -> tuple[str, bytes, int]:
        """One registerBatch call as (contract address, call data, gas limit), for a `Sender`."""
        data = self.registry.encode(
            "DataRegistry", "registerBatch", [r.batch_item() for r in registrations], manifest_uri
        )
        return self.registry.contract("DataRegistry").address, data, batch_gas(registrations, manifest_uri)

    def register_batches(
        self,
        signer: LocalAccount,
        registrations: Sequence[Registration],
        manifest_uri: str = "",
        *,
        chunk_size: int = BATCH_SIZE,
        window: int = WINDOW,
    ) -> list[TxResult]:
        """Register any number of datasets: `registerBatch` transactions of `chunk_size`, up to
        `window` of them in flight at once (the signer's nonce counted locally).

        A refused transaction stops the sends; those already in flight are awaited, then the
        refusal is raised as `BatchRefusedError`, which names the refused chunk and says which
        transactions went through (`registered`) so that the caller can send the rest again.
        Roots listed twice are refused before anything is sent (`dedupe` first)."""
        check_chunk_size(chunk_size)
        if len({r.root for r in registrations}) != len(registrations):
            raise ConfigError("a root is listed twice; register each once (see client.batch.dedupe)")
        chunks = [registrations[i : i + chunk_size] for i in range(0, len(registrations), chunk_size)]
        sender = self.registry.sender(signer)
        done: list[TxResult] = []
        refusal: tuple[int, Exception] | None = None
        sent = 0

        def next_call() -> tuple[str, bytes, int] | None:
            nonlocal sent
            if sent == len(chunks) or refusal is not None:
                return None
            sent += 1
            return self.batch_call(chunks[sent - 1], manifest_uri)

        for index, (signed, receipt) in enumerate(sender.pipeline(next_call, window)):
            try:
                done.append(sender.outcome(signed, receipt))
            except IdsRegistryError as exc:
                refusal = refusal or (index, self.registry.explained(exc))
        if refusal is not None:
            index, reason = refusal
            raise BatchRefusedError(reason, index, chunks[index], done, sum(len(c) for c in chunks[sent:]))
        return done

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


# hex32 and parse_root live in client.hashing (ids are content roots), which the CLI can
# import without the chain bindings; they stay importable from here.
__all__ = [
    "BATCH_SIZE",
    "MAX_BATCH",
    "WINDOW",
    "BatchRefusedError",
    "DatasetInfo",
    "Datasets",
    "Registration",
    "batch_gas",
    "check_chunk_size",
    "hex32",
    "metadata_commitment",
    "new_salt",
    "parse_root",
    "registration_commitment",
]
