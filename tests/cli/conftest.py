"""Run `idsreg` as a user runs it: a process of its own per command, with its own environment,
home folder (keystore, chain data), deployments folder and the test chain's address, its
stdin, stdout, stderr and exit code.

Each command's process is forked from a process that has imported the command line once
(`CommandForks`): the child sets its argv, environment, working folder and file descriptors
and calls `client._cli.main`, the installed console script's entry point. Starting the
interpreter and importing web3 costs more than two seconds per command on this machine, and
the suite runs hundreds of commands; `test_console_script` runs the installed `idsreg` script
itself, so the script stays tested as installed.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

IDSREG = Path(sys.executable).parent / "idsreg"
TEST_PASSWORD = "test-only-password"  # test keystores only

#: Imports the command line once, then forks one child per job read from stdin (JSON: args,
#: env, cwd and the files for fds 0, 1, 2), waits for it and answers with its exit code.
FORK_SERVER = r"""
import json, os, sys, traceback
import client._cli
from client.chain.abi import _error_table, _event_table
from client.settings import get_settings

_error_table(), _event_table()  # the compiled ABIs, parsed once
for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.chdir(job["cwd"])
            os.environ.clear()
            os.environ.update(job["env"])
            for fd, path, flags in ((0, job["stdin"], os.O_RDONLY), (1, job["stdout"], os.O_WRONLY | os.O_TRUNC),
                                    (2, job["stderr"], os.O_WRONLY | os.O_TRUNC)):
                opened = os.open(path, flags)
                os.dup2(opened, fd)
                os.close(opened)
            sys.argv = ["idsreg", *job["args"]]
            get_settings.cache_clear()
            client._cli.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"code": os.waitstatus_to_exitcode(status)}), flush=True)
"""


class CommandForks:
    """The fork server of one test session (see the module docstring)."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.process = self._start()
        self.jobs = 0

    @staticmethod
    def _start() -> subprocess.Popen[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("IDSREG_")}
        env["COLUMNS"] = "200"  # Rich reads the width when the command line is imported
        # A session of its own, so that a command that times out is killed with the server.
        return subprocess.Popen(
            [sys.executable, "-c", FORK_SERVER],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def _restart(self) -> None:
        """Kill the server and the command it waits for; the next command gets a new server
        (one command that hangs must not fail every later test of the session)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = self._start()

    def run(self, args: list[str], env: dict[str, str], stdin: str | None, timeout: float) -> Result:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.jobs += 1
        files = {name: self.scratch / f"{self.jobs}.{name}" for name in ("stdin", "stdout", "stderr")}
        files["stdin"].write_text(stdin or "")
        files["stdout"].write_text("")
        files["stderr"].write_text("")
        job = {"args": args, "env": env, "cwd": os.getcwd(), **{k: str(v) for k, v in files.items()}}
        if self.process.poll() is not None:
            self._restart()
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            self._restart()
            raise TimeoutError(f"idsreg {' '.join(args)} did not finish within {timeout:.0f} s")
        answer = self.process.stdout.readline()
        if not answer:  # the server died (killed from outside): start another for the next command
            self._restart()
            raise RuntimeError(f"the command fork server died running idsreg {' '.join(args)}")
        code = int(json.loads(answer)["code"])
        result = Result(code, files["stdout"].read_text(), files["stderr"].read_text())
        for path in files.values():
            path.unlink()
        return result

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture(scope="session")
def command_forks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CommandForks]:
    forks = CommandForks(tmp_path_factory.mktemp("idsreg-runs"))
    yield forks
    forks.close()


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
    forks: CommandForks
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
        return self.forks.run(list(args), self.env(), stdin, timeout)

    def ok(self, *args: str) -> Result:
        result = self.run(*args)
        assert result.code == 0, f"idsreg {' '.join(args)} failed ({result.code}): {result.stderr}"
        return result

    def ok_json(self, *args: str) -> Any:
        return self.ok(*args, "--json").json()

    def admit(self, org: str, name: str, admin: str, *extra: str, key: str = "gov") -> Result:
        """Propose (and, with a one-governor council, execute) the admission of `org`."""
        evidence = "0x" + "ab" * 32
        return self.ok(
            "member",
            "propose",
            "admit",
            org,
            "--name",
            name,
            "--admin",
            admin,
            "--evidence",
            evidence,
            *extra,
            "--key",
            key,
        )

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
def user_factory(anvil: str, w3: Any, tmp_path: Path, command_forks: CommandForks) -> Any:
    deployments = tmp_path / "deployments"

    def make(name: str) -> User:
        home = tmp_path / name
        home.mkdir()
        password_file = home / "password"
        password_file.write_text(TEST_PASSWORD + "\n")
        return User(home, anvil, deployments, password_file, command_forks)

    return make


@pytest.fixture
def user(user_factory: Any) -> User:
    return user_factory("operator")


@pytest.fixture
def parties(user_factory: Any, tmp_path: Path) -> tuple[User, User, User]:
    """A governor (also an auditor), ACME (provider) and BETA (consumer), in three homes."""
    gov, acme, beta = user_factory("governor"), user_factory("acme"), user_factory("beta")
    gov.add_key("gov")
    auditor = gov.add_key("auditor")
    acme_admin, beta_admin = acme.add_key("acme"), beta.add_key("beta")
    gov.ok("deploy", "--key", "gov")
    gov.admit("DEMO:ACME", "ACME Steel", acme_admin)
    gov.admit("DEMO:BETA", "Beta Motors", beta_admin)
    gov.ok("member", "propose", "appoint-auditor", auditor, "--key", "gov")
    return gov, acme, beta
