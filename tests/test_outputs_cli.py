"""`feedhub outputs add/list/remove/rotate-token`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from feedhub.db import Database
from feedhub.models import OutputFeed
from feedhub.publish.cli import outputs_cli
from feedhub.publish.query import FeedFilter

from .outputs_seed import Seeder


@pytest.fixture
def seed(db: Database) -> Seeder:
    return Seeder(db)


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def run(runner: FlaskCliRunner, *args: str) -> Any:
    return runner.invoke(outputs_cli, list(args))


def stored(db: Database, slug: str) -> OutputFeed:
    with db.session() as s:
        return s.scalars(select(OutputFeed).where(OutputFeed.slug == slug)).one()


def test_add_stores_every_filter(runner: FlaskCliRunner, db: Database, seed: Seeder) -> None:
    cat = seed.category("Wirtschaft", "wirtschaft")
    src = seed.source("GA", "https://ga.example/feed")
    result = run(
        runner, "add", "bonn-wirtschaft", "--title", "Bonn: Wirtschaft",
        "--category", "Wirtschaft", "--place", "Bonn", "--source", "https://ga.example/feed",
        "--include", "Hafen", "--exclude", "Anzeige", "--regex", "bonn|beuel",
        "--include-sponsored", "--min-sources", "2", "--max-age-hours", "48",
        "--max-items", "20", "--per-source-cap", "3",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "/feeds/bonn-wirtschaft.atom" in result.output
    feed = stored(db, "bonn-wirtschaft")
    assert feed.public and feed.token is None
    assert FeedFilter.from_json(feed.filters) == FeedFilter(
        categories=(cat,), places=("Bonn",), sources=(src,), include=("Hafen",),
        exclude=("Anzeige",), regex="bonn|beuel", include_sponsored=True, min_sources=2,
        max_age_hours=48.0, max_items=20, per_source_cap=3,
    )  # fmt: skip


def test_add_private_prints_the_token_url(runner: FlaskCliRunner, db: Database) -> None:
    result = run(runner, "add", "intern", "--title", "Intern", "--private")
    assert result.exit_code == 0, result.output
    feed = stored(db, "intern")
    assert not feed.public and feed.token
    assert f"?token={feed.token}" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--category", "Gibtsnicht"], "unknown category: Gibtsnicht"),
        (["--source", "https://nowhere.example/"], "unknown source"),
        (["--regex", "(kaputt"], "invalid regular expression"),
    ],
)
def test_add_mistakes_are_one_line_errors(
    runner: FlaskCliRunner, args: list[str], message: str
) -> None:
    result = run(runner, "add", "x", "--title", "X", *args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.output.strip().count("\n") == 0


def test_add_refuses_reserved_and_taken_slugs(runner: FlaskCliRunner) -> None:
    assert "reserved" in run(runner, "add", "all", "--title", "A").output
    assert run(runner, "add", "dup", "--title", "A").exit_code == 0
    assert "exists already" in run(runner, "add", "dup", "--title", "B").output
    assert "invalid slug" in run(runner, "add", "Not A Slug", "--title", "C").output


def test_list_json(runner: FlaskCliRunner) -> None:
    run(runner, "add", "eins", "--title", "Eins", "--include", "Bonn")
    result = run(runner, "list", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["slug"], r["title"], r["public"]) for r in rows] == [("eins", "Eins", True)]
    assert rows[0]["filters"]["include"] == ["Bonn"]
    assert rows[0]["paths"]["json"] == "/feeds/eins.json"


def test_list_text(runner: FlaskCliRunner) -> None:
    run(runner, "add", "eins", "--title", "Eins", "--min-sources", "2")
    result = run(runner, "list")
    assert "eins\tEins\tpublic\t/feeds/eins.atom" in result.output
    assert "min. sources: 2" in result.output


def test_remove(runner: FlaskCliRunner, db: Database) -> None:
    run(runner, "add", "weg", "--title", "Weg")
    assert run(runner, "remove", "weg").exit_code == 0
    with db.session() as s:
        assert s.scalars(select(OutputFeed)).all() == []
    missing = run(runner, "remove", "weg")
    assert missing.exit_code == 1 and "no output feed 'weg'" in missing.output


def test_rotate_token(runner: FlaskCliRunner, db: Database) -> None:
    run(runner, "add", "intern", "--title", "Intern", "--private")
    old = stored(db, "intern").token
    result = run(runner, "rotate-token", "intern")
    assert result.exit_code == 0, result.output
    new = stored(db, "intern").token
    assert new and new != old and new in result.output


def test_rotate_token_of_public_feed_is_an_error(runner: FlaskCliRunner) -> None:
    run(runner, "add", "offen", "--title", "Offen")
    result = run(runner, "rotate-token", "offen")
    assert result.exit_code == 1 and "public" in result.output
