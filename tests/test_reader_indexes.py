"""Every query a reader page runs is served by an index (EXPLAIN on SQLite and PostgreSQL).

The SQL a page really executes is captured from the engine, then explained with the
same parameters. On PostgreSQL sequential scans and sorts are switched off first, so
a plan that still contains one proves no index can serve the query.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from .reader_seed import Seeder, login

pytest_plugins = ("tests.reader_fixtures",)

BIG_TABLES = ("stories", "entries", "story_places", "stars", "read_marks", "login_attempts")
Captured = list[tuple[str, Any]]


@pytest.fixture
def captured(app: Flask) -> Iterator[Captured]:
    engine = app.extensions["feedhub"].db.engine
    statements: Captured = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    yield statements
    event.remove(engine, "before_cursor_execute", capture)


def _problems(app: Flask, statements: Captured, *, ordered: bool) -> list[str]:
    engine = app.extensions["feedhub"].db.engine
    found: list[str] = []
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.exec_driver_sql("SET enable_sort = off")
        for statement, params in statements:
            touched = [t for t in BIG_TABLES if re.search(rf"\b{t}\b", statement)]
            if not touched:
                continue
            if engine.dialect.name == "sqlite":
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
                plan = "\n".join(str(r[-1]) for r in rows)
                for table in touched:
                    if re.search(rf"^SCAN {table}(?! USING)", plan, re.M):
                        found.append(f"full scan of {table}: {statement}\n{plan}")
                if ordered and "LIMIT" in statement and "TEMP B-TREE FOR ORDER BY" in plan:
                    found.append(f"sort not served by an index: {statement}\n{plan}")
            else:
                rows = conn.exec_driver_sql("EXPLAIN " + statement, params).all()
                plan = "\n".join(str(r[0]) for r in rows)
                for table in touched:
                    if re.search(rf"Seq Scan on {table}\b", plan):
                        found.append(f"seq scan of {table}: {statement}\n{plan}")
                if (
                    ordered
                    and "LIMIT" in statement
                    and re.search(r"->\s+Sort\b|^Sort\b", plan, re.M)
                ):
                    found.append(f"sort not served by an index: {statement}\n{plan}")
    return found


@pytest.fixture
def populated(seed: Seeder) -> Seeder:
    cat = seed.category("Wirtschaft", slug="wirtschaft", position=1)
    seed.category("Weitere Artikel", slug="weitere", position=9, fallback=True)
    ulm = seed.place("Ulm", "ulm")
    seed.user()
    for i in range(40):
        seed.story(f"Rathaus {i}", category=cat if i % 2 else None, places=[ulm] if i % 3 else [])
    seed.session.commit()
    return seed


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/latest",
        "/category/wirtschaft",
        "/category/weitere",
        "/place/ulm",
        "/source/1",
        "/story/20",
        "/unread",
        "/starred",
        "/search?q=rathaus",
    ],
)
def test_page_queries_use_indexes(
    app: Flask, client: FlaskClient, populated: Seeder, captured: Captured, path: str
) -> None:
    login(client)
    client.get(path)  # first page: also yields the cursor of the next one
    html = client.get(path).get_data(as_text=True)
    more = re.search(r'<a href="([^"]+)" rel="next" data-more>', html)
    captured.clear()

    assert client.get(path).status_code == 200
    if more:
        assert client.get(more.group(1).replace("&amp;", "&")).status_code == 200

    # full-text matches come from the FTS index and are then sorted by date: that
    # sort is over the matches only, so search is exempt from the ordering check
    assert _problems(app, captured, ordered=not path.startswith("/search")) == []
