"""Full-text search over stories on SQLite FTS5 and PostgreSQL tsvector."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from feedhub.db import Database
from feedhub.ingest.records import EntryData, FeedData
from feedhub.ingest.store import store_feed
from feedhub.models import Category, Entry, Place, Source, Story
from feedhub.stories.categories import ensure_default_categories
from feedhub.stories.search import highlight_terms, search_stories

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)


def item(
    n: int, title: str, lead: str, *, hours: int = 0, tags: list[str] | None = None
) -> EntryData:
    return EntryData(
        guid=f"g{n}",
        url=f"https://example.org/{n}",
        canonical_url=f"example.org/{n}",
        title=title,
        author="",
        summary=lead,
        content=f"<p>{lead} <b>Details</b> im Artikel Nummer {n}.</p>",
        lead=lead,
        published_at=NOW - timedelta(hours=hours),
        updated_at=None,
        feed_categories=tags or [],
        content_hash=hashlib.sha256(f"{n}{title}{lead}".encode()).hexdigest(),
    )


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.session() as s:
        ensure_default_categories(s, "Weitere Artikel")
        yield s


@pytest.fixture
def stories(session: Session) -> dict[str, int]:
    """Five stories from two sources; returns title keyword → story id."""
    kurier = Source(url="https://kurier.example/feed", title="Rhein-Kurier")
    blatt = Source(url="https://blatt.example/feed", title="Westerwald-Blatt")
    session.add_all([kurier, blatt])
    session.flush()
    store_feed(
        session,
        kurier,
        FeedData(
            entries=[
                item(
                    1,
                    "Neue Brücke für Niederbieber",
                    "Neuwied. Die Stadt baut eine Brücke.",
                    hours=5,
                    tags=["Wirtschaft"],
                ),
                item(
                    2,
                    "Kreise streiten über Busverkehr",
                    "Koblenz. Zwei Kreise verhandeln.",
                    hours=4,
                ),
                item(
                    3, "Annual report published", "The company released its annual report.", hours=3
                ),
            ]
        ),
        NOW,
    )
    store_feed(
        session,
        blatt,
        FeedData(
            entries=[
                item(
                    4, "Karneval in Köln abgesagt", "Köln. Der Rosenmontagszug fällt aus.", hours=2
                ),
                item(
                    5,
                    "Brückentag: Ämter geschlossen",
                    "Bad Hönningen. Am Freitag bleiben Ämter zu.",
                    hours=1,
                ),
            ]
        ),
        NOW,
    )
    session.flush()
    return {
        key: session.scalars(select(Entry.story_id).where(Entry.guid == f"g{n}")).one()  # type: ignore[misc]
        for key, n in [
            ("bruecke", 1),
            ("kreise", 2),
            ("report", 3),
            ("koeln", 4),
            ("brueckentag", 5),
        ]
    }


def test_german_plural_finds_singular(session: Session, stories: dict[str, int]) -> None:
    assert stories["bruecke"] in search_stories(session, "Brücken")


def test_kreis_finds_kreise(session: Session, stories: dict[str, int]) -> None:
    assert search_stories(session, "Kreis") == [stories["kreise"]]


def test_english_inflection(session: Session, stories: dict[str, int]) -> None:
    assert search_stories(session, "reports") == [stories["report"]]


def test_umlaut_spellings_fold(session: Session, stories: dict[str, int]) -> None:
    assert search_stories(session, "Koeln") == [stories["koeln"]]
    assert search_stories(session, "honningen") == [stories["brueckentag"]]


def test_all_words_must_match(session: Session, stories: dict[str, int]) -> None:
    assert search_stories(session, "Brücke Niederbieber") == [stories["bruecke"]]
    assert search_stories(session, "Brücke Karneval") == []


def test_results_are_newest_first(session: Session, stories: dict[str, int]) -> None:
    # "Brück" prefixes both the bridge story and the Brückentag story
    assert search_stories(session, "Brück") == [stories["brueckentag"], stories["bruecke"]]


def test_content_source_and_place_are_searchable(session: Session, stories: dict[str, int]) -> None:
    assert search_stories(session, "Rosenmontagszug") == [stories["koeln"]]
    assert search_stories(session, "Westerwald-Blatt Karneval") == [stories["koeln"]]
    assert stories["bruecke"] in search_stories(session, "Neuwied")


def test_filters(session: Session, stories: dict[str, int]) -> None:
    wirtschaft = session.scalars(select(Category.id).where(Category.name == "Wirtschaft")).one()
    assert search_stories(session, "Brück", category_id=wirtschaft) == [stories["bruecke"]]
    place = session.scalars(select(Place.id).where(Place.name == "Bad Hönningen")).one()
    assert search_stories(session, "Brück", place_id=place) == [stories["brueckentag"]]
    kurier = session.scalars(select(Source.id).where(Source.title == "Rhein-Kurier")).one()
    assert search_stories(session, "Brück", source_id=kurier) == [stories["bruecke"]]
    cut = NOW - timedelta(hours=3)
    assert search_stories(session, "Brück", since=cut) == [stories["brueckentag"]]
    assert search_stories(session, "Brück", until=cut) == [stories["bruecke"]]


def test_keyset_pagination(session: Session, stories: dict[str, int]) -> None:
    first = search_stories(session, "Brück", limit=1)
    assert first == [stories["brueckentag"]]
    story = session.get(Story, first[0])
    assert story is not None
    rest = search_stories(session, "Brück", limit=1, before=(story.sort_at, story.id))
    assert rest == [stories["bruecke"]]


def test_hidden_stories_are_not_found(session: Session, stories: dict[str, int]) -> None:
    story = session.get(Story, stories["koeln"])
    assert story is not None
    story.hidden = True
    session.flush()
    assert search_stories(session, "Karneval") == []


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "Brücke AND",
        "OR NOT NEAR",
        "(((",
        "a*b*",
        "-Brücke",
        "brücke:*",
        "'; DROP TABLE x; --",
        "^",
        "title:Brücke",
        "&|!<->",
        "\x00",
        "",
        "   ",
        "ä" * 500,
    ],
)
def test_operator_syntax_never_raises(
    session: Session, stories: dict[str, int], query: str
) -> None:
    assert isinstance(search_stories(session, query), list)


def test_operators_are_plain_words(session: Session, stories: dict[str, int]) -> None:
    assert search_stories(session, "Brücke AND Niederbieber") == []  # "and" is a word too
    assert search_stories(session, '"Niederbieber"') == [stories["bruecke"]]


def test_highlight_terms_give_words_and_stems() -> None:
    assert highlight_terms("Brücken in Köln!") == ["brucken", "bruck", "in", "koln"]
    assert highlight_terms("AND (") == ["and"]
