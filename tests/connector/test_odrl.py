"""ODRL offers and agreements and the grant fields they map to (client/connector/odrl.py)."""

from __future__ import annotations

import pytest

from client.chain.enums import Permission
from client.connector.odrl import (
    AgreementTerms,
    OfferTerms,
    PolicyError,
    agreement_of_grant,
    agreement_policy,
    licence_terms,
    offer_policy,
    parse_duration,
    read_agreement,
    read_offer,
)
from client.connector.schemas import Schemas
from client.terms import Terms

ROOT = bytes.fromhex("ab" * 32)
ALPHA, BETA = "0x" + "11" * 32, "0x" + "22" * 32
TERMS = AgreementTerms(
    "urn:uuid:5a5a5a5a-0000-4000-8000-000000000001",
    ROOT,
    ALPHA,
    BETA,
    Permission.READ | Permission.DERIVE,
    "quality analysis",
    1_800_000_000,
    1_802_592_000,
)


def test_offer_round_trip_and_stable_id(schemas: Schemas) -> None:
    terms = OfferTerms(Permission.READ | Permission.RESHARE, "benchmarking", 7 * 86400)
    policy = offer_policy(ROOT, terms)
    schemas.validate(
        {
            "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
            "@type": "Dataset",
            "@id": "x",
            "hasPolicy": [policy],
            "distribution": [{"format": "HttpData-PULL", "accessService": "x"}],
        },
        "Dataset",
    )
    assert read_offer(policy) == terms
    assert offer_policy(ROOT, terms)["@id"] == policy["@id"]
    assert offer_policy(ROOT, OfferTerms(Permission.READ, "benchmarking", 7 * 86400))["@id"] != policy["@id"]
    assert [r["action"] for r in policy["permission"]] == ["odrl:read", "odrl:distribute"]


def test_agreement_maps_to_the_grant_and_back(schemas: Schemas) -> None:
    agreement = agreement_policy(TERMS)
    schemas.validate(
        {
            "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
            "@type": "ContractAgreementMessage",
            "providerPid": "a",
            "consumerPid": "b",
            "agreement": agreement,
        }
    )
    assert read_agreement(agreement) == TERMS
    assert agreement["timestamp"] == "2027-01-15T08:00:00Z"
    terms = licence_terms(agreement)
    assert (terms.fields["purpose"], terms.fields["note"]) == ("quality analysis", TERMS.agreement_id)
    back = agreement_of_grant(ROOT, ALPHA, BETA, TERMS.permissions, TERMS.valid_from, TERMS.valid_until, terms)
    assert back == agreement


def test_a_grant_that_is_not_the_agreement_does_not_map_back() -> None:
    terms = licence_terms(agreement_policy(TERMS))
    with pytest.raises(PolicyError, match="do not rebuild"):
        agreement_of_grant(ROOT, ALPHA, BETA, TERMS.permissions, TERMS.valid_from, TERMS.valid_until + 1, terms)
    other = Terms("licence", {**terms.fields, "purpose": "resale"})
    with pytest.raises(PolicyError, match="do not rebuild"):
        agreement_of_grant(ROOT, ALPHA, BETA, TERMS.permissions, TERMS.valid_from, TERMS.valid_until, other)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"permission": []}, "no permission rules"),
        ({"permission": [{"action": "odrl:print"}]}, "'odrl:print' is not one of"),
        ({"prohibition": [{"action": "use"}]}, "prohibitions"),
        (
            {
                "permission": [
                    {
                        "action": "use",
                        "constraint": [{"leftOperand": "spatial", "operator": "eq", "rightOperand": "EU"}],
                    }
                ]
            },
            "spatial eq",
        ),
        ({"permission": [{"action": "use", "constraint": []}]}, "no elapsedTime"),
        ({"permission": [{"action": "use", "constraint": [{"and": []}]}]}, "not an atomic constraint"),
    ],
)
def test_offers_that_cannot_be_a_licence(change: dict[str, object], words: str) -> None:
    policy = {**offer_policy(ROOT, OfferTerms(Permission.READ, "x", 86400)), **change}
    with pytest.raises(PolicyError, match=words):
        read_offer(policy)


def test_agreement_refusals() -> None:
    agreement = agreement_policy(TERMS)
    with pytest.raises(PolicyError, match="timestamp"):
        read_agreement({**agreement, "timestamp": "2027-01-15T08:00:01Z"})
    with pytest.raises(PolicyError, match="'not-a-dataset' is not urn:idsreg:dataset:"):
        read_agreement({**agreement, "target": "not-a-dataset"})
    with pytest.raises(PolicyError, match="party"):
        read_agreement({**agreement, "assignee": "http://example.com/Consumer"})


@pytest.mark.parametrize(("text", "seconds"), [("P30D", 30 * 86400), ("PT90S", 90), ("P1DT2H3M4S", 93784)])
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["P", "PT", "30D", "P0D", "P1Y", "-P1D"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(PolicyError):
        parse_duration(text)
