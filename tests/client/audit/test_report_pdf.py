"""The PDF report of a verified bundle, read back with pypdf: the same sections and facts as the
HTML report, the lineage drawn, what could not be proven listed, the same bytes every time."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from client.audit.bundle import Bundle
from client.audit.export import export_bundle
from client.audit.lineage_svg import short
from client.audit.report import FACTS_HEAD, Page
from client.audit.report_pdf import markup, render_pdf
from client.audit.verify import Verified, verify_bytes
from tests.registry_api.workload import Story


def text_of(pdf: bytes) -> str:
    """The PDF's text with every run of white space removed (table cells wrap anywhere)."""
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def verified(scans_bundle: Bundle) -> Verified:
    return verify_bytes(scans_bundle.to_bytes(), authenticate=lambda *_: "a node the test trusts")


@pytest.fixture(scope="module")
def pdf(verified: Verified) -> bytes:
    return render_pdf(verified)


def test_it_is_a_pdf_with_the_reports_sections(pdf: bytes, verified: Verified, story: Story) -> None:
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    root = "0x" + story.roots["turbine scans"].hex()
    assert reader.metadata is not None and reader.metadata.title == f"Audit report: dataset {root}"
    text = text_of(pdf)
    for heading in (
        "Identity",
        "Current holders",
        "Licences",
        "Lineage",
        "Exchange timeline",
        f"Every fact ({len(verified.facts)})",
        "What the bundle could not prove",
        *FACTS_HEAD,
    ):
        assert squeezed(heading) in text, heading
    assert root in text  # the identity's content root, whole
    assert squeezed("a node the test trusts") in text  # how the last block was authenticated


def test_every_fact_is_there_with_its_status_and_evidence(pdf: bytes, verified: Verified) -> None:
    text = text_of(pdf)
    for fact in verified.facts:
        assert squeezed(f"{fact.contract}.{fact.event}") in text, fact
        assert squeezed(f"block {fact.block}, transaction {fact.tx}, log {fact.index}") in text, fact
    assert text.count("proved:receipt") == len(verified.facts)


def test_the_lineage_is_drawn_with_every_dataset(pdf: bytes, verified: Verified) -> None:
    page = Page(verified)
    text = text_of(pdf)
    drawn = page.lineage()
    assert len(drawn.levels) >= 4 and drawn.edges  # the dataset, its three children, a superseded parent
    for root in drawn.levels:
        assert squeezed(short(root)) in text, root
    reader = PdfReader(io.BytesIO(pdf))
    # The picture is vector graphics: its boxes are rectangles or paths in some page's content.
    contents = b"".join(p.get_contents().get_data() for p in reader.pages if p.get_contents() is not None)
    assert contents.count(b" re") + contents.count(b" c\n") >= len(drawn.levels)


def test_what_could_not_be_proven_is_listed(story: Story) -> None:
    """Without the delivery's opening, the PDF says the receipt's terms were not disclosed."""
    bundle = export_bundle(story.registry, story.roots["turbine scans"], 1, openings=story.openings[:-1])
    verified = verify_bytes(bundle.to_bytes())
    text = text_of(render_pdf(verified))
    unproven = text.split(squeezed("What the bundle could not prove"), 1)[1]
    assert "ReceiptRecorded" in unproven and "notdisclosed" in unproven
    assert squeezed("neither a cosigned checkpoint nor a node vouched for it") in unproven
    assert squeezed("terms not disclosed") in text  # in the facts table too


def test_the_same_bundle_gives_the_same_bytes(pdf: bytes, verified: Verified) -> None:
    assert render_pdf(verified) == pdf


def test_markup_keeps_escaped_text_escaped() -> None:
    assert markup("&lt;script&gt; <code>0x01</code> it&#x27;s") == (
        '&lt;script&gt; <font face="Courier">0x01</font> it\'s'
    )
