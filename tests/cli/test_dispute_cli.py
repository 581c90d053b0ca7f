"""A rights dispute from claim to ruling, as the claimant, the holder and two arbiters run it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from web3 import Web3

from client.hashing import content_root
from tests.cli.conftest import assert_one_clear_line
from tests.conftest import increase_time


def test_upheld_dispute_with_prior_anchoring(user_factory: Any, tmp_path: Path, w3: Web3) -> None:
    gov, acme, beta = user_factory("governor"), user_factory("acme"), user_factory("beta")
    gov.add_key("gov")
    arbiters = [gov.add_key("arb1"), gov.add_key("arb2")]
    acme_admin, beta_admin = acme.add_key("acme"), beta.add_key("beta")
    gov.ok("deploy", "--key", "gov")
    for org, name, admin in (("DEMO:ACME", "ACME Steel", acme_admin), ("DEMO:BETA", "Beta Motors", beta_admin)):
        gov.ok(
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
    for arbiter in arbiters:
        gov.ok("member", "propose", "appoint-arbiter", arbiter, "--key", "gov")
    gov.ok("member", "propose", "arbiter-threshold", "2", "--key", "gov")

    data = tmp_path / "design.step"
    data.write_text("beta's original design\n")
    root = "0x" + content_root(data).hex()
    anchored = beta.ok_json("anchor", str(data), "--out", str(tmp_path / "proofs"), "--key", "beta")
    increase_time(w3, 60)  # the registration comes a minute after beta's anchor
    acme.ok("register", str(data), "--key", "acme")

    opened = beta.ok_json("dispute", "open", root, "operation", "--evidence", "0x" + "cd" * 32, "--key", "beta")
    dispute = str(opened["disputeId"])
    frozen = acme.run("right", "offer", root, "operation", "DEMO:BETA", "--key", "acme")
    assert_one_clear_line(frozen, 5, "cannot move while a dispute about it is open")
    beta.ok("dispute", "prove", dispute, "--proof", anchored["proofs"][0], "--key", "beta")

    not_arbiter = acme.run("dispute", "vote", dispute, "dismiss", "--key", "acme")
    assert_one_clear_line(not_arbiter, 5, acme_admin)
    assert_one_clear_line(gov.run("dispute", "vote", dispute, "maybe", "--key", "arb1"), 2, "'maybe'")
    assert gov.ok_json("dispute", "vote", dispute, "uphold", "--key", "arb1")["status"] == "open"
    assert gov.ok_json("dispute", "vote", dispute, "uphold", "--key", "arb2")["status"] == "upheld"

    shown = beta.ok_json("dispute", "show", dispute)
    assert shown["status"] == "upheld" and shown["priorAnchoredAt"] is not None
    assert shown["claimant"]["name"] == "Beta Motors" and shown["right"] == "operation"
    holders = beta.ok_json("dataset", "show", root)["holders"]
    assert holders["operation"]["name"] == "Beta Motors" and holders["holding"]["name"] == "ACME Steel"
    human = beta.ok("dispute", "show", dispute).stdout
    assert "prior anchoring" in human and "upheld" in human

    # A second claim on the holding right lapses at the end of the dispute period; anyone closes it.
    second = str(
        beta.ok_json("dispute", "open", root, "holding", "--evidence", "0x" + "ce" * 32, "--key", "beta")["disputeId"]
    )
    early = acme.run("dispute", "close", second, "--key", "acme")
    assert_one_clear_line(early, 5, f"dispute {second} runs until", "cannot be closed yet")
    increase_time(w3, 30 * 24 * 3600)
    acme.ok("dispute", "close", second, "--key", "acme")
    assert beta.ok_json("dispute", "show", second)["status"] == "lapsed"
    acme.ok("right", "offer", root, "holding", "DEMO:BETA", "--key", "acme")
