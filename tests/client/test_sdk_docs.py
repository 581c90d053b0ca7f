"""docs/sdk.md's examples, and the typed registry API client behind them, against a real API
serving the workload story on the test chain (indexed into SQLite, served over HTTP), with two
real files registered: one, a dataset derived from it, and a licence on it."""

from __future__ import annotations

import contextlib
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from web3 import Web3

from client.api_models import DatasetPublic
from client.chain.enums import Grade, Permission
from client.chain.node import free_port
from client.datasets import Registration
from client.errors import ConfigError
from client.grants import Grants
from client.hashing import content_root, hex32
from client.keys import Keystore
from client.registry_client import ApiRefusedError, ApiUnreachableError, NotSignedInError, RegistryClient
from client.settings import get_settings
from registry_api.indexer import Indexer
from tests.cli.conftest import TEST_PASSWORD
from tests.conftest import ONE_YEAR, chain_time, increase_time
from tests.registry_api.conftest import api_settings_for, databases, serving, tell_story
from tests.registry_api.workload import Story, h

DOCS = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"


@dataclass
class Registered:
    story: Story
    url: str
    folder: Path
    scans: str
    model: str


@pytest.fixture(scope="module")
def registered(w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registered]:
    folder = tmp_path_factory.mktemp("sdk")
    story = tell_story(w3, folder / "deployments")
    files = folder / "files"
    files.mkdir()
    (files / "turbine-scans.csv").write_text("blade,wear\n1,0.02\n2,0.05\n")
    (files / "blade-model.csv").write_text("coefficient\n0.731\n")
    scans, model = content_root(files / "turbine-scans.csv"), content_root(files / "blade-model.csv")
    story.datasets.register(story.key("ALPHA"), Registration(scans, Grade.GENERAL, h("meta"), "ipfs://a/scans"))
    story.datasets.register(story.key("BETA"), Registration(model, Grade.GENERAL, h("meta 2"), "", (scans,)))
    # The chain's clock runs a month ahead of this machine's, and the licence starts at the
    # chain's "now": licence questions asked without a time must follow the chain's clock.
    increase_time(w3, 30 * 24 * 3600)
    now = chain_time(w3)
    assert now > time.time() + 7 * 24 * 3600
    Grants(story.registry).grant(
        story.key("ALPHA"), scans, "DEMO:BETA", Permission.READ | Permission.DERIVE, now - 60, now + ONE_YEAR, h("t")
    )
    with databases("sqlite", folder) as make:
        engine = make()
        settings = api_settings_for(story.registry, engine, folder / "deployments")
        Indexer(story.registry, engine, settings).scan_once()
        with serving(settings, engine) as url:
            yield Registered(story, url, files, hex32(scans), hex32(model))


#: The section whose examples write to the chain (run by test_the_sdk_registers).
WRITING = "## Registering from an application"


def _run(examples: list[str]) -> str:
    """Run the examples in order in one namespace, as a reader would; what they printed."""
    printed = io.StringIO()
    namespace: dict[str, object] = {}
    try:
        with contextlib.redirect_stdout(printed):
            for code in examples:
                exec(compile(code, str(DOCS), "exec"), namespace)  # noqa: S102 - the documentation's own examples
    finally:
        get_settings.cache_clear()
    return printed.getvalue()


def _examples(writing: bool = False) -> list[str]:
    text = DOCS.read_text()
    start = text.index(WRITING)
    end = text.index("\n## ", start + 1)
    part = text[start:end] if writing else text[:start] + text[end:]
    return re.findall(r"^```python\n(.*?)^```", part, flags=re.DOTALL | re.MULTILINE)


def test_the_sdk_examples_run(registered: Registered, monkeypatch: pytest.MonkeyPatch, w3: Web3) -> None:
    home = registered.folder.parent / "home"
    Keystore(home / "keystore").import_private_key(
        "beta", registered.story.key("BETA").key.hex(), TEST_PASSWORD, scrypt_n=2**10
    )
    monkeypatch.setenv("IDSREG_API_URL", registered.url)
    monkeypatch.setenv("IDSREG_HOME", str(home))
    monkeypatch.setenv("IDSREG_PASSWORD", TEST_PASSWORD)
    monkeypatch.chdir(registered.folder)
    get_settings.cache_clear()
    examples = _examples()
    assert len(examples) == 7  # connecting, one per question, and the other records (a new one runs too)
    out = _run(examples)
    assert f"turbine-scans.csv is dataset {registered.scans}, registered by ALPHA" in out
    assert "None\n" in out  # the unregistered root
    assert "holding: ALPHA (member" in out and "operation: ALPHA (member" in out
    assert "signed in as BETA" in out
    assert "BETA may read, derive until" in out and "True BETA (member" in out
    assert f"derived from: ['{registered.scans}']" in out and f"derived into: ['{registered.model}']" in out
    assert f"{registered.scans} (ancestor, 1 steps), registered by ALPHA" in out
    assert "DataRegistry DatasetRegistered" in out and "AccessRegistry GrantIssued" in out
    assert "items by GAMMA" in out  # the story's anchor


def test_the_sdk_registers(registered: Registered, monkeypatch: pytest.MonkeyPatch, w3: Web3) -> None:
    """The writing examples: a pipelined batch, its refusal, a commit-reveal with salt records."""
    home = registered.folder.parent / "home-writing"
    Keystore(home / "keystore").import_private_key(
        "beta", registered.story.key("BETA").key.hex(), TEST_PASSWORD, scrypt_n=2**10
    )
    monkeypatch.setenv("IDSREG_HOME", str(home))
    monkeypatch.setenv("IDSREG_PASSWORD", TEST_PASSWORD)
    monkeypatch.setenv("IDSREG_RPC_URL", str(w3.provider.endpoint_uri))  # type: ignore[attr-defined]
    monkeypatch.setenv("IDSREG_DEPLOYMENTS", str(registered.folder.parent / "deployments"))
    monkeypatch.chdir(registered.folder)
    get_settings.cache_clear()
    examples = _examples(writing=True)
    assert len(examples) == 2
    out = _run(examples)
    assert "250 datasets registered in 3 transactions" in out
    assert "refused: dataset 0x" in out and "is already registered by BETA (member" in out
    assert "revealed 0x" in out and "-commit-0x" not in out and "-commit-" in out
    readings = sorted((registered.folder / "readings").glob("*.json"))
    datasets = registered.story.datasets
    assert all(datasets.is_registered(content_root(p)) for p in readings)
    assert datasets.show(content_root(registered.folder / "wear-report.pdf")).grade == Grade.IMPORTANT
    assert len(list((home / "registrations").glob("*.json"))) == 2


def test_is_this_file_registered(registered: Registered, tmp_path: Path) -> None:
    unknown = tmp_path / "new.csv"
    unknown.write_text("never registered\n")
    with RegistryClient(registered.url) as api:
        found = api.lookup_file(registered.folder / "turbine-scans.csv")
        assert found.registered and found.dataset is not None
        assert (found.root, found.dataset.registrant.name, found.dataset.metadata_uri) == (
            registered.scans,
            "ALPHA",
            "ipfs://a/scans",
        )
        assert found.dataset.children == [registered.model] and found.dataset.child_count == 1
        missing = api.lookup_file(unknown)
        assert not missing.registered and missing.root == hex32(content_root(unknown))
        with pytest.raises(ApiRefusedError) as refused:
            api.dataset(missing.root)
        assert (refused.value.status, refused.value.exit_code) == (404, 6)
        assert missing.root in str(refused.value)
        with pytest.raises(ApiRefusedError) as malformed:
            api.dataset("0x12")
        assert malformed.value.status == 422 and malformed.value.exit_code == 2 and "0x12" in str(malformed.value)


def test_who_may_use_it_needs_a_sign_in_and_follows_the_licence(registered: Registered) -> None:
    s = registered.story
    with RegistryClient(registered.url) as anonymous, pytest.raises(NotSignedInError):
        anonymous.licensees(registered.scans)
    with RegistryClient(registered.url) as beta:
        beta.sign_in(s.key("BETA"), "beta")
        [grant] = beta.licensees(registered.scans)
        assert (grant.grantee.name, grant.permissions, grant.serial) == ("BETA", ["read", "derive"], 1)
        assert beta.may_use(registered.scans, "DEMO:BETA", "read").allowed
        no = beta.may_use(registered.scans, "DEMO:BETA", "reshare")
        assert not no.allowed and "does not grant reshare" in no.reason and no.grant == grant
        with pytest.raises(ConfigError, match="'write' is not one of read, derive, reshare, commercial"):
            beta.may_use(registered.scans, "DEMO:BETA", "write")
        late = beta.may_use(registered.scans, "DEMO:BETA", "read", at=grant.valid_until + 1)
        assert not late.allowed and "not valid" in late.reason
        # Gamma's licence is none of Beta's business: answered like none at all.
        hidden = beta.may_use(s.roots["turbine scans"], "DEMO:GAMMA", "read")
        assert not hidden.allowed and "holds no licence" in hidden.reason
    with RegistryClient(registered.url) as auditor:
        auditor.sign_in(s.auditor, "auditor")
        assert [g.grantee.name for g in auditor.licensees(registered.scans)] == ["BETA"]
        # The story's revoked licence to Gamma on its turbine scans.
        revoked = auditor.may_use(s.roots["turbine scans"], "DEMO:GAMMA", "read")
        assert not revoked.allowed and "is revoked" in revoked.reason


def test_lineage_history_and_lists_are_typed(registered: Registered) -> None:
    s = registered.story
    with RegistryClient(registered.url, page_size=3) as api:
        graph = api.lineage(registered.model, direction="up", depth=1)
        assert [(n.root, n.distance) for n in graph.nodes] == [(registered.scans, -1), (registered.model, 0)]
        assert api.children(registered.scans) == [registered.model]
        history = list(api.history(registered.scans))
        assert [e.event for e in history][:2] == ["DatasetRegistered", "MetadataPublished"]
        assert any(e.event == "GrantIssued" and e.redacted for e in history)  # not signed in
        datasets = list(api.datasets(limit=7))
        assert len(datasets) == 7 and all(isinstance(d, DatasetPublic) for d in datasets)
        assert datasets[0].root == registered.model  # newest first, across pages of three
        assert [m.name for m in api.members()] == ["ALPHA", "BETA", "GAMMA", "DELTA"]
        assert api.member("DEMO:ALPHA").keys[0].org.name == "ALPHA"
        assert api.roles().auditors == [s.auditor.address]
        assert api.anchor(s.anchor_proofs[0].root).leaf_count == 3
        assert [d.status for d in api.disputes(status="upheld")] == ["upheld"]
        assert api.dispute(1).votes
        assert api.status().indexed_block is not None


def test_clear_errors(registered: Registered) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    with RegistryClient(down) as api, pytest.raises(ApiUnreachableError) as unreachable:
        api.status()
    assert down in str(unreachable.value) and unreachable.value.exit_code == 3
    with RegistryClient(registered.url) as api:
        # An answer of another shape than the model (here: the status read as a dataset) is
        # the service's fault, said as such.
        with pytest.raises(ApiRefusedError) as odd:
            api.fetch("/v1/status", DatasetPublic)
        assert odd.value.status == 502 and "unexpected shape" in str(odd.value) and "/v1/status" in str(odd.value)
