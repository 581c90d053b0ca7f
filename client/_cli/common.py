"""What every command shares: options, output (Rich or JSON), passwords, signers, connections."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from eth_account.signers.local import LocalAccount
from eth_utils import is_hex_address, to_checksum_address
from rich.console import Console

from ..chain.registry import Registry
from ..errors import ConfigError, KeystoreError
from ..jsonable import jsonable
from ..keys import Keystore
from ..settings import get_settings

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
KeyOpt = Annotated[
    str | None, typer.Option("--key", "-k", help="Keystore label or address of the signing key [env: IDSREG_KEY].")
]
PasswordFileOpt = Annotated[
    Path | None,
    typer.Option("--password-file", help="File whose first line is the keystore password [env: IDSREG_PASSWORD_FILE]."),
]
RpcOpt = Annotated[str | None, typer.Option("--rpc-url", help="Chain node JSON-RPC URL [env: IDSREG_RPC_URL].")]


def emit(as_json: bool, data: Any, human: Callable[[], None]) -> None:
    """Print `data` as JSON, or call `human` to print it for people."""
    if as_json:
        sys.stdout.write(json.dumps(jsonable(data), indent=2) + "\n")
    else:
        human()


def keystore() -> Keystore:
    return Keystore(get_settings().keystore_dir)


def private_keystore() -> Keystore:
    """The keystore for storing keys: its folder made private (0700) first, saying so if it was not."""
    store = keystore()
    before = store.make_private()
    if before is not None:
        err_console.print(
            f"note: keystore folder {store.directory} had mode {before:04o}; made it 0700 (only you can read it)",
            soft_wrap=True,
        )
    return store


def read_password_file(path: Path) -> str:
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read password file {path}: {exc.strerror}") from None
    if not lines or not lines[0]:
        raise ConfigError(f"password file {path} is empty")
    return lines[0]


def password(purpose: str, password_file: Path | None = None, *, confirm: bool = False) -> str:
    """The keystore password: --password-file, IDSREG_PASSWORD, IDSREG_PASSWORD_FILE, or a prompt."""
    settings = get_settings()
    if password_file is not None:
        return read_password_file(password_file)
    if settings.password is not None:
        return settings.password.get_secret_value()
    if settings.password_file is not None:
        return read_password_file(settings.password_file)
    if not sys.stdin.isatty():
        raise KeystoreError(
            f"a password is needed for {purpose}: pass --password-file, or set IDSREG_PASSWORD or IDSREG_PASSWORD_FILE"
        )
    return str(typer.prompt(f"Password for {purpose}", hide_input=True, confirmation_prompt=confirm))


def signer(key: str | None, password_file: Path | None) -> LocalAccount:
    """The unlocked signing key named by --key or IDSREG_KEY."""
    chosen = key or get_settings().key
    if not chosen:
        raise ConfigError("no signing key: pass --key LABEL or set IDSREG_KEY (see `idsreg key list`)")
    entry = keystore().find(chosen)
    return keystore().unlock(entry, password(f"key {entry.label!r}", password_file))


def account(value: str) -> str:
    """An address given directly or as the label of a key in the keystore."""
    if is_hex_address(value):
        return to_checksum_address(value)
    if value.startswith("0x"):
        raise ConfigError(f"{value!r} is not an account address (0x followed by 40 hex digits)")
    return keystore().find(value).address


def registry(rpc_url: str | None) -> Registry:
    return Registry.connect(rpc_url)


def evidence_hash(value: str) -> bytes:
    """A 0x-hex 32-byte hash as given, or the SHA-256 of the named file."""
    if value.startswith("0x"):
        try:
            raw = bytes.fromhex(value[2:])
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise ConfigError(f"evidence hash {value!r} is not 32 bytes of hex")
        return raw
    path = Path(value)
    if not path.is_file():
        raise ConfigError(f"evidence {value!r} is neither a 0x-hex hash nor a readable file")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()
