"""The lineage route's single recursive query against the level by level walk it replaced, on
graphs with diamonds (a node reachable by paths of different lengths), depth limits and the node cap."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import Connection, Engine, event, insert, select

from registry_api.api.routes import datasets
from registry_api.domain import Dataset, Lineage

NAMES = "RABCDEUSXYZWV"
#: (child, parent): up from R a diamond R-A-B-C with B also one step away, a chain to E, and
#: children of ancestors (U, S) that an upward walk must not take; down from R a diamond X/Y-Z
#: and W, child of both R and Z (one and three steps down).
EDGES = ["RA", "RB", "AC", "AB", "BC", "CD", "DE", "UE", "SA", "XR", "YR", "ZX", "ZY", "WZ", "WR", "VW", "VY"]


def root(name: str) -> str:
    return "0x" + f"{NAMES.index(name) + 1:064x}"


def fill(engine: Engine) -> None:
    lineage = Lineage.__table__  # type: ignore[attr-defined]
    table = Dataset.__table__  # type: ignore[attr-defined]
    with engine.begin() as connection:
        connection.execute(
            insert(table),
            [
                {
                    "root": root(n),
                    "registrant": 1,
                    "grade": "general",
                    "metadata_hash": root(n),
                    "registered_at": 1_700_000_000 + i,
                    "holding": 1,
                    "processing": 1,
                    "operation": 1,
                    "block_number": i,
                    "log_index": 0,
                    "tx_hash": root(n),
                    "updated_block": i,
                }
                for i, n in enumerate(NAMES)
            ],
        )
        connection.execute(
            insert(lineage), [{"child": root(e[0]), "parent": root(e[1]), "block_number": 1} for e in EDGES]
        )


def per_level(connection: Connection, start: str, direction: str, depth: int, cap: int) -> dict[str, object]:
    """The route as it was: one query per level and direction (each level's new nodes taken in
    root order, where the old walk took the database's order)."""
    lineage = Lineage.__table__  # type: ignore[attr-defined]
    distance = {start: 0}
    edges: set[tuple[str, str]] = set()
    truncated = False
    for sign in (-1, 1):
        if (direction == "up" and sign > 0) or (direction == "down" and sign < 0):
            continue
        near, far = (lineage.c.child, lineage.c.parent) if sign < 0 else (lineage.c.parent, lineage.c.child)
        frontier = [start]
        for step in range(1, depth + 1):
            if not frontier:
                break
            rows = connection.execute(select(near, far).where(near.in_(frontier))).all()
            edges |= {(r[0], r[1]) if sign < 0 else (r[1], r[0]) for r in rows}
            frontier = []
            for node in sorted({r[1] for r in rows}):
                if node not in distance:
                    if len(distance) >= cap:
                        truncated = True
                        continue
                    distance[node] = sign * step
                    frontier.append(node)
        if frontier and connection.execute(select(near).where(near.in_(frontier))).first() is not None:
            truncated = True
    return {
        "nodes": [(r, distance[r]) for r in sorted(distance, key=lambda r: (distance[r], r))],
        "edges": sorted((c, p) for c, p in edges if c in distance and p in distance),
        "truncated": truncated,
    }


def one_query(connection: Connection, start: str, direction: str, depth: int) -> dict[str, object]:
    """The route's answer; it walks the graph in one statement, whatever the depth."""
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", seen)
    try:
        answer = asyncio.run(datasets.lineage(connection, start, direction, depth))  # type: ignore[arg-type]
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    # The dataset, the walk, the nodes' details and (unless cached) their registrants.
    assert sum("RECURSIVE" in s.upper() for s in statements) == 1 and len(statements) <= 4, statements
    return {
        "nodes": [(n.root, n.distance) for n in answer.nodes],
        "edges": [(e.child, e.parent) for e in answer.edges],
        "truncated": answer.truncated,
    }


def test_one_query_answers_as_the_level_by_level_walk(make_db: Callable[[], Engine]) -> None:
    engine = make_db()
    fill(engine)
    with engine.connect() as connection:
        for start in "RAZEW":
            for direction in ("up", "down", "both"):
                for depth in (1, 2, 3, 4, 5, 10):
                    expected = per_level(connection, root(start), direction, depth, datasets.MAX_LINEAGE_NODES)
                    assert one_query(connection, root(start), direction, depth) == expected, (start, direction, depth)
        both = one_query(connection, root("R"), "both", 3)
    # The diamonds: B one step up (not two, through A), W one step down (not three, through Z), once each.
    named = {NAMES[int(r, 16) - 1]: d for r, d in both["nodes"]}  # type: ignore[attr-defined]
    assert named == {"R": 0, "A": -1, "B": -1, "C": -2, "D": -3, "X": 1, "Y": 1, "W": 1, "Z": 2, "V": 2}
    assert both["truncated"] is True  # D has a parent four steps up


@pytest.mark.parametrize("cap", [1, 2, 4, 7, 10, 13])
def test_the_node_cap_keeps_the_nearest_ancestors_first(
    make_db: Callable[[], Engine], cap: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_db()
    fill(engine)
    monkeypatch.setattr(datasets, "MAX_LINEAGE_NODES", cap)
    with engine.connect() as connection:
        for depth in (1, 3, 10):
            expected = per_level(connection, root("R"), "both", depth, cap)
            assert one_query(connection, root("R"), "both", depth) == expected, depth
