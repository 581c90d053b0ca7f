"""The audit report as a PDF: the same sections as the HTML page (client/audit/report.py), laid
out with ReportLab's page layout engine, the lineage drawn with its vector graphics.

Every cell is the HTML report's own (escaped) text, with its few inline tags turned into
ReportLab's paragraph markup, so that the two reports cannot say different things. The PDF
embeds no font (the standard Helvetica and Courier) and is byte-for-byte the same for the same
bundle (ReportLab's invariant mode: no creation date, no random document id).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from html import escape

from reportlab.graphics.shapes import Drawing, Line, Polygon, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .lineage_svg import BOX_HEIGHT, BOX_WIDTH, layout, registrant_label, short
from .report import FACTS_HEAD, FACTS_INTRO, LICENCES_HEAD, RIGHTS_HEAD, TIMELINE_HEAD, Page
from .verify import Verified

PAGE = landscape(A4)
MARGIN = 12 * mm
WIDTH = PAGE[0] - 2 * MARGIN

#: The HTML report's inline tags and what each becomes in ReportLab's paragraph markup.
_TAGS = {
    "<code>": '<font face="Courier">',
    "</code>": "</font>",
    '<span class="proved">': '<font color="#166534">',
    '<span class="open">': '<font color="#b45309">',
    "</span>": "</font>",
    "<strong>": "<b>",
    "</strong>": "</b>",
}
_TAG = re.compile("|".join(re.escape(t) for t in _TAGS))

_styles = getSampleStyleSheet()
TITLE = ParagraphStyle("title", parent=_styles["Title"], fontSize=16, alignment=0, spaceAfter=4)
HEADING = ParagraphStyle("heading", parent=_styles["Heading2"], fontSize=12, spaceBefore=10, spaceAfter=4)
SUBHEADING = ParagraphStyle("subheading", parent=_styles["Heading3"], fontSize=10, spaceBefore=6, spaceAfter=3)
BODY = ParagraphStyle("body", parent=_styles["BodyText"], fontSize=8.5, leading=10.5)
CELL = ParagraphStyle("cell", parent=BODY, fontSize=7.5, leading=9)
HEAD = ParagraphStyle("head", parent=CELL, fontName="Helvetica-Bold")


def markup(cell: str) -> str:
    """An HTML report cell (escaped text with <code>, <span class=…> and <strong>) as paragraph markup.

    >>> markup('<code>0xab</code> &amp; <span class="open">terms not disclosed</span>')
    '<font face="Courier">0xab</font> &amp; <font color="#b45309">terms not disclosed</font>'
    """
    # html.escape writes a quote as &#x27;, which the paragraph parser does not know.
    return _TAG.sub(lambda m: _TAGS[m.group(0)], cell).replace("&#x27;", "'")


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float]) -> Table:
    """A table of HTML report cells that repeats its header row on each page."""
    total = sum(widths)
    cols = [WIDTH * w / total for w in widths]
    data = [[Paragraph(escape(h), HEAD) for h in head]]
    data += [[Paragraph(markup(cell), CELL) for cell in row] for row in rows]
    table = Table(data, colWidths=cols, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#d1d5db")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3f4f6")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _picture(page: Page) -> Drawing:
    """The lineage picture of the HTML report, drawn with the same layout (scaled to the page)."""
    picture = page.lineage()
    drawn = layout(picture)
    scale = min(1.0, WIDTH / drawn.width)
    drawing = Drawing(drawn.width * scale, drawn.height * scale)

    def flip(y: float) -> float:  # the layout's y grows downwards, the PDF's upwards
        return drawn.height - y

    shapes = []
    for edge in picture.edges:
        (px, py), (cx, cy) = drawn.where[edge.parent], drawn.where[edge.child]
        x1, y1 = px + BOX_WIDTH / 2, flip(py + BOX_HEIGHT)
        x2, y2 = cx + BOX_WIDTH / 2, flip(cy)
        line = Line(x1, y1, x2, y2, strokeColor=colors.HexColor("#444444"), strokeWidth=1.2)
        if not edge.current:
            line.strokeDashArray = [6, 4]
        shapes.append(line)
        length = max(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5, 1.0)
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        head = [x2, y2, x2 - 8 * ux + 4 * uy, y2 - 8 * uy - 4 * ux, x2 - 8 * ux - 4 * uy, y2 - 8 * uy + 4 * ux]
        shapes.append(Polygon(head, fillColor=colors.HexColor("#444444"), strokeColor=None))
    for root, (x, y) in drawn.where.items():
        audited = root == picture.root
        shapes.append(
            Rect(
                x,
                flip(y + BOX_HEIGHT),
                BOX_WIDTH,
                BOX_HEIGHT,
                rx=6,
                ry=6,
                fillColor=colors.HexColor("#fde68a" if audited else "#f3f4f6"),
                strokeColor=colors.HexColor("#b45309" if audited else "#6b7280"),
            )
        )
        shapes.append(String(x + 10, flip(y + 19), short(root), fontName="Courier", fontSize=10))
        label = registrant_label(picture, root, page.names)
        shapes.append(String(x + 10, flip(y + 36), label, fontName="Helvetica", fontSize=9))
    for shape in shapes:
        drawing.add(shape)
    drawing.scale(scale, scale)
    return drawing


def render_pdf(verified: Verified) -> bytes:
    """The report of a verified bundle as PDF bytes (the HTML report's content, section by section)."""
    page = Page(verified)
    story: list[Flowable] = [
        Paragraph(f"Audit report: dataset {escape(short(page.root))}", TITLE),
        Paragraph(escape(page.summary()), BODY),
        Paragraph("Identity", HEADING),
        _table(("", ""), page.identity_rows(), (1, 4)),
        Paragraph("Current holders", HEADING),
        Paragraph(f"As of block {page.bundle.last_block}.", BODY),
    ]
    held, granted = page.holdings()
    story.append(_table(RIGHTS_HEAD, held, (1, 3, 3)))
    story.append(Paragraph("Licences", SUBHEADING))
    story.append(_table(LICENCES_HEAD, granted, (3, 1, 1, 4, 2)) if granted else Paragraph("None.", BODY))
    story.append(
        KeepTogether([Paragraph("Lineage", HEADING), Paragraph(escape(page.lineage_caption()), BODY), _picture(page)])
    )
    story += [
        Paragraph("Exchange timeline", HEADING),
        _table(TIMELINE_HEAD, page.timeline_rows(), (2, 1, 3, 8)),
        Paragraph(f"Every fact ({len(verified.facts)})", HEADING),
        Paragraph(escape(FACTS_INTRO).replace("&#x27;", "'"), BODY),
        _table(FACTS_HEAD, page.fact_rows(), (0.5, 1, 3, 7, 5, 3)),
        Paragraph("What the bundle could not prove", HEADING),
    ]
    for item in page.unproven():
        story.append(Paragraph(f"• <b>{escape(item.what)}</b>: {escape(item.why)}", BODY))
    story.append(Spacer(1, 4))
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"Audit report: dataset {page.root}",
        subject=f"Audit bundle of dataset {page.root}, blocks {page.bundle.first_block}..{page.bundle.last_block}",
        creator="idsreg audit",
        invariant=True,
    )
    document.build(story)
    return out.getvalue()
