"""Start-up cost of `idsreg`: commands that do not talk to the chain must not load its bindings.

Importing web3 and eth_account takes about a second, more than the whole budget of a command
that only hashes or prints help (issue 14: ≤ 0.25 s). These tests check the structure, which
modules a command loads, not a time: `scripts/bench startup` measures the times.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import IDSREG

#: Runs the console script as a user's shell does, then reports which modules were loaded.
PROBE = r"""
import json, runpy, sys
report, sys.argv = sys.argv[1], sys.argv[2:]
code = 0
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else 0
with open(report, "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""

CHAIN_MODULES = ("web3", "eth_account", "eth_abi", "eth_utils", "client.chain.registry", "client.chain.node")


def loaded_by(tmp_path: Path, *args: str) -> set[str]:
    report = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(report), str(IDSREG), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"IDSREG_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(report.read_text())
    assert outcome["code"] == 0, done.stderr
    return set(outcome["modules"])


@pytest.mark.parametrize("args", [["--help"], ["hash", "--help"], ["dataset", "--help"], ["hash", "DATA"]])
def test_commands_off_the_chain_do_not_load_the_chain_bindings(tmp_path: Path, args: list[str]) -> None:
    data = tmp_path / "small.csv"
    data.write_text("a,b\n1,2\n")
    modules = loaded_by(tmp_path, *[str(data) if arg == "DATA" else arg for arg in args])
    assert "client._cli.datasets" in modules  # the probe did run the command line
    assert not modules.intersection(CHAIN_MODULES)


def test_the_probe_sees_the_chain_bindings_when_a_command_loads_them(tmp_path: Path) -> None:
    # `idsreg key list` reads keystores, which needs eth_account: the probe must notice.
    assert "eth_account" in loaded_by(tmp_path, "key", "list")


def test_the_default_batch_size_is_the_sdks() -> None:
    from client._cli.datasets import _BATCH_SIZE
    from client.datasets import BATCH_SIZE

    assert _BATCH_SIZE == BATCH_SIZE
