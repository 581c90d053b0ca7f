"""ExchangeLedger contract: EIP-712 receipts signed by both parties, replay and forgery refused,
grant and entitlement checks — on anvil."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import pytest
from eth_abi import encode
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3

from client.chain.enums import Action, MemberStatus, Party, Right
from client.chain.transact import TxResult, guarded
from client.eip712 import (
    RECEIPT_FIELDS,
    Receipt,
    receipt_digest,
    recover_signer,
    sign_receipt,
    typed_data,
)
from client.receipts import ReceiptFile, Receipts
from client.terms import Opening, Terms
from tests.conftest import ONE_YEAR, Org, chain_time, expect_revert, increase_time, new_account
from tests.contracts.factories import (
    DAY,
    DERIVE,
    GENERAL,
    IMPORTANT,
    READ,
    RESHARE,
    Licensing,
    h,
    hx,
    id_bytes,
    key,
    make_licensing,
)

UINT32_MAX, UINT64_MAX, UINT256_MAX = 2**32 - 1, 2**64 - 1, 2**256 - 1
WINDOWED = h("general: windowed licence")  # beta's licence on it covers [window_from, window_until]
DELIVERED = h("delivered: line 4 logs, 2024-Q1 extract")
TERMS = Opening(Terms.receipt(size=1_048_576 * 3 + 17, price=2_500 * 10**18), h("receipt salt"))


@dataclass
class Exchange(Licensing):
    """Licensing, plus: beta (consumer) holds alpha's READ licence on GENERAL (serial 1, valid
    from a day before `t0` for a year) and on WINDOWED (serial 1, valid [window_from,
    window_until], both already past). Receipts default to a delivery at `t0`."""

    t0: int = 0
    window_from: int = 0
    window_until: int = 0

    @property
    def ledger(self) -> str:
        return str(self.registry.contract("ExchangeLedger").address)

    def receipt(self, **changes: Any) -> Receipt:
        """Alpha's delivery of GENERAL to beta under grant serial 1 at t0, with `changes`."""
        base = Receipt(
            dataset=GENERAL,
            grant_serial=1,
            provider=id_bytes(self.alpha),
            consumer=id_bytes(self.beta),
            delivered_root=DELIVERED,
            terms_commitment=TERMS.commitment,
            delivered_at=self.t0,
            nonce=1,
        )
        return replace(base, **changes)

    def sign(
        self, signer: LocalAccount, receipt: Receipt, chain_id: int | None = None, ledger: str | None = None
    ) -> bytes:
        return sign_receipt(
            signer, receipt, self.registry.chain_id if chain_id is None else chain_id, ledger or self.ledger
        )

    def signatures(
        self, receipt: Receipt, provider: LocalAccount | None = None, consumer: LocalAccount | None = None
    ) -> tuple[bytes, bytes]:
        return self.sign(provider or key(self.alpha), receipt), self.sign(consumer or key(self.beta), receipt)

    def submit(
        self, submitter: LocalAccount, receipt: Receipt, signatures: tuple[bytes, bytes] | None = None
    ) -> TxResult:
        provider_sig, consumer_sig = signatures or self.signatures(receipt)
        return self.registry.transact(
            submitter, "ExchangeLedger", "submit", receipt.as_tuple(), provider_sig, consumer_sig
        )

    def submit_as(self, submitter: LocalAccount, receipt: Receipt, signatures: tuple[bytes, bytes]) -> Any:
        """eth_call of submit on the latest block (its time), as `submitter`."""
        fn = self.registry.contract("ExchangeLedger").functions.submit(receipt.as_tuple(), *signatures)
        return guarded(lambda: fn.call({"from": submitter.address}, block_identifier="latest"))

    def digest(self, receipt: Receipt) -> bytes:
        """The contract's digest of `receipt`."""
        return bytes(self.registry.call("ExchangeLedger", "receiptDigest", receipt.as_tuple()))

    def recovered(self, receipt: Receipt, signature: bytes) -> str:
        """Whom the ledger takes to have signed `receipt` with `signature` (the SDK's recovery
        over the digest the contract computes, as test_digest_matches_the_contract shows)."""
        return recover_signer(receipt, self.registry.chain_id, self.ledger, signature)

    def recorded(self, receipt: Receipt) -> bool:
        return bool(self.registry.call("ExchangeLedger", "isRecorded", self.digest(receipt)))


@pytest.fixture(scope="module")
def scene(w3: Web3, tmp_path_factory: pytest.TempPathFactory) -> Exchange:
    # Once per module; the per-test snapshot restores it (see test_data_registry).
    base = make_licensing(w3, tmp_path_factory.mktemp("deployments"))
    s = Exchange(**vars(base))
    s.register(s.alpha, WINDOWED)
    now = chain_time(w3)
    s.t0, s.window_from, s.window_until = now, now + 100, now + 200
    s.grant(s.alpha, GENERAL, s.beta, READ, (now - DAY, now + ONE_YEAR - DAY))
    s.grant(s.alpha, WINDOWED, s.beta, READ, (s.window_from, s.window_until))
    increase_time(w3, 300)
    return s


@pytest.fixture
def s(scene: Exchange, w3: Web3) -> Exchange:
    return scene


def not_authorized(s: Exchange, r: Receipt, consumer_no: int = 2) -> dict[str, Any]:
    return {
        "dataset": hx(r.dataset),
        "consumer": consumer_no,
        "grantSerial": r.grant_serial,
        "deliveredAt": r.delivered_at,
    }


# ----- the EIP-712 digest: Python and Solidity agree -----


def digest_cases() -> list[Receipt]:
    rng = random.Random(712)
    cases = [
        Receipt(bytes(32), 0, bytes(32), bytes(32), bytes(32), bytes(32), 0, 0),
        Receipt(
            b"\xff" * 32,
            UINT32_MAX,
            b"\xff" * 32,
            b"\xfe" * 32,
            b"\xff" * 32,
            b"\xfd" * 32,
            UINT64_MAX,
            UINT256_MAX,
        ),
        Receipt(h("a"), 1, h("p"), h("c"), h("d"), h("t"), 2**63, 2**255 + 1),
    ]
    for _ in range(5):
        cases.append(
            Receipt(
                rng.randbytes(32),
                rng.randrange(2**32),
                rng.randbytes(32),
                rng.randbytes(32),
                rng.randbytes(32),
                rng.randbytes(32),
                rng.randrange(2**64),
                rng.randrange(2**256),
            )
        )
    return cases


def test_digest_matches_the_contract(s: Exchange) -> None:
    files = Receipts(s.registry)
    for receipt in digest_cases():
        expected = receipt_digest(receipt, s.registry.chain_id, s.ledger)
        assert s.digest(receipt) == expected, receipt
        file = ReceiptFile(s.registry.chain_id, s.ledger, receipt, TERMS)
        assert files.contract_digest(file) == file.digest == expected


def test_domain_separator_and_type_hash(s: Exchange) -> None:
    chain_id, ledger = s.registry.chain_id, s.ledger
    domain_type = b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    by_hand = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [keccak(domain_type), keccak(text="IDS Registry"), keccak(text="1"), chain_id, ledger],
        )
    )
    contract = bytes(s.registry.call("ExchangeLedger", "domainSeparator"))
    assert contract == by_hand
    # eth_account's encoding (what sign_receipt signs) puts the same domain hash in the header.
    assert bytes(encode_typed_data(full_message=typed_data(digest_cases()[0], chain_id, ledger)).header) == by_hand
    type_string = "Receipt(" + ",".join(f"{f['type']} {f['name']}" for f in RECEIPT_FIELDS) + ")"
    assert bytes(s.registry.call("ExchangeLedger", "RECEIPT_TYPEHASH")) == keccak(text=type_string)


# ----- recording -----


@pytest.mark.parametrize("submitter", ["provider connector", "consumer connector", "consumer admin"])
def test_receipt_recorded(s: Exchange, submitter: str) -> None:
    files = Receipts(s.registry)
    receipt = s.receipt()
    # One side drafts and signs the file, the other countersigns, either submits.
    file = files.draft(receipt, TERMS).signed(Party.PROVIDER, key(s.alpha)).signed(Party.CONSUMER, key(s.beta))
    digest = receipt_digest(receipt, s.registry.chain_id, s.ledger)
    assert s.registry.call("ExchangeLedger", "isRecorded", digest) is False
    signer = {"provider connector": key(s.alpha), "consumer connector": key(s.beta), "consumer admin": s.beta.admin}
    tx = files.submit(signer[submitter], file)
    assert [e.name for e in tx.events] == ["ReceiptRecorded"]
    assert tx.event("ReceiptRecorded").args == {
        "digest": hx(digest),
        "dataset": hx(GENERAL),
        "provider": 1,
        "consumer": 2,
        "grantSerial": 1,
        "deliveredRoot": hx(DELIVERED),
        "termsCommitment": hx(TERMS.commitment),
        "deliveredAt": s.t0,
        "nonce": 1,
        "providerKey": key(s.alpha).address,
        "consumerKey": key(s.beta).address,
    }
    assert s.registry.call("ExchangeLedger", "isRecorded", digest) is True
    evidence = files.verify_on_chain(file)
    assert (evidence.digest, evidence.transaction, evidence.block_number) == (hx(digest), tx.tx_hash, tx.block_number)


def test_submit_returns_the_digest(s: Exchange) -> None:
    receipt = s.receipt()
    assert s.submit_as(key(s.beta), receipt, s.signatures(receipt)) == s.digest(receipt)


def test_any_active_key_of_a_party_may_sign(s: Exchange) -> None:
    second = new_account()
    s.consortium.add_connector(s.beta.admin, second.address)
    receipt = s.receipt()
    tx = s.submit(key(s.alpha), receipt, s.signatures(receipt, provider=s.alpha.admin, consumer=second))
    args = tx.event("ReceiptRecorded").args
    assert (args["providerKey"], args["consumerKey"]) == (s.alpha.admin.address, second.address)


# ----- replay and forgery -----


def test_same_receipt_twice(s: Exchange) -> None:
    receipt = s.receipt()
    s.submit(key(s.alpha), receipt)
    digest = hx(s.digest(receipt))
    for submitter in (key(s.alpha), key(s.beta)):
        expect_revert(partial(s.submit, submitter, receipt), "ExchangeLedgerAlreadyRecorded", digest=digest)
    # Fresh signatures by other keys of the same organisations make no new receipt.
    fresh = s.signatures(receipt, provider=s.alpha.admin, consumer=s.beta.admin)
    expect_revert(lambda: s.submit(key(s.beta), receipt, fresh), "ExchangeLedgerAlreadyRecorded", digest=digest)


def test_new_nonce_is_a_new_receipt(s: Exchange) -> None:
    first = s.receipt()
    old_signatures = s.signatures(first)
    s.submit(key(s.alpha), first, old_signatures)
    again = s.receipt(nonce=2)
    # The first receipt's signatures do not carry over to the identical delivery with a new nonce.
    expect_revert(
        lambda: s.submit(key(s.alpha), again, old_signatures),
        "ConsortiumUnknownKey",
        key=s.recovered(again, old_signatures[0]),
    )
    tx = s.submit(key(s.alpha), again)
    assert tx.event("ReceiptRecorded").args["nonce"] == 2
    assert s.recorded(first) and s.recorded(again)


@pytest.mark.parametrize("party", list(Party))
@pytest.mark.parametrize("domain", ["another chain id", "another ledger address"])
def test_signature_for_another_domain(s: Exchange, domain: str, party: Party) -> None:
    """A signature over another domain recovers some unrelated address, which no member owns."""
    receipt = s.receipt()
    signer = key(s.alpha) if party == Party.PROVIDER else key(s.beta)
    if domain == "another chain id":
        foreign = s.sign(signer, receipt, chain_id=s.registry.chain_id + 1)
    else:
        foreign = s.sign(signer, receipt, ledger=str(s.registry.contract("AccessRegistry").address))
    signatures = list(s.signatures(receipt))
    signatures[party] = foreign
    expect_revert(
        lambda: s.submit(key(s.alpha), receipt, (signatures[0], signatures[1])),
        "ConsortiumUnknownKey",
        key=s.recovered(receipt, foreign),
    )
    assert s.recovered(receipt, foreign) != signer.address
    assert not s.recorded(receipt)


@pytest.mark.parametrize("party", list(Party))
def test_signed_by_a_suspended_org(s: Exchange, party: Party) -> None:
    receipt = s.receipt()
    signatures = s.signatures(receipt)  # signed while both were active
    org, other = (s.alpha, s.beta) if party == Party.PROVIDER else (s.beta, s.alpha)
    s.govern(Action.SUSPEND_MEMBER, org)
    expect_revert(
        lambda: s.submit(key(other), receipt, signatures),
        "ConsortiumMemberNotActive",
        orgId=org.org_id,
        status=MemberStatus.SUSPENDED,
    )


@pytest.mark.parametrize("party", list(Party))
def test_signed_by_a_removed_connector(s: Exchange, party: Party) -> None:
    receipt = s.receipt()
    signatures = s.signatures(receipt)
    org, other = (s.alpha, s.beta) if party == Party.PROVIDER else (s.beta, s.alpha)
    s.consortium.remove_connector(org.admin, key(org).address)
    expect_revert(
        lambda: s.submit(other.admin, receipt, signatures),
        "ConsortiumKeyRevoked",
        key=key(org).address,
        orgId=org.org_id,
    )


def test_signer_of_the_wrong_party(s: Exchange) -> None:
    receipt = s.receipt()
    alpha, beta, gamma = (key(o) for o in (s.alpha, s.beta, s.gamma))
    cases: list[tuple[tuple[LocalAccount, LocalAccount], Party, LocalAccount, Org, Org]] = [
        # (provider slot signer, consumer slot signer) → refused party, its signer, expected org, signer's org
        ((alpha, alpha), Party.CONSUMER, alpha, s.beta, s.alpha),  # the provider's key in the consumer's slot
        ((beta, beta), Party.PROVIDER, beta, s.alpha, s.beta),
        ((beta, alpha), Party.PROVIDER, beta, s.alpha, s.beta),  # signatures swapped
        ((alpha, gamma), Party.CONSUMER, gamma, s.beta, s.gamma),  # a third member signs for the consumer
        ((gamma, beta), Party.PROVIDER, gamma, s.alpha, s.gamma),
    ]
    for (provider_signer, consumer_signer), party, signer, expected, actual in cases:
        signatures = s.signatures(receipt, provider=provider_signer, consumer=consumer_signer)
        expect_revert(
            partial(s.submit, key(s.alpha), receipt, signatures),
            "ExchangeLedgerWrongSigner",
            party=party,
            signer=signer.address,
            expectedOrg=expected.org_id,
            signerOrg=actual.org_id,
        )


TAMPERINGS: dict[str, Callable[[Exchange, Receipt], Receipt]] = {
    "termsCommitment": lambda s, r: replace(
        r, terms_commitment=Opening(Terms.receipt(size=1_048_576 * 3 + 17, price=1), h("receipt salt")).commitment
    ),
    "deliveredRoot": lambda s, r: replace(r, delivered_root=h("other content")),
    "deliveredAt": lambda s, r: replace(r, delivered_at=r.delivered_at - 1),
    "nonce": lambda s, r: replace(r, nonce=r.nonce + 1),
    "grantSerial": lambda s, r: replace(r, grant_serial=2),
    "dataset": lambda s, r: replace(r, dataset=WINDOWED),
    "consumer": lambda s, r: replace(r, consumer=id_bytes(s.gamma)),
}


@pytest.mark.parametrize("field", sorted(TAMPERINGS))
def test_tampered_after_signing(s: Exchange, field: str) -> None:
    """Both signatures now cover another digest: the provider's recovers a key no member has."""
    signed = s.receipt()
    signatures = s.signatures(signed)
    tampered = TAMPERINGS[field](s, signed)
    expect_revert(
        lambda: s.submit(key(s.alpha), tampered, signatures),
        "ConsortiumUnknownKey",
        key=s.recovered(tampered, signatures[0]),
    )
    assert not s.recorded(tampered)
    assert s.submit(key(s.alpha), signed, signatures).events  # the honest receipt still records


SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

MALFORMED: dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda sig: b"",
    "64 bytes (compact form)": lambda sig: sig[:64],
    "66 bytes": lambda sig: sig + b"\x00",
    "v = 29": lambda sig: sig[:64] + b"\x1d",
    "r = 0": lambda sig: bytes(32) + sig[32:],
    # The malleable twin (s' = n - s, v flipped) recovers the same key; OpenZeppelin refuses it.
    "high s": lambda sig: (
        sig[:32] + (SECP256K1_N - int.from_bytes(sig[32:64], "big")).to_bytes(32, "big") + bytes([55 - sig[64]])
    ),
}


@pytest.mark.parametrize("party", list(Party))
@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_signature(s: Exchange, kind: str, party: Party) -> None:
    receipt = s.receipt()
    signatures = list(s.signatures(receipt))
    signatures[party] = MALFORMED[kind](signatures[party])
    if kind == "high s":  # to ecrecover the twin is a valid signature by the same key
        signer = key(s.alpha) if party == Party.PROVIDER else key(s.beta)
        assert s.recovered(receipt, signatures[party]) == signer.address
    expect_revert(
        lambda: s.submit(key(s.alpha), receipt, (signatures[0], signatures[1])),
        "ExchangeLedgerInvalidSignature",
        party=party,
    )


# ----- the consumer's licence -----


def test_no_grant(s: Exchange) -> None:
    receipt = s.receipt(consumer=id_bytes(s.gamma))
    signatures = s.signatures(receipt, consumer=key(s.gamma))
    expect_revert(
        lambda: s.submit(key(s.gamma), receipt, signatures),
        "ExchangeLedgerNotAuthorized",
        **not_authorized(s, receipt, 3),
    )


def test_revoked_grant(s: Exchange) -> None:
    receipt = s.receipt()
    signatures = s.signatures(receipt)
    s.revoke(key(s.alpha), GENERAL, s.beta)
    expect_revert(
        lambda: s.submit(key(s.beta), receipt, signatures), "ExchangeLedgerNotAuthorized", **not_authorized(s, receipt)
    )


def test_grant_without_read(s: Exchange) -> None:
    s.grant(s.alpha, GENERAL, s.beta, DERIVE, (s.t0 - DAY, s.t0 + DAY))
    receipt = s.receipt(grant_serial=2)
    expect_revert(lambda: s.submit(key(s.beta), receipt), "ExchangeLedgerNotAuthorized", **not_authorized(s, receipt))


def test_pending_important_grant(s: Exchange) -> None:
    start = chain_time(s.registry.w3)
    s.grant(s.alpha, IMPORTANT, s.beta, READ, (start, start + DAY))
    increase_time(s.registry.w3, 10)
    receipt = s.receipt(dataset=IMPORTANT, delivered_at=start + 5)
    signatures = s.signatures(receipt)
    expect_revert(
        lambda: s.submit(key(s.beta), receipt, signatures), "ExchangeLedgerNotAuthorized", **not_authorized(s, receipt)
    )
    s.approve(IMPORTANT, s.beta)
    assert s.submit(key(s.beta), receipt, signatures).event("ReceiptRecorded").args["dataset"] == hx(IMPORTANT)


def test_grant_serial_must_name_the_current_grant(s: Exchange) -> None:
    s.grant(s.alpha, GENERAL, s.beta, READ, (s.t0 - DAY, s.t0 + DAY))  # replaces serial 1 with serial 2
    for serial in (1, 3, 0):
        receipt = s.receipt(grant_serial=serial)
        expect_revert(
            partial(s.submit, key(s.beta), receipt), "ExchangeLedgerNotAuthorized", **not_authorized(s, receipt)
        )
    assert s.submit(key(s.beta), s.receipt(grant_serial=2)).event("ReceiptRecorded").args["grantSerial"] == 2


@pytest.mark.parametrize(
    ("offset", "recorded"),
    [("validFrom - 1", False), ("validFrom", True), ("validUntil", True), ("validUntil + 1", False)],
)
def test_delivery_time_against_the_window(s: Exchange, offset: str, recorded: bool) -> None:
    at = {
        "validFrom - 1": s.window_from - 1,
        "validFrom": s.window_from,
        "validUntil": s.window_until,
        "validUntil + 1": s.window_until + 1,
    }[offset]
    receipt = s.receipt(dataset=WINDOWED, delivered_at=at)
    if recorded:
        assert s.submit(key(s.beta), receipt).event("ReceiptRecorded").args["deliveredAt"] == at
    else:
        expect_revert(
            lambda: s.submit(key(s.beta), receipt), "ExchangeLedgerNotAuthorized", **not_authorized(s, receipt)
        )


def test_future_delivery(s: Exchange) -> None:
    now = chain_time(s.registry.w3)
    receipt = s.receipt(delivered_at=now + 1)
    # eth_call on the latest block runs at its time: one second later is the future.
    expect_revert(
        lambda: s.submit_as(key(s.beta), receipt, s.signatures(receipt)),
        "ExchangeLedgerFutureDelivery",
        deliveredAt=now + 1,
        currentTime=now,
    )
    # In a transaction, against the time of the block it lands in: one second after it is
    # refused, that very second is not.
    at = now + 30
    s.rpc("evm_setNextBlockTimestamp", at)
    expect_revert(
        lambda: s.submit(key(s.beta), s.receipt(delivered_at=at + 1)),
        "ExchangeLedgerFutureDelivery",
        deliveredAt=at + 1,
        currentTime=at,
    )
    tx = s.submit(key(s.beta), s.receipt(delivered_at=at))
    assert (tx.event("ReceiptRecorded").args["deliveredAt"], s.block_time(tx)) == (at, at)


# ----- the provider's entitlement -----


def test_provider_without_operation_right_or_reshare(s: Exchange) -> None:
    receipt = s.receipt(provider=id_bytes(s.gamma))
    signatures = s.signatures(receipt, provider=key(s.gamma))
    refused = {"dataset": hx(GENERAL), "provider": 3, "deliveredAt": s.t0}
    expect_revert(lambda: s.submit(key(s.gamma), receipt, signatures), "ExchangeLedgerProviderNotEntitled", **refused)
    # A licence to read is not a licence to pass the data on.
    s.grant(s.alpha, GENERAL, s.gamma, READ | DERIVE, (s.t0 - DAY, s.t0 + DAY))
    expect_revert(lambda: s.submit(key(s.gamma), receipt, signatures), "ExchangeLedgerProviderNotEntitled", **refused)


def test_provider_with_a_reshare_licence(s: Exchange) -> None:
    s.grant(s.alpha, GENERAL, s.gamma, READ | RESHARE, (s.t0 - DAY, s.t0 + DAY))
    receipt = s.receipt(provider=id_bytes(s.gamma))
    tx = s.submit(key(s.gamma), receipt, s.signatures(receipt, provider=key(s.gamma)))
    args = tx.event("ReceiptRecorded").args
    assert (args["provider"], args["consumer"], args["providerKey"]) == (3, 2, key(s.gamma).address)
    # Revoked, the reshare licence no longer entitles.
    s.revoke(key(s.alpha), GENERAL, s.gamma)
    later = s.receipt(provider=id_bytes(s.gamma), nonce=2)
    expect_revert(
        lambda: s.submit(key(s.gamma), later, s.signatures(later, provider=key(s.gamma))),
        "ExchangeLedgerProviderNotEntitled",
        dataset=hx(GENERAL),
        provider=3,
        deliveredAt=s.t0,
    )


def test_reshare_licence_must_cover_the_delivery_time(s: Exchange) -> None:
    s.grant(s.alpha, GENERAL, s.gamma, READ | RESHARE, (s.t0 + 1, s.t0 + DAY))
    receipt = s.receipt(provider=id_bytes(s.gamma))  # delivered at t0, a second before the licence
    expect_revert(
        lambda: s.submit(key(s.gamma), receipt, s.signatures(receipt, provider=key(s.gamma))),
        "ExchangeLedgerProviderNotEntitled",
        dataset=hx(GENERAL),
        provider=3,
        deliveredAt=s.t0,
    )


def test_operation_right_holder_provides(s: Exchange) -> None:
    """The entitlement follows the operation right; beta's licence from alpha stays valid."""
    s.move_right(GENERAL, Right.OPERATION, s.alpha, s.gamma)
    from_alpha = s.receipt()
    expect_revert(
        lambda: s.submit(key(s.beta), from_alpha),
        "ExchangeLedgerProviderNotEntitled",
        dataset=hx(GENERAL),
        provider=1,
        deliveredAt=s.t0,
    )
    from_gamma = s.receipt(provider=id_bytes(s.gamma))
    tx = s.submit(key(s.beta), from_gamma, s.signatures(from_gamma, provider=key(s.gamma)))
    assert tx.event("ReceiptRecorded").args["provider"] == 3


# ----- the submitter -----


def test_stranger_submits(s: Exchange) -> None:
    stranger = new_account()
    expect_revert(lambda: s.submit(stranger, s.receipt()), "ConsortiumUnknownKey", key=stranger.address)


def test_third_member_submits(s: Exchange) -> None:
    gamma = key(s.gamma)
    expect_revert(lambda: s.submit(gamma, s.receipt()), "ExchangeLedgerNotParty", submitter=gamma.address, orgNo=3)


def test_provider_and_consumer_are_the_same_org(s: Exchange) -> None:
    receipt = s.receipt(consumer=id_bytes(s.alpha))
    signatures = s.signatures(receipt, consumer=s.alpha.admin)
    expect_revert(lambda: s.submit(key(s.alpha), receipt, signatures), "ExchangeLedgerSameParty", org=s.alpha.org_id)
