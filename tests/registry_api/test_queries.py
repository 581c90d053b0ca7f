"""The organisation cache behind every answer that names a member: per index database, and
only for ORG_CACHE_SECONDS."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session

from registry_api.api import queries
from registry_api.api.hotpath import HotReads
from registry_api.api.schemas import OrgRef
from registry_api.db import init_db, make_engine
from registry_api.domain import Org


def index_with_member(path: Path, name: str) -> Engine:
    engine = make_engine(f"sqlite:///{path}", reader=True)
    init_db(engine)
    with Session(engine) as session:
        session.add(
            Org(
                org_no=1,
                org_id="0x" + "11" * 32,
                name=name,
                admin="0x" + "22" * 20,
                level=1,
                evidence_hash="0x" + "00" * 32,
                expires_at=0,
                status="active",
                admitted_at=0,
                block_number=1,
                tx_hash="0x" + "33" * 32,
                updated_block=1,
            )
        )
        session.commit()
    return engine


def test_two_databases_in_one_process_do_not_share_names(tmp_path: Path) -> None:
    first, second = (
        index_with_member(tmp_path / "a.db", "Alpha Works"),
        index_with_member(tmp_path / "b.db", "Beta Mills"),
    )
    with Session(first) as session:
        assert queries.org_refs(session, [1])[1].name == "Alpha Works"
    with Session(second) as session:
        assert queries.org_refs(session, [1])[1].name == "Beta Mills"
    hot = HotReads(second)
    try:
        assert queries.org_refs(hot, [1, None])[1].name == "Beta Mills"
    finally:
        hot.close()
    with first.connect() as connection:
        assert queries.org_refs(connection, [1, 2]) == {1: queries.org_refs(connection, [1])[1], 2: OrgRef(org_no=2)}


def test_cached_names_are_read_again_after_the_cache_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = index_with_member(tmp_path / "a.db", "Alpha Works")
    with engine.connect() as connection:
        assert queries.org_refs(connection, [1])[1].name == "Alpha Works"
        # A reorganisation that replaced the admission (written here directly).
        connection.execute(update(Org).values(name="Alpha Works Renamed"))
        assert queries.org_refs(connection, [1])[1].name == "Alpha Works"  # within the cache time
        monkeypatch.setattr(queries, "ORG_CACHE_SECONDS", 0.0)
        assert queries.org_refs(connection, [1])[1].name == "Alpha Works Renamed"
