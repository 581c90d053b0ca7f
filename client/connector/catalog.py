"""The provider's catalog: the datasets its organisation may offer, each with its ODRL offer.

An organisation may offer a dataset when it holds the dataset's operation right (it can then
issue the licence an agreement is), or an active reshare licence on it. Core data is never
offered. Everything is read from the chain at request time: a right moved or a licence revoked
changes the next catalog.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from hexbytes import HexBytes

from ..chain.enums import Grade, Permission, Right
from ..chain.registry import Registry
from .odrl import OfferTerms, dataset_iri, offer_policy, org_iri

CONTEXT = ["https://w3id.org/dspace/2025/1/context.jsonld"]
FORMAT = "HttpData-PULL"


@dataclass(frozen=True)
class Offerable:
    """A dataset in the catalog, and why the organisation may offer it."""

    root: bytes
    grade: Grade
    basis: str  # "operation" (holds the operation right) or "reshare" (holds a reshare licence)


class Catalog:
    """What the organisation `org_id` offers, under `terms`, through the connector at `base_url`."""

    def __init__(self, registry: Registry, org_id: str, base_url: str, terms: OfferTerms) -> None:
        self.registry = registry
        self.org_id = org_id.lower()
        self.base_url = base_url.rstrip("/")
        self.terms = terms

    @property
    def service_id(self) -> str:
        return f"{self.base_url}#dsp"

    def _org_no(self) -> int:
        return int(self.registry.call("Consortium", "orgNoOf", self.org_id))

    def _now(self) -> int:
        return max(int(time.time()), int(self.registry.w3.eth.get_block("latest")["timestamp"]))

    def offerable(self) -> list[Offerable]:
        """Every dataset the organisation may offer now, in registration order."""
        org_no = self._org_no()
        if org_no == 0:
            return []
        found: dict[bytes, Offerable] = {}
        for args, _log in self.registry.events("DataRegistry", "DatasetRegistered"):
            root = bytes(HexBytes(args["root"]))
            if root not in found:
                entry = self.entry(root, org_no)
                if entry is not None:
                    found[root] = entry
        topic = "0x" + org_no.to_bytes(32, "big").hex()
        for args, _log in self.registry.events("AccessRegistry", "GrantIssued", None, topic):  # type: ignore[arg-type]
            root = bytes(HexBytes(args["root"]))
            if root not in found:
                entry = self.entry(root, org_no)
                if entry is not None:
                    found[root] = entry
        return list(found.values())

    def entry(self, root: bytes, org_no: int | None = None) -> Offerable | None:
        """`root` as the catalog offers it, or None if the organisation may not offer it."""
        number = self._org_no() if org_no is None else org_no
        if number == 0 or not self.registry.call("DataRegistry", "isRegistered", root):
            return None
        operator, grade, _registration, _disputed = self.registry.call("DataRegistry", "licensingOf", root)
        if Grade(grade) == Grade.CORE:
            return None
        if int(self.registry.call("DataRegistry", "holderOf", root, int(Right.OPERATION))) == number:
            return Offerable(root, Grade(grade), "operation")
        reshare = self.registry.call(
            "AccessRegistry", "isAuthorized", root, self.org_id, int(Permission.RESHARE), self._now()
        )
        return Offerable(root, Grade(grade), "reshare") if reshare and int(operator) != number else None

    def dataset(self, entry: Offerable, *, root_document: bool = False) -> dict[str, Any]:
        """The DCAT dataset with its offer (and the @context when it is the answer itself)."""
        body: dict[str, Any] = {
            "@id": dataset_iri(entry.root),
            "@type": "Dataset",
            "hasPolicy": [offer_policy(entry.root, self.terms)],
            "distribution": [{"@type": "Distribution", "format": FORMAT, "accessService": self.service_id}],
        }
        return {"@context": CONTEXT, **body} if root_document else body

    def catalog(self, entries: list[Offerable]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "@context": CONTEXT,
            "@id": f"{self.base_url}#catalog",
            "@type": "Catalog",
            "participantId": org_iri(self.org_id),
            "service": [{"@id": self.service_id, "@type": "DataService", "endpointURL": self.base_url}],
        }
        if entries:  # the schema wants at least one dataset when the key is present
            body["dataset"] = [self.dataset(e) for e in entries]
        return body

    def offer_for(self, root: bytes) -> dict[str, Any]:
        """The offer (with its target, as negotiation messages carry it) the catalog makes for `root`."""
        return offer_policy(root, self.terms, with_target=True)
