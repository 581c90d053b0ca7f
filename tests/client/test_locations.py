"""In a checkout, the SDK reads the repository's own folders (the installed wheel's layout is
tested in tests/test_wheel.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from client import locations
from client.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_checkout_reads_its_top_level_folders() -> None:
    assert locations.checkout_root() == ROOT
    assert locations.artifacts_dir() == ROOT / "contracts" / "artifacts"
    assert locations.chain_config_dir() == ROOT / "chain"
    assert locations.node_modules() == ROOT / "node_modules"
    assert not (ROOT / "client" / "_data").exists()  # would make this checkout look installed


def test_a_checkout_keeps_its_manifests_in_chain_deployments_whatever_the_home(
    fresh_settings: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("IDSREG_HOME", str(tmp_path))
    assert get_settings().deployments == ROOT / "chain" / "deployments"
    assert get_settings().chain_config == ROOT / "chain" / "local.toml"
    monkeypatch.setenv("IDSREG_DEPLOYMENTS", str(tmp_path / "elsewhere"))
    get_settings.cache_clear()
    assert get_settings().deployments == tmp_path / "elsewhere"
