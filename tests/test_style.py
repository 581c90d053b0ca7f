"""The house formatter and linter: the suite fails when either would change or flag anything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "command",
    [["check", "--no-fix", "."], ["format", "--check", "."]],
    ids=["ruff check", "ruff format --check"],
)
def test_ruff_is_clean(command: list[str]) -> None:
    found = subprocess.run(
        [sys.executable, "-m", "ruff", *command], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert found.returncode == 0, f"ruff {' '.join(command)} found:\n{found.stdout}{found.stderr}"
