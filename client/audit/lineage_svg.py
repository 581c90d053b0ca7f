"""The lineage of a verified bundle as a picture: an inline SVG of boxes (datasets) in rows by
generation and arrows from each parent to each child, drawn in Python with nothing to load.

An arrow that a later registration of the child no longer states (the registration was
superseded) is dashed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from .bundle import args_json
from .facts import Fact

BOX_WIDTH = 200
BOX_HEIGHT = 46
GAP_X = 28
GAP_Y = 64
MARGIN = 16


@dataclass(frozen=True)
class Edge:
    parent: str
    child: str
    #: False when a later registration of the child replaced the one that named this parent.
    current: bool


@dataclass(frozen=True)
class Lineage:
    root: str
    #: Dataset root → generation (0 the audited dataset, negative its ancestors, positive its descendants).
    levels: Mapping[str, int]
    edges: tuple[Edge, ...]
    #: Dataset root → the member number of its registrant in force.
    registrants: Mapping[str, int]


def lineage(root: str, facts: Sequence[Fact]) -> Lineage:
    """The datasets and parent → child edges the registrations among `facts` state."""
    registrations = [args_json(f.args) for f in facts if f.event == "DatasetRegistered"]
    latest: dict[str, int] = {}
    registrants: dict[str, int] = {}
    for number, args in enumerate(registrations):
        latest[str(args["root"])] = number
        registrants[str(args["root"])] = int(args["registrant"])
    edges = []
    for number, args in enumerate(registrations):
        child = str(args["root"])
        for parent in args["parents"]:
            edges.append(Edge(str(parent), child, latest[child] == number))
    levels = {root: 0}
    grew = True
    while grew:
        grew = False
        for edge in edges:
            if edge.child in levels and edge.parent not in levels:
                levels[edge.parent] = levels[edge.child] - 1
                grew = True
            elif edge.parent in levels and edge.child not in levels:
                levels[edge.child] = levels[edge.parent] + 1
                grew = True
    kept = tuple(dict.fromkeys(e for e in edges if e.parent in levels and e.child in levels))
    return Lineage(root, levels, kept, registrants)


def short(root: str) -> str:
    return f"{root[:10]}…{root[-6:]}"


@dataclass(frozen=True)
class Layout:
    """Where each dataset's box goes (top-left corner, y growing downwards) in a picture of this size."""

    width: int
    height: int
    where: Mapping[str, tuple[int, int]]


def layout(picture: Lineage) -> Layout:
    """Boxes in rows by generation, each row centred (the SVG and the PDF report draw the same)."""
    rows: dict[int, list[str]] = {}
    for root, level in sorted(picture.levels.items(), key=lambda item: (item[1], item[0] != picture.root, item[0])):
        rows.setdefault(level, []).append(root)
    widest = max(len(row) for row in rows.values())
    width = 2 * MARGIN + widest * BOX_WIDTH + (widest - 1) * GAP_X
    top = min(rows)
    height = 2 * MARGIN + len(rows) * BOX_HEIGHT + (len(rows) - 1) * GAP_Y
    where: dict[str, tuple[int, int]] = {}
    for level, row in rows.items():
        span = len(row) * BOX_WIDTH + (len(row) - 1) * GAP_X
        left = (width - span) // 2
        y = MARGIN + (level - top) * (BOX_HEIGHT + GAP_Y)
        for n, root in enumerate(row):
            where[root] = (left + n * (BOX_WIDTH + GAP_X), y)
    return Layout(width, height, where)


def registrant_label(picture: Lineage, root: str, names: Mapping[int, str]) -> str:
    """The second line of a dataset's box: who registered it."""
    registrant = picture.registrants.get(root)
    if registrant is None:
        return "registration not in the bundle"
    return f"by {names.get(registrant, f'org {registrant}')}"


def svg(picture: Lineage, names: Mapping[int, str]) -> str:
    """The SVG element (a string to place in an HTML page)."""
    drawn = layout(picture)
    width, height, where = drawn.width, drawn.height, drawn.where
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="lineage" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="lineage of dataset {escape(picture.root)}">'
        ),
        (
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
            'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#444"/></marker></defs>'
        ),
    ]
    for edge in picture.edges:
        (px, py), (cx, cy) = where[edge.parent], where[edge.child]
        dash = "" if edge.current else ' stroke-dasharray="6 4"'
        parts.append(
            f'<line class="edge" data-parent="{escape(edge.parent)}" data-child="{escape(edge.child)}" '
            f'x1="{px + BOX_WIDTH // 2}" y1="{py + BOX_HEIGHT}" x2="{cx + BOX_WIDTH // 2}" y2="{cy}" '
            f'stroke="#444" stroke-width="1.5"{dash} marker-end="url(#arrow)"/>'
        )
    for root, (x, y) in where.items():
        audited = root == picture.root
        by = registrant_label(picture, root, names)
        parts.append(
            f'<g class="dataset" data-root="{escape(root)}"><title>{escape(root)}</title>'
            f'<rect x="{x}" y="{y}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="6" '
            f'fill="{"#fde68a" if audited else "#f3f4f6"}" stroke="{"#b45309" if audited else "#6b7280"}"/>'
            f'<text x="{x + 10}" y="{y + 19}" font-family="monospace" font-size="12">{escape(short(root))}</text>'
            f'<text x="{x + 10}" y="{y + 36}" font-family="sans-serif" font-size="11">{escape(by)}</text></g>'
        )
    parts.append("</svg>")
    return "\n".join(parts)
