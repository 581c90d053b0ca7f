"""The harness that runs `idsreg` as a user runs it (tests/cli/conftest.py): one command that
does not finish in time fails its own test, not every later test of the session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import CommandForks


def test_a_command_that_times_out_does_not_break_the_next(tmp_path: Path) -> None:
    forks = CommandForks(tmp_path)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    try:
        first = forks.process.pid
        with pytest.raises(TimeoutError, match="did not finish within 0 s"):
            forks.run(["--help"], env, None, 0)  # nothing can fork, run and answer in no time
        assert forks.process.pid != first
        after = forks.run(["--help"], env, None, 120)
        assert after.code == 0 and "hash" in after.stdout
    finally:
        forks.close()


def test_a_server_killed_from_outside_is_replaced(tmp_path: Path) -> None:
    forks = CommandForks(tmp_path)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    try:
        forks.process.kill()
        forks.process.wait()
        assert forks.run(["--help"], env, None, 120).code == 0
    finally:
        forks.close()
