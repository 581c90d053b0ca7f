"""`idsreg hash | register | anchor | verify | dataset | right` as members use them."""

from __future__ import annotations

import json
from operator import attrgetter
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from client.anchors import Anchors
from client.chain.registry import Registry
from client.datasets import Datasets, Registration, new_salt, registration_commitment
from client.hashing import content_root
from client.keys import Keystore
from client.proofs import ProofFile
from tests.cli.conftest import TEST_PASSWORD, User, assert_one_clear_line


@pytest.fixture
def members(user: User) -> User:
    """gov deploys; ACME (admin acme, connector conn) and BETA (admin beta) are members."""
    for label in ("gov", "acme", "conn", "beta"):
        user.add_key(label)
    user.ok("deploy", "--key", "gov")
    for org, name, admin in (("DEMO:ACME", "ACME Steel", "acme"), ("DEMO:BETA", "Beta Motors", "beta")):
        user.ok(
            "member",
            "propose",
            "admit",
            org,
            "--name",
            name,
            "--admin",
            admin,
            "--evidence",
            "0x" + "ab" * 32,
            "--key",
            "gov",
        )
    user.ok("member", "key", "add", "conn", "--key", "acme")
    return user


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def root_of(path: Path) -> str:
    return "0x" + content_root(path).hex()


def test_hash_register_verify(members: User, tmp_path: Path) -> None:
    data = write(tmp_path / "data" / "press.csv", "t,temp\n1,61.5\n")
    meta = write(tmp_path / "press.meta.json", '{"title": "press 4 temperatures"}')
    root = root_of(data)
    assert members.ok_json("hash", str(data)) == [{"path": str(data), "root": root}]

    registered = members.ok_json(
        "register",
        str(data),
        "--meta",
        str(meta),
        "--meta-uri",
        "https://acme.example/meta/press.json",
        "--key",
        "conn",
    )
    assert registered["root"] == root
    salt = bytes.fromhex(registered["metadataSalt"][2:])
    assert registered["metadataHash"] == "0x" + keccak(salt + meta.read_bytes()).hex()
    kept = json.loads(Path(registered["record"]).read_text())
    assert kept["metadataSalt"] == registered["metadataSalt"]

    verdict = members.ok_json("verify", str(data))
    assert verdict["verified"] is True and verdict["contentRoot"] == root
    registration = verdict["registration"]
    assert registration["registrant"]["name"] == "ACME Steel" and registration["registrant"]["orgNo"] == 1
    assert {k: h["name"] for k, h in registration["holders"].items()} == dict.fromkeys(
        ("holding", "processing", "operation"), "ACME Steel"
    )
    assert registration["metadataUri"] == "https://acme.example/meta/press.json"
    assert registration["transaction"] == registered["transaction"]

    shown = members.ok_json("dataset", "show", root)
    assert shown["root"] == root and shown["grade"] == "general"
    human = members.ok("verify", str(data)).stdout
    assert "verified" in human and "ACME Steel (member 1)" in human

    again = members.run("register", str(data), "--key", "acme")
    assert_one_clear_line(again, 5, f"dataset {root} is already registered by ACME Steel (member 1)")


def test_verify_refusals(members: User, tmp_path: Path) -> None:
    data = write(tmp_path / "a.csv", "a\n")
    missing = members.run("verify", str(tmp_path / "nope.csv"))
    assert_one_clear_line(missing, 2, "nope.csv")
    unregistered = members.run("verify", str(data))
    assert_one_clear_line(unregistered, 6, str(data), root_of(data), "is not registered")
    members.ok("register", str(data), "--key", "conn")
    data.write_text("a tampered\n")
    tampered = members.run("verify", str(data))
    assert_one_clear_line(tampered, 6, "is not registered")


def test_commit_reveal_lineage_and_grades(members: User, tmp_path: Path) -> None:
    raw = write(tmp_path / "raw.csv", "raw\n")
    derived = write(tmp_path / "derived.csv", "derived\n")
    members.ok("register", str(raw), "--key", "conn")
    revealed = members.ok_json(
        "register", str(derived), "--commit", "--grade", "important", "--parent", root_of(raw), "--key", "conn"
    )
    assert [e["name"] for e in revealed["events"]] == ["DatasetRegistered"]
    shown = members.ok_json("dataset", "show", root_of(derived))
    assert shown["parents"] == [root_of(raw)] and shown["grade"] == "important"

    orphan = write(tmp_path / "orphan.csv", "orphan\n")
    unknown_parent = "0x" + "77" * 32
    refused = members.run("register", str(orphan), "--parent", unknown_parent, "--key", "conn")
    assert_one_clear_line(refused, 6, f"parent dataset {unknown_parent}", "is not registered")
    assert_one_clear_line(
        members.run("register", str(orphan), "--parent", "0x12", "--key", "conn"), 2, "'0x12'", "not a dataset id"
    )
    assert_one_clear_line(members.run("register", str(orphan), "--grade", "secret", "--key", "conn"), 2, "'secret'")
    outsider = members.run("register", str(orphan), "--key", "gov")
    assert_one_clear_line(outsider, 5, "does not belong to any member organisation")


def test_batch_registration(members: User, tmp_path: Path) -> None:
    files = [write(tmp_path / "bulk" / f"part-{i:03}.csv", f"part {i}\n") for i in range(150)]
    listing = write(tmp_path / "bulk.txt", "# parts\n" + "\n".join(f"bulk/{f.name}" for f in files) + "\n")
    result = members.ok_json(
        "register", "--batch", str(listing), "--manifest-uri", "https://acme.example/bulk.json", "--key", "conn"
    )
    assert len(result["transactions"]) == 2
    assert [d["root"] for d in result["datasets"]] == [root_of(f) for f in files]
    assert members.ok_json("verify", str(files[149]))["registration"]["registrant"]["name"] == "ACME Steel"

    twins = write(tmp_path / "twins.txt", f"{files[0]}\n{tmp_path / 'copy.csv'}\n")
    write(tmp_path / "copy.csv", "part 0\n")
    refused = members.run("register", "--batch", str(twins), "--key", "conn")
    assert_one_clear_line(refused, 2, "have the same content")


#: The proofs checked on chain as well: both ends, a middle leaf, and both sides of the largest
#: power-of-two split of a 1,000-leaf tree (RFC 6962 splits at 512), where the paths differ most.
ON_CHAIN_SAMPLE = (0, 1, 417, 511, 512, 998, 999)


def test_anchor_1000_files_and_verify_every_proof(members: User, tmp_path: Path, anvil: str) -> None:
    files = [write(tmp_path / "sensor" / f"reading-{i:04}.json", f'{{"n": {i}}}\n') for i in range(1000)]
    out = tmp_path / "proofs"
    anchored = members.ok_json(
        "anchor", *map(str, files), "--out", str(out), "--note", "november readings", "--key", "conn"
    )
    assert anchored["count"] == 1000 and len(anchored["proofs"]) == 1000
    assert anchored["gasUsed"] < 100_000  # one transaction for all

    # Every proof's path leads to its root offline, and every proof names the same anchor (root,
    # chain, contract, transaction, block, time, organisation); the chain then confirms that
    # anchor and accepts the inclusion proofs of a sample (each costs a few calls, ~60 ms).
    proofs = [ProofFile.read(Path(proof_path)) for proof_path in anchored["proofs"]]
    anchor_of = attrgetter(
        "root", "chain_id", "contract", "transaction", "block_number", "block_hash", "anchored_at", "anchored_by"
    )
    for index, (file, proof) in enumerate(zip(files, proofs, strict=True)):
        assert proof.leaf == root_of(file) and proof.leaf_index == index and proof.tree_size == 1000
        proof.verify_offline()
        assert anchor_of(proof) == anchor_of(proofs[0]), f"proof {index} names another anchor"
    registry = Registry.connect(anvil, members.deployments)
    anchors = Anchors(registry)
    for index in ON_CHAIN_SAMPLE:
        evidence = anchors.verify_on_chain(proofs[index])
        assert str(evidence.org) == "ACME Steel (member 1)" and evidence.transaction == anchored["transaction"]

    sample = Path(anchored["proofs"][417])
    verdict = members.ok_json("verify", str(files[417]), "--proof", str(sample))
    assert verdict["anchor"]["org"]["name"] == "ACME Steel"

    wrong_file = members.run("verify", str(files[418]), "--proof", str(sample))
    assert_one_clear_line(wrong_file, 4, "the proof is for content root", root_of(files[418]))

    tampered = tmp_path / "tampered.proof.json"
    raw: Any = json.loads(sample.read_text())
    raw["path"][3] = "0x" + ("00" if raw["path"][3][2:4] != "00" else "11") + raw["path"][3][4:]
    tampered.write_text(json.dumps(raw))
    refused = members.run("verify", str(files[417]), "--proof", str(tampered))
    assert_one_clear_line(refused, 4, "inclusion proof does not verify", "leaf 417 of a tree of 1000")

    garbage = write(tmp_path / "garbage.proof.json", "{not json")
    assert_one_clear_line(members.run("verify", str(files[0]), "--proof", str(garbage)), 2, "not JSON")


def test_rights_between_two_organisations(members: User, tmp_path: Path) -> None:
    data = write(tmp_path / "licensed.csv", "licensed\n")
    members.ok("register", str(data), "--key", "conn")
    root = root_of(data)
    offered = members.ok_json("right", "offer", root, "operation", "DEMO:BETA", "--key", "conn")
    assert offered["events"][0]["name"] == "RightOffered"
    assert members.ok_json("dataset", "show", root)["offers"]["operation"]["name"] == "Beta Motors"
    not_yours = members.run("right", "accept", root, "operation", "--key", "conn")
    assert_one_clear_line(not_yours, 5, "was offered to Beta Motors (member 2), not to ACME Steel (member 1)")
    members.ok("right", "accept", root, "operation", "--key", "beta")
    holders = members.ok_json("dataset", "show", root)["holders"]
    assert {k: h["name"] for k, h in holders.items()} == {
        "holding": "ACME Steel",
        "processing": "ACME Steel",
        "operation": "Beta Motors",
    }

    members.ok("right", "offer", root, "holding", "DEMO:BETA", "--key", "acme")
    members.ok("right", "reject", root, "holding", "--key", "beta")
    members.ok("right", "offer", root, "processing", "DEMO:BETA", "--key", "acme")
    members.ok("right", "cancel", root, "processing", "--key", "acme")
    assert members.ok_json("dataset", "show", root)["offers"] == {}
    no_offer = members.run("right", "accept", root, "processing", "--key", "beta")
    assert_one_clear_line(no_offer, 5, "there is no open offer of the processing right")
    not_holder = members.run("right", "offer", root, "operation", "DEMO:BETA", "--key", "conn")
    assert_one_clear_line(not_holder, 5, "ACME Steel (member 1) does not hold the operation right")
    assert_one_clear_line(
        members.run("right", "offer", root, "ownership", "DEMO:BETA", "--key", "conn"), 2, "'ownership'"
    )


def test_anchoring_again_keeps_every_earlier_proof(members: User, tmp_path: Path, anvil: str) -> None:
    """A file anchored again (alone, in another batch, or changed) into the same folder never
    replaces its earlier proof; the member's anchor index finds every proof again."""
    data = write(tmp_path / "a.csv", "version 1\n")
    other = write(tmp_path / "b.csv", "b\n")
    out = tmp_path / "proofs"
    first = members.ok_json("anchor", str(data), "--out", str(out), "--key", "conn")
    kept = {Path(p): Path(p).read_text() for p in first["proofs"]}
    second = members.ok_json("anchor", str(data), str(other), "--out", str(out), "--key", "conn")
    v1 = root_of(data)
    data.write_text("version 2\n")
    third = members.ok_json("anchor", str(data), "--out", str(out), "--key", "conn")
    assert {p: p.read_text() for p in kept} == kept
    made = [p for result in (first, second, third) for p in result["proofs"]]
    assert len(set(made)) == 4
    anchors = Anchors(Registry.connect(anvil, members.deployments))
    for proof_path in made:
        assert str(anchors.verify_on_chain(ProofFile.read(Path(proof_path))).org) == "ACME Steel (member 1)"

    listed = members.ok_json("anchor", "list")
    assert [a["root"] for a in listed] == [first["root"], second["root"], third["root"]]
    assert [a["transaction"] for a in listed] == [first["transaction"], second["transaction"], third["transaction"]]
    assert sorted(p["file"] for a in listed for p in a["proofs"]) == sorted(made)
    assert all(p["exists"] for a in listed for p in a["proofs"])
    by_leaf = members.ok_json("anchor", "list", v1)
    assert [a["root"] for a in by_leaf] == [first["root"], second["root"]]
    assert [[p["file"] for p in a["proofs"]] for a in by_leaf] == [first["proofs"], [second["proofs"][0]]]
    by_path = members.ok_json("anchor", "list", str(data))
    assert [(a["root"], [p["file"] for p in a["proofs"]]) for a in by_path] == [(third["root"], third["proofs"])]
    by_root = members.ok_json("anchor", "list", second["root"])
    assert [len(a["proofs"]) for a in by_root] == [2]
    human = members.ok("anchor", "list", str(data)).stdout
    assert third["root"] in human and third["proofs"][0] in human
    nothing = members.run("anchor", "list", "0x" + "ee" * 32)
    assert nothing.code == 6 and "no anchor" in nothing.stderr


def test_anchor_refuses_to_replace_a_proof_file(members: User, tmp_path: Path) -> None:
    """A file already at a proof's name is never replaced: refused before anything is sent."""
    from client.merkle import leaf_hash, root_from_leaf_hashes

    data = write(tmp_path / "a.csv", "a\n")
    out = tmp_path / "proofs"
    batch_root = "0x" + root_from_leaf_hashes([leaf_hash(content_root(data))]).hex()
    squatter = write(out / batch_root[2:] / "a.csv.proof.json", "an earlier proof\n")
    refused = members.run("anchor", str(data), "--out", str(out), "--key", "conn")
    assert_one_clear_line(refused, 2, str(squatter), "already exists")
    assert squatter.read_text() == "an earlier proof\n"
    assert members.ok_json("anchor", "list") == []
    # nothing went on chain: the same root anchors into another folder (a second anchor would revert)
    anchored = members.ok_json("anchor", str(data), "--out", str(tmp_path / "elsewhere"), "--key", "conn")
    assert anchored["root"] == batch_root


def test_metadata_salt_records_are_never_replaced(members: User, tmp_path: Path) -> None:
    """The same file registered with metadata on a new deployment keeps the earlier salt record."""
    data = write(tmp_path / "press.csv", "t,temp\n1,61.5\n")
    meta = write(tmp_path / "press.meta.json", '{"title": "press 4"}')
    first = members.ok_json("register", str(data), "--meta", str(meta), "--key", "conn")
    kept = Path(first["record"]).read_text()
    members.ok("deploy", "--key", "gov", "--force")
    members.ok(
        "member",
        "propose",
        "admit",
        "DEMO:ACME",
        "--name",
        "ACME Steel",
        "--admin",
        "acme",
        "--evidence",
        "0x" + "ab" * 32,
        "--key",
        "gov",
    )
    second = members.ok_json("register", str(data), "--meta", str(meta), "--key", "acme")
    assert second["record"] != first["record"]
    assert Path(first["record"]).read_text() == kept
    assert json.loads(kept)["metadataSalt"] == first["metadataSalt"] != second["metadataSalt"]
    assert json.loads(Path(second["record"]).read_text())["transaction"] == second["transaction"]


def test_anchor_list_reports_a_damaged_index(user: User) -> None:
    index = user.home / "anchors.jsonl"
    assert user.ok_json("anchor", "list") == [] and not index.exists()
    index.write_text('{"format": "idsreg-anchor-index/1", "root": "0x12')  # cut short by a crash
    damaged = user.run("anchor", "list", "--json")
    assert damaged.code == 2 and damaged.json() == []
    assert f"line 1 of anchor index {index} is unreadable" in damaged.stderr
    asked = user.run("anchor", "list", "0x" + "12" * 32)
    assert asked.code == 2 and "no anchor recorded" in asked.stderr


def test_commit_salt_is_kept_before_the_commitment_is_sent(members: User, tmp_path: Path, anvil: str) -> None:
    """A reveal that fails after its commitment went on chain leaves the salt on disk, so the
    commitment (and its priority) can still be revealed."""
    from client.datasets import Datasets, Registration, registration_commitment
    from client.keys import Keystore
    from tests.cli.conftest import TEST_PASSWORD

    parent = write(tmp_path / "raw.csv", "raw\n")
    data = write(tmp_path / "derived.csv", "derived\n")
    failed = members.run("register", str(data), "--commit", "--parent", root_of(parent), "--key", "conn")
    assert failed.code == 6 and "is not registered" in failed.stderr
    [kept] = (members.home / "registrations").glob(f"{root_of(data)[2:]}-commit-*.json")
    record = json.loads(kept.read_text())
    salt = bytes.fromhex(record["revealSalt"][2:])
    org = record["org"]
    assert record["commitment"] == "0x" + registration_commitment(bytes.fromhex(root_of(data)[2:]), org, salt).hex()
    assert f"salt of the commitment is kept in {kept}" in failed.stderr

    members.ok("register", str(parent), "--key", "conn")
    registry = Registry.connect(anvil, members.deployments)
    store = Keystore(members.home / "keystore")
    account = store.unlock(store.find("conn"), TEST_PASSWORD)
    request = Registration(bytes.fromhex(root_of(data)[2:]), parents=(bytes.fromhex(root_of(parent)[2:]),))
    revealed = Datasets(registry).reveal(account, request, salt)
    assert [e.name for e in revealed.events] == ["DatasetRegistered"]


def test_dataset_show_reports_the_registration_that_superseded(
    parties: tuple[User, User, User], tmp_path: Path
) -> None:
    """After an earlier commitment's reveal replaces a registration, `dataset show`, `verify` and
    the children of a parent describe the reveal, not the registration it replaced."""
    _gov, acme, beta = parties
    parent = tmp_path / "parent.csv"
    parent.write_text("a parent\n")
    acme.ok("register", str(parent), "--key", "acme")
    data = tmp_path / "design.step"
    data.write_text("beta's design\n")
    root = content_root(data)
    registry = Registry.connect(beta.rpc_url, beta.deployments)
    keystore = Keystore(beta.home / "keystore")
    beta_key = keystore.unlock(keystore.find("beta"), TEST_PASSWORD)
    salt = new_salt()
    datasets = Datasets(registry)
    datasets.commit(beta_key, registration_commitment(root, "DEMO:BETA", salt))  # beta commits first
    acme.ok("register", str(data), "--key", "acme", "--parent", "0x" + content_root(parent).hex())
    revealed = datasets.reveal(beta_key, Registration(root), salt)  # beta's earlier commitment wins
    shown = acme.ok_json("dataset", "show", "0x" + root.hex())
    assert shown["registrant"]["name"] == "Beta Motors"
    assert shown["transaction"] == revealed.tx_hash and shown["parents"] == []
    assert acme.ok_json("dataset", "show", "0x" + content_root(parent).hex())["children"] == []
