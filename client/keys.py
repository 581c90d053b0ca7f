"""Encrypted keystores (Web3 Secret Storage, scrypt) in `<IDSREG_HOME>/keystore/<label>.json`.

Private keys and passwords never leave this module except as an unlocked `LocalAccount`;
nothing here prints or logs them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import is_hex_address, to_checksum_address

from .errors import KeystoreError, OverwriteRefusedError, WrongPasswordError
from .files import create_new, private_folder

_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: eth-account's default scrypt work factor (about 0.7 s to unlock on a 2-core machine).
DEFAULT_SCRYPT_N = 2**18


@dataclass(frozen=True)
class KeyEntry:
    """A key in the keystore: its label, address and file (never its secret)."""

    label: str
    address: str
    path: Path


@dataclass(frozen=True)
class UnreadableKeyFile:
    """A `*.json` file in the keystore folder that is not a usable keystore, and why."""

    label: str
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"keystore file {self.path} is unreadable: {self.reason}"


class Keystore:
    """The keystore folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def scan(self) -> tuple[list[KeyEntry], list[UnreadableKeyFile]]:
        """The keys in the keystore and the files in it that cannot be read, both sorted by label."""
        if not self.directory.is_dir():
            return [], []
        found, unreadable = [], []
        for path in sorted(self.directory.glob("*.json")):
            try:
                address = _address_of(path)
            except KeystoreError as exc:
                unreadable.append(UnreadableKeyFile(path.stem, path, str(exc)))
                continue
            found.append(KeyEntry(path.stem, address, path))
        return found, unreadable

    def entries(self) -> list[KeyEntry]:
        """Every readable key in the keystore, sorted by label."""
        return self.scan()[0]

    def find(self, label_or_address: str) -> KeyEntry:
        """The key with this label or address; KeystoreError naming it (or its damaged file) otherwise."""
        entries, unreadable = self.scan()
        for entry in entries:
            if entry.label == label_or_address or (
                is_hex_address(label_or_address) and entry.address.lower() == label_or_address.lower()
            ):
                return entry
        for damaged in unreadable:
            if damaged.label == label_or_address:
                raise KeystoreError(str(damaged))
        raise KeystoreError(f"no key {label_or_address!r} in keystore {self.directory}; see `idsreg key list`")

    def make_private(self) -> int | None:
        """Create the keystore folder, or make an existing one private (mode 0700).

        Returns the folder's earlier mode when it had to be tightened, so the caller can say so.
        """
        return private_folder(self.directory)

    def create(self, label: str, password: str, *, scrypt_n: int = DEFAULT_SCRYPT_N) -> KeyEntry:
        """Generate a new key and store it encrypted under `label`."""
        return self._store(label, Account.create(), password, scrypt_n)

    def import_private_key(
        self, label: str, private_key: str, password: str, *, scrypt_n: int = DEFAULT_SCRYPT_N
    ) -> KeyEntry:
        """Store an existing private key (hex) encrypted under `label`."""
        try:
            account = Account.from_key(private_key.strip())
        except (ValueError, TypeError):
            raise KeystoreError("the file does not hold a valid private key (64 hex digits)") from None
        return self._store(label, account, password, scrypt_n)

    def import_keystore(
        self,
        label: str,
        keystore_json: dict[str, Any],
        old_password: str,
        password: str,
        *,
        scrypt_n: int = DEFAULT_SCRYPT_N,
    ) -> KeyEntry:
        """Re-encrypt a Web3 Secret Storage file (unlocked with `old_password`) under `label`."""
        try:
            secret = Account.decrypt(keystore_json, old_password)
        except ValueError as exc:
            if "MAC mismatch" in str(exc):
                raise WrongPasswordError(label) from None
            raise KeystoreError(f"the keystore file cannot be read: {exc}") from None
        return self._store(label, Account.from_key(secret), password, scrypt_n)

    def unlock(self, entry: KeyEntry, password: str) -> LocalAccount:
        """The usable account of `entry`; WrongPasswordError if the password is wrong."""
        try:
            raw = json.loads(entry.path.read_text())
        except (OSError, ValueError) as exc:
            raise KeystoreError(f"keystore file {entry.path} is unreadable: {exc}") from None
        try:
            account: LocalAccount = Account.from_key(Account.decrypt(raw, password))
            return account
        except ValueError as exc:
            if "MAC mismatch" in str(exc):
                raise WrongPasswordError(entry.label) from None
            raise KeystoreError(f"keystore file {entry.path} is damaged: {exc}") from None

    def _store(self, label: str, account: LocalAccount, password: str, scrypt_n: int) -> KeyEntry:
        if not _LABEL.match(label):
            raise KeystoreError(f"key label {label!r} is not valid: use letters, digits, '.', '_' or '-' (at most 64)")
        if not password:
            raise KeystoreError("an empty password is not allowed")
        path = self.directory / f"{label}.json"
        if path.exists():
            raise KeystoreError(f"a key named {label!r} already exists in {self.directory}")
        for entry in self.entries():
            if entry.address == account.address:
                raise KeystoreError(f"key {account.address} is already in the keystore as {entry.label!r}")
        encrypted = Account.encrypt(account.key, password, kdf="scrypt", iterations=scrypt_n)
        self.make_private()
        try:
            create_new(path, json.dumps(encrypted), what="keystore file", mode=0o600)
        except OverwriteRefusedError:
            # Another process stored a key under this label since the check above: keep it.
            raise KeystoreError(f"a key named {label!r} already exists in {self.directory}") from None
        return KeyEntry(label, account.address, path)


def _address_of(path: Path) -> str:
    """The address a keystore file declares; KeystoreError saying why the file is not usable."""
    try:
        raw = json.loads(path.read_text())
    except OSError as exc:
        raise KeystoreError(f"cannot be read ({exc.strerror})") from None
    except ValueError:
        raise KeystoreError("not JSON") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("crypto", raw.get("Crypto")), dict):
        raise KeystoreError("not a Web3 Secret Storage file (no crypto section)")
    address = str(raw.get("address", "")).removeprefix("0x")
    if not is_hex_address("0x" + address):
        raise KeystoreError(f"its address {raw.get('address')!r} is not 20 bytes of hex")
    return to_checksum_address("0x" + address)
