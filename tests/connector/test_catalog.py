"""MET:01 and CAT:01-01..03 of the DSP compatibility kit, against alpha's connector over HTTP."""

from __future__ import annotations

import httpx

from client.chain.enums import Right
from client.connector.odrl import dataset_iri, read_offer
from tests.connector.conftest import TERMS, Pair, dataset_url
from tests.contracts.factories import CORE, GENERAL, IMPORTANT, h


def test_met_01_version_metadata(pair: Pair) -> None:
    """MET:01-01: the unauthenticated version endpoint names 2025-1 with its path and binding."""
    response = httpx.get(f"{pair.alpha.url}/.well-known/dspace-version")
    assert response.status_code == 200
    body = response.json()
    pair.schemas.validate(body, "VersionResponse")
    [entry] = body["protocolVersions"]
    assert (entry["version"], entry["path"], entry["binding"]) == ("2025-1", "/", "HTTPS")
    assert entry["auth"]["protocol"] == "IDSREG-DSP1"


def test_cat_01_01_catalog_request(pair: Pair) -> None:
    """CAT:01-01: the catalog lists what alpha may offer (general and important, never core), each with
    the offer the connector grants; pages follow Link headers (page size 2 here)."""
    pair.scene.register(pair.scene.alpha, h("more data"))
    first, datasets = pair.beta.consumer.catalog(pair.alpha.url)
    assert first["participantId"] == f"urn:idsreg:org:{pair.alpha.org_id.lower()}"
    ids = [d["@id"] for d in datasets]
    assert ids == [dataset_iri(GENERAL), dataset_iri(IMPORTANT), dataset_iri(h("more data"))]
    assert dataset_iri(CORE) not in ids
    assert all(read_offer(d["hasPolicy"][0]) == TERMS for d in datasets)
    assert len(first["dataset"]) == 2  # the first page only


def test_cat_01_01_pages_link_both_ways(pair: Pair) -> None:
    pair.scene.register(pair.scene.alpha, h("more data"))
    page, next_url = pair.beta.consumer.catalog_page(pair.alpha.url)
    assert next_url is not None and len(page["dataset"]) == 2
    response = pair.beta.consumer.peer.post(
        pair.alpha.url, next_url, {"@context": page["@context"], "@type": "CatalogRequestMessage"}
    )
    assert 'rel="previous"' in response.headers["link"] and 'rel="next"' not in response.headers["link"]
    assert [d["@id"] for d in response.json()["dataset"]] == [dataset_iri(h("more data"))]


def test_cat_01_01_catalog_follows_the_chain(pair: Pair) -> None:
    """A dataset whose operation right alpha gave away leaves its catalog; beta's catalog gains it."""
    pair.scene.move_right(GENERAL, Right.OPERATION, pair.scene.alpha, pair.scene.beta)
    _, alpha_lists = pair.beta.consumer.catalog(pair.alpha.url)
    assert [d["@id"] for d in alpha_lists] == [dataset_iri(IMPORTANT)]
    _, beta_lists = pair.alpha.consumer.catalog(pair.beta.url)
    assert [d["@id"] for d in beta_lists] == [dataset_iri(GENERAL)]


def test_cat_01_01_reshare_licence_lists_the_dataset(pair: Pair) -> None:
    """An organisation holding a reshare licence offers the dataset too."""
    from tests.contracts.factories import READ, RESHARE

    pair.scene.grant(pair.scene.alpha, GENERAL, pair.scene.beta, READ | RESHARE)
    _, datasets = pair.alpha.consumer.catalog(pair.beta.url)
    assert [d["@id"] for d in datasets] == [dataset_iri(GENERAL)]


def test_cat_01_01_unsupported_filter_is_400(pair: Pair) -> None:
    response = pair.post_as(
        pair.beta,
        f"{pair.alpha.url}/catalog/request",
        {
            "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
            "@type": "CatalogRequestMessage",
            "filter": [{"title": "x"}],
        },
    )
    assert response.status_code == 400
    pair.schemas.validate(response.json(), "CatalogError")
    assert "filter" in response.json()["reason"][0]


def test_cat_01_02_dataset_request(pair: Pair) -> None:
    """CAT:01-02: one dataset by id, with its offer."""
    body = pair.beta.consumer.dataset(pair.alpha.url, dataset_iri(GENERAL))
    assert body["@id"] == dataset_iri(GENERAL)
    assert read_offer(body["hasPolicy"][0]) == TERMS


def test_cat_01_03_dataset_not_found(pair: Pair) -> None:
    """CAT:01-03: an unknown dataset (and core data, which is never offered) is a 404 CatalogError."""
    for root in (h("nobody registered this"), CORE):
        with httpx.Client() as client:
            response = client.get(dataset_url(pair, root), headers={"Authorization": pair.beta.token(pair.alpha.url)})
        assert response.status_code == 404
        body = response.json()
        pair.schemas.validate(body, "CatalogError")
        assert body["@type"] == "CatalogError"
