"""DisputeCourt contract and client.disputes: disputes over rights, prior-anchor proofs and
arbiters' rulings — on anvil."""

from __future__ import annotations

import string
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from web3 import Web3

from client.anchors import Anchors
from client.chain.artifacts import load_artifact
from client.chain.enums import Action, DisputeStatus, Right
from client.chain.messages import TEMPLATES
from client.disputes import DisputeInfo
from client.errors import ProofError
from client.proofs import ProofFile
from tests.conftest import expect_revert, increase_time, new_account
from tests.contracts.factories import (
    DISPUTE_PERIOD,
    EVIDENCE,
    CourtScene,
    h,
    hx,
    id_bytes,
    key,
    make_scene,
    names,
    seat_arbiters,
)


@pytest.fixture(scope="module")
def scene(w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> CourtScene:
    # Once per module; the per-test snapshot restores it (see test_data_registry).
    return seat_arbiters(CourtScene(**vars(make_scene(w3, tmp_path_factory.mktemp("deployments"))), arbiters=[]))


@pytest.fixture
def c(scene: CourtScene, w3: Web3) -> Iterator[CourtScene]:
    """The module's scene as it was before any test ran (arbiters a test appoints are undone
    with the chain snapshot, so they leave the list too)."""
    founding = list(scene.arbiters[:2])
    yield scene
    scene.arbiters[:] = founding


# ----- the whole story -----


def test_upheld_with_prior_anchor_proof(c: CourtScene) -> None:
    root = h("gearbox drawings")
    proof = c.anchor(c.beta, root)
    increase_time(c.registry.w3, 60)
    registered_at = c.block_time(c.register(c.alpha, root))
    assert proof.anchored_at < registered_at

    dispute_id, opened = c.disputes.open(key(c.beta), root, Right.OPERATION, EVIDENCE)
    assert dispute_id == 1
    assert names(opened) == ["DisputeOpened", "RightFrozen"]
    assert opened.event("DisputeOpened").args == {
        "disputeId": 1,
        "root": hx(root),
        "right": Right.OPERATION,
        "claimant": 2,
        "respondent": 1,
        "evidenceHash": hx(EVIDENCE),
    }
    expires_at = c.block_time(opened) + DISPUTE_PERIOD
    assert opened.event("RightFrozen").args == {
        "root": hx(root),
        "right": Right.OPERATION,
        "disputeId": 1,
        "until": expires_at,
    }
    assert c.dispute(1) == {
        "root": root,
        "right": Right.OPERATION,
        "status": DisputeStatus.OPEN,
        "claimant": 2,
        "respondent": 1,
        "openedAt": c.block_time(opened),
        "priorAnchoredAt": 0,
        "upholdVotes": 0,
        "dismissVotes": 0,
        "expiresAt": expires_at,
        "priorAnchorBlock": 0,
    }
    assert (c.court_read("openDisputeOf", root, int(Right.OPERATION)), c.court_read("disputeCount")) == (1, 1)
    assert c.frozen(root, Right.OPERATION) and not c.frozen(root, Right.HOLDING)

    proved = c.disputes.prove(key(c.beta), 1, proof)
    assert names(proved) == ["PriorAnchoringProven"]
    assert proved.event("PriorAnchoringProven").args == {
        "disputeId": 1,
        "anchorRoot": proof.root,
        "anchoredAt": proof.anchored_at,
    }
    assert c.dispute(1)["priorAnchoredAt"] == proof.anchored_at
    assert c.dispute(1)["priorAnchorBlock"] == proof.block_number

    first = c.disputes.vote(c.arbiters[0], 1, True)
    assert names(first) == ["VoteCast"]
    assert first.event("VoteCast").args == {
        "disputeId": 1,
        "arbiter": c.arbiters[0].address,
        "uphold": True,
        "upholdVotes": 1,
        "dismissVotes": 0,
    }
    assert c.dispute(1)["status"] == DisputeStatus.OPEN and c.frozen(root, Right.OPERATION)
    assert c.disputes.has_voted(1, c.arbiters[0].address) and not c.disputes.has_voted(1, c.arbiters[1].address)

    second = c.disputes.vote(c.arbiters[1], 1, True)
    assert names(second) == ["VoteCast", "DisputeUpheld", "RightAwarded", "RightUnfrozen"]
    assert second.event("VoteCast").args == {
        "disputeId": 1,
        "arbiter": c.arbiters[1].address,
        "uphold": True,
        "upholdVotes": 2,
        "dismissVotes": 0,
    }
    assert second.event("DisputeUpheld").args == {
        "disputeId": 1,
        "root": hx(root),
        "right": Right.OPERATION,
        "from": 1,
        "to": 2,
    }
    assert second.event("RightAwarded").args == {
        "root": hx(root),
        "right": Right.OPERATION,
        "from": 1,
        "to": 2,
        "disputeId": 1,
    }
    assert second.event("RightUnfrozen").args == {"root": hx(root), "right": Right.OPERATION, "disputeId": 1}
    assert c.holders(root) == {Right.HOLDING: 1, Right.PROCESSING: 1, Right.OPERATION: 2}
    assert c.dispute(1)["status"] == DisputeStatus.UPHELD
    assert (c.dispute(1)["upholdVotes"], c.dispute(1)["dismissVotes"]) == (2, 0)
    assert c.court_read("openDisputeOf", root, int(Right.OPERATION)) == 0
    assert not c.frozen(root, Right.OPERATION)
    # The right moves on from its new holder, and the old holder can no longer offer it.
    expect_revert(
        lambda: c.write(key(c.alpha), "offerRight", root, int(Right.OPERATION), id_bytes(c.gamma)),
        "DataRegistryNotRightHolder",
        root=hx(root),
        right=Right.OPERATION,
        orgNo=1,
        holder=2,
    )
    c.write(key(c.beta), "offerRight", root, int(Right.OPERATION), id_bytes(c.gamma))
    c.write(key(c.gamma), "acceptRight", root, int(Right.OPERATION))
    assert c.holders(root)[Right.OPERATION] == 3


def test_dismissed(c: CourtScene) -> None:
    root = h("furnace telemetry")
    c.register(c.alpha, root)
    dispute_id, _ = c.disputes.open(key(c.beta), root, Right.HOLDING, EVIDENCE)
    first = c.disputes.vote(c.arbiters[0], dispute_id, False)
    assert first.event("VoteCast").args == {
        "disputeId": 1,
        "arbiter": c.arbiters[0].address,
        "uphold": False,
        "upholdVotes": 0,
        "dismissVotes": 1,
    }
    second = c.disputes.vote(c.arbiters[1], dispute_id, False)
    assert names(second) == ["VoteCast", "DisputeDismissed", "RightUnfrozen"]
    assert second.event("DisputeDismissed").args == {
        "disputeId": 1,
        "root": hx(root),
        "right": Right.HOLDING,
        "claimant": 2,
        "holder": 1,
    }
    assert c.dispute(1)["status"] == DisputeStatus.DISMISSED
    assert c.holders(root) == {r: 1 for r in Right}
    assert not c.frozen(root, Right.HOLDING)
    assert c.court_read("openDisputeOf", root, int(Right.HOLDING)) == 0
    # The holder moves the right again, and a closed dispute does not bar a new one.
    c.write(key(c.alpha), "offerRight", root, int(Right.HOLDING), id_bytes(c.gamma))
    again, _ = c.disputes.open(key(c.beta), root, Right.HOLDING, h("new evidence"))
    assert again == 2 and c.dispute(2)["status"] == DisputeStatus.OPEN


def test_split_vote_waits_for_another_arbiter(c: CourtScene) -> None:
    root = h("split")
    c.register(c.alpha, root)
    c.disputes.open(key(c.beta), root, Right.PROCESSING, EVIDENCE)
    c.disputes.vote(c.arbiters[0], 1, True)
    split = c.disputes.vote(c.arbiters[1], 1, False)
    assert names(split) == ["VoteCast"]
    assert c.dispute(1)["status"] == DisputeStatus.OPEN and c.frozen(root, Right.PROCESSING)
    deciding = c.disputes.vote(c.appoint_arbiter(), 1, True)
    assert names(deciding) == ["VoteCast", "DisputeUpheld", "RightAwarded", "RightUnfrozen"]
    assert c.holders(root)[Right.PROCESSING] == 2


def test_threshold_is_read_at_vote_time(c: CourtScene) -> None:
    """Two upholds under a threshold of three; governance lowers it to two; the next vote, even
    a dismissal, decides the dispute for the side that reached it."""
    c.appoint_arbiter()
    c.set_threshold(3)
    root = h("threshold lowered")
    c.register(c.alpha, root)
    c.disputes.open(key(c.beta), root, Right.OPERATION, EVIDENCE)
    c.disputes.vote(c.arbiters[0], 1, True)
    assert names(c.disputes.vote(c.arbiters[1], 1, True)) == ["VoteCast"]
    c.set_threshold(2)
    deciding = c.disputes.vote(c.arbiters[2], 1, False)
    assert names(deciding) == ["VoteCast", "DisputeUpheld", "RightAwarded", "RightUnfrozen"]
    assert deciding.event("VoteCast").args["dismissVotes"] == 1
    assert c.holders(root)[Right.OPERATION] == 2


@pytest.mark.parametrize("uphold", [True, False])
def test_when_both_sides_reach_a_lowered_threshold_the_deciding_vote_wins(c: CourtScene, uphold: bool) -> None:
    c.appoint_arbiter()
    c.set_threshold(3)
    root = h("both sides")
    c.register(c.alpha, root)
    c.disputes.open(key(c.beta), root, Right.OPERATION, EVIDENCE)
    c.disputes.vote(c.arbiters[0], 1, True)
    c.disputes.vote(c.arbiters[1], 1, False)
    c.set_threshold(1)
    deciding = c.disputes.vote(c.arbiters[2], 1, uphold)
    assert names(deciding)[1] == ("DisputeUpheld" if uphold else "DisputeDismissed")
    assert c.dispute(1)["status"] == (DisputeStatus.UPHELD if uphold else DisputeStatus.DISMISSED)
    assert c.holders(root)[Right.OPERATION] == (2 if uphold else 1)


# ----- votes -----


@pytest.fixture
def opened(c: CourtScene) -> bytes:
    """Dispute 1: beta disputes alpha's operation right on a dataset alpha registered."""
    root = h("disputed")
    c.register(c.alpha, root)
    c.disputes.open(key(c.beta), root, Right.OPERATION, EVIDENCE)
    return root


def test_vote_by_a_non_arbiter_is_refused(c: CourtScene, opened: bytes) -> None:
    for account in (new_account(), c.governor, key(c.alpha), c.beta.admin):
        expect_revert(lambda a=account: c.disputes.vote(a, 1, True), "DisputeCourtNotArbiter", account=account.address)
    # A removed arbiter too (the threshold of two needs a third arbiter to remove one).
    extra = c.appoint_arbiter()
    assert c.consortium.propose(c.governor, Action.REMOVE_ARBITER, extra.address).executed
    expect_revert(lambda: c.disputes.vote(extra, 1, True), "DisputeCourtNotArbiter", account=extra.address)
    assert c.dispute(1)["upholdVotes"] == 0


def test_double_vote_is_refused(c: CourtScene, opened: bytes) -> None:
    arbiter = c.arbiters[0]
    c.disputes.vote(arbiter, 1, True)
    for uphold in (True, False):
        expect_revert(
            lambda u=uphold: c.disputes.vote(arbiter, 1, u),
            "DisputeCourtAlreadyVoted",
            disputeId=1,
            arbiter=arbiter.address,
        )
    assert (c.dispute(1)["upholdVotes"], c.dispute(1)["dismissVotes"]) == (1, 0)


def test_vote_on_a_closed_dispute_is_refused(c: CourtScene, opened: bytes) -> None:
    c.disputes.vote(c.arbiters[0], 1, False)
    c.disputes.vote(c.arbiters[1], 1, False)
    late = c.appoint_arbiter()
    for arbiter in (late, c.arbiters[0]):
        expect_revert(
            lambda a=arbiter: c.disputes.vote(a, 1, True),
            "DisputeCourtDisputeNotOpen",
            disputeId=1,
            status=DisputeStatus.DISMISSED,
        )


@pytest.mark.parametrize("dispute_id", [0, 2, 2**256 - 1])
def test_unknown_dispute(c: CourtScene, opened: bytes, dispute_id: int) -> None:
    expect_revert(
        lambda: c.disputes.vote(c.arbiters[0], dispute_id, True), "DisputeCourtUnknownDispute", disputeId=dispute_id
    )
    expect_revert(lambda: c.court_read("dispute", dispute_id), "DisputeCourtUnknownDispute", disputeId=dispute_id)
    expect_revert(
        lambda: c.court(key(c.beta), "proveAnchor", dispute_id, h("anchor"), 0, []),
        "DisputeCourtUnknownDispute",
        disputeId=dispute_id,
    )
    assert c.court_read("hasVoted", dispute_id, c.arbiters[0].address) is False


# ----- the disputed right is frozen -----


def test_right_is_frozen_while_the_dispute_is_open(c: CourtScene) -> None:
    root = h("frozen")
    c.register(c.alpha, root)
    c.write(key(c.alpha), "offerRight", root, int(Right.OPERATION), id_bytes(c.gamma))  # before the dispute
    _, opened = c.disputes.open(key(c.beta), root, Right.OPERATION, EVIDENCE)
    until = c.block_time(opened) + DISPUTE_PERIOD
    expect_revert(
        lambda: c.write(key(c.alpha), "offerRight", root, int(Right.OPERATION), id_bytes(c.beta)),
        "DataRegistryRightFrozen",
        root=hx(root),
        right=Right.OPERATION,
        frozenUntil=until,
    )
    expect_revert(
        lambda: c.write(key(c.gamma), "acceptRight", root, int(Right.OPERATION)),
        "DataRegistryRightFrozen",
        root=hx(root),
        right=Right.OPERATION,
        frozenUntil=until,
    )
    # The dataset's other rights still move.
    c.write(key(c.alpha), "offerRight", root, int(Right.HOLDING), id_bytes(c.gamma))
    c.write(key(c.gamma), "acceptRight", root, int(Right.HOLDING))
    assert c.holders(root) == {Right.HOLDING: 3, Right.PROCESSING: 1, Right.OPERATION: 1}
    # Dismissed: the offer made before the dispute can be accepted again.
    c.disputes.vote(c.arbiters[0], 1, False)
    c.disputes.vote(c.arbiters[1], 1, False)
    c.write(key(c.gamma), "acceptRight", root, int(Right.OPERATION))
    assert c.holders(root)[Right.OPERATION] == 3


def test_upheld_dispute_clears_an_offer_made_before_it(c: CourtScene) -> None:
    root = h("offer cleared")
    c.register(c.alpha, root)
    c.write(key(c.alpha), "offerRight", root, int(Right.OPERATION), id_bytes(c.gamma))
    c.disputes.open(key(c.beta), root, Right.OPERATION, EVIDENCE)
    c.disputes.vote(c.arbiters[0], 1, True)
    c.disputes.vote(c.arbiters[1], 1, True)
    assert c.read("offerOf", root, int(Right.OPERATION)) == 0
    expect_revert(
        lambda: c.write(key(c.gamma), "acceptRight", root, int(Right.OPERATION)),
        "DataRegistryNoOffer",
        root=hx(root),
        right=Right.OPERATION,
    )


# ----- proving prior anchoring -----


def test_anchor_of_another_org_is_refused(c: CourtScene) -> None:
    """Only the claimant's own anchor of a root is looked up: gamma's anchor proves nothing for beta."""
    root = h("gamma's anchor")
    gammas = c.anchor(c.gamma, root)
    increase_time(c.registry.w3, 60)
    c.register(c.alpha, root)
    c.disputes.open(key(c.beta), root, Right.OPERATION, EVIDENCE)
    expect_revert(
        lambda: c.disputes.prove(key(c.beta), 1, gammas),
        "AnchorRegistryUnknownAnchor",
        root=gammas.root,
        orgNo=2,
    )
    assert c.dispute(1)["priorAnchoredAt"] == 0


def test_anchor_after_the_registration_is_refused(c: CourtScene) -> None:
    root = h("anchored too late")
    registered = c.register(c.alpha, root).block_number
    increase_time(c.registry.w3, 60)
    late = c.anchor(c.beta, root)
    c.disputes.open(key(c.beta), root, Right.OPERATION, EVIDENCE)
    expect_revert(
        lambda: c.disputes.prove(key(c.beta), 1, late),
        "DisputeCourtAnchorNotBeforeRegistration",
        disputeId=1,
        anchorBlock=late.block_number,
        registrationBlock=registered,
    )


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda p: replace(p, path=["0x" + "00" * 32, *p.path[1:]]), id="path element replaced"),
        pytest.param(lambda p: replace(p, path=p.path[::-1]), id="path reversed"),
        pytest.param(lambda p: replace(p, leaf_index=2), id="wrong index"),
    ],
)
def test_tampered_proof_is_refused_by_the_anchor_registry(
    c: CourtScene, spoil: Callable[[ProofFile], ProofFile]
) -> None:
    root = h("tampered")
    proof, dispute_id = c.prior_claim(root)
    bad = spoil(proof)
    expect_revert(
        lambda: c.disputes.prove(key(c.beta), dispute_id, bad),
        "AnchorRegistryInvalidProof",
        root=proof.root,
        leaf=hx(root),
        leafIndex=bad.leaf_index,
    )


def test_proof_of_another_leaf_is_refused(c: CourtScene) -> None:
    root = h("another leaf")
    _, dispute_id = c.prior_claim(root)
    batch = Anchors(c.registry).anchor(key(c.beta), [h("unrelated 1"), h("unrelated 2")])
    # The client checks the leaf before sending anything…
    with pytest.raises(ProofError) as refused:
        c.disputes.prove(key(c.beta), dispute_id, batch.proofs[0])
    assert batch.proofs[0].leaf in str(refused.value) and hx(root) in str(refused.value)
    # …and the contract proves the dispute's own root, whatever leaf the proof was made for.
    expect_revert(
        lambda: c.court(
            key(c.beta), "proveAnchor", dispute_id, batch.root, 0, [bytes.fromhex(p[2:]) for p in batch.proofs[0].path]
        ),
        "AnchorRegistryInvalidProof",
        root=hx(batch.root),
        leaf=hx(root),
        leafIndex=0,
    )
    assert c.dispute(dispute_id)["priorAnchoredAt"] == 0


def test_proof_for_another_chain_is_refused_by_the_client(c: CourtScene) -> None:
    proof, dispute_id = c.prior_claim(h("other chain"))
    with pytest.raises(ProofError, match="chain 1"):
        c.disputes.prove(key(c.beta), dispute_id, replace(proof, chain_id=1))


def test_only_the_claimant_proves(c: CourtScene) -> None:
    proof, dispute_id = c.prior_claim(h("only the claimant"))
    for org, no in ((c.alpha, 1), (c.gamma, 3)):
        expect_revert(
            lambda o=org: c.disputes.prove(key(o), dispute_id, proof),
            "DisputeCourtNotClaimant",
            disputeId=dispute_id,
            orgNo=no,
            claimant=2,
        )
    c.disputes.prove(c.beta.admin, dispute_id, proof)  # any key of the claimant


def test_proof_on_a_closed_dispute_is_refused(c: CourtScene) -> None:
    proof, dispute_id = c.prior_claim(h("closed"))
    c.disputes.vote(c.arbiters[0], dispute_id, False)
    c.disputes.vote(c.arbiters[1], dispute_id, False)
    expect_revert(
        lambda: c.disputes.prove(key(c.beta), dispute_id, proof),
        "DisputeCourtDisputeNotOpen",
        disputeId=dispute_id,
        status=DisputeStatus.DISMISSED,
    )


def test_a_second_proof_must_be_earlier(c: CourtScene) -> None:
    root = h("proved twice")
    earlier = c.anchor(c.beta, root)
    increase_time(c.registry.w3, 60)
    later = Anchors(c.registry).anchor(key(c.beta), [root]).proofs[0]
    increase_time(c.registry.w3, 60)
    c.register(c.alpha, root)
    c.disputes.open(key(c.beta), root, Right.OPERATION, EVIDENCE)
    c.disputes.prove(key(c.beta), 1, later)
    improved = c.disputes.prove(key(c.beta), 1, earlier)
    assert improved.event("PriorAnchoringProven").args == {
        "disputeId": 1,
        "anchorRoot": earlier.root,
        "anchoredAt": earlier.anchored_at,
    }
    assert c.dispute(1)["priorAnchoredAt"] == earlier.anchored_at
    for proof in (later, earlier):
        expect_revert(
            lambda p=proof: c.disputes.prove(key(c.beta), 1, p),
            "DisputeCourtAnchorNotEarlier",
            disputeId=1,
            anchorBlock=proof.block_number,
            priorAnchorBlock=earlier.block_number,
        )


# ----- opening -----


def test_holder_cannot_dispute_its_own_right(c: CourtScene) -> None:
    root = h("own right")
    c.register(c.alpha, root)
    expect_revert(
        lambda: c.disputes.open(key(c.alpha), root, Right.HOLDING, EVIDENCE),
        "DisputeCourtAlreadyHolder",
        root=hx(root),
        right=Right.HOLDING,
        orgNo=1,
    )
    # Holding is per right: beta, once it holds processing, disputes holding but not processing.
    c.write(key(c.alpha), "offerRight", root, int(Right.PROCESSING), id_bytes(c.beta))
    c.write(key(c.beta), "acceptRight", root, int(Right.PROCESSING))
    expect_revert(
        lambda: c.disputes.open(key(c.beta), root, Right.PROCESSING, EVIDENCE),
        "DisputeCourtAlreadyHolder",
        root=hx(root),
        right=Right.PROCESSING,
        orgNo=2,
    )
    assert c.disputes.open(key(c.beta), root, Right.HOLDING, EVIDENCE)[0] == 1


def test_one_open_dispute_per_right(c: CourtScene, opened: bytes) -> None:
    for org in (c.beta, c.gamma):
        expect_revert(
            lambda o=org: c.disputes.open(key(o), opened, Right.OPERATION, h("more evidence")),
            "DisputeCourtAlreadyDisputed",
            root=hx(opened),
            right=Right.OPERATION,
            disputeId=1,
        )
    # Other rights of the same dataset, and the same right of another dataset, are separate.
    assert c.disputes.open(key(c.gamma), opened, Right.HOLDING, EVIDENCE)[0] == 2
    other = h("another dataset")
    c.register(c.alpha, other)
    assert c.disputes.open(key(c.gamma), other, Right.OPERATION, EVIDENCE)[0] == 3
    assert c.court_read("disputeCount") == 3
    assert [c.court_read("openDisputeOf", opened, int(r)) for r in Right] == [2, 0, 1]


def test_dispute_on_an_unknown_dataset_is_refused(c: CourtScene) -> None:
    missing = h("never registered")
    expect_revert(
        lambda: c.disputes.open(key(c.beta), missing, Right.HOLDING, EVIDENCE),
        "DataRegistryUnknownDataset",
        root=hx(missing),
    )
    assert c.court_read("disputeCount") == 0


# ----- what an arbiter sees (client) -----


def test_show(c: CourtScene) -> None:
    root = h("shown")
    proof, dispute_id = c.prior_claim(root)
    c.disputes.prove(key(c.beta), dispute_id, proof)
    c.disputes.vote(c.arbiters[0], dispute_id, False)
    info = c.disputes.show(dispute_id)
    record = c.dispute(dispute_id)
    assert info == DisputeInfo(
        dispute_id=1,
        root=hx(root),
        right=Right.OPERATION,
        status=DisputeStatus.OPEN,
        claimant=c.registry.org_ref(2),
        respondent=c.registry.org_ref(1),
        holder=c.registry.org_ref(1),
        opened_at=record["openedAt"],
        expires_at=record["openedAt"] + DISPUTE_PERIOD,
        registered_at=c.dataset(root)["registeredAt"],
        evidence_hash=hx(EVIDENCE),
        prior_anchored_at=proof.anchored_at,
        prior_anchor_root=proof.root,
        uphold_votes=0,
        dismiss_votes=1,
        threshold=2,
        transaction=info.transaction,
    )
    assert isinstance(info.status, DisputeStatus)
    assert (str(info.claimant), str(info.respondent)) == ("BETA (member 2)", "ALPHA (member 1)")
    receipt = c.registry.w3.eth.get_transaction_receipt(info.transaction)  # type: ignore[arg-type]
    assert receipt["logs"][0]["address"] == c.registry.contract("DisputeCourt").address
    expect_revert(lambda: c.disputes.show(7), "DisputeCourtUnknownDispute", disputeId=7)


def test_show_without_proof(c: CourtScene, opened: bytes) -> None:
    info = c.disputes.show(1)
    assert (info.prior_anchored_at, info.prior_anchor_root, info.status) == (None, None, DisputeStatus.OPEN)
    assert c.disputes.count() == 1


def test_status_enum_mirrors_the_contract() -> None:
    abi = load_artifact("DisputeCourt").abi
    dispute = next(i for i in abi if i["type"] == "function" and i["name"] == "dispute")
    status = next(c for c in dispute["outputs"][0]["components"] if c["name"] == "status")
    assert status["internalType"] == "enum IDisputeCourt.DisputeStatus"
    assert [m.name for m in DisputeStatus] == ["NONE", "OPEN", "UPHELD", "DISMISSED", "LAPSED", "VOIDED"]


def test_every_court_error_has_a_message() -> None:
    abi = load_artifact("DisputeCourt").abi
    errors = {i["name"]: {x["name"] for x in i["inputs"]} for i in abi if i["type"] == "error"}
    own = {name: fields for name, fields in errors.items() if name.startswith("DisputeCourt")}
    assert len(own) == 15
    for name, fields in own.items():
        used = {f for _, f, _, _ in string.Formatter().parse(TEMPLATES[name]) if f}
        assert used == fields, name


# ----- the court hooks of the DataRegistry -----


@pytest.mark.parametrize(
    ("function", "args"),
    [
        ("freezeRight", (int(Right.HOLDING), 1, 2**40)),
        ("unfreezeRight", (int(Right.HOLDING), 1)),
        ("awardRight", (int(Right.HOLDING), 2, 1)),
    ],
)
def test_court_hooks_answer_only_the_court(c: CourtScene, function: str, args: tuple[Any, ...]) -> None:
    root = h("hooked")
    c.register(c.alpha, root)
    for caller in (key(c.alpha), c.alpha.admin, c.governor, c.arbiters[0], new_account()):
        expect_revert(
            lambda a=caller: c.write(a, function, root, *args), "DataRegistryNotCourt", account=caller.address
        )
    assert c.holders(root)[Right.HOLDING] == 1 and not c.frozen(root, Right.HOLDING)


def test_court_is_bound_once(c: CourtScene) -> None:
    court = c.registry.contract("DisputeCourt").address
    assert c.read("court") == court
    assert c.court_read("dataRegistry") == c.registry.contract("DataRegistry").address
    assert c.court_read("anchorRegistry") == c.registry.contract("AnchorRegistry").address
    impostor = c.registry.contract("AnchorRegistry").address  # any contract
    # The deployer (the first governor here) bound the court at deployment.
    expect_revert(lambda: c.write(c.governor, "bindCourt", impostor), "DataRegistryCourtAlreadyBound", court=court)
    expect_revert(
        lambda: c.write(c.alpha.admin, "bindCourt", impostor), "DataRegistryNotDeployer", account=c.alpha.admin.address
    )
    assert c.read("court") == court


def test_void_disputes_answers_only_the_data_registry(c: CourtScene) -> None:
    root = h("void me")
    c.register(c.alpha, root)
    c.disputes.open(key(c.beta), root, Right.HOLDING, EVIDENCE)
    for caller in (key(c.alpha), c.governor, c.arbiters[0], new_account()):
        expect_revert(
            lambda a=caller: c.court(a, "voidDisputes", root), "DisputeCourtNotDataRegistry", account=caller.address
        )
    assert c.dispute(1)["status"] == DisputeStatus.OPEN and c.frozen(root, Right.HOLDING)
