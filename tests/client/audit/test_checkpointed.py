"""A bundle authenticated by a cosigned checkpoint verifies with no node; a checkpoint below the
council's threshold, one cosigned by a removed governor, a forged cosignature, a council change
left out or a last header that is not the checkpoint's are each refused with the reason."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
import rfc8785
from web3 import Web3

from client.audit.bundle import Bundle, BundleError
from client.audit.export import export_bundle
from client.audit.trust import by_checkpoint
from client.audit.verify import Verified, verify_bytes
from client.checkpoint_council import load_council_file
from tests.client.audit.council import CouncilStory
from tests.registry_api.conftest import tell_story


@pytest.fixture(scope="module")
def council(w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> CouncilStory:
    return CouncilStory(tell_story(w3, tmp_path_factory.mktemp("deployments"))).run()


@pytest.fixture(scope="module")
def bundle(council: CouncilStory) -> Bundle:
    story = council.story
    root = story.roots["turbine scans"]
    return export_bundle(story.registry, root, 1, openings=story.openings, checkpoints=council.notes())


def verified(council: CouncilStory, data: bytes) -> Verified:
    return verify_bytes(data, authenticate=by_checkpoint(load_council_file(council.council_file())))


def refused(council: CouncilStory, data: bytes, *fragments: str) -> None:
    with pytest.raises(BundleError) as info:
        verified(council, data)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


def with_notes(bundle: Bundle, notes: list[bytes]) -> bytes:
    document = json.loads(bundle.to_bytes())
    document["checkpoint"]["notes"] = [n.decode() for n in notes]
    return bytes(rfc8785.dumps(document))


def tampered(bundle: Bundle, change: Callable[[dict[str, Any]], None]) -> bytes:
    document = json.loads(bundle.to_bytes())
    change(document)
    return bytes(rfc8785.dumps(document))


def test_a_checkpointed_bundle_verifies_without_a_node(council: CouncilStory, bundle: Bundle) -> None:
    result = verified(council, bundle.to_bytes())
    assert result.authenticated_by is not None and "checkpoint of size" in result.authenticated_by
    assert bundle.last_block == int(council.w3.eth.block_number)
    changes = [(f.event, f.args.get("account") or f.args.get("governor")) for f in result.facts if f.about == "council"]
    assert ("RoleGranted", council.joined.address) in changes
    assert ("WitnessKeyChanged", council.joined.address) in changes
    assert ("RoleRevoked", council.left.address) in changes


def test_without_the_handover_checkpoint_the_new_key_cannot_vouch_for_itself(
    council: CouncilStory, bundle: Bundle
) -> None:
    """The trust rule: keys first proved by a checkpoint cannot count towards it."""
    refused(council, with_notes(bundle, council.notes()[1:]), "does not count", "already proved")


def test_a_checkpoint_below_the_threshold_does_not_count(council: CouncilStory, bundle: Bundle) -> None:
    refused(
        council,
        with_notes(bundle, council.notes(council.current[:1])),
        "the checkpoint, field notes",
        "does not count",
        "1 governor",
    )


def test_a_removed_governors_cosignature_does_not_count(council: CouncilStory, bundle: Bundle) -> None:
    notes = council.notes([council.current[0], council.left])
    refused(council, with_notes(bundle, notes), "the checkpoint, field notes", "does not count", "current at")


def test_a_forged_cosignature_is_refused(council: CouncilStory, bundle: Bundle) -> None:
    handover, note = council.notes()
    lines = note.decode().split("\n")
    last = lines[-2]
    head, blob = last.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(blob))
    raw[-1] ^= 0x01
    lines[-2] = f"{head} {base64.b64encode(bytes(raw)).decode()}"
    forged = "\n".join(lines).encode()
    refused(council, with_notes(bundle, [handover, forged]), "the checkpoint, field notes", "does not verify")


def test_a_council_change_left_out_is_found(council: CouncilStory, bundle: Bundle) -> None:
    number = next(n for n, f in enumerate(bundle.facts) if f.event == "RoleRevoked" and f.about == "council")
    block = bundle.facts[number].block

    def change(document: dict[str, Any]) -> None:
        del document["facts"][number]
        document["blocks"] = [b for b in document["blocks"] if b["number"] != block]

    refused(council, tampered(bundle, change), f"header of block {block}", "field logsBloom")


def test_a_last_header_the_checkpoint_does_not_hold_is_refused(council: CouncilStory, bundle: Bundle) -> None:
    # The last header re-signed by nobody: change its extraData (no receipts or bloom depend on it).
    import rlp

    def change(document: dict[str, Any]) -> None:
        fields = rlp.decode(bytes.fromhex(document["headers"][-1][2:]))
        fields[12] = b"forged"
        document["headers"][-1] = "0x" + rlp.encode(fields).hex()

    refused(council, tampered(bundle, change), "the checkpoint, field proof", f"block {bundle.last_block}")


def test_a_council_file_of_another_registry_is_refused(council: CouncilStory, bundle: Bundle) -> None:
    trusted = json.loads(council.council_file())
    trusted["origin"] = trusted["origin"][:-1] + ("0" if trusted["origin"][-1] != "0" else "1")
    check = by_checkpoint(load_council_file(json.dumps(trusted).encode()))
    with pytest.raises(BundleError, match="origin"):
        verify_bytes(bundle.to_bytes(), authenticate=check)


def test_without_a_checkpoint_the_council_file_has_nothing_to_check(council: CouncilStory) -> None:
    story = council.story
    plain = export_bundle(story.registry, story.roots["turbine scans"], 0)
    refused(council, plain.to_bytes(), "the checkpoint", "carries no checkpoint")
