"""`/v1/datasets`: registered datasets, their holders, history, lineage and right moves."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from sqlalchemy import Connection, and_, bindparam, case, func, literal_column, or_, union_all
from sqlalchemy import select as select_all
from sqlmodel import col, select

from ...auth import Caller
from ...domain import Dataset, Dispute, Grant, Lineage, RightChange
from ...errors import NotFound
from ...models import Checkpoint, RawEvent
from .. import params
from ..deps import CallerDep, ConnectionDep, SessionDep
from ..hotpath import HotReads
from ..queries import after, chain_ref, org_refs, page, ref, resolve_org, split_page
from ..schemas import (
    DatasetDetailPublic,
    DatasetPublic,
    HistoryEntryPublic,
    HoldersPublic,
    LineageEdgePublic,
    LineageNodePublic,
    LineagePublic,
    Page,
    RightChangePublic,
)

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])

RIGHTS = ("holding", "processing", "operation")
#: Nodes a lineage answer holds at most.
MAX_LINEAGE_NODES = 1000
#: Events whose details only the organisations involved, auditors and governors see.
CONFIDENTIAL = frozenset({"AccessRegistry", "ExchangeLedger"})


_table = Dataset.__table__  # type: ignore[attr-defined]
# Built once: a lookup is the API's hottest path, and building a statement costs more than
# running it. At most 100 children are listed; the 101st says whether to count them all.
_BY_ROOT = select(_table).where(_table.c.root == bindparam("root"))
_CHILDREN = (
    select(col(Lineage.child))
    .where(col(Lineage.parent) == bindparam("root"))
    .order_by(col(Lineage.block_number), col(Lineage.child))
    .limit(101)
)
_CHILD_COUNT = (
    select(func.count().label("children")).select_from(Lineage).where(col(Lineage.parent) == bindparam("root"))
)
_OPEN_DISPUTES = (
    select(col(Dispute.dispute_id))
    .where(col(Dispute.root) == bindparam("root"), col(Dispute.status) == "open")
    .order_by(col(Dispute.dispute_id))
)
#: The index's clock: the time of the last indexed block (docs/api.md, "Frozen rights").
_INDEXED_TIME = select(col(Checkpoint.block_time))


_raw = RawEvent.__table__  # type: ignore[attr-defined]
_lineage = Lineage.__table__  # type: ignore[attr-defined]


def _history_statement(from_cursor: bool) -> Any:
    """A dataset's events and its derived datasets' registrations, in chain order: a union of
    two index lookups (an OR of the two would scan the whole event table on PostgreSQL)."""
    position: list[Any] = [bindparam("block"), bindparam("log")]

    def part(query: Any, table: Any) -> Any:
        if from_cursor:
            query = query.where(after([table.c.block_number, table.c.log_index], position, descending=False))
        return select_all(query.order_by(table.c.block_number, table.c.log_index).limit(bindparam("limit")).subquery())

    own = select(_raw).where(_raw.c.subject == bindparam("root"))
    derived = (
        select(_raw)
        .join(_lineage, _lineage.c.child == _raw.c.subject)
        .where(_lineage.c.parent == bindparam("root"), _raw.c.name == "DatasetRegistered")
    )
    both = union_all(part(own, _raw), part(derived, _raw)).subquery()
    return select_all(both).order_by(both.c.block_number, both.c.log_index).limit(bindparam("limit"))


_HISTORY = {False: _history_statement(False), True: _history_statement(True)}
_GRANTORS = select(col(Grant.grantee), col(Grant.serial), col(Grant.grantor)).where(
    col(Grant.root) == bindparam("root")
)


def _lineage_statement() -> Any:
    """The lineage walk as one recursive query (SQLite and PostgreSQL): every dataset within `up`
    steps above the root or `down` steps below it, with its signed distance (negative above), once
    per distinct distance it is reached at; each row joined to the edges leading further out from
    it in its direction (none: NULLs) and to the node's registration. The caller keeps each node's
    nearest distance, as the level by level walk did. The bounds also stop the walk should the
    graph ever hold a cycle. No rows: the root is not registered. One statement, one round trip:
    on PostgreSQL each further query of an answer costs a round trip to the server."""
    up: Any = bindparam("up")
    down: Any = bindparam("down")
    start: Any = select(_table.c.root.label("node"), literal_column("0").label("dist")).where(
        _table.c.root == bindparam("root")
    )
    walk = start.cte("walk", recursive=True)
    upward = and_(_lineage.c.child == walk.c.node, walk.c.dist <= 0, walk.c.dist > -up)
    downward = and_(_lineage.c.parent == walk.c.node, walk.c.dist >= 0, walk.c.dist < down)
    further = case((_lineage.c.child == walk.c.node, _lineage.c.parent), else_=_lineage.c.child)
    step = case((_lineage.c.child == walk.c.node, walk.c.dist - 1), else_=walk.c.dist + 1)
    # UNION, not UNION ALL: a node reached by several paths at one distance is walked on once.
    walk = walk.union(select(further, step).select_from(walk.join(_lineage, or_(upward, downward))))
    outward = or_(
        and_(_lineage.c.child == walk.c.node, walk.c.dist <= 0, up > 0),
        and_(_lineage.c.parent == walk.c.node, walk.c.dist >= 0, down > 0),
    )
    node = _table.alias("node")
    return select_all(
        walk.c.node,
        walk.c.dist,
        _lineage.c.child,
        _lineage.c.parent,
        node.c.registrant,
        node.c.grade,
        node.c.registered_at,
    ).select_from(walk.outerjoin(_lineage, outward).outerjoin(node, node.c.root == walk.c.node))


_LINEAGE = _lineage_statement()
_changes = RightChange.__table__  # type: ignore[attr-defined]
_RIGHT_CHANGES = (
    select(_changes).where(_changes.c.root == bindparam("root")).order_by(_changes.c.block_number, _changes.c.log_index)
)


def _unknown(root: str) -> NotFound:
    return NotFound(f"dataset {root} is not registered (or not indexed yet)", "root")


def _dataset(connection: Connection, root: str) -> Any:
    """The dataset's row (a Core row: attribute access by column name); NotFound if none."""
    key = params.hex32("root", root)
    dataset = connection.execute(_BY_ROOT, {"root": key}).first()
    if dataset is None:
        raise _unknown(key)
    return dataset


def _summary(d: Any, refs: dict[int, Any]) -> DatasetPublic:
    return DatasetPublic(
        root=d.root,
        registrant=ref(refs, d.registrant),
        grade=d.grade,
        registered_at=d.registered_at,
        holders=HoldersPublic(
            holding=ref(refs, d.holding), processing=ref(refs, d.processing), operation=ref(refs, d.operation)
        ),
        metadata_uri=d.metadata_uri,
        registered=chain_ref(d),
    )


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@router.get("", response_model=Page[DatasetPublic])
async def list_datasets(
    session: SessionDep,
    registrant: params.OrgQuery = None,
    holder: params.OrgQuery = None,
    right: Annotated[
        Literal["holding", "processing", "operation"] | None, Query(description="With `holder`: only this right.")
    ] = None,
    grade: Annotated[Literal["general", "important", "core"] | None, Query()] = None,
    registered_from: Annotated[
        int | None, Query(ge=0, le=2**63 - 1, description="Priority time at or after (Unix seconds).")
    ] = None,
    registered_to: Annotated[
        int | None, Query(ge=0, le=2**63 - 1, description="Priority time at or before (Unix seconds).")
    ] = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Text in the metadata or batch manifest URI.")
    ] = None,
    limit: params.Limit = 50,
    cursor: params.Cursor2 = None,
) -> Page[DatasetPublic]:
    """Registered datasets, newest registration first, with filters."""
    query = select(Dataset)
    if registrant is not None:
        query = query.where(col(Dataset.registrant) == resolve_org(session, "registrant", registrant))
    if holder is not None:
        number = resolve_org(session, "holder", holder)
        columns = (
            [col(getattr(Dataset, right))]
            if right
            else [col(Dataset.holding), col(Dataset.processing), col(Dataset.operation)]
        )
        query = query.where(or_(*(c == number for c in columns)))
    if grade is not None:
        query = query.where(col(Dataset.grade) == grade)
    if registered_from is not None:
        query = query.where(col(Dataset.registered_at) >= registered_from)
    if registered_to is not None:
        query = query.where(col(Dataset.registered_at) <= registered_to)
    if q is not None:
        pattern = _like(q.lower())
        query = query.where(
            or_(
                func.lower(col(Dataset.metadata_uri)).like(pattern, escape="\\"),
                func.lower(col(Dataset.manifest_uri)).like(pattern, escape="\\"),
            )
        )
    order = [col(Dataset.block_number), col(Dataset.log_index)]
    datasets, following = page(
        session, query, order, limit=limit, cursor=cursor, pattern=params.CURSOR_2, descending=True
    )
    refs = org_refs(session, (n for d in datasets for n in (d.registrant, d.holding, d.processing, d.operation)))
    return Page(data=[_summary(d, refs) for d in datasets], next_cursor=following)


@router.get("/{root}", response_model=DatasetDetailPublic)
async def get_dataset(request: Request, root: params.RootPath) -> DatasetDetailPublic:
    """One dataset: registration, current holders of the three rights, open offers, lineage."""
    hot: HotReads = request.app.state.hot
    key = params.hex32("root", root)
    found = hot.rows(_BY_ROOT, root=key)
    if not found:
        raise _unknown(key)
    d = found[0]
    children = [row.child for row in hot.rows(_CHILDREN, root=key)]
    child_count = len(children) if len(children) <= 100 else int(hot.rows(_CHILD_COUNT, root=key)[0].children)
    offers = {r: getattr(d, f"offer_{r}") for r in RIGHTS if getattr(d, f"offer_{r}") is not None}
    refs = org_refs(hot, [d.registrant, d.holding, d.processing, d.operation, *offers.values()])
    # An open dispute freezes its right: a dataset with nothing frozen has none to look up.
    disputes = [row.dispute_id for row in hot.rows(_OPEN_DISPUTES, root=key)] if d.frozen else []
    frozen_until = _running_freezes(hot, d) if d.frozen else {}
    return DatasetDetailPublic(
        **dict(_summary(d, refs)),  # the summary's fields as they are (no dump and re-validation)
        metadata_hash=d.metadata_hash,
        manifest_uri=d.manifest_uri,
        parents=json.loads(d.parents),
        children=children[:100],
        child_count=child_count,
        offers={r: ref(refs, n) for r, n in offers.items()},
        frozen=list(frozen_until),
        frozen_until=frozen_until,
        open_disputes=disputes,
    )


def _running_freezes(hot: HotReads, d: Any) -> dict[str, int]:
    """The rights whose freeze still runs at the index's clock, with the freeze's end. The
    contract's rule (`DataRegistry._isFrozen`): frozen while `block.timestamp < frozenUntil`."""
    clock = hot.rows(_INDEXED_TIME)
    now = int(clock[0].block_time) if clock else 0
    ends = {r: int(getattr(d, f"frozen_until_{r}")) for i, r in enumerate(RIGHTS) if d.frozen & (1 << i)}
    return {r: until for r, until in ends.items() if now < until}


def _visible(event: Any, args: dict[str, Any], caller: Caller | None, grantors: dict[tuple[int, int], int]) -> bool:
    """Whether the caller may see a licence or delivery event's details."""
    if event.contract not in CONFIDENTIAL:
        return True
    if caller is None:
        return False
    if caller.sees_everything:
        return True
    if event.name == "ReceiptRecorded":
        return caller.involves(args.get("provider"), args.get("consumer"))
    grantor = args.get("grantor", grantors.get((args.get("grantee", 0), args.get("serial", 0))))
    return caller.involves(args.get("grantee"), grantor)


@router.get("/{root}/history", response_model=Page[HistoryEntryPublic])
async def history(
    connection: ConnectionDep,
    caller: CallerDep,
    root: params.RootPath,
    limit: params.Limit = 100,
    cursor: params.Cursor2 = None,
) -> Page[HistoryEntryPublic]:
    """Every event about the dataset in chain order (and the registrations of datasets derived
    from it); licence and delivery details only for the organisations involved."""
    key = params.hex32("root", root)
    start = params.decode_cursor(cursor, params.CURSOR_2)
    values: dict[str, Any] = {"root": key, "limit": limit + 1}
    if start is not None:
        values |= {"block": start[0], "log": start[1]}
    # A registered dataset has at least its registration event: only an empty page asks
    # whether it exists (one round trip for most answers, not three).
    found = connection.execute(_HISTORY[start is not None], values).all()
    if not found:
        _dataset(connection, key)
    events, following = split_page(found, limit, [_raw.c.block_number, _raw.c.log_index])
    # Grantors are looked up only for a licence event whose own arguments do not name one.
    needs_grantors = (
        caller is not None
        and not caller.sees_everything
        and any(e.contract in CONFIDENTIAL and e.name != "ReceiptRecorded" for e in events)
    )
    grantors = {(g, s): o for g, s, o in connection.execute(_GRANTORS, {"root": key})} if needs_grantors else {}
    data = []
    for event in events:
        args = json.loads(event.args)
        shown = _visible(event, args, caller, grantors)
        data.append(
            HistoryEntryPublic(
                block_number=event.block_number,
                block_hash=event.block_hash,
                block_time=event.block_time,
                tx_hash=event.tx_hash,
                log_index=event.log_index,
                contract=event.contract,
                event=event.name,
                args=args if shown else None,
                redacted=not shown,
            )
        )
    return Page(data=data, next_cursor=following)


@router.get("/{root}/lineage", response_model=LineagePublic)
async def lineage(
    connection: ConnectionDep,
    root: params.RootPath,
    direction: Annotated[
        Literal["up", "down", "both"], Query(description="Ancestors (up), descendants (down) or both.")
    ] = "both",
    depth: Annotated[int, Query(ge=1, le=10, description="Steps to follow (1 to 10).")] = 3,
) -> LineagePublic:
    """The lineage graph around a dataset: what it was derived from and what was derived from it."""
    key = params.hex32("root", root)
    bounds = {"up": 0 if direction == "down" else depth, "down": 0 if direction == "up" else depth}
    rows = connection.execute(_LINEAGE, {"root": key, **bounds}).all()
    if not rows:
        raise _unknown(key)
    # Each node at its nearest distance; above the root first, as the level by level walk took
    # them (a node on both sides could only come from a cycle).
    nearest: dict[str, int] = {}
    for node, dist, *_ in rows:
        seen = nearest.get(node)
        if seen is None or (dist != 0, dist > 0, abs(dist)) < (seen != 0, seen > 0, abs(seen)):
            nearest[node] = dist
    ranked = sorted(nearest, key=lambda r: (nearest[r] > 0, abs(nearest[r]), r))
    distance = {r: nearest[r] for r in ranked[:MAX_LINEAGE_NODES]}
    truncated = len(ranked) > MAX_LINEAGE_NODES
    edges: set[tuple[str, str]] = set()
    for node, dist, child, parent, *_ in rows:
        if child is None or nearest[node] != dist:
            continue
        if abs(dist) < depth:
            edges.add((child, parent))
        elif node in distance:
            truncated = True  # the depth limit cut the graph
    nodes = {row.node: row for row in rows if row.node in distance and row.registrant is not None}
    refs = org_refs(connection, (n.registrant for n in nodes.values()))
    return LineagePublic(
        root=key,
        direction=direction,
        depth=depth,
        truncated=truncated,
        nodes=[
            LineageNodePublic(
                root=r,
                distance=distance[r],
                registrant=ref(refs, nodes[r].registrant),
                grade=nodes[r].grade,
                registered_at=nodes[r].registered_at,
            )
            for r in sorted(distance, key=lambda r: (distance[r], r))
            if r in nodes
        ],
        edges=[LineageEdgePublic(child=c, parent=p) for c, p in sorted(edges) if c in distance and p in distance],
    )


@router.get("/{root}/rights", response_model=list[RightChangePublic])
async def right_changes(connection: ConnectionDep, root: params.RootPath) -> list[RightChangePublic]:
    """Every move of the dataset's rights (offers accepted, disputes upheld), in chain order."""
    d = _dataset(connection, root)
    moves = connection.execute(_RIGHT_CHANGES, {"root": d.root}).all()
    refs = org_refs(connection, (n for m in moves for n in (m.from_org, m.to_org)))
    return [
        RightChangePublic(
            right=m.right,
            from_org=ref(refs, m.from_org),
            to_org=ref(refs, m.to_org),
            kind=m.kind,
            dispute_id=m.dispute_id,
            block_time=m.block_time,
            changed=chain_ref(m),
        )
        for m in moves
    ]
