"""`GET /v1/datasets/{root}/audit/bundle` and `…/audit/report` over real HTTP on the workload
story, with checkpoints the governors cosigned and handed to the service: the bundle verifies
offline against the council, the report is HTML or PDF, only those who may see every licence
and delivery of the dataset get them; and `idsreg audit` fetches the service's latest
checkpoint by itself."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eth_account.signers.local import LocalAccount
from pypdf import PdfReader
from web3 import Web3

from client.audit.trust import by_checkpoint
from client.audit.verify import verify_bytes
from client.chain.enums import Action
from client.checkpoint_council import TrustedCouncil, dump_council_file
from client.checkpoint_node import node_council_history
from client.checkpoint_witness import cosign_head
from registry_api.indexer import Indexer
from tests.registry_api.conftest import Served, api_settings_for, databases, serving, tell_story
from tests.registry_api.workload import Story, hx

IDSREG = Path(sys.executable).with_name("idsreg")


def _seed(governor: LocalAccount) -> bytes:
    return hashlib.sha256(b"test-only audit witness " + bytes.fromhex(governor.address[2:])).digest()


def _public(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@pytest.fixture(scope="module")
def setup(w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, bytes, Path]]:
    """The story served from SQLite; both governors' witness keys on chain, and a checkpoint of
    the head they both cosigned handed to the service. Yields the served API, the council file
    of the auditor's own node, and a folder."""
    folder = tmp_path_factory.mktemp("audit-api")
    story = tell_story(w3, folder / "deployments")
    for g in story.governors:
        story.govern(Action.SET_WITNESS_KEY, g.address, _public(_seed(g)))
    history = node_council_history(story.registry)
    block = int(w3.eth.block_number)
    council = dump_council_file(TrustedCouncil(history.start.origin, block, history.state_at(block)))
    with databases("sqlite", folder) as make:
        engine = make()
        deployments = folder / "served"
        story.registry.manifest.save(deployments)
        settings = api_settings_for(story.registry, engine, deployments)
        Indexer(story.registry, engine, settings).scan_once()
        with serving(settings, engine) as url, httpx.Client(base_url=url, timeout=120) as http:
            size = int(w3.eth.block_number) + 1
            for n, g in enumerate(story.governors):
                cosigned = cosign_head(
                    story.registry, g.address, _seed(g), _public(_seed(g)), folder / f"w{n}", size=size
                )
                answer = http.post("/v1/checkpoints/cosignatures", json={"note": cosigned.note.decode()})
                assert answer.status_code == 200, answer.text
            assert http.get("/v1/checkpoints/latest").status_code == 200
            yield Served(story, engine, url, http, "sqlite"), council, folder


def test_the_auditor_gets_a_bundle_that_verifies_against_the_council(setup: tuple[Served, bytes, Path]) -> None:
    api, council, _ = setup
    s = api.story
    root = hx(s.roots["turbine scans"])
    response = api.http.get(f"/v1/datasets/{root}/audit/bundle", headers=api.sign_in(s.auditor))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"] == f'attachment; filename="audit-{root}.json"'
    from client.checkpoint_council import load_council_file

    verified = verify_bytes(response.content, authenticate=by_checkpoint(load_council_file(council)))
    assert "checkpoint of size" in str(verified.authenticated_by)
    assert verified.bundle.last_block == int(s.w3.eth.block_number)  # the cosigned head
    # The openings disclosed to the service travel in the bundle; none was disclosed here.
    assert {f.event for f in verified.facts} >= {"DatasetRegistered", "GrantIssued", "ReceiptRecorded"}
    # Asked again, the same bytes (kept per dataset and last block), and a governor may too.
    again = api.http.get(f"/v1/datasets/{root}/audit/bundle", headers=api.sign_in(s.governors[1]))
    assert again.status_code == 200 and again.content == response.content
    deeper = api.http.get(f"/v1/datasets/{root}/audit/bundle?depth=2", headers=api.sign_in(s.auditor))
    assert deeper.status_code == 200 and json.loads(deeper.content)["depth"] == 2


def test_the_report_is_html_or_pdf(setup: tuple[Served, bytes, Path]) -> None:
    api, _, _ = setup
    s = api.story
    root = hx(s.roots["turbine scans"])
    headers = api.sign_in(s.auditor)
    page = api.http.get(f"/v1/datasets/{root}/audit/report", headers=headers)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.text.startswith("<!DOCTYPE html>") and root in page.text and "<svg" in page.text
    assert "the registry service that built the bundle" in page.text
    for asked in ({"params": {"format": "pdf"}}, {"headers": {"Accept": "application/pdf"}}):
        extra = asked.get("headers", {})
        pdf = api.http.get(
            f"/v1/datasets/{root}/audit/report", params=asked.get("params"), headers={**headers, **extra}
        )
        assert pdf.status_code == 200, pdf.text
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["content-disposition"] == f'attachment; filename="audit-{root}.pdf"'
        text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages))
        assert root in text and "Everyfact" in text


def test_only_those_who_may_see_every_licence_and_delivery_get_it(setup: tuple[Served, bytes, Path]) -> None:
    """Without a token 401; a member that is party to only some of the dataset's licences and
    deliveries gets the 404 of an unknown dataset; ALPHA, the registrant, grantor of every licence
    and provider of the delivery, gets it."""
    api, _, _ = setup
    s = api.story
    root = hx(s.roots["turbine scans"])
    for route in ("bundle", "report"):
        path = f"/v1/datasets/{root}/audit/{route}"
        assert api.http.get(path).status_code == 401
        unknown = api.http.get(f"/v1/datasets/0x{'ab' * 32}/audit/{route}", headers=api.sign_in(s.auditor))
        assert unknown.status_code == 404
        assert api.http.get(path, headers=api.sign_in(s.key("ALPHA"))).status_code == 200
        for org in ("BETA", "GAMMA"):  # each a grantee of one licence, not of the others
            refused = api.http.get(path, headers=api.sign_in(s.key(org)))
            assert refused.status_code == 404 and refused.json()["error"] == unknown.json()["error"].replace(
                "0x" + "ab" * 32, root
            )
    bad = api.http.get(f"/v1/datasets/{root}/audit/bundle?depth=99", headers=api.sign_in(s.auditor))
    assert bad.status_code == 422


def idsreg(folder: Path, anvil: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`idsreg ARGS` as a user of the story's chain runs it (no registry API configured unless `env` says)."""
    home = folder / "home"
    home.mkdir(exist_ok=True)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IDSREG_")}
    environment.update(IDSREG_HOME=str(home), IDSREG_RPC_URL=anvil, IDSREG_DEPLOYMENTS=str(folder / "served"))
    environment.update(env)
    return subprocess.run(
        [str(IDSREG), *args], check=False, env=environment, capture_output=True, text=True, timeout=300
    )


def test_the_export_fetches_the_services_latest_checkpoint(setup: tuple[Served, bytes, Path], anvil: str) -> None:
    api, council, folder = setup
    s: Story = api.story
    root = hx(s.roots["turbine scans"])
    bundle = folder / "fetched.json"
    ran = idsreg(folder, anvil, "audit", root, "-o", str(bundle), "--json", IDSREG_API_URL=api.url)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["checkpointed"] is True
    assert f"carries the latest cosigned checkpoint (size {int(s.w3.eth.block_number) + 1})" in ran.stderr
    assert api.url in ran.stderr
    trust = folder / "council.json"
    trust.write_bytes(council)
    nowhere = "http://127.0.0.1:9"
    verified = idsreg(
        folder, nowhere, "audit", "verify", str(bundle), "--trust", str(trust), "--json",
        IDSREG_API_URL=nowhere,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    assert "checkpoint of size" in json.loads(verified.stdout)["authenticatedBy"]


def test_a_dataset_in_no_checkpoint_yet_is_said_so(setup: tuple[Served, bytes, Path], anvil: str) -> None:
    api, _, folder = setup
    unknown = "0x" + "ab" * 32
    ran = idsreg(folder, anvil, "audit", unknown, "-o", str(folder / "none.json"), "--api-url", api.url)
    assert ran.returncode == 6, ran.stderr
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and unknown in lines[0] and "--no-checkpoint" in lines[0], ran.stderr
    assert not (folder / "none.json").exists()
