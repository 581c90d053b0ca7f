"""The read commands (`dataset show`, `member list|show|proposals`) from the registry API when
one is configured, from the chain otherwise: the same output either way, text and --json, run
as a user runs them against the workload story, indexed and served by a real API over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from client.chain.node import free_port
from tests.cli.conftest import IDSREG, assert_one_clear_line
from tests.cli.story import Served, person, served
from tests.cli.test_startup import CHAIN_MODULES, PROBE
from tests.registry_api.workload import hx

__all__ = ["person", "served"]  # fixtures

#: Datasets of the story that show each part of a record: parents and children, offers,
#: metadata URIs, a batch member, a reveal that superseded a registration, a right moved by
#: an upheld dispute.
DATASETS = (
    "turbine scans",
    "weld parameters",
    "line sensor 0",
    "blade wear model",
    "maintenance plan",
    "gear test bench",
    "prototype drawings",
)


def both_ways(user: Any, *args: str) -> tuple[str, Any]:
    """Run `args` from the API (IDSREG_API_URL is set) and from the chain; they must agree."""
    from_api = user.ok(*args)
    from_chain = user.ok(*args, "--source", "chain")
    assert from_api.stdout == from_chain.stdout, args
    json_api = user.ok_json(*args)
    assert json_api == user.ok_json(*args, "--source", "chain"), args
    return from_api.stdout, json_api


def test_dataset_show_reads_the_api_with_the_chains_output(person: Any, served: Served) -> None:
    user = person("gamma", "GAMMA")
    s = served.story
    for name in DATASETS:
        text, shown = both_ways(user, "dataset", "show", hx(s.roots[name]))
        assert shown["root"] == hx(s.roots[name]) and f"dataset {hx(s.roots[name])}" in text
    scans = user.ok_json("dataset", "show", hx(s.roots["turbine scans"]))
    assert hx(s.roots["blade wear model"]) in scans["children"] and scans["metadataUri"]
    gear = user.ok_json("dataset", "show", hx(s.roots["gear test bench"]))
    assert gear["registrant"]["name"] == "BETA" and gear["parents"] == [hx(s.roots["weld parameters"])]
    weld = user.ok_json("dataset", "show", hx(s.roots["weld parameters"]))
    assert weld["offers"]["holding"]["name"] == "BETA"


def test_member_commands_read_the_api_with_the_chains_output(person: Any, served: Served) -> None:
    user = person("gamma", "GAMMA")
    for org in ("DEMO:ALPHA", "DEMO:BETA", "DEMO:DELTA"):
        _, shown = both_ways(user, "member", "show", org)
        assert shown["name"] == org.removeprefix("DEMO:")
    alpha = user.ok_json("member", "show", "DEMO:ALPHA")
    assert alpha["admin"] != served.story.key("ALPHA").address  # the transferred admin key
    assert alpha["connectors"] == [served.story.key("ALPHA").address]  # not the removed one
    text, listing = both_ways(user, "member", "list")
    assert [m["name"] for m in listing["members"]] == ["ALPHA", "BETA", "GAMMA", "DELTA"]
    assert listing["roles"]["auditor"] == [served.story.auditor.address]
    assert "governors (threshold 2)" in text
    _, proposals = both_ways(user, "member", "proposals")
    assert proposals and [p["proposalId"] for p in proposals] == list(range(1, len(proposals) + 1))
    both_ways(user, "member", "proposals", "--open")


def test_the_api_is_used_when_configured_and_the_chain_otherwise(person: Any, served: Served) -> None:
    user = person("beta", "BETA")
    root = hx(served.story.roots["turbine scans"])
    dead = f"http://127.0.0.1:{free_port()}"
    expected = user.ok_json("dataset", "show", root)

    # IDSREG_API_URL set: a dead chain node does not matter, the API answers.
    user.extra_env["IDSREG_RPC_URL"] = dead
    assert user.ok_json("dataset", "show", root) == expected
    assert_one_clear_line(user.run("dataset", "show", root, "--source", "chain"), 3, "no chain node answers", dead)

    # No API configured: the chain; `--source api` asks the local API's address.
    del user.extra_env["IDSREG_RPC_URL"]
    del user.extra_env["IDSREG_API_URL"]
    user.extra_env["IDSREG_API_PORT"] = dead.rsplit(":", 1)[1]
    assert user.ok_json("dataset", "show", root) == expected
    assert_one_clear_line(user.run("member", "list", "--source", "api"), 3, "no registry API answers", dead)

    # A session of `idsreg api login` configures its API.
    user.ok("api", "login", "--key", "beta", "--api-url", served.url)
    user.extra_env["IDSREG_RPC_URL"] = dead
    assert user.ok_json("dataset", "show", root) == expected
    assert user.ok_json("member", "show", "DEMO:BETA")["name"] == "BETA"


@pytest.mark.parametrize("source", ["api", "chain"])
def test_refusals_are_the_same_either_way(person: Any, served: Served, source: str) -> None:
    user = person("gamma", "GAMMA")
    unknown = "0x" + "ab" * 32
    assert_one_clear_line(user.run("dataset", "show", unknown, "--source", source), 6, unknown)
    assert_one_clear_line(user.run("dataset", "show", "0x12", "--source", source), 2, "0x12")
    assert_one_clear_line(user.run("member", "show", "DEMO:NOBODY", "--source", source), 6, "DEMO:NOBODY")
    assert_one_clear_line(user.run("member", "list", "--source", "somewhere"), 2, "somewhere", "auto, api, chain")


def test_reading_through_the_api_does_not_load_the_chain_bindings(served: Served, tmp_path: Path) -> None:
    """The API path of a read command is an HTTP request: no web3, no key libraries (about a
    second of imports, issue 14)."""
    report = tmp_path / "modules.json"
    root = hx(served.story.roots["turbine scans"])
    for args in (["dataset", "show", root, "--json"], ["member", "show", "DEMO:BETA"]):
        done = subprocess.run(
            [sys.executable, "-c", PROBE, str(report), str(IDSREG), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={"IDSREG_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin", "IDSREG_API_URL": served.url},
        )
        outcome = json.loads(report.read_text())
        assert outcome["code"] == 0, done.stderr
        assert "client.registry_client" in outcome["modules"]  # it did ask the API
        assert not set(outcome["modules"]).intersection(CHAIN_MODULES), args
