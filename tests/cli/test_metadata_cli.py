"""`idsreg metadata reveal | verify`: the registrant reveals, anyone checks against the chain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli.conftest import User, assert_one_clear_line
from tests.cli.test_dataset_cli import members, root_of, write  # noqa: F401  (members: a fixture)


def test_reveal_and_verify_metadata(members: User, tmp_path: Path, user_factory: Any) -> None:  # noqa: F811
    data = write(tmp_path / "press.csv", "t,temp\n1,61.5\n")
    meta = write(tmp_path / "press.meta.json", '{"title": "press 4 temperatures", "unit": "°C"}\n')
    root = root_of(data)
    registered = members.ok_json(
        "register", str(data), "--meta", str(meta), "--meta-uri", "https://acme.example/m.json", "--key", "conn"
    )
    salt = registered["metadataSalt"]

    # The registrant reveals: printed, or written to a file that is never replaced.
    printed = json.loads(members.ok("metadata", "reveal", root).stdout)
    assert printed["format"] == "idsreg-metadata-reveal/1" and printed["salt"] == salt
    assert printed["document"] == meta.read_text() and printed["metadataUri"] == "https://acme.example/m.json"
    out = tmp_path / "press.reveal.json"
    written = members.ok_json("metadata", "reveal", root, "--out", str(out))
    assert written["out"] == str(out) and json.loads(out.read_text()) == printed
    again = members.run("metadata", "reveal", root, "--out", str(out))
    assert_one_clear_line(again, 2, str(out), "already exists")

    # The customer, with its own home (no salt records), checks what it was given.
    customer = user_factory("customer")
    verdict = customer.ok_json("metadata", "verify", root, "--revealed", str(out))
    assert verdict["verified"] is True and verdict["metadataHash"] == registered["metadataHash"]
    assert verdict["metadataUri"] == "https://acme.example/m.json"
    assert "metadata verified" in customer.ok("metadata", "verify", root, "--revealed", str(out)).stdout
    customer.ok("metadata", "verify", root, "--document", str(meta), "--salt", salt)

    # Which part does not match.
    other_doc = write(tmp_path / "other.meta.json", '{"title": "press 5"}\n')
    wrong_doc = customer.run("metadata", "verify", root, "--revealed", str(out), "--document", str(other_doc))
    assert_one_clear_line(wrong_doc, 4, "the document differs from the one revealed")
    wrong_salt = customer.run("metadata", "verify", root, "--revealed", str(out), "--salt", "0x" + "12" * 32)
    assert_one_clear_line(wrong_salt, 4, "the document is the one revealed", "so the salt is wrong")
    neither = customer.run("metadata", "verify", root, "--document", str(other_doc), "--salt", salt)
    assert_one_clear_line(neither, 4, "does not open the on-chain commitment", "the document or the salt differs")
    # The registrant, who has the salt record, is told precisely.
    precise = members.run("metadata", "verify", root, "--document", str(other_doc), "--salt", salt)
    assert_one_clear_line(precise, 4, "the salt is the one recorded at registration, so the document differs")
    precise = members.run("metadata", "verify", root, "--document", str(meta), "--salt", "0x" + "12" * 32)
    assert_one_clear_line(precise, 4, "the document is the registered one, but the salt is wrong")

    edited = json.loads(out.read_text())
    edited["document"] = edited["document"].replace("press 4", "press 9")
    tampered = write(tmp_path / "tampered.reveal.json", json.dumps(edited))
    assert_one_clear_line(
        customer.run("metadata", "verify", root, "--revealed", str(tampered)), 4, "was changed after it was revealed"
    )
    other = write(tmp_path / "other.csv", "other\n")
    members.ok("register", str(other), "--key", "beta")
    elsewhere = customer.run("metadata", "verify", root_of(other), "--revealed", str(out))
    assert_one_clear_line(elsewhere, 4, f"the reveal is for dataset {root}")
    without = customer.run("metadata", "verify", root_of(other), "--document", str(meta), "--salt", salt)
    assert_one_clear_line(without, 4, "was registered without metadata")

    # Refusals: bad input 2, unknown dataset 6, no metadata, no salt record.
    assert_one_clear_line(customer.run("metadata", "verify", root, "--salt", salt), 2, "--revealed FILE")
    assert_one_clear_line(
        customer.run("metadata", "verify", root, "--document", str(meta), "--salt", "0x12"), 2, "'0x12'"
    )
    unknown = "0x" + "77" * 32
    assert_one_clear_line(customer.run("metadata", "verify", unknown, "--revealed", str(out)), 6, unknown)
    assert_one_clear_line(
        members.run("metadata", "reveal", root_of(other)), 2, "registered without metadata: there is nothing to reveal"
    )
    assert_one_clear_line(customer.run("metadata", "reveal", root), 2, "no salt record")
    meta.write_text('{"title": "edited after registration"}\n')
    assert_one_clear_line(members.run("metadata", "reveal", root), 4, str(meta), "is not the metadata document")
