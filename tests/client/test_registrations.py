"""client.registrations: commit-then-reveal and metadata salts kept in salt records."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from client.chain.enums import Grade
from client.chain.registry import Registry
from client.consortium import Consortium
from client.datasets import Datasets, metadata_commitment, registration_commitment
from client.errors import ContractRevertError
from client.registrations import Commitment, Registrar, SaltRecords
from tests.conftest import admit, new_account


def test_commit_reveal_keeps_its_salts(make_registry: Callable[..., Registry], tmp_path: Path) -> None:
    governor = new_account()
    registry = make_registry([governor])
    acme = admit(Consortium(registry), governor, "DEMO:ACME", connectors=1)
    datasets = Datasets(registry)
    records = SaltRecords(tmp_path / "registrations")
    registrar = Registrar(datasets, records)
    root, document = b"\x31" * 32, b'{"title": "wear"}'
    told: list[Commitment] = []

    done = registrar.register(
        acme.connectors[0],
        root,
        "wear.csv",
        Grade.IMPORTANT,
        metadata=document,
        metadata_file="wear.json",
        metadata_uri="ipfs://wear",
        commit=True,
        on_committed=told.append,
    )
    assert [e.name for e in done.tx.events] == ["DatasetRegistered", "MetadataPublished"]
    assert done.saved is not None and done.commit_record is not None and told[0].record == done.commit_record
    assert stat.S_IMODE(done.saved.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "registrations").stat().st_mode) == 0o700
    saved = json.loads(done.saved.read_text())
    assert saved == done.record and saved["transaction"] == done.tx.tx_hash and saved["grade"] == "important"
    salt = bytes.fromhex(saved["metadataSalt"][2:])
    assert saved["metadataHash"] == "0x" + metadata_commitment(document, salt).hex()
    commit = json.loads(done.commit_record.read_text())
    reveal_salt = bytes.fromhex(commit["revealSalt"][2:])
    assert commit["commitment"] == "0x" + registration_commitment(root, acme.org_id, reveal_salt).hex()
    assert datasets.show(root).grade == Grade.IMPORTANT

    # A reveal the contract refuses (an unknown parent) leaves the commitment's salt record.
    told.clear()
    with pytest.raises(ContractRevertError) as refused:
        registrar.register(
            acme.connectors[0],
            b"\x32" * 32,
            "orphan.csv",
            parents=(b"\x77" * 32,),
            commit=True,
            on_committed=told.append,
        )
    assert refused.value.error_name == "DataRegistryUnknownParent"
    assert told and told[0].record.exists() and not datasets.is_registered(b"\x32" * 32)
    assert json.loads(told[0].record.read_text())["parents"] == ["0x" + "77" * 32]
