"""`idsreg verify PATH --proof FILE --offline`: a proof checked with no chain node at all."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from tests.cli.conftest import User, assert_one_clear_line
from tests.cli.test_dataset_cli import members, root_of, write  # noqa: F401  (members: a fixture)

#: Nothing listens here: any attempt to reach a node fails.
UNREACHABLE = "http://127.0.0.1:9"


def test_offline_verification_contacts_no_node(members: User, tmp_path: Path) -> None:  # noqa: F811
    files = [write(tmp_path / "readings" / f"r{i}.csv", f"reading {i}\n") for i in range(5)]
    anchored = members.ok_json("anchor", *map(str, files), "--out", str(tmp_path / "proofs"), "--key", "conn")
    proof = Path(anchored["proofs"][3])

    # The auditor has the file and its proof, no node, and no deployment manifest.
    auditor = replace(members, rpc_url=UNREACHABLE, deployments=tmp_path / "no-deployments")
    online = auditor.run("verify", str(files[3]), "--proof", str(proof))
    assert_one_clear_line(online, 3, UNREACHABLE)

    verdict = auditor.ok_json("verify", str(files[3]), "--proof", str(proof), "--offline")
    assert verdict["verified"] is True and verdict["offline"] is True
    assert verdict["checkedAgainstChain"] is False
    assert verdict["contentRoot"] == root_of(files[3])
    assert (verdict["leafIndex"], verdict["treeSize"]) == (3, 5)
    assert verdict["treeRoot"] == anchored["root"]
    assert any("not checked" in line for line in verdict["doesNotProve"])
    claimed = verdict["claimedAnchor"]
    assert claimed["transaction"] == anchored["transaction"]
    assert isinstance(claimed["anchoredAt"], int)  # Unix seconds, as every --json gives times
    assert set(claimed["anchoredBy"]) == {"orgNo", "orgId", "name"} and claimed["anchoredBy"]["orgId"].startswith("0x")

    human = auditor.ok("verify", str(files[3]), "--proof", str(proof), "--offline")
    assert "verified offline" in human.stdout and "item 4 of 5" in human.stdout
    assert "not checked: that this tree root was anchored on the chain" in human.stdout
    assert human.stderr == ""

    wrong_file = auditor.run("verify", str(files[2]), "--proof", str(proof), "--offline")
    assert_one_clear_line(wrong_file, 4, "the proof is for content root", root_of(files[2]))

    raw: Any = json.loads(proof.read_text())
    raw["path"][0] = "0x" + ("00" if raw["path"][0][2:4] != "00" else "11") + raw["path"][0][4:]
    tampered = write(tmp_path / "tampered.proof.json", json.dumps(raw))
    refused = auditor.run("verify", str(files[3]), "--proof", str(tampered), "--offline")
    assert_one_clear_line(refused, 4, "inclusion proof does not verify")

    raw = json.loads(proof.read_text())
    raw["root"] = "0x" + "ab" * 32
    other_root = write(tmp_path / "other-root.proof.json", json.dumps(raw))
    assert_one_clear_line(auditor.run("verify", str(files[3]), "--proof", str(other_root), "--offline"), 4)

    no_proof = auditor.run("verify", str(files[3]), "--offline")
    assert_one_clear_line(no_proof, 2, "--offline needs --proof FILE")
