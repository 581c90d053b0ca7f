"""The data plane: a started transfer's bytes with range requests, and every refusal.

Alpha's connector serves a real file or directory, registered on the real chain; beta asks
for the transfer through DSP and calls the data plane with the start message's token and a
request proof of its connector key. Licences are revoked and expire on chain, members are
suspended and keys removed through the real contracts.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from web3 import Web3

from client.chain.enums import Action
from client.connector.identity import issue_token
from client.connector.negotiation import Role
from client.connector.peer import PeerError
from client.connector.sources import DataSources
from client.connector.transfer import DataAddress, Transfer, TransferState
from client.errors import ConfigError
from client.grants import Grants
from client.hashing import bytes_root, directory_manifest, hex32
from tests.conftest import increase_time, new_account
from tests.connector.conftest import Pair
from tests.connector.transfers import (
    a_file,
    consumer,
    data_get,
    file_contents,
    finalized,
    provider,
    provider_state,
    refused,
    serve,
    wait_consumer,
)
from tests.contracts.factories import key

S = TransferState


def start(pair: Pair, root: bytes) -> tuple[Transfer, DataAddress]:
    negotiation = finalized(pair, root)
    return consumer(pair).start(negotiation.consumer_pid)


def test_a_file_whole_and_resumed_with_range(deciding: Pair, tmp_path: Path) -> None:
    dataset = a_file(deciding, tmp_path)
    contents = dataset.path.read_bytes()
    _, address = start(deciding, dataset.root)
    manifest = data_get(deciding, address)
    assert manifest.status_code == 200, manifest.text
    assert manifest.json() == {
        "root": hex32(dataset.root),
        "kind": "file",
        "files": [{"path": "readings.bin", "size": len(contents), "root": hex32(dataset.root)}],
    }
    whole = data_get(deciding, address, "readings.bin")
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    assert whole.content == contents
    # A download cut in the middle, then resumed where it stopped: the same bytes.
    headers = {
        "Authorization": f"Bearer {address.token}",
        "X-Idsreg-Proof": issue_token(deciding.beta.key, deciding.beta.org_id, address.endpoint),
    }
    received = bytearray()
    with httpx.stream("GET", f"{address.endpoint}/files/readings.bin", headers=headers) as cut:
        for piece in cut.iter_bytes(64 * 1024):
            received += piece
            if len(received) >= 1_000_000:
                break
    assert 0 < len(received) < len(contents)
    rest = data_get(deciding, address, "readings.bin", range_=f"bytes={len(received)}-")
    assert rest.status_code == 206
    assert rest.headers["content-range"] == f"bytes {len(received)}-{len(contents) - 1}/{len(contents)}"
    received += rest.content
    assert bytes(received) == contents and bytes_root(received) == dataset.root
    middle = data_get(deciding, address, "readings.bin", range_="bytes=10-19")
    assert (middle.status_code, middle.content) == (206, contents[10:20])
    bad = data_get(deciding, address, "readings.bin", range_=f"bytes={len(contents)}-")
    refused(deciding, bad, 416, "outside the file")
    assert bad.headers["content-range"] == f"bytes */{len(contents)}"
    refused(deciding, data_get(deciding, address, "readings.bin", range_="bytes=0-1,5-9"), 416, "not one byte range")
    refused(deciding, data_get(deciding, address, "other.bin"), 404, "has no file")


def test_a_directory_in_hashing_order(deciding: Pair, tmp_path: Path) -> None:
    top = tmp_path / "plant"
    files = {
        "a.txt": b"alpha",
        "a/b.csv": file_contents(1_500_000, 3),
        "Z": b"",
        "\u00e9t\u00e9.csv": b"summer",
        ".config/settings.json": b"{}",
    }
    for name, data in files.items():
        (top / name).parent.mkdir(parents=True, exist_ok=True)
        (top / name).write_bytes(data)
    dataset = serve(deciding, top)
    _, address = start(deciding, dataset.root)
    manifest = data_get(deciding, address).json()
    expected = directory_manifest(top)
    assert manifest["root"] == hex32(expected.root()) and manifest["kind"] == "directory"
    assert [f["path"] for f in manifest["files"]] == [e.path for e in expected.entries]
    for entry in manifest["files"]:
        got = data_get(deciding, address, entry["path"])
        assert got.status_code == 200, got.text
        assert got.content == files[entry["path"]] and hex32(bytes_root(got.content)) == entry["root"]


def test_licence_revoked_between_two_range_requests(deciding: Pair, tmp_path: Path) -> None:
    dataset = a_file(deciding, tmp_path)
    transfer, address = start(deciding, dataset.root)
    first = data_get(deciding, address, "readings.bin", range_="bytes=0-1048575")
    assert first.status_code == 206
    Grants(deciding.scene.registry).revoke(key(deciding.scene.alpha), dataset.root, deciding.beta.org_id)
    second = data_get(deciding, address, "readings.bin", range_="bytes=1048576-")
    refused(deciding, second, 403, "(revoked)")
    ended = wait_consumer(deciding, transfer, S.TERMINATED)
    assert "(revoked)" in ended.reason
    assert provider_state(deciding, transfer) == S.TERMINATED
    refused(deciding, data_get(deciding, address), 403, "TERMINATED")


def test_expired_licence_stops_the_transfer_and_a_new_one(deciding: Pair, tmp_path: Path, w3: Web3) -> None:
    dataset = a_file(deciding, tmp_path)
    transfer, address = start(deciding, dataset.root)
    increase_time(w3, 31 * 24 * 3600)
    refused(deciding, data_get(deciding, address), 403, "(expired)")
    wait_consumer(deciding, transfer, S.TERMINATED)
    again = consumer(deciding).request(transfer.negotiation)  # the provider refuses to start it
    ended = wait_consumer(deciding, again, S.TERMINATED)
    assert "(expired)" in ended.reason


@pytest.mark.parametrize("who", ["suspended member", "removed key", "outsider"])
def test_who_may_no_longer_act_is_refused(deciding: Pair, tmp_path: Path, who: str) -> None:
    scene, beta = deciding.scene, deciding.beta
    dataset = a_file(deciding, tmp_path)
    _, address = start(deciding, dataset.root)
    if who == "suspended member":
        scene.govern(Action.SUSPEND_MEMBER, scene.beta)
        refused(deciding, data_get(deciding, address), 403, "not active")
    elif who == "removed key":
        scene.consortium.remove_connector(scene.beta.admin, key(scene.beta).address)
        refused(deciding, data_get(deciding, address), 403, "removed")
    else:
        stranger = new_account()
        refused(deciding, data_get(deciding, address, signer=stranger, org_id=beta.org_id), 403, "no member")


def test_wrong_tokens_are_401(deciding: Pair, tmp_path: Path) -> None:
    dataset = a_file(deciding, tmp_path)
    transfer, address = start(deciding, dataset.root)
    gamma = deciding.scene.gamma
    refused(deciding, data_get(deciding, address, token="abc.def"), 401, "not issued by this connector")
    forged = address.token[:-4] + ("0000" if not address.token.endswith("0000") else "1111")
    refused(deciding, data_get(deciding, address, token=forged), 401, "not issued by this connector")
    # The token used with another key (gamma's connector, with a valid proof of its own).
    refused(deciding, data_get(deciding, address, signer=key(gamma), org_id=gamma.org_id), 401, "bound to key")
    # A proof addressed elsewhere, or replayed.
    refused(deciding, data_get(deciding, address, proof=deciding.beta.token(deciding.alpha.url)), 401, "not for this")
    proof = issue_token(deciding.beta.key, deciding.beta.org_id, address.endpoint)
    assert data_get(deciding, address, proof=proof).status_code == 200
    refused(deciding, data_get(deciding, address, proof=proof), 401, "used already")
    # No token at all.
    response = httpx.get(f"{address.endpoint}/manifest")
    refused(deciding, response, 401, "no Authorization header")
    assert response.headers["www-authenticate"] == "Bearer"
    # The token of one transfer on another transfer's endpoint.
    other = DataAddress(address.endpoint.replace(transfer.provider_pid, "urn:uuid:1"), address.token)
    refused(deciding, data_get(deciding, other), 401, "is for transfer")


def test_an_expired_token_is_401(deciding: Pair, tmp_path: Path) -> None:
    provider(deciding).tokens.lifetime = -1
    dataset = a_file(deciding, tmp_path)
    _, address = start(deciding, dataset.root)
    refused(deciding, data_get(deciding, address), 401, "expired")


def test_a_restarted_transfer_replaces_its_token(manual: Pair, tmp_path: Path) -> None:
    dataset = a_file(manual, tmp_path)
    negotiation = finalized(manual, dataset.root)
    transfer = consumer(manual).request(negotiation.consumer_pid)
    provider(manual).start(transfer.provider_pid)
    old = wait_consumer(manual, transfer, S.STARTED).address()
    assert old is not None
    provider(manual).suspend(transfer.provider_pid, "pause")
    wait_consumer(manual, transfer, S.SUSPENDED)
    refused(manual, data_get(manual, old), 403, "SUSPENDED")
    provider(manual).start(transfer.provider_pid)
    new = wait_consumer(manual, transfer, S.STARTED).address()
    assert new is not None
    refused(manual, data_get(manual, old), 401, "replaced")
    assert data_get(manual, new).status_code == 200


def test_a_file_changed_on_disk_is_not_served(deciding: Pair, tmp_path: Path) -> None:
    dataset = a_file(deciding, tmp_path)
    _, address = start(deciding, dataset.root)
    with dataset.path.open("r+b") as f:
        f.write(b"X")
    os.utime(dataset.path, ns=(1, 1))
    refused(deciding, data_get(deciding, address, "readings.bin"), 409, "changed on disk")


def test_data_sources_are_checked_against_the_chain(deciding: Pair, tmp_path: Path) -> None:
    dataset = a_file(deciding, tmp_path)
    registry = deciding.scene.registry
    loaded = DataSources.load([str(dataset.path), f"{hex32(dataset.root)}={dataset.path}"], registry)
    assert loaded.get(dataset.root) is not None
    other = tmp_path / "unregistered.bin"
    other.write_bytes(b"nobody registered me")
    with pytest.raises(ConfigError, match="which is not registered"):
        DataSources.load([str(other)], registry)
    with pytest.raises(ConfigError, match=f"not to the named root {hex32(dataset.root)}"):
        DataSources.load([f"{hex32(dataset.root)}={other}"], registry)
    with pytest.raises(ConfigError, match="does not exist"):
        DataSources.load([str(tmp_path / "missing")], registry)


def test_a_transfer_of_data_the_connector_does_not_hold_is_refused(deciding: Pair, tmp_path: Path) -> None:
    dataset = a_file(deciding, tmp_path)
    negotiation = finalized(deciding, dataset.root)
    provider(deciding).sources = DataSources()
    with pytest.raises(PeerError, match="holds no bytes of dataset"):
        consumer(deciding).request(negotiation.consumer_pid)
    rows = consumer(deciding).store.in_state(Role.CONSUMER, S.TERMINATED)
    assert len(rows) == 1 and "holds no bytes" in rows[0].reason


def test_a_member_suspended_before_the_start_is_not_started(manual: Pair, tmp_path: Path) -> None:
    """The on-chain check before STARTED: beta is suspended between its request and the start."""
    dataset = a_file(manual, tmp_path)
    negotiation = finalized(manual, dataset.root)
    transfer = consumer(manual).request(negotiation.consumer_pid)
    manual.scene.govern(Action.SUSPEND_MEMBER, manual.scene.beta)
    ended = provider(manual).start(transfer.provider_pid)
    assert ended.state == S.TERMINATED and "(org-suspended)" in ended.reason
    assert "(org-suspended)" in wait_consumer(manual, transfer, S.TERMINATED).reason
