"""Prebuilt statements run on the driver give what SQLAlchemy's execution gives (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import bindparam, case, event, select, text, union_all, update
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from feedhub import sqlite_exec
from feedhub.db import Database, core
from feedhub.models import Entry, Source

SEEN = datetime(2026, 11, 27, 8, 15, 30, 120, tzinfo=UTC)

# typed columns (a time, a boolean), an IN list, a literal bound by SQLAlchemy
_ENTRIES = select(
    Entry.id,
    Entry.identity,
    Entry.first_seen_at,
    Entry.sponsored,
    case((Entry.source_id == bindparam("source"), 0), else_=1).label("other"),
).where(Entry.identity.in_(bindparam("keys", expanding=True)))
_RENAME = update(Source).where(Source.id == bindparam("b_id")).values(title=bindparam("v_title"))
_COUNT = text("SELECT count(*) FROM entries WHERE source_id = :source")


@pytest.fixture
def source_id(db: Database) -> int:
    with db.session() as s:
        src = Source(url="https://neuwied.example/feed.xml")
        s.add(src)
        s.flush()
        for n in range(3):
            s.add(
                Entry(
                    source_id=src.id,
                    identity=f"guid:{n}",
                    title=f"Neuwied. Brücke {n}",
                    first_seen_at=SEEN + timedelta(minutes=n),
                    sponsored=n == 1,
                )
            )
        return src.id


def _through_sqlalchemy(session: Session, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in core(session).execute(_ENTRIES, params)]


def test_rows_equal_sqlalchemys_with_their_types(db: Database, source_id: int) -> None:
    params = {"source": source_id, "keys": ["guid:0", "guid:1", "guid:9"]}
    with db.session() as s:
        got = sqlite_exec.rows(s, _ENTRIES, params)
        assert sorted(got) == sorted(_through_sqlalchemy(s, params))
    by_identity = {row[1]: row for row in got}
    assert by_identity["guid:0"][2] == SEEN and by_identity["guid:0"][2].tzinfo is not None
    assert by_identity["guid:1"][3] is True and by_identity["guid:0"][3] is False
    assert {row[4] for row in got} == {0}


def test_in_lists_of_other_lengths_get_their_own_sql(db: Database, source_id: int) -> None:
    with db.session() as s:
        for keys in (["guid:2"], ["guid:0", "guid:1", "guid:2"], ["guid:1"]):
            params = {"source": source_id + 1, "keys": keys}
            assert sorted(sqlite_exec.rows(s, _ENTRIES, params)) == sorted(
                _through_sqlalchemy(s, params)
            )


def test_an_empty_in_list_finds_nothing(db: Database, source_id: int) -> None:
    with db.session() as s:
        assert sqlite_exec.rows(s, _ENTRIES, {"source": source_id, "keys": []}) == []


def test_scalars_of_a_text_statement(db: Database, source_id: int) -> None:
    with db.session() as s:
        assert sqlite_exec.scalars(s, _COUNT, {"source": source_id}) == [3]


def test_execute_writes_in_the_sessions_transaction(db: Database, source_id: int) -> None:
    with db.session() as s:
        sqlite_exec.execute(s, _RENAME, {"b_id": source_id, "v_title": "Kreis Neuwied"})
        assert s.scalar(select(Source.title).where(Source.id == source_id)) == "Kreis Neuwied"
        s.rollback()
    with db.session() as s:
        assert s.scalar(select(Source.title).where(Source.id == source_id)) in ("", None)


def test_pending_orm_changes_are_flushed_first(db: Database, source_id: int) -> None:
    with db.session() as s:
        s.add(Entry(source_id=source_id, identity="guid:new", title="Koblenz. Neu"))
        assert sqlite_exec.scalars(s, _COUNT, {"source": source_id}) == [4]


def test_driver_errors_arrive_as_sqlalchemys(db: Database, source_id: int) -> None:
    duplicate = text("UPDATE sources SET url = :url WHERE id = :id")
    with db.session() as s:
        s.add(Source(url="https://koblenz.example/feed.xml"))
        s.flush()
        with pytest.raises(IntegrityError):
            sqlite_exec.execute(
                s, duplicate, {"url": "https://koblenz.example/feed.xml", "id": source_id}
            )


def test_cursor_events_see_the_statement(db: Database, source_id: int) -> None:
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with db.session() as s:
            sqlite_exec.scalars(s, _COUNT, {"source": source_id})
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert any("count(*)" in statement for statement, _ in seen)


def test_on_sqlite_the_statement_goes_to_the_driver(db: Database, source_id: int) -> None:
    """SQLAlchemy's execution passes its execution context to cursor events; the
    driver path has none (on PostgreSQL every statement goes through SQLAlchemy)."""
    contexts: list[Any] = []

    def record(
        _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, *_: Any
    ) -> None:
        if "FROM entries" in statement:
            contexts.append(context)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with db.session() as s:
            sqlite_exec.rows(s, _ENTRIES, {"source": source_id, "keys": ["guid:0"]})
            on_sqlite = s.get_bind().dialect.name == "sqlite"
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(contexts) == 1
    assert (contexts[0] is None) == on_sqlite


def test_times_and_flags_as_parameters_bind_as_sqlalchemy_binds_them(
    db: Database, source_id: int
) -> None:
    later = select(Entry.identity).where(
        Entry.first_seen_at >= bindparam("since"), Entry.sponsored == bindparam("flag")
    )
    since = (SEEN + timedelta(minutes=1)).astimezone(timezone(timedelta(hours=1)))
    with db.session() as s:
        for flag in (True, False):
            params = {"since": since, "flag": flag}
            assert sorted(sqlite_exec.scalars(s, later, params)) == sorted(
                core(s).scalars(later, params)
            )
        assert sqlite_exec.scalars(s, later, {"since": since, "flag": True}) == ["guid:1"]


def test_an_in_list_padded_to_a_power_of_two_finds_the_same_rows(
    db: Database, source_id: int
) -> None:
    with db.session() as s:
        for n in range(1, 8):
            keys = [f"guid:{k % 4}" for k in range(n)]
            params = {"source": source_id, "keys": keys}
            assert sorted(sqlite_exec.rows(s, _ENTRIES, params)) == sorted(
                _through_sqlalchemy(s, params)
            )


def test_statements_it_does_not_model_run_through_sqlalchemy(db: Database, source_id: int) -> None:
    both = union_all(select(Entry.sponsored), select(Entry.sponsored))
    renamed = (
        update(Source)
        .where(Source.id == bindparam("b_id"))
        .values(title=bindparam("v_title"))
        .returning(Source.created_at)
    )
    with db.session() as s:
        flags = sqlite_exec.scalars(s, both)
        assert sorted(flags) == [False, False, False, False, True, True]
        assert all(isinstance(flag, bool) for flag in flags)  # not SQLite's 0 and 1
        (created,) = sqlite_exec.scalars(s, renamed, {"b_id": source_id, "v_title": "Neuwied"})
        assert isinstance(created, datetime)


def test_a_missing_parameter_is_sqlalchemys_statement_error(db: Database, source_id: int) -> None:
    with db.session() as s, pytest.raises(StatementError):
        sqlite_exec.rows(s, _ENTRIES, {"keys": ["guid:0"]})
