"""Who was on the council when: the governors, their threshold and their witness keys as a
history of changes read from Consortium events, the council file an auditor trusts, and the
rule that says which checkpoints count. Pure Python, no network.

The trust rule (docs/audit.md, "Which checkpoints count"): an auditor starts from a council it
trusts as of a block B (its council file). Checkpoints are taken in increasing size. A
checkpoint of size N (blocks 0..N-1, last block L = N-1, L >= B) counts when it is cosigned by
at least the threshold of

1. the council current at block L: the trusted council with every council change of the
   history in blocks B+1..L applied, so a governor removed before L no longer counts; and
2. the council already proved: the trusted council with the changes up to the last block of the
   previous counted checkpoint (B for the first), so a change the checkpoint itself is the
   first to prove cannot let new keys vouch for it.

Whoever supplies the history (an audit bundle) must prove each change's log by a block that a
counted checkpoint includes; this module checks the cosignatures and the order.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from client.checkpoints import _ADDRESS, _ORIGIN, Checkpoint, Council, parse_note, verify_cosigned
from client.errors import CheckpointError

__all__ = [
    "COUNCIL_FILE_FORMAT",
    "CouncilChange",
    "CouncilHistory",
    "CouncilState",
    "TrustedCouncil",
    "council_history",
    "counted_checkpoints",
    "dump_council_file",
    "load_council_file",
]

#: The ``format`` value of a council file.
COUNCIL_FILE_FORMAT = "idsreg-council/v1"

#: Consortium's ``Role.Governor``.
GOVERNOR_ROLE = 0

#: The kinds of council change, by the Consortium event they come from.
KINDS = ("governor-added", "governor-removed", "threshold", "witness-key")


@dataclass(frozen=True)
class CouncilChange:
    """One change to the council, where the chain records it: ``block``, ``tx`` (0x hash) and
    ``log_index`` of its log. ``kind`` is one of `KINDS`; ``governor`` the account concerned
    (lowercase; None for a threshold); ``threshold`` the new threshold; ``key`` the new witness
    key (None when the key is cleared)."""

    block: int
    tx: str
    log_index: int
    kind: str
    governor: str | None = None
    threshold: int | None = None
    key: bytes | None = None


@dataclass(frozen=True)
class CouncilState:
    """The council at one moment: governors (lowercase addresses), threshold, witness keys."""

    governors: frozenset[str] = frozenset()
    threshold: int = 0
    keys: Mapping[str, bytes] = field(default_factory=dict)

    def council(self) -> Council:
        """The `Council` that verifies cosignatures: the governors with a witness key."""
        return Council(self.threshold, {g: k for g, k in self.keys.items() if g in self.governors})

    def apply(self, change: CouncilChange) -> CouncilState:
        """The state after ``change`` (removing a governor drops its witness key, as the
        contract does)."""
        governors, keys, threshold = set(self.governors), dict(self.keys), self.threshold
        if change.kind == "governor-added" and change.governor:
            governors.add(change.governor)
        elif change.kind == "governor-removed" and change.governor:
            governors.discard(change.governor)
            keys.pop(change.governor, None)
        elif change.kind == "threshold" and change.threshold is not None:
            threshold = change.threshold
        elif change.kind == "witness-key" and change.governor:
            if change.key is None:
                keys.pop(change.governor, None)
            else:
                keys[change.governor] = change.key
        return CouncilState(frozenset(governors), threshold, keys)


@dataclass(frozen=True)
class TrustedCouncil:
    """The council an auditor trusts: the registry's checkpoint ``origin`` and the council
    ``state`` as of the end of ``block``."""

    origin: str
    block: int
    state: CouncilState


@dataclass(frozen=True)
class CouncilHistory:
    """A trusted starting council and the changes after it, in chain order."""

    start: TrustedCouncil
    changes: tuple[CouncilChange, ...] = ()

    def state_at(self, block: int) -> CouncilState:
        """The council as of the end of ``block`` (not before the trusted block)."""
        if block < self.start.block:
            raise CheckpointError(
                "council",
                f"the council at block {block} is unknown: the trusted council is as of block {self.start.block}",
                block=block,
                trusted_block=self.start.block,
            )
        state = self.start.state
        for change in self.changes:
            if change.block > block:
                break
            if change.block > self.start.block:
                state = state.apply(change)
        return state

    def at(self, block: int) -> Council:
        """The `Council` current at the end of ``block``."""
        return self.state_at(block).council()


def council_history(events: Iterable[Mapping[str, Any]]) -> list[CouncilChange]:
    """The council changes among decoded Consortium events, in chain order.

    Each event is a mapping with ``event`` (its name), ``args`` (decoded arguments by name),
    ``blockNumber``, ``transactionHash`` (0x hex or bytes) and ``logIndex``. Events of other
    kinds (and roles other than governor) are skipped.
    """
    changes = []
    for event in events:
        name, args = event["event"], event["args"]
        where = (int(event["blockNumber"]), _hex(event["transactionHash"]), int(event["logIndex"]))
        if name in ("RoleGranted", "RoleRevoked") and int(args["role"]) == GOVERNOR_ROLE:
            kind = "governor-added" if name == "RoleGranted" else "governor-removed"
            changes.append(CouncilChange(*where, kind=kind, governor=str(args["account"]).lower()))
        elif name == "ThresholdChanged" and int(args["role"]) == GOVERNOR_ROLE:
            changes.append(CouncilChange(*where, kind="threshold", threshold=int(args["newThreshold"])))
        elif name == "WitnessKeyChanged":
            key = _bytes32(args["newKey"])
            changes.append(
                CouncilChange(
                    *where, kind="witness-key", governor=str(args["governor"]).lower(), key=key if any(key) else None
                )
            )
    changes.sort(key=lambda c: (c.block, c.log_index))
    return changes


def _bytes32(value: Any) -> bytes:
    """A bytes32 event argument given as bytes or as 0x hex (how the chain bindings decode it)."""
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


def _hex(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    text = str(value).lower()
    return text if text.startswith("0x") else "0x" + text


def counted_checkpoints(notes: Sequence[bytes], history: CouncilHistory) -> list[Checkpoint]:
    """The checkpoints of ``notes`` in increasing size, each checked by the trust rule (module
    docstring); raises `CheckpointError` at the first that does not count, naming its size."""
    parsed = sorted(((parse_note(note)[0], note) for note in notes), key=lambda pair: pair[0].size)
    origin = history.start.origin
    proved_block = history.start.block
    counted: list[Checkpoint] = []
    for checkpoint, note in parsed:
        last = checkpoint.size - 1
        if last < history.start.block:
            raise CheckpointError(
                "council",
                f"checkpoint of size {checkpoint.size} ends at block {last}, before block "
                f"{history.start.block} of the trusted council",
                size=checkpoint.size,
            )
        for which, block in (("current at its last block", last), ("already proved", proved_block)):
            council = history.at(block)
            try:
                verify_cosigned(note, council, origin)
            except CheckpointError as exc:
                if exc.reason != "below-threshold":
                    raise
                raise CheckpointError(
                    "below-threshold",
                    f"checkpoint of size {checkpoint.size} does not count: the council {which} "
                    f"(block {block}) needs {council.threshold} cosignature(s): {exc}",
                    size=checkpoint.size,
                    block=block,
                    threshold=council.threshold,
                ) from exc
        if counted and checkpoint.size == counted[-1].size and checkpoint.root != counted[-1].root:
            raise CheckpointError(
                "inconsistent",
                f"two counted checkpoints of size {checkpoint.size} have different roots",
                size=checkpoint.size,
            )
        counted.append(checkpoint)
        proved_block = last
    return counted


# --- the council file -------------------------------------------------------------------------


def dump_council_file(trusted: TrustedCouncil) -> bytes:
    """The council file (JSON, docs/audit.md) of a trusted council."""
    state = trusted.state
    document = {
        "format": COUNCIL_FILE_FORMAT,
        "origin": trusted.origin,
        "block": trusted.block,
        "threshold": state.threshold,
        "governors": [
            {
                "address": governor,
                "witnessKey": base64.b64encode(state.keys[governor]).decode() if governor in state.keys else None,
            }
            for governor in sorted(state.governors)
        ],
    }
    return (json.dumps(document, indent=2) + "\n").encode()


def _bad_file(field_name: str, what: str) -> CheckpointError:
    error = CheckpointError("council-file", f"council file: {field_name} {what}", field=field_name)
    error.exit_code = 2  # bad input, not a failed verification
    return error


def load_council_file(text: bytes) -> TrustedCouncil:
    """Read a council file; `CheckpointError` (reason ``council-file``, exit 2) naming the field
    otherwise."""
    try:
        document = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad_file("(whole file)", f"is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise _bad_file("(top level)", "must be a JSON object")
    if document.get("format") != COUNCIL_FILE_FORMAT:
        raise _bad_file("format", f"is {document.get('format')!r}, not {COUNCIL_FILE_FORMAT!r}")
    origin = document.get("origin")
    if not isinstance(origin, str) or not _ORIGIN.fullmatch(origin):
        raise _bad_file("origin", f"{origin!r} is not idsreg/<chain id>/<0x lowercase Consortium address>")
    block = document.get("block")
    if not isinstance(block, int) or isinstance(block, bool) or block < 0:
        raise _bad_file("block", f"{block!r} is not a block number")
    governors_field = document.get("governors")
    if not isinstance(governors_field, list) or not governors_field:
        raise _bad_file("governors", "must be a non-empty list")
    governors: set[str] = set()
    keys: dict[str, bytes] = {}
    for position, entry in enumerate(governors_field):
        where = f"governors[{position}]"
        if not isinstance(entry, dict) or set(entry) != {"address", "witnessKey"}:
            raise _bad_file(where, "must be an object with address and witnessKey")
        address = entry["address"]
        if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
            raise _bad_file(f"{where}.address", f"{address!r} is not a 0x lowercase address")
        if address in governors:
            raise _bad_file(f"{where}.address", f"{address} is listed twice")
        governors.add(address)
        key = entry["witnessKey"]
        if key is None:
            continue
        try:
            raw = base64.b64decode(key, validate=True) if isinstance(key, str) else b""
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise _bad_file(f"{where}.witnessKey", f"{key!r} is not the base64 of a 32-byte Ed25519 public key")
        if raw in keys.values():
            raise _bad_file(f"{where}.witnessKey", "is the witness key of another governor too")
        keys[address] = raw
    threshold = document.get("threshold")
    if not isinstance(threshold, int) or isinstance(threshold, bool) or not 1 <= threshold <= len(governors):
        raise _bad_file("threshold", f"{threshold!r} is not between 1 and the {len(governors)} governors")
    return TrustedCouncil(origin, block, CouncilState(frozenset(governors), threshold, keys))
