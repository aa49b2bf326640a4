"""Full-text search over stories on SQLite FTS5 and PostgreSQL tsvector."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from feedhub.db import Database
from feedhub.ingest.records import EntryData, FeedData
from feedhub.ingest.store import store_feed
from feedhub.models import Category, Entry, Place, Source, Story
from feedhub.stories import search_query
from feedhub.stories.categories import ensure_default_categories
from feedhub.stories.search import highlight_terms, search_stories

from .reader_seed import Seeder

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


# --- every query plan returns the same, exact answer ----------------------------------


@dataclass(frozen=True)
class Facts:
    """What a corpus story is, so the expected answer needs no database."""

    id: int
    at: datetime
    words: frozenset[str]
    category_id: int | None
    place_ids: frozenset[int]
    source_ids: frozenset[int]
    hidden: bool


MARKERS = ("alpha", "gamma", "delta")  # stable under both stemmers, prefixes of nothing else
CORPUS_SIZE = 60


@pytest.fixture
def corpus(db: Database) -> Iterator[tuple[Session, list[Facts]]]:
    """60 stories with dates out of id order (and one tie), categories, places, sources,
    hidden ones, and marker words in known stories: "alpha" in every second one,
    "gamma" in every third, "delta" in every seventh, "zeitung" in all."""
    seeder = Seeder(session=db.sessionmaker())
    categories = [
        seeder.category("Wirtschaft", slug="wirtschaft", position=1),
        seeder.category("Sport", slug="sport", position=2),
    ]
    places = [seeder.place("Ulm", "ulm"), seeder.place("Bonn", "bonn")]
    start = datetime(2024, 3, 1, tzinfo=UTC)
    facts: list[Facts] = []
    for i in range(CORPUS_SIZE):
        minutes = (i * 37) % CORPUS_SIZE  # a permutation: ids and dates disagree
        at = start + timedelta(minutes=minutes if i != 7 else (9 * 37) % CORPUS_SIZE)
        words = {"zeitung"}
        words |= {m for m, every in zip(MARKERS, (2, 3, 7), strict=True) if i % every == 0}
        category = categories[i % 3] if i % 3 < 2 else None
        story_places = [p for p, every in zip(places, (4, 5), strict=True) if i % every == 0]
        sources = [name for name, every in (("Kurier", 2), ("Blatt", 3)) if i % every == 0]
        story = seeder.story(
            " ".join(sorted(words)).capitalize(),
            category=category,
            sources=sources or ["Anzeiger"],
            at=at,
            places=story_places,
            hidden=i % 11 == 5,
        )
        facts.append(
            Facts(
                id=story.id,
                at=at,
                words=frozenset(words),
                category_id=category.id if category else None,
                place_ids=frozenset(p.id for p in story_places),
                source_ids=frozenset(seeder.sources[n].id for n in sources or ["Anzeiger"]),
                hidden=i % 11 == 5,
            )
        )
    seeder.session.commit()
    yield seeder.session, facts
    seeder.session.close()


def expected(
    facts: list[Facts],
    words: list[str],
    limit: int,
    *,
    category_id: int | None = None,
    place_id: int | None = None,
    source_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: tuple[datetime, int] | None = None,
) -> list[int]:
    found = [
        f
        for f in facts
        if not f.hidden
        and set(words) <= f.words
        and category_id in (None, f.category_id)
        and (place_id is None or place_id in f.place_ids)
        and (source_id is None or source_id in f.source_ids)
        and (since is None or f.at >= since)
        and (until is None or f.at < until)
        and (before is None or (f.at, f.id) < before)
    ]
    found.sort(key=lambda f: (f.at, f.id), reverse=True)
    return [f.id for f in found[:limit]]


def search_cases(facts: list[Facts]) -> list[dict[str, Any]]:
    """Every filter the reader offers, alone and combined, on a page and past one."""
    first = sorted(facts, key=lambda f: (f.at, f.id), reverse=True)
    middle = first[len(first) // 2]
    categories = sorted({f.category_id for f in facts if f.category_id is not None})
    places = sorted({p for f in facts for p in f.place_ids})
    sources = sorted({s for f in facts for s in f.source_ids})
    filters: list[dict[str, Any]] = [{}]
    filters += [{"category_id": c} for c in categories]
    filters += [{"place_id": p} for p in places]
    filters += [{"source_id": s} for s in sources]
    filters += [
        {"since": middle.at},
        {"until": middle.at},
        {"since": first[40].at, "until": first[10].at},
        {"before": (middle.at, middle.id)},
        {"category_id": categories[0], "place_id": places[0], "source_id": sources[0]},
        {"source_id": sources[0], "before": (middle.at, middle.id), "since": first[50].at},
    ]
    return [
        {"words": words, "limit": limit, **f}
        for words in (["zeitung"], ["alpha"], ["gamma"], ["delta"], ["alpha", "gamma"])
        for limit in (1, 4, 100)
        for f in filters
    ]


@pytest.mark.parametrize(
    ("window", "small_source"),
    [
        (1000, 1000),  # walks never run out; small sources drive
        (3, 1000),  # walks run out early: the match set is sorted
        (1000, 0),  # no source counts as small: the walk tests the source too
        (1, 0),
    ],
    ids=["wide-walk", "short-walk", "no-small-source", "shortest"],
)
def test_every_plan_returns_the_newest_matches(
    corpus: tuple[Session, list[Facts]],
    monkeypatch: pytest.MonkeyPatch,
    window: int,
    small_source: int,
) -> None:
    session, facts = corpus
    monkeypatch.setattr(search_query, "NEWEST_WINDOW", window)
    monkeypatch.setattr(search_query, "SMALL_SOURCE_ENTRIES", small_source)
    for case in search_cases(facts):
        words, limit = case.pop("words"), case.pop("limit")
        got = search_stories(session, " ".join(words), limit=limit, **case)
        assert got == expected(facts, words, limit, **case), (words, limit, case)


def test_paging_through_a_common_word_visits_every_match_once(
    corpus: tuple[Session, list[Facts]], monkeypatch: pytest.MonkeyPatch
) -> None:
    session, facts = corpus
    monkeypatch.setattr(search_query, "NEWEST_WINDOW", 5)
    by_id = {f.id: f for f in facts}
    seen: list[int] = []
    before: tuple[datetime, int] | None = None
    while page := search_stories(session, "zeitung", limit=4, before=before):
        seen += page
        last = by_id[page[-1]]
        before = (last.at, last.id)
    assert seen == expected(facts, ["zeitung"], CORPUS_SIZE)


# --- the statements a search runs are served by indexes -------------------------------

FULL_SCAN = re.compile(r"^SCAN (stories|entries|story_places)\b(?! USING)", re.M)


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"category_id": 1},
        {"place_id": 1},
        {"source_id": 1},
        {"since": NOW - timedelta(days=61)},
    ],
    ids=["none", "category", "place", "source", "since"],
)
@pytest.mark.parametrize("query", ["zeitung", "delta"], ids=["common", "rare"])
def test_search_statements_use_indexes(
    db: Database,
    corpus: tuple[Session, list[Facts]],
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    filters: dict[str, Any],
) -> None:
    session, _facts = corpus
    monkeypatch.setattr(search_query, "NEWEST_WINDOW", 5)  # a rare word runs out of window
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        statements.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        search_stories(session, query, **filters)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert statements
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
        for statement, params in statements:
            if db.dialect == "sqlite":
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
                plan = "\n".join(str(r[-1]) for r in rows)
                assert not re.search(
                    r"^SCAN (stories|entries|story_places)\b(?! USING)", plan, re.M
                )
            else:
                rows = conn.exec_driver_sql("EXPLAIN " + statement, params).all()
                plan = "\n".join(str(r[0]) for r in rows)
                assert "Seq Scan" not in plan, plan


def test_a_new_story_on_a_deleted_storys_id_is_found_by_its_own_words(db: Database) -> None:
    """New stories' documents are inserted without a delete first: the old one went
    with its story (SQLite hands the highest id out again once it is deleted)."""
    with db.session() as s:
        ensure_default_categories(s, "Weitere Artikel")
        kurier = Source(url="https://kurier.example/feed", title="Rhein-Kurier")
        blatt = Source(url="https://blatt.example/feed", title="Westerwald-Blatt")
        s.add_all([kurier, blatt])
        s.flush()
        store_feed(s, kurier, FeedData(entries=[item(1, "Neue Brücke", "Neuwied. Ein Bau.")]), NOW)
    with db.session() as s:
        old_id = s.scalars(select(Entry.story_id)).one()
        s.execute(delete(Entry))
        s.execute(delete(Story))
    with db.session() as s:
        blatt = s.scalars(select(Source).where(Source.title == "Westerwald-Blatt")).one()
        store_feed(s, blatt, FeedData(entries=[item(2, "Karneval", "Köln. Der Zug.")]), NOW)
    with db.session() as s:
        new_id = s.scalars(select(Entry.story_id)).one()
        if db.dialect == "sqlite":
            assert new_id == old_id
        assert search_stories(s, "Karneval") == [new_id]
        assert search_stories(s, "Brücke") == []
