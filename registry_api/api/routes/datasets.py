"""`/v1/datasets`: registered datasets, their holders, history, lineage and right moves."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from ...auth import Caller
from ...domain import Dataset, Dispute, Grant, Lineage, RightChange
from ...errors import NotFound
from ...models import RawEvent
from .. import params
from ..deps import CallerDep, SessionDep
from ..queries import after, chain_ref, org_refs, ref, resolve_org
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


def _dataset(session: Session, root: str) -> Dataset:
    dataset = session.get(Dataset, params.hex32("root", root))
    if dataset is None:
        raise NotFound(f"dataset {root.lower()} is not registered (or not indexed yet)", "root")
    return dataset


def _summary(d: Dataset, refs: dict[int, Any]) -> DatasetPublic:
    return DatasetPublic(
        root=d.root, registrant=ref(refs, d.registrant), grade=d.grade, registered_at=d.registered_at,
        holders=HoldersPublic(holding=ref(refs, d.holding), processing=ref(refs, d.processing), operation=ref(refs, d.operation)),
        metadata_uri=d.metadata_uri, registered=chain_ref(d),
    )  # fmt: skip


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@router.get("", response_model=Page[DatasetPublic])
def list_datasets(
    session: SessionDep,
    registrant: params.OrgQuery = None,
    holder: params.OrgQuery = None,
    right: Annotated[Literal["holding", "processing", "operation"] | None, Query(description="With `holder`: only this right.")] = None,
    grade: Annotated[Literal["general", "important", "core"] | None, Query()] = None,
    registered_from: Annotated[int | None, Query(ge=0, le=2**63 - 1, description="Priority time at or after (Unix seconds).")] = None,
    registered_to: Annotated[int | None, Query(ge=0, le=2**63 - 1, description="Priority time at or before (Unix seconds).")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="Text in the metadata or batch manifest URI.")] = None,
    limit: params.Limit = 50,
    cursor: params.Cursor = None,
) -> Page[DatasetPublic]:
    """Registered datasets, newest registration first, with filters."""
    query = select(Dataset).order_by(col(Dataset.block_number).desc(), col(Dataset.log_index).desc()).limit(limit + 1)
    if registrant is not None:
        query = query.where(col(Dataset.registrant) == resolve_org(session, "registrant", registrant))
    if holder is not None:
        number = resolve_org(session, "holder", holder)
        columns = [col(getattr(Dataset, right))] if right else [col(Dataset.holding), col(Dataset.processing), col(Dataset.operation)]
        query = query.where(or_(*(c == number for c in columns)))
    if grade is not None:
        query = query.where(col(Dataset.grade) == grade)
    if registered_from is not None:
        query = query.where(col(Dataset.registered_at) >= registered_from)
    if registered_to is not None:
        query = query.where(col(Dataset.registered_at) <= registered_to)
    if q is not None:
        pattern = _like(q.lower())
        query = query.where(or_(
            func.lower(col(Dataset.metadata_uri)).like(pattern, escape="\\"),
            func.lower(col(Dataset.manifest_uri)).like(pattern, escape="\\"),
        ))  # fmt: skip
    start = params.decode_cursor(cursor, (int, int))
    if start is not None:
        query = query.where(after([col(Dataset.block_number), col(Dataset.log_index)], start, descending=True))
    found = list(session.exec(query).all())
    page = found[:limit]
    refs = org_refs(session, (n for d in page for n in (d.registrant, d.holding, d.processing, d.operation)))
    following = params.encode_cursor([page[-1].block_number, page[-1].log_index]) if len(found) > limit else None
    return Page(data=[_summary(d, refs) for d in page], next_cursor=following)


@router.get("/{root}", response_model=DatasetDetailPublic)
def get_dataset(session: SessionDep, root: params.RootPath) -> DatasetDetailPublic:
    """One dataset: registration, current holders of the three rights, open offers, lineage."""
    d = _dataset(session, root)
    connection = session.connection()
    children = [c for (c,) in connection.execute(
        select(col(Lineage.child)).where(col(Lineage.parent) == d.root).order_by(col(Lineage.block_number), col(Lineage.child)).limit(100)
    )]  # fmt: skip
    child_count = len(children) if len(children) < 100 else int(
        connection.execute(select(func.count()).select_from(Lineage).where(col(Lineage.parent) == d.root)).scalar_one()
    )  # fmt: skip
    offers = {r: getattr(d, f"offer_{r}") for r in RIGHTS if getattr(d, f"offer_{r}") is not None}
    refs = org_refs(session, [d.registrant, d.holding, d.processing, d.operation, *offers.values()])
    disputes = [i for (i,) in connection.execute(
        select(col(Dispute.dispute_id)).where(col(Dispute.root) == d.root, col(Dispute.status) == "open").order_by(col(Dispute.dispute_id))
    )]  # fmt: skip
    return DatasetDetailPublic(
        **_summary(d, refs).model_dump(),
        metadata_hash=d.metadata_hash, manifest_uri=d.manifest_uri, parents=json.loads(d.parents),
        children=children, child_count=child_count, offers={r: ref(refs, n) for r, n in offers.items()},
        frozen=[r for i, r in enumerate(RIGHTS) if d.frozen & (1 << i)], open_disputes=disputes,
    )  # fmt: skip


def _visible(event: RawEvent, args: dict[str, Any], caller: Caller | None, grantors: dict[tuple[int, int], int]) -> bool:
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
def history(
    session: SessionDep, caller: CallerDep, root: params.RootPath, limit: params.Limit = 100, cursor: params.Cursor = None
) -> Page[HistoryEntryPublic]:
    """Every event about the dataset in chain order (and the registrations of datasets derived
    from it); licence and delivery details only for the organisations involved."""
    d = _dataset(session, root)
    derived = select(col(Lineage.child)).where(col(Lineage.parent) == d.root)
    about = or_(col(RawEvent.subject) == d.root, and_(col(RawEvent.name) == "DatasetRegistered", col(RawEvent.subject).in_(derived)))
    query = select(RawEvent).where(about).order_by(col(RawEvent.block_number), col(RawEvent.log_index)).limit(limit + 1)
    start = params.decode_cursor(cursor, (int, int))
    if start is not None:
        query = query.where(after([col(RawEvent.block_number), col(RawEvent.log_index)], start, descending=False))
    found = list(session.exec(query).all())
    page = found[:limit]
    grantors = {(g, s): o for g, s, o in session.connection().execute(
        select(col(Grant.grantee), col(Grant.serial), col(Grant.grantor)).where(col(Grant.root) == d.root)
    )}  # fmt: skip
    data = []
    for event in page:
        args = json.loads(event.args)
        shown = _visible(event, args, caller, grantors)
        data.append(HistoryEntryPublic(
            block_number=event.block_number, block_hash=event.block_hash, block_time=event.block_time,
            tx_hash=event.tx_hash, log_index=event.log_index, contract=event.contract, event=event.name,
            args=args if shown else None, redacted=not shown,
        ))  # fmt: skip
    following = params.encode_cursor([page[-1].block_number, page[-1].log_index]) if len(found) > limit else None
    return Page(data=data, next_cursor=following)


@router.get("/{root}/lineage", response_model=LineagePublic)
def lineage(
    session: SessionDep,
    root: params.RootPath,
    direction: Annotated[Literal["up", "down", "both"], Query(description="Ancestors (up), descendants (down) or both.")] = "both",
    depth: Annotated[int, Query(ge=1, le=10, description="Steps to follow (1 to 10).")] = 3,
) -> LineagePublic:
    """The lineage graph around a dataset: what it was derived from and what was derived from it."""
    d = _dataset(session, root)
    connection = session.connection()
    distance: dict[str, int] = {d.root: 0}
    edges: set[tuple[str, str]] = set()
    truncated = False
    for sign, follow, other in ((-1, col(Lineage.child), col(Lineage.parent)), (1, col(Lineage.parent), col(Lineage.child))):
        if (direction == "up" and sign > 0) or (direction == "down" and sign < 0):
            continue
        frontier = [d.root]
        for step in range(1, depth + 1):
            if not frontier:
                break
            rows = connection.execute(select(col(Lineage.child), col(Lineage.parent)).where(follow.in_(frontier))).all()
            frontier = []
            for child, parent in rows:
                edges.add((child, parent))
                node = parent if sign < 0 else child
                if node not in distance:
                    if len(distance) >= MAX_LINEAGE_NODES:
                        truncated = True
                        continue
                    distance[node] = sign * step
                    frontier.append(node)
        if frontier and connection.execute(select(other).where(follow.in_(frontier)).limit(1)).first() is not None:
            truncated = True  # the depth limit cut the graph
    nodes = {n.root: n for n in session.exec(select(Dataset).where(col(Dataset.root).in_(list(distance))))}
    refs = org_refs(session, (n.registrant for n in nodes.values()))
    return LineagePublic(
        root=d.root, direction=direction, depth=depth, truncated=truncated,
        nodes=[
            LineageNodePublic(root=r, distance=distance[r], registrant=ref(refs, nodes[r].registrant),
                              grade=nodes[r].grade, registered_at=nodes[r].registered_at)
            for r in sorted(distance, key=lambda r: (distance[r], r)) if r in nodes
        ],
        edges=[LineageEdgePublic(child=c, parent=p) for c, p in sorted(edges) if c in distance and p in distance],
    )  # fmt: skip


@router.get("/{root}/rights", response_model=list[RightChangePublic])
def right_changes(session: SessionDep, root: params.RootPath) -> list[RightChangePublic]:
    """Every move of the dataset's rights (offers accepted, disputes upheld), in chain order."""
    d = _dataset(session, root)
    moves = list(session.exec(
        select(RightChange).where(col(RightChange.root) == d.root).order_by(col(RightChange.block_number), col(RightChange.log_index))
    ))  # fmt: skip
    refs = org_refs(session, (n for m in moves for n in (m.from_org, m.to_org)))
    return [
        RightChangePublic(right=m.right, from_org=ref(refs, m.from_org), to_org=ref(refs, m.to_org), kind=m.kind,
                          dispute_id=m.dispute_id, block_time=m.block_time, changed=chain_ref(m))
        for m in moves
    ]  # fmt: skip
