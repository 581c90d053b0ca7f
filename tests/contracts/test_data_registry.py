"""DataRegistry contract: registration, lineage, batches, commit and reveal, rights — on anvil."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from eth_utils import keccak
from web3 import Web3

from client.chain.abi import decode_error
from client.chain.enums import Action, Grade, MemberStatus, Right
from client.errors import ContractRevertError
from tests.conftest import chain_time, expect_revert, increase_time
from tests.contracts.factories import (
    META,
    SALT,
    Scene,
    commitment,
    h,
    hx,
    id_bytes,
    item,
    key,
    make_scene,
    request,
)

MAX_BATCH = 500
MAX_PARENTS = 32
COMMITMENT_TTL = 24 * 3600


@pytest.fixture(scope="module")
def scene(w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> Scene:
    # Built once per module: having the wider scope it is set up before the per-test snapshot,
    # which then hands every test this same fresh state (a scene per test would cost ~10 txs).
    return make_scene(w3, tmp_path_factory.mktemp("deployments"))


@pytest.fixture
def s(scene: Scene, w3: Web3) -> Scene:
    """The module's scene, as it was before any test ran."""
    return scene


# ----- register -----


def test_register(s: Scene) -> None:
    root = h("sensor logs 2024")
    tx = s.register(s.alpha, root, grade=Grade.IMPORTANT, uri="ipfs://bafy-metadata")
    at = s.block_time(tx)
    assert [e.name for e in tx.events] == ["DatasetRegistered", "MetadataPublished"]
    assert tx.event("DatasetRegistered").args == {
        "root": hx(root),
        "registrant": 1,
        "grade": Grade.IMPORTANT,
        "metadataHash": hx(META),
        "registeredAt": at,
        "parents": [],
    }
    assert tx.event("MetadataPublished").args == {"root": hx(root), "metadataURI": "ipfs://bafy-metadata"}
    assert s.dataset(root) == {
        "registrant": 1,
        "holding": 1,
        "processing": 1,
        "operation": 1,
        "registeredAt": at,
        "grade": Grade.IMPORTANT,
        "priority": tx.block_number << 16,  # the block's first registration
        "disputed": 0,
    }
    assert s.read("isRegistered", root) is True
    assert s.holders(root) == {Right.HOLDING: 1, Right.PROCESSING: 1, Right.OPERATION: 1}
    assert all(s.read("offerOf", root, int(right)) == 0 for right in Right)


def test_registrant_is_the_callers_member_number(s: Scene) -> None:
    s.register(s.alpha, h("first"))
    tx = s.register(s.gamma, h("third"), grade=Grade.CORE)
    assert tx.event("DatasetRegistered").args["registrant"] == 3
    assert s.dataset(h("third"))["registrant"] == 3
    assert s.dataset(h("third"))["grade"] == Grade.CORE
    # The admin key acts for its organisation too.
    s.write(s.beta.admin, "register", request(h("second")))
    assert s.dataset(h("second"))["registrant"] == 2


def test_register_without_uri_publishes_no_metadata(s: Scene) -> None:
    tx = s.register(s.alpha, h("quiet"))
    assert [e.name for e in tx.events] == ["DatasetRegistered"]


@pytest.mark.parametrize("who", ["alpha", "beta"])
def test_duplicate_root_is_refused(s: Scene, who: str) -> None:
    root = h("contested")
    at = s.block_time(s.register(s.alpha, root))
    expect_revert(
        lambda: s.register(getattr(s, who), root, grade=Grade.CORE),
        "DataRegistryAlreadyRegistered",
        root=hx(root),
        registrant=1,
        registeredAt=at,
    )
    assert s.dataset(root)["registrant"] == 1


def test_zero_root_is_refused(s: Scene) -> None:
    expect_revert(lambda: s.register(s.alpha, bytes(32)), "DataRegistryInvalidRoot", root=hx(bytes(32)))
    assert s.read("isRegistered", bytes(32)) is False


def test_unknown_dataset_views(s: Scene) -> None:
    missing = h("never registered")
    assert s.read("isRegistered", missing) is False
    expect_revert(lambda: s.read("dataset", missing), "DataRegistryUnknownDataset", root=hx(missing))
    expect_revert(
        lambda: s.read("holderOf", missing, int(Right.HOLDING)), "DataRegistryUnknownDataset", root=hx(missing)
    )
    assert s.read("offerOf", missing, int(Right.HOLDING)) == 0


# ----- lineage -----


def test_parents_appear_in_the_event(s: Scene) -> None:
    raw, cleaned = h("raw"), h("cleaned")
    s.register(s.alpha, raw)
    s.register(s.beta, cleaned, parents=(raw,))
    child = h("joined")
    tx = s.register(s.gamma, child, parents=(raw, cleaned))
    assert tx.event("DatasetRegistered").args["parents"] == [hx(raw), hx(cleaned)]


def test_unknown_parent_is_refused(s: Scene) -> None:
    known, missing, child = h("known"), h("missing"), h("child")
    s.register(s.alpha, known)
    expect_revert(
        lambda: s.register(s.alpha, child, parents=(known, missing)),
        "DataRegistryUnknownParent",
        root=hx(child),
        parent=hx(missing),
    )
    assert s.read("isRegistered", child) is False


def test_dataset_cannot_name_itself_as_parent(s: Scene) -> None:
    root = h("ouroboros")
    expect_revert(
        lambda: s.register(s.alpha, root, parents=(root,)), "DataRegistryUnknownParent", root=hx(root), parent=hx(root)
    )


def test_parent_limit(s: Scene) -> None:
    parents = tuple(h(f"parent {i}") for i in range(MAX_PARENTS + 1))
    s.write(key(s.alpha), "registerBatch", [item(p) for p in parents], "")
    many = h("many parents")
    expect_revert(
        lambda: s.register(s.alpha, many, parents=parents),
        "DataRegistryTooManyParents",
        root=hx(many),
        count=MAX_PARENTS + 1,
        maxParents=MAX_PARENTS,
    )
    tx = s.register(s.alpha, many, parents=parents[:MAX_PARENTS])
    assert len(tx.event("DatasetRegistered").args["parents"]) == MAX_PARENTS


# ----- registerBatch -----


def test_register_batch(s: Scene) -> None:
    roots = [h(f"bulk {i}") for i in range(10)]
    grades = [Grade(i % 3) for i in range(10)]
    items = [item(r, grade=g, meta=h(f"meta {i}")) for i, (r, g) in enumerate(zip(roots, grades, strict=True))]
    tx = s.write(key(s.beta), "registerBatch", items, "ipfs://bafy-manifest")
    at = s.block_time(tx)
    assert [e.name for e in tx.events] == ["DatasetRegistered"] * 10 + ["BatchRegistered"]
    for i, event in enumerate(tx.events[:10]):
        assert event.args == {
            "root": hx(roots[i]),
            "registrant": 2,
            "grade": grades[i],
            "metadataHash": hx(h(f"meta {i}")),
            "registeredAt": at,
            "parents": [],
        }
        assert s.dataset(roots[i]) == {
            "registrant": 2,
            "holding": 2,
            "processing": 2,
            "operation": 2,
            "registeredAt": at,
            "grade": grades[i],
            "priority": tx.block_number << 16 | i,  # one place in the order per item
            "disputed": 0,
        }
    assert tx.event("BatchRegistered").args == {"registrant": 2, "count": 10, "manifestURI": "ipfs://bafy-manifest"}


@pytest.mark.parametrize("count", [0, MAX_BATCH + 1])
def test_batch_size_limits(s: Scene, count: int) -> None:
    items = [item(h(f"over {i}")) for i in range(count)]
    expect_revert(
        lambda: s.write(key(s.alpha), "registerBatch", items, ""),
        "DataRegistryBatchSize",
        count=count,
        maxBatch=MAX_BATCH,
    )


def test_batch_of_max_size_fits_in_a_block(s: Scene) -> None:
    tx = s.write(key(s.alpha), "registerBatch", [item(h(f"max {i}")) for i in range(MAX_BATCH)], "")
    assert tx.event("BatchRegistered").args["count"] == MAX_BATCH
    assert tx.gas_used < s.registry.w3.eth.get_block("latest")["gasLimit"]


def test_duplicate_inside_a_batch_reverts_the_whole_batch(s: Scene) -> None:
    a, b, c = h("batch a"), h("batch b"), h("batch c")
    items = [item(a), item(b), item(a), item(c)]
    # On the latest block the error's registeredAt is that block's time, known in advance.
    expect_revert(
        lambda: s.call_as(key(s.alpha), "registerBatch", items, ""),
        "DataRegistryAlreadyRegistered",
        root=hx(a),
        registrant=1,
        registeredAt=chain_time(s.registry.w3),
    )
    with pytest.raises(ContractRevertError) as refused:
        s.write(key(s.alpha), "registerBatch", items, "")
    assert refused.value.error_name == "DataRegistryAlreadyRegistered"
    assert (refused.value.values["root"], refused.value.values["registrant"]) == (hx(a), 1)
    assert [s.read("isRegistered", r) for r in (a, b, c)] == [False, False, False]


def test_batch_colliding_with_an_earlier_registration_writes_nothing(s: Scene) -> None:
    taken = h("taken")
    at = s.block_time(s.register(s.gamma, taken))
    fresh = [h("fresh 1"), h("fresh 2")]
    expect_revert(
        lambda: s.write(key(s.alpha), "registerBatch", [item(fresh[0]), item(taken), item(fresh[1])], ""),
        "DataRegistryAlreadyRegistered",
        root=hx(taken),
        registrant=3,
        registeredAt=at,
    )
    assert [s.read("isRegistered", r) for r in fresh] == [False, False]


def test_batch_parents_may_be_earlier_items(s: Scene) -> None:
    parent, child = h("batch parent"), h("batch child")
    expect_revert(
        lambda: s.write(key(s.alpha), "registerBatch", [item(child, parents=(parent,)), item(parent)], ""),
        "DataRegistryUnknownParent",
        root=hx(child),
        parent=hx(parent),
    )
    tx = s.write(key(s.alpha), "registerBatch", [item(parent), item(child, parents=(parent,))], "")
    assert tx.events[1].args["parents"] == [hx(parent)]
    assert s.read("isRegistered", child) is True


# ----- commit and reveal -----


def test_commit_then_reveal(s: Scene) -> None:
    root = h("claimed early")
    c = commitment(root, s.alpha.org_id, SALT)
    committed = s.write(key(s.alpha), "commit", c)
    t0 = s.block_time(committed)
    assert committed.event("RegistrationCommitted").args == {
        "commitment": hx(c),
        "orgNo": 1,
        "expiresAt": t0 + COMMITMENT_TTL,
    }
    priority = committed.block_number << 16
    assert s.commitment_of(c) == {
        "orgNo": 1,
        "committedAt": t0,
        "blockNumber": committed.block_number,
        "priority": priority,
    }
    increase_time(s.registry.w3, 3600)
    revealed = s.write(key(s.alpha), "reveal", request(root, grade=Grade.IMPORTANT, uri="ipfs://late-metadata"), SALT)
    assert s.block_time(revealed) > t0
    assert [e.name for e in revealed.events] == ["DatasetRegistered", "MetadataPublished"]
    assert revealed.event("DatasetRegistered").args == {
        "root": hx(root),
        "registrant": 1,
        "grade": Grade.IMPORTANT,
        "metadataHash": hx(META),
        "registeredAt": t0,
        "parents": [],
    }
    assert s.dataset(root) == {
        "registrant": 1,
        "holding": 1,
        "processing": 1,
        "operation": 1,
        "registeredAt": t0,
        "grade": Grade.IMPORTANT,
        "priority": priority,  # the commitment's place in the order
        "disputed": 0,
    }
    assert s.commitment_of(c) == {"orgNo": 0, "committedAt": 0, "blockNumber": 0, "priority": 0}


def test_reveal_in_the_commits_block_is_refused(s: Scene) -> None:
    """Both transactions mined in one block: the commit lands, the reveal reverts."""
    w3, signer = s.registry.w3, key(s.alpha)
    root = h("same block")
    c = commitment(root, s.alpha.org_id, SALT)
    contract = s.registry.contract("DataRegistry")
    nonce = w3.eth.get_transaction_count(signer.address)
    base: dict[str, Any] = {
        "chainId": w3.eth.chain_id,
        "to": contract.address,
        "gas": 1_000_000,
        "maxFeePerGas": 0,
        "maxPriorityFeePerGas": 0,
    }
    commit_tx = signer.sign_transaction(dict(base, nonce=nonce, data=contract.encode_abi("commit", args=[c])))
    reveal_tx = signer.sign_transaction(
        dict(base, nonce=nonce + 1, data=contract.encode_abi("reveal", args=[request(root), SALT]))
    )
    s.rpc("evm_setAutomine", False)
    try:
        commit_hash = w3.eth.send_raw_transaction(commit_tx.raw_transaction)
        reveal_hash = w3.eth.send_raw_transaction(reveal_tx.raw_transaction)
        s.rpc("evm_mine")
    finally:
        s.rpc("evm_setAutomine", True)
    assert s.rpc("anvil_getAutomine") is True
    committed, revealed = w3.eth.get_transaction_receipt(commit_hash), w3.eth.get_transaction_receipt(reveal_hash)
    assert committed["blockNumber"] == revealed["blockNumber"]
    assert (committed["status"], revealed["status"]) == (1, 0)
    # Why it reverted: the node's trace keeps the revert data.
    trace = s.rpc("debug_traceTransaction", reveal_hash.to_0x_hex(), {"disableStack": True, "disableMemory": True})
    why = decode_error(bytes.fromhex(trace["returnValue"].removeprefix("0x")))
    assert why is not None
    assert (why.name, why.values) == (
        "DataRegistryRevealTooEarly",
        {"commitment": hx(c), "committedBlock": committed["blockNumber"]},
    )
    assert s.read("isRegistered", root) is False
    assert s.commitment_of(c)["orgNo"] == 1
    # One block later the same reveal goes through. (The block is mined first because gas is
    # estimated on the latest block, which for a reveal sent right after the commit's block
    # is still that block: see test_reveal_on_the_commits_block_is_too_early.)
    s.next_block()
    s.write(signer, "reveal", request(root), SALT)
    assert s.read("isRegistered", root) is True


def test_reveal_on_the_commits_block_is_too_early(s: Scene) -> None:
    """The same check seen through eth_call on the commit's (latest) block."""
    root = h("too early")
    c = commitment(root, s.alpha.org_id, SALT)
    committed = s.write(key(s.alpha), "commit", c)
    expect_revert(
        lambda: s.call_as(key(s.alpha), "reveal", request(root), SALT),
        "DataRegistryRevealTooEarly",
        commitment=hx(c),
        committedBlock=committed.block_number,
    )


def test_reveal_until_expiry(s: Scene) -> None:
    w3 = s.registry.w3
    early, late = h("revealed at the deadline"), h("revealed after the deadline")
    c_early, c_late = commitment(early, s.alpha.org_id, SALT), commitment(late, s.alpha.org_id, SALT)
    t_early = s.block_time(s.write(key(s.alpha), "commit", c_early))
    t_late = s.block_time(s.write(key(s.alpha), "commit", c_late))
    # At exactly committedAt + TTL the commitment still holds.
    s.rpc("evm_setNextBlockTimestamp", t_early + COMMITMENT_TTL)
    tx = s.write(key(s.alpha), "reveal", request(early), SALT)
    assert s.block_time(tx) == t_early + COMMITMENT_TTL
    assert s.dataset(early)["registeredAt"] == t_early
    increase_time(w3, t_late + COMMITMENT_TTL + 1 - chain_time(w3))
    expect_revert(
        lambda: s.write(key(s.alpha), "reveal", request(late), SALT),
        "DataRegistryCommitmentExpired",
        commitment=hx(c_late),
        expiredAt=t_late + COMMITMENT_TTL,
    )
    assert s.read("isRegistered", late) is False


def test_another_org_cannot_reveal_a_commitment(s: Scene) -> None:
    root = h("front-run me")
    s.write(key(s.alpha), "commit", commitment(root, s.alpha.org_id, SALT))
    s.next_block()
    # Beta copies root and salt from alpha's reveal: its own id makes a different commitment.
    expect_revert(
        lambda: s.write(key(s.beta), "reveal", request(root), SALT),
        "DataRegistryUnknownCommitment",
        commitment=hx(commitment(root, s.beta.org_id, SALT)),
    )
    s.write(key(s.alpha), "reveal", request(root), SALT)
    assert s.dataset(root)["registrant"] == 1


def test_reveal_needs_a_commitment(s: Scene) -> None:
    root = h("never committed")
    expect_revert(
        lambda: s.write(key(s.alpha), "reveal", request(root), SALT),
        "DataRegistryUnknownCommitment",
        commitment=hx(commitment(root, s.alpha.org_id, SALT)),
    )
    s.write(key(s.alpha), "commit", commitment(root, s.alpha.org_id, SALT))
    wrong_salt = h("another salt")
    expect_revert(
        lambda: s.write(key(s.alpha), "reveal", request(root), wrong_salt),
        "DataRegistryUnknownCommitment",
        commitment=hx(commitment(root, s.alpha.org_id, wrong_salt)),
    )


def test_duplicate_commit_is_refused(s: Scene) -> None:
    c = commitment(h("twice"), s.alpha.org_id, SALT)
    s.write(key(s.alpha), "commit", c)
    expect_revert(lambda: s.write(key(s.alpha), "commit", c), "DataRegistryAlreadyCommitted", commitment=hx(c), orgNo=1)
    expect_revert(
        lambda: s.write(s.alpha.admin, "commit", c), "DataRegistryAlreadyCommitted", commitment=hx(c), orgNo=1
    )


def test_copied_commitment_does_not_take_the_claim(s: Scene) -> None:
    """Beta copies alpha's pending commitment and gets it mined first; alpha's claim still holds."""
    root = h("copied")
    c = commitment(root, s.alpha.org_id, SALT)
    t_copy = s.block_time(s.write(key(s.beta), "commit", c))
    s.next_block()
    expect_revert(lambda: s.write(key(s.alpha), "commit", c), "DataRegistryAlreadyCommitted", commitment=hx(c), orgNo=2)
    expect_revert(
        lambda: s.write(key(s.beta), "reveal", request(root), SALT),
        "DataRegistryUnknownCommitment",
        commitment=hx(commitment(root, s.beta.org_id, SALT)),
    )
    s.write(key(s.alpha), "reveal", request(root), SALT)
    assert (s.dataset(root)["registrant"], s.dataset(root)["registeredAt"]) == (1, t_copy)


def test_commitment_is_revealed_once(s: Scene) -> None:
    root = h("once")
    c = commitment(root, s.alpha.org_id, SALT)
    s.write(key(s.alpha), "commit", c)
    s.next_block()
    s.write(key(s.alpha), "reveal", request(root), SALT)
    expect_revert(
        lambda: s.write(key(s.alpha), "reveal", request(root), SALT), "DataRegistryUnknownCommitment", commitment=hx(c)
    )


def test_reveal_of_an_already_registered_root_is_refused(s: Scene) -> None:
    root = h("registered before the commitment")
    at = s.block_time(s.register(s.beta, root))
    s.write(key(s.alpha), "commit", commitment(root, s.alpha.org_id, SALT))
    s.next_block()
    expect_revert(
        lambda: s.write(key(s.alpha), "reveal", request(root), SALT),
        "DataRegistryAlreadyRegistered",
        root=hx(root),
        registrant=2,
        registeredAt=at,
    )


def test_commitment_has_priority_over_a_later_plain_registration(s: Scene) -> None:
    root = h("front-run reveal")
    t0 = s.block_time(s.write(key(s.alpha), "commit", commitment(root, s.alpha.org_id, SALT)))
    increase_time(s.registry.w3, 60)
    front_run = s.register(s.beta, root)  # front-runs alpha's reveal with the root read from it
    t1 = s.block_time(front_run)
    s.write(key(s.beta), "offerRight", root, int(Right.HOLDING), id_bytes(s.alpha))
    revealed = s.write(key(s.alpha), "reveal", request(root), SALT)
    assert revealed.event("RegistrationSuperseded").args == {
        "root": hx(root),
        "previousRegistrant": 2,
        "previousRegisteredAt": t1,
        "registrant": 1,
    }
    assert (s.dataset(root)["registrant"], s.dataset(root)["registeredAt"]) == (1, t0)
    assert s.holders(root) == {r: 1 for r in Right}
    assert s.read("offerOf", root, int(Right.HOLDING)) == 0  # the superseded holder's offer is gone


# ----- rights -----


@pytest.fixture
def owned(s: Scene) -> bytes:
    """A dataset alpha registered and holds all three rights on."""
    root = h("owned by alpha")
    s.register(s.alpha, root)
    return root


@pytest.mark.parametrize("right", list(Right))
def test_offer_and_accept_move_exactly_that_right(s: Scene, owned: bytes, right: Right) -> None:
    offered = s.write(key(s.alpha), "offerRight", owned, int(right), id_bytes(s.beta))
    assert offered.event("RightOffered").args == {"root": hx(owned), "right": right, "from": 1, "to": 2}
    assert s.read("offerOf", owned, int(right)) == 2
    assert s.holders(owned)[right] == 1  # nothing moves before acceptance
    accepted = s.write(key(s.beta), "acceptRight", owned, int(right))
    assert accepted.event("RightTransferred").args == {"root": hx(owned), "right": right, "from": 1, "to": 2}
    assert s.holders(owned) == {r: (2 if r == right else 1) for r in Right}
    assert s.dataset(owned)["registrant"] == 1
    assert s.read("offerOf", owned, int(right)) == 0


def test_cancel_by_holder(s: Scene, owned: bytes) -> None:
    s.write(key(s.alpha), "offerRight", owned, int(Right.OPERATION), id_bytes(s.beta))
    tx = s.write(key(s.alpha), "cancelOffer", owned, int(Right.OPERATION))
    assert tx.event("RightOfferCancelled").args == {"root": hx(owned), "right": Right.OPERATION, "from": 1, "to": 2}
    assert s.read("offerOf", owned, int(Right.OPERATION)) == 0
    expect_revert(
        lambda: s.write(key(s.beta), "acceptRight", owned, int(Right.OPERATION)),
        "DataRegistryNoOffer",
        root=hx(owned),
        right=Right.OPERATION,
    )
    assert s.holders(owned)[Right.OPERATION] == 1


def test_reject_by_offeree(s: Scene, owned: bytes) -> None:
    s.write(key(s.alpha), "offerRight", owned, int(Right.HOLDING), id_bytes(s.beta))
    tx = s.write(key(s.beta), "rejectOffer", owned, int(Right.HOLDING))
    assert tx.event("RightOfferRejected").args == {"root": hx(owned), "right": Right.HOLDING, "from": 1, "to": 2}
    assert s.read("offerOf", owned, int(Right.HOLDING)) == 0
    expect_revert(
        lambda: s.write(key(s.beta), "acceptRight", owned, int(Right.HOLDING)),
        "DataRegistryNoOffer",
        root=hx(owned),
        right=Right.HOLDING,
    )
    assert s.holders(owned)[Right.HOLDING] == 1


def test_new_offer_replaces_the_open_one(s: Scene, owned: bytes) -> None:
    right = int(Right.PROCESSING)
    s.write(key(s.alpha), "offerRight", owned, right, id_bytes(s.beta))
    s.write(key(s.alpha), "offerRight", owned, right, id_bytes(s.gamma))
    assert s.read("offerOf", owned, right) == 3
    expect_revert(
        lambda: s.write(key(s.beta), "acceptRight", owned, right),
        "DataRegistryNotOfferee",
        root=hx(owned),
        right=Right.PROCESSING,
        orgNo=2,
        offeredTo=3,
    )
    s.write(key(s.gamma), "acceptRight", owned, right)
    assert s.holders(owned)[Right.PROCESSING] == 3


def test_only_the_holder_offers(s: Scene, owned: bytes) -> None:
    right = int(Right.PROCESSING)
    expect_revert(
        lambda: s.write(key(s.beta), "offerRight", owned, right, id_bytes(s.gamma)),
        "DataRegistryNotRightHolder",
        root=hx(owned),
        right=Right.PROCESSING,
        orgNo=2,
        holder=1,
    )
    expect_revert(
        lambda: s.write(key(s.alpha), "offerRight", owned, right, id_bytes(s.alpha)),
        "DataRegistryAlreadyHolder",
        root=hx(owned),
        right=Right.PROCESSING,
        orgNo=1,
    )


def test_offer_to_an_unknown_org_is_refused(s: Scene, owned: bytes) -> None:
    nobody = keccak(text="DEMO:NOBODY")
    expect_revert(
        lambda: s.write(key(s.alpha), "offerRight", owned, int(Right.OPERATION), nobody),
        "ConsortiumUnknownOrg",
        orgId=hx(nobody),
    )


@pytest.mark.parametrize(
    ("action", "status"),
    [(Action.SUSPEND_MEMBER, MemberStatus.SUSPENDED), (Action.EXPEL_MEMBER, MemberStatus.EXPELLED)],
)
def test_offer_to_an_inactive_org_is_refused(s: Scene, owned: bytes, action: Action, status: MemberStatus) -> None:
    s.govern(action, s.gamma)
    expect_revert(
        lambda: s.write(key(s.alpha), "offerRight", owned, int(Right.OPERATION), id_bytes(s.gamma)),
        "ConsortiumMemberNotActive",
        orgId=s.gamma.org_id,
        status=status,
    )


def test_open_offer_is_answered_by_the_right_orgs(s: Scene, owned: bytes) -> None:
    right = int(Right.HOLDING)
    s.write(key(s.alpha), "offerRight", owned, right, id_bytes(s.beta))
    for function in ("acceptRight", "rejectOffer"):
        expect_revert(
            partial(s.write, key(s.gamma), function, owned, right),
            "DataRegistryNotOfferee",
            root=hx(owned),
            right=Right.HOLDING,
            orgNo=3,
            offeredTo=2,
        )
    for org, no in ((s.beta, 2), (s.gamma, 3)):
        expect_revert(
            partial(s.write, key(org), "cancelOffer", owned, right),
            "DataRegistryNotRightHolder",
            root=hx(owned),
            right=Right.HOLDING,
            orgNo=no,
            holder=1,
        )
    # The holder cannot accept its own offer on the offeree's behalf.
    expect_revert(
        lambda: s.write(key(s.alpha), "acceptRight", owned, right),
        "DataRegistryNotOfferee",
        root=hx(owned),
        right=Right.HOLDING,
        orgNo=1,
        offeredTo=2,
    )
    assert s.read("offerOf", owned, right) == 2


@pytest.mark.parametrize(
    ("function", "who"), [("acceptRight", "beta"), ("cancelOffer", "alpha"), ("rejectOffer", "beta")]
)
def test_answering_without_an_offer_is_refused(s: Scene, owned: bytes, function: str, who: str) -> None:
    # An open offer on another right does not count.
    s.write(key(s.alpha), "offerRight", owned, int(Right.HOLDING), id_bytes(s.beta))
    expect_revert(
        lambda: s.write(key(getattr(s, who)), function, owned, int(Right.PROCESSING)),
        "DataRegistryNoOffer",
        root=hx(owned),
        right=Right.PROCESSING,
    )


RIGHTS_CALLS: dict[str, Callable[[Scene], tuple[Any, ...]]] = {
    "offerRight": lambda s: (int(Right.OPERATION), id_bytes(s.beta)),
    "acceptRight": lambda s: (int(Right.OPERATION),),
    "cancelOffer": lambda s: (int(Right.OPERATION),),
    "rejectOffer": lambda s: (int(Right.OPERATION),),
}


@pytest.mark.parametrize("function", sorted(RIGHTS_CALLS))
def test_rights_on_an_unknown_dataset_are_refused(s: Scene, function: str) -> None:
    missing = h("no such dataset")
    expect_revert(
        lambda: s.write(key(s.alpha), function, missing, *RIGHTS_CALLS[function](s)),
        "DataRegistryUnknownDataset",
        root=hx(missing),
    )


def test_right_moves_on_from_its_new_holder(s: Scene, owned: bytes) -> None:
    right = int(Right.PROCESSING)
    s.write(key(s.alpha), "offerRight", owned, right, id_bytes(s.beta))
    s.write(key(s.beta), "acceptRight", owned, right)
    expect_revert(
        lambda: s.write(key(s.alpha), "offerRight", owned, right, id_bytes(s.gamma)),
        "DataRegistryNotRightHolder",
        root=hx(owned),
        right=Right.PROCESSING,
        orgNo=1,
        holder=2,
    )
    s.write(key(s.beta), "offerRight", owned, right, id_bytes(s.gamma))
    tx = s.write(key(s.gamma), "acceptRight", owned, right)
    assert tx.event("RightTransferred").args == {"root": hx(owned), "right": Right.PROCESSING, "from": 2, "to": 3}
    assert s.holders(owned) == {Right.HOLDING: 1, Right.PROCESSING: 3, Right.OPERATION: 1}
    # And back to the registrant, which can take a right back like any other member.
    s.write(key(s.gamma), "offerRight", owned, right, id_bytes(s.alpha))
    s.write(key(s.alpha), "acceptRight", owned, right)
    assert s.holders(owned)[Right.PROCESSING] == 1
