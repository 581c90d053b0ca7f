"""What commands print, as users and scripts read it: lineage both ways, and one JSON convention."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from client.hashing import content_root
from tests.cli.conftest import User


def test_dataset_show_and_verify_list_the_children(parties: tuple[User, User, User], tmp_path: Path) -> None:
    _gov, acme, beta = parties
    files = {}
    for name in ("scans", "model", "plan", "other"):
        files[name] = tmp_path / f"{name}.csv"
        files[name].write_text(f"{name}\n")
    root = {name: "0x" + content_root(path).hex() for name, path in files.items()}
    acme.ok("register", str(files["scans"]), "--key", "acme")
    acme.ok("register", str(files["other"]), "--key", "acme")
    beta.ok("register", str(files["model"]), "--parent", root["scans"], "--parent", root["other"], "--key", "beta")
    acme.ok("register", str(files["plan"]), "--parent", root["scans"], "--key", "acme")

    shown = beta.ok_json("dataset", "show", root["scans"])
    assert shown["children"] == [root["model"], root["plan"]] and shown["parents"] == []
    assert beta.ok_json("dataset", "show", root["model"])["children"] == []
    verified = beta.ok_json("verify", str(files["scans"]))
    assert verified["registration"]["children"] == [root["model"], root["plan"]]
    human = beta.ok("dataset", "show", root["other"]).stdout
    assert f"derived into     {root['model']}" in human


#: A key in snake_case, and an organisation written as a display string instead of {"orgNo", "orgId", "name"}.
_SNAKE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")
_DISPLAY_ORG = re.compile(r"\(member \d+\)")


def _convention_breaks(value: Any, where: str = "") -> list[str]:
    """Where `value` breaks docs/json.md: snake_case keys, display strings for organisations,
    enums as numbers (a key named like an enum holding an int)."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if _SNAKE.match(str(key)):
                found.append(f"{where}.{key}: snake_case key")
            if key in ("grade", "status", "right", "party", "role", "reason") and not isinstance(item, str):
                found.append(f"{where}.{key}: enum as {item!r}")
            found += _convention_breaks(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _convention_breaks(item, f"{where}[{i}]")
    elif isinstance(value, str) and _DISPLAY_ORG.search(value):
        found.append(f"{where}: organisation as a display string {value!r}")
    return found


def _is_org(value: Any, name: str) -> bool:
    return isinstance(value, dict) and set(value) == {"orgNo", "orgId", "name"} and value["name"] == name


def test_json_output_follows_one_convention(parties: tuple[User, User, User], tmp_path: Path) -> None:
    """Every command's --json: the API's camelCase keys, enums by name, organisations as objects."""
    gov, acme, beta = parties
    data = tmp_path / "press.csv"
    data.write_text("t,temp\n1,61.5\n")
    root = "0x" + content_root(data).hex()
    outputs: dict[str, Any] = {}
    outputs["register"] = acme.ok_json("register", str(data), "--grade", "general", "--key", "acme")
    outputs["hash"] = acme.ok_json("hash", str(data))
    outputs["grant issue"] = acme.ok_json("grant", "issue", root, "DEMO:BETA", "--key", "acme")
    receipt = tmp_path / "delivery.receipt.json"
    outputs["receipt draft"] = acme.ok_json(
        "receipt",
        *("draft", "--dataset", root, "--provider", "DEMO:ACME", "--consumer", "DEMO:BETA"),
        *("--delivered", str(data), "--out", str(receipt)),
    )
    outputs["receipt sign"] = acme.ok_json("receipt", "sign", str(receipt), "--key", "acme")
    beta.ok("receipt", "sign", str(receipt), "--key", "beta")
    outputs["receipt submit"] = beta.ok_json("receipt", "submit", str(receipt), "--key", "beta")
    outputs["receipt verify"] = beta.ok_json("receipt", "verify", str(receipt))
    outputs["right offer"] = acme.ok_json("right", "offer", root, "processing", "DEMO:BETA", "--key", "acme")
    outputs["dataset show"] = beta.ok_json("dataset", "show", root)
    outputs["verify"] = beta.ok_json("verify", str(data))
    outputs["grant show"] = beta.ok_json("grant", "show", root, "DEMO:BETA")
    outputs["grant check"] = beta.ok_json("grant", "check", root, "DEMO:BETA", "read")
    outputs["member show"] = beta.ok_json("member", "show", "DEMO:ACME")
    outputs["member list"] = beta.ok_json("member", "list")
    outputs["member proposals"] = gov.ok_json("member", "proposals")
    outputs["chain status"] = gov.ok_json("chain", "status")
    outputs["chain verify-contracts"] = gov.ok_json("chain", "verify-contracts")
    outputs["key list"] = acme.ok_json("key", "list")
    outputs["anchor"] = acme.ok_json("anchor", str(data), "--out", str(tmp_path / "proofs"), "--key", "acme")
    outputs["anchor list"] = acme.ok_json("anchor", "list")

    breaks = [b for command, output in outputs.items() for b in _convention_breaks(output, command)]
    assert breaks == []

    shown = outputs["dataset show"]
    assert shown["grade"] == "general" and _is_org(shown["registrant"], "ACME Steel")
    assert _is_org(shown["holders"]["operation"], "ACME Steel") and _is_org(
        shown["offers"]["processing"], "Beta Motors"
    )
    assert (shown["registrant"]["orgNo"], shown["registeredAt"]) == (
        1,
        outputs["verify"]["registration"]["registeredAt"],
    )
    grant = outputs["grant show"]
    assert (
        _is_org(grant["grantor"], "ACME Steel") and grant["status"] == "active" and isinstance(grant["validFrom"], int)
    )
    assert outputs["grant check"]["reason"] == "authorized"
    record = outputs["receipt verify"]["record"]
    assert _is_org(record["provider"], "ACME Steel") and _is_org(record["consumer"], "Beta Motors")
    member = outputs["member show"]
    assert member["status"] == "active" and isinstance(member["certifiedUntil"], int)
