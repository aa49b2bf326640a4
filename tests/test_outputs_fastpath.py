"""The WSGI fast path: repeated polls within the revalidation window skip Flask and the DB."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from feedhub.db import Database
from feedhub.publish.outputs import OutputSpec, create_output, find_output, rotate_token

from .outputs_seed import Seeder

WINDOW = 0.5


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "OUTPUT_REVALIDATE_SECONDS": WINDOW}


@pytest.fixture
def seed(db: Database) -> Seeder:
    return Seeder(db)


@pytest.fixture
def story(seed: Seeder) -> int:
    return seed.story("Meldung", [seed.source("A")], age=timedelta(hours=1))


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    """SQL statements the app's engine runs from now on."""
    seen: list[str] = []
    engine = app.extensions["feedhub"].db.engine

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def warm(client: FlaskClient, path: str) -> None:
    """First request renders through Flask; the second lets the fast path learn headers."""
    assert client.get(path).status_code == 200


def test_repeated_poll_runs_no_sql(client: FlaskClient, story: int, statements: list[str]) -> None:
    warm(client, "/feeds/all.atom")
    statements.clear()
    assert client.get("/feeds/all.atom").status_code == 200
    assert statements == []


def test_fast_path_answers_like_flask(client: FlaskClient, story: int) -> None:
    first = client.get("/feeds/all.atom", headers={"Accept-Encoding": "gzip"})
    second = client.get("/feeds/all.atom", headers={"Accept-Encoding": "gzip"})
    assert second.data == first.data
    skip = {"Vary", "Date"}
    assert {k: v for k, v in second.headers if k not in skip} == {
        k: v for k, v in first.headers if k not in skip
    }
    assert "Content-Security-Policy" in second.headers


def test_fast_path_gives_304(client: FlaskClient, story: int, statements: list[str]) -> None:
    etag = client.get("/feeds/all.json").headers["ETag"]
    statements.clear()
    response = client.get("/feeds/all.json", headers={"If-None-Match": etag})
    assert response.status_code == 304 and statements == []


def test_fast_path_head_has_no_body(client: FlaskClient, story: int) -> None:
    full = client.get("/feeds/all.rss")
    head = client.head("/feeds/all.rss")
    assert head.data == b"" and head.headers["Content-Length"] == str(len(full.data))


def test_change_shows_after_the_window(client: FlaskClient, seed: Seeder, story: int) -> None:
    warm(client, "/feeds/all.json")
    seed.change(story, title="Meldung, neu")
    time.sleep(WINDOW + 0.1)
    assert "Meldung, neu" in client.get("/feeds/all.json").get_data(as_text=True)


def test_wrong_token_still_404(client: FlaskClient, db: Database, story: int) -> None:
    with db.session() as s:
        token = create_output(s, OutputSpec(slug="intern", title="I", public=False)).token
    warm(client, f"/feeds/intern.atom?token={token}")
    assert client.get(f"/feeds/intern.atom?token={token}").status_code == 200
    assert client.get("/feeds/intern.atom?token=wrong").status_code == 404
    assert client.get("/feeds/intern.atom").status_code == 404


def test_rotated_token_stops_working_after_the_window(
    client: FlaskClient, db: Database, story: int
) -> None:
    with db.session() as s:
        old = create_output(s, OutputSpec(slug="intern", title="I", public=False)).token
    warm(client, f"/feeds/intern.atom?token={old}")
    with db.session() as s:
        rotate_token(s, find_output(s, "intern"))
    time.sleep(WINDOW + 0.1)
    assert client.get(f"/feeds/intern.atom?token={old}").status_code == 404


def test_no_cookie_is_replayed(client: FlaskClient, story: int) -> None:
    warm(client, "/feeds/all.atom")
    assert "Set-Cookie" not in client.get("/feeds/all.atom").headers


def test_fast_path_memory_stays_bounded(app: Flask, client: FlaskClient, story: int) -> None:
    from feedhub.web.feeds import outputs_state

    state = outputs_state(app)
    state.cache.max_entries = 3
    for n in range(6):
        assert client.get("/feeds/all.atom", base_url=f"http://host{n}.example").status_code == 200
    assert len(state.fresh) <= 3
