"""`idsreg api login|whoami|logout` and the API-backed lists (`dataset|grant|receipt|dispute list`,
`anchor list --org|--all`), run as a user runs them against the workload story on the test
chain, indexed and served by a real registry API over HTTP."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from client.chain.node import free_port
from client.registry_client import RegistryClient
from tests.cli.conftest import assert_one_clear_line
from tests.cli.story import Served, person, served
from tests.registry_api.workload import hx

__all__ = ["person", "served"]  # fixtures

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


# ----- signing in -------------------------------------------------------------------------


def test_login_whoami_logout(person: Any, served: Served) -> None:
    beta = person("beta", "BETA")
    assert_one_clear_line(beta.run("api", "whoami"), 2, "not logged in", "idsreg api login --key")
    signed = beta.ok_json("api", "login", "--key", "beta")
    address = served.story.key("BETA").address
    assert signed["address"] == address and signed["org"]["name"] == "BETA" and signed["url"] == served.url
    assert signed["expiresAt"] > time.time() + 60
    session = beta.home / "api-session.json"
    assert (session.stat().st_mode & 0o777) == 0o600
    assert json.loads(session.read_text())["accessToken"] not in beta.ok("api", "whoami").stdout

    who = beta.ok_json("api", "whoami")
    assert who["address"] == address and who["key"] == "beta"
    assert who["org"] == {"orgNo": signed["org"]["orgNo"], "orgId": signed["org"]["orgId"], "name": "BETA"}
    human = beta.ok("api", "whoami").stdout
    assert address in human and "BETA (member" in human and re.search(r"expires \d{4}-\d\d-\d\dT", human)

    beta.ok("api", "login", "--key", "beta")  # again: replaces its own session file
    assert beta.ok_json("api", "logout") == {"loggedOut": True, "url": served.url}
    assert not session.exists()
    assert beta.ok_json("api", "logout")["loggedOut"] is False
    assert_one_clear_line(beta.run("api", "whoami"), 2, "not logged in")


def test_login_keeps_another_file(person: Any) -> None:
    beta = person("beta", "BETA")
    session = beta.home / "api-session.json"
    session.write_text("my notes\n")
    assert_one_clear_line(beta.run("api", "login", "--key", "beta"), 2, str(session), "not an API session file")
    assert session.read_text() == "my notes\n"
    assert_one_clear_line(beta.run("api", "logout"), 2, "not an API session file")
    assert session.read_text() == "my notes\n"


def test_expired_or_refused_token_says_log_in_again(person: Any, served: Served) -> None:
    beta = person("beta", "BETA")
    beta.ok("api", "login", "--key", "beta")
    session = beta.home / "api-session.json"
    stored = json.loads(session.read_text())
    session.write_text(json.dumps({**stored, "expiresAt": int(time.time()) - 5}))
    for args in (("api", "whoami"), ("grant", "list"), ("receipt", "list")):
        assert_one_clear_line(beta.run(*args), 2, "expired", "log in again", "idsreg api login")
    session.write_text(json.dumps({**stored, "accessToken": stored["accessToken"][:-4] + "AAAA"}))
    assert_one_clear_line(beta.run("api", "whoami"), 2, "refused the token", "log in again")
    assert_one_clear_line(beta.run("grant", "list"), 2, "log in again")


def test_login_refusals(person: Any, served: Served, tmp_path: Path) -> None:
    stranger = person("beta", "BETA")
    stranger.add_key("nobody")
    assert_one_clear_line(stranger.run("api", "login", "--key", "nobody"), 2, "neither an active key")
    assert not (stranger.home / "api-session.json").exists()
    port = free_port()
    stranger.extra_env["IDSREG_API_URL"] = f"http://127.0.0.1:{port}"
    assert_one_clear_line(stranger.run("api", "login", "--key", "beta"), 3, f"http://127.0.0.1:{port}")


# ----- lists ------------------------------------------------------------------------------


def test_dataset_list_with_filters(person: Any, served: Served) -> None:
    user = person("gamma", "GAMMA")
    everything = user.ok_json("dataset", "list", "--limit", "0")
    s = served.story
    assert sorted(d["root"] for d in everything) == sorted(hx(r) for r in s.roots.values())
    assert all(set(d) >= {"root", "registrant", "grade", "registeredAt", "holders", "metadataUri"} for d in everything)
    alpha = user.ok_json("dataset", "list", "--registrant", "DEMO:ALPHA", "--limit", "0")
    assert alpha and all(d["registrant"]["name"] == "ALPHA" for d in alpha)
    assert len(alpha) < len(everything)
    core = user.ok_json("dataset", "list", "--grade", "core")
    assert [d["root"] for d in core] == [hx(s.roots["furnace recipes"])]
    held = user.ok_json("dataset", "list", "--holder", "DEMO:BETA", "--right", "processing")
    assert hx(s.roots["turbine scans"]) in [d["root"] for d in held]
    found = user.ok_json("dataset", "list", "-q", "TURBINE-scans")
    assert [d["root"] for d in found] == [hx(s.roots["turbine scans"])]
    first = everything[0]["registeredAt"]
    day = time.strftime("%Y-%m-%d", time.gmtime(first))
    assert len(user.ok_json("dataset", "list", "--from", day, "--to", day, "--limit", "0")) == len(
        [d for d in everything if time.strftime("%Y-%m-%d", time.gmtime(d["registeredAt"])) == day]
    )
    assert user.ok_json("dataset", "list", "--to", "2000-01-01") == []
    # --limit: the newest first, as many as asked.
    assert user.ok_json("dataset", "list", "--limit", "3") == everything[:3]

    table = user.ok("dataset", "list", "--limit", "3").stdout
    assert hx(s.roots["gear test bench"]) in table or everything[0]["root"] in table
    assert "ALPHA (member" in table and re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", table)
    assert "3 datasets; more may exist" in table
    assert "no datasets found" in user.ok("dataset", "list", "--to", "2000-01-01").stdout


def test_client_follows_the_cursor(served: Served) -> None:
    with RegistryClient(served.url) as whole, RegistryClient(served.url, page_size=2) as paged:
        everything = list(whole.datasets())
        assert len(everything) > 4
        assert list(paged.datasets()) == everything  # page after page of two
        assert list(paged.datasets(limit=5)) == everything[:5]
        assert list(paged.disputes(status="open")) == list(whole.disputes(status="open"))


def test_grant_and_receipt_lists_need_a_login_and_show_what_concerns_you(person: Any, served: Served) -> None:
    beta = person("beta", "BETA")
    assert_one_clear_line(beta.run("grant", "list"), 2, "not logged in", served.url, "idsreg api login")
    assert_one_clear_line(beta.run("receipt", "list"), 2, "not logged in")
    beta.ok("api", "login", "--key", "beta")
    grants = beta.ok_json("grant", "list")
    assert grants and all("BETA" in (g["grantee"]["name"], g["grantor"]["name"]) for g in grants)
    assert {g["status"] for g in grants} == {"active", "rejected"}
    current = beta.ok_json("grant", "list", "--current", "--status", "active")
    assert [(g["serial"], g["permissions"]) for g in current] == [(2, ["read", "derive"])]
    assert [g["serial"] for g in beta.ok_json("grant", "list", "--replaced")] == [1]
    table = beta.ok("grant", "list").stdout
    assert "read,derive" in table and "(replaced)" in table and "ALPHA (member" in table
    receipts = beta.ok_json("receipt", "list")
    assert [r["digest"] for r in receipts] == ["0x" + served.story.receipt_file.digest.hex()]  # type: ignore[union-attr]
    assert receipts[0]["termsCommitment"] == "0x" + served.story.openings[-1].commitment.hex()
    listed = beta.ok("receipt", "list", "--consumer", "DEMO:BETA").stdout
    assert "BETA (member" in listed and listed.rstrip().endswith("\n1 receipt")

    gamma = person("gamma", "GAMMA")
    gamma.ok("api", "login", "--key", "gamma")
    assert gamma.ok_json("receipt", "list") == []
    assert "no receipts found" in gamma.ok("receipt", "list").stdout
    assert all("GAMMA" in (g["grantee"]["name"], g["grantor"]["name"]) for g in gamma.ok_json("grant", "list"))

    auditor = person("auditor", auditor=True)
    auditor.ok("api", "login", "--key", "auditor")
    assert len(auditor.ok_json("grant", "list")) > len(grants)
    assert auditor.ok_json("api", "whoami")["roles"] == ["auditor"]


def test_dispute_and_anchor_lists(person: Any, served: Served, tmp_path: Path) -> None:
    user = person("gamma", "GAMMA")
    disputes = user.ok_json("dispute", "list")
    assert sorted(d["status"] for d in disputes) == ["dismissed", "lapsed", "upheld"]
    assert [d["disputeId"] for d in disputes] == sorted((d["disputeId"] for d in disputes), reverse=True)
    upheld = user.ok_json("dispute", "list", "--status", "upheld", "--claimant", "DEMO:GAMMA")
    assert len(upheld) == 1 and upheld[0]["right"] == "operation"
    table = user.ok("dispute", "list").stdout
    assert "dismissed" in table and "GAMMA (member" in table and "1/0" in table

    anchors = user.ok_json("anchor", "list", "--all")
    assert len(anchors) == 1 and anchors[0]["org"]["name"] == "GAMMA" and anchors[0]["leafCount"] == 3
    assert user.ok_json("anchor", "list", "--org", "DEMO:GAMMA") == anchors
    assert user.ok_json("anchor", "list", "--org", "DEMO:ALPHA") == []
    assert anchors[0]["root"] in user.ok("anchor", "list", "--all").stdout
    # Without --org/--all: this member's own anchor index, as before.
    assert "no anchors recorded" in user.ok("anchor", "list").stdout
    assert user.ok_json("anchor", "list") == []
    assert_one_clear_line(user.run("anchor", "list", anchors[0]["root"], "--all"), 2, "one of them")


def test_list_refusals(person: Any, served: Served) -> None:
    user = person("gamma", "GAMMA")
    assert_one_clear_line(user.run("dataset", "list", "--registrant", "not an org"), 2, "registrant", "not an org")
    assert_one_clear_line(user.run("dataset", "list", "--registrant", "DEMO:NOBODY"), 6, "DEMO:NOBODY")
    assert_one_clear_line(user.run("dataset", "list", "--grade", "secret"), 2, "secret")
    assert_one_clear_line(user.run("dataset", "list", "--from", "yesterday"), 2, "yesterday")
    assert_one_clear_line(user.run("dispute", "list", "--status", "pending"), 2, "pending")
    assert_one_clear_line(user.run("dispute", "list", "--dataset", "0x12"), 2, "0x12")
    down = f"http://127.0.0.1:{free_port()}"
    for args in (("dataset", "list"), ("dispute", "list"), ("anchor", "list", "--all")):
        assert_one_clear_line(user.run(*args, "--api-url", down), 3, f"no registry API answers at {down}")
    user.extra_env["IDSREG_API_URL"] = down
    assert_one_clear_line(user.run("dataset", "list"), 3, down)
    assert user.run("dataset", "list", "--json").stdout == ""  # nothing half-written


def test_a_party_discloses_receipt_terms_to_the_api(person: Any, served: Served, tmp_path: Path) -> None:
    beta, gamma = person("beta", "BETA"), person("gamma", "GAMMA")
    file = tmp_path / "delivery.receipt.json"
    file.write_text(served.story.receipt_file.to_json())  # type: ignore[union-attr]
    assert_one_clear_line(beta.run("receipt", "disclose", str(file)), 2, "not logged in")
    gamma.ok("api", "login", "--key", "gamma")
    assert_one_clear_line(gamma.run("receipt", "disclose", str(file)), 6, "no receipt", "of your organisation")
    beta.ok("api", "login", "--key", "beta")
    shown = beta.ok_json("receipt", "disclose", str(file))
    assert shown["terms"]["price"] == str(2**70 + 1)
    assert beta.ok_json("receipt", "list")[0]["terms"] == shown["terms"]
    forged = json.loads(file.read_text())
    forged["salt"] = "0x" + "00" * 32
    file.write_text(json.dumps(forged))
    assert_one_clear_line(beta.run("receipt", "disclose", str(file)), 4, "do not open commitment")
