"""Registering one dataset, keeping what only the registrant knows: salt records.

A metadata document stays off the chain; a salted hash of it goes on chain
(`metadata_commitment`), and its salt is needed later to prove the document. A
commit-then-reveal registration first puts `registration_commitment(root, org, salt)` on
chain, then reveals in a later block; until the reveal, only its salt can keep the
commitment's priority. Both salts are kept in salt records, JSON files in one folder
(`$IDSREG_HOME/registrations` for `idsreg`), mode 0600 in a 0700 folder, never replaced:

- `<root>-commit-<commitment>.json`, written *before* the commitment is sent;
- `<root>-<transaction>.json` for a registration with metadata, after it is mined.

    registrar = Registrar(Datasets(registry), SaltRecords(folder))
    done = registrar.register(key, root, "scans.csv", metadata=document, commit=True)
    done.tx, done.saved, done.commit_record
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from .chain.enums import Grade, label
from .chain.transact import TxResult
from .consortium import Consortium
from .datasets import Datasets, Registration, metadata_commitment, new_salt, registration_commitment
from .errors import ConfigError
from .files import create_new, private_folder
from .hashing import hex32


class SaltRecords:
    """The folder of salt records (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def keep(self, name: str, record: dict[str, Any], what: str) -> Path:
        """Write `record` as NAME.json (mode 0600); OverwriteRefusedError if it exists."""
        private_folder(self.folder)
        return create_new(self.folder / f"{name}.json", json.dumps(record, indent=2) + "\n", what=what, mode=0o600)


@dataclass(frozen=True)
class Commitment:
    """A commitment on chain, waiting for its reveal; its salt is kept in `record`."""

    registration: Registration
    salt: bytes
    commitment: bytes
    record: Path


@dataclass(frozen=True)
class Registered:
    """A mined registration: the transaction, its salt record's content (`record`), where
    that was saved (only with metadata) and the commitment's salt record (only with commit)."""

    tx: TxResult
    record: dict[str, Any]
    saved: Path | None
    commit_record: Path | None


class Registrar:
    """Registers datasets one at a time for the signer's organisation, keeping their salts."""

    def __init__(self, datasets: Datasets, records: SaltRecords) -> None:
        self.datasets = datasets
        self.records = records

    def commit(
        self, signer: LocalAccount, registration: Registration, path: str, extra: dict[str, Any] | None = None
    ) -> Commitment:
        """Keep a reveal salt, then put the commitment on chain (the reveal must come in a later block)."""
        registry = self.datasets.registry
        org, _role = Consortium(registry).key_info(signer.address)
        if org is None:
            raise ConfigError(f"key {signer.address} does not belong to a member organisation")
        salt = new_salt()
        commitment = registration_commitment(registration.root, org, salt)
        root = registration.root
        # Kept before the commitment is sent: if the reveal fails, only this salt can still
        # reveal the commitment and keep its priority.
        record = self.records.keep(
            f"{root.hex()}-commit-{commitment.hex()}",
            {
                "root": hex32(root),
                "path": path,
                "chainId": registry.chain_id,
                "org": org,
                "commitment": hex32(commitment),
                "revealSalt": hex32(salt),
                "grade": label(registration.grade),
                "metadataHash": hex32(registration.metadata_hash),
                "metadataURI": registration.metadata_uri,
                "parents": [hex32(p) for p in registration.parents],
                **(extra or {"metadataSalt": None, "metadataFile": None}),
            },
            "commitment salt record",
        )
        self.datasets.commit(signer, commitment)
        return Commitment(registration, salt, commitment, record)

    def reveal(self, signer: LocalAccount, commitment: Commitment) -> TxResult:
        """Register a committed dataset (sent after the commitment's receipt: a later block)."""
        return self.datasets.reveal(signer, commitment.registration, commitment.salt)

    def register(
        self,
        signer: LocalAccount,
        root: bytes,
        path: str,
        grade: Grade = Grade.GENERAL,
        *,
        metadata: bytes | None = None,
        metadata_file: str | None = None,
        metadata_uri: str = "",
        parents: tuple[bytes, ...] = (),
        commit: bool = False,
        on_committed: Callable[[Commitment], None] | None = None,
    ) -> Registered:
        """Register `root` (named `path` in the records): directly, or with `commit` first
        committing and then revealing. With `metadata` (the document's bytes), a salted hash
        goes on chain and the salt is kept. `on_committed` is told of the commitment once it
        is on chain (before the reveal: if that fails, its salt record is what is left)."""
        metadata_hash, salt = bytes(32), b""
        if metadata is not None:
            salt = new_salt()
            metadata_hash = metadata_commitment(metadata, salt)
        extra = {"metadataSalt": hex32(salt) if salt else None, "metadataFile": metadata_file}
        registration = Registration(root, grade, metadata_hash, metadata_uri, parents)
        pending = None
        if commit:
            pending = self.commit(signer, registration, path, extra)
            if on_committed is not None:
                on_committed(pending)
        tx = self.reveal(signer, pending) if pending is not None else self.datasets.register(signer, registration)
        record = {
            "root": hex32(root),
            "path": path,
            "transaction": tx.tx_hash,
            "block": tx.block_number,
            "chainId": self.datasets.registry.chain_id,
            "grade": label(registration.grade),
            "metadataHash": hex32(registration.metadata_hash),
            **extra,
        }
        saved = None
        if metadata is not None:
            saved = self.records.keep(f"{root.hex()}-{tx.tx_hash.removeprefix('0x')}", record, "metadata salt record")
        return Registered(tx, record, saved, pending.record if pending is not None else None)


__all__ = ["Commitment", "Registered", "Registrar", "SaltRecords"]
