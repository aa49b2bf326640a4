"""Every output-feed filter does what it says, and the window state notices changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete

from feedhub.db import Database
from feedhub.models import Story
from feedhub.publish.query import FeedFilter, FilterError, select_stories, window_state

from .outputs_seed import Seeder


@pytest.fixture
def seed(db: Database) -> Seeder:
    return Seeder(db)


def titles(seed: Seeder, flt: FeedFilter) -> list[str]:
    with seed.db.session() as s:
        ids = select_stories(s, flt, seed.clock).story_ids
        by_id = {st.id: st.title for st in s.query(Story).filter(Story.id.in_(ids))}
        return [by_id[i] for i in ids]


def test_newest_first(seed: Seeder) -> None:
    src = seed.source("A")
    seed.story("old", [src], age=timedelta(hours=3))
    seed.story("new", [src], age=timedelta(hours=1))
    seed.story("middle", [src], age=timedelta(hours=2))
    assert titles(seed, FeedFilter()) == ["new", "middle", "old"]


def test_hidden_stories_never_appear(seed: Seeder) -> None:
    src = seed.source("A")
    seed.story("visible", [src])
    seed.story("hidden", [src], hidden=True)
    assert titles(seed, FeedFilter(include_sponsored=True)) == ["visible"]


def test_sponsored_excluded_by_default(seed: Seeder) -> None:
    src = seed.source("A")
    seed.story("news", [src], age=timedelta(hours=1))
    seed.story("ad", [src], sponsored=True, age=timedelta(hours=2))
    assert titles(seed, FeedFilter()) == ["news"]


def test_sponsored_included_on_request(seed: Seeder) -> None:
    src = seed.source("A")
    seed.story("news", [src], age=timedelta(hours=1))
    seed.story("ad", [src], sponsored=True, age=timedelta(hours=2))
    assert titles(seed, FeedFilter(include_sponsored=True)) == ["news", "ad"]


def test_category_filter(seed: Seeder) -> None:
    src = seed.source("A")
    wirtschaft = seed.category("Wirtschaft")
    sport = seed.category("Sport")
    seed.story("money", [src], category_id=wirtschaft)
    seed.story("ball", [src], category_id=sport)
    seed.story("none", [src])
    assert titles(seed, FeedFilter(categories=(wirtschaft,))) == ["money"]


def test_place_filter_by_name_or_slug(seed: Seeder) -> None:
    src = seed.source("A")
    bonn = seed.place("Bonn", "bonn")
    koeln = seed.place("Köln", "koeln")
    seed.story("bonn story", [src], places=[bonn], age=timedelta(hours=1))
    seed.story("köln story", [src], places=[koeln], age=timedelta(hours=2))
    seed.story("nowhere", [src], age=timedelta(hours=3))
    assert titles(seed, FeedFilter(places=("Bonn",))) == ["bonn story"]
    assert titles(seed, FeedFilter(places=("koeln",))) == ["köln story"]


def test_source_filter_matches_any_reporting_source(seed: Seeder) -> None:
    a, b, c = seed.source("A"), seed.source("B"), seed.source("C")
    seed.story("a and b", [a, b], age=timedelta(hours=1))
    seed.story("only c", [c], age=timedelta(hours=2))
    assert titles(seed, FeedFilter(sources=(b,))) == ["a and b"]


def test_include_keywords_ignore_case_and_look_at_lead(seed: Seeder) -> None:
    src = seed.source("A")
    seed.story("Neue Brücke", [src], age=timedelta(hours=1))
    seed.story("Stadtrat tagt", [src], lead="Es geht um die BRÜCKE.", age=timedelta(hours=2))
    seed.story("Fußball", [src], age=timedelta(hours=3))
    assert titles(seed, FeedFilter(include=("brücke",))) == ["Neue Brücke", "Stadtrat tagt"]


def test_exclude_keywords(seed: Seeder) -> None:
    src = seed.source("A")
    seed.story("Neue Brücke", [src], age=timedelta(hours=1))
    seed.story("Fußball: Bonn gewinnt", [src], age=timedelta(hours=2))
    assert titles(seed, FeedFilter(exclude=("FUSSBALL", "fußball"))) == ["Neue Brücke"]


def test_regex_filter(seed: Seeder) -> None:
    src = seed.source("A")
    seed.story("Inzidenz 569,0", [src], age=timedelta(hours=1))
    seed.story("Inzidenz steigt", [src], age=timedelta(hours=2))
    assert titles(seed, FeedFilter(regex=r"inzidenz \d+")) == ["Inzidenz 569,0"]


def test_min_sources(seed: Seeder) -> None:
    a, b = seed.source("A"), seed.source("B")
    seed.story("twice", [a, b], age=timedelta(hours=1))
    seed.story("once", [a], age=timedelta(hours=2))
    assert titles(seed, FeedFilter(min_sources=2)) == ["twice"]


def test_max_age(seed: Seeder) -> None:
    src = seed.source("A")
    seed.story("fresh", [src], age=timedelta(hours=2))
    seed.story("stale", [src], age=timedelta(hours=30))
    assert titles(seed, FeedFilter(max_age_hours=24)) == ["fresh"]


def test_max_items_keeps_the_newest(seed: Seeder) -> None:
    src = seed.source("A")
    for hours in range(1, 8):
        seed.story(f"s{hours}", [src], age=timedelta(hours=hours))
    assert titles(seed, FeedFilter(max_items=3)) == ["s1", "s2", "s3"]


def test_max_items_fills_past_filtered_batches(seed: Seeder) -> None:
    """Keyword filtering happens after SQL; selection keeps paging until the feed is full."""
    src = seed.source("A")
    for minutes in range(1, 251):
        seed.story(f"noise {minutes}", [src], age=timedelta(minutes=minutes))
    seed.story("signal", [src], age=timedelta(hours=10))
    assert titles(seed, FeedFilter(include=("signal",), max_items=1)) == ["signal"]


def test_per_source_cap_spreads_items_across_sources(seed: Seeder) -> None:
    busy, quiet = seed.source("Busy"), seed.source("Quiet")
    for hours in range(1, 5):
        seed.story(f"busy {hours}", [busy], age=timedelta(hours=hours))
    seed.story("quiet 1", [quiet], age=timedelta(hours=5))
    assert titles(seed, FeedFilter(per_source_cap=2)) == ["busy 1", "busy 2", "quiet 1"]


def test_filter_json_round_trip() -> None:
    flt = FeedFilter(
        categories=(1,), places=("Bonn",), sources=(2,), include=("a",), exclude=("b",),
        regex="x+", include_sponsored=True, min_sources=2, max_age_hours=12.5, max_items=10,
        per_source_cap=3,
    )  # fmt: skip
    assert FeedFilter.from_json(flt.to_json()) == flt


@pytest.mark.parametrize(
    "data",
    [
        {"regex": "(unclosed"},
        {"max_items": 0},
        {"max_items": 501},
        {"min_sources": 0},
        {"per_source_cap": 0},
        {"max_age_hours": -1},
        {"categories": ["Wirtschaft"]},
        {"include": [3]},
    ],
)
def test_invalid_filters_are_rejected(data: dict[str, object]) -> None:
    with pytest.raises(FilterError):
        FeedFilter.from_json(data)


# --- the window state that the render cache trusts --------------------------------------


def cached_state(seed: Seeder, flt: FeedFilter) -> tuple[object, tuple[int, int, int]]:
    with seed.db.session() as s:
        selection = select_stories(s, flt, seed.clock)
        return selection.boundary, selection.state.key()


def recheck(seed: Seeder, flt: FeedFilter, boundary: object) -> tuple[int, int, int]:
    with seed.db.session() as s:
        return window_state(s, flt, seed.clock, boundary).key()  # type: ignore[arg-type]


def test_window_state_agrees_with_selection(seed: Seeder) -> None:
    src = seed.source("A")
    for hours in range(1, 6):
        seed.story(f"s{hours}", [src], age=timedelta(hours=hours))
    flt = FeedFilter(max_items=3, exclude=("s2",))
    boundary, state = cached_state(seed, flt)
    assert recheck(seed, flt, boundary) == state


def test_window_state_changes_when_a_story_in_the_feed_changes(seed: Seeder) -> None:
    src = seed.source("A")
    story = seed.story("s1", [src])
    flt = FeedFilter()
    boundary, state = cached_state(seed, flt)
    seed.change(story, title="s1 updated")
    assert recheck(seed, flt, boundary) != state


def test_window_state_changes_when_a_story_arrives(seed: Seeder) -> None:
    src = seed.source("A")
    for hours in range(1, 4):
        seed.story(f"s{hours}", [src], age=timedelta(hours=hours))
    flt = FeedFilter(max_items=2)
    boundary, state = cached_state(seed, flt)
    seed.story("newest", [src], age=timedelta(minutes=1))
    assert recheck(seed, flt, boundary) != state


def test_window_state_changes_when_a_story_is_deleted(seed: Seeder) -> None:
    src = seed.source("A")
    story = seed.story("s1", [src])
    seed.story("s2", [src], age=timedelta(hours=2))
    flt = FeedFilter()
    boundary, state = cached_state(seed, flt)
    with seed.db.session() as s:
        s.execute(delete(Story).where(Story.id == story))
    assert recheck(seed, flt, boundary) != state


def test_window_state_ignores_changes_below_the_window(seed: Seeder) -> None:
    src = seed.source("A")
    seed.story("s1", [src], age=timedelta(hours=1))
    old = seed.story("s2", [src], age=timedelta(hours=5))
    flt = FeedFilter(max_items=1)
    boundary, state = cached_state(seed, flt)
    seed.change(old, title="s2 changed but never shown")
    assert recheck(seed, flt, boundary) == state


def test_window_state_notices_stories_ageing_out(seed: Seeder) -> None:
    src = seed.source("A")
    seed.story("s1", [src], age=timedelta(hours=23))
    flt = FeedFilter(max_age_hours=24)
    boundary, state = cached_state(seed, flt)
    seed.clock += timedelta(hours=2)
    assert recheck(seed, flt, boundary) != state
