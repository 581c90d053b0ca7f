"""Cosigned checkpoints over block hashes: the C2SP note format, cosignatures, the council's
threshold, block inclusion and consistency, and the trust rule over a council history.

The C2SP byte layouts are rebuilt here with hashlib, base64 and `cryptography` directly, so a
mistake in `client.checkpoints` does not cancel out.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from client.checkpoint_council import (
    CouncilChange,
    CouncilHistory,
    CouncilState,
    TrustedCouncil,
    council_history,
    counted_checkpoints,
    dump_council_file,
    load_council_file,
)
from client.checkpoints import (
    Checkpoint,
    Council,
    block_consistency_proof,
    block_inclusion_proof,
    checkpoint_for,
    cosign,
    origin_for,
    parse_note,
    signed_note,
    verify_block,
    verify_consistent,
    verify_cosigned,
)
from client.errors import CheckpointError

ORIGIN = origin_for(7351, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
GOVERNORS = [f"0x{i:040x}" for i in (0xA1, 0xB2, 0xC3, 0xD4)]
SEEDS = {g: hashlib.sha256(g.encode()).digest() for g in GOVERNORS}


def public(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


KEYS = {g: public(s) for g, s in SEEDS.items()}


def blocks(n: int) -> list[bytes]:
    return [hashlib.sha256(b"block %d" % i).digest() for i in range(n)]


def council(*governors: str, threshold: int = 2) -> Council:
    return Council(threshold, {g: KEYS[g] for g in governors})


def note_by(checkpoint: Checkpoint, *governors: str, timestamp: int = 1_760_000_000) -> bytes:
    return signed_note(checkpoint, [cosign(checkpoint, g, SEEDS[g], timestamp) for g in governors])


# --- the format, byte for byte ------------------------------------------------------------------


def test_note_is_c2sp_checkpoint_with_tlog_cosignatures() -> None:
    hashes = blocks(5)
    checkpoint = checkpoint_for(ORIGIN, hashes)
    note = note_by(checkpoint, GOVERNORS[0], timestamp=1_700_000_123)
    text = note.decode()
    body, signature = text.split("\n\n")
    origin, size, root = body.split("\n")
    assert (origin, size) == ("idsreg/7351/0x5fbdb2315678afecb367f032d93f642f64180aa3", "5")
    # RFC 6962 over leaf i = block i's hash, recomputed with hashlib.
    assert base64.b64decode(root) == checkpoint.root == _mth([b"\x00" + h for h in hashes])
    dash, name, blob_text = signature.rstrip("\n").split(" ")
    assert dash == "\u2014" and name == f"{ORIGIN}/witness/{GOVERNORS[0]}"
    blob = base64.b64decode(blob_text)
    assert len(blob) == 4 + 8 + 64
    assert blob[:4] == hashlib.sha256(name.encode() + b"\n\x04" + KEYS[GOVERNORS[0]]).digest()[:4]
    assert int.from_bytes(blob[4:12], "big") == 1_700_000_123
    message = b"cosignature/v1\ntime 1700000123\n" + (body + "\n").encode()
    Ed25519PublicKey.from_public_bytes(KEYS[GOVERNORS[0]]).verify(blob[12:], message)  # raises if wrong
    assert checkpoint.note == (body + "\n").encode()


def _mth(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return hashlib.sha256(leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


def test_parse_round_trip_and_signature_lines() -> None:
    checkpoint = checkpoint_for(ORIGIN, blocks(3))
    note = note_by(checkpoint, GOVERNORS[0], GOVERNORS[1])
    parsed, signatures = parse_note(note)
    assert parsed == checkpoint
    assert [(s.name.rsplit("/", 1)[1], s.line) for s in signatures] == [(GOVERNORS[0], 5), (GOVERNORS[1], 6)]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t.replace(b"\n\n", b"\n"), "no blank line before its signatures"),
        (lambda t: t[:-1], "does not end in a newline"),
        (lambda t: t.replace(b"idsreg/7351", b"idsreg/07351"), "line 1: origin"),
        (lambda t: t.replace(b"\n3\n", b"\n03\n"), "line 2: tree size '03'"),
        (lambda t: t.replace(b"=\n\n", b"\n\n"), "line 3: root hash is not standard base64"),
        (lambda t: t.replace(b"\n\n", b"\nextension\n\n"), "line 4: idsreg checkpoints have no extension lines"),
        (lambda t: t.replace("\u2014 ".encode(), b"- "), "line 5: a signature line is"),
        (lambda t: t.replace(b"\n3\n", b"\n3\t\n"), r"line 2: control character U\+0009"),
        (lambda t: t + b"\xff\n", "not UTF-8"),
        (lambda t: t.split(b"\n\n")[0] + b"\n\n", "line 5: a signed note has at least one signature line"),
    ],
)
def test_malformed_notes_are_refused_naming_the_line(mutate: object, message: str) -> None:
    note = note_by(checkpoint_for(ORIGIN, blocks(3)), GOVERNORS[0], GOVERNORS[1])
    with pytest.raises(CheckpointError, match=message) as caught:
        verify_cosigned(mutate(note), council(*GOVERNORS[:3]))  # type: ignore[operator]
    assert caught.value.reason == "malformed"


# --- cosignatures and the threshold ------------------------------------------------------------


def test_threshold_of_council_cosignatures_verifies() -> None:
    checkpoint = checkpoint_for(ORIGIN, blocks(9))
    note = note_by(checkpoint, GOVERNORS[2], GOVERNORS[0])
    assert verify_cosigned(note, council(*GOVERNORS[:3]), ORIGIN) == checkpoint


def test_below_threshold_is_refused_with_the_count() -> None:
    note = note_by(checkpoint_for(ORIGIN, blocks(9)), GOVERNORS[0])
    with pytest.raises(CheckpointError, match="cosigned by 1 governor.*2 needed") as caught:
        verify_cosigned(note, council(*GOVERNORS[:3]))
    assert caught.value.reason == "below-threshold"
    assert caught.value.values["cosigners"] == [GOVERNORS[0]]


def test_the_same_governor_twice_counts_once() -> None:
    checkpoint = checkpoint_for(ORIGIN, blocks(4))
    lines = [cosign(checkpoint, GOVERNORS[0], SEEDS[GOVERNORS[0]], t) for t in (1, 2)]
    with pytest.raises(CheckpointError, match="cosigned by 1 governor"):
        verify_cosigned(signed_note(checkpoint, lines), council(*GOVERNORS[:3]))


def test_one_key_registered_for_two_governors_counts_once() -> None:
    checkpoint = checkpoint_for(ORIGIN, blocks(4))
    shared = Council(2, {GOVERNORS[0]: KEYS[GOVERNORS[0]], GOVERNORS[1]: KEYS[GOVERNORS[0]]})
    lines = [cosign(checkpoint, g, SEEDS[GOVERNORS[0]], 1) for g in GOVERNORS[:2]]
    with pytest.raises(CheckpointError, match="cosigned by 1 governor"):
        verify_cosigned(signed_note(checkpoint, lines), shared)


def test_unknown_keys_are_ignored_and_named() -> None:
    checkpoint = checkpoint_for(ORIGIN, blocks(4))
    outsider = f"0x{0xEE:040x}"
    stranger = cosign(checkpoint, outsider, hashlib.sha256(b"outsider").digest(), 1)
    # A key claiming a governor's name but not its registered key: unknown too (name + key ID).
    impostor = cosign(checkpoint, GOVERNORS[1], hashlib.sha256(b"impostor").digest(), 1)
    good = cosign(checkpoint, GOVERNORS[0], SEEDS[GOVERNORS[0]], 1)
    note = signed_note(checkpoint, [stranger, impostor, good])
    with pytest.raises(CheckpointError, match=f"witness/{outsider}") as caught:
        verify_cosigned(note, council(*GOVERNORS[:3]))
    assert caught.value.reason == "below-threshold"


def test_a_known_key_over_a_different_root_rejects_the_note() -> None:
    signed = checkpoint_for(ORIGIN, blocks(6))
    other = checkpoint_for(ORIGIN, blocks(5) + [hashlib.sha256(b"forked").digest()])
    # Governor 1's signature over the forked root, pasted under the real checkpoint.
    forked_line = cosign(other, GOVERNORS[1], SEEDS[GOVERNORS[1]], 7)
    note = signed_note(signed, [cosign(signed, GOVERNORS[0], SEEDS[GOVERNORS[0]], 7), forked_line])
    with pytest.raises(CheckpointError, match=f"governor {GOVERNORS[1]} on line 6 does not verify") as caught:
        verify_cosigned(note, council(*GOVERNORS[:3]))
    assert caught.value.reason == "bad-signature"


def test_a_changed_timestamp_breaks_the_signature() -> None:
    checkpoint = checkpoint_for(ORIGIN, blocks(6))
    line = cosign(checkpoint, GOVERNORS[0], SEEDS[GOVERNORS[0]], 100)
    name, blob = line.split(" ")[1:]
    raw = bytearray(base64.b64decode(blob))
    raw[11] ^= 1
    tampered = f"\u2014 {name} {base64.b64encode(bytes(raw)).decode()}"
    note = signed_note(checkpoint, [tampered, cosign(checkpoint, GOVERNORS[1], SEEDS[GOVERNORS[1]], 1)])
    with pytest.raises(CheckpointError, match="does not verify"):
        verify_cosigned(note, council(*GOVERNORS[:3]))


def test_wrong_origin_is_refused() -> None:
    other = origin_for(7352, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
    note = note_by(checkpoint_for(other, blocks(3)), *GOVERNORS[:2])
    with pytest.raises(CheckpointError, match="origin idsreg/7352/.* is not the expected idsreg/7351/"):
        verify_cosigned(note, council(*GOVERNORS[:3]), ORIGIN)


# --- blocks ------------------------------------------------------------------------------------


def test_every_block_is_proved_and_a_wrong_hash_is_not() -> None:
    hashes = blocks(13)
    checkpoint = checkpoint_for(ORIGIN, hashes)
    for n, block_hash in enumerate(hashes):
        proof = block_inclusion_proof(hashes, n)
        verify_block(checkpoint, n, block_hash, proof)
        with pytest.raises(CheckpointError, match=f"block {n} with hash 0x{hashes[n - 1].hex()}") as caught:
            verify_block(checkpoint, n, hashes[n - 1], proof)
        assert caught.value.reason == "not-included"
    with pytest.raises(CheckpointError, match="block 13 is not in a tree of 13 blocks"):
        block_inclusion_proof(hashes, 13)


def test_checkpoints_are_consistent_unless_history_was_rewritten() -> None:
    hashes = blocks(20)
    old, new = checkpoint_for(ORIGIN, hashes[:11]), checkpoint_for(ORIGIN, hashes)
    verify_consistent(old, new, block_consistency_proof(hashes, 11))
    rewritten = hashes[:10] + [hashlib.sha256(b"reorg").digest()] + hashes[11:]
    with pytest.raises(CheckpointError, match="size 20 does not extend the checkpoint of size 11") as caught:
        verify_consistent(old, checkpoint_for(ORIGIN, rewritten), block_consistency_proof(rewritten, 11))
    assert caught.value.reason == "inconsistent"


# --- council history and the trust rule --------------------------------------------------------


def _event(name: str, block: int, log_index: int, **args: object) -> dict[str, object]:
    return {
        "event": name,
        "args": args,
        "blockNumber": block,
        "transactionHash": "0x" + "ab" * 32,
        "logIndex": log_index,
    }


def deployment_events() -> list[dict[str, object]]:
    """A council of governors 0, 1, 2 with threshold 2, each with its witness key."""
    events = [_event("RoleGranted", 1, i, role=0, account=g) for i, g in enumerate(GOVERNORS[:3])]
    events.append(_event("ThresholdChanged", 1, 3, role=0, previousThreshold=0, newThreshold=2))
    events.append(_event("ThresholdChanged", 1, 4, role=2, previousThreshold=0, newThreshold=1))  # arbiters
    events.append(_event("RoleGranted", 1, 5, role=1, account=GOVERNORS[3]))  # an auditor, not a governor
    for block, g in enumerate(GOVERNORS[:3], start=2):
        events.append(_event("WitnessKeyChanged", block, 0, governor=g, previousKey=b"\0" * 32, newKey=KEYS[g]))
    return events


def from_deployment() -> CouncilHistory:
    return CouncilHistory(TrustedCouncil(ORIGIN, 0, CouncilState()), tuple(council_history(deployment_events())))


def history(*extra: dict[str, object]) -> CouncilHistory:
    """The history an auditor trusts from block 4 (the council keyed), with ``extra`` changes."""
    start = TrustedCouncil(ORIGIN, 4, from_deployment().state_at(4))
    return CouncilHistory(start, tuple(council_history([*deployment_events(), *extra])))


def test_council_history_reads_governor_changes_only() -> None:
    changes = council_history(deployment_events())
    assert [c.kind for c in changes] == ["governor-added"] * 3 + ["threshold"] + ["witness-key"] * 3
    assert changes[3] == CouncilChange(1, "0x" + "ab" * 32, 3, "threshold", threshold=2)
    h = from_deployment()
    assert h.at(1) == Council(2, {})
    assert h.at(4) == council(*GOVERNORS[:3])
    with pytest.raises(CheckpointError, match="council at block 3 is unknown: the trusted council is as of block 4"):
        history().at(3)


def test_removed_governors_cosignature_stops_counting() -> None:
    removal = _event("RoleRevoked", 7, 0, role=0, account=GOVERNORS[2])
    h = history(removal)
    hashes = blocks(12)
    # Before the removal is proved, governors 0 and 2 make a counted checkpoint of size 7.
    early = note_by(checkpoint_for(ORIGIN, hashes[:7]), GOVERNORS[0], GOVERNORS[2])
    assert [c.size for c in counted_checkpoints([early], h)] == [7]
    late = note_by(checkpoint_for(ORIGIN, hashes), GOVERNORS[0], GOVERNORS[2])
    with pytest.raises(CheckpointError, match="size 12 does not count: the council current at its last block"):
        counted_checkpoints([early, late], h)
    good = note_by(checkpoint_for(ORIGIN, hashes), GOVERNORS[0], GOVERNORS[1])
    assert [c.size for c in counted_checkpoints([good, early], h)] == [7, 12]
    assert h.at(11).witnesses.keys() == {GOVERNORS[0], GOVERNORS[1]}


def test_new_keys_cannot_vouch_for_the_checkpoint_that_first_proves_them() -> None:
    # A forged history: governor 3 added and keyed and the threshold lowered to 1, all after
    # the last counted checkpoint; only governor 3 cosigns the checkpoint that would prove it.
    forged = [
        _event("RoleGranted", 8, 0, role=0, account=GOVERNORS[3]),
        _event("WitnessKeyChanged", 8, 1, governor=GOVERNORS[3], previousKey=b"\0" * 32, newKey=KEYS[GOVERNORS[3]]),
        _event("ThresholdChanged", 8, 2, role=0, previousThreshold=2, newThreshold=1),
    ]
    h = history(*forged)
    note = note_by(checkpoint_for(ORIGIN, blocks(10)), GOVERNORS[3])
    with pytest.raises(CheckpointError, match="the council already proved"):
        counted_checkpoints([note], h)
    # Once a checkpoint the old council cosigned proves the change, the new key counts.
    proved = note_by(checkpoint_for(ORIGIN, blocks(9)), GOVERNORS[0], GOVERNORS[1])
    assert [c.size for c in counted_checkpoints([note, proved], h)] == [9, 10]


def test_council_file_round_trip_and_refusals() -> None:
    trusted = TrustedCouncil(ORIGIN, 4, history().state_at(4))
    text = dump_council_file(trusted)
    assert load_council_file(text) == trusted
    document = json.loads(text)
    assert document["governors"][0] == {
        "address": GOVERNORS[0],
        "witnessKey": base64.b64encode(KEYS[GOVERNORS[0]]).decode(),
    }
    for field_name, value, message in [
        ("threshold", 4, "threshold 4 is not between 1 and the 3 governors"),
        ("origin", "idsreg/7351/0xABC", "origin 'idsreg/7351/0xABC'"),
        ("format", "other", "format is 'other'"),
        ("block", -1, "block -1 is not a block number"),
    ]:
        with pytest.raises(CheckpointError, match=message) as caught:
            load_council_file(json.dumps({**document, field_name: value}).encode())
        assert caught.value.values["field"] == field_name
    bad_key = json.loads(text)
    bad_key["governors"][1]["witnessKey"] = "AAAA"
    with pytest.raises(CheckpointError, match=r"governors\[1\].witnessKey 'AAAA' is not the base64"):
        load_council_file(json.dumps(bad_key).encode())
    twice = json.loads(text)
    twice["governors"][1]["witnessKey"] = twice["governors"][0]["witnessKey"]
    with pytest.raises(CheckpointError, match="witness key of another governor too"):
        load_council_file(json.dumps(twice).encode())
