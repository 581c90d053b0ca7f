"""The demo's last step (client/_cli/demo.py `_audit`) on the workload story's chain: the audit
bundle written, verified against the node, and its HTML and PDF reports; run again at the same
block, the files there are verified again, not replaced. (`test_demo_sets_up_a_consortium`
checks the same through `idsreg demo` itself.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from web3 import Web3

from client._cli.demo import _audit
from tests.registry_api.conftest import tell_story
from tests.registry_api.workload import Story


@pytest.fixture(scope="module")
def story(w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> Story:
    return tell_story(w3, tmp_path_factory.mktemp("deployments"))


def test_the_demo_ends_with_a_verified_bundle_and_its_reports(story: Story, tmp_path: Path) -> None:
    licence, receipt = tmp_path / "licence.json", tmp_path / "receipt.json"
    licence.write_text(json.dumps(story.openings[0].to_dict()))
    assert story.receipt_file is not None
    receipt.write_text(story.receipt_file.to_json())
    root = story.roots["turbine scans"]
    made = _audit(story.registry, root, [licence, receipt], tmp_path / "audit")
    head = int(story.w3.eth.block_number)
    assert made["bundle"] == tmp_path / "audit" / f"block-{head}" / "bundle.json" and made["lastBlock"] == head
    assert "every header of blocks" in made["authenticatedBy"]
    assert len(json.loads(made["bundle"].read_bytes())["openings"]) == 2
    assert made["report"].read_text().startswith("<!DOCTYPE html>")
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(made["pdf"]).pages))
    assert "0x" + root.hex() in text and f"Everyfact({made['facts']})" in text
    written = {k: made[k].stat().st_mtime_ns for k in ("bundle", "report", "pdf")}
    assert _audit(story.registry, root, [licence, receipt], tmp_path / "audit") == made
    assert {k: made[k].stat().st_mtime_ns for k in ("bundle", "report", "pdf")} == written
