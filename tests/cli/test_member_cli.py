"""`idsreg key`, `deploy` and `member` as a consortium operator uses them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from tests.cli.conftest import TEST_PASSWORD, User, assert_one_clear_line

EVIDENCE = "0x" + "ab" * 32


@pytest.fixture
def consortium(user: User) -> dict[str, str]:
    """Keys gov, admin and conn; the registry deployed by gov; DEMO:ACME admitted with admin."""
    addresses = {label: user.add_key(label) for label in ("gov", "admin", "conn")}
    user.ok_json("deploy", "--key", "gov")
    outcome = user.ok_json(
        "member",
        "propose",
        "admit",
        "DEMO:ACME",
        "--name",
        "ACME Steel",
        "--admin",
        "admin",
        "--evidence",
        EVIDENCE,
        "--level",
        "2",
        "--expires",
        "2099-01-01",
        "--key",
        "gov",
    )
    assert outcome["executed"] is True
    return addresses


def test_operator_flow(user: User, consortium: dict[str, str]) -> None:
    keys = user.ok_json("key", "list")
    assert {k["label"]: k["address"] for k in keys} == consortium
    assert user.ok("key", "export-address", "conn").stdout.strip() == consortium["conn"]

    added = user.ok_json("member", "key", "add", "conn", "--key", "admin")
    assert [e["name"] for e in added["events"]] == ["ConnectorAdded"]

    member = user.ok_json("member", "show", "DEMO:ACME")
    assert member["name"] == "ACME Steel"
    assert member["status"] == "active"
    assert member["admin"] == consortium["admin"]
    assert member["connectors"] == [consortium["conn"]]
    assert member["orgId"] == "0x" + keccak(text="DEMO:ACME").hex()

    listing = user.ok_json("member", "list")
    assert [m["name"] for m in listing["members"]] == ["ACME Steel"]
    assert listing["roles"]["governor"] == [consortium["gov"]]

    auditor_address = user.add_key("auditor")
    auditor = user.ok_json("member", "propose", "appoint-auditor", "auditor", "--key", "gov")
    assert auditor["executed"] is True
    assert user.ok_json("member", "list")["roles"]["auditor"] == [auditor_address]
    judge_is_member = user.run("member", "propose", "appoint-arbiter", "conn", "--key", "gov")
    assert_one_clear_line(judge_is_member, 5, "already belongs to organisation ACME Steel")

    human = user.ok("member", "show", "DEMO:ACME").stdout
    assert "ACME Steel" in human and consortium["conn"] in human

    suspended = user.ok_json("member", "propose", "suspend", "DEMO:ACME", "--key", "gov")
    assert "MemberSuspended" in [e["name"] for e in suspended["events"]]
    refused = user.run("member", "key", "remove", "conn", "--key", "admin")
    assert_one_clear_line(refused, 5, "ACME Steel (0x", "is not active (status: suspended)")


def test_two_of_three_council(user: User) -> None:
    for label in ("g1", "g2", "g3"):
        user.add_key(label)
    user.ok("deploy", "--key", "g1", "--governor", "g1", "--governor", "g2", "--governor", "g3", "--threshold", "2")
    opened = user.ok_json("member", "propose", "add-governor", "0x" + "11" * 20, "--key", "g1")
    assert opened["executed"] is False
    pid = str(opened["proposalId"])
    proposals = user.ok_json("member", "proposals", "--open")
    assert [(p["proposalId"], p["approvals"], p["threshold"]) for p in proposals] == [(1, 1, 2)]
    twice = user.run("member", "approve", pid, "--key", "g1")
    assert_one_clear_line(twice, 5, "has already approved proposal 1")
    assert user.ok_json("member", "approve", pid, "--key", "g2")["executed"] is True
    assert user.ok_json("member", "proposals", "--open") == []


def test_bad_input_is_one_clear_line(user: User, consortium: dict[str, str], tmp_path: Path) -> None:
    unknown = user.run("member", "show", "DEMO:NOBODY")
    assert_one_clear_line(unknown, 6, "DEMO:NOBODY", "is not a member")

    malformed = user.run("member", "show", "acme")
    assert_one_clear_line(malformed, 2, "'acme'", "identifier")

    bad_address = user.run("member", "key", "add", "0x1234", "--key", "admin")
    assert_one_clear_line(bad_address, 2, "'0x1234'", "not an account address")

    unknown_key = user.run("member", "key", "add", "conn", "--key", "nobody")
    assert_one_clear_line(unknown_key, 2, "no key 'nobody'")

    wrong = tmp_path / "wrong-password"
    wrong.write_text("not-the-password\n")
    wrong_password = user.run("member", "key", "add", "conn", "--key", "admin", "--password-file", str(wrong))
    assert_one_clear_line(wrong_password, 2, "wrong password for key 'admin'")

    not_governor = user.run("member", "propose", "suspend", "DEMO:ACME", "--key", "admin")
    assert_one_clear_line(not_governor, 5, consortium["admin"], "is not a governor")

    bad_evidence = user.run(
        "member", "propose", "admit", "DEMO:X", "--name", "X", "--admin", "conn", "--evidence", "nofile", "--key", "gov"
    )
    assert_one_clear_line(bad_evidence, 2, "'nofile'")

    bad_date = user.run(
        "member", "propose", "recertify", "DEMO:ACME", "--evidence", EVIDENCE, "--expires", "soon", "--key", "gov"
    )
    assert_one_clear_line(bad_date, 2, "'soon'")

    usage = user.run("member", "approve")
    assert usage.code == 2 and "Traceback" not in usage.stderr and "Missing argument" in usage.stderr


def test_chain_down_and_missing_manifest(user: User, consortium: dict[str, str], tmp_path: Path) -> None:
    from client.chain.node import free_port

    user.extra_env["IDSREG_RPC_URL"] = f"http://127.0.0.1:{free_port()}"
    down = user.run("member", "list")
    assert_one_clear_line(down, 3, "no chain node answers", user.extra_env["IDSREG_RPC_URL"])
    deploy_down = user.run("deploy", "--key", "gov")
    assert_one_clear_line(deploy_down, 3, "no chain node answers")

    del user.extra_env["IDSREG_RPC_URL"]
    user.extra_env["IDSREG_DEPLOYMENTS"] = str(tmp_path / "empty")
    missing = user.run("member", "list")
    assert_one_clear_line(missing, 3, "no deployment manifest for chain 7351")
    assert not (tmp_path / "empty").exists()


def test_deploy_refuses_to_overwrite(user: User, consortium: dict[str, str]) -> None:
    manifest = user.deployments / "7351.json"
    before = manifest.read_text()
    again = user.run("deploy", "--key", "gov")
    assert_one_clear_line(again, 2, "already deployed on chain 7351", "--force")
    assert manifest.read_text() == before
    forced = user.ok_json("deploy", "--key", "gov", "--force")
    assert forced["contracts"]["Consortium"]["address"] != _address(before)


def _address(manifest_text: str) -> str:
    return str(json.loads(manifest_text)["contracts"]["Consortium"]["address"])


def test_key_refusals_write_nothing(user: User, tmp_path: Path) -> None:
    created = user.ok_json("key", "new", "alice")
    assert created["label"] == "alice" and TEST_PASSWORD not in json.dumps(created)
    original = (user.home / "keystore" / "alice.json").read_text()
    again = user.run("key", "new", "alice")
    assert_one_clear_line(again, 2, "'alice' already exists")
    assert (user.home / "keystore" / "alice.json").read_text() == original

    bad_secret = tmp_path / "secret"
    bad_secret.write_text("0xnot-a-key\n")
    imported = user.run("key", "import", "bob", "--private-key-file", str(bad_secret))
    assert_one_clear_line(imported, 2, "valid private key")
    bad_label = user.run("key", "new", "has space")
    assert_one_clear_line(bad_label, 2, "'has space'", "not valid")
    assert sorted(p.name for p in (user.home / "keystore").iterdir()) == ["alice.json"]

    user.extra_env["IDSREG_PASSWORD_FILE"] = ""
    no_password = user.run("key", "new", "carol")
    assert_one_clear_line(no_password, 2, "password is needed", "IDSREG_PASSWORD")


def test_import_private_key_file(user: User, tmp_path: Path) -> None:
    from eth_account import Account

    account = Account.create()  # test-only key
    secret = tmp_path / "secret"
    secret.write_text(account.key.hex() + "\n")
    result = user.ok("key", "import", "imported", "--private-key-file", str(secret), "--json")
    assert result.json()["address"] == account.address
    assert account.key.hex() not in result.stdout + result.stderr
    assert account.key.hex().removeprefix("0x") not in (user.home / "keystore" / "imported.json").read_text()


def test_besu_allowlist(user: User, consortium: dict[str, str], tmp_path: Path) -> None:
    output = tmp_path / "permissions_config.toml"
    output.write_text('nodes-allowlist=["enode://abc@127.0.0.1:30303"]\n')
    user.ok("member", "key", "add", "conn", "--key", "admin")
    extra = "0x" + "22" * 20
    written: Any = user.ok_json("chain", "besu-allowlist", "--output", str(output), "--extra", extra)
    expected = sorted({consortium["gov"], consortium["admin"], consortium["conn"], "0x" + "22" * 20}, key=str.lower)
    assert [a.lower() for a in written["accounts"]] == [a.lower() for a in expected]
    import tomllib

    parsed = tomllib.loads(output.read_text())
    assert parsed["accounts-allowlist"] == [a.lower() for a in expected]
    assert parsed["nodes-allowlist"] == ["enode://abc@127.0.0.1:30303"]
    user.ok("member", "key", "remove", "conn", "--key", "admin")
    user.ok("chain", "besu-allowlist", "--output", str(output))
    again = tomllib.loads(output.read_text())
    assert consortium["conn"].lower() not in again["accounts-allowlist"]
    assert output.read_text().count("written by `idsreg chain besu-allowlist`") == 1


def test_keystore_folder_made_private(user: User) -> None:
    """A keystore folder created beforehand with mode 0755 is made 0700 on first use, and said so."""
    import stat

    folder = user.home / "keystore"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    created = user.ok("key", "new", "alice")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert f"keystore folder {folder} had mode 0755; made it 0700" in created.stderr
    assert "0700" not in user.ok("key", "new", "bob").stderr  # said once, when it changed


def test_key_list_names_unreadable_keystore_files(user: User) -> None:
    alice = user.add_key("alice")
    broken = user.home / "keystore" / "broken.json"
    broken.write_text("{not json")
    no_address = user.home / "keystore" / "empty.json"
    no_address.write_text("{}")
    listed = user.run("key", "list")
    assert listed.code == 2, listed
    assert "alice" in listed.stdout and alice in listed.stdout
    assert f"keystore file {broken} is unreadable" in listed.stderr
    assert f"keystore file {no_address} is unreadable" in listed.stderr
    as_json = user.run("key", "list", "--json")
    assert as_json.code == 2
    entries = {e["label"]: e for e in as_json.json()}
    assert entries["alice"] == {"label": "alice", "address": alice, "file": str(user.home / "keystore" / "alice.json")}
    assert entries["broken"]["file"] == str(broken) and entries["broken"]["address"] is None
    assert "not JSON" in entries["broken"]["unreadable"]
    assert entries["empty"]["unreadable"] and entries["empty"]["address"] is None
    asked = user.run("key", "export-address", "broken")
    assert_one_clear_line(asked, 2, f"keystore file {broken} is unreadable")


def test_the_council_sets_the_dispute_period(user: User, consortium: dict[str, str]) -> None:
    outcome = user.ok_json("member", "propose", "dispute-period", "7", "--key", "gov")
    assert outcome["executed"] is True
    too_long = user.run("member", "propose", "dispute-period", "400", "--key", "gov")
    assert too_long.code == 2 and "Traceback" not in too_long.stderr and "less than or equal to 365" in too_long.stderr
    not_governor = user.run("member", "propose", "dispute-period", "3", "--key", "admin")
    assert_one_clear_line(not_governor, 5, consortium["admin"], "is not a governor")
