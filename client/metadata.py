"""Revealing a dataset's metadata document and checking it against its on-chain commitment.

At registration only `keccak256(salt ‖ document)` goes on chain (`client.datasets.metadata_commitment`,
in the `DatasetRegistered` event); the salt is kept by the registrant in its salt record
(`$IDSREG_HOME/registrations/<root>-….json`). To show the metadata to someone, the registrant
reveals the document and the salt in one self-contained file (format `idsreg-metadata-reveal/1`);
anyone can then recompute the commitment and compare it with the chain's.

The reveal file also carries the document's SHA-256, so a failed check can say which part does
not match: the document (changed since it was revealed), the salt, or the commitment itself
(a reveal made for another registration).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .chain.registry import Registry
from .datasets import hex32, metadata_commitment
from .errors import ConfigError, IdsRegistryError, NotRegisteredError

FORMAT = "idsreg-metadata-reveal/1"
ZERO = bytes(32)


class MetadataMismatchError(IdsRegistryError):
    """A metadata document and salt that do not open the on-chain commitment (message says which part)."""

    exit_code = 4


@dataclass(frozen=True)
class OnChainMetadata:
    root: bytes
    commitment: bytes  # zero when the dataset was registered without metadata
    uri: str
    transaction: str


def on_chain(registry: Registry, root: bytes) -> OnChainMetadata:
    """The metadata commitment of the dataset's current registration; NotRegisteredError if none."""
    if not registry.call("DataRegistry", "isRegistered", root):
        raise NotRegisteredError(hex32(root))
    # The last registration event is the current one (a reveal can supersede an earlier registration).
    events = registry.events("DataRegistry", "DatasetRegistered", hex32(root))
    if not events:
        raise NotRegisteredError(hex32(root))
    args, log = events[-1]
    raw = args["metadataHash"]
    commitment = bytes.fromhex(raw[2:]) if isinstance(raw, str) else bytes(raw)
    published = registry.events("DataRegistry", "MetadataPublished", hex32(root))
    uri = str(published[-1][0]["metadataURI"]) if published else ""
    return OnChainMetadata(root, commitment, uri, log["transactionHash"].to_0x_hex())


def salt_records(folder: Path, root: bytes) -> list[dict[str, Any]]:
    """The registrant's salt records for `root` that hold a metadata salt, oldest name first."""
    found = []
    for path in sorted(folder.glob(f"{root.hex()}-*.json")) if folder.is_dir() else []:
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and record.get("metadataSalt"):
            found.append({**record, "_file": str(path)})
    return found


def parse_salt(value: str) -> bytes:
    """A metadata salt given as 0x + 64 hex digits."""
    try:
        raw = bytes.fromhex(value.removeprefix("0x")) if value.startswith("0x") else b""
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ConfigError(f"salt {value!r} is not 32 bytes of 0x-hex")
    return raw


@dataclass(frozen=True)
class Reveal:
    """A metadata document with its salt, as revealed by the registrant."""

    root: str
    chain_id: int
    metadata_hash: str
    salt: str
    document: bytes
    metadata_uri: str = ""

    @property
    def document_sha256(self) -> str:
        return "0x" + hashlib.sha256(self.document).hexdigest()

    def to_json(self) -> str:
        try:
            text, encoding = self.document.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = base64.b64encode(self.document).decode(), "base64"
        raw = {
            "format": FORMAT,
            "root": self.root,
            "chainId": self.chain_id,
            "metadataHash": self.metadata_hash,
            "metadataUri": self.metadata_uri,
            "salt": self.salt,
            "documentSha256": self.document_sha256,
            "documentEncoding": encoding,
            "document": text,
        }
        return json.dumps(raw, indent=2) + "\n"

    @classmethod
    def read(cls, path: Path) -> Reveal:
        """Parse a reveal file; ConfigError naming what is wrong with it."""
        try:
            raw = json.loads(path.read_text())
        except OSError as exc:
            raise ConfigError(f"cannot read reveal file {path}: {exc.strerror}") from None
        except ValueError as exc:
            raise ConfigError(f"reveal file {path} is not JSON: {exc}") from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise ConfigError(f"{path} is not a metadata reveal file (format should be {FORMAT!r})")
        try:
            text, encoding = str(raw["document"]), raw.get("documentEncoding", "utf-8")
            document = base64.b64decode(text, validate=True) if encoding == "base64" else text.encode()
            reveal = cls(
                str(raw["root"]).lower(),
                int(raw["chainId"]),
                str(raw["metadataHash"]).lower(),
                str(raw["salt"]),
                document,
                str(raw.get("metadataUri", "")),
            )
            claimed_sha = str(raw["documentSha256"]).lower()
        except (KeyError, ValueError, TypeError) as exc:
            raise ConfigError(f"reveal file {path} has a missing or malformed field: {exc}") from None
        if claimed_sha != reveal.document_sha256:
            raise MetadataMismatchError(
                f"the document in {path} was changed after it was revealed (its SHA-256 is {reveal.document_sha256}, "
                f"the reveal says {claimed_sha})"
            )
        return reveal


def check(
    chain: OnChainMetadata,
    document: bytes,
    salt: bytes,
    *,
    reveal: Reveal | None = None,
    known_salts: list[bytes] | None = None,
) -> bytes:
    """The commitment `document` and `salt` make, if it is the chain's; else MetadataMismatchError saying
    which part does not match (using the reveal and the registrant's own salts when there are any)."""
    if reveal is not None and reveal.root != hex32(chain.root):
        raise MetadataMismatchError(f"the reveal is for dataset {reveal.root}, not {hex32(chain.root)}")
    if chain.commitment == ZERO:
        raise MetadataMismatchError(f"dataset {hex32(chain.root)} was registered without metadata (commitment zero)")
    computed = metadata_commitment(document, salt)
    if computed == chain.commitment:
        return computed
    prefix = f"the metadata does not open the on-chain commitment {hex32(chain.commitment)} of {hex32(chain.root)}"
    if reveal is not None and reveal.metadata_hash != hex32(chain.commitment):
        raise MetadataMismatchError(
            f"{prefix}: the reveal was made for commitment {reveal.metadata_hash} (another registration or chain)"
        )
    if reveal is not None and "0x" + hashlib.sha256(document).hexdigest() != reveal.document_sha256:
        raise MetadataMismatchError(f"{prefix}: the document differs from the one revealed (SHA-256 differs)")
    for known in known_salts or []:
        if known == salt:
            raise MetadataMismatchError(
                f"{prefix}: the salt is the one recorded at registration, so the document differs"
            )
        if metadata_commitment(document, known) == chain.commitment:
            raise MetadataMismatchError(f"{prefix}: the document is the registered one, but the salt is wrong")
    if reveal is not None:
        raise MetadataMismatchError(f"{prefix}: the document is the one revealed (same SHA-256), so the salt is wrong")
    raise MetadataMismatchError(
        f"{prefix}: keccak256(salt ‖ document) is {hex32(computed)}; the document or the salt differs from those "
        "registered"
    )


__all__ = ["FORMAT", "MetadataMismatchError", "OnChainMetadata", "Reveal", "check", "on_chain", "salt_records"]
