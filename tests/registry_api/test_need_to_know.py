"""Licences and deliveries on a need-to-know basis: each caller sees only the grant serials and
receipts its organisation is party to, and "not yours" is answered exactly like "not there"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth_account.signers.local import LocalAccount

from client.chain.enums import Grade, Permission, Right
from client.datasets import Datasets, Registration
from client.grants import Grants
from tests.conftest import chain_time
from tests.registry_api.conftest import Served
from tests.registry_api.workload import h, hx

ZERO = "0x" + "00" * 32


def answer(api: Served, path: str, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    response = api.http.get(path, headers=headers)
    return response.status_code, response.json()


def test_not_yours_is_answered_like_not_there(api: Served) -> None:
    s = api.story
    gamma = api.sign_in(s.key("GAMMA"))  # party to neither the grants to BETA nor the delivery to BETA
    scans, furnace = hx(s.roots["turbine scans"]), hx(s.roots["furnace recipes"])
    not_yours = answer(api, f"/v1/grants/{scans}/DEMO:BETA", gamma)
    not_there = answer(api, f"/v1/grants/{furnace}/DEMO:BETA", gamma)
    assert not_yours[0] == not_there[0] == 404
    assert not_yours[1] == {**not_there[1], "error": str(not_there[1]["error"]).replace(furnace, scans)}, (
        not_yours,
        not_there,
    )
    assert s.receipt_file is not None
    digest = "0x" + s.receipt_file.digest.hex()
    not_yours = answer(api, f"/v1/receipts/{digest}", gamma)
    not_there = answer(api, f"/v1/receipts/{ZERO}", gamma)
    assert not_yours[0] == not_there[0] == 404
    assert not_yours[1] == {**not_there[1], "error": str(not_there[1]["error"]).replace(ZERO, digest)}, (
        not_yours,
        not_there,
    )


def test_each_party_sees_only_its_own_serials(fresh_api: Callable[..., Any]) -> None:
    """A former operator of a dataset sees the serials it issued, not its successor's terms."""
    with fresh_api("DEMO:A", "DEMO:B", "DEMO:C", "DEMO:D") as fresh:
        alpha, beta, gamma, delta = fresh.orgs
        datasets, grants = Datasets(fresh.registry), Grants(fresh.registry)
        root = h("shared dataset")
        datasets.register(alpha.connectors[0], Registration(root, Grade.GENERAL, h("metadata"), "", ()))
        now = chain_time(fresh.registry.w3)  # licence windows are in the chain's time
        grants.grant(alpha.connectors[0], root, "DEMO:B", Permission.READ, now - 60, now + 3600, h("alpha's terms"))
        datasets.offer(alpha.connectors[0], root, Right.OPERATION, "DEMO:C")
        datasets.accept(gamma.connectors[0], root, Right.OPERATION)
        grants.grant(
            gamma.connectors[0],
            root,
            "DEMO:B",
            Permission.READ | Permission.COMMERCIAL,
            now - 60,
            now + 86400 * 365,
            h("gamma's terms"),
        )
        fresh.indexer.scan_once()
        path = f"/v1/grants/{hx(root)}/DEMO:B"

        def serials(who: LocalAccount) -> list[tuple[int, str]]:
            response = fresh.http.get(path, headers=fresh.served.sign_in(who))
            assert response.status_code == 200, response.text
            return [(g["serial"], g["grantor"]["name"]) for g in response.json()]

        assert serials(beta.connectors[0]) == [(2, "C"), (1, "A")]  # the grantee: both
        assert serials(alpha.connectors[0]) == [(1, "A")]  # the former operator: its own only
        assert serials(gamma.connectors[0]) == [(2, "C")]  # the new operator: its own only
        listed = fresh.http.get(
            "/v1/grants", headers=fresh.served.sign_in(alpha.connectors[0]), params={"dataset": hx(root)}
        )
        assert [g["serial"] for g in listed.json()["data"]] == [1]
        refused = fresh.http.get(path, headers=fresh.served.sign_in(delta.connectors[0]))
        assert refused.status_code == 404 and "no grant" in refused.json()["error"], refused.text
