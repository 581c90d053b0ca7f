"""client.batch: items registered by someone between the look-up and the send."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from client.batch import FAILED, PENDING, REGISTERED, SKIPPED, BatchProgress, BatchRegistrar
from client.chain.enums import Grade
from client.chain.registry import Registry
from client.consortium import Consortium
from client.datasets import Datasets, Registration
from client.errors import ContractRevertError
from tests.conftest import admit, new_account


def test_items_registered_meanwhile_are_sorted_out(make_registry: Callable[..., Registry], tmp_path: Path) -> None:
    governor = new_account()
    registry = make_registry([governor])
    consortium = Consortium(registry)
    acme = admit(consortium, governor, "DEMO:ACME", connectors=1)
    beta = admit(consortium, governor, "DEMO:BETA")
    datasets = Datasets(registry)
    roots = [bytes([i + 1]) * 32 for i in range(7)]
    listing = tmp_path / "list.txt"
    record = BatchProgress.location(tmp_path / "batches", listing, registry.chain_id)

    registrar = BatchRegistrar(datasets, acme.connectors[0], Grade.GENERAL, (), "")
    progress, resumed = registrar.start(record, listing, [(tmp_path / f"f{i}", r) for i, r in enumerate(roots)])
    assert not resumed
    registrar.sort(progress)
    assert all(i.status == PENDING for i in progress.items)

    # After the look-up, BETA registers item 2 and ACME's admin item 5.
    datasets.register(beta.admin, Registration(roots[2]))
    datasets.register(acme.admin, Registration(roots[5]))
    sent = registrar.register(progress, record, 3, lambda n: None)
    status = [i.status for i in progress.items]
    assert status == [REGISTERED, REGISTERED, FAILED, REGISTERED, REGISTERED, SKIPPED, REGISTERED]
    assert progress.items[2].reason.startswith(f"dataset 0x{roots[2].hex()} is already registered by BETA (member 2)")
    assert sum(len(tx.events) - 1 for tx in sent) == 5
    saved = BatchProgress.load(record)
    assert saved is not None and [i.status for i in saved.items] == status

    # A refusal of the whole chunk (an unknown parent) stops the run and leaves the items pending.
    orphan = BatchRegistrar(datasets, acme.connectors[0], Grade.GENERAL, (b"\x99" * 32,), "")
    other = BatchProgress.location(tmp_path / "batches", tmp_path / "other.txt", registry.chain_id)
    progress, _ = orphan.start(other, tmp_path / "other.txt", [(tmp_path / "g", b"\x42" * 32)])
    orphan.sort(progress)
    with pytest.raises(ContractRevertError) as refused:
        orphan.register(progress, other, 10, lambda n: None)
    assert refused.value.error_name == "DataRegistryUnknownParent"
    kept = BatchProgress.load(other)
    assert kept is not None and [i.status for i in kept.items] == [PENDING]
