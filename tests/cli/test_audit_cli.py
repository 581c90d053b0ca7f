"""`idsreg audit DATASET` and `idsreg audit verify BUNDLE`, run as a user runs them: the export
with the terms the user holds and a cosigned checkpoint, verification with no network at all
(in a network namespace when the machine allows one, always with every URL unset and an
unreachable proxy), against a node with --online, and the refusals."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from tests.cli.conftest import TEST_PASSWORD, CommandForks, User, assert_one_clear_line
from tests.client.audit.council import CouncilStory
from tests.registry_api.conftest import tell_story

IDSREG = Path(sys.executable).with_name("idsreg")


def _netns() -> bool:
    """Whether this machine lets us run a command in a fresh network namespace (no interfaces up)."""
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], check=False, capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def council(w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> CouncilStory:
    folder = tmp_path_factory.mktemp("audit-cli")
    return CouncilStory(tell_story(w3, folder / "deployments")).run()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("auditor")


@pytest.fixture(scope="module")
def auditor(council: CouncilStory, anvil: str, folder: Path, command_forks: CommandForks) -> User:
    """A user of the story's chain whose $IDSREG_HOME/terms holds the licence openings."""
    home = folder / "home"
    (home / "terms").mkdir(parents=True)
    (home / "password").write_text(TEST_PASSWORD + "\n")
    for n, opening in enumerate(council.story.openings[:-1]):
        (home / "terms" / f"licence-{n}.json").write_text(json.dumps(opening.to_dict()))
    council.story.registry.manifest.save(folder / "deployments")
    return User(home, anvil, folder / "deployments", home / "password", command_forks)


@pytest.fixture(scope="module")
def exported(council: CouncilStory, auditor: User, folder: Path) -> tuple[Path, Path]:
    """The bundle of "turbine scans" with a checkpoint the current council cosigned, and the council file."""
    handover, head = council.notes()
    (folder / "handover.note").write_bytes(handover)
    note = folder / "checkpoint.note"
    note.write_bytes(head)
    receipt = folder / "delivery.receipt.json"
    assert council.story.receipt_file is not None
    receipt.write_text(council.story.receipt_file.to_json())
    bundle = folder / "scans.bundle.json"
    root = "0x" + council.story.roots["turbine scans"].hex()
    summary = auditor.ok_json(
        "audit",
        root,
        "-o",
        str(bundle),
        "--terms",
        str(receipt),
        "--checkpoint",
        str(note),
        "--checkpoint",
        str(folder / "handover.note"),
    )
    assert summary["facts"] > 30 and summary["openings"] == 4 and summary["checkpointed"] is True
    trust = folder / "council.json"
    trust.write_bytes(council.council_file())
    return bundle, trust


def offline_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDSREG_") and "proxy" not in k.lower()}
    unreachable = "http://127.0.0.1:9"
    env.update(HOME=str(home), IDSREG_HOME=str(home), COLUMNS="200")
    env.update({k: unreachable for k in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")})
    env["IDSREG_RPC_URL"] = unreachable  # were anything to ask a node, it would fail loudly
    env["IDSREG_API_URL"] = unreachable
    return env


def verified_offline(command: list[str], home: Path) -> Any:
    """The --json answer of `command` run with no network (a namespace where the machine allows
    one, always every URL unset); it must succeed."""
    result = subprocess.run(
        (["unshare", "-n"] if _netns() else []) + command,
        check=False,
        env=offline_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_bundle_verifies_with_no_network(exported: tuple[Path, Path], tmp_path: Path) -> None:
    bundle, trust = exported
    command = [str(IDSREG), "audit", "verify", str(bundle), "--trust", str(trust), "--json"]
    answer = verified_offline(command, tmp_path)
    assert answer["verified"] is True and answer["undisclosedTerms"] == []
    assert "checkpoint of size" in answer["authenticatedBy"]
    assert {f["event"] for f in answer["facts"]} >= {"DatasetRegistered", "ReceiptRecorded", "VoteCast"}


def test_online_checks_the_last_block_against_the_node(exported: tuple[Path, Path], auditor: User) -> None:
    bundle, _ = exported
    result = auditor.ok("audit", "verify", str(bundle), "--online")
    assert "✓ verified" in result.stdout and "the node at" in result.stdout


def test_without_trust_or_node_nothing_authenticates_the_last_block(exported: tuple[Path, Path], auditor: User) -> None:
    bundle, _ = exported
    assert_one_clear_line(auditor.run("audit", "verify", str(bundle)), 4, "nothing authenticates", "--trust")


def test_a_tampered_bundle_is_refused_naming_fact_and_field(
    exported: tuple[Path, Path], auditor: User, tmp_path: Path
) -> None:
    original, trust = exported
    bundle = tmp_path / "tampered.json"
    document = json.loads(original.read_bytes())
    number = next(n for n, f in enumerate(document["facts"]) if f["event"] == "GrantIssued")
    document["facts"][number]["args"]["validUntil"] += 1
    import rfc8785

    bundle.write_bytes(rfc8785.dumps(document))
    result = auditor.run("audit", "verify", str(bundle), "--trust", str(trust))
    assert_one_clear_line(result, 4, f"fact {number} (GrantIssued", "field args.validUntil")


def test_refusals(exported: tuple[Path, Path], auditor: User, tmp_path: Path, council: CouncilStory) -> None:
    bundle, trust = exported
    root = "0x" + council.story.roots["turbine scans"].hex()
    assert_one_clear_line(auditor.run("audit", root, "-o", str(bundle)), 2, str(bundle), "already exists")
    assert_one_clear_line(auditor.run("audit", "0x1234"), 2, "0x1234", "not a dataset id")
    unknown = "0x" + "ab" * 32
    assert_one_clear_line(auditor.run("audit", unknown, "-o", str(tmp_path / "x.json")), 6, unknown)
    assert not (tmp_path / "x.json").exists()
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    assert_one_clear_line(auditor.run("audit", "verify", str(junk), "--trust", str(trust)), 2, "not JSON")
    assert_one_clear_line(auditor.run("audit", "verify", str(tmp_path / "none.json")), 2, "none.json")
    bad_trust = tmp_path / "bad-council.json"
    bad_trust.write_text('{"format": "idsreg-council/v1"}')
    assert_one_clear_line(auditor.run("audit", "verify", str(bundle), "--trust", str(bad_trust)), 2, "council file")


def test_offline_verification_writes_the_report_and_the_prov_export(
    exported: tuple[Path, Path], tmp_path: Path, council: CouncilStory
) -> None:
    from prov.model import ProvDocument

    bundle, trust = exported
    report, prov = tmp_path / "report.html", tmp_path / "history.prov.json"
    command = [str(IDSREG), "audit", "verify", str(bundle), "--trust", str(trust), "--json"]
    command += ["--report", str(report), "--prov", str(prov)]
    answer = verified_offline(command, tmp_path)
    assert answer["report"] == str(report) and answer["prov"] == str(prov)
    root = "0x" + council.story.roots["turbine scans"].hex()
    page = report.read_text()
    assert page.startswith("<!DOCTYPE html>") and root in page and "<svg" in page
    assert "checkpoint of size" in page  # how the last block was authenticated
    document = ProvDocument.deserialize(content=prov.read_text(), format="json")
    assert any(str(e.identifier.uri).endswith(f"dataset/{root}") for e in document.get_records())


def test_the_report_and_prov_files_are_never_replaced_nor_made_from_a_bad_bundle(
    exported: tuple[Path, Path], auditor: User, tmp_path: Path
) -> None:
    bundle, trust = exported
    report, prov = tmp_path / "report.html", tmp_path / "history.prov.json"
    report.write_text("an earlier report")
    result = auditor.run(
        "audit", "verify", str(bundle), "--trust", str(trust), "--report", str(report), "--prov", str(prov)
    )
    assert_one_clear_line(result, 2, str(report), "already exists")
    assert report.read_text() == "an earlier report" and not prov.exists()
    document = json.loads(bundle.read_bytes())
    document["facts"].pop(0)
    import rfc8785

    bad = tmp_path / "bad.json"
    bad.write_bytes(rfc8785.dumps(document))
    fresh = tmp_path / "fresh.html"
    result = auditor.run(
        "audit", "verify", str(bad), "--trust", str(trust), "--report", str(fresh), "--prov", str(prov)
    )
    assert_one_clear_line(result, 4, "leaves out")
    assert not fresh.exists() and not prov.exists()


def test_the_export_can_write_the_report_checked_against_its_node(
    auditor: User, tmp_path: Path, council: CouncilStory
) -> None:
    """Without the delivery's receipt file, the export holds the licences' openings only: the
    report says the delivery's terms were not disclosed."""
    root = "0x" + council.story.roots["turbine scans"].hex()
    bundle, report, prov = tmp_path / "b.json", tmp_path / "r.html", tmp_path / "p.json"
    taken = tmp_path / "taken.html"
    taken.write_text("kept")
    refused = auditor.run("audit", root, "-o", str(bundle), "--report", str(taken))
    assert_one_clear_line(refused, 2, str(taken), "already exists")
    assert not bundle.exists() and taken.read_text() == "kept"
    summary = auditor.ok_json("audit", root, "-o", str(bundle), "--report", str(report), "--prov", str(prov))
    assert summary["report"] == str(report) and summary["prov"] == str(prov) and bundle.exists()
    page = report.read_text()
    assert "the node at" in page  # the last block, checked against the node that exported it
    unproven = page.split('<section id="unproven">', 1)[1]
    assert "ReceiptRecorded" in unproven and "not disclosed" in unproven
    assert '"idsreg:termsDisclosed": false' in prov.read_text()


# ----- the PDF report -----


def pdf_text(path: Path) -> str:
    """The PDF's text with white space removed (table cells wrap anywhere)."""
    import re

    from pypdf import PdfReader

    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(path).pages))


def test_offline_verification_writes_the_pdf_report(
    exported: tuple[Path, Path], tmp_path: Path, council: CouncilStory
) -> None:
    bundle, trust = exported
    report = tmp_path / "report.pdf"
    command = [str(IDSREG), "audit", "verify", str(bundle), "--trust", str(trust), "--json", "--report", str(report)]
    answer = verified_offline(command, tmp_path)
    assert answer["report"] == str(report) and report.read_bytes().startswith(b"%PDF-")
    text = pdf_text(report)
    assert "0x" + council.story.roots["turbine scans"].hex() in text
    assert "checkpointofsize" in text  # how the last block was authenticated
    for fact in answer["facts"]:
        assert f"block{fact['block']},transaction{fact['tx']},log{fact['log']}" in text, fact
    assert "Whatthebundlecouldnotprove" in text


def test_the_report_format_is_the_suffix_or_given(exported: tuple[Path, Path], auditor: User, tmp_path: Path) -> None:
    bundle, trust = exported
    unknown = tmp_path / "report.txt"
    result = auditor.run("audit", "verify", str(bundle), "--trust", str(trust), "--report", str(unknown))
    assert_one_clear_line(result, 2, str(unknown), "'.txt'", ".html or .pdf")
    assert not unknown.exists()
    bad = auditor.run(
        "audit", "verify", str(bundle), "--trust", str(trust), "--report", str(unknown), "--format", "doc"
    )
    assert_one_clear_line(bad, 2, "'doc'", "html, pdf")
    auditor.ok("audit", "verify", str(bundle), "--trust", str(trust), "--report", str(unknown), "--format", "pdf")
    assert unknown.read_bytes().startswith(b"%PDF-")
    page = tmp_path / "page.HTM"
    auditor.ok("audit", "verify", str(bundle), "--trust", str(trust), "--report", str(page))
    assert page.read_text().startswith("<!DOCTYPE html>")


def test_a_bad_bundle_gives_no_pdf(exported: tuple[Path, Path], auditor: User, tmp_path: Path) -> None:
    import rfc8785

    original, trust = exported
    document = json.loads(original.read_bytes())
    document["facts"].pop(0)
    bad = tmp_path / "bad.json"
    bad.write_bytes(rfc8785.dumps(document))
    report = tmp_path / "bad.pdf"
    assert_one_clear_line(
        auditor.run("audit", "verify", str(bad), "--trust", str(trust), "--report", str(report)), 4, "leaves out"
    )
    assert not report.exists()


def test_the_export_writes_a_pdf_report(auditor: User, tmp_path: Path, council: CouncilStory) -> None:
    root = "0x" + council.story.roots["turbine scans"].hex()
    bundle, report = tmp_path / "b.json", tmp_path / "r.pdf"
    result = auditor.run("audit", root, "-o", str(bundle), "--report", str(report), "--json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["report"] == str(report)
    text = pdf_text(report)
    assert root in text and "thenodeat" in text
    # No registry API is configured for this user: the export says the bundle carries no checkpoint.
    assert "no registry API is configured" in result.stderr and "--online" in result.stderr


# ----- checkpoint from the registry API -----


def test_an_api_that_does_not_answer_is_named_and_nothing_is_written(
    auditor: User, tmp_path: Path, council: CouncilStory
) -> None:
    root = "0x" + council.story.roots["turbine scans"].hex()
    bundle = tmp_path / "b.json"
    result = auditor.run("audit", root, "-o", str(bundle), "--api-url", "http://127.0.0.1:9")
    assert_one_clear_line(result, 3, "http://127.0.0.1:9")
    assert not bundle.exists()
    skipped = auditor.run("audit", root, "-o", str(bundle), "--api-url", "http://127.0.0.1:9", "--no-checkpoint")
    assert skipped.code == 0 and "checkpoint" not in skipped.stderr, skipped.stderr


# ----- --online: every header and the facts' receipts against the node -----


def _forged_last_header(original: Path, target: Path) -> int:
    """The bundle with its last header's extraData changed (still valid RLP; nothing chains to it)."""
    import rfc8785
    import rlp

    document = json.loads(original.read_bytes())
    fields = rlp.decode(bytes.fromhex(document["headers"][-1][2:]))
    fields[12] = b"forged"
    document["headers"][-1] = "0x" + rlp.encode(fields).hex()
    target.write_bytes(rfc8785.dumps(document))
    return int(document["firstBlock"]) + len(document["headers"]) - 1


def test_online_refuses_a_forged_last_header(exported: tuple[Path, Path], auditor: User, tmp_path: Path) -> None:
    """A forged last header the offline check alone cannot tell (nothing chains to it, and no
    checkpoint is trusted here): the node's block hash differs."""
    forged = tmp_path / "forged.json"
    number = _forged_last_header(exported[0], forged)
    assert_one_clear_line(auditor.run("audit", "verify", str(forged)), 4, "nothing authenticates")
    result = auditor.run("audit", "verify", str(forged), "--online")
    assert_one_clear_line(result, 4, f"header of block {number}", "is not the node's block")


def test_online_refuses_a_bundle_of_another_chain(exported: tuple[Path, Path], auditor: User, tmp_path: Path) -> None:
    """Another node of the same chain id whose blocks are not the bundle's: refused at the first block."""
    from client.chain.node import AnvilProcess, ChainConfig, free_port

    bundle, _ = exported
    first = json.loads(bundle.read_bytes())["firstBlock"]
    node = AnvilProcess.from_genesis(ChainConfig.load(), free_port(), tmp_path / "anvil.log")
    node.start()
    try:
        other = Web3(Web3.HTTPProvider(node.rpc_url))
        other.provider.make_request("anvil_mine", [hex(first + 5)])  # type: ignore[arg-type]
        result = auditor.run("audit", "verify", str(bundle), "--online", "--rpc-url", node.rpc_url)
        assert_one_clear_line(result, 4, f"header of block {first}", "is not the node's block", "another chain")
    finally:
        node.stop()


def test_online_says_what_it_checked(exported: tuple[Path, Path], auditor: User) -> None:
    bundle, _ = exported
    answer = auditor.ok_json("audit", "verify", str(bundle), "--online")
    document = json.loads(bundle.read_bytes())
    last = document["firstBlock"] + len(document["headers"]) - 1
    assert f"every header of blocks {document['firstBlock']}..{last}" in answer["authenticatedBy"]
    assert "fact receipt(s)" in answer["authenticatedBy"]
