"""Clustering, aggregates, admin split/merge and pruning, through the real ingest store."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from feedhub.db import Database
from feedhub.ingest.records import EntryData, FeedData
from feedhub.ingest.store import store_feed
from feedhub.models import (
    Category,
    Entry,
    Place,
    Source,
    Star,
    Story,
    StoryMerge,
    StoryPlace,
    User,
)
from feedhub.stories.admin import StoryError, merge_stories, split_entries
from feedhub.stories.categories import ensure_default_categories
from feedhub.stories.search import search_stories
from feedhub.stories.service import detach_entries

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)
BRIDGE_TITLE = "Brücke über den Wiedbach wird ab Juni saniert"
BRIDGE_LEAD = (
    "Neuwied. Die Stadt saniert die Brücke über den Wiedbach im Stadtteil Niederbieber. "
    "Die Arbeiten beginnen im Juni und sollen bis zum Herbst dauern, teilte die "
    "Verwaltung mit. Autofahrer müssen mit Umleitungen über die Landesstraße rechnen."
)
TEASER_TITLE = "Niederbieber: Wiedbach-Brücke wird saniert"
TEASER_LEAD = BRIDGE_LEAD[:150] + " …"


def item(
    key: str,
    title: str,
    lead: str,
    *,
    at: datetime = NOW,
    categories: list[str] | None = None,
    url: str | None = None,
) -> EntryData:
    canonical = url or f"{key}.example/news/{abs(hash(title)) % 10**8}"
    return EntryData(
        guid=f"{key}-{title}",
        url="https://" + canonical,
        canonical_url=canonical,
        title=title,
        author="",
        summary=lead,
        content=f"<p>{lead}</p>",
        lead=lead,
        published_at=at,
        updated_at=None,
        feed_categories=categories or [],
        content_hash=hashlib.sha256(f"{title}|{lead}".encode()).hexdigest(),
    )


class World:
    """Sources and a helper that ingests items through feedhub.ingest.store."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.sources: dict[str, Source] = {}

    def source(self, key: str, *, priority: int = 0, category: str | None = None) -> Source:
        if key not in self.sources:
            cat_id = None
            if category:
                cat_id = self.session.scalars(
                    select(Category.id).where(Category.name == category)
                ).one()
            src = Source(
                url=f"https://{key}.example/feed",
                title=f"{key.capitalize()} Zeitung",
                priority=priority,
                category_id=cat_id,
            )
            self.session.add(src)
            self.session.flush()
            self.sources[key] = src
        return self.sources[key]

    def ingest(self, key: str, *items: EntryData, now: datetime = NOW) -> list[Entry]:
        store_feed(self.session, self.source(key), FeedData(entries=list(items)), now)
        self.session.flush()
        guids = [i.guid for i in items]
        entries = self.session.scalars(
            select(Entry).where(Entry.source_id == self.source(key).id, Entry.guid.in_(guids))
        ).all()
        return sorted(entries, key=lambda e: guids.index(e.guid))


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.session() as s:
        ensure_default_categories(s, "Weitere Artikel")
        yield s


@pytest.fixture
def world(session: Session) -> World:
    return World(session)


def merge_of(session: Session, entry: Entry) -> StoryMerge:
    return session.scalars(
        select(StoryMerge).where(StoryMerge.entry_id == entry.id).order_by(StoryMerge.id.desc())
    ).first()  # type: ignore[return-value]


def test_storing_leaves_the_parsed_items_as_they_were(world: World) -> None:
    """A poll may be stored again (a failed poll rolls back its SQLite group): a
    date pushed back from the future goes into the row, not into the item."""
    future = NOW + timedelta(days=30)
    parsed = item("rz", BRIDGE_TITLE, BRIDGE_LEAD, at=future)
    (entry,) = world.ingest("rz", parsed)
    assert entry.published_at is None
    assert parsed.published_at == future


# -- clustering -------------------------------------------------------------------
def test_first_entry_starts_a_story(world: World, session: Session) -> None:
    (entry,) = world.ingest("rz", item("rz", BRIDGE_TITLE, BRIDGE_LEAD))
    story = session.get(Story, entry.story_id)
    assert story is not None
    assert (story.title, story.entry_count, story.source_count) == (BRIDGE_TITLE, 1, 1)
    assert merge_of(session, entry).reason == "new"


def test_syndicated_teaser_with_edited_title_joins_and_says_why(
    world: World, session: Session
) -> None:
    (original,) = world.ingest("rz", item("rz", BRIDGE_TITLE, BRIDGE_LEAD))
    (copy,) = world.ingest("nr", item("nr", TEASER_TITLE, TEASER_LEAD, at=NOW + timedelta(hours=5)))
    assert copy.story_id == original.story_id
    merge = merge_of(session, copy)
    assert merge.reason == "near_duplicate"
    assert merge.matched_entry_id == original.id
    assert merge.similarity is not None and merge.similarity >= 0.5
    assert merge.key.startswith("lsh:")


def test_same_canonical_url_joins_at_once(world: World, session: Session) -> None:
    (original,) = world.ingest("rz", item("rz", BRIDGE_TITLE, BRIDGE_LEAD, url="rz.example/a/1"))
    (copy,) = world.ingest("agg", item("agg", "Ganz anderer Titel", "Kurz.", url="rz.example/a/1"))
    assert copy.story_id == original.story_id
    merge = merge_of(session, copy)
    assert (merge.reason, merge.key) == ("url", "rz.example/a/1")


def test_next_days_report_with_other_figures_is_a_new_story(world: World) -> None:
    (monday,) = world.ingest(
        "rz",
        item(
            "rz",
            "Inzidenz sinkt auf 569,0",
            "Kreis Neuwied. Die Sieben-Tage-Inzidenz sinkt auf "
            "569,0 (Vortag: 571,2). Das Gesundheitsamt meldet 41 neue Fälle.",
        ),
    )
    (tuesday,) = world.ingest(
        "nr",
        item(
            "nr",
            "Inzidenz sinkt auf 565,3",
            "Kreis Neuwied. Die Sieben-Tage-Inzidenz sinkt auf "
            "565,3 (Vortag: 569,0). Das Gesundheitsamt meldet 38 neue Fälle.",
            at=NOW + timedelta(days=1),
        ),
    )
    assert tuesday.story_id != monday.story_id


def test_same_template_in_another_town_is_a_new_story(world: World) -> None:
    lead = (
        "{town}. Unbekannte sind in der Nacht in ein Gartenhaus eingebrochen und haben "
        "Werkzeug gestohlen. Die Polizei bittet um Hinweise."
    )
    (a,) = world.ingest("rz", item("rz", "Einbruch in Gartenhaus", lead.format(town="Linz")))
    (b,) = world.ingest("nr", item("nr", "Einbruch in Gartenhaus", lead.format(town="Unkel")))
    assert a.story_id != b.story_id


def test_similar_text_from_the_same_source_stays_apart(world: World) -> None:
    (a,) = world.ingest("rz", item("rz", BRIDGE_TITLE, BRIDGE_LEAD))
    (b,) = world.ingest("rz", item("rz", TEASER_TITLE, TEASER_LEAD))
    assert a.story_id != b.story_id


def test_copies_further_apart_than_the_window_stay_apart(world: World) -> None:
    (a,) = world.ingest("rz", item("rz", BRIDGE_TITLE, BRIDGE_LEAD))
    later = NOW + timedelta(days=4)
    (b,) = world.ingest("nr", item("nr", TEASER_TITLE, TEASER_LEAD, at=later), now=later)
    assert a.story_id != b.story_id


def test_unrelated_stories_stay_apart(world: World) -> None:
    (a,) = world.ingest("rz", item("rz", BRIDGE_TITLE, BRIDGE_LEAD))
    (b,) = world.ingest(
        "nr",
        item(
            "nr",
            "Feuerwehr löscht Brand in Lagerhalle",
            "Neuwied. In einer Lagerhalle im "
            "Distelfeld brach in der Nacht ein Feuer aus; verletzt wurde niemand.",
        ),
    )
    assert a.story_id != b.story_id


# -- aggregates ---------------------------------------------------------------------
def test_representative_follows_source_priority_then_earliest(
    world: World, session: Session
) -> None:
    world.source("wire", priority=0)
    world.source("local", priority=10)
    (wire,) = world.ingest(
        "wire", item("wire", TEASER_TITLE, TEASER_LEAD, at=NOW - timedelta(hours=3))
    )
    (local,) = world.ingest("local", item("local", BRIDGE_TITLE, BRIDGE_LEAD))
    story = session.get(Story, wire.story_id)
    assert story is not None and local.story_id == story.id
    assert story.representative_entry_id == local.id
    assert (story.title, story.lead) == (BRIDGE_TITLE, BRIDGE_LEAD)
    assert story.sort_at == NOW - timedelta(hours=3)
    assert (story.entry_count, story.source_count) == (2, 2)


def test_version_grows_with_each_change(world: World, session: Session) -> None:
    (a,) = world.ingest("rz", item("rz", BRIDGE_TITLE, BRIDGE_LEAD))
    story = session.get(Story, a.story_id)
    assert story is not None
    first = story.version
    world.ingest("nr", item("nr", TEASER_TITLE, TEASER_LEAD))
    assert story.version > first


@pytest.mark.parametrize(
    ("tags", "source_category", "expected", "reason"),
    [
        (["Economy"], None, "Wirtschaft", "feed category 'Economy'"),
        (["Fußball"], "Wirtschaft", "Sport", "feed category 'Fußball'"),
        (["Neuwied"], "Kultur", "Kultur", "source default"),
        ([], None, "Weitere Artikel", "fallback"),
    ],
)
def test_category_precedence(
    world: World,
    session: Session,
    tags: list[str],
    source_category: str | None,
    expected: str,
    reason: str,
) -> None:
    world.source("rz", category=source_category)
    (entry,) = world.ingest("rz", item("rz", BRIDGE_TITLE, BRIDGE_LEAD, categories=tags))
    story = session.get(Story, entry.story_id)
    assert story is not None and story.category is not None
    assert (story.category.name, story.category_reason) == (expected, reason)


def test_dateline_places_are_attached_to_the_story(world: World, session: Session) -> None:
    (entry,) = world.ingest(
        "rz", item("rz", "Neue Buslinie", "Rengsdorf/Puderbach. Ab Montag fährt eine neue Linie.")
    )
    story = session.get(Story, entry.story_id)
    assert story is not None and story.places == ["Rengsdorf", "Puderbach"]
    assert entry.place == "Rengsdorf/Puderbach"
    names = session.scalars(
        select(Place.name)
        .join(StoryPlace, StoryPlace.place_id == Place.id)
        .where(StoryPlace.story_id == story.id)
    ).all()
    assert sorted(names) == ["Puderbach", "Rengsdorf"]
    sort_ats = session.scalars(select(StoryPlace.sort_at).where(StoryPlace.story_id == story.id))
    assert set(sort_ats) == {story.sort_at}


def test_sponsored_entry_is_flagged_and_does_not_join_news(world: World, session: Session) -> None:
    (news,) = world.ingest("rz", item("rz", BRIDGE_TITLE, BRIDGE_LEAD))
    (ad,) = world.ingest("nr", item("nr", "Anzeige: " + BRIDGE_TITLE, BRIDGE_LEAD))
    assert (ad.sponsored, ad.sponsored_reason) == (True, "title label 'Anzeige'")
    assert ad.story_id != news.story_id
    story = session.get(Story, ad.story_id)
    assert (
        story is not None and story.sponsored and story.sponsored_reason == "title label 'Anzeige'"
    )


def test_rel_sponsored_from_the_parser_flags_the_entry(world: World) -> None:
    data = item("rz", BRIDGE_TITLE, BRIDGE_LEAD)
    data.rel_sponsored = True
    (entry,) = world.ingest("rz", data)
    assert entry.sponsored_reason == 'rel="sponsored" link'


def test_changed_entry_updates_story_without_reclustering(world: World, session: Session) -> None:
    (a,) = world.ingest("rz", item("rz", BRIDGE_TITLE, BRIDGE_LEAD))
    changed = item("rz", BRIDGE_TITLE, BRIDGE_LEAD.replace("Herbst", "Winter"))
    world.ingest("rz", changed)
    story = session.get(Story, a.story_id)
    assert story is not None and "Winter" in story.lead
    assert session.scalar(select(func.count()).select_from(StoryMerge)) == 1
    assert search_stories(session, "Winter") == [story.id]


# -- admin corrections -------------------------------------------------------------
@pytest.fixture
def pair(world: World) -> tuple[Entry, Entry]:
    (a,) = world.ingest("rz", item("rz", BRIDGE_TITLE, BRIDGE_LEAD))
    (b,) = world.ingest("nr", item("nr", TEASER_TITLE, TEASER_LEAD))
    assert a.story_id == b.story_id
    return a, b


def test_split_moves_pins_and_logs(pair: tuple[Entry, Entry], session: Session) -> None:
    a, b = pair
    old_story_id = a.story_id
    assert old_story_id is not None
    new_story = split_entries(session, old_story_id, [b.id])
    assert b.story_id == new_story.id and b.story_pinned
    assert merge_of(session, b).reason == "manual_split"
    old = session.get(Story, old_story_id)
    assert old is not None and old.entry_count == 1 and new_story.entry_count == 1
    assert new_story.title == TEASER_TITLE


def test_split_is_not_undone_by_the_next_poll(
    pair: tuple[Entry, Entry], world: World, session: Session
) -> None:
    a, b = pair
    assert a.story_id is not None
    new_story = split_entries(session, a.story_id, [b.id])
    # the same item again, then with changed content: the split entry stays put
    world.ingest("nr", item("nr", TEASER_TITLE, TEASER_LEAD))
    world.ingest("nr", item("nr", TEASER_TITLE, TEASER_LEAD + " Mehr dazu."))
    session.refresh(b)
    assert b.story_id == new_story.id


def test_split_refuses_foreign_entries_and_emptying_the_story(
    pair: tuple[Entry, Entry], session: Session
) -> None:
    a, b = pair
    assert a.story_id is not None
    with pytest.raises(StoryError, match="not in story"):
        split_entries(session, a.story_id, [b.id, 999_999])
    with pytest.raises(StoryError, match="at least one entry"):
        split_entries(session, a.story_id, [a.id, b.id])
    with pytest.raises(StoryError, match="does not exist"):
        split_entries(session, 999_999, [a.id])


def test_merge_moves_entries_and_stars_and_deletes_the_other(
    world: World, session: Session
) -> None:
    (a,) = world.ingest("rz", item("rz", BRIDGE_TITLE, BRIDGE_LEAD))
    (b,) = world.ingest(
        "nr", item("nr", "Sanierung startet", "Die Bauarbeiten an der Wiedbachbrücke starten.")
    )
    assert a.story_id != b.story_id and a.story_id is not None and b.story_id is not None
    user = User(username="leser", password_hash="x")
    session.add(user)
    session.flush()
    session.add(Star(user_id=user.id, story_id=b.story_id))
    other_id = b.story_id
    target = merge_stories(session, a.story_id, other_id)
    session.flush()
    assert b.story_id == target.id and b.story_pinned and a.story_pinned
    assert session.get(Story, other_id) is None
    assert target.entry_count == 2
    assert session.scalars(select(Star.story_id)).all() == [target.id]
    assert merge_of(session, b).reason == "manual_merge"
    assert search_stories(session, "Sanierung startet") == [target.id]


def test_merge_with_itself_is_refused(pair: tuple[Entry, Entry], session: Session) -> None:
    a, _b = pair
    assert a.story_id is not None
    with pytest.raises(StoryError, match="itself"):
        merge_stories(session, a.story_id, a.story_id)


# -- retention -------------------------------------------------------------------------
def test_detach_recomputes_and_deletes_empty_stories(
    pair: tuple[Entry, Entry], world: World, session: Session
) -> None:
    a, b = pair
    (lone,) = world.ingest("xy", item("xy", "Einzelmeldung zum Wochenmarkt", "Der Markt öffnet."))
    story_id, lone_story_id = a.story_id, lone.story_id
    detach_entries(session, [a.id, lone.id])
    session.delete(a)
    session.delete(lone)
    session.flush()
    story = session.get(Story, story_id)
    assert story is not None and story.entry_count == 1
    assert story.representative_entry_id == b.id and story.title == TEASER_TITLE
    assert session.get(Story, lone_story_id) is None
    assert search_stories(session, "Wochenmarkt") == []
