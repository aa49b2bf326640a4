"""`feedhub rules …` and `feedhub stories …` against a real database."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select

from feedhub.app import runtime
from feedhub.ingest.records import EntryData, FeedData
from feedhub.ingest.store import store_feed
from feedhub.models import Entry, Rule, Source
from feedhub.stories.categories import ensure_default_categories
from feedhub.stories.cli import rules_cli, stories_cli

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)
LEAD = (
    "Neuwied. Die Stadt saniert die Brücke über den Wiedbach im Stadtteil Niederbieber. "
    "Die Arbeiten beginnen im Juni und sollen bis zum Herbst dauern, teilte die Verwaltung mit."
)


@pytest.fixture
def cli_app(app: Flask) -> Flask:
    with app.app_context(), runtime().db.session() as session:
        ensure_default_categories(session, "Weitere Artikel")
    return app


def invoke(app: Flask, group: object, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(group, list(args))


def test_rules_add_list_remove(cli_app: Flask) -> None:
    added = invoke(
        cli_app, rules_cli, "add", "--name", "fussball", "--field", "title",
        "--pattern", "Tor, Elfmeter", "--action", "set_category", "--category", "Sport",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    listed = invoke(cli_app, rules_cli, "list", "--json")
    rows = json.loads(listed.output)
    assert [(r["name"], r["category"], r["pattern"]) for r in rows] == [
        ("fussball", "Sport", "Tor, Elfmeter")
    ]
    removed = invoke(cli_app, rules_cli, "remove", str(rows[0]["id"]))
    assert removed.exit_code == 0
    assert json.loads(invoke(cli_app, rules_cli, "list", "--json").output) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--match", "regex", "--pattern", "(a+)+", "--action", "hide"], "nested quantifiers"),
        (["--pattern", "x", "--action", "set_category"], "--category is required"),
        (["--pattern", "x", "--action", "set_category", "--category", "Astro"], "no category"),
    ],
)
def test_rules_add_mistakes_give_one_line_and_fail(
    cli_app: Flask, args: list[str], message: str
) -> None:
    result = invoke(cli_app, rules_cli, "add", "--name", "n", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    with cli_app.app_context(), runtime().db.session() as session:
        assert session.scalars(select(Rule)).all() == []


def test_rules_remove_unknown_id(cli_app: Flask) -> None:
    result = invoke(cli_app, rules_cli, "remove", "4711")
    assert result.exit_code != 0 and "rule 4711 does not exist" in result.output


def _two_copies(app: Flask) -> tuple[int, int, int]:
    with app.app_context(), runtime().db.session() as session:
        ids = []
        for key, title in [("rz", "Brücke wird saniert"), ("nr", "Wiedbach: Brücke wird saniert")]:
            source = Source(url=f"https://{key}.example/feed", title=key.upper())
            session.add(source)
            session.flush()
            data = EntryData(
                guid=key, url=f"https://{key}.example/1", canonical_url=f"{key}.example/1",
                title=title, author="", summary=LEAD, content=LEAD, lead=LEAD,
                published_at=NOW, updated_at=None,
                content_hash=hashlib.sha256(title.encode()).hexdigest(),
            )  # fmt: skip
            store_feed(session, source, FeedData(entries=[data]), NOW)
            ids.append(session.scalars(select(Entry.id).where(Entry.guid == key)).one())
        story_id = session.scalars(select(Entry.story_id).where(Entry.id == ids[0])).one()
        assert story_id is not None
        return story_id, ids[0], ids[1]


def test_stories_show_split_merge(cli_app: Flask) -> None:
    story_id, _first, second = _two_copies(cli_app)
    shown = invoke(cli_app, stories_cli, "show", str(story_id))
    assert shown.exit_code == 0
    assert "entries: 2" in shown.output and "near_duplicate" in shown.output
    split = invoke(cli_app, stories_cli, "split", str(story_id), str(second))
    assert split.exit_code == 0, split.output
    new_id = int(split.output.rsplit(" ", 1)[1])
    assert "pinned" in invoke(cli_app, stories_cli, "show", str(new_id)).output
    merged = invoke(cli_app, stories_cli, "merge", str(story_id), str(new_id))
    assert merged.exit_code == 0
    assert "entries: 2" in invoke(cli_app, stories_cli, "show", str(story_id)).output
    gone = invoke(cli_app, stories_cli, "show", str(new_id))
    assert gone.exit_code != 0 and f"story {new_id} does not exist" in gone.output


def test_stories_split_mistake(cli_app: Flask) -> None:
    story_id, _first, _second = _two_copies(cli_app)
    result = invoke(cli_app, stories_cli, "split", str(story_id), "999999")
    assert result.exit_code != 0
    assert "not in story" in result.output and "Traceback" not in result.output
