"""`idsreg chain verify-contracts`: the code at the manifest's addresses is the committed artifacts."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from client.chain.artifacts import DEPLOYABLE, load_artifact
from client.chain.codecheck import CodeStatus, compare_code, split_metadata
from tests.cli.conftest import User, assert_one_clear_line


def manifest_of(user: User) -> tuple[Path, dict[str, Any]]:
    (path,) = user.deployments.glob("*.json")
    return path, json.loads(path.read_text())


def test_a_clean_deployment_verifies(user: User) -> None:
    user.add_key("gov")
    user.ok("deploy", "--key", "gov")
    result = user.ok_json("chain", "verify-contracts")
    assert result["verified"] is True
    assert [c["name"] for c in result["contracts"]] == list(DEPLOYABLE)
    assert all(c["status"] == "match" and c["passes"] for c in result["contracts"])
    by_name = {c["name"]: c for c in result["contracts"]}
    assert by_name["DataRegistry"]["immutables"] == ["Consortium", "deployer"]
    assert set(by_name["ExchangeLedger"]["immutables"]) == {"Consortium", "DataRegistry", "AccessRegistry", "itself"}
    human = user.ok("chain", "verify-contracts").stdout
    assert human.count("✓") == len(DEPLOYABLE) and "✗" not in human


def test_a_manifest_pointing_at_another_contract_fails(user: User) -> None:
    user.add_key("gov")
    user.ok("deploy", "--key", "gov")
    path, manifest = manifest_of(user)
    original = path.read_text()
    contracts = manifest["contracts"]
    contracts["DataRegistry"]["address"] = contracts["AnchorRegistry"]["address"]
    path.write_text(json.dumps(manifest))

    refused = user.run("chain", "verify-contracts")
    # DataRegistry's address holds other code; the contracts wired to the real DataRegistry now
    # name an address that the manifest does not: they fail too, after DataRegistry.
    assert_one_clear_line(refused, 4, "contract(s) of the manifest", "DataRegistry at", "differs from the artifact")
    assert "✗ DataRegistry" in refused.stdout and "✓ AnchorRegistry" in refused.stdout
    as_json = user.run("chain", "verify-contracts", "--json")
    assert as_json.code == 4 and as_json.json()["verified"] is False
    statuses = {c["name"]: c["status"] for c in as_json.json()["contracts"]}
    assert statuses["DataRegistry"] == "codeDiffers" and statuses["AnchorRegistry"] == "match"
    assert statuses["AccessRegistry"] == "wiringDiffers"

    contracts["DataRegistry"]["address"] = "0x" + "00" * 19 + "77"  # no code there
    path.write_text(json.dumps(manifest))
    assert_one_clear_line(user.run("chain", "verify-contracts"), 4, "DataRegistry at", "no code")
    path.write_text(original)
    user.ok("chain", "verify-contracts")


def test_a_genuine_contract_wired_to_another_consortium_fails(user: User, tmp_path: Path) -> None:
    """The code matches the artifact, but its immutables name another deployment's Consortium."""
    user.add_key("gov")
    user.ok("deploy", "--key", "gov")
    other = replace(user, deployments=tmp_path / "other-deployments")
    other.ok("deploy", "--key", "gov")
    path, manifest = manifest_of(user)
    _, foreign = manifest_of(other)
    manifest["contracts"]["DataRegistry"]["address"] = foreign["contracts"]["DataRegistry"]["address"]
    path.write_text(json.dumps(manifest))
    refused = user.run("chain", "verify-contracts")
    assert_one_clear_line(refused, 4, "DataRegistry at", "neither a contract of this manifest nor its deployer")


def test_code_that_differs_only_in_its_metadata_hash() -> None:
    artifact = load_artifact("AnchorRegistry")
    code = bytes.fromhex(artifact.deployed_bytecode[2:])
    executable, metadata = split_metadata(code)
    assert metadata.startswith(bytes.fromhex("a2")) and len(executable) + len(metadata) == len(code)
    raw = {"deployedBytecode": artifact.deployed_bytecode, "immutableReferences": artifact.immutable_references}
    consortium = "0x" + "c0" * 20
    spans = [(r["start"], r["length"]) for refs in artifact.immutable_references.values() for r in refs]
    assert spans
    filled = bytearray(code)
    for start, length in spans:
        filled[start : start + length] = bytes(12) + bytes.fromhex(consortium[2:])
    code = bytes(filled)
    executable, metadata = split_metadata(code)
    check = compare_code("AnchorRegistry", "0xA", code, raw, {consortium: "Consortium"})
    assert check.status is CodeStatus.MATCH and check.immutables == ("Consortium",)
    assert compare_code("AnchorRegistry", "0xA", code, raw, {}).status is CodeStatus.WIRING_DIFFERS
    other_source = executable + metadata[:-10] + bytes(x ^ 0xFF for x in metadata[-10:-4]) + metadata[-4:]
    check = compare_code("AnchorRegistry", "0xA", other_source, raw, {consortium: "Consortium"})
    assert check.status is CodeStatus.METADATA_DIFFERS and not check.passes()
    assert check.passes(ignore_metadata=True)
    patched = bytearray(code)
    patched[100] ^= 0x01
    assert compare_code("AnchorRegistry", "0xA", bytes(patched), raw, {}).status is CodeStatus.CODE_DIFFERS
    assert compare_code("AnchorRegistry", "0xA", b"", raw, {}).status is CodeStatus.NO_CODE
