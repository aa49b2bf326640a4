"""Bulk inserts hand back each row's new id in the order of the rows, on both databases."""

from __future__ import annotations

from sqlalchemy import delete, event, select

from feedhub.db import Database
from feedhub.models import Source
from feedhub.stories.bulk import insert_returning_ids

SOURCES = Source.__table__


def _rows(prefix: str, n: int) -> list[dict[str, object]]:
    return [{"url": f"https://{prefix}{i}.example/feed"} for i in range(n)]


def test_ids_come_back_in_row_order(db: Database) -> None:
    rows = _rows("a", 60)
    with db.session() as session:
        ids = insert_returning_ids(session, SOURCES, rows)
        stored = dict(session.execute(select(Source.id, Source.url)).all())
    assert len(set(ids)) == len(rows)
    assert [stored[i] for i in ids] == [r["url"] for r in rows]


def test_ids_stay_in_row_order_after_the_newest_rows_were_deleted(db: Database) -> None:
    """A deleted maximum id is given out again; the order must still hold."""
    with db.session() as session:
        first = insert_returning_ids(session, SOURCES, _rows("b", 10))
        session.execute(delete(Source).where(Source.id.in_(first[5:])))
    rows = _rows("c", 25)
    with db.session() as session:
        ids = insert_returning_ids(session, SOURCES, rows)
        stored = dict(session.execute(select(Source.id, Source.url)).all())
    assert [stored[i] for i in ids] == [r["url"] for r in rows]


def test_many_rows_take_one_statement(db: Database) -> None:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with db.session() as session:
            insert_returning_ids(session, SOURCES, _rows("d", 40))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1
