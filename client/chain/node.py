"""The local permissioned chain: an anvil node run from `chain/local.toml` and `chain/genesis.json`.

The node keeps its state in `<IDSREG_HOME>/chain/state.json`. anvil cannot combine `--init`
(genesis) with state persistence, so the first start initialises a state file from the genesis
on a throw-away node, and every start (the first included) runs from that state file, dumping
it every `state_interval` seconds and on exit.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import requests
from web3 import Web3
from web3.exceptions import BlockNotFound, ProviderConnectionError, TransactionNotFound, Web3Exception

from ..errors import ChainError, ConfigError
from ..files import replace
from ..locations import chain_config_dir, node_modules
from ..processes import live_pid, stop
from ..settings import get_settings

#: The project's `chain/` folder in a checkout; the copy of `local.toml` and `genesis.json` the wheel carries.
CHAIN_CONFIG_DIR = chain_config_dir()
#: What a request raises when the node is down, restarting or not a node at all.
NODE_ERRORS = (OSError, ValueError, Web3Exception)
#: What the node raises for a transaction or block it does not have (a subset of NODE_ERRORS).
NOT_FOUND_ERRORS = (TransactionNotFound, BlockNotFound)
#: What a request raises when the connection to the node fails (a subset of NODE_ERRORS).
CONNECTION_ERRORS = (requests.exceptions.ConnectionError, requests.exceptions.Timeout, ProviderConnectionError)

_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


@dataclass(frozen=True)
class ChainConfig:
    """The local chain's configuration (`chain/local.toml`)."""

    chain_id: int
    genesis: Path
    host: str
    port: int
    block_time: int
    state_interval: int

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @classmethod
    def load(cls, path: Path = CHAIN_CONFIG_DIR / "local.toml") -> ChainConfig:
        """Read and check the configuration; the chain id must match the genesis."""
        try:
            raw = tomllib.loads(path.read_text())
            genesis = _find_genesis(path, Path(raw["chain"]["genesis"]))
            config = cls(
                chain_id=int(raw["chain"]["chain_id"]),
                genesis=genesis,
                host=str(raw["node"]["host"]),
                port=int(raw["node"]["port"]),
                block_time=int(raw["node"]["block_time"]),
                state_interval=int(raw["node"]["state_interval"]),
            )
            genesis_id = int(json.loads(genesis.read_text())["config"]["chainId"])
        except (OSError, KeyError, ValueError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"chain configuration {path} is unusable: {exc}") from exc
        if genesis_id != config.chain_id:
            raise ConfigError(f"{path} says chain id {config.chain_id} but {genesis} says {genesis_id}")
        return config


def _find_genesis(config: Path, named: Path) -> Path:
    """The genesis file a configuration names: an absolute path as it is; a relative one next to
    the configuration, else in the project's `chain/` folder, so that a copy of `local.toml`
    made elsewhere (to change the port, say) still finds the project's genesis."""
    if named.is_absolute():
        return named
    for folder in (config.parent, CHAIN_CONFIG_DIR):
        if (folder / named).is_file():
            return folder / named
    raise ConfigError(
        f"the genesis file {named} named by {config} is neither in {config.parent} nor in {CHAIN_CONFIG_DIR}; "
        f"copy {CHAIN_CONFIG_DIR / 'genesis.json'} next to the configuration, or give its path in [chain] genesis"
    )


def anvil_binary() -> Path:
    """The anvil executable: IDSREG_ANVIL when set; else, in a checkout, the one the pinned npm
    package `@foundry-rs/anvil` installed (`scripts/setup`); else `anvil` on PATH."""
    configured = get_settings().anvil
    if configured is not None:
        if configured.is_file() and os.access(configured, os.X_OK):
            return configured
        raise ConfigError(f"IDSREG_ANVIL names {configured}, which is not an executable file")
    system = platform.system().lower()
    arch = _ARCH.get(platform.machine().lower(), platform.machine().lower())
    suffix = ".exe" if system == "windows" else ""
    packages = node_modules()
    if packages is not None:
        npm_anvil = packages / "@foundry-rs" / f"anvil-{system}-{arch}" / "bin" / f"anvil{suffix}"
        if npm_anvil.exists():
            return npm_anvil
    found = shutil.which("anvil")
    if found:
        return Path(found)
    if packages is not None:
        raise ConfigError("the anvil node is not installed; run scripts/setup first")
    raise ConfigError(
        "no anvil executable found: install Foundry's anvil (for example `npm install -g @foundry-rs/anvil`) "
        "so that it is on PATH, or set IDSREG_ANVIL to its path"
    )


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rpc_answers(rpc_url: str, timeout: float = 1.0) -> bool:
    """Whether a JSON-RPC node answers `eth_chainId` at `rpc_url`."""
    try:
        _ = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout})).eth.chain_id
    except NODE_ERRORS:
        return False
    return True


def _fee_free_args(config: ChainConfig) -> list[str]:
    args = ["--base-fee", "0", "--gas-price", "0", "--accounts", "0", "--host", config.host]
    if config.block_time > 0:
        args += ["--block-time", str(config.block_time)]
    return args


class AnvilProcess:
    """One anvil node process. Used by `idsreg chain up` and by the test suite."""

    def __init__(self, args: list[str], rpc_url: str, log_path: Path | None = None) -> None:
        self.args = args
        self.rpc_url = rpc_url
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def from_genesis(cls, config: ChainConfig, port: int, log_path: Path | None = None) -> AnvilProcess:
        """A node initialised from the genesis, keeping no state on disk (tests, first start)."""
        args = [
            str(anvil_binary()),
            "--init",
            str(config.genesis),
            # The genesis file cannot say "now"; a new chain should start at the current time.
            "--timestamp",
            str(int(time.time())),
            "--port",
            str(port),
            *_fee_free_args(config),
        ]
        return cls(args, f"http://{config.host}:{port}", log_path)

    @classmethod
    def from_state(cls, config: ChainConfig, state: Path, log_path: Path | None = None) -> AnvilProcess:
        """A node that loads and keeps its state in `state`."""
        args = [
            str(anvil_binary()),
            "--state",
            str(state),
            "--state-interval",
            str(config.state_interval),
            "--chain-id",
            str(config.chain_id),
            "--port",
            str(config.port),
            *_fee_free_args(config),
        ]
        return cls(args, config.rpc_url, log_path)

    def start(self, timeout: float = 20.0, detach: bool = False) -> None:
        """Start the node and wait until it answers; raises ChainError with its log otherwise."""
        with open(self.log_path, "ab") if self.log_path else contextlib.nullcontext(subprocess.DEVNULL) as log:
            self.process = subprocess.Popen(
                self.args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=detach,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ChainError(f"anvil exited at start (code {self.process.returncode}){self._log_tail()}")
            if rpc_answers(self.rpc_url, timeout=0.5):
                return
            time.sleep(0.1)
        self.stop()
        raise ChainError(f"anvil did not answer at {self.rpc_url} within {timeout:.0f} s{self._log_tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the node with SIGINT (anvil dumps its state on the way out)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _log_tail(self) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        lines = self.log_path.read_text(errors="replace").strip().splitlines()[-3:]
        return (": " + " | ".join(lines)) if lines else ""


@dataclass(frozen=True)
class NodeStatus:
    """What `idsreg chain status` reports about the local node."""

    running: bool
    pid: int | None
    rpc_url: str
    chain_id: int | None
    head_block: int | None


class LocalChain:
    """The background local node: its pid, log and state live in `data_dir`."""

    def __init__(self, data_dir: Path, config: ChainConfig | None = None) -> None:
        self.data_dir = data_dir
        self.config = config or ChainConfig.load()

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "anvil.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "anvil.log"

    @property
    def state_file(self) -> Path:
        return self.data_dir / "state.json"

    def pid(self) -> int | None:
        """The node's pid if the pid file names a live process."""
        return live_pid(self.pid_file)

    def up(self) -> NodeStatus:
        """Start the node in the background unless it already runs; returns its status."""
        if self.pid() is not None:
            return self.status()
        if rpc_answers(self.config.rpc_url):
            raise ChainError(
                f"another node already answers at {self.config.rpc_url}; stop it or change chain/local.toml"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.state_file.exists():
            self._initialise_state()
        node = AnvilProcess.from_state(self.config, self.state_file, self.log_file)
        node.start(detach=True)
        assert node.process is not None
        self.pid_file.write_text(f"{node.process.pid}\n")
        return self.status()

    def down(self, timeout: float = 15.0) -> bool:
        """Stop the node, letting it write its state; returns whether one was running."""
        return stop(self.pid_file, signal.SIGINT, timeout)

    def status(self) -> NodeStatus:
        pid = self.pid()
        chain_id = head = None
        if rpc_answers(self.config.rpc_url):
            w3 = Web3(Web3.HTTPProvider(self.config.rpc_url, request_kwargs={"timeout": 2}))
            chain_id, head = int(w3.eth.chain_id), int(w3.eth.block_number)
        return NodeStatus(pid is not None, pid, self.config.rpc_url, chain_id, head)

    def _initialise_state(self) -> None:
        """Run the genesis once on a spare port and keep its state as the node's starting point."""
        seed = AnvilProcess.from_genesis(self.config, free_port(), self.log_file)
        seed.start()
        try:
            w3 = Web3(Web3.HTTPProvider(seed.rpc_url))
            dump = w3.provider.make_request("anvil_dumpState", [])["result"]  # type: ignore[arg-type]
        finally:
            seed.stop()
        raw = bytes.fromhex(str(dump).removeprefix("0x"))
        replace(self.state_file, gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw, what="chain state")
