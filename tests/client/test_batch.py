"""client.batch: items registered by someone between the look-up and the send."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from client.batch import FAILED, PENDING, REGISTERED, SENDING, SKIPPED, BatchProgress, BatchRegistrar
from client.chain.enums import Grade
from client.chain.registry import Registry
from client.consortium import Consortium
from client.datasets import Datasets, Registration
from client.errors import ContractRevertError
from tests.conftest import Org, admit, new_account


def two_members(make_registry: Callable[..., Registry]) -> tuple[Registry, Consortium, Datasets, Org, Org]:
    """A fresh registry with ACME (one connector key) and BETA."""
    governor = new_account()
    registry = make_registry([governor])
    consortium = Consortium(registry)
    acme = admit(consortium, governor, "DEMO:ACME", connectors=1)
    beta = admit(consortium, governor, "DEMO:BETA")
    return registry, consortium, Datasets(registry), acme, beta


def test_items_registered_meanwhile_are_sorted_out(make_registry: Callable[..., Registry], tmp_path: Path) -> None:
    registry, _consortium, datasets, acme, beta = two_members(make_registry)
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


def _registered_by(datasets: Datasets, root: str) -> int:
    return int(datasets.registry.call("DataRegistry", "dataset", bytes.fromhex(root[2:]))[0])


def _check_record_is_exact(datasets: Datasets, progress: BatchProgress, record: Path, org_no: int) -> None:
    """Every item the record calls registered is on the chain, ours, by the transaction it names;
    every pending item is not on the chain; the saved record is the one in memory."""
    for item in progress.items:
        if item.status == REGISTERED:
            assert _registered_by(datasets, item.root) == org_no, item
            found = datasets.registry.events("DataRegistry", "DatasetRegistered", item.root)
            assert found[-1][1]["transactionHash"].to_0x_hex() == item.transaction
        elif item.status == PENDING:
            assert not datasets.is_registered(bytes.fromhex(item.root[2:])), item
    saved = BatchProgress.load(record)
    assert saved is not None and saved.items == progress.items


def test_a_batch_refused_outright_stops_the_sends(make_registry: Callable[..., Registry], tmp_path: Path) -> None:
    """The connector's key is revoked after a few chunks: the chunks in flight then are refused
    too, but nothing more is sent, and the record says exactly what went through."""
    registry, consortium, datasets, acme, _beta = two_members(make_registry)
    connector = acme.connectors[0]
    chunks, size, window = 20, 5, 4
    roots = [bytes([i + 1]) * 32 for i in range(chunks * size)]
    listing = tmp_path / "list.txt"
    record = BatchProgress.location(tmp_path / "batches", listing, registry.chain_id)
    registrar = BatchRegistrar(datasets, connector, Grade.GENERAL, (), "", window=window)
    progress, _ = registrar.start(record, listing, [(tmp_path / f"f{i}", r) for i, r in enumerate(roots)])
    registrar.sort(progress)
    confirmed = []

    def advance(n: int) -> None:
        confirmed.append(n)
        if len(confirmed) == 3:
            consortium.remove_connector(acme.admin, connector.address)

    with pytest.raises(ContractRevertError) as refused:
        registrar.register(progress, record, size, advance)
    assert refused.value.error_name in ("ConsortiumKeyRevoked", "ConsortiumUnknownKey"), str(refused.value)
    registered = [i for i in progress.items if i.status == REGISTERED]
    assert len(registered) % size == 0 and len(registered) >= 3 * size
    assert {i.status for i in progress.items} == {REGISTERED, PENDING}
    # Sent: the chunks that went through, and at most one window of refused ones.
    sent = registry.w3.eth.get_transaction_count(connector.address)
    assert len(registered) // size < sent <= len(registered) // size + window < chunks
    assert len(progress.transactions) == len(registered) // size
    _check_record_is_exact(datasets, progress, record, registrar.org_no)


def test_a_member_in_bad_faith_mid_batch(make_registry: Callable[..., Registry], tmp_path: Path) -> None:
    """BETA registers a root of a later chunk while ACME's batch runs: that one item fails,
    named with BETA, the rest of its chunk is sent again, all others are registered."""
    registry, _consortium, datasets, acme, beta = two_members(make_registry)
    roots = [bytes([i + 1]) * 32 for i in range(60)]
    listing = tmp_path / "list.txt"
    record = BatchProgress.location(tmp_path / "batches", listing, registry.chain_id)
    registrar = BatchRegistrar(datasets, acme.connectors[0], Grade.GENERAL, (), "", window=3)
    progress, _ = registrar.start(record, listing, [(tmp_path / f"f{i}", r) for i, r in enumerate(roots)])
    registrar.sort(progress)
    steps = []

    def advance(n: int) -> None:
        steps.append(n)
        if len(steps) == 1:
            datasets.register(beta.admin, Registration(roots[47]))

    registrar.register(progress, record, 5, advance)
    status = [i.status for i in progress.items]
    assert status == [REGISTERED] * 47 + [FAILED] + [REGISTERED] * 12
    assert progress.items[47].reason.startswith(f"dataset 0x{roots[47].hex()} is already registered by BETA")
    _check_record_is_exact(datasets, progress, record, registrar.org_no)


def test_a_pipeline_cut_short_resumes_exactly(make_registry: Callable[..., Registry], tmp_path: Path) -> None:
    """The run dies with chunks in flight: those are `sending` in the record; the next run
    finds them on the chain, counts them as this batch's and sends only the rest."""
    registry, _consortium, datasets, acme, _beta = two_members(make_registry)
    roots = [bytes([i + 1]) * 32 for i in range(40)]
    entries = [(tmp_path / f"f{i}", r) for i, r in enumerate(roots)]
    listing = tmp_path / "list.txt"
    record = BatchProgress.location(tmp_path / "batches", listing, registry.chain_id)
    registrar = BatchRegistrar(datasets, acme.connectors[0], Grade.GENERAL, (), "", window=4)
    progress, _ = registrar.start(record, listing, entries)
    registrar.sort(progress)

    class Crash(Exception):
        pass

    def crash(n: int) -> None:
        raise Crash

    with pytest.raises(Crash):
        registrar.register(progress, record, 4, crash)
    saved = BatchProgress.load(record)
    assert saved is not None
    counts = {s: sum(i.status == s for i in saved.items) for s in (REGISTERED, SENDING, PENDING)}
    assert counts == {REGISTERED: 4, SENDING: 12, PENDING: 24}

    again = BatchRegistrar(datasets, acme.connectors[0], Grade.GENERAL, (), "", window=4)
    progress, resumed = again.start(record, listing, entries)
    assert resumed and progress.runs == 2
    again.sort(progress)
    assert [i.status for i in progress.items] == [REGISTERED] * 16 + [PENDING] * 24
    sent = again.register(progress, record, 4, lambda n: None)
    assert len(sent) == 6 and all(i.status == REGISTERED for i in progress.items)
    assert [i.run for i in progress.items] == [1] * 16 + [2] * 24
    _check_record_is_exact(datasets, progress, record, again.org_no)
