"""Reads the routes share: organisations by number, keyset pagination, chain references."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar, cast
from weakref import WeakKeyDictionary

from sqlalchemy import ColumnElement, Connection, Engine, and_, bindparam, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from ..domain import Org
from ..errors import NotFound
from . import params
from .hotpath import HotReads
from .schemas import ChainRef, OrgRef

R = TypeVar("R")

_ORG = select(col(Org.org_no), col(Org.org_id), col(Org.name)).where(col(Org.org_no) == bindparam("number"))
_ORGS = select(col(Org.org_no), col(Org.org_id), col(Org.name)).where(
    col(Org.org_no).in_(bindparam("numbers", expanding=True))
)
#: Seconds an organisation's id and name are reused. They never change on chain; only a
#: reorganisation that undoes an admission could change what a member number names.
ORG_CACHE_SECONDS = 5.0
#: Per index database (its engine): two apps in one process never share member numbers.
_org_caches: WeakKeyDictionary[Engine, dict[int, tuple[float, OrgRef]]] = WeakKeyDictionary()


def _engine_of(reader: Session | Connection | HotReads) -> Engine:
    if isinstance(reader, Session):
        return reader.get_bind()  # type: ignore[return-value]
    return reader.engine


def _org_rows(reader: Session | Connection | HotReads, numbers: list[int]) -> list[Any]:
    if isinstance(reader, HotReads):  # one number at a time: the cache answers for most of them
        return [row for n in numbers for row in reader.rows(_ORG, number=n)]
    connection = reader.connection() if isinstance(reader, Session) else reader
    return list(connection.execute(_ORGS, {"numbers": numbers}))


def org_refs(reader: Session | Connection | HotReads, numbers: Iterable[int | None]) -> dict[int, OrgRef]:
    """OrgRef of each member number (with its id and name when the index knows it)."""
    wanted = {n for n in numbers if n}
    now = time.monotonic()
    cache = _org_caches.setdefault(_engine_of(reader), {})
    found: dict[int, OrgRef] = {}
    missing = []
    for number in wanted:
        cached = cache.get(number)
        if cached is not None and now - cached[0] < ORG_CACHE_SECONDS:
            found[number] = cached[1]
        else:
            missing.append(number)
    if missing:
        for n, i, name in _org_rows(reader, sorted(missing)):
            found[int(n)] = OrgRef(org_no=int(n), org_id=str(i), name=str(name))
            cache[int(n)] = (now, found[int(n)])
    return {n: found.get(n) or OrgRef(org_no=n) for n in wanted}


def ref(refs: dict[int, OrgRef], number: int) -> OrgRef:
    return refs.get(number) or OrgRef(org_no=number)


def resolve_org(session: Session, field: str, value: str) -> int:
    """The member number of an organisation given by number, identifier or org id; NotFound if
    the index has no such member."""
    column, key = params.org_key(field, value)
    condition = col(Org.org_no) == key if column == "org_no" else col(Org.org_id) == key
    found = session.connection().execute(select(col(Org.org_no)).where(condition)).first()
    if found is None:
        raise NotFound(f"{field} {value!r}: no such member organisation is indexed", field)
    return int(found[0])


def after(columns: Sequence[Any], values: Sequence[Any], descending: bool) -> ColumnElement[bool]:
    """Rows strictly after `values` in the order of `columns` (a keyset-pagination condition)."""
    first, value = columns[0], values[0]
    beyond = first < value if descending else first > value
    if len(columns) == 1:
        return cast(ColumnElement[bool], beyond)
    return or_(beyond, and_(first == value, after(columns[1:], values[1:], descending)))


def page(
    session: Session,
    query: SelectOfScalar[R],
    order: Sequence[Any],
    *,
    limit: int,
    cursor: str | None,
    pattern: str,
    descending: bool,
) -> tuple[list[R], str | None]:
    """One page of `query` in the order of the columns `order`, starting after the sort key a
    `cursor` of the list's `pattern` carries: the rows and the cursor of the next page (None
    on the last one). The cursor is the last row's values of `order`, by column name."""
    query = query.order_by(*(c.desc() if descending else c for c in order)).limit(limit + 1)
    start = params.decode_cursor(cursor, pattern)
    if start is not None:
        query = query.where(after(order, start, descending))
    return split_page(list(session.exec(query).all()), limit, order)


def split_page(found: Sequence[R], limit: int, order: Sequence[Any]) -> tuple[list[R], str | None]:
    """The first `limit` of the `limit + 1` rows fetched, and the cursor of the next page if
    there was one more: the last row's values of the columns `order`, by column name."""
    rows = list(found[:limit])
    if len(found) <= limit:
        return rows, None
    return rows, params.encode_cursor([getattr(rows[-1], c.key) for c in order])


def chain_ref(row: Any) -> ChainRef:
    return ChainRef(block_number=int(row.block_number), tx_hash=str(row.tx_hash))
