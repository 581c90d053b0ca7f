"""Which anvil `idsreg chain up` and the fixtures run: IDSREG_ANVIL, else the checkout's npm
anvil, else PATH (PATH, and the message without any, in tests/test_wheel.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from client.chain.node import anvil_binary
from client.errors import ConfigError
from client.settings import get_settings

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_checkout_runs_the_pinned_npm_anvil(fresh_settings: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IDSREG_ANVIL", raising=False)
    found = anvil_binary()
    assert found.is_relative_to(ROOT / "node_modules" / "@foundry-rs") and found.name == "anvil"


def test_the_setting_wins(fresh_settings: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    mine = tmp_path / "my-anvil"
    mine.symlink_to(anvil_binary())
    monkeypatch.setenv("IDSREG_ANVIL", str(mine))
    get_settings.cache_clear()
    assert anvil_binary() == mine


@pytest.mark.parametrize("kind", ["missing", "not executable", "a folder"])
def test_a_setting_that_names_no_executable_is_refused_by_name(
    fresh_settings: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str
) -> None:
    named = tmp_path / "anvil"
    if kind == "not executable":
        named.write_text("#!/bin/sh\n")
        named.chmod(0o644)
    elif kind == "a folder":
        named.mkdir()
    monkeypatch.setenv("IDSREG_ANVIL", str(named))
    with pytest.raises(ConfigError, match=f"IDSREG_ANVIL names {named}, which is not an executable file"):
        anvil_binary()
