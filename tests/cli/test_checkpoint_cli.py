"""`idsreg checkpoint …` as a governor and an auditor run it: a witness key, its registration
by governance, a cosignature, the council file, and the offline check — with the refusals."""

from __future__ import annotations

import base64
import json

from client.tlog_proof import from_tlog_proof, to_tlog_proof
from tests.cli.conftest import User, assert_one_clear_line
from tests.client.test_tlog_proof import proof_of


def governor(user: User) -> User:
    user.add_key("gov")
    user.ok("deploy", "--key", "gov")
    return user


def test_witness_key_cosign_council_and_offline_verify(user: User) -> None:
    gov = governor(user)
    key = gov.ok_json("checkpoint", "key", "new", "w1")
    assert len(key["publicKey"]) == 44 and "privateKey" not in json.dumps(key)
    assert (gov.home / "witness" / "w1.json").stat().st_mode & 0o077 == 0
    assert gov.ok_json("checkpoint", "key", "propose", "gov", "w1", "--key", "gov")["executed"]
    note = gov.home / "checkpoint.note"
    signed = gov.ok_json(
        "checkpoint", "sign", "--witness", "w1", "--governor", "gov", "--no-submit", "--out", str(note)
    )
    assert signed["note"] == note.read_text() and signed["previousSize"] == 0
    council = gov.home / "council.json"
    gov.ok("checkpoint", "council", "--out", str(council))
    document = json.loads(council.read_text())
    assert document["threshold"] == 1 and document["governors"][0]["witnessKey"] == key["publicKey"]
    verified = gov.ok_json("checkpoint", "verify", str(note), "--trust", str(council))
    assert (verified["size"], verified["root"], verified["verified"]) == (signed["size"], signed["root"], True)
    # Cosigning again after the chain moved on extends the tree it cosigned before.
    gov.ok("member", "propose", "threshold", "1", "--key", "gov")
    again = gov.ok_json("checkpoint", "sign", "--witness", "w1", "--governor", "gov", "--no-submit")
    assert again["previousSize"] == signed["size"] and again["size"] > signed["size"]


def test_refusals(user: User) -> None:
    gov = governor(user)
    gov.ok("checkpoint", "key", "new", "w1")
    assert_one_clear_line(gov.run("checkpoint", "key", "new", "w1"), 2, "already exists")
    # A witness key governance never registered does not cosign.
    result = gov.run("checkpoint", "sign", "--witness", "w1", "--governor", "gov", "--no-submit")
    assert_one_clear_line(result, 4, "is not governor", "witness key on chain (none)")
    assert_one_clear_line(
        gov.run("checkpoint", "key", "propose", "gov", "AAAA", "--key", "gov"),
        2,
        "'AAAA' is neither a witness key label nor a base64 Ed25519 public key",
    )
    gov.ok("checkpoint", "key", "propose", "gov", "w1", "--key", "gov")
    note = gov.home / "checkpoint.note"
    gov.ok("checkpoint", "sign", "--witness", "w1", "--governor", "gov", "--no-submit", "--out", str(note))
    council = gov.home / "council.json"
    gov.ok("checkpoint", "council", "--out", str(council))
    # A flipped root byte: the cosignature no longer verifies (exit 4, naming the governor).
    lines = note.read_text().split("\n")
    root = bytearray(base64.b64decode(lines[2]))
    root[0] ^= 1
    lines[2] = base64.b64encode(bytes(root)).decode()
    tampered = gov.home / "tampered.note"
    tampered.write_text("\n".join(lines))
    assert_one_clear_line(gov.run("checkpoint", "verify", str(tampered), "--trust", str(council)), 4, "does not verify")
    bad = json.loads(council.read_text())
    bad["threshold"] = 5
    bad_council = gov.home / "bad-council.json"
    bad_council.write_text(json.dumps(bad))
    assert_one_clear_line(
        gov.run("checkpoint", "verify", str(note), "--trust", str(bad_council)), 2, "council file: threshold 5"
    )
    # No registry API to hand the cosignature to: exit 3, naming its address.
    gov.extra_env["IDSREG_API_URL"] = "http://127.0.0.1:9"
    assert_one_clear_line(
        gov.run("checkpoint", "sign", "--witness", "w1", "--governor", "gov"), 3, "http://127.0.0.1:9"
    )


def test_anchor_proof_exports_a_tlog_proof(user: User) -> None:
    proof = user.home / "a.proof.json"
    proof.write_text(proof_of(3).to_json())
    printed = user.ok("anchor", "proof", str(proof)).stdout
    assert printed == to_tlog_proof(proof_of(3))
    out = user.home / "a.tlog-proof"
    user.ok("anchor", "proof", str(proof), "--out", str(out))
    from_tlog_proof(out.read_text()).verify()
    assert_one_clear_line(user.run("anchor", "proof", str(proof), "--format", "xml"), 2, "'xml'")
