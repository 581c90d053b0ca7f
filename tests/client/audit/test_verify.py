"""Round trip of a realistic bundle, and every kind of tampering refused with the part and field named."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest
import rfc8785

from client.audit.bundle import Bundle, BundleError, load
from client.audit.evidence import Header, decode_header, decode_receipt
from client.audit.verify import verify_bytes
from client.errors import MalformedFileError
from tests.registry_api.workload import Story


def tampered(bundle: Bundle, change: Callable[[dict[str, Any]], None]) -> bytes:
    document = json.loads(bundle.to_bytes())
    change(document)
    return bytes(rfc8785.dumps(document))


def refused(data: bytes, *fragments: str) -> BundleError:
    with pytest.raises(BundleError) as info:
        verify_bytes(data)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)
    return info.value


def fact_number(bundle: Bundle, event: str, about: str = "dataset") -> int:
    return next(n for n, f in enumerate(bundle.facts) if f.event == event and f.about == about)


def test_the_story_round_trips_with_every_kind_of_fact(scans_bundle: Bundle, story: Story) -> None:
    verified = verify_bytes(scans_bundle.to_bytes())
    events = {(f.about, f.event) for f in verified.facts}
    assert {
        ("dataset", "DatasetRegistered"),
        ("dataset", "MetadataPublished"),
        ("dataset", "RightOffered"),
        ("dataset", "RightTransferred"),
        ("dataset", "RightOfferCancelled"),
        ("dataset", "GrantIssued"),
        ("dataset", "GrantRevoked"),
        ("dataset", "ReceiptRecorded"),
        ("dataset", "DisputeOpened"),
        ("dataset", "RightFrozen"),
        ("dispute", "VoteCast"),
        ("dataset", "DisputeDismissed"),
        ("lineage", "DatasetRegistered"),
        ("lineage", "RegistrationSuperseded"),
        ("member", "MemberAdmitted"),
        ("member", "MemberSuspended"),
        ("member", "AdminReplaced"),
        ("member", "ConnectorAdded"),
        ("role", "RoleGranted"),
    } <= events
    # Lineage to depth 1: its children (the batch's first sensor, the wear model, the test bench),
    # not the maintenance plan two generations down.
    children = {f.args["root"] for f in verified.facts if f.about == "lineage" and f.event == "DatasetRegistered"}
    expected = {story.roots[n] for n in ("line sensor 0", "blade wear model", "gear test bench")}
    assert {bytes.fromhex(c[2:]) for c in children} == expected
    # Every organisation a fact names was admitted within the range; DELTA (expelled, never involved) is not there.
    admitted = {f.args["name"] for f in verified.facts if f.event == "MemberAdmitted"}
    assert admitted == {"ALPHA", "BETA", "GAMMA"}
    # The exporting side held every opening: nothing undisclosed.
    assert verified.undisclosed == [] and len(scans_bundle.openings) == 4
    # Every header was hashed from its RLP and matches the node's hash of that block.
    w3 = story.w3
    head = decode_header(scans_bundle.headers[-1])
    assert head.hash == bytes(w3.eth.get_block(head.number)["hash"])
    assert verified.authenticated_by is None  # no checkpoint, nothing asked of a node


def test_a_deeper_lineage_reaches_the_grandchild(story: Story) -> None:
    from client.audit.export import export_bundle

    bundle = export_bundle(story.registry, story.roots["turbine scans"], 2)
    roots = {f.args["root"] for f in verify_bytes(bundle.to_bytes()).facts if f.about == "lineage"}
    assert "0x" + story.roots["maintenance plan"].hex() in roots


def test_undisclosed_terms_are_listed_not_refused(story: Story) -> None:
    from client.audit.export import export_bundle

    bundle = export_bundle(story.registry, story.roots["turbine scans"], 0, openings=story.openings[:1])
    verified = verify_bytes(bundle.to_bytes())
    assert len(bundle.openings) == 1
    assert sorted(f.event for f, _ in verified.undisclosed) == ["GrantIssued", "GrantIssued", "ReceiptRecorded"]


def test_an_unregistered_dataset_is_no_record(story: Story) -> None:
    from client.audit.export import export_bundle
    from client.errors import UnknownRecordError

    with pytest.raises(UnknownRecordError, match="0x" + "ab" * 32):
        export_bundle(story.registry, bytes.fromhex("ab" * 32))


# ----- tampering -----


def test_an_altered_header_breaks_the_chain_of_hashes(scans_bundle: Bundle) -> None:
    number = scans_bundle.first_block + 3

    def change(document: dict[str, Any]) -> None:
        header = document["headers"][3]
        document["headers"][3] = header[:-2] + ("01" if header[-2:] != "01" else "02")

    refused(tampered(scans_bundle, change), f"header of block {number + 1}", "field parentHash", f"block {number}")


def test_an_altered_receipts_root_in_the_last_header_is_refused(scans_bundle: Bundle) -> None:
    # The last header has no successor to check its hash: its receipts must still give its receiptsRoot.
    carried = scans_bundle.blocks[-1].number
    index = carried - scans_bundle.first_block

    def change(document: dict[str, Any]) -> None:
        receipts = document["blocks"][-1]["receipts"]
        receipts[0] = receipts[0][:-2] + ("00" if receipts[0][-2:] != "00" else "01")

    refused(tampered(scans_bundle, change), f"block {carried}")
    assert index >= 0


def test_an_altered_proof_node_is_refused(scans_bundle: Bundle) -> None:
    number = fact_number(scans_bundle, "GrantIssued")

    def change(document: dict[str, Any]) -> None:
        proof = document["facts"][number]["proof"]
        proof[0] = proof[0][:10] + ("0" if proof[0][10] != "0" else "1") + proof[0][11:]

    refused(tampered(scans_bundle, change), f"fact {number} (GrantIssued", "field proof")


def test_an_altered_argument_is_named(scans_bundle: Bundle) -> None:
    number = fact_number(scans_bundle, "ReceiptRecorded")

    def change(document: dict[str, Any]) -> None:
        document["facts"][number]["args"]["consumer"] = 4

    refused(tampered(scans_bundle, change), f"fact {number} (ReceiptRecorded", "field args.consumer", "4")


def test_a_fact_left_out_is_found(scans_bundle: Bundle) -> None:
    number = fact_number(scans_bundle, "GrantRevoked")

    def change(document: dict[str, Any]) -> None:
        del document["facts"][number]

    refused(tampered(scans_bundle, change), "leaves out GrantRevoked")


def test_a_fact_left_out_with_its_block_is_found_by_the_bloom(scans_bundle: Bundle) -> None:
    number = fact_number(scans_bundle, "GrantRevoked")
    block = scans_bundle.facts[number].block

    def change(document: dict[str, Any]) -> None:
        del document["facts"][number]
        document["blocks"] = [b for b in document["blocks"] if b["number"] != block]

    refused(tampered(scans_bundle, change), f"header of block {block}", "field logsBloom")


def test_a_vote_left_out_with_its_block_is_found(scans_bundle: Bundle) -> None:
    """Votes are found by the dispute's id, not by the dataset's root: still covered."""
    number = fact_number(scans_bundle, "VoteCast", "dispute")
    block = scans_bundle.facts[number].block
    assert not any(f.block == block and f.about == "dataset" for f in scans_bundle.facts)

    def change(document: dict[str, Any]) -> None:
        del document["facts"][number]
        document["blocks"] = [b for b in document["blocks"] if b["number"] != block]

    refused(tampered(scans_bundle, change), f"header of block {block}", "field logsBloom")


def test_a_suspension_left_out_is_found(scans_bundle: Bundle) -> None:
    """A party's suspension after the dataset's last event is still part of its membership history."""
    number = max(n for n, f in enumerate(scans_bundle.facts) if f.event == "MemberSuspended")
    block = scans_bundle.facts[number].block

    def change(document: dict[str, Any]) -> None:
        del document["facts"][number]
        document["blocks"] = [b for b in document["blocks"] if b["number"] != block]

    refused(tampered(scans_bundle, change), f"header of block {block}", "field logsBloom")


def test_a_fact_that_is_not_about_the_dataset_is_refused(scans_bundle: Bundle) -> None:
    # A log of a carried block that the rule does not choose (another dataset's registration).
    bundle = scans_bundle
    chosen = {f.block for f in bundle.facts}
    block = next(b for b in bundle.blocks if b.number not in chosen and decode_receipt(b.receipts[0]).logs)

    def change(document: dict[str, Any]) -> None:
        fake = dict(document["facts"][0], block=block.number, tx=0, log=0)
        document["facts"].append(fake)

    refused(tampered(bundle, change), "no fact about the dataset")


def test_an_altered_terms_opening_is_refused(scans_bundle: Bundle) -> None:
    def price(document: dict[str, Any]) -> None:
        document["openings"][0]["terms"]["price"] = "1"

    refused(tampered(scans_bundle, price), "terms opening 0", "field terms", "give commitment")

    def salt(document: dict[str, Any]) -> None:
        document["openings"][0]["salt"] = "0x" + "00" * 32

    refused(tampered(scans_bundle, salt), "terms opening 0", "field terms")


def test_an_opening_of_a_commitment_no_fact_holds_is_refused(scans_bundle: Bundle, story: Story) -> None:
    from client.terms import Opening, Terms

    stranger = Opening(Terms.receipt(size=1, price=2), bytes(32))

    def change(document: dict[str, Any]) -> None:
        document["openings"].append({"commitment": "0x" + stranger.commitment.hex(), **stranger.to_dict()})

    refused(tampered(scans_bundle, change), "terms opening 4", "field commitment", "no commitment of a fact")


def test_a_range_that_starts_after_the_registration_is_refused(scans_bundle: Bundle) -> None:
    registered = scans_bundle.facts[fact_number(scans_bundle, "DatasetRegistered")].block
    skip = registered + 1 - scans_bundle.first_block

    def change(document: dict[str, Any]) -> None:
        document["firstBlock"] = registered + 1
        document["headers"] = document["headers"][skip:]
        document["blocks"] = [b for b in document["blocks"] if b["number"] > registered]
        document["facts"] = [f for f in document["facts"] if f["block"] > registered]

    refused(tampered(scans_bundle, change), "firstBlock")


def test_an_unknown_field_is_named(scans_bundle: Bundle) -> None:
    def change(document: dict[str, Any]) -> None:
        document["facts"][2]["note"] = "trust me"

    refused(tampered(scans_bundle, change), "fact 2", "field note", "not a field")


def test_a_flipped_byte_anywhere_is_refused(scans_bundle: Bundle, story: Story) -> None:
    """Every byte counts, the last header's too: there, the node (as `--online` asks it) has another hash."""
    data = scans_bundle.to_bytes()
    w3 = story.w3

    def node_says(bundle: Bundle, head: Header, facts: object) -> str:
        if bytes(w3.eth.get_block(head.number)["hash"]) != head.hash:
            raise BundleError(f"header of block {head.number}", "(hash)", "is not the node's")
        return "node"

    rng = random.Random(15)
    positions = sorted(rng.sample(range(len(data)), 40)) + [0, len(data) - 1]
    for position in positions:
        flipped = bytearray(data)
        flipped[position] ^= 0x01
        with pytest.raises((BundleError, MalformedFileError)) as info:
            verify_bytes(bytes(flipped), authenticate=node_says)
        if isinstance(info.value, BundleError):
            assert info.value.part and info.value.field, (position, str(info.value))
        else:
            assert "byte" in str(info.value) or "format" in str(info.value), (position, str(info.value))


def test_upper_case_hex_is_not_the_same_bundle(scans_bundle: Bundle) -> None:
    def change(document: dict[str, Any]) -> None:
        document["dataset"] = document["dataset"].upper().replace("0X", "0x")

    refused(tampered(scans_bundle, change), "field dataset", "lower-case")


def test_json_that_is_not_a_bundle_is_malformed() -> None:
    with pytest.raises(MalformedFileError, match="not JSON"):
        load(b"{")
    with pytest.raises(MalformedFileError, match="not an audit bundle"):
        load(b'{"format": "something else"}')
