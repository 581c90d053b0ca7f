"""Run `idsreg` as a user runs it: the installed console script in a subprocess, with its own
home folder (keystore, chain data), deployments folder and the test chain's address."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

IDSREG = Path(sys.executable).parent / "idsreg"
TEST_PASSWORD = "test-only-password"  # test keystores only


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@dataclass
class User:
    """One person at a terminal: a home folder with a keystore and a password file."""

    home: Path
    rpc_url: str
    deployments: Path
    password_file: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IDSREG_")}
        env.update(
            IDSREG_HOME=str(self.home),
            IDSREG_RPC_URL=self.rpc_url,
            IDSREG_DEPLOYMENTS=str(self.deployments),
            IDSREG_PASSWORD_FILE=str(self.password_file),
            COLUMNS="200",
        )
        env.update(self.extra_env)
        return env

    def run(self, *args: str, stdin: str | None = None, timeout: float = 120) -> Result:
        proc = subprocess.run(
            [str(IDSREG), *args],
            check=False,
            env=self.env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=None if stdin is not None else subprocess.DEVNULL,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def ok(self, *args: str) -> Result:
        result = self.run(*args)
        assert result.code == 0, f"idsreg {' '.join(args)} failed ({result.code}): {result.stderr}"
        return result

    def ok_json(self, *args: str) -> Any:
        return self.ok(*args, "--json").json()

    def add_key(self, label: str) -> str:
        """Put a key in this user's keystore quickly (weak scrypt: test-only keystores);
        `idsreg key new` itself is exercised in the key tests. Returns its address."""
        from client.keys import Keystore

        return Keystore(self.home / "keystore").create(label, TEST_PASSWORD, scrypt_n=2**10).address


def assert_one_clear_line(result: Result, code: int, *fragments: str) -> None:
    """A refusal: the given exit code, one line on stderr naming the problem, no traceback."""
    assert result.code == code, (result.code, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:"), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "Traceback" not in result.stderr + result.stdout


@pytest.fixture
def user_factory(anvil: str, w3: Any, tmp_path: Path) -> Any:
    deployments = tmp_path / "deployments"

    def make(name: str) -> User:
        home = tmp_path / name
        home.mkdir()
        password_file = home / "password"
        password_file.write_text(TEST_PASSWORD + "\n")
        return User(home, anvil, deployments, password_file)

    return make


@pytest.fixture
def user(user_factory: Any) -> User:
    return user_factory("operator")
