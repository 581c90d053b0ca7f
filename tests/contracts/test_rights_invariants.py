"""Stateful property test: random sequences of right offers, acceptances, cancellations,
rejections and member suspensions keep the DataRegistry equal to a plain Python model.

Invariants checked after every step: each right's holder and open offer equal the model's;
a holder is always an organisation that was admitted; no right moves without the offeree's
acceptance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from web3 import Web3

from client.chain.enums import Action, Right
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

    @rule(d=st.integers(0, DATASETS - 1), right=st.sampled_from(list(Right)), by=st.integers(0, ORGS - 1), to=st.integers(0, ORGS - 1))
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


@pytest.mark.slow
def test_rights_follow_the_model(w3: Web3, make_registry: Callable[..., Registry]) -> None:
    RightsMachine.w3 = w3  # type: ignore[attr-defined]
    RightsMachine.make_registry = staticmethod(make_registry)  # type: ignore[attr-defined]
    runner = RightsMachine.TestCase
    runner.settings = settings(
        max_examples=12, stateful_step_count=25, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )  # fmt: skip
    runner().runTest()
