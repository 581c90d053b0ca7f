"""Is the code at the manifest's addresses the committed artifacts? (`idsreg chain verify-contracts`)

A deployment manifest is a file anyone can edit; the chain is not. For each registry contract
the runtime code at the manifest's address (`eth_getCode`) is compared with the artifact's
`deployedBytecode`:

- **Immutables masked.** The constructor writes immutables (the deployer, the addresses of the
  other registry contracts) into the runtime code; the artifact has zeros there. The artifact's
  `immutableReferences` say where; those bytes are left out of the comparison. What they hold is
  checked on its own: every immutable that holds an address must be a contract of the same
  manifest, the manifest's deployer or the contract itself (EIP-712's cached address), so a
  genuine contract wired to a foreign Consortium does not pass. Immutables that hold other
  values (EIP-712's chain id, hashes and short strings) are masked only.
- **Metadata hash apart.** solc appends a CBOR record (the IPFS hash of the compiler metadata,
  which covers the exact source text, and the compiler version) to the code. Code that differs
  only there executes identically but was built from other source text (a comment, a path):
  it is reported as such, and passes only when asked to ignore metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from web3 import Web3

from .artifacts import DEPLOYABLE, load_artifact
from .manifest import Manifest


class CodeStatus(StrEnum):
    MATCH = "match"
    METADATA_DIFFERS = "metadataDiffers"
    CODE_DIFFERS = "codeDiffers"
    WIRING_DIFFERS = "wiringDiffers"
    NO_CODE = "noCode"
    NOT_IN_MANIFEST = "notInManifest"


@dataclass(frozen=True)
class CodeCheck:
    """The verdict on one contract of the manifest."""

    name: str
    address: str | None
    status: CodeStatus
    detail: str
    immutables: tuple[str, ...] = ()

    def passes(self, ignore_metadata: bool = False) -> bool:
        return self.status is CodeStatus.MATCH or (ignore_metadata and self.status is CodeStatus.METADATA_DIFFERS)


def split_metadata(code: bytes) -> tuple[bytes, bytes]:
    """The executable part of solc's runtime code and its trailing CBOR metadata record.

    The last two bytes give the record's length; a record is a CBOR map (first byte 0xa0-0xbf).

    >>> split_metadata(bytes.fromhex("6001") + bytes.fromhex("a1") + b"xyz" + bytes.fromhex("0004"))
    (b'`\\x01', b'\\xa1xyz\\x00\\x04')
    >>> split_metadata(bytes.fromhex("60016002"))
    (b'`\\x01`\\x02', b'')
    """
    if len(code) < 2:
        return code, b""
    length = int.from_bytes(code[-2:], "big")
    if length + 2 > len(code) or length == 0 or code[-(length + 2)] & 0xE0 != 0xA0:
        return code, b""
    return code[: -(length + 2)], code[-(length + 2) :]


def immutable_spans(references: Mapping[str, list[Mapping[str, int]]]) -> list[tuple[int, int]]:
    """(start, length) of every immutable in the runtime code, in order."""
    return sorted((int(r["start"]), int(r["length"])) for refs in references.values() for r in refs)


def mask(code: bytes, spans: list[tuple[int, int]]) -> bytes:
    """`code` with the bytes of every span set to zero."""
    masked = bytearray(code)
    for start, length in spans:
        masked[start : start + length] = bytes(length)
    return bytes(masked)


def first_difference(a: bytes, b: bytes) -> int:
    """The first offset at which `a` and `b` differ (the shorter length if one is a prefix of the other)."""
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return index
    return min(len(a), len(b))


def compare_code(
    name: str, address: str, onchain: bytes, artifact: Mapping[str, Any], allowed: Mapping[str, str]
) -> CodeCheck:
    """Compare the runtime code found at `address` with `artifact` (its deployedBytecode and
    immutableReferences). `allowed` maps the addresses an immutable may hold (lower-case) to
    what they are ("Consortium", "deployer")."""
    if not onchain:
        return CodeCheck(name, address, CodeStatus.NO_CODE, f"no code at {address}")
    expected = bytes.fromhex(str(artifact["deployedBytecode"]).removeprefix("0x"))
    spans = immutable_spans(artifact.get("immutableReferences") or {})
    if any(start + length > len(onchain) for start, length in spans):
        return CodeCheck(
            name,
            address,
            CodeStatus.CODE_DIFFERS,
            f"the runtime code at {address} differs from the artifact's: {len(onchain)} bytes on chain, "
            f"{len(expected)} in the artifact",
        )
    found_code, found_meta = split_metadata(mask(onchain, spans))
    want_code, want_meta = split_metadata(mask(expected, spans))
    if found_code != want_code:
        at = first_difference(found_code, want_code)
        return CodeCheck(
            name,
            address,
            CodeStatus.CODE_DIFFERS,
            f"the runtime code at {address} differs from the artifact's from byte {at} "
            f"({len(onchain)} bytes on chain, {len(expected)} in the artifact)",
        )
    held = []
    for start, length in spans:
        word = onchain[start : start + length]
        number = int.from_bytes(word, "big")
        if length != 32 or number >> 160 or number < 1 << 128:
            continue  # not an address (a chain id, a hash, a short string): masked, not named
        value = "0x" + word[-20:].hex()
        if value == address.lower():
            held.append("itself")
            continue
        if value not in allowed:
            return CodeCheck(
                name,
                address,
                CodeStatus.WIRING_DIFFERS,
                f"the code is the artifact's, but an immutable at byte {start} holds {value}, which is neither a "
                "contract of this manifest nor its deployer",
            )
        held.append(allowed[value])
    immutables = tuple(dict.fromkeys(held))
    if found_meta != want_meta:
        return CodeCheck(
            name,
            address,
            CodeStatus.METADATA_DIFFERS,
            "the executable code is the artifact's, but its metadata hash differs: it was built from other "
            "source text (comments, file names) or another compiler build",
            immutables,
        )
    return CodeCheck(name, address, CodeStatus.MATCH, "runtime code is the committed artifact's", immutables)


def check_deployment(w3: Web3, manifest: Manifest) -> list[CodeCheck]:
    """One CodeCheck per registry contract, in deployment order."""
    allowed = {d.address.lower(): name for name, d in manifest.contracts.items()}
    allowed.setdefault(manifest.deployer.lower(), "deployer")
    checks = []
    for name in DEPLOYABLE:
        deployment = manifest.contracts.get(name)
        if deployment is None:
            checks.append(CodeCheck(name, None, CodeStatus.NOT_IN_MANIFEST, "the manifest names no such contract"))
            continue
        address = Web3.to_checksum_address(deployment.address)
        onchain = bytes(w3.eth.get_code(address))
        artifact = load_artifact(name)
        raw = {"deployedBytecode": artifact.deployed_bytecode, "immutableReferences": artifact.immutable_references}
        checks.append(compare_code(name, address, onchain, raw, allowed))
    return checks
