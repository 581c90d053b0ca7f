"""The exit-code table (README, client/exits.py) as each command family follows it: one case of
each code that the family can give, run as a user runs it.

0 success · 2 bad input or configuration · 3 chain node unreachable · 4 verification failed ·
5 refused by a contract · 6 not registered (1, unexpected, and 130, interrupted, are given by
client/exits.py alone, for every command alike).
"""

from __future__ import annotations

import json
from pathlib import Path

from client.chain.node import free_port
from client.hashing import content_root
from tests.cli.conftest import User, assert_one_clear_line

UNKNOWN = "0x" + "ab" * 32


def test_every_family_follows_the_table(parties: tuple[User, User, User], tmp_path: Path) -> None:
    gov, acme, beta = parties
    data, stranger = tmp_path / "press.csv", tmp_path / "stranger.csv"
    data.write_text("t,temp\n1,61.5\n")
    stranger.write_text("never registered\n")
    root = "0x" + content_root(data).hex()
    acme.ok("register", str(data), "--key", "acme")
    acme.ok("grant", "issue", root, "DEMO:BETA", "--key", "acme")
    receipt = tmp_path / "delivery.receipt.json"
    acme.ok(
        "receipt",
        *("draft", "--dataset", root, "--provider", "DEMO:ACME", "--consumer", "DEMO:BETA"),
        *("--delivered", str(data), "--out", str(receipt)),
    )
    acme.ok("receipt", "sign", str(receipt), "--key", "acme")
    beta.ok("receipt", "sign", str(receipt), "--key", "beta")
    malformed = tmp_path / "malformed.json"
    malformed.write_text('{"format": "idsreg-receipt/2", "receipt": {"deliveredAt": "a while ago"}}')
    tampered = tmp_path / "tampered.json"
    edited = json.loads(receipt.read_text())
    edited["receipt"]["deliveredAt"] += 1
    tampered.write_text(json.dumps(edited))
    garbage_proof = tmp_path / "garbage.proof.json"
    garbage_proof.write_text("{not json")

    cases: list[tuple[User, tuple[str, ...], int, str]] = [
        # chain and keys
        (gov, ("chain", "status"), 0, ""),
        (gov, ("deploy", "--key", "gov"), 2, "already deployed"),
        (acme, ("key", "list"), 0, ""),
        (acme, ("key", "export-address", "nobody"), 2, "nobody"),
        # member
        (acme, ("member", "show", "DEMO:ACME"), 0, ""),
        (acme, ("member", "show", "acme"), 2, "'acme'"),
        (acme, ("member", "show", "DEMO:NOBODY"), 6, "is not a member of the consortium"),
        (acme, ("member", "propose", "suspend", "DEMO:BETA", "--key", "acme"), 5, "is not a governor"),
        # datasets
        (acme, ("dataset", "show", root), 0, ""),
        (acme, ("dataset", "show", "0x12"), 2, "'0x12'"),
        (acme, ("dataset", "show", UNKNOWN), 6, f"dataset {UNKNOWN} is not registered"),
        (acme, ("verify", str(stranger)), 6, "is not registered or anchored"),
        (acme, ("verify", str(data), "--proof", str(garbage_proof)), 2, "not JSON"),
        (acme, ("register", str(data), "--key", "acme"), 5, "is already registered"),
        (acme, ("right", "accept", UNKNOWN, "holding", "--key", "acme"), 6, "is not registered"),
        # anchors
        (acme, ("anchor", "list", UNKNOWN), 6, "no anchor recorded"),
        # licences and receipts
        (beta, ("grant", "check", root, "DEMO:BETA", "read"), 0, ""),
        (beta, ("grant", "check", root, "DEMO:BETA", "derive"), 4, ""),
        (beta, ("grant", "show", root, "DEMO:ACME"), 6, "there is no grant"),
        (acme, ("grant", "issue", root, "DEMO:ACME", "--key", "acme"), 5, "cannot grant dataset"),
        (acme, ("grant", "issue", UNKNOWN, "DEMO:BETA", "--key", "acme"), 6, "is not registered"),
        (beta, ("receipt", "verify", str(receipt), "--offline"), 0, ""),
        (beta, ("receipt", "verify", str(malformed)), 2, "the receipt file is malformed: it has no 'dataset' field"),
        (beta, ("receipt", "submit", str(malformed), "--key", "beta"), 2, "the receipt file is malformed"),
        (beta, ("receipt", "verify", str(tampered)), 4, "no longer matches what the provider signed"),
        # disputes
        (acme, ("dispute", "show", "99"), 6, "there is no dispute 99"),
        # metadata
        (acme, ("metadata", "verify", UNKNOWN, "--document", str(data), "--salt", UNKNOWN), 6, "is not registered"),
        (acme, ("metadata", "verify", root, "--document", str(data), "--salt", "0x12"), 2, "0x12"),
        # audit
        (acme, ("audit", UNKNOWN, "-o", str(tmp_path / "unknown.bundle.json")), 6, "is not registered"),
        (acme, ("audit", "verify", str(garbage_proof)), 2, "not JSON"),
        # checkpoints
        (acme, ("checkpoint", "verify", str(receipt), "--trust", str(garbage_proof)), 2, "council file"),
        (acme, ("checkpoint", "sign", "--witness", "none", "--governor", "acme", "--no-submit"), 2, "no witness key"),
    ]
    for who, args, code, fragment in cases:
        result = who.run(*args)
        if code == 0:
            assert result.code == 0, (args, result.stderr)
        elif code == 4 and not fragment:
            assert result.code == 4 and "Traceback" not in result.stderr, (args, result.stdout, result.stderr)
        else:
            assert_one_clear_line(result, code, fragment)

    dead = f"http://127.0.0.1:{free_port()}"
    for args in (
        ("chain", "status"),
        ("member", "list"),
        ("dataset", "show", root),
        ("grant", "check", root, "DEMO:BETA", "read"),
        ("receipt", "verify", str(receipt)),
        ("dispute", "show", "1"),
        ("audit", root, "-o", str(tmp_path / "never.bundle.json")),
        ("checkpoint", "council", "--out", str(tmp_path / "council.json")),
    ):
        assert_one_clear_line(acme.run(*args, "--rpc-url", dead), 3, "no chain node answers")
    assert_one_clear_line(acme.run("api", "status", "--url", dead), 3, "no registry API answers")
    assert_one_clear_line(acme.run("dataset", "list", "--api-url", dead), 3, dead)


def test_api_status_with_the_chain_down(user: User, tmp_path: Path) -> None:
    """The API answers but its node does not: exit 3 and a line that says so, not `chain head None`."""
    port = free_port()
    user.extra_env.update(
        IDSREG_API_PORT=str(port),
        IDSREG_API_RPC_URL=f"http://127.0.0.1:{free_port()}",
        IDSREG_API_DATABASE_URL=f"sqlite:///{tmp_path / 'index.db'}",
    )
    user.ok("api", "serve", "--detach")
    try:
        down = user.run("api", "status")
        assert_one_clear_line(down, 3, f"the registry API at http://127.0.0.1:{port} answers, but its chain node")
        assert "None" not in down.stderr
        scripted = user.run("api", "status", "--json")
        assert scripted.code == 3 and scripted.json()["nodeReachable"] is False
    finally:
        user.ok("api", "stop")
