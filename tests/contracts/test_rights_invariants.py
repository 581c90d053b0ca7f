"""Stateful property tests: random sequences of right offers, acceptances, cancellations,
rejections and member suspensions keep the DataRegistry equal to a plain Python model; and
random disputes, votes, arbiter changes, licences, auditor decisions and supersessions keep
the hardening invariants of issue 10 (see HardeningMachine).

Invariants checked after every step: each right's holder and open offer equal the model's;
a holder is always an organisation that was admitted; no right moves without the offeree's
acceptance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth_abi import encode
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from web3 import Web3

from client.chain.enums import Action, DisputeStatus, GrantStatus, Right
from client.chain.registry import Registry
from client.consortium import Consortium
from client.errors import ContractRevertError
from tests.conftest import Org, admit, new_account

ORGS = 3
DATASETS = 2


class RightsMachine(RuleBasedStateMachine):
    """Drives the real contracts; `self.holders` / `self.offers` are the model."""

    registry: Registry

    @initialize()
    def setup(self) -> None:
        self.w3: Web3 = RightsMachine.w3
        self.snapshot = self.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
        governor = new_account()
        self.registry = RightsMachine.make_registry([governor], 1)
        self.governor: LocalAccount = governor
        self.consortium = Consortium(self.registry)
        self.orgs: list[Org] = [admit(self.consortium, governor, f"DEMO:ORG{i}", connectors=1) for i in range(ORGS)]
        self.active = [True] * ORGS
        self.roots = [bytes([d + 1]) * 32 for d in range(DATASETS)]
        self.holders: dict[tuple[int, Right], int] = {}
        self.offers: dict[tuple[int, Right], int] = {}
        for d, root in enumerate(self.roots):
            self.registry.transact(self.orgs[0].connectors[0], "DataRegistry", "register", (root, 0, bytes(32), "", []))
            for right in Right:
                self.holders[(d, right)] = 0

    def teardown(self) -> None:
        if hasattr(self, "snapshot"):
            self.w3.provider.make_request("evm_revert", [self.snapshot])  # type: ignore[arg-type]

    def _try(self, org: int, function: str, *args: Any) -> bool:
        try:
            self.registry.transact(self.orgs[org].connectors[0], "DataRegistry", function, *args)
        except ContractRevertError:
            return False
        return True

    @rule(
        d=st.integers(0, DATASETS - 1),
        right=st.sampled_from(list(Right)),
        by=st.integers(0, ORGS - 1),
        to=st.integers(0, ORGS - 1),
    )
    def offer(self, d: int, right: Right, by: int, to: int) -> None:
        ok = self._try(by, "offerRight", self.roots[d], int(right), bytes.fromhex(self.orgs[to].org_id[2:]))
        expected = self.active[by] and self.active[to] and self.holders[(d, right)] == by and by != to
        assert ok == expected
        if ok:
            self.offers[(d, right)] = to

    @rule(d=st.integers(0, DATASETS - 1), right=st.sampled_from(list(Right)), by=st.integers(0, ORGS - 1))
    def accept(self, d: int, right: Right, by: int) -> None:
        ok = self._try(by, "acceptRight", self.roots[d], int(right))
        assert ok == (self.active[by] and self.offers.get((d, right)) == by)
        if ok:
            self.holders[(d, right)] = by
            del self.offers[(d, right)]

    @rule(d=st.integers(0, DATASETS - 1), right=st.sampled_from(list(Right)), by=st.integers(0, ORGS - 1))
    def cancel(self, d: int, right: Right, by: int) -> None:
        ok = self._try(by, "cancelOffer", self.roots[d], int(right))
        assert ok == (self.active[by] and (d, right) in self.offers and self.holders[(d, right)] == by)
        if ok:
            del self.offers[(d, right)]

    @rule(d=st.integers(0, DATASETS - 1), right=st.sampled_from(list(Right)), by=st.integers(0, ORGS - 1))
    def reject(self, d: int, right: Right, by: int) -> None:
        ok = self._try(by, "rejectOffer", self.roots[d], int(right))
        assert ok == (self.active[by] and self.offers.get((d, right)) == by)
        if ok:
            del self.offers[(d, right)]

    @rule(org=st.integers(0, ORGS - 1))
    def toggle_suspension(self, org: int) -> None:
        action = Action.SUSPEND_MEMBER if self.active[org] else Action.REINSTATE_MEMBER
        self.consortium.propose(self.governor, action, bytes.fromhex(self.orgs[org].org_id[2:]))
        self.active[org] = not self.active[org]

    @invariant()
    def chain_equals_model(self) -> None:
        if not hasattr(self, "registry"):
            return
        for d, root in enumerate(self.roots):
            for right in Right:
                holder = int(self.registry.call("DataRegistry", "holderOf", root, int(right)))
                offer = int(self.registry.call("DataRegistry", "offerOf", root, int(right)))
                assert holder == self.holders[(d, right)] + 1
                assert offer == (self.offers[(d, right)] + 1 if (d, right) in self.offers else 0)


def run_machine(
    machine: type[RuleBasedStateMachine], w3: Web3, make_registry: Callable[..., Registry], examples: int, steps: int
) -> None:
    """Run a state machine on the session's anvil node, derandomised."""
    machine.w3 = w3  # type: ignore[attr-defined]
    machine.make_registry = staticmethod(make_registry)  # type: ignore[attr-defined]
    runner = machine.TestCase
    runner.settings = settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    runner().runTest()


def test_rights_follow_the_model(w3: Web3, make_registry: Callable[..., Registry]) -> None:
    run_machine(RightsMachine, w3, make_registry, examples=12, steps=25)


# ----- hardening invariants (issue 10) -----

DAY = 24 * 3600
ARBITERS = 3


class HardeningMachine(RuleBasedStateMachine):
    """Several members dispute, license, approve and supersede at random while arbiters come
    and go and time passes. The model is what the contracts must never contradict:

    1. no right is frozen once its dispute's period (the council's, one day here) has ended;
    4. never an authorising grant on core data, nor one issued under a superseded registration;
    5. an auditor's approval activates exactly the serial it names, and only while it is current;
    6. a dispute's vote counts are the votes of current arbiters given in their current term.
    """

    @initialize()
    def setup(self) -> None:
        self.w3: Web3 = HardeningMachine.w3
        self.snapshot = self.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
        self.governor = new_account()
        self.registry = HardeningMachine.make_registry([self.governor], 1)
        self.consortium = Consortium(self.registry)
        self.orgs = [admit(self.consortium, self.governor, f"DEMO:ORG{i}", connectors=1) for i in range(ORGS)]
        self.auditor = new_account()
        self._govern(Action.APPOINT_AUDITOR, self.auditor.address)
        self.arbiters = [new_account() for _ in range(ARBITERS)]
        self.seated = [True] * ARBITERS
        for arbiter in self.arbiters:
            self._govern(Action.APPOINT_ARBITER, arbiter.address)
        self._govern(Action.SET_ARBITER_THRESHOLD, 2)
        self._govern(Action.SET_DISPUTE_PERIOD, DAY)
        # Datasets of org 0: one general, one important (grants wait for the auditor).
        self.roots = [bytes([0xA0 + d]) * 32 for d in range(DATASETS)]
        for d, root in enumerate(self.roots):
            self._tx(0, "DataRegistry", "register", (root, d, bytes(32), "", []))
        #: (root, grantee org) → the registration each issued serial named.
        self.issued: dict[tuple[bytes, int], dict[int, int]] = {}
        #: (dispute id) → votes as (arbiter index, term number in the model, uphold).
        self.ballots: dict[int, dict[int, tuple[int, bool]]] = {}
        self.terms = [1] * ARBITERS
        self.disputes: list[int] = []
        self.core_roots: list[bytes] = []
        self.fresh = 0
        self.open_dispute(0, Right.HOLDING, 1)  # so that votes have something to act on from the start

    def teardown(self) -> None:
        if hasattr(self, "snapshot"):
            self.w3.provider.make_request("evm_revert", [self.snapshot])  # type: ignore[arg-type]

    # -- helpers --

    def _govern(self, action: Action, *values: Any) -> None:
        assert self.consortium.propose(self.governor, action, *values).executed

    def _tx(self, org: int, contract: str, function: str, *args: Any) -> Any:
        return self.registry.transact(self.orgs[org].connectors[0], contract, function, *args)

    def _try(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except ContractRevertError:
            return None

    def _org_id(self, org: int) -> bytes:
        return bytes.fromhex(self.orgs[org].org_id[2:])

    def _now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    # -- rules --

    @rule(d=st.integers(0, DATASETS - 1), right=st.sampled_from(list(Right)), by=st.integers(1, ORGS - 1))
    def open_dispute(self, d: int, right: Right, by: int) -> None:
        tx = self._try(lambda: self._tx(by, "DisputeCourt", "open", self.roots[d], int(right), bytes(32)))
        if tx is not None:
            dispute_id = int(tx.event("DisputeOpened").args["disputeId"])
            self.disputes.append(dispute_id)
            self.ballots[dispute_id] = {}

    @rule(back=st.integers(0, 2), arbiter=st.integers(0, ARBITERS - 1), uphold=st.booleans())
    def vote(self, back: int, arbiter: int, uphold: bool) -> None:
        """A vote on one of the latest disputes (older ones have mostly closed or lapsed)."""
        if not self.disputes:
            return
        dispute_id = self.disputes[-1 - back % len(self.disputes)]
        done = self._try(
            lambda: self.registry.transact(self.arbiters[arbiter], "DisputeCourt", "vote", dispute_id, uphold)
        )
        if done is not None:
            self.ballots[dispute_id][arbiter] = (self.terms[arbiter], uphold)

    @rule(pick=st.integers(0, 7), by=st.integers(0, ORGS - 1))
    def close(self, pick: int, by: int) -> None:
        if self.disputes:
            dispute_id = self.disputes[pick % len(self.disputes)]
            self._try(lambda: self._tx(by, "DisputeCourt", "close", dispute_id))

    @rule(arbiter=st.integers(0, ARBITERS - 1))
    def toggle_arbiter(self, arbiter: int) -> None:
        action = Action.REMOVE_ARBITER if self.seated[arbiter] else Action.APPOINT_ARBITER
        if self.seated[arbiter] and sum(self.seated) <= 2:
            return  # the threshold of two must stay reachable
        self._govern(action, self.arbiters[arbiter].address)
        self.seated[arbiter] = not self.seated[arbiter]
        if self.seated[arbiter]:
            self.terms[arbiter] += 1

    @rule(hours=st.sampled_from([1, 6, 25]))
    def wait(self, hours: int) -> None:
        self.w3.provider.make_request("evm_increaseTime", [hours * 3600])  # type: ignore[arg-type]
        self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    @rule(
        d=st.integers(0, DATASETS - 1),
        by=st.integers(0, ORGS - 1),
        to=st.integers(0, ORGS - 1),
        permissions=st.sampled_from([1, 3, 15]),
    )
    def grant(self, d: int, by: int, to: int, permissions: int) -> None:
        self._grant(self.roots[d], by, to, permissions)

    def _grant(self, root: bytes, by: int, to: int, permissions: int) -> None:
        now = self._now()
        request = (root, self._org_id(to), permissions, now, now + 365 * DAY, bytes(32))
        tx = self._try(lambda: self._tx(by, "AccessRegistry", "grant", request))
        if tx is not None:
            serial = int(tx.event("GrantIssued").args["serial"])
            registration = int(self.registry.call("DataRegistry", "operatorOf", root)[1])
            self.issued.setdefault((root, to), {})[serial] = registration

    @rule(
        d=st.integers(0, DATASETS - 1),
        to=st.integers(0, ORGS - 1),
        back=st.integers(0, 2),
        decision=st.sampled_from(["approve", "reject"]),
    )
    def decide(self, d: int, to: int, back: int, decision: str) -> None:
        root = self.roots[d]
        current = int(self.registry.call("AccessRegistry", "grantOf", root, to + 1)[1])
        serial = max(current - back, 1)
        before = self.registry.call("AccessRegistry", "grantOf", root, to + 1)
        done = self._try(
            lambda: self.registry.transact(self.auditor, "AccessRegistry", decision, root, self._org_id(to), serial)
        )
        after = self.registry.call("AccessRegistry", "grantOf", root, to + 1)
        if done is None:
            assert tuple(after) == tuple(before)  # a refused decision changes nothing
        else:
            # Invariant 5: the decision named the current serial, and only it changed.
            assert serial == current == int(after[1])
            assert GrantStatus(after[3]) == (GrantStatus.ACTIVE if decision == "approve" else GrantStatus.REJECTED)

    @rule(
        committer=st.integers(0, ORGS - 1),
        front=st.integers(0, ORGS - 1),
        licensee=st.integers(0, ORGS - 1),
        ally=st.integers(0, ORGS - 1),
    )
    def supersede_as_core(self, committer: int, front: int, licensee: int, ally: int) -> None:
        """A commitment, a front-run registration, its licence and an ally's dispute; the reveal as core wins."""
        self.fresh += 1
        root, salt = bytes([0xC0, self.fresh]) * 16, bytes([self.fresh]) * 32
        commitment = Web3.keccak(encode(["bytes32", "bytes32", "bytes32"], [root, self._org_id(committer), salt]))
        self._tx(committer, "DataRegistry", "commit", commitment)
        self._tx(front, "DataRegistry", "register", (root, 0, bytes(32), "", []))
        self._grant(root, front, licensee, 15)
        self._try(lambda: self._tx(ally, "DisputeCourt", "open", root, int(Right.HOLDING), bytes(32)))
        self._tx(committer, "DataRegistry", "reveal", (root, 2, bytes(32), "", []), salt)
        assert int(self.registry.call("DataRegistry", "dataset", root)[0]) == committer + 1
        self.core_roots.append(root)

    # -- invariants --

    @invariant()
    def no_freeze_beyond_the_dispute_period(self) -> None:
        if not hasattr(self, "registry"):
            return
        now = self._now()
        for root in self.roots + self.core_roots:
            for right in Right:
                if self.registry.call("DataRegistry", "isFrozen", root, int(right)):
                    dispute_id = int(self.registry.call("DisputeCourt", "openDisputeOf", root, int(right)))
                    opened_at = int(self.registry.call("DisputeCourt", "dispute", dispute_id)[5])
                    assert now < opened_at + DAY

    @invariant()
    def never_an_authorising_grant_on_core_data_or_after_supersession(self) -> None:
        if not hasattr(self, "registry"):
            return
        now = self._now()
        for root in self.core_roots:
            for org in range(ORGS):
                assert not self.registry.call("AccessRegistry", "isAuthorized", root, self._org_id(org), 1, now)
        for (root, grantee), serials in self.issued.items():
            grant = self.registry.call("AccessRegistry", "grantOf", root, grantee + 1)
            current = int(self.registry.call("DataRegistry", "operatorOf", root)[1])
            if serials.get(int(grant[1])) != current:
                assert not self.registry.call("AccessRegistry", "isAuthorized", root, self._org_id(grantee), 1, now)

    @invariant()
    def only_current_arbiters_in_their_term_count(self) -> None:
        if not hasattr(self, "registry"):
            return
        for dispute_id, ballots in self.ballots.items():
            record = self.registry.call("DisputeCourt", "dispute", dispute_id)
            if DisputeStatus(record[2]) != DisputeStatus.OPEN:
                continue
            live = [uphold for a, (term, uphold) in ballots.items() if self.seated[a] and term == self.terms[a]]
            assert (int(record[7]), int(record[8])) == (live.count(True), live.count(False))


def test_hardening_invariants_hold(w3: Web3, make_registry: Callable[..., Registry]) -> None:
    run_machine(HardeningMachine, w3, make_registry, examples=8, steps=20)
