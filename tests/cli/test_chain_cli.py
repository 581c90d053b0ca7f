"""`idsreg chain up|down|status` on a node of its own, and `idsreg demo`."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from web3 import Web3

from client.chain.node import CHAIN_CONFIG_DIR, free_port
from client.hashing import content_root
from tests.cli.conftest import IDSREG, CommandForks, Result, User, assert_one_clear_line
from tests.conftest import wait_until


@pytest.fixture
def local_user(tmp_path: Path, command_forks: CommandForks) -> Iterator[User]:
    """A user whose local chain listens on a free port: a copy of `chain/local.toml` elsewhere,
    with only its port changed (what a user does first), so the genesis is the project's."""
    port = free_port()
    config = tmp_path / "local.toml"
    config.write_text((CHAIN_CONFIG_DIR / "local.toml").read_text().replace("port = 8545", f"port = {port}"))
    home = tmp_path / "home"
    home.mkdir()
    password = home / "password"
    password.write_text("test-only-password\n")
    user = User(home, f"http://127.0.0.1:{port}", tmp_path / "deployments", password, command_forks)
    user.extra_env["IDSREG_CHAIN_CONFIG"] = str(config)
    user.extra_env["IDSREG_RPC_URL"] = ""  # unset: commands find the node through the chain config
    user.extra_env["IDSREG_API_PORT"] = str(free_port())  # `idsreg demo` leaves the API running here
    yield user
    user.run("api", "stop")
    user.run("chain", "down")


def test_chain_lifecycle_keeps_state(local_user: User) -> None:
    user = local_user
    down = user.run("chain", "status")
    assert_one_clear_line(down, 3, "no chain node answers")

    started = user.ok_json("chain", "up")
    assert started["started"] is True and started["chainId"] == 7351
    assert user.ok_json("chain", "up")["started"] is False  # already running

    user.ok("key", "new", "gov")
    user.ok("deploy", "--key", "gov")
    status = user.ok_json("chain", "status")
    assert status["deployed"] is True and status["localNodePid"] == started["pid"]
    head = status["headBlock"]

    assert user.ok_json("chain", "down")["stopped"] is True
    assert user.ok_json("chain", "down")["stopped"] is False
    assert user.run("chain", "status").code == 3

    user.ok("chain", "up")
    after = user.ok_json("chain", "status")
    assert after["deployed"] is True and after["headBlock"] == head
    assert after["contracts"] == status["contracts"]
    assert (user.home / "chain" / "anvil.log").exists()


def test_copied_config_names_a_missing_genesis(local_user: User) -> None:
    """A genesis named by the copied configuration that exists nowhere: the error says what to copy."""
    config = Path(local_user.extra_env["IDSREG_CHAIN_CONFIG"])
    config.write_text(config.read_text().replace('genesis = "genesis.json"', 'genesis = "our-genesis.json"'))
    assert_one_clear_line(local_user.run("chain", "up"), 2, "our-genesis.json", str(config.parent), "copy")


def test_demo_sets_up_a_consortium(local_user: User) -> None:
    user = local_user
    user.extra_env["IDSREG_PASSWORD_FILE"] = ""
    # The first run does everything, a DSP exchange between two connectors included: on a loaded
    # machine that takes more than the default two minutes.
    started = user.run("demo", "--json", timeout=360)
    assert started.code == 0, started.stderr
    first = started.json()
    assert first["member"]["name"] == "ACME Steel Works"
    assert first["member"]["connectors"] == [first["keys"]["acme-connector"]]
    password_file = Path(first["passwordFile"])
    assert password_file.stat().st_mode & 0o077 == 0
    check_demo_audit(first)
    second = user.ok("demo", "--json").json()  # idempotent
    assert second["contracts"] == first["contracts"] and second["keys"] == first["keys"]
    human = user.ok("demo").stdout
    assert "Next steps" in human and password_file.read_text().strip() not in human
    # Each run audits the chain as it is then (a later run: a later block, other paths).
    shown = re.search(r"report (\S+/report\.html) and (\S+/report\.pdf)", human)
    assert shown is not None and Path(shown[1]).is_file() and Path(shown[2]).is_file(), human
    # Each suggested command is whole on its line (copyable), however narrow the output.
    steps = human.split("Next steps:")[1].splitlines()
    assert f"  curl {first['apiUrl']}/v1/datasets/{first['sampleDataset']['root']}" in steps
    assert any(" member propose admit " in line and line.endswith(" --key governor") for line in steps)
    # Each step runs as printed, in a shell whose PATH does not hold the virtualenv (as after
    # scripts/setup): the command is named by a path that exists, not by a bare `idsreg`.
    listing = next(line.strip() for line in steps if line.strip().endswith(" member list"))
    shell_env = {**user.env(), "PATH": "/usr/bin:/bin", "IDSREG_PASSWORD_FILE": str(password_file)}
    ran = subprocess.run(
        ["bash", "-c", listing], env=shell_env, capture_output=True, text=True, timeout=120, check=False
    )
    assert ran.returncode == 0, (listing, ran.stderr)
    assert "ACME Steel Works" in ran.stdout
    # The demo leaves the registry API running, and it has indexed the sample dataset.
    assert second["apiUrl"] == first["apiUrl"] and second["apiPid"] == first["apiPid"]
    status = user.ok_json("api", "status")
    assert status["chainId"] == 7351 and status["nodeReachable"] is True
    root = first["sampleDataset"]["root"]
    assert wait_until(lambda: httpx.get(f"{first['apiUrl']}/v1/datasets/{root}").status_code == 200)
    dataset = httpx.get(f"{first['apiUrl']}/v1/datasets/{root}").json()
    assert dataset["registrant"]["name"] == "ACME Steel Works"
    # The output ends with the explorer's address, and the explorer answers there.
    assert human.rstrip().splitlines()[-1] == f"Explorer: {first['apiUrl']}/"
    home = httpx.get(f"{first['apiUrl']}/")
    assert home.status_code == 200 and "IDS Registry explorer" in home.text
    user.extra_env["IDSREG_PASSWORD_FILE"] = str(password_file)
    check_demo_exchange(user, first, second, human, steps, shell_env)
    check_demo_connectors(first, second, human)
    assert user.ok_json("api", "stop")["stopped"] is True
    assert_one_clear_line(user.run("api", "status"), 3, "no registry API answers")
    listed = user.ok_json("member", "list")
    assert [m["name"] for m in listed["members"]] == ["ACME Steel Works", "Beta Motors", "Gamma Logistics"]
    assert json.loads((user.deployments / "7351.json").read_text())["chain_id"] == 7351


def check_demo_audit(first: dict[str, Any]) -> None:
    """The demo ends with the sample dataset's audit bundle, verified against the local node, and
    its reports in HTML and PDF, read back here."""
    import re

    from pypdf import PdfReader

    audit, root = first["audit"], first["sampleDataset"]["root"]
    assert audit["facts"] >= 5 and "every header of blocks" in audit["authenticatedBy"]
    bundle = json.loads(Path(audit["bundle"]).read_bytes())
    events = {f["event"] for f in bundle["facts"]}
    assert {"DatasetRegistered", "GrantIssued", "ReceiptRecorded"} <= events
    assert len(bundle["openings"]) == 2  # the licence's and the receipt's terms, both disclosed
    page = Path(audit["report"]).read_text()
    assert page.startswith("<!DOCTYPE html>") and root in page and "ACME Steel Works" in page
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(audit["pdf"]).pages))
    assert root in text and "ReceiptRecorded" in text and "ACMESteelWorks" in text


def check_demo_exchange(
    user: User, first: dict[str, Any], second: dict[str, Any], human: str, steps: list[str], shell_env: dict[str, str]
) -> None:
    """The demo's exchange: a price nobody else reads on chain, disclosed to the auditor alone."""
    deal = first["exchange"]
    receipt, licence = deal["receipt"], deal["licence"]
    assert second["exchange"]["receipt"]["digest"] == receipt["digest"]  # a re-run reuses the deal
    assert second["exchange"]["licence"]["serial"] == licence["serial"]
    price, size = int(receipt["terms"]["price"]), int(receipt["terms"]["size"])
    assert price > 0 and size == Path(first["sampleDataset"]["path"]).stat().st_size
    assert int(licence["terms"]["price"]) > 0
    # As any member's node reads the receipt's transaction: the commitment is in its event,
    # the price and the size are in no event and nowhere in the calldata.
    w3 = Web3(Web3.HTTPProvider(first["rpcUrl"]))
    tx = w3.eth.get_transaction(receipt["transaction"])
    logs = w3.eth.get_transaction_receipt(receipt["transaction"])["logs"]
    blobs = [bytes(tx["input"])] + [bytes(log["data"]) + b"".join(bytes(t) for t in log["topics"]) for log in logs]
    commitment = bytes.fromhex(receipt["termsCommitment"][2:])
    assert any(commitment in blob for blob in blobs[1:])  # the ReceiptRecorded event carries it
    for value in (price, size):
        for needle in (value.to_bytes(32, "big"), str(value).encode()):
            assert not any(needle in blob for blob in blobs), (value, needle)
    licence_tx = w3.eth.get_transaction(licence["transaction"])
    assert str(licence["terms"]["price"]).encode() not in bytes(licence_tx["input"])
    assert int(licence["terms"]["price"]).to_bytes(32, "big") not in bytes(licence_tx["input"])
    assert deal["pricesOnChain"] == []
    assert f"records terms commitment {receipt['termsCommitment']} only" in human
    assert f"auditor 'auditor' reads through the API: price {price}, size {size}" in human
    assert "Gamma Logistics, no party to the deal, asks the API for it: 404" in human
    # The auditor, signed in as the next steps say, reads the disclosed price through the API.
    assert deal["auditorSees"] == {"status": 200, "terms": receipt["terms"]}
    user.ok("api", "login", "--key", "auditor")
    seen = {r["digest"]: r for r in user.ok_json("receipt", "list")}
    assert seen[receipt["digest"]]["terms"]["price"] == str(price)
    # The member that is no party gets no such receipt, and no terms, in the list or by digest.
    assert deal["outsiderSees"]["status"] == 404 and "terms" not in deal["outsiderSees"]
    user.ok("api", "login", "--key", "gamma-admin")
    assert user.ok_json("receipt", "list") == []
    token = json.loads((user.home / "api-session.json").read_text())["accessToken"]
    refused = httpx.get(
        f"{first['apiUrl']}/v1/receipts/{receipt['digest']}", headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 404 and str(price) not in refused.text
    # The printed step verifying the receipt's terms runs as printed, and checks them.
    verify = next(line.strip() for line in steps if " receipt verify " in line)
    ran = subprocess.run(
        ["bash", "-c", verify], env=shell_env, capture_output=True, text=True, timeout=120, check=False
    )
    assert ran.returncode == 0, (verify, ran.stderr)
    assert f"price {price}" in ran.stdout and "verified" in ran.stdout
    agreed = Path(verify.split("--terms ")[1])
    agreed.chmod(0o600)
    agreed.write_text(agreed.read_text().replace(f'"{price}"', f'"{price + 1}"'))
    ran = subprocess.run(
        ["bash", "-c", verify], env=shell_env, capture_output=True, text=True, timeout=120, check=False
    )
    assert ran.returncode == 4 and "price differs" in ran.stderr, (ran.returncode, ran.stderr)


def test_console_script(local_user: User) -> None:
    """The installed `idsreg` script itself (the other tests fork its entry point)."""

    def script(*args: str) -> Result:
        done = subprocess.run(
            [str(IDSREG), *args],
            env=local_user.env(),
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    helped = script("--help")
    assert helped.code == 0 and "register" in helped.stdout and "api" in helped.stdout
    assert_one_clear_line(script("chain", "status"), 3, "no chain node answers")
    assert_one_clear_line(script("hash", str(local_user.home / "missing.csv")), 2, "missing.csv")
    created = script("key", "new", "script-key", "--json")
    assert created.code == 0, created.stderr
    assert json.loads(created.stdout)["label"] == "script-key"


def check_demo_connectors(first: dict[str, Any], second: dict[str, Any], human: str) -> None:
    """The demo's connector exchange: Beta's connector fetched ACME's folder dataset, verified,
    with a receipt both connectors signed on chain; a re-run reuses it."""
    moved = first["connectorExchange"]
    assert second["connectorExchange"] == moved
    assert moved["kind"] == "directory" and moved["files"] == 3
    assert content_root(Path(moved["path"])) == bytes.fromhex(moved["dataset"][2:])
    w3 = Web3(Web3.HTTPProvider(first["rpcUrl"]))
    receipt = w3.eth.get_transaction_receipt(moved["receiptTransaction"])
    assert receipt["status"] == 1 and receipt["to"] == first["contracts"]["ExchangeLedger"]
    assert f"receipt signed by both connectors in transaction {moved['receiptTransaction']}" in human
