"""Governors' Ed25519 witness keys, kept encrypted like the secp256k1 keystore keeps its keys.

A witness key file ``<label>.json`` in ``$IDSREG_HOME/witness/`` (a folder only its owner may
enter) holds the public key in clear (base64, and as a C2SP vkey) and the private key as
password-encrypted PKCS #8 (PEM, scrypt via `cryptography`'s best available encryption). A
file is never replaced and the private key is never printed.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from pathlib import Path

from client.checkpoints import COSIGNATURE_TYPE, cosignature_key_id
from client.errors import KeystoreError, WrongPasswordError
from client.files import create_new, private_folder

__all__ = ["WitnessKey", "WitnessKeystore", "vkey"]

_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
FORMAT = "idsreg-witness-key/v1"


@dataclass(frozen=True)
class WitnessKey:
    label: str
    path: Path
    public_key: bytes


def vkey(name: str, public_key: bytes) -> str:
    """The C2SP verifier key of a cosigner: ``<name>+<hex key ID>+base64(0x04 || key)``."""
    return (
        f"{name}+{cosignature_key_id(name, public_key).hex()}+"
        + base64.b64encode(bytes([COSIGNATURE_TYPE]) + public_key).decode()
    )


class WitnessKeystore:
    """The witness key files of one folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, label: str) -> Path:
        if not _LABEL.fullmatch(label):
            raise KeystoreError(f"witness key label {label!r} must be letters, digits, '.', '_' or '-' (at most 64)")
        return self.directory / f"{label}.json"

    def create(self, label: str, password: str) -> WitnessKey:
        """A new random Ed25519 witness key, stored encrypted under ``label``."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import (
            BestAvailableEncryption,
            Encoding,
            PrivateFormat,
            PublicFormat,
        )

        if not password:
            raise KeystoreError("a witness key needs a non-empty password")
        path = self._path(label)
        private_folder(self.directory)
        key = Ed25519PrivateKey.generate()
        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(password.encode()))
        document = {
            "format": FORMAT,
            "label": label,
            "publicKey": base64.b64encode(public).decode(),
            "privateKey": pem.decode(),
        }
        create_new(path, json.dumps(document, indent=2) + "\n", what="witness key", mode=0o600)
        return WitnessKey(label, path, public)

    def _read(self, label: str) -> dict[str, str]:
        path = self._path(label)
        try:
            document = json.loads(path.read_text())
        except FileNotFoundError:
            raise KeystoreError(
                f"no witness key {label!r} in {self.directory} (create one with `idsreg checkpoint key new`)"
            ) from None
        except (OSError, ValueError) as exc:
            raise KeystoreError(f"witness key file {path} cannot be read: {exc}") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise KeystoreError(f"witness key file {path} is not an {FORMAT} file")
        return document

    def find(self, label: str) -> WitnessKey:
        """The public side of a witness key (no password needed)."""
        document = self._read(label)
        public = base64.b64decode(document["publicKey"])
        return WitnessKey(label, self._path(label), public)

    def unlock(self, label: str, password: str) -> bytes:
        """The 32-byte Ed25519 private key (seed) of ``label``; WrongPasswordError otherwise."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import (
            Encoding,
            NoEncryption,
            PrivateFormat,
            PublicFormat,
            load_pem_private_key,
        )

        document = self._read(label)
        try:
            key = load_pem_private_key(document["privateKey"].encode(), password.encode())
        except (ValueError, TypeError):
            raise WrongPasswordError(label) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeystoreError(f"witness key {label!r} is not an Ed25519 key")
        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        if base64.b64encode(public).decode() != document["publicKey"]:
            raise KeystoreError(f"witness key file {self._path(label)}: its public key does not match its private key")
        return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
