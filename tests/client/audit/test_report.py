"""The HTML report of a verified bundle, read back with the standard library's HTML parser: each
section holds what the story put on chain, and the "could not prove" list says what is open."""

from __future__ import annotations

import dataclasses
from html.parser import HTMLParser

import pytest

from client.audit.bundle import Bundle
from client.audit.export import export_bundle
from client.audit.report import render
from client.audit.verify import Verified, verify_bytes
from tests.registry_api.workload import Story


class Page(HTMLParser):
    """Sections by id, table rows (cell texts) by table class, the SVG's elements, every tag seen."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.sections: dict[str, str] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self.shapes: list[tuple[str, dict[str, str]]] = []
        self.tags: list[tuple[str, dict[str, str]]] = []
        self._section: str | None = None
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._in_svg = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attributes))
        if tag == "section":
            self._section = attributes["id"]
            self.sections[self._section] = ""
        elif tag == "table":
            self._table = attributes["class"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag == "td":
            self._cell = []
        elif tag == "svg":
            self._in_svg = True
        elif self._in_svg:
            self.shapes.append((tag, attributes))

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag == "svg":
            self._in_svg = False
        elif tag == "section":
            self._section = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._section is not None:
            self.sections[self._section] += data

    def rows(self, table: str) -> list[list[str]]:
        return [row for row in self.tables[table] if row]  # the header row has th cells only


@pytest.fixture(scope="module")
def verified(scans_bundle: Bundle) -> Verified:
    return verify_bytes(scans_bundle.to_bytes())


@pytest.fixture(scope="module")
def page(verified: Verified) -> Page:
    return Page(render(verified))


def hexroot(story: Story, name: str) -> str:
    return "0x" + story.roots[name].hex()


def org_no(story: Story, name: str) -> int:
    return int(story.registry.call("Consortium", "orgNoOf", story.org_id(name)))


def test_every_section_is_there_and_nothing_is_loaded(verified: Verified, page: Page) -> None:
    assert list(page.sections) == ["identity", "holders", "lineage", "timeline", "facts", "unproven"]
    loads = [(t, a) for t, a in page.tags if t in ("script", "link", "img", "iframe", "object") or "src" in a]
    assert loads == []
    hrefs = [a["href"] for _, a in page.tags if "href" in a]
    assert all(h.startswith("#") for h in hrefs), hrefs


def test_identity_names_the_dataset_and_its_registrant(page: Page, story: Story, verified: Verified) -> None:
    identity = page.sections["identity"]
    assert hexroot(story, "turbine scans") in identity
    assert f"ALPHA (member {org_no(story, 'ALPHA')})" in identity
    assert "ipfs://alpha/turbine-scans.json" in identity
    assert "0x" + verified.head.hash.hex() in identity
    assert "nothing (see below)" in identity  # no checkpoint, no node: said, not hidden


def test_current_holders_are_the_chain_s(page: Page, story: Story) -> None:
    root = story.roots["turbine scans"]
    names = {org_no(story, n): n for n in ("ALPHA", "BETA", "GAMMA")}
    expected = {
        right: f"{names[int(story.registry.call('DataRegistry', 'holderOf', root, number))]}"
        for number, right in enumerate(("Holding", "Processing", "Operation"))
    }
    shown = {row[0]: row[1].split(" (member")[0] for row in page.rows("holders")}
    assert shown == expected
    licences = page.rows("licences")
    statuses = {(row[0].split(" (member")[0], row[1]): row[4] for row in licences}
    # Alpha licensed Beta twice (the second replaces the first) and Gamma once, then revoked Gamma's.
    assert statuses == {("BETA", "1"): "replaced by serial 2", ("BETA", "2"): "issued", ("GAMMA", "1"): "revoked"}
    # The story's dispute over the holding right froze it, and its dismissal unfroze it.
    assert {row[0]: row[2] for row in page.rows("holders")} == dict.fromkeys(expected, "no")


def test_lineage_picture_shows_parents_and_children(page: Page, story: Story) -> None:
    boxes = {a["data-root"] for t, a in page.shapes if t == "g" and "data-root" in a}
    scans = hexroot(story, "turbine scans")
    children = {hexroot(story, n) for n in ("line sensor 0", "blade wear model", "gear test bench")}
    assert {scans, *children, hexroot(story, "weld parameters")} <= boxes
    assert hexroot(story, "maintenance plan") not in boxes  # beyond depth 1
    edges = {(a["data-parent"], a["data-child"]): a for t, a in page.shapes if t == "line"}
    assert {(scans, c) for c in children} <= set(edges)
    # Beta's reveal superseded Alpha's registration of the gear test bench: the arrow from the scans is dashed.
    assert "stroke-dasharray" in edges[(scans, hexroot(story, "gear test bench"))]
    assert "stroke-dasharray" not in edges[(scans, hexroot(story, "blade wear model"))]
    assert (hexroot(story, "weld parameters"), hexroot(story, "gear test bench")) in edges


def test_timeline_and_fact_table_follow_the_chain(page: Page, verified: Verified) -> None:
    timeline = page.rows("timeline")
    blocks = [int(row[1]) for row in timeline]
    assert blocks == sorted(blocks)
    events = [row[2] for row in timeline]
    for event in ("DataRegistry.DatasetRegistered", "AccessRegistry.GrantIssued", "ExchangeLedger.ReceiptRecorded"):
        assert event in events
    assert "DisputeCourt.VoteCast" in events and "Consortium.MemberAdmitted" not in events
    facts = page.rows("facts")
    assert len(facts) == len(verified.facts)
    for row, fact in zip(facts, verified.facts, strict=True):
        assert row[2] == f"{fact.contract}.{fact.event}"
        assert row[5] == f"block {fact.block}, transaction {fact.tx}, log {fact.index}"
        assert row[4].startswith("proved: receipt")
    receipt = next(row for row in facts if row[2] == "ExchangeLedger.ReceiptRecorded")
    assert "terms disclosed and opened" in receipt[4]
    assert "BETA (member" in receipt[3]  # organisations by name, not number


def test_could_not_prove_lists_the_limits(page: Page, verified: Verified) -> None:
    unproven = page.sections["unproven"]
    assert "terms" not in unproven  # every opening was disclosed
    assert f"anything after block {verified.bundle.last_block}" in unproven
    assert f"the hash of the last block, {verified.bundle.last_block}" in unproven
    assert "metadata document" in unproven


def test_undisclosed_terms_and_an_authenticated_head(story: Story) -> None:
    bundle = export_bundle(story.registry, story.roots["turbine scans"], 1, openings=story.openings[:-1])
    verified = verify_bytes(bundle.to_bytes(), authenticate=lambda *_: "a node the auditor trusts")
    page = Page(render(verified))
    ((fact, commitment),) = verified.undisclosed
    unproven = page.sections["unproven"]
    assert f"the terms of {fact} (commitment {commitment})" in unproven
    assert "not disclosed" in unproven and "hash of the last block" not in unproven
    receipt = next(row for row in page.rows("facts") if row[2] == "ExchangeLedger.ReceiptRecorded")
    assert "terms not disclosed" in receipt[4]
    assert "a node the auditor trusts" in page.sections["identity"]


def test_values_from_the_bundle_are_escaped(verified: Verified) -> None:
    """A member name is whatever its admission said: markup in it is shown, never run."""
    hostile = "<script>alert(1)</script>"
    facts = [
        dataclasses.replace(f, args={**f.args, "name": hostile}) if f.event == "MemberAdmitted" else f
        for f in verified.facts
    ]
    text = render(dataclasses.replace(verified, facts=facts))
    assert hostile not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert not [t for t, _ in Page(text).tags if t == "script"]
