"""The PROV-JSON export of a verified bundle, read back with the `prov` library (the W3C PROV
data model's reference implementation for Python): the records a reader of the story expects."""

from __future__ import annotations

import json
from typing import Any

from prov.model import (
    ProvActivity,
    ProvAgent,
    ProvAssociation,
    ProvAttribution,
    ProvDerivation,
    ProvDocument,
    ProvEntity,
    ProvGeneration,
    ProvUsage,
)

from client.audit.bundle import Bundle
from client.audit.export import export_bundle
from client.audit.prov import NAMESPACE, to_prov
from client.audit.verify import verify_bytes
from tests.registry_api.workload import Story


def read(document: dict[str, Any]) -> ProvDocument:
    """The export as the `prov` library reads PROV-JSON (it refuses what is not)."""
    return ProvDocument.deserialize(content=json.dumps(document), format="json")


def uri(kind: str, value: object) -> str:
    return f"{NAMESPACE}{kind}/{value}"


def org(story: Story, name: str) -> str:
    return uri("org", int(story.registry.call("Consortium", "orgNoOf", story.org_id(name))))


def dataset(story: Story, name: str) -> str:
    return uri("dataset", "0x" + story.roots[name].hex())


def records(document: ProvDocument, kind: type) -> list[Any]:
    return [r for r in document.get_records(kind)]


def pairs(document: ProvDocument, kind: type, first: str, second: str) -> set[tuple[str, str]]:
    found = set()
    for record in document.get_records(kind):
        attributes = {str(k): v for k, v in record.formal_attributes}
        found.add((str(attributes[first].uri), str(attributes[second].uri)))
    return found


def test_the_story_as_prov(scans_bundle: Bundle, story: Story) -> None:
    document = read(to_prov(verify_bytes(scans_bundle.to_bytes())))
    entities = {str(r.identifier.uri): r for r in records(document, ProvEntity)}
    agents = {str(r.identifier.uri): r for r in records(document, ProvAgent)}
    activities = {str(r.identifier.uri): r for r in records(document, ProvActivity)}
    scans, alpha, beta = dataset(story, "turbine scans"), org(story, "ALPHA"), org(story, "BETA")

    # Datasets are entities: the audited one, its children, and the parents they name.
    for name in ("turbine scans", "line sensor 0", "blade wear model", "gear test bench", "weld parameters"):
        assert dataset(story, name) in entities, name
    assert dataset(story, "maintenance plan") not in entities  # two generations down: outside depth 1
    assert entities[scans].get_attribute("prov:type") == {document.valid_qualified_name("idsreg:Dataset")}
    # Organisations are agents, named by their admission.
    assert {str(a.get_attribute("prov:label").pop()) for a in agents.values()} >= {"ALPHA", "BETA"}
    assert agents[alpha].get_attribute("prov:type") == {document.valid_qualified_name("prov:Organization")}

    # Registrations are activities, each generating its dataset, carried out by and attributed to the registrant.
    registrations = {k for k in activities if k.startswith(uri("registration", ""))}
    generated = pairs(document, ProvGeneration, "prov:entity", "prov:activity")
    associated = pairs(document, ProvAssociation, "prov:activity", "prov:agent")
    attributed = pairs(document, ProvAttribution, "prov:entity", "prov:agent")
    scans_registration = next(a for e, a in generated if e == scans and a in registrations)
    assert (scans_registration, alpha) in associated and (scans, alpha) in attributed
    evidence = activities[scans_registration]
    assert evidence.get_attribute("idsreg:event") == {"DatasetRegistered"}
    fact = next(f for f in scans_bundle.facts if f.event == "DatasetRegistered" and f.about == "dataset")
    assert evidence.get_attribute("idsreg:block") == {fact.block}
    assert evidence.get_attribute("idsreg:logIndex") == {fact.index}
    # The superseded registration of the gear test bench: first Alpha's, then Beta's.
    gear = dataset(story, "gear test bench")
    assert {(gear, alpha), (gear, beta)} <= attributed

    # Lineage: each child derived from the audited dataset, the wear model from both its parents.
    derived = pairs(document, ProvDerivation, "prov:generatedEntity", "prov:usedEntity")
    for child in ("line sensor 0", "blade wear model", "gear test bench"):
        assert (dataset(story, child), scans) in derived, child
    assert (dataset(story, "blade wear model"), dataset(story, "weld parameters")) in derived
    assert not any(used == dataset(story, "blade wear model") for _, used in derived)  # its child is out of depth

    # The delivery: an activity that used the dataset, by the provider and the consumer in their roles.
    deliveries = [k for k in activities if k.startswith(uri("delivery", ""))]
    assert len(deliveries) == 1
    delivery = deliveries[0]
    assert (delivery, scans) in pairs(document, ProvUsage, "prov:activity", "prov:entity")
    roles = set()
    for record in document.get_records(ProvAssociation):
        attributes = {str(k): v for k, v in record.attributes}
        if str(attributes["prov:activity"].uri) == delivery:
            roles.add((str(attributes["prov:agent"].uri), str(attributes["prov:role"].localpart)))
    assert roles == {(alpha, "provider"), (beta, "consumer")}
    assert activities[delivery].get_attribute("idsreg:termsDisclosed") == {True}
    copy = next(e for e, a in generated if a == delivery)
    assert (copy, scans) in derived and (copy, beta) in attributed
    # The library writes it out again as PROV-N and as PROV-JSON it reads back unchanged.
    assert "wasDerivedFrom(" in document.get_provn()
    assert read(json.loads(document.serialize(format="json"))) == document


def test_undisclosed_delivery_terms_are_said_so(story: Story) -> None:
    """Without the receipt's opening (the last of the story's), the delivery is still exported,
    marked as having terms the bundle does not disclose."""
    bundle = export_bundle(story.registry, story.roots["turbine scans"], 1, openings=story.openings[:-1])
    verified = verify_bytes(bundle.to_bytes())
    assert [f.event for f, _ in verified.undisclosed] == ["ReceiptRecorded"]
    document = read(to_prov(verified))
    (delivery,) = [r for r in records(document, ProvActivity) if "delivery/" in str(r.identifier.uri)]
    assert delivery.get_attribute("idsreg:termsDisclosed") == {False}
    assert delivery.get_attribute("idsreg:termsCommitment") == {verified.undisclosed[0][1]}
