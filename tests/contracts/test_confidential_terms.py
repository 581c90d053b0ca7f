"""Confidential terms (docs/licences.md): a nosy member with RPC access reads every event and
every transaction of a complete workload straight from the node and finds no price, size,
purpose or policy value; openings are checked offline and against the chain."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from eth_utils import keccak
from web3 import Web3

from client.chain.enums import Party, Permission
from client.chain.registry import Registry
from client.eip712 import Receipt
from client.errors import ProofError
from client.grants import Grants, LicenceTermsFile
from client.receipts import ReceiptFile, Receipts
from client.terms import Opening, Terms, check_opening
from tests.conftest import ONE_YEAR, Org, chain_time, increase_time
from tests.contracts.factories import GENERAL, IMPORTANT, h, id_bytes, key, make_licensing

POLICY_TEXT = "ODRL: use for predictive maintenance of press line 4 only; no resale; delete after 12 months"
POLICY = "0x" + hashlib.sha256(POLICY_TEXT.encode()).hexdigest()
LICENCES = {
    "beta": Terms.licence(purpose="PREDICTIVE-MAINTENANCE-7Q", policy=POLICY, price=31_337_001, note="line 4 deal"),
    "gamma important": Terms.licence(purpose="WELD-QA-ZX", policy=POLICY, price=8_675_309_000),
    "gamma": Terms.licence(purpose="RESALE-BROKERAGE-K2", price=123_987_654),
}
DELIVERIES = {
    "alpha to beta": Terms.receipt(size=987_654_321_987, price=4_242_424_242, note="Q1 extract, 3% rebate"),
    "beta to gamma (reshare)": Terms.receipt(size=55_555_555_555, price=77_777_777),
}


def needles(terms: Terms) -> dict[str, bytes]:
    """Every way a confidential value could show on chain: UTF-8 text, Keccak-256 and SHA-256 of
    the text; for whole numbers also the uint256 word, the uint64 bytes and the word's hashes."""
    found: dict[str, bytes] = {}
    for name, value in terms.fields.items():
        text = value.encode()
        found |= {
            f"{name} utf-8": text,
            f"{name} keccak": keccak(text),
            f"{name} sha256": hashlib.sha256(text).digest(),
        }
        if value.startswith("0x"):  # a hash given as a value (the policy): its bytes and their hashes
            raw = bytes.fromhex(value[2:])
            found |= {f"{name} bytes": raw, f"{name} keccak(bytes)": keccak(raw)}
        if value.isdigit():
            word = int(value).to_bytes(32, "big")
            found |= {
                f"{name} uint256": word,
                f"{name} uint64": int(value).to_bytes(8, "big"),
                f"{name} keccak(word)": keccak(word),
                f"{name} sha256(word)": hashlib.sha256(word).digest(),
            }
    return found


def node_view(w3: Web3) -> bytes:
    """All a member's node gives away: every transaction's calldata, every log's topics and data."""
    seen = []
    for number in range(w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            seen.append(bytes(tx["input"]))  # type: ignore[index]
    for log in w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest"}):
        seen += [bytes(t) for t in log["topics"]] + [bytes(log["data"])]
    return b"\x00".join(seen)


@dataclass
class Workload:
    registry: Registry
    root: bytes
    files: dict[str, ReceiptFile]
    licences: dict[str, LicenceTermsFile]


@pytest.fixture
def workload(w3: Web3, tmp_path: Path) -> Workload:
    """Grants (one on important data, approved), a delivery, a reshared delivery, a revocation."""
    s = make_licensing(w3, tmp_path / "deployments")
    grants, receipts = Grants(s.registry), Receipts(s.registry)
    now = chain_time(w3)
    window = (now - 60, now + ONE_YEAR)
    licences = {}

    def issue(name: str, root: bytes, grantee: Org, permissions: Permission) -> None:
        opening = Opening.new(LICENCES[name])
        licences[name] = grants.terms_file(root, grantee.identifier, opening)
        grants.grant(key(s.alpha), root, grantee.identifier, permissions, *window, opening.commitment)

    issue("beta", GENERAL, s.beta, Permission.READ | Permission.RESHARE)
    issue("gamma important", IMPORTANT, s.gamma, Permission.READ)
    grants.approve(s.auditor, IMPORTANT, s.gamma.identifier, 1)
    issue("gamma", GENERAL, s.gamma, Permission.READ)
    increase_time(w3, 10)
    files = {}
    for name, (provider, consumer) in {
        "alpha to beta": (s.alpha, s.beta),
        "beta to gamma (reshare)": (s.beta, s.gamma),
    }.items():
        opening = Opening.new(DELIVERIES[name])
        receipt = Receipt(
            dataset=GENERAL,
            grant_serial=1,
            provider=id_bytes(provider),
            consumer=id_bytes(consumer),
            delivered_root=h(f"delivered {name}"),
            terms_commitment=opening.commitment,
            delivered_at=chain_time(w3),
            nonce=int.from_bytes(os.urandom(16), "big"),
        )
        file = receipts.draft(receipt, opening).signed(Party.PROVIDER, key(provider))
        files[name] = file.signed(Party.CONSUMER, key(consumer))
        assert receipts.submit(key(consumer), files[name]).event("ReceiptRecorded")
    grants.revoke(key(s.alpha), GENERAL, s.gamma.identifier)
    return Workload(s.registry, GENERAL, files, licences)


def test_a_nosy_member_reads_no_commercial_term(w3: Web3, workload: Workload) -> None:
    root, files, licences = workload.root, workload.files, workload.licences
    view = node_view(w3)
    assert root in view and all(f.digest in view for f in files.values())  # the view is the real one
    every = [t for t in LICENCES.values()] + [t for t in DELIVERIES.values()]
    leaks = []
    for terms in every:
        for how, needle in needles(terms).items():
            assert needle in terms.canonical() or len(needle) == 32 or len(needle) == 8  # the needle is well made
            if needle in view:
                leaks.append(how)
    assert leaks == []
    # The commitments are there instead, each opened by its parties' files.
    for file in files.values():
        assert file.receipt.terms_commitment in view
    for licence in licences.values():
        assert licence.commitment in view


def test_openings_verify_offline_and_against_the_chain(workload: Workload) -> None:
    files, licences = workload.files, workload.licences
    s_registry = Grants(workload.registry)
    reshared = files["beta to gamma (reshare)"]
    assert reshared.verify_offline(claimed=DELIVERIES["beta to gamma (reshare)"])
    evidence = Receipts(s_registry.registry).verify_on_chain(reshared, DELIVERIES["beta to gamma (reshare)"])
    assert evidence.digest == "0x" + reshared.digest.hex()
    for name, licence in licences.items():
        checked = s_registry.verify_terms(LicenceTermsFile.from_json(licence.to_json()), LICENCES[name])
        assert checked.serial >= 1

    # A tampered field, a wrong salt, a swapped document: each refused, the field named where there is one.
    opening = reshared.opening
    tampered = Opening(Terms.receipt(size=55_555_555_555, price=77_777_778), opening.salt)
    with pytest.raises(ProofError, match="terms field price differs: '77777778' in the opening, '77777777' claimed"):
        check_opening(tampered, reshared.receipt.terms_commitment, DELIVERIES["beta to gamma (reshare)"])
    with pytest.raises(ProofError, match="do not open commitment"):
        check_opening(tampered, reshared.receipt.terms_commitment)
    with pytest.raises(ProofError, match="do not open commitment"):
        replace(reshared, opening=Opening(opening.terms, bytes(32))).verify_offline()
    swapped = replace(reshared, opening=files["alpha to beta"].opening)
    with pytest.raises(ProofError, match=r"terms field note differs: .* \(and price, size\)"):
        swapped.verify_offline(claimed=DELIVERIES["beta to gamma (reshare)"])
    with pytest.raises(ProofError, match="do not open commitment"):
        Receipts(s_registry.registry).verify_on_chain(swapped)
    other = licences["gamma"]
    moved = replace(other, root=IMPORTANT)  # gamma's general-data terms shown for the important grant
    with pytest.raises(ProofError, match="no grant on dataset .* commits to these terms"):
        s_registry.verify_terms(moved)
    with pytest.raises(
        ProofError, match=r"terms field policy differs: absent in the opening, .* \(and price, purpose\)"
    ):
        s_registry.verify_terms(other, LICENCES["gamma important"])
