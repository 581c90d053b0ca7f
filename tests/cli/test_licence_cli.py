"""Grants and receipts between two organisations, each with its own keystore, as two users run them."""

from __future__ import annotations

import json
from pathlib import Path

from client.chain.registry import Registry
from client.datasets import Datasets, Registration, new_salt, registration_commitment
from client.hashing import content_root
from client.keys import Keystore
from tests.cli.conftest import TEST_PASSWORD, User, assert_one_clear_line


def test_licence_receipt_and_verification(parties: tuple[User, User, User], tmp_path: Path) -> None:
    gov, acme, beta = parties
    data = tmp_path / "shared" / "press.csv"
    data.parent.mkdir()
    data.write_text("t,temp\n1,61.5\n2,62.0\n")
    root = "0x" + content_root(data).hex()
    acme.ok("register", str(data), "--key", "acme")

    terms_file = tmp_path / "shared" / "press.licence.json"
    issued = acme.ok_json(
        "grant", "issue", root, "DEMO:BETA", "--permissions", "read", "--purpose", "QA", "--price", "5000",
        "--terms-out", str(terms_file), "--key", "acme",
    )  # fmt: skip
    assert (issued["serial"], issued["status"]) == (1, "active")
    assert terms_file.stat().st_mode & 0o077 == 0  # the opening is private
    licence = json.loads(terms_file.read_text())
    assert licence["terms"] == {"format": "idsreg-terms/1", "kind": "licence", "purpose": "QA", "price": "5000"}
    assert licence["termsCommitment"] == issued["termsCommitment"]
    checked = beta.ok_json("grant", "verify-terms", str(terms_file))
    assert checked["verified"] is True and checked["grant"]["serial"] == 1
    claimed = tmp_path / "claimed.json"
    claimed.write_text(json.dumps(dict(licence["terms"], price="4000")))
    assert_one_clear_line(
        beta.run("grant", "verify-terms", str(terms_file), "--terms", str(claimed)),
        4,
        "terms field price differs: '5000' in the opening, '4000' claimed",
    )
    wrong_salt = tmp_path / "wrong-salt.json"
    wrong_salt.write_text(json.dumps(dict(licence, salt="0x" + "11" * 32)))
    assert_one_clear_line(beta.run("grant", "verify-terms", str(wrong_salt)), 4, "do not open commitment")
    again = acme.run("grant", "issue", root, "DEMO:BETA", "--terms-out", str(terms_file), "--key", "acme")
    assert_one_clear_line(again, 2, str(terms_file), "already exists")
    assert json.loads(terms_file.read_text()) == licence
    assert beta.run("grant", "check", root, "DEMO:BETA", "read").code == 0
    assert_no_derive = beta.run("grant", "check", root, "DEMO:BETA", "derive", "--json")
    assert assert_no_derive.code == 4 and assert_no_derive.json()["authorized"] is False
    shown = beta.ok_json("grant", "show", root, "DEMO:BETA")
    assert shown["grantor"]["name"] == "ACME Steel" and shown["permissions"] == ["read"]

    receipt = tmp_path / "shared" / "delivery.receipt.json"
    acme.ok(
        "receipt",
        "draft",
        "--dataset",
        root,
        "--provider",
        "DEMO:ACME",
        "--consumer",
        "DEMO:BETA",
        "--delivered",
        str(data),
        "--price",
        "1200",
        "--out",
        str(receipt),
    )
    signed = acme.ok_json("receipt", "sign", str(receipt), "--key", "acme")
    assert signed["party"] == "provider" and signed["missing"] == ["consumer"]
    early = beta.run("receipt", "submit", str(receipt), "--key", "beta")
    assert_one_clear_line(early, 4, "no consumer signature yet")
    assert beta.ok_json("receipt", "sign", str(receipt), "--key", "beta")["missing"] == []
    assert beta.ok_json("receipt", "verify", str(receipt), "--offline")["verified"] is True
    submitted = beta.ok_json("receipt", "submit", str(receipt), "--key", "beta")
    assert [e["name"] for e in submitted["events"]] == ["ReceiptRecorded"]
    record = acme.ok_json("receipt", "verify", str(receipt))["record"]
    assert (record["provider"]["name"], record["consumer"]["name"]) == ("ACME Steel", "Beta Motors")

    twice = acme.run("receipt", "submit", str(receipt), "--key", "acme")
    assert_one_clear_line(twice, 5, "is already recorded")
    tampered = tmp_path / "tampered.json"
    raw = json.loads(receipt.read_text())
    assert raw["terms"] == {"format": "idsreg-terms/1", "kind": "receipt", "size": "21", "price": "1200"}
    raw["terms"]["price"] = "12"
    tampered.write_text(json.dumps(raw))
    assert_one_clear_line(acme.run("receipt", "verify", str(tampered)), 4, "do not open commitment")
    agreed = tmp_path / "agreed.json"
    agreed.write_text(json.dumps(dict(raw["terms"], price="1200")))
    named = acme.run("receipt", "verify", str(tampered), "--terms", str(agreed))
    assert_one_clear_line(named, 4, "terms field price differs: '12' in the opening, '1200' claimed")
    assert acme.ok_json("receipt", "verify", str(receipt), "--terms", str(agreed))["verified"] is True
    raw = json.loads(receipt.read_text())
    raw["receipt"]["termsCommitment"] = "0x" + "22" * 32
    tampered.write_text(json.dumps(raw))
    assert_one_clear_line(acme.run("receipt", "verify", str(tampered)), 4, "do not open commitment")
    raw = json.loads(receipt.read_text())
    raw["receipt"]["deliveredAt"] -= 1  # a signed field other than the terms commitment
    tampered.write_text(json.dumps(raw))
    changed = "the receipt no longer matches what the provider signed: its fields were changed after signing"
    assert_one_clear_line(acme.run("receipt", "verify", str(tampered)), 4, changed, raw["digest"])
    assert_one_clear_line(acme.run("receipt", "verify", str(tampered), "--offline"), 4, changed)
    del raw["digest"]  # no stated digest to compare with: the chain says no member holds the recovered key
    tampered.write_text(json.dumps(raw))
    assert_one_clear_line(acme.run("receipt", "verify", str(tampered)), 4, changed, "or signed by a key of no member")
    other_key = json.loads(receipt.read_text())
    beta_key = other_key["signatures"]["consumer"]["key"]
    acme_key = other_key["signatures"]["provider"]["key"]
    other_key["signatures"]["provider"]["key"] = beta_key  # names a key that did not sign it
    tampered.write_text(json.dumps(other_key))
    assert_one_clear_line(
        acme.run("receipt", "verify", str(tampered)),
        4,
        f"the provider signature was made by key {acme_key} of ACME Steel (member 1), not by the named key {beta_key}",
    )
    outsider_sign = gov.run("receipt", "sign", str(receipt), "--key", "gov")
    assert_one_clear_line(outsider_sign, 2, "belongs to neither the provider nor the consumer")

    acme.ok("revoke", root, "DEMO:BETA", "--key", "acme")
    assert beta.run("grant", "check", root, "DEMO:BETA", "read").code == 4
    late = tmp_path / "late.receipt.json"
    drafted = acme.ok(
        "receipt",
        "draft",
        "--dataset",
        root,
        "--provider",
        "DEMO:ACME",
        "--consumer",
        "DEMO:BETA",
        "--delivered",
        str(data),
        "--out",
        str(late),
    )
    revoked = "the ledger would refuse this receipt now: the consumer's licence does not cover this delivery at "
    for result in (
        drafted,
        acme.ok("receipt", "sign", str(late), "--key", "acme"),
        beta.ok("receipt", "sign", str(late), "--key", "beta"),
    ):
        warning = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(warning) == 1 and warning[0].startswith("warning: " + revoked), result.stderr
        assert warning[0].endswith("its licence was revoked")
    refused = beta.run("receipt", "submit", str(late), "--key", "beta")
    assert_one_clear_line(refused, 5, "does not let Beta Motors (member 2) read dataset")


def test_important_data_needs_an_auditor(parties: tuple[User, User, User], tmp_path: Path) -> None:
    gov, acme, beta = parties
    data = tmp_path / "important.csv"
    data.write_text("recipe,secret\n")
    root = "0x" + content_root(data).hex()
    acme.ok("register", str(data), "--grade", "important", "--key", "acme")
    pending = acme.ok_json("grant", "issue", root, "DEMO:BETA", "--permissions", "read,derive", "--key", "acme")
    assert pending["status"] == "pending"
    kept = Path(pending["termsFile"])  # by default among the user's private files, not in the working folder
    assert kept.parent == acme.home / "terms" and kept.parent.stat().st_mode & 0o077 == 0
    assert json.loads(kept.read_text())["termsCommitment"] == pending["termsCommitment"]
    assert beta.run("grant", "check", root, "DEMO:BETA", "read").code == 4
    not_auditor = acme.run("grant", "approve", root, "DEMO:BETA", "--serial", "1", "--key", "acme")
    assert_one_clear_line(not_auditor, 5, "is not an auditor")
    replaced = acme.ok_json(
        "grant", "issue", root, "DEMO:BETA", "--permissions", "read,derive,reshare", "--key", "acme"
    )
    assert replaced["serial"] == 2
    stale = gov.run("grant", "approve", root, "DEMO:BETA", "--serial", "1", "--key", "auditor")
    assert_one_clear_line(stale, 5, "is now serial 2, not 1")
    unnamed = gov.run("grant", "approve", root, "DEMO:BETA", "--key", "auditor")
    assert unnamed.code == 2 and "Traceback" not in unnamed.stderr and "Missing option '--serial'" in unnamed.stderr
    gov.ok("grant", "approve", root, "DEMO:BETA", "--serial", "2", "--key", "auditor")
    assert beta.run("grant", "check", root, "DEMO:BETA", "read,derive").code == 0

    core = tmp_path / "core.csv"
    core.write_text("core\n")
    acme.ok("register", str(core), "--grade", "core", "--key", "acme")
    refused = acme.run("grant", "issue", "0x" + content_root(core).hex(), "DEMO:BETA", "--key", "acme")
    assert_one_clear_line(refused, 5, "is core data, which cannot be licensed out")
    assert_one_clear_line(
        acme.run("grant", "issue", root, "DEMO:BETA", "--permissions", "sell", "--key", "acme"), 2, "'sell'"
    )


def test_receipt_files_are_never_replaced(parties: tuple[User, User, User], tmp_path: Path) -> None:
    """`receipt draft` refuses an existing file; `receipt sign` adds a signature, never replaces one."""
    _gov, acme, beta = parties
    acme.add_key("acme-conn")
    acme.ok("member", "key", "add", "acme-conn", "--key", "acme")
    data = tmp_path / "press.csv"
    data.write_text("t,temp\n1,61.5\n")
    root = "0x" + content_root(data).hex()
    acme.ok("register", str(data), "--key", "acme")
    acme.ok("grant", "issue", root, "DEMO:BETA", "--key", "acme")
    receipt = tmp_path / "delivery.receipt.json"
    draft = (
        "receipt",
        "draft",
        "--dataset",
        root,
        "--provider",
        "DEMO:ACME",
        "--consumer",
        "DEMO:BETA",
        "--delivered",
        str(data),
        "--out",
        str(receipt),
    )
    acme.ok(*draft)
    acme.ok("receipt", "sign", str(receipt), "--key", "acme")
    signed = receipt.read_text()
    again = acme.run(*draft)
    assert_one_clear_line(again, 2, str(receipt), "already exists")
    assert receipt.read_text() == signed

    other_key = acme.run("receipt", "sign", str(receipt), "--key", "acme-conn")
    assert_one_clear_line(other_key, 2, str(receipt), "already has a provider signature")
    assert receipt.read_text() == signed
    assert acme.ok_json("receipt", "sign", str(receipt), "--key", "acme")["missing"] == ["consumer"]
    assert receipt.read_text() == signed  # the same key signs the same bytes: nothing changes
    beta.ok("receipt", "sign", str(receipt), "--key", "beta")
    both = json.loads(receipt.read_text())["signatures"]
    assert both["provider"] == json.loads(signed)["signatures"]["provider"] and "consumer" in both
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary left


def test_grant_check_says_why(parties: tuple[User, User, User], tmp_path: Path) -> None:
    """`grant check` names the reason a licence does not allow a use, read from the contracts."""
    gov, acme, beta = parties
    roots = {}
    for name, grade in (("general", "general"), ("important", "important"), ("core", "core")):
        data = tmp_path / f"{name}.csv"
        data.write_text(f"{name}\n")
        roots[name] = "0x" + content_root(data).hex()
        acme.ok("register", str(data), "--grade", grade, "--key", "acme")
    root = roots["general"]

    def reason(org: str, *args: str) -> str:
        result = beta.run("grant", "check", root, org, *args, "--json")
        return str(result.json()["reason"]) if result.code in (0, 4) else f"exit {result.code}: {result.stderr}"

    assert reason("DEMO:BETA", "read") == "no-licence"
    assert reason("DEMO:NOBODY", "read") == "not-a-member"
    acme.ok("grant", "issue", root, "DEMO:BETA", "--from", "2099-01-01", "--until", "2099-06-30", "--key", "acme")
    early = beta.run("grant", "check", root, "DEMO:BETA", "read")
    assert early.code == 4 and "its licence is not yet valid (from 2099-01-01T00:00:00Z)" in early.stdout
    drafted = acme.ok(
        "receipt",
        "draft",
        "--dataset",
        root,
        "--provider",
        "DEMO:ACME",
        "--consumer",
        "DEMO:BETA",
        "--delivered-root",
        root,
        "--size",
        "8",
        "--out",
        str(tmp_path / "early.receipt.json"),
    )
    assert "warning: the ledger would refuse this receipt now" in drafted.stderr
    assert "its licence is not yet valid (from 2099-01-01T00:00:00Z)" in drafted.stderr
    # A bare --until date covers the whole day: the licence still holds in its evening.
    assert reason("DEMO:BETA", "read", "--at", "2099-06-30T18:00:00") == "authorized"
    shown = beta.ok_json("grant", "show", root, "DEMO:BETA")
    assert (shown["validFrom"], shown["validUntil"]) == (4070908800, 4086547199)
    late = beta.run("grant", "check", root, "DEMO:BETA", "read", "--at", "2099-07-01")
    assert late.code == 4 and "its licence has expired (ended 2099-06-30T23:59:59Z)" in late.stdout
    checked = beta.run("grant", "check", root, "DEMO:BETA", "derive", "--at", "2099-03-01", "--json").json()
    assert (checked["authorized"], checked["reason"], checked["grant"]["serial"]) == (
        False,
        "permission-not-granted",
        1,
    )

    acme.ok("revoke", root, "DEMO:BETA", "--key", "acme")
    assert reason("DEMO:BETA", "read", "--at", "2099-03-01") == "revoked"
    acme.ok("grant", "issue", roots["important"], "DEMO:BETA", "--key", "acme")
    pending = beta.run("grant", "check", roots["important"], "DEMO:BETA", "read")
    assert pending.code == 4 and "waits for an auditor's approval" in pending.stdout
    core = beta.run("grant", "check", roots["core"], "DEMO:BETA", "read", "--json").json()
    assert core["reason"] == "core-data"

    acme.ok("grant", "issue", root, "DEMO:BETA", "--key", "acme")
    assert reason("DEMO:BETA", "read") == "authorized"
    gov.ok("member", "propose", "suspend", "DEMO:BETA", "--key", "gov")
    assert reason("DEMO:BETA", "read") == "org-suspended"


def test_times_in_errors_are_iso(parties: tuple[User, User, User], tmp_path: Path) -> None:
    """A contract's refusal shows its times as ISO 8601 UTC, not Unix seconds."""
    _gov, acme, _beta = parties
    data = tmp_path / "press.csv"
    data.write_text("t\n")
    root = "0x" + content_root(data).hex()
    acme.ok("register", str(data), "--key", "acme")
    empty = acme.run(
        "grant", "issue", root, "DEMO:BETA", "--from", "2099-02-01", "--until", "2099-01-01", "--key", "acme"
    )
    assert_one_clear_line(empty, 5, "the validity window 2099-02-01T00:00:00Z to 2099-01-01T23:59:59Z is empty")


def test_grant_check_names_a_superseded_registration(parties: tuple[User, User, User], tmp_path: Path) -> None:
    """A licence issued under a registration that an earlier commitment's reveal replaced."""
    _gov, acme, beta = parties
    data = tmp_path / "design.step"
    data.write_text("beta's design\n")
    root = content_root(data)
    registry = Registry.connect(beta.rpc_url, beta.deployments)
    beta_key = Keystore(beta.home / "keystore").unlock(Keystore(beta.home / "keystore").find("beta"), TEST_PASSWORD)
    salt = new_salt()
    registry_datasets = Datasets(registry)
    registry_datasets.commit(beta_key, registration_commitment(root, "DEMO:BETA", salt))  # beta commits first
    acme.ok("register", str(data), "--key", "acme")
    acme.ok("grant", "issue", "0x" + root.hex(), "DEMO:BETA", "--key", "acme")
    assert beta.ok_json("grant", "check", "0x" + root.hex(), "DEMO:BETA", "read")["reason"] == "authorized"
    registry_datasets.reveal(beta_key, Registration(root), salt)  # the earlier commitment wins
    superseded = beta.run("grant", "check", "0x" + root.hex(), "DEMO:BETA", "read")
    assert superseded.code == 4 and "a reveal superseded since" in superseded.stdout
