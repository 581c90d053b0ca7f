"""Labelling organisations reads the admission logs once per connection, not once per label."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from web3 import Web3
from web3.types import RPCEndpoint, RPCResponse

from client.chain.registry import OrgRef, Registry
from client.consortium import Consortium
from client.errors import ContractRevertError
from tests.conftest import admit, new_account


class CountingProvider(Web3.HTTPProvider):
    """An HTTP provider that counts the JSON-RPC methods it is asked for."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.calls: Counter[str] = Counter()

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        self.calls[str(method)] += 1
        return super().make_request(method, params)


def counted(registry: Registry, anvil: str) -> tuple[Registry, CountingProvider]:
    """The same deployment through a provider that counts requests."""
    provider = CountingProvider(anvil)
    return Registry(Web3(provider), registry.manifest), provider


def test_many_labels_cost_one_log_query(make_registry: Callable[..., Registry], anvil: str) -> None:
    governor = new_account()
    registry = make_registry([governor])
    consortium = Consortium(registry)
    orgs = [admit(consortium, governor, f"DEMO:Org{i}") for i in range(3)]
    watched, provider = counted(registry, anvil)

    labels = [watched.org_label(n) for _ in range(20) for n in (1, 2, 3)]
    names = [watched.org_name(org.org_id) for org in orgs for _ in range(20)]

    assert labels[:3] == ["Org0 (member 1)", "Org1 (member 2)", "Org2 (member 3)"]
    assert set(labels) == set(labels[:3])
    assert names == [f"Org{i}" for i in range(3) for _ in range(20)]
    assert watched.org_ref(2) == OrgRef(2, orgs[1].org_id, "Org1")
    assert provider.calls["eth_getLogs"] == 1, provider.calls
    assert provider.calls["eth_call"] == 0, provider.calls  # the member number comes from the event too


def test_member_admitted_after_the_cache_filled(make_registry: Callable[..., Registry], anvil: str) -> None:
    governor = new_account()
    registry = make_registry([governor])
    consortium = Consortium(registry)
    first = admit(consortium, governor, "DEMO:Alpha-Works")
    watched, provider = counted(registry, anvil)
    assert watched.org_label(1) == "Alpha-Works (member 1)"
    assert watched.org_label(2) == "member 2"  # not admitted yet

    second = admit(consortium, governor, "DEMO:Beta-Mills")

    assert watched.org_label(2) == "Beta-Mills (member 2)"
    assert watched.org_name(second.org_id) == "Beta-Mills"
    assert watched.org_name(first.org_id.upper().replace("0X", "0x")) == "Alpha-Works"
    assert provider.calls["eth_getLogs"] == 2, provider.calls  # one per miss, each reading only newer blocks
    before = provider.calls["eth_getLogs"]
    for _ in range(10):
        assert watched.org_label(1) == "Alpha-Works (member 1)"
        assert watched.org_label(2) == "Beta-Mills (member 2)"
    assert provider.calls["eth_getLogs"] == before


def test_refusals_name_members_without_rescanning(make_registry: Callable[..., Registry], anvil: str) -> None:
    governor = new_account()
    registry = make_registry([governor])
    consortium = Consortium(registry)
    alpha = admit(consortium, governor, "DEMO:Alpha-Works")
    beta = admit(consortium, governor, "DEMO:Beta-Mills")
    watched, provider = counted(registry, anvil)
    messages = []
    for _ in range(5):
        try:
            Consortium(watched).add_connector(beta.admin, alpha.admin.address)
        except ContractRevertError as exc:
            messages.append(str(exc))
    assert len(messages) == 5
    assert all("Alpha-Works" in m for m in messages), messages
    assert provider.calls["eth_getLogs"] <= 1, provider.calls
