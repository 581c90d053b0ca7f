"""What commands print, as users and scripts read it: lineage both ways, and one JSON convention."""

from __future__ import annotations

from pathlib import Path

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
