"""Verify by drop (`/verify`), in a real Chromium against the API over a real index of the
workload story: the browser's content roots equal `idsreg hash` (run as a user runs it), the
docs' test vectors hold, registered and unknown roots, valid and tampered proof and receipt
files, and nothing dropped leaves the browser."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Request

from client.anchors import Anchors
from client.chain.enums import Grade, Party
from client.datasets import Registration
from client.hashing import content_root
from client.proofs import ProofFile
from registry_api.indexer import Indexer
from tests.browser import Browser, browser
from tests.registry_api.conftest import api_settings_for, databases, serving
from tests.registry_api.workload import Story, h

MIB = 1 << 20
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
IDSREG = Path(sys.executable).with_name("idsreg")


@dataclass
class Site:
    story: Story
    url: str
    #: A file registered by Beta (grade important) and anchored alone by Gamma.
    registered: Path
    registered_root: str
    #: The proof file of that single-item anchor, and of Beta's later anchor of the same tree.
    registered_proof: ProofFile
    later_proof: ProofFile


@pytest.fixture(scope="module")
def site(told_story: Story, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("dropcheck")
    registered = folder / "turbine-readings.csv"
    registered.write_bytes(b"time,rpm\n" + b"".join(b"%d,%d\n" % (t, 1500 + t % 7) for t in range(50_000)))
    root = content_root(registered)
    story = told_story
    story.datasets.register(
        story.key("BETA"), Registration(root, Grade.IMPORTANT, h("metadata of turbine readings"), "ipfs://turbine")
    )
    batch = Anchors(story.registry).anchor(story.key("GAMMA"), [root], ["turbine-readings.csv"])
    # The same one-item tree anchored later by Beta: anchors are per (root, organisation).
    again = Anchors(story.registry).anchor(story.key("BETA"), [root], ["turbine-readings.csv"])
    with databases("sqlite", folder) as make:
        engine = make()
        deployments = folder / "deployments"
        story.registry.manifest.save(deployments)
        settings = api_settings_for(story.registry, engine, deployments)
        Indexer(story.registry, engine, settings).scan_once()
        with serving(settings, engine) as url:
            yield Site(story, url, registered, "0x" + root.hex(), batch.proofs[0], again.proofs[0])


@pytest.fixture(scope="module")
def page(site: Site) -> Iterator[Browser]:
    """One Chromium page on /verify for the module, recording every request it makes."""
    with browser() as b:
        requests: list[Request] = []
        b.page.on("request", lambda request: requests.append(request))
        b.page.goto(f"{site.url}/verify")
        b.page.wait_for_selector("body[data-ready=true]")
        b.requests = requests  # type: ignore[attr-defined]
        yield b


def idsreg_hash(path: Path) -> str:
    """The root `idsreg hash` prints, run as a user runs it."""
    done = subprocess.run([str(IDSREG), "hash", "--json", str(path)], capture_output=True, text=True, check=True)
    return str(json.loads(done.stdout)[0]["root"])


def pick(b: Browser, selector: str, path: Path) -> str:
    """Pick a file or folder with the page's picker; the root the page computed."""
    b.page.evaluate("delete document.body.dataset.state")
    b.page.set_input_files(selector, str(path))
    b.page.wait_for_selector("body[data-state]", timeout=120_000)
    assert b.page.evaluate("document.body.dataset.state") == "looked-up", b.page.locator("#error").inner_text()
    return b.page.locator("#root").inner_text()


def os_drop(b: Browser, path: Path) -> str:
    """Drop a file or folder from the disk on the drop zone, as a drag from the desktop does
    (Chromium's DevTools protocol drags real paths); the root the page computed."""
    b.page.evaluate("delete document.body.dataset.state")
    box = b.page.locator("#drop").bounding_box()
    assert box is not None
    at = {"x": box["x"] + 20, "y": box["y"] + 20}
    cdp = b.page.context.new_cdp_session(b.page)
    data = {"items": [], "files": [str(path)], "dragOperationsMask": 1}
    for kind in ("dragEnter", "dragOver", "drop"):
        cdp.send("Input.dispatchDragEvent", {"type": kind, **at, "data": data})
    cdp.detach()
    b.page.wait_for_selector("body[data-state]", timeout=120_000)
    assert b.page.evaluate("document.body.dataset.state") == "looked-up", b.page.locator("#error").inner_text()
    return b.page.locator("#root").inner_text()


def drop_evidence(b: Browser, path: Path) -> str:
    """Pick a proof or receipt file; the verdict card's text."""
    before = b.page.locator("#evidence-list .card").count()
    b.page.set_input_files("#pick-file", str(path))
    # The page's CSP forbids eval, so no wait_for_function: wait for the card one past the count.
    b.page.locator("#evidence-list .card").nth(before).wait_for()
    return b.page.locator("#evidence-list .card").first.inner_text()


def pattern(size: int) -> bytes:
    """Bytes 0..250 repeated, as in docs/hashing.md's vectors."""
    return (bytes(range(251)) * (size // 251 + 1))[:size]


@pytest.mark.parametrize("size", [0, 1, MIB, MIB + 1, 50 * MIB], ids=["0B", "1B", "1MiB", "1MiB+1", "50MiB"])
def test_file_root_equals_idsreg_hash(page: Browser, tmp_path: Path, size: int) -> None:
    path = tmp_path / f"data-{size}.bin"
    path.write_bytes(random.Random(size).randbytes(size))
    assert pick(page, "#pick-file", path) == idsreg_hash(path)


def mixed_folder(folder: Path) -> Path:
    """Nested folders, an empty one, a hidden file, a name stored decomposed (NFD), names above
    U+007F and U+FFFF, and names whose UTF-8 and UTF-16 orders differ."""
    files = {
        "a.txt": b"a",
        "a/b": b"nested",
        "a-b": b"",
        "Z": b"upper",
        ".config/settings.json": b"{}",
        "deep/er/still/data.bin": random.Random(7).randbytes(MIB + 5),
        "é.csv": b"e acute, composed",
        unicodedata.normalize("NFD", "café/menu.txt"): b"decomposed on disk",
        "Ａ.txt": b"fullwidth",
        "😀.txt": b"above U+FFFF",
        "日本/データ.csv": b"1,2,3\n",
    }
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    (folder / "empty-dir").mkdir()
    return folder


def test_folder_root_equals_idsreg_hash(page: Browser, tmp_path: Path) -> None:
    folder = mixed_folder(tmp_path / "dataset")
    assert pick(page, "#pick-folder", folder) == idsreg_hash(folder)
    assert "11 file(s)" in page.page.locator("#root-what").inner_text()


def test_folder_dropped_from_the_disk_equals_idsreg_hash(page: Browser, tmp_path: Path) -> None:
    """The drop path proper: the folder's entries walked with webkitGetAsEntry, a folder of more
    entries than one readEntries call gives (100 in Chromium) included."""
    folder = mixed_folder(tmp_path / "dropped")
    (folder / "many").mkdir()
    for n in range(150):
        (folder / "many" / f"part-{n:03}.csv").write_text(f"{n}\n")
    assert os_drop(page, folder) == idsreg_hash(folder)
    assert "161 file(s)" in page.page.locator("#root-what").inner_text()


def test_big_file_dropped_from_the_disk_equals_idsreg_hash(page: Browser, tmp_path: Path) -> None:
    path = tmp_path / "dropped.bin"
    path.write_bytes(random.Random(5).randbytes(3 * MIB + 11))
    assert os_drop(page, path) == idsreg_hash(path)


DOC_VECTORS = {
    "empty": (b"", "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    "hello": (b"hello", "8a2a5c9b768827de5a9552c38a044c66959c68f6d2f21b5260af54d2f87db827"),
    "1MiB+1": (pattern(MIB + 1), "c782cd77b0f9139f9d7fab306f384a6cab7f6c65426252d0f67ef5aadffcc3f3"),
    "5MiB+3": (pattern(5 * MIB + 3), "c6552c34cd7dbf276293e3629afd95442843885a295520f8992fc61595be00a2"),
}


@pytest.mark.parametrize("name", DOC_VECTORS)
def test_docs_file_vectors(page: Browser, tmp_path: Path, name: str) -> None:
    data, root = DOC_VECTORS[name]
    path = tmp_path / f"{name}.bin"
    path.write_bytes(data)
    assert pick(page, "#pick-file", path) == "0x" + root


def test_docs_worked_example_folder(page: Browser, tmp_path: Path) -> None:
    (tmp_path / "dataset" / "data").mkdir(parents=True)
    (tmp_path / "dataset" / "data" / "empty.csv").write_bytes(b"")
    (tmp_path / "dataset" / "hello.txt").write_bytes(b"hello")
    root = pick(page, "#pick-folder", tmp_path / "dataset")
    assert root == "0x7fc3749f444316ff9d873fe6411a11858737efa626a651822c52891bdce52ee3"


def test_dropped_file_is_hashed_like_a_picked_one(page: Browser) -> None:
    """A real drop event (the files made in the page, as a drag from the desktop brings them)."""
    page.page.evaluate("delete document.body.dataset.state")
    page.page.evaluate(
        """() => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new TextEncoder().encode("hello")], "hello.txt"));
        document.getElementById("drop").dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true}));
    }"""
    )
    page.page.wait_for_selector("body[data-state=looked-up]")
    assert page.page.locator("#root").inner_text() == "0x" + DOC_VECTORS["hello"][1]


def test_two_dropped_files_are_refused_with_a_reason(page: Browser) -> None:
    page.page.evaluate(
        """() => {
        const transfer = new DataTransfer();
        transfer.items.add(new File(["a"], "one.txt"));
        transfer.items.add(new File(["b"], "two.txt"));
        document.getElementById("drop").dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true}));
    }"""
    )
    page.page.wait_for_selector("#error:not([hidden])")
    assert (
        "drop one file or one folder at a time to compute its root (got 2)" in page.page.locator("#error").inner_text()
    )


def test_registered_file_shows_registrant_grade_anchor_and_link(page: Browser, site: Site) -> None:
    assert pick(page, "#pick-file", site.registered) == site.registered_root
    dataset = httpx.get(f"{site.url}/v1/datasets/{site.registered_root}").json()
    registration = page.page.locator("#registration").inner_text()
    assert f"Registered by {dataset['registrant']['name']}" in registration
    assert "important" in registration
    assert page.page.locator("#dataset-link").get_attribute("href") == f"/datasets/{site.registered_root}"
    anchors = page.page.locator("#anchors").inner_text()
    gamma = httpx.get(f"{site.url}/v1/members/{site.story.orgs['GAMMA'].org_id}").json()["name"]
    assert f"Anchored by {gamma}" in anchors
    assert site.registered_proof.root.lower() in anchors
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.page.screenshot(path=str(SCREENSHOTS / "verify.png"), full_page=True)


def test_unknown_file_is_not_registered(page: Browser, tmp_path: Path) -> None:
    path = tmp_path / "unknown.csv"
    path.write_bytes(b"nobody registered this\n")
    pick(page, "#pick-file", path)
    assert "Not registered" in page.page.locator("#registration").inner_text()
    assert "Not anchored alone" in page.page.locator("#anchors").inner_text()


def test_proof_file_of_a_batch_verifies(page: Browser, site: Site, tmp_path: Path) -> None:
    proof = site.story.anchor_proofs[1]
    path = tmp_path / "prototype.proof.json"
    path.write_text(proof.to_json())
    verdict = drop_evidence(page, path)
    gamma = httpx.get(f"{site.url}/v1/members/{site.story.orgs['GAMMA'].org_id}").json()["name"]
    assert f"the proof holds — anchored by {gamma}" in verdict
    assert "leaf 1 of 3" in verdict


def test_proof_file_of_the_dropped_file_says_it_matches(page: Browser, site: Site, tmp_path: Path) -> None:
    pick(page, "#pick-file", site.registered)
    path = tmp_path / "turbine.proof.json"
    path.write_text(site.registered_proof.to_json())
    verdict = drop_evidence(page, path)
    assert "is this proof's item (same content root)" in verdict
    assert "other content" not in verdict


def test_proof_file_of_other_content_says_so(page: Browser, site: Site, tmp_path: Path) -> None:
    pick(page, "#pick-file", site.registered)
    path = tmp_path / "other.proof.json"
    path.write_text(site.story.anchor_proofs[1].to_json())
    verdict = drop_evidence(page, path)
    assert "the proof holds" in verdict and "but for other content than the one hashed here" in verdict
    assert f"has root {site.registered_root}, not this proof's item" in verdict


def test_proof_of_a_root_another_organisation_anchored_first(page: Browser, site: Site, tmp_path: Path) -> None:
    """The API's `/v1/anchors/{root}` gives Gamma's (earliest) anchor; the page finds Beta's own."""
    path = tmp_path / "beta.proof.json"
    path.write_text(site.later_proof.to_json())
    beta = httpx.get(f"{site.url}/v1/members/{site.story.orgs['BETA'].org_id}").json()["name"]
    verdict = drop_evidence(page, path)
    assert f"the proof holds — anchored by {beta}" in verdict
    assert f"(block {site.later_proof.block_number})" in verdict


def test_tampered_proof_file_does_not_verify(page: Browser, site: Site, tmp_path: Path) -> None:
    raw = json.loads(site.story.anchor_proofs[1].to_json())
    raw["path"][0] = "0x" + "ab" * 32
    path = tmp_path / "tampered.proof.json"
    path.write_text(json.dumps(raw))
    verdict = drop_evidence(page, path)
    assert "the proof does not verify" in verdict
    assert f"not to the file's root {raw['root'].lower()}" in verdict


def test_proof_with_a_wrong_block_does_not_verify(page: Browser, site: Site, tmp_path: Path) -> None:
    raw = json.loads(site.story.anchor_proofs[1].to_json())
    raw["blockNumber"] += 1
    path = tmp_path / "moved.proof.json"
    path.write_text(json.dumps(raw))
    verdict = drop_evidence(page, path)
    assert f"the proof says block {raw['blockNumber']}; the anchor on the chain has {raw['blockNumber'] - 1}" in verdict


def test_receipt_file_verifies(page: Browser, site: Site, tmp_path: Path) -> None:
    receipt = site.story.receipt_file
    assert receipt is not None
    path = tmp_path / "delivery.receipt.json"
    path.write_text(receipt.to_json())
    verdict = drop_evidence(page, path)
    assert "both signatures verify" in verdict
    for party, org in (("provider", "ALPHA"), ("consumer", "BETA")):
        name = httpx.get(f"{site.url}/v1/members/{site.story.orgs[org].org_id}").json()["name"]
        key = receipt.signatures[party]["key"]
        assert f"{name} (member " in verdict and key in verdict
    assert "0x" + receipt.digest.hex() in verdict
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.page.screenshot(path=str(SCREENSHOTS / "verify-evidence.png"), full_page=True)


def test_tampered_receipt_file_does_not_verify(page: Browser, site: Site, tmp_path: Path) -> None:
    receipt = site.story.receipt_file
    assert receipt is not None
    raw = json.loads(receipt.to_json())
    raw["receipt"]["deliveredAt"] += 3600
    path = tmp_path / "tampered.receipt.json"
    path.write_text(json.dumps(raw))
    verdict = drop_evidence(page, path)
    assert "the receipt does not verify" in verdict
    assert "its fields were changed after signing" in verdict
    assert f"which key {receipt.signatures['provider']['key']} signed" in verdict


def test_receipt_signed_by_a_key_of_another_organisation(page: Browser, site: Site, tmp_path: Path) -> None:
    """A valid signature, by the key the file names, but that key is Gamma's, not the provider's."""
    receipt = site.story.receipt_file
    assert receipt is not None
    gamma = site.story.key("GAMMA")
    forged = replace(receipt, signatures={"consumer": receipt.signatures["consumer"]}).signed(Party.PROVIDER, gamma)
    path = tmp_path / "forged.receipt.json"
    path.write_text(forged.to_json())
    alpha = httpx.get(f"{site.url}/v1/members/{site.story.orgs['ALPHA'].org_id}").json()["name"]
    verdict = drop_evidence(page, path)
    assert "the receipt does not verify" in verdict
    assert f"made by key {gamma.address}, which is not a key of {alpha}" in verdict


def test_receipt_with_a_huge_nonce_is_read_exactly(page: Browser, site: Site, tmp_path: Path) -> None:
    """A uint256 nonce beyond 2^53 is read from the JSON text, not rounded by a JS number."""
    receipt = site.story.receipt_file
    assert receipt is not None
    raw = json.loads(receipt.to_json())
    raw["receipt"]["nonce"] = 2**255 + 1
    path = tmp_path / "huge.receipt.json"
    path.write_text(json.dumps(raw))
    verdict = drop_evidence(page, path)
    # Changed after signing, and the digest named is the exact one of the changed fields.
    assert "its fields were changed after signing" in verdict


def test_nothing_dropped_leaves_the_browser(page: Browser, site: Site) -> None:
    """Every request the page made in this module: GETs on this service, of its assets and of
    lookups by root, org or anchor; none with a body, none off the machine."""
    requests: list[Request] = page.requests  # type: ignore[attr-defined]
    assert requests, "the page made no request at all"
    allowed = (
        "/verify",
        "/assets/verify/",
        "/assets/explorer/",  # the explorer's layout the page sits in
        "/assets/docs/favicon.png",
        "/assets/npm/@noble/",
        "/v1/datasets/0x",
        "/v1/anchors",
        "/v1/status",
        "/v1/members/0x",
    )
    for request in requests:
        assert request.method == "GET", request.url
        assert request.post_data_buffer is None, request.url
        assert request.url.startswith(site.url), request.url
        assert request.url[len(site.url) :].startswith(allowed), request.url
    assert page.refused == []


def test_page_and_libraries_are_served_by_the_service(site: Site) -> None:
    page = httpx.get(f"{site.url}/verify")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    # The explorer's strict policy: the one inline script (the import map) admitted by its hash.
    assert "default-src 'none'" in policy and "'unsafe-inline'" not in policy
    assert re.search(r"script-src 'self' 'sha256-[A-Za-z0-9+/]{43}='; ", policy), policy
    assert 'href="/exchanges"' in page.text  # in the explorer's layout and navigation
    assert "webkitdirectory" in page.text and "cdn" not in page.text.lower()
    for asset in (
        "/assets/verify/hashworker.js",
        "/assets/npm/@noble/hashes/sha3.js",
        "/assets/npm/@noble/curves/secp256k1.js",
    ):
        response = httpx.get(f"{site.url}{asset}")
        assert response.status_code == 200, asset
        assert "javascript" in response.headers["content-type"], asset


def pick_refused(b: Browser, selector: str, path: Path) -> str:
    """Pick something the page must refuse; its message."""
    b.page.evaluate("delete document.body.dataset.state")
    b.page.set_input_files(selector, str(path))
    b.page.wait_for_selector("body[data-state=error]")
    return b.page.locator("#error").inner_text()


def test_names_equal_after_nfc_are_refused_like_idsreg_hash(page: Browser, tmp_path: Path) -> None:
    folder = tmp_path / "clash"
    folder.mkdir()
    (folder / "é.csv").write_bytes(b"composed")
    (folder / unicodedata.normalize("NFD", "é.csv")).write_bytes(b"decomposed")
    cli = subprocess.run([str(IDSREG), "hash", str(folder)], check=False, capture_output=True, text=True)
    assert cli.returncode != 0
    message = pick_refused(page, "#pick-folder", folder)
    assert "two names become equal after Unicode NFC normalisation" in message
    assert "é.csv" in message


def test_folder_without_files_is_refused(page: Browser, tmp_path: Path) -> None:
    (tmp_path / "hollow" / "empty-subfolder").mkdir(parents=True)
    message = pick_refused(page, "#pick-folder", tmp_path / "hollow")
    assert "it has no files, so it has no content to identify" in message
