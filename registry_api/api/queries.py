"""Reads the routes share: organisations by number, keyset pagination, chain references."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import Session, col, select

from ..domain import Org
from ..errors import NotFound
from . import params
from .schemas import ChainRef, OrgRef


def org_refs(session: Session, numbers: Iterable[int | None]) -> dict[int, OrgRef]:
    """OrgRef of each member number (with its id and name when the index knows it)."""
    wanted = {n for n in numbers if n}
    found: dict[int, OrgRef] = {}
    if wanted:
        rows = session.connection().execute(
            select(col(Org.org_no), col(Org.org_id), col(Org.name)).where(col(Org.org_no).in_(sorted(wanted)))
        )
        found = {int(n): OrgRef(org_no=int(n), org_id=str(i), name=str(name)) for n, i, name in rows}
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


def chain_ref(row: Any) -> ChainRef:
    return ChainRef(block_number=int(row.block_number), tx_hash=str(row.tx_hash))
